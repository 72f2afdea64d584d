#!/usr/bin/env python3
"""Reference scene lists and per-frame scores from PySceneDetect.

Writes crates/frame-select/tests/fixtures/scenes/<name>.json for the shared
real videos (../shared/data/videos) and for synthetic clips with hard cuts
made by the system ffmpeg (lossless FFV1 in .mkv, so the Rust test
regenerates the same pixels from the recorded arguments: `ffmpeg -y
<ffmpeg_args...> OUT.mkv`).

    python3 -m venv tools/.venv-scenes
    tools/.venv-scenes/bin/pip install -r tools/requirements-scenes.txt
    tools/.venv-scenes/bin/python tools/gen_scene_fixtures.py
    tools/.venv-scenes/bin/python tools/gen_scene_fixtures.py --check-opencv

`--check-opencv` only checks the integer BGR->HSV and INTER_LINEAR
downscale formulas written in tools/SCENEDETECT-NOTES.md bit for bit
against the installed cv2 (no fixtures written).

Each fixture holds: how the video was made or where it is, fps and size as
OpenCV reports them, the frame counts (ffprobe, OpenCV's header count),
PySceneDetect's downscale factor and processing size, versions (scenedetect,
cv2, cv2's bundled FFmpeg libraries, the system ffmpeg), and per detector
(`content` = ContentDetector(), `content_luma` = ContentDetector(luma_only=True),
`adaptive` = AdaptiveDetector()):
  frames        CAP_PROP_POS_FRAMES after the run (frames OpenCV read)
  cuts          sorted cut frame numbers
  scenes        [[start, end), ...] from get_scene_list(start_in_scene=True)
  metric_keys   StatsManager keys; metrics[n] is frame n's row (null = not set)
  position_mismatches  [[read_index, frame_num], ...] where PySceneDetect's
                frame number (from CAP_PROP_POS_MSEC x fps) differs from the
                0-based read index (empty for well-behaved files)
or {"error": "..."} if PySceneDetect raised.
"""
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import scenedetect
from scenedetect import SceneManager, StatsManager, open_video
from scenedetect.detectors import AdaptiveDetector, ContentDetector
from scenedetect.scene_manager import compute_downscale_factor

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "videos"
OUT = ROOT / "crates" / "frame-select" / "tests" / "fixtures" / "scenes"

# name -> (list of (lavfi source, seconds[, per-input filter]), size); 25 fps.
# Cut frames are the running sums of seconds x 25.
SYNTHETIC = {
    # three cuts (50, 100, 150), no downscale
    "cuts3": ([("testsrc2", 2), ("smptebars", 2), ("rgbtestsrc", 2), ("color=c=0x2060a0", 2)], "320x240"),
    # cuts 10 frames apart (50, 60): the second is closer than min_scene_len (15)
    "flash": ([("testsrc2", 2), ("smptebars", 0.4), ("testsrc", 2)], "320x240"),
    # no cut, 1280x720: downscale factor 5 (exact integer)
    "nocut_hd": ([("testsrc2", 3)], "1280x720"),
    # cut at 30, 360x640: the factor follows the larger side (640 / 256 = 2.5)
    "cuts_portrait": ([("testsrc2", 1.2), ("smptebars", 1.2)], "360x640"),
    # two cuts (50, 100), the middle source a flat colour with temporal noise
    "cuts2_noise": ([("testsrc2", 2), ("color=c=0xc02020", 2, "noise=alls=12:allf=t:all_seed=7"),
                     ("smptehdbars", 2)], "320x240"),
    # a cut at frame 10, closer than min_scene_len to the start of the video
    "early_cut": ([("smptebars", 0.4), ("testsrc2", 2)], "320x240"),
    # cut at 30 in 1280x720 (factor 5)
    "cuts_hd": ([("testsrc2", 1.2), ("rgbtestsrc", 1.2)], "1280x720"),
    # cuts at 30 and 60 in 854x480: non-integer factor 854 / 256 = 3.3359375
    "cuts_854x480": ([("testsrc", 1.2), ("smptebars", 1.2), ("testsrc2", 1.2)], "854x480"),
}

DETECTORS = {
    "content": lambda: ContentDetector(),
    "content_luma": lambda: ContentDetector(luma_only=True),
    "adaptive": lambda: AdaptiveDetector(),
}


def ffmpeg_args(sources, size):
    """ffmpeg arguments (without the leading `ffmpeg -y` and the output path)."""
    args = []
    for src, secs, *_ in sources:
        sep = ":" if "=" in src else "="
        args += ["-f", "lavfi", "-i", f"{src}{sep}duration={secs}:size={size}:rate=25"]
    pre = ""
    labels = []
    for i, (_, _, *vf) in enumerate(sources):
        if vf:
            pre += f"[{i}:v]{vf[0]}[f{i}];"
            labels.append(f"[f{i}]")
        else:
            labels.append(f"[{i}:v]")
    graph = f"{pre}{''.join(labels)}concat=n={len(sources)}:v=1:a=0,format=yuv420p[v]"
    args += ["-filter_complex", graph, "-map", "[v]", "-c:v", "ffv1"]
    return args


def shell_quote(a):
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"


def versions():
    info = cv2.getBuildInformation()
    vio = info[info.find("Video I/O:"):]
    vio = vio[: vio.find("\n\n")] if "\n\n" in vio else vio
    libs = dict(re.findall(r"^\s+(av\w+|swscale|swresample):\s+YES \(([^)]*)\)", vio, re.M))
    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {
        "scenedetect": scenedetect.__version__,
        "opencv": cv2.__version__,
        "opencv_ffmpeg_libs": libs,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "system_ffmpeg": ff,
    }


def ffprobe_frames(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=nb_read_frames,nb_frames,codec_name", "-of", "json", str(path)],
        capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    as_int = lambda v: int(v) if v not in (None, "N/A") else None  # noqa: E731
    return {"codec": s.get("codec_name"), "nb_read_frames": as_int(s.get("nb_read_frames")),
            "nb_frames_header": as_int(s.get("nb_frames"))}


def run(path, detector):
    video = open_video(str(path), backend="opencv")
    manager = SceneManager(stats_manager=StatsManager())
    manager.add_detector(detector)
    positions = []
    process = detector.process_frame

    def recording(timecode, frame_img):
        positions.append(timecode.frame_num)
        return process(timecode, frame_img)

    detector.process_frame = recording
    processed = manager.detect_scenes(video)
    cuts = sorted({tc.frame_num for tc in manager._get_cutting_list()})
    scenes = [[s.frame_num, e.frame_num] for s, e in manager.get_scene_list(start_in_scene=True)]
    stats = manager.stats_manager
    keys = detector.get_metrics()
    n_rows = max([video.frame_number, *(p + 1 for p in positions)])
    per_frame = []
    for n in range(n_rows):
        tc = video.base_timecode + n
        row = stats.get_metrics(tc, keys)
        per_frame.append([None if v is None else round(float(v), 6) for v in row])
    return {"frames": video.frame_number, "frames_processed": processed,
            "cuts": cuts, "scenes": scenes,
            "position_mismatches": [[i, p] for i, p in enumerate(positions) if i != p],
            "metric_keys": keys, "metrics": per_frame}


def describe(path, extra):
    out = {"versions": versions()}
    out.update(extra)
    for name, make in DETECTORS.items():
        try:
            out[name] = run(path, make())
        except Exception as e:  # record what happens on a damaged file
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    cap = cv2.VideoCapture(str(path))
    out["fps"] = cap.get(cv2.CAP_PROP_FPS)
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    out["size"] = [w, h]
    out["opencv_frame_count_header"] = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    # SceneManager.detect_scenes: factor from the larger side, resize when > 1.
    factor = compute_downscale_factor(max(w, h))
    out["downscale"] = float(factor)
    out["processing_size"] = ([max(1, round(w / factor)), max(1, round(h / factor))]
                              if factor > 1.0 else [w, h])
    out["ffprobe"] = ffprobe_frames(path)
    return out


def summary(name, data):
    return name + " " + json.dumps({k: data[k].get("cuts", data[k].get("error"))
                                    for k in DETECTORS}) + \
        f" frames={data['content'].get('frames')} ffprobe={data['ffprobe']['nb_read_frames']}"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (sources, size) in SYNTHETIC.items():
            args = ffmpeg_args(sources, size)
            path = pathlib.Path(tmp) / f"{name}.mkv"
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args, str(path)],
                           check=True)
            cut_frames = []
            t = 0.0
            for _, secs, *_ in sources[:-1]:
                t += secs
                cut_frames.append(round(t * 25))
            data = describe(path, {
                "ffmpeg_args": args,
                "ffmpeg_command": "ffmpeg -y " + " ".join(shell_quote(a) for a in args) + " OUT.mkv",
                "container": "mkv",
                "source_boundaries": cut_frames,
            })
            (OUT / f"{name}.json").write_text(json.dumps(data, separators=(",", ":")))
            print(summary(name, data), flush=True)
    for video in sorted(SHARED.iterdir()):
        data = describe(video, {"video": f"../shared/data/videos/{video.name}"})
        (OUT / f"{video.stem}.json").write_text(json.dumps(data, separators=(",", ":")))
        print(summary(video.name, data), flush=True)


# --- bit-exactness check of the formulas in tools/SCENEDETECT-NOTES.md ------------------------

HSV_SHIFT = 12
SDIV = np.array([0] + [int(np.rint((255 << HSV_SHIFT) / (1.0 * i))) for i in range(1, 256)], np.int64)
HDIV180 = np.array([0] + [int(np.rint((180 << HSV_SHIFT) / (6.0 * i))) for i in range(1, 256)], np.int64)


def bgr2hsv(img):
    """OpenCV RGB2HSV_b (COLOR_BGR2HSV, 8-bit, H in 0..179)."""
    b, g, r = (img[..., i].astype(np.int64) for i in range(3))
    v = np.maximum(np.maximum(b, g), r)
    diff = v - np.minimum(np.minimum(b, g), r)
    s = (diff * SDIV[v] + (1 << (HSV_SHIFT - 1))) >> HSV_SHIFT
    h = np.where(v == r, g - b, np.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = (h * HDIV180[diff] + (1 << (HSV_SHIFT - 1))) >> HSV_SHIFT
    h = np.where(h < 0, h + 180, h)
    return np.stack([h, s, v], -1).astype(np.uint8)


def _linear_coeffs(dst_n, src_n, scale):
    ofs = np.zeros(dst_n, np.int64)
    a = np.zeros((dst_n, 2), np.int64)
    one = np.float32(2048)
    for d in range(dst_n):
        f = np.float32((d + 0.5) * scale - 0.5)  # double math, then (float)
        s = int(np.floor(f))
        f = np.float32(f - np.float32(s))
        if s < 0:
            f, s = np.float32(0), 0
        if s >= src_n - 1:
            f, s = np.float32(0), src_n - 1
        ofs[d] = s
        a[d] = [int(np.rint(np.float32(np.float32(1) - f) * one)), int(np.rint(f * one))]
    return ofs, a


def resize_linear(img, dw, dh):
    """cv2.resize(img, (dw, dh), interpolation=INTER_LINEAR) for 8-bit downscaling."""
    sh, sw = img.shape[:2]
    sx, sy = 1.0 / (dw / sw), 1.0 / (dh / sh)
    eps = np.finfo(float).eps
    src = img.astype(np.int64)
    if abs(sx - 2) < eps and abs(sy - 2) < eps:  # INTER_AREA fast path, 2x2 mean
        blk = src[: 2 * dh, : 2 * dw].reshape(dh, 2, dw, 2, -1).sum(axis=(1, 3))
        return ((blk + 2) >> 2).astype(np.uint8)
    xo, xa = _linear_coeffs(dw, sw, sx)
    yo, ya = _linear_coeffs(dh, sh, sy)
    x1 = np.minimum(xo + 1, sw - 1)
    rows = src[:, xo] * xa[None, :, 0, None] + src[:, x1] * xa[None, :, 1, None]
    r0 = rows[yo] >> 4
    r1 = rows[np.minimum(yo + 1, sh - 1)] >> 4
    b0, b1 = ya[:, 0][:, None, None], ya[:, 1][:, None, None]
    return ((((b0 * r0) >> 16) + ((b1 * r1) >> 16) + 2) >> 2).astype(np.uint8)


def check_opencv():
    rng = np.random.default_rng(1)
    ok = True
    every = np.stack(np.meshgrid(*[np.arange(256)] * 3, indexing="ij"), -1).reshape(4096, 4096, 3)
    every = every.astype(np.uint8)
    same = np.array_equal(bgr2hsv(every), cv2.cvtColor(every, cv2.COLOR_BGR2HSV))
    print(f"BGR2HSV, all 2^24 colours: {'equal' if same else 'DIFFERENT'}")
    ok &= same
    hsv_eq = sum(np.array_equal(bgr2hsv(im), cv2.cvtColor(im, cv2.COLOR_BGR2HSV))
                 for im in (rng.integers(0, 256, (23, 37, 3), np.uint8) for _ in range(50)))
    print(f"BGR2HSV, 50 random 37x23 images: {hsv_eq}/50 equal")
    ok &= hsv_eq == 50
    cases = [(37, 23, f, 50) for f in (2, 3, 4, 5)] + [(38, 24, 2, 50), 
        (768, 576, 3.0, 3), (640, 480, 2.5, 3), (720, 528, 2.8125, 3), (1280, 720, 5.0, 3),
        (360, 640, 2.5, 3), (854, 480, 854 / 256, 3), (512, 384, 2.0, 3), (1024, 576, 4.0, 3),
        (1920, 1080, 7.5, 3), (352, 288, 1.375, 3)]
    for w, h, f, reps in cases:
        dw, dh = max(1, round(w / f)), max(1, round(h / f))
        eq = 0
        for _ in range(reps):
            im = rng.integers(0, 256, (h, w, 3), np.uint8)
            eq += np.array_equal(resize_linear(im, dw, dh),
                                 cv2.resize(im, (dw, dh), interpolation=cv2.INTER_LINEAR))
        print(f"INTER_LINEAR {w}x{h} -> {dw}x{dh} (factor {f:g}): {eq}/{reps} equal")
        ok &= eq == reps
    print("all equal" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(check_opencv() if "--check-opencv" in sys.argv[1:] else main())
