#!/usr/bin/env bash
# Frame selection throughput against its peers, same videos, same run:
#   - decode + content shot detection: our `scenes` example vs PySceneDetect
#     0.7.2 (tools/bench_scenedetect.py, OpenCV backend),
#   - the whole decode-once selection (shots, quality, hashes, HOG person
#     detection on the clip's samples; --dry-run: no clip written) vs
#     `ffmpeg -i x -f null -` (bare decode, FFmpeg's default threads).
# Prints best-of-3 wall times; docs/BENCHMARKS.md quotes one run.
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEOS=(../shared/data/videos/vtest.avi ../shared/data/videos/box.mp4)
cargo build --release -q -p frame-select --example scenes --example select
if [ ! -x tools/.venv-scenes/bin/python ]; then
  python3 -m venv tools/.venv-scenes
  tools/.venv-scenes/bin/pip install -q -r tools/requirements-scenes.txt
fi
best() { # best wall seconds of 3 runs of "$@"
  python3 - "$@" <<'PY'
import subprocess, sys, time
best = min(
    (lambda t: (subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True), time.perf_counter() - t)[1])(time.perf_counter())
    for _ in range(3))
print(f"{best:.3f}")
PY
}
for v in "${VIDEOS[@]}"; do
  frames=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$v")
  py=$(tools/.venv-scenes/bin/python tools/bench_scenedetect.py "$v" 3 | python3 -c 'import sys,json; print(min(json.loads(l)["seconds"] for l in sys.stdin))')
  ours=$(best target/release/examples/scenes "$v")
  ff=$(best ffmpeg -v quiet -i "$v" -f null -)
  dir=$(mktemp -d); ln -s "$(realpath "$v")" "$dir/"
  sel=$(best target/release/examples/select --input "$dir" --out "$dir/out" --dry-run)
  bare=$(best target/release/examples/select --input "$dir" --out "$dir/out" --dry-run --detector none)
  rm -rf "$dir"
  python3 - "$v" "$frames" "$py" "$ours" "$ff" "$sel" "$bare" <<'PY'
import sys
v, n, py, ours, ff, sel, bare = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
print(f"{v}: {n} frames")
print(f"  scenes (decode + content detector): ours {ours:.3f} s ({n/ours:.0f} fps), PySceneDetect {py:.3f} s ({n/py:.0f} fps) -> {py/ours:.1f}x")
print(f"  ffmpeg -f null: {ff:.3f} s ({n/ff:.0f} fps)")
print(f"  decode-once selection, HOG on 8 clip samples (dry run): {sel:.3f} s ({n/sel:.0f} fps) -> {ff/sel:.2f}x of ffmpeg's speed")
print(f"  decode-once selection, no person detector (dry run): {bare:.3f} s ({n/bare:.0f} fps) -> {ff/bare:.2f}x of ffmpeg's speed")
PY
done

# Per-frame cost of the person detectors and the kernels (criterion).
cargo bench -q -p frame-select --bench frame_select -- person_detectors kernels 2>/dev/null | grep -E "^[a-z_]+/|time:"
