#!/usr/bin/env bash
# Ingest + filter of 1M synthetic JSONL records: tubelet (criterion) and the
# Python peers (polars, pandas) on the same file, same filters, same run.
# Figures go to docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x tools/.venv/bin/python ]; then
  python3 -m venv tools/.venv
  tools/.venv/bin/pip install -q polars pandas
fi

nproc
cargo bench --locked --bench curation_ingest -- --warm-up-time 2 --measurement-time 30
DATA=target/tmp/synthetic_1000000_42.jsonl
ls -l "$DATA"
tools/.venv/bin/python tools/bench_ingest_peer.py "$DATA" --repeat 3 ${PANDAS:+--pandas}
