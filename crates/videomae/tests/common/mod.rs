//! Helpers shared by the test binaries (each compiles this module and uses
//! part of it, hence the `dead_code` allowances).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::Tensor;
use safetensors::SafeTensors;

/// An f32 tensor of a safetensors file: values and shape.
#[allow(dead_code)]
pub fn read_f32(t: &SafeTensors, name: &str) -> (Vec<f32>, Vec<usize>) {
    let v = t.tensor(name).unwrap();
    assert_eq!(v.dtype(), safetensors::Dtype::F32, "{name}");
    let data = v
        .data()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (data, v.shape().to_vec())
}

/// Largest absolute difference, NaN counting as infinitely far.
// Each test binary compiles this module; not all of them use this.
#[allow(dead_code)]
pub fn max_abs_diff<const D: usize>(ours: Tensor<Flex, D>, reference: &[f32]) -> f32 {
    let ours: Vec<f32> = ours.into_data().to_vec().unwrap();
    assert_eq!(ours.len(), reference.len());
    ours.iter()
        .zip(reference)
        .map(|(a, b)| {
            if (a - b).is_nan() {
                f32::INFINITY
            } else {
                (a - b).abs()
            }
        })
        .fold(0.0, f32::max)
}

/// A file or folder under `tests/fixtures`.
#[allow(dead_code)]
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// An allocator that counts the bytes each thread allocates, so that a
/// test can assert that a reader or loader allocated a bounded amount
/// (tests run in parallel threads, so a global count would mix them). A
/// test binary installs it with
/// `#[global_allocator] static GLOBAL: Counting = Counting;`.
#[allow(dead_code)]
pub struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.with(|a| a.set(a.get().saturating_add(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.with(|a| a.set(a.get().saturating_add(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes this thread allocates while running `f` (a sum, frees ignored;
/// 0 unless [`Counting`] is the binary's allocator).
#[allow(dead_code)]
pub fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

/// The mode `File::create` gives a new file in `dir` (0666 less the
/// umask).
#[cfg(unix)]
#[allow(dead_code)]
pub fn new_file_mode(dir: &Path) -> u32 {
    let probe = dir.join("probe");
    std::fs::File::create(&probe).unwrap();
    mode(&probe)
}

/// The permission bits of `path`.
#[cfg(unix)]
#[allow(dead_code)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `valid` damaged one of four ways (`kind % 4`): a byte flipped, the
/// bytes cut at `at`, `splice` inserted at `at`, or bytes from `at`
/// overwritten by `splice`. Empty `valid`: `splice`.
#[allow(dead_code)]
pub fn mutate(valid: &[u8], kind: u8, at: usize, byte: u8, splice: &[u8]) -> Vec<u8> {
    let mut b = valid.to_vec();
    if b.is_empty() {
        return splice.to_vec();
    }
    let at = at % b.len();
    match kind % 4 {
        0 => b[at] ^= byte.max(1),
        1 => b.truncate(at),
        2 => {
            b.splice(at..at, splice.iter().copied());
        }
        _ => {
            let end = (at + splice.len()).min(b.len());
            b.splice(at..end, splice.iter().copied());
        }
    }
    b
}

/// Proptest settings of the fuzz properties: `PROPTEST_CASES` cases (64
/// by default, a few seconds in a debug build), failures printed rather
/// than saved into the source tree.
#[allow(dead_code)]
pub fn cases() -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}
