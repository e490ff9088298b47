#!/usr/bin/env bash
# What the content analysis costs, and what the content-aware preset's encode costs, against
# today's encode of the same source, in one run (rounds interleaved, medians):
#   plan-ca   `vodpipe plan FILE --preset content-aware` (load, probe, analysis, plan)
#   plan-def  `vodpipe plan FILE --preset default`       (load, probe, plan)
#   enc-def   `vodpipe process FILE --preset default`    (today's encode, no analysis)
#   enc-ca    `vodpipe process FILE --preset content-aware` (analysis, then QVBR encode)
# analysis = plan-ca - plan-def; the ratios are analysis / enc-def and enc-ca / enc-def.
#
# Usage: bench/analysis.sh DIR [ROUNDS]   (every .mp4/.mov/.mkv in DIR; default 3 rounds)
# The quality corpus is a good DIR: `bench/quality.sh` leaves it in its work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/setup.sh
source scripts/setup.sh
dir=${1:?usage: bench/analysis.sh DIR [ROUNDS]}
rounds=${2:-3}
cargo build --release --locked -q -p vodpipe
vodpipe="$(cargo_target_dir)/release/vodpipe"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$vodpipe" "$dir" "$rounds" "$work" <<'PY'
import pathlib, shutil, statistics, subprocess, sys, time

vodpipe, folder, rounds, work = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3]), pathlib.Path(sys.argv[4])
sources = sorted(p for p in folder.iterdir() if p.suffix in (".mp4", ".mov", ".mkv"))
if not sources:
    sys.exit(f"no video files in {folder}")

def timed(args):
    out = work / "data"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(args + (["--out", str(out)] if args[1] == "process" else []),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started

kinds = {
    "plan-ca": lambda f: [vodpipe, "plan", str(f), "--preset", "content-aware"],
    "plan-def": lambda f: [vodpipe, "plan", str(f), "--preset", "default"],
    "enc-def": lambda f: [vodpipe, "process", str(f), "--preset", "default"],
    "enc-ca": lambda f: [vodpipe, "process", str(f), "--preset", "content-aware"],
}
print(f"{len(sources)} sources, {rounds} rounds, medians in seconds")
print("| source | analysis s | today's encode s | analysis / encode | content-aware encode s | content-aware / today |")
print("|---|---|---|---|---|---|")
ratios, encode_ratios = [], []
for source in sources:
    timed(kinds["plan-def"](source))  # warm the plugin cache and the page cache
    times = {k: [] for k in kinds}
    for _ in range(rounds):
        for kind, make in kinds.items():
            times[kind].append(timed(make(source)))
    m = {k: statistics.median(v) for k, v in times.items()}
    analysis = max(m["plan-ca"] - m["plan-def"], 0.0)
    ratios.append(analysis / m["enc-def"])
    encode_ratios.append(m["enc-ca"] / m["enc-def"])
    print(f"| {source.stem} | {analysis:.2f} | {m['enc-def']:.2f} | {ratios[-1]:.3f} | {m['enc-ca']:.2f} | {encode_ratios[-1]:.2f} |")
print(f"| **median** | | | {statistics.median(ratios):.3f} | | {statistics.median(encode_ratios):.2f} |")
print(f"| **worst** | | | {max(ratios):.3f} | | {max(encode_ratios):.2f} |")
PY
