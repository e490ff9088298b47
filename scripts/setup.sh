# Shared set-up for scripts/run and scripts/test: installs what a fresh machine lacks.
# Idempotent: each step checks first and does nothing when the tool is already there.
# shellcheck shell=bash

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ffmpeg and ffprobe, from Debian's packages.
ensure_ffmpeg() {
  if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
    return
  fi
  echo "setup: installing ffmpeg (apt)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
}

# The pinned toolchain and its wasm32-wasip2 target come from rust-toolchain.toml; rustup
# installs both on the first cargo call. Say so, since it takes a minute on a fresh machine.
ensure_rust() {
  if ! command -v cargo >/dev/null; then
    echo "setup: cargo is missing; install rustup from https://rustup.rs first" >&2
    exit 1
  fi
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install >/dev/null
}
