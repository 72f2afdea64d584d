#!/usr/bin/env bash
# VideoMAE pretraining forward and forward + backward on the CPU: Burn
# (criterion, crates/videomae/benches/videomae_step.rs) and PyTorch +
# transformers (tools/bench_videomae_peer.py), same shapes, same thread
# count, same run. Figures go to docs/BENCHMARKS.md.
#
#   bash tools/bench_videomae.sh            # CPU, both sides
#   BENCH_BIN=path/to/videomae_step bash tools/bench_videomae.sh
#                                           # a prebuilt bench binary
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x tools/.venv-videomae/bin/python ]; then
  python3 -m venv tools/.venv-videomae
  tools/.venv-videomae/bin/pip install -q torch transformers safetensors numpy
fi

THREADS=$(nproc)
echo "threads: $THREADS"
# Burn's CPU backend runs on rayon's pool; PyTorch gets the same count.
export RAYON_NUM_THREADS=$THREADS
if [ -n "${BENCH_BIN:-}" ]; then
  "$BENCH_BIN" --bench cpu --noplot
else
  cargo bench --locked -p videomae --bench videomae_step -- cpu --noplot
fi
tools/.venv-videomae/bin/python tools/bench_videomae_peer.py --threads "$THREADS"
