#!/usr/bin/env bash
# The test command (README): installs what is missing, then format, lints,
# all tests (unit, integration, property, doc) and the API docs, warnings as
# errors. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# A clean CI clone gains nothing from incremental state; it only costs disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo check --features cuda (type-checks burn-cuda; needs no GPU)"
cargo check -p videomae --features cuda --locked

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "build every test and example (one build, shared by the steps below)"
cargo test --workspace --locked --no-run

step "doc tests"
cargo test --workspace --locked --doc

# Examples run from the binaries built above: `cargo run -p <crate>` would
# resolve features for that crate alone and build Burn a second time.
EXAMPLES="${CARGO_TARGET_DIR:-target}/debug/examples"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

step "videomae_forward reproduces the committed transformers outputs"
F=crates/videomae/tests/fixtures
for run in "pretrain_tiny pretrain_tiny" "pretrain_tiny/model.pth pretrain_tiny" \
  "classify_tiny classify_tiny" "classify_tiny/model.pth classify_tiny"; do
  set -- $run
  "$EXAMPLES/videomae_forward" \
    --checkpoint "$F/$1" --input "$F/$2/inputs.safetensors" \
    --output "$SCRATCH/videomae_forward_check.safetensors" \
    --compare "$F/$2/outputs.safetensors" --tolerance 1e-4
done

step "hashtags example: labels + posts + views -> action groups"
H=crates/hashtag-select/tests/data
"$EXAMPLES/hashtags" --labels "$H/labels.txt" --posts "$H/posts.jsonl" \
  --views "$H/tag_views.csv" --out "$SCRATCH/groups.json"
grep -q '"name": "skateboarding"' "$SCRATCH/groups.json"
grep -qx 'football' "$SCRATCH/labels.txt"

step "hostile input against the command-line tools (tests/hostile/cli.sh)"
bash tests/hostile/cli.sh "$EXAMPLES"

step "tests (the byte-level fuzz properties run here with their short defaults;
docs/RELIABILITY.md shows a longer run)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast --lib --bins --tests --examples
fi

echo
echo "all checks passed"
