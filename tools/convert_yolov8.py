#!/usr/bin/env python3
"""Convert an Ultralytics YOLOv8 checkpoint (.pt) to safetensors for Burn.

    python tools/convert_yolov8.py yolov8n.pt yolov8n.safetensors

Fetch the checkpoint yourself (https://github.com/ultralytics/assets). Its
weights are licensed AGPL-3.0 by Ultralytics; the converted file keeps that
licence. This script needs PyPI `ultralytics` (to unpickle the checkpoint's
module classes) and `safetensors`, and makes no network request.

The output holds the state dict under its Ultralytics names
(`model.0.conv.weight`, `model.0.bn.running_mean`, ..., `model.22.cv3.2.2.bias`)
as float32 (or float16 with --half), plus metadata: format, variant, classes.
"""
import argparse
import os
import sys

os.environ.setdefault("YOLO_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

STEM_CHANNELS = {16: "n", 32: "s", 48: "m", 64: "l", 80: "x"}


def state_dict_of(model, half=False):
    """Float tensors of a DetectionModel, contiguous, in the file's dtype."""
    out = {}
    for name, t in model.state_dict().items():
        if not torch.is_floating_point(t):
            continue  # num_batches_tracked
        t = t.detach().float()
        out[name] = (t.half() if half else t).contiguous()
    return out


def metadata_of(model):
    stem = model.state_dict()["model.0.conv.weight"].shape[0]
    nc = model.model[-1].nc
    return {"format": "ultralytics-yolov8", "variant": STEM_CHANNELS.get(stem, "?"), "classes": str(nc)}


def convert(model, out_path, half=False):
    save_file(state_dict_of(model, half), out_path, metadata=metadata_of(model))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("output")
    p.add_argument("--half", action="store_true", help="store float16 (half the size)")
    args = p.parse_args()
    # Ultralytics checkpoints pickle the nn.Module; loading them runs
    # ultralytics' own classes only (weights_only=False is required).
    ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    model = ckpt.get("ema") or ckpt["model"] if isinstance(ckpt, dict) else ckpt
    model = model.float().eval()
    head = type(model.model[-1]).__name__
    if head != "Detect":
        sys.exit(f"{args.checkpoint}: head is {head}, expected a YOLOv8 Detect model")
    convert(model, args.output, args.half)
    meta = metadata_of(model)
    print(f"wrote {args.output}: yolov8{meta['variant']}, {meta['classes']} classes")


if __name__ == "__main__":
    main()
