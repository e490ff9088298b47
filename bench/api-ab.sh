#!/usr/bin/env bash
# A/B of the uncached list page (`GET /api/videos?cursor=…`) across vodpipe binaries: each
# serves its own data directory seeded like bench/api.sh's (200 done videos), and wrk runs
# against each in turn, rounds interleaved, so the machine's drift falls on all of them.
# Read the ratios within one run.
#
# Usage: bench/api-ab.sh BINARY... (env ROUNDS=5, DURATION=8s, CONNECTIONS=64)
#   e.g. build two commits with `cargo build --release -p vodpipe`, copy each binary aside,
#   and pass both. A binary may be a wrapper script that sets an environment variable.
set -euo pipefail
rounds=${ROUNDS:-5}
duration=${DURATION:-8s}
connections=${CONNECTIONS:-64}
[ $# -ge 1 ] || { echo "usage: bench/api-ab.sh BINARY..." >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench/api-ab.sh: wrk is missing (bench/api.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
declare -A page2
for binary in "$@"; do
  name=$(basename "$binary")
  VODPIPE_LOG=warn "$binary" serve --addr 127.0.0.1:0 --data "$work/$name" 2>"$work/$name.log" &
  pids+=($!)
  url=
  for _ in $(seq 100); do
    url=$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/$name.log" | head -1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "bench/api-ab.sh: $name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
  user=$(curl -fsS -X POST "$url/api/auth/signup" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"correct horse battery staple"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["user_id"])')
  python3 - "$work/$name/vodpipe.db" "$user" 200 <<'PY'
import json, sqlite3, sys, time
path, user, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rungs = [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360), ("240p", 426, 240)]
renditions = json.dumps([{"name": n, "width": w, "height": h, "playlist_path": f"index_{n}.m3u8"} for n, w, h in rungs])
now = int(time.time() * 1000)
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def ulid_like(ms, i):
    return "".join(alphabet[(ms >> (5 * k)) & 31] for k in range(9, -1, -1)) + f"{i:016d}"
db = sqlite3.connect(path, timeout=10)
with db:
    db.executemany(
        "INSERT INTO videos (id, user_id, title, description, status, created_at_ms, job_id, renditions,"
        " playback_path, thumbnail_path, duration_ms) VALUES (?, ?, ?, ?, 'done', ?, ?, ?, 'index.m3u8',"
        " 'thumbnails/thumb_poster.0000001.jpg', ?)",
        [(ulid_like(now - i * 60_000, i), user, f"Benchmark video {i}",
          f"Seeded by bench/api.sh: video number {i} of {count}, for the list endpoint.",
          now - i * 60_000, f"ffmpeg-{i}", renditions, 20_000 + i) for i in range(count)])
PY
  cursor=$(curl -fsS "$url/api/videos" | python3 -c 'import json, sys; print(json.load(sys.stdin)["next_cursor"])')
  page2[$name]="$url/api/videos?cursor=$cursor"
  wrk -t2 -c"$connections" -d2s "${page2[$name]}" > /dev/null # warm-up
done
echo "binary req/s p99 (one line per run; $rounds rounds of $duration, $connections connections)"
for ((round = 1; round <= rounds; round++)); do
  for binary in "$@"; do
    name=$(basename "$binary")
    wrk -t2 -c"$connections" -d"$duration" --latency "${page2[$name]}" |
      awk -v name="$name" '/Requests\/sec/ { rps = $2 } $1 == "99%" { p99 = $2 } END { print name, rps, p99 }'
  done
done
