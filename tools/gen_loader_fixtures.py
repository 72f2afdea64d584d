"""Reference side of ssl-pretrain's Pillow-exact bilinear resize test.

The VideoMAE / VideoMAE V2 pretraining transform (`GroupMultiScaleCrop`)
crops PIL images and resizes each crop with `Image.resize(size,
Image.BILINEAR)`. This script resizes deterministic test images (a formula
the Rust test evaluates too) with Pillow and writes the SHA-256 of each
output plus a few pixels, so the test needs neither Python nor large files.

    python3 -m venv tools/.venv-loader
    tools/.venv-loader/bin/pip install -r tools/requirements-loader.txt
    tools/.venv-loader/bin/python tools/gen_loader_fixtures.py \
        crates/ssl-pretrain/tests/fixtures/pil_resize.json
"""

import hashlib
import json
import sys

import numpy as np
import PIL
from PIL import Image

# (input width, input height, output width, output height): crops the
# reference resizes to 224 (down, up, one axis only), and odd small sizes.
CASES = [
    (320, 240, 224, 224),
    (240, 210, 224, 224),
    (158, 158, 224, 224),
    (224, 256, 224, 224),
    (256, 224, 224, 224),
    (640, 360, 224, 224),
    (37, 53, 16, 16),
    (10, 10, 23, 17),
    (1, 1, 5, 5),
    (7, 3, 3, 7),
    (1000, 4, 9, 2),
]


def image(w, h):
    """Pixel (y, x, c) = (7x^2 + 3y^2 + 5xy + 13x + 17y + 101c) mod 256."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    v = (7 * x * x + 3 * y * y + 5 * x * y + 13 * x + 17 * y + 101 * c) % 256
    return v.astype(np.uint8)


def main(out):
    cases = []
    for in_w, in_h, out_w, out_h in CASES:
        src = Image.fromarray(image(in_w, in_h), "RGB")
        got = np.asarray(src.resize((out_w, out_h), Image.BILINEAR))
        assert got.shape == (out_h, out_w, 3)
        cases.append(
            {
                "in_w": in_w,
                "in_h": in_h,
                "out_w": out_w,
                "out_h": out_h,
                "sha256": hashlib.sha256(got.tobytes()).hexdigest(),
                "first_row": got[0].reshape(-1)[:24].tolist(),
            }
        )
    with open(out, "w") as f:
        json.dump({"pillow": PIL.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
