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

# The pinned toolchain, its components and its targets, as rust-toolchain.toml names them.
# rustup adds components and targets only when it installs a toolchain, so a machine that
# already has the pinned toolchain (without wasm32-wasip2, say) gets them added here.
ensure_rust() {
  if ! command -v rustup >/dev/null || ! command -v cargo >/dev/null; then
    echo "setup: rustup and cargo are missing; install rustup from https://rustup.rs first" >&2
    exit 1
  fi
  local file channel components targets
  file="$(git rev-parse --show-toplevel 2>/dev/null || pwd)/rust-toolchain.toml"
  channel="$(toml_list "$file" channel)"
  components="$(toml_list "$file" components)"
  targets="$(toml_list "$file" targets)"
  if ! rustup toolchain list | grep -q "^$channel-"; then
    echo "setup: installing Rust $channel (rustup)" >&2
    rustup toolchain install "$channel" --profile minimal >/dev/null
  fi
  local installed missing=()
  installed="$(rustup component list --installed --toolchain "$channel")"
  for component in $components; do
    grep -q "^$component-" <<<"$installed" || missing+=("$component")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: adding ${missing[*]} to Rust $channel (rustup)" >&2
    rustup component add --toolchain "$channel" "${missing[@]}" >/dev/null
  fi
  installed="$(rustup target list --installed --toolchain "$channel")"
  missing=()
  for target in $targets; do
    grep -qx "$target" <<<"$installed" || missing+=("$target")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: adding target ${missing[*]} to Rust $channel (rustup)" >&2
    rustup target add --toolchain "$channel" "${missing[@]}" >/dev/null
  fi
}

# A key's value in rust-toolchain.toml's [toolchain] table: a string, or a list's items
# separated by spaces.
toml_list() {
  python3 - "$1" "$2" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    value = tomllib.load(f)["toolchain"].get(sys.argv[2], [])
print(value if isinstance(value, str) else " ".join(value))
PY
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
