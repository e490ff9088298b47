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

# libvmaf's `vmaf` tool, which `vodpipe quality` runs to score renditions (VMAF, SSIM, PSNR).
# Debian's ffmpeg has no libvmaf, so the tool is built from libvmaf's own C source, which the
# libvmaf-sys crate ships in its vmaf/ folder (BSD-2-Clause-Patent, models included). Only
# that folder is used: the crate's Rust wrapper is never built or linked. The crate is pinned
# by version and sha256; the binary is cached per libvmaf version and exported as
# VODPIPE_VMAF. Meson, ninja, nasm, xxd (without it the models are silently left out), the
# C and C++ compilers and curl come from Debian's packages.
VMAF_CRATE_VERSION=0.4.4
VMAF_CRATE_SHA256=8b053ec5f32c6ba5ae9a51d2bbef0abd35e34033ad83c7b331bfec3e04df79a6
VMAF_VERSION=2.3.1
ensure_vmaf() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/vodpipe"
  local prefix="$cache/vmaf-$VMAF_VERSION"
  VODPIPE_VMAF="$prefix/bin/vmaf"
  export VODPIPE_VMAF
  if "$VODPIPE_VMAF" --version >/dev/null 2>&1; then
    return
  fi
  mkdir -p "$cache"
  # One build at a time: a second script started meanwhile waits, then finds the binary.
  (
    flock 9
    if "$VODPIPE_VMAF" --version >/dev/null 2>&1; then
      exit 0
    fi
    echo "setup: building libvmaf $VMAF_VERSION's vmaf tool from the libvmaf-sys $VMAF_CRATE_VERSION crate (meson)" >&2
    local packages=()
    command -v meson >/dev/null || packages+=(meson)
    command -v ninja >/dev/null || packages+=(ninja-build)
    command -v xxd >/dev/null || packages+=(xxd)
    command -v cc >/dev/null || packages+=(gcc)
    command -v c++ >/dev/null || packages+=(g++)
    command -v curl >/dev/null || packages+=(curl ca-certificates)
    if [ "$(uname -m)" = x86_64 ] && ! command -v nasm >/dev/null; then packages+=(nasm); fi
    if [ ${#packages[@]} -gt 0 ]; then
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    fi
    local crate="$cache/libvmaf-sys-$VMAF_CRATE_VERSION.crate"
    if ! echo "$VMAF_CRATE_SHA256  $crate" | sha256sum --check --status 2>/dev/null; then
      curl -fsSL --retry 3 -o "$crate.part" \
        "https://static.crates.io/crates/libvmaf-sys/libvmaf-sys-$VMAF_CRATE_VERSION.crate"
      if ! echo "$VMAF_CRATE_SHA256  $crate.part" | sha256sum --check --status; then
        echo "setup: libvmaf-sys $VMAF_CRATE_VERSION downloaded with sha256 $(sha256sum "$crate.part" | cut -d' ' -f1), expected $VMAF_CRATE_SHA256" >&2
        rm -f "$crate.part"
        exit 1
      fi
      mv "$crate.part" "$crate"
    fi
    local work
    work=$(mktemp -d "$cache/vmaf-build.XXXXXX")
    # Chained with && because `set -e` does not apply inside a command whose status is tested.
    if ! (
      tar -xzf "$crate" -C "$work" --strip-components=1 \
        "libvmaf-sys-$VMAF_CRATE_VERSION/vmaf" &&
        meson setup "$work/build" "$work/vmaf/libvmaf" --buildtype=release \
          -Ddefault_library=static -Dbuilt_in_models=true -Denable_float=false \
          -Denable_tests=false -Denable_docs=false &&
        { grep -q 'VMAF_BUILT_IN_MODELS 1' "$work/build/src/config.h" ||
          { echo "meson left the built-in models out (it needs xxd)"; false; }; } &&
        ninja -C "$work/build" tools/vmaf &&
        mkdir -p "$prefix/bin" &&
        cp "$work/vmaf/LICENSE" "$prefix/LICENSE" &&
        cp "$work/build/tools/vmaf" "$prefix/bin/vmaf.part" &&
        mv "$prefix/bin/vmaf.part" "$VODPIPE_VMAF"
    ) >"$work/build.log" 2>&1; then
      tail -n 30 "$work/build.log" >&2
      echo "setup: building vmaf failed; the whole log is $work/build.log" >&2
      exit 1
    fi
    rm -rf "$work"
  ) 9>"$cache/vmaf.lock" || exit 1
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
