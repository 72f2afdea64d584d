#!/usr/bin/env bash
# One pretraining optimizer step on the CPU (forward, backward, global grad
# norm, AdamW with the reference's parameter groups): Burn through
# ssl-pretrain (criterion, crates/ssl-pretrain/benches/optimizer_step.rs)
# and transformers + torch AdamW (tools/bench_videomae_peer.py), same
# shapes, same thread count, same run. Figures go to docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tools/.venv-videomae/bin/python ]; then
  python3 -m venv tools/.venv-videomae
  tools/.venv-videomae/bin/pip install -q torch transformers safetensors numpy
fi
THREADS=$(nproc)
echo "threads: $THREADS"
export RAYON_NUM_THREADS=$THREADS
cargo bench --locked -p ssl-pretrain --bench optimizer_step -- cpu --noplot
tools/.venv-videomae/bin/python tools/bench_videomae_peer.py --threads "$THREADS"
