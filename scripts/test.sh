#!/usr/bin/env bash
# The test command (README): installs what is missing, then format, lints,
# all tests (unit, integration, property, doc) and the API docs, warnings as
# errors. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo check --features cuda (type-checks burn-cuda; needs no GPU)"
cargo check -p videomae --features cuda --locked

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "doc tests"
cargo test --workspace --locked --doc

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast --lib --bins --tests --examples
fi

echo
echo "all checks passed"
