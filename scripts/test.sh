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

# `--features tubelet/full` compiles every re-export of the facade; it changes
# no other package's features, so Burn is not built twice.
step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --features tubelet/full,tubelet/synthetic --locked -- -D warnings

step "feature gates: curation alone links neither Burn nor FFmpeg; frame-select builds without Burn"
# The trees are captured first so that a failing `cargo tree` stops the script
# (inside an `if`, `set -e` would let it pass as "nothing found").
tree=$(cargo tree -p tubelet --no-default-features --features curation -e normal --locked)
if grep -E 'burn|ffmpeg|video-rs' <<<"$tree"; then
  echo "tubelet --features curation must not depend on Burn or FFmpeg (above)" >&2
  exit 1
fi
tree=$(cargo tree -p frame-select --no-default-features -e normal --locked)
if grep -E 'burn' <<<"$tree"; then
  echo "frame-select without its yolo feature must not depend on Burn (above)" >&2
  exit 1
fi
# What a curation-only user compiles, alone (its own feature resolution, so a
# feature another crate happens to turn on cannot hide a missing one): 25 s
# from scratch, no Burn, no FFmpeg.
cargo check -p tubelet --no-default-features --features curation --locked
# Every target of frame-select without `yolo` and of the facade with
# `curation` alone. Resolved with the whole workspace, so the dependencies are
# the ones clippy just checked and only these two crates are rechecked
# (`-p frame-select` alone re-resolves syn and rebuilds bindgen, the FFmpeg
# bindings and every proc macro: 2 min more).
cargo check --workspace --all-targets --no-default-features --features tubelet/curation --locked

step "cargo check --features cuda (type-checks burn-cuda; needs no GPU)"
cargo check -p videomae --features cuda --locked
cargo check -p ssl-pretrain --features cuda --example pretrain --locked

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --features tubelet/full,tubelet/synthetic --locked

step "build every test and example (one build, shared by the steps below)"
cargo test --workspace --locked --no-run

step "doc tests"
cargo test --workspace --locked --doc

# curation-core's bench helpers sit behind its `synthetic` feature; their
# own test runs here (a rebuild of that small crate only).
step "curation-core synthetic helpers"
cargo test -p curation-core --locked --features synthetic --lib synthetic::

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

step "pretrain example: curate's shards -> 6 steps of a tiny VideoMAE V2, resumed"
"$EXAMPLES/curate" --input tests/data/crawl --config tests/data/filters.toml \
  --out "$SCRATCH/curated" --shards >/dev/null
PRE=(--data "$SCRATCH/curated/shards" --model tiny --out "$SCRATCH/pretrain" --batch 1
  --num-sample 2 --sampling-rate 1 --save-every 3 --lr 0.2 --workers 2)
"$EXAMPLES/pretrain" "${PRE[@]}" --steps 6 >/dev/null
# As if killed after step 3's checkpoint: resume redoes steps 4 to 6.
rm -rf "$SCRATCH/pretrain/checkpoints/step-00000006"
"$EXAMPLES/pretrain" "${PRE[@]}" --steps 6 --resume | tail -1
test "$(wc -l < "$SCRATCH/pretrain/metrics.jsonl")" -eq 6
test -f "$SCRATCH/pretrain/export/model.safetensors"
# Another schedule length is another recipe: refused on resume.
if "$EXAMPLES/pretrain" "${PRE[@]}" --steps 9 --resume >/dev/null 2>&1; then
  echo "a resume with another recipe was accepted"; exit 1
fi

step "hostile input against the command-line tools (tests/hostile/cli.sh)"
bash tests/hostile/cli.sh "$EXAMPLES"

# Tests named shared_data_* need ../shared/data (real videos, class lists).
# A clone without it reports them as skipped, not passed; with it, their
# skip path is still run once with the data hidden, so a clone without it
# keeps passing.
SHARED_DATA="${TUBELET_SHARED_DATA:-$PWD/../shared/data}"
if [ -d "$SHARED_DATA" ]; then
  PROFILE=default
else
  PROFILE=no-shared-data
fi

if cargo nextest --version >/dev/null 2>&1; then
  if [ "$PROFILE" = default ]; then
    step "shared-data tests with the shared data hidden (their skip path)"
    TUBELET_SHARED_DATA=/nonexistent/tubelet-shared-data \
      cargo nextest run --workspace --locked --no-fail-fast -E 'test(/^shared_data_/)' \
      --status-level fail --final-status-level fail
  fi
  step "tests (the byte-level fuzz properties run here with their short defaults;
docs/RELIABILITY.md shows a longer run)"
  if [ "$PROFILE" != default ]; then
    n=$(cargo nextest list --workspace --locked -E 'test(/^shared_data_/)' \
      --message-format oneline 2>/dev/null | wc -l)
    echo "skipping $n tests named shared_data_*: $SHARED_DATA is absent" \
      "(they need its real videos and class lists; CI has it)"
  fi
  cargo nextest run --workspace --locked --no-fail-fast --profile "$PROFILE"
else
  step "tests"
  skip=()
  if [ "$PROFILE" != default ]; then
    echo "skipping tests named shared_data_*: $SHARED_DATA is absent"
    skip=(--skip shared_data_)
  fi
  cargo test --workspace --locked --no-fail-fast --lib --bins --tests --examples \
    -- "${skip[@]}"
fi

echo
echo "all checks passed"
