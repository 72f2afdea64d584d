#!/usr/bin/env python3
"""OpenCV's default HOG people detector: coefficients and reference boxes.

Writes
  crates/frame-select/data/hog_people_default.txt   3780 SVM weights + bias
      (cv2.HOGDescriptor_getDefaultPeopleDetector(), float32 printed exactly),
  crates/frame-select/tests/fixtures/hog/<video>.json   boxes and weights of
      hog.detectMultiScale(frame) with OpenCV's defaults on sampled frames of
      the shared videos, and OpenCV's time per frame.

The coefficients ship under OpenCV's BSD-3-Clause licence
(crates/frame-select/data/LICENSE-OpenCV-hog.txt). HOG left OpenCV's main
modules in 5.0, hence the pinned 4.x.

    python3 -m venv tools/.venv-hog
    tools/.venv-hog/bin/pip install -r tools/requirements-hog.txt
    tools/.venv-hog/bin/python tools/gen_hog_people_detector.py
"""
import json
import pathlib
import time

import cv2
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "frame-select" / "data"
FIXTURES = ROOT / "crates" / "frame-select" / "tests" / "fixtures" / "hog"
SHARED = ROOT.parent / "shared" / "data" / "videos"
SAMPLES = {"vtest.avi": range(0, 795, 40), "tree.avi": range(0, 68, 4)}


def main():
    weights = cv2.HOGDescriptor_getDefaultPeopleDetector().ravel().astype(np.float32)
    assert weights.shape == (3781,)
    lines = [f"# OpenCV {cv2.__version__} HOGDescriptor_getDefaultPeopleDetector(): "
             "3780 linear SVM weights (blocks column-major, 2x2 cells column-major, 9 bins) "
             "then the bias. BSD-3-Clause, see LICENSE-OpenCV-hog.txt."]
    lines += [np.format_float_positional(w, unique=True) for w in weights]
    (DATA / "hog_people_default.txt").write_text("\n".join(lines) + "\n")

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, indices in SAMPLES.items():
        cap = cv2.VideoCapture(str(SHARED / name))
        frames, i, wanted = [], 0, set(indices)
        seconds = 0.0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i in wanted:
                t = time.perf_counter()
                rects, w = hog.detectMultiScale(frame)
                seconds += time.perf_counter() - t
                frames.append({"index": i,
                               "boxes": [[int(v) for v in r] for r in rects],
                               "weights": [round(float(x), 5) for x in np.ravel(w)]})
            i += 1
        probe = {}
        if name == "vtest.avi":
            cap = cv2.VideoCapture(str(SHARED / name))
            _, first = cap.read()
            window = np.ascontiguousarray(first[128:256, 488:552])
            probe = {"frame": 0, "rows": [128, 256], "cols": [488, 552],
                     "values": [round(float(v), 6) for v in hog.compute(window).ravel()]}
        out = {"video": f"../shared/data/videos/{name}", "opencv": cv2.__version__, "descriptor_probe": probe,
               "threads": cv2.getNumThreads(), "seconds_per_frame": seconds / max(1, len(frames)),
               "frames": frames}
        (FIXTURES / f"{pathlib.Path(name).stem}.json").write_text(json.dumps(out, separators=(",", ":")))
        with_person = sum(1 for f in frames if f["boxes"])
        print(name, f"{with_person}/{len(frames)} frames with people, "
              f"{out['seconds_per_frame'] * 1000:.1f} ms/frame")


if __name__ == "__main__":
    main()
