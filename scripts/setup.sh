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

# Debian's Chromium, for the browser test of the web front end.
ensure_chromium() {
  if command -v chromium >/dev/null; then
    return
  fi
  echo "setup: installing chromium (apt)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

# Node.js >= 20.9 and npm, for the web front end (Next.js).
ensure_node() {
  if command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)'; then
    return
  fi
  echo "setup: the web front end needs Node.js >= 20.9 with npm (https://nodejs.org); found: $(node --version 2>/dev/null || echo none)" >&2
  exit 1
}

# The web front end's static export in web/out, rebuilt when a source changed.
ensure_web() {
  ensure_node
  if [ -f web/out/index.html ] && [ -z "$(find web/app web/components web/lib web/public web/package-lock.json web/next.config.mjs -newer web/out/index.html 2>/dev/null | head -1)" ]; then
    return
  fi
  echo "setup: building the web front end (npm ci && npm run build in web/)" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build >/dev/null)
}

# Where cargo puts its builds (CARGO_TARGET_DIR, or the workspace's target/).
cargo_target_dir() {
  cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
