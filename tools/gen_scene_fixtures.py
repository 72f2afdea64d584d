#!/usr/bin/env python3
"""Reference scene lists and per-frame scores from PySceneDetect.

Writes crates/frame-select/tests/fixtures/scenes/<name>.json for the shared
real videos (../shared/data/videos) and for synthetic clips with hard cuts
made by the system ffmpeg (lossless FFV1, so the Rust test regenerates the
same pixels from the recorded command).

    python3 -m venv tools/.venv-scenes
    tools/.venv-scenes/bin/pip install -r tools/requirements-scenes.txt
    tools/.venv-scenes/bin/python tools/gen_scene_fixtures.py
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import cv2
import scenedetect
from scenedetect import SceneManager, StatsManager, open_video
from scenedetect.detectors import AdaptiveDetector, ContentDetector

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "videos"
OUT = ROOT / "crates" / "frame-select" / "tests" / "fixtures" / "scenes"

# name -> list of (lavfi source, seconds); 25 fps, 320x240 unless given.
SYNTHETIC = {
    "cuts3": ([("testsrc2", 2), ("smptebars", 2), ("rgbtestsrc", 2), ("color=c=0x2060a0", 2)], "320x240"),
    "flash": ([("testsrc2", 2), ("smptebars", 0.4), ("testsrc", 2)], "320x240"),
    "nocut_hd": ([("testsrc2", 3)], "1280x720"),
    "cuts_portrait": ([("testsrc2", 1.2), ("smptebars", 1.2)], "360x640"),
}


def ffmpeg_args(sources, size):
    args = []
    for src, secs in sources:
        sep = ":" if "=" in src else "="
        args += ["-f", "lavfi", "-i", f"{src}{sep}duration={secs}:size={size}:rate=25"]
    inputs = "".join(f"[{i}:v]" for i in range(len(sources)))
    args += ["-filter_complex", f"{inputs}concat=n={len(sources)}:v=1:a=0,format=yuv420p[v]",
             "-map", "[v]", "-c:v", "ffv1"]
    return args


def run(path, detector):
    video = open_video(str(path), backend="opencv")
    manager = SceneManager(stats_manager=StatsManager())
    manager.add_detector(detector)
    manager.detect_scenes(video)
    cuts = sorted({tc.frame_num for tc in manager._get_cutting_list()})
    scenes = [[s.frame_num, e.frame_num] for s, e in manager.get_scene_list(start_in_scene=True)]
    stats = manager.stats_manager
    keys = detector.get_metrics()
    per_frame = []
    for n in range(video.frame_number):
        tc = video.base_timecode + n
        row = stats.get_metrics(tc, keys)
        per_frame.append([None if v is None else round(float(v), 6) for v in row])
    return {"frames": video.frame_number, "cuts": cuts, "scenes": scenes,
            "metric_keys": keys, "metrics": per_frame}


def describe(path, extra):
    detectors = {
        "content": ContentDetector(),
        "content_luma": ContentDetector(luma_only=True),
        "adaptive": AdaptiveDetector(),
    }
    out = {"versions": {"scenedetect": scenedetect.__version__, "opencv": cv2.__version__}}
    out.update(extra)
    for name, det in detectors.items():
        try:
            out[name] = run(path, det)
        except Exception as e:  # the damaged file: record what happens
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    cap = cv2.VideoCapture(str(path))
    out["fps"] = cap.get(cv2.CAP_PROP_FPS)
    out["size"] = [int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))]
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (sources, size) in SYNTHETIC.items():
            args = ffmpeg_args(sources, size)
            path = pathlib.Path(tmp) / f"{name}.mkv"
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args, str(path)], check=True)
            data = describe(path, {"ffmpeg_args": args, "container": "mkv"})
            (OUT / f"{name}.json").write_text(json.dumps(data, separators=(",", ":")))
            print(name, {k: data[k].get("cuts") for k in ("content", "content_luma", "adaptive")})
    for video in sorted(SHARED.iterdir()):
        data = describe(video, {"video": f"../shared/data/videos/{video.name}"})
        (OUT / f"{video.stem}.json").write_text(json.dumps(data, separators=(",", ":")))
        print(video.name, {k: (data[k].get("cuts"), data[k].get("frames"), data[k].get("error"))
                           for k in ("content", "content_luma", "adaptive")})


if __name__ == "__main__":
    sys.exit(main())
