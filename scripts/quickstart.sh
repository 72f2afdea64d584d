#!/usr/bin/env bash
# The main job on bundled data: curate the bundled crawl (tests/data/crawl:
# yt-dlp .info.json files, a JSON Lines file, two tiny clips, and some broken
# input on purpose) into a manifest, VideoMAE lists and WebDataset shards.
# Later stages (frame selection, pretraining, fine-tuning) join here as they
# land.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

OUT="${1:-out/quickstart}"
cargo run --release --locked --example curate -- \
  --input tests/data/crawl \
  --config tests/data/filters.toml \
  --label-map tests/data/label_map.json \
  --out "$OUT" --shards

echo
echo "outputs in $OUT:"
ls -1 "$OUT" "$OUT/shards"
