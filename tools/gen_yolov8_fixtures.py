#!/usr/bin/env python3
"""Reference outputs of a random-initialised YOLOv8n for the Burn parity test.

Builds yolov8n from Ultralytics' yaml (no download), perturbs every weight
and BatchNorm statistic so no bias is zero, lifts the class-0 bias so a few
boxes pass the 0.25 confidence, rounds the weights to float16 (the fixture
stores them so, and the reference runs on the same rounded values), and
writes crates/frame-select/tests/fixtures/yolov8/:
  yolov8n_random.safetensors  weights (tools/convert_yolov8.py layout, f16)
  reference.safetensors       input (1,3,320,320) + raw output (1,84,2100);
                              and a frame (300,410,3) u8
  reference.json              boxes after Ultralytics' NMS (conf 0.25,
                              iou 0.7, classes [0]) for both inputs

    python3 -m venv tools/.venv-yolo
    tools/.venv-yolo/bin/pip install -r tools/requirements-yolo.txt
    tools/.venv-yolo/bin/python tools/gen_yolov8_fixtures.py
"""
import json
import os
import pathlib
import sys

os.environ.setdefault("YOLO_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from ultralytics.data.augment import LetterBox  # noqa: E402
from ultralytics.nn.tasks import DetectionModel  # noqa: E402
from ultralytics.utils.nms import non_max_suppression  # noqa: E402
from ultralytics.utils.ops import scale_boxes  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from convert_yolov8 import convert  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "frame-select" / "tests" / "fixtures" / "yolov8"


def boxes_of(raw):
    det = non_max_suppression(raw, conf_thres=0.25, iou_thres=0.7, classes=[0], max_det=300)[0]
    return det


def main():
    torch.manual_seed(0)
    model = DetectionModel("yolov8n.yaml", nc=80, verbose=False)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not torch.is_floating_point(t) or name.endswith("dfl.conv.weight"):
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand_like(t) + 0.5)
            else:
                t.add_(torch.randn_like(t) * 0.05)
        for branch in model.model[-1].cv3:
            branch[2].bias[0] += 9.0
        # The fixture stores float16; run the reference on the same values.
        for t in model.state_dict().values():
            if torch.is_floating_point(t):
                t.copy_(t.half().float())
    model.eval()
    OUT.mkdir(parents=True, exist_ok=True)
    convert(model, str(OUT / "yolov8n_random.safetensors"), half=True)

    g = torch.Generator().manual_seed(1)
    x = torch.rand((1, 3, 320, 320), generator=g)
    with torch.no_grad():
        raw = model(x)[0]
    boxes = boxes_of(raw)

    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:300, 0:410]
    frame = np.stack([(xx * 0.6 + yy * 0.2) % 256, (yy * 0.8) % 256, (xx * yy * 0.01) % 256], -1)
    frame = (frame + rng.normal(0, 12, frame.shape)).clip(0, 255).astype(np.uint8)
    lb = LetterBox(new_shape=(640, 640), auto=False)(image=frame)
    inp = torch.from_numpy(np.ascontiguousarray(lb.transpose(2, 0, 1))).float()[None] / 255.0
    with torch.no_grad():
        frame_raw = model(inp)[0]
    frame_boxes = boxes_of(frame_raw)
    frame_boxes[:, :4] = scale_boxes(inp.shape[2:], frame_boxes[:, :4].clone(), frame.shape)

    save_file({"input": x.contiguous(), "raw": raw.contiguous(),
               "frame": torch.from_numpy(frame).contiguous()},
              str(OUT / "reference.safetensors"))
    ref = {"ultralytics_params": sum(p.numel() for p in model.parameters()),
           "boxes": boxes.tolist(), "frame_boxes": frame_boxes.tolist()}
    (OUT / "reference.json").write_text(json.dumps(ref))
    print(f"raw {tuple(raw.shape)}: {len(boxes)} boxes; frame: {len(frame_boxes)} boxes")


if __name__ == "__main__":
    main()
