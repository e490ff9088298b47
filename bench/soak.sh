#!/usr/bin/env bash
# Soak: N uploads through `vodpipe serve` while the server is SIGKILLed K times at random
# moments and restarted on the same data directory, with a second `vodpipe worker` on that
# directory and the disk filled up mid-upload and mid-encode. Checks at the end that every
# video ended right (good clips `done`, bad ones `failed`), no job had two writers, no
# ffmpeg outlived its parent, no upload was left behind, and every segment is there and
# reads back. Figures go to docs/reliability.md.
#
# Usage: bench/soak.sh [N] [K] [CLIP_SECONDS]     (defaults: 200 uploads, 10 kills, 20 s clips)
# As root the data directory is a size-limited tmpfs (the full-disk phases need it); as
# another user those phases are skipped, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/setup.sh
source scripts/setup.sh
ensure_rust
ensure_ffmpeg

uploads=${1:-200}
kills=${2:-10}
seconds=${3:-20}

cargo build --locked -q -p vodpipe
vodpipe="$(cargo_target_dir)/debug/vodpipe"

work=$(mktemp -d)
data="$work/data"
mkdir -p "$data"
mounted=0
cleanup() {
  pkill -KILL -f -- "--data $data" 2>/dev/null || true
  pkill -KILL -f -- "--out $data" 2>/dev/null || true
  if [ "$mounted" = 1 ]; then umount "$data" 2>/dev/null || umount -l "$data" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$(id -u)" -eq 0 ]; then
  # Room for the media of every upload (about 16 MB per 20 s 720p clip); the full-disk
  # phases fill whatever is free.
  mount -t tmpfs -o "size=${SOAK_DISK:-$(( uploads * 20 + 512 ))m}" tmpfs "$data"
  mounted=1
fi

python3 bench/soak.py --vodpipe "$vodpipe" --data "$data" --work "$work" \
  --uploads "$uploads" --kills "$kills" --seconds "$seconds" --full-disk "$mounted"
