#!/usr/bin/env bash
# Clip-loader throughput against a Python peer on the same clips and cores
# (docs/BENCHMARKS.md, "Clip loader"). Needs ../shared/data/videos (real
# footage), the ffmpeg CLI and a venv with PyAV, Pillow and NumPy:
#   python3 -m venv tools/.venv-loader
#   tools/.venv-loader/bin/pip install -r tools/requirements-loader.txt
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="${TUBELET_SHARED_DATA:-../shared/data}/videos"
OUT=target/tmp/loader_clips
mkdir -p "$OUT"
: > "$OUT/list.txt"
# Kinetics-like clips: 10 s, short side 256, 25 fps, H.264 (x264 defaults),
# two per source video (different start times).
for v in vtest.avi box.mp4 tree.avi Megamind_bugy.avi; do
  for start in 0 3; do
    clip="$OUT/${v%.*}_$start.mp4"
    [ -f "$clip" ] || ffmpeg -hide_banner -loglevel error -y -ss "$start" -i "$SRC/$v" -t 10 \
      -vf "scale=-2:256,fps=25" -an -c:v libx264 -pix_fmt yuv420p "$clip"
    echo "$PWD/$clip 0 -1" >> "$OUT/list.txt"
  done
done
echo "clips: $(wc -l < "$OUT/list.txt") in $OUT"
TUBELET_BENCH_LIST="$PWD/$OUT/list.txt" cargo bench --locked -p ssl-pretrain --bench clip_loader
tools/.venv-loader/bin/python tools/bench_loader_peer.py "$OUT/list.txt" --workers "$(nproc)" --rounds 5
