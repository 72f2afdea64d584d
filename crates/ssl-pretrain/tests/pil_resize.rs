//! `resize_bilinear` equals Pillow's `Image.resize(size, BILINEAR)` byte for
//! byte: fixtures from `tools/gen_loader_fixtures.py` (Pillow's output hash
//! and first pixels for deterministic images, down- and up-scaling, one
//! axis only, odd sizes).

use ndarray::Array3;
use sha2::{Digest, Sha256};
use ssl_pretrain::data::resize_bilinear;

/// The generator's test image: `(7x^2 + 3y^2 + 5xy + 13x + 17y + 101c) mod 256`.
fn image(w: usize, h: usize) -> Array3<u8> {
    Array3::from_shape_fn((h, w, 3), |(y, x, c)| {
        ((7 * x * x + 3 * y * y + 5 * x * y + 13 * x + 17 * y + 101 * c) % 256) as u8
    })
}

#[derive(serde::Deserialize)]
struct Case {
    in_w: usize,
    in_h: usize,
    out_w: usize,
    out_h: usize,
    sha256: String,
    first_row: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[test]
fn resize_equals_pillow_bilinear_byte_for_byte() {
    let text = include_str!("fixtures/pil_resize.json");
    let fixture: Fixture = serde_json::from_str(text).unwrap();
    assert!(fixture.cases.len() >= 10);
    for c in &fixture.cases {
        let out = resize_bilinear(image(c.in_w, c.in_h).view(), c.out_h, c.out_w);
        assert_eq!(out.dim(), (c.out_h, c.out_w, 3));
        let bytes: Vec<u8> = out.iter().copied().collect();
        let first: Vec<u8> = bytes.iter().take(c.first_row.len()).copied().collect();
        let case = format!("{}x{} -> {}x{}", c.in_w, c.in_h, c.out_w, c.out_h);
        assert_eq!(first, c.first_row, "{case}: first pixels");
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hash, c.sha256, "{case}: some pixel differs from Pillow's");
    }
}
