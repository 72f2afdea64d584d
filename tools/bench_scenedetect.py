#!/usr/bin/env python3
"""Times PySceneDetect's decode + ContentDetector (defaults, automatic
downscale, OpenCV backend) on one video; prints one JSON line per run.

    tools/.venv-scenes/bin/python tools/bench_scenedetect.py video.avi [repeats]

OpenCV uses its default thread count (all cores) for resize/cvtColor;
PySceneDetect decodes on a second thread.
"""
import json
import sys
import time

from scenedetect import SceneManager, open_video
from scenedetect.detectors import ContentDetector


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for _ in range(repeats):
        t = time.perf_counter()
        video = open_video(path, backend="opencv")
        manager = SceneManager()
        manager.add_detector(ContentDetector())
        frames = manager.detect_scenes(video)
        secs = time.perf_counter() - t
        print(json.dumps({"tool": "pyscenedetect", "video": path, "frames": frames,
                          "seconds": round(secs, 4), "fps": round(frames / secs, 1)}))


if __name__ == "__main__":
    main()
