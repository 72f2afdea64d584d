#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, test and run tubelet.
# Idempotent: when everything is present it prints one line and changes nothing.
#
# Needed:
#   - FFmpeg development libraries + CLI: video-rs (frame-select, the pretraining
#     loader) links libav*, and the tests make synthetic clips with `ffmpeg`.
#   - clang / libclang + pkg-config: bindgen inside ffmpeg-sys-next.
#   - a Rust toolchain with rustfmt and clippy (rustup components, offline-safe
#     when already installed).
set -euo pipefail

DEB_PACKAGES=(
  pkg-config clang libclang-dev
  ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev libavdevice-dev libavfilter-dev
)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "setup: adding rustup component $component"
    rustup component add "$component"
  fi
done

echo "setup: all build and test dependencies present"
