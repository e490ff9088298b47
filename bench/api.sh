#!/usr/bin/env bash
# Load benchmark of the HTTP API, in one run on one machine:
#   hello     - a plain axum hello-world (host/server/examples/hello.rs): the ceiling
#   healthz   - `GET /healthz` on `vodpipe serve`: its router and layers (request id, tracing
#               span, CORS) around a handler that does nothing
#   list      - `GET /api/videos` (the public list, default page of 20; its first page is
#               served from the one-second page cache)
#   page2     - `GET /api/videos?cursor=…` (the second page: read from SQLite every time)
#   uploads   - `POST /api/uploads` with a bearer token (a new id and a presigned form)
# with wrk (interleaved, ROUNDS times; medians), then the memory of one 100 MB
# upload through the S3-compatible `/upload` endpoint (peak RSS growth of the server).
#
# Load generator and servers share the machine's cores: read the ratios to hello.
#
# Usage: bench/api.sh [DURATION] [CONNECTIONS] [THREADS] [ROUNDS]   (defaults: 10s 64 2 3)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/setup.sh
source scripts/setup.sh
duration=${1:-10s}
connections=${2:-64}
threads=${3:-2}
rounds=${4:-3}
videos=200                        # done videos seeded into the public list
upload_bytes=$((100 * 1024 * 1024))

ensure_wrk() {
  if command -v wrk >/dev/null; then
    return
  fi
  echo "setup: installing wrk (apt)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends wrk >/dev/null
}
ensure_wrk
command -v curl >/dev/null || { echo "bench/api.sh: curl is missing" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench/api.sh: python3 is missing" >&2; exit 1; }

cargo build --release --locked -q -p vodpipe -p vodpipe-server --bin vodpipe --example hello
target_dir=$(cargo_target_dir)
vodpipe="$target_dir/release/vodpipe"
hello="$target_dir/release/examples/hello"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME COMMAND...: runs a server in the background, waits for its "listening on" line,
# sets $pid and $url.
start() {
  local name=$1 log="$work/$1.log"
  shift
  "$@" 2>"$log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do
    url=$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$log" | head -1)
    if [ -n "$url" ]; then
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "bench/api.sh: $name did not start:" >&2
  cat "$log" >&2
  exit 1
}

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start hello "$hello" 127.0.0.1:0
hello_url=$url
VODPIPE_LOG=warn start vodpipe "$vodpipe" serve --addr 127.0.0.1:0 --data "$work/data"
api_url=$url
api_pid=$pid

# A user, and a public list of done videos with titles, plans and four renditions each, seeded
# straight into the database (the server made the schema; WAL lets us write next to its connections).
curl -fsS -X POST "$api_url/api/auth/signup" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"correct horse battery staple"}' > "$work/signup.json"
token=$(json '["access_token"]' < "$work/signup.json")
user_id=$(json '["user_id"]' < "$work/signup.json")
python3 - "$work/data/vodpipe.db" "$user_id" "$videos" <<'EOF'
import json, sqlite3, sys, time
path, user, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
# The default ladder for a 1280x720 source, as the worker records it (plan) and publishes it.
rungs = [("720p", 1280, 720, 3000, 4500, "high", "3.1", 128), ("480p", 854, 480, 1400, 2100, "main", "3.0", 96),
         ("360p", 640, 360, 800, 1200, "main", "3.0", 96), ("240p", 426, 240, 400, 600, "baseline", "3.0", 64)]
plan = json.dumps({
    "renditions": [{"name": n, "width": w, "height": h, "video_bitrate": v * 1000, "max_bitrate": m * 1000,
                    "profile": p, "level": l, "frame_rate_cap": 60.0, "audio_bitrate": a * 1000}
                   for n, w, h, v, m, p, l, a in rungs],
    "segment_seconds": 6,
    "thumbnail": {"at_seconds": 2.0, "width": 640, "height": 360},
})
renditions = json.dumps([{"name": n, "width": w, "height": h, "playlist_path": f"index_{n}.m3u8"}
                         for n, w, h, *_ in rungs])
now = int(time.time() * 1000)
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def ulid_like(ms, i):  # 10 characters of time, then 16 of "randomness"
    return "".join(alphabet[(ms >> (5 * k)) & 31] for k in range(9, -1, -1)) + f"{i:016d}"
db = sqlite3.connect(path, timeout=10)
with db:
    db.executemany(
        "INSERT INTO videos (id, user_id, title, description, status, created_at_ms, job_id, plan, renditions,"
        " playback_path, thumbnail_path, duration_ms) VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?, 'index.m3u8',"
        " 'thumbnails/thumb_poster.0000001.jpg', ?)",
        [(ulid_like(now - i * 60_000, i), user, f"Benchmark video {i}",
          f"Seeded by bench/api.sh: video number {i} of {count}, for the list endpoint.",
          now - i * 60_000, f"ffmpeg-{i}", plan, renditions, 20_000 + i) for i in range(count)],
    )
db.close()
EOF
listed=$(curl -fsS "$api_url/api/videos" | json '["videos"].__len__()')
list_bytes=$(curl -fsS "$api_url/api/videos" | wc -c)
[ "$listed" -eq 20 ] || { echo "bench/api.sh: the list has $listed videos, not 20" >&2; exit 1; }
# Page 2 is never cached: every request reads the database.
cursor=$(curl -fsS "$api_url/api/videos" | json '["next_cursor"]')
page2_url="$api_url/api/videos?cursor=$cursor"
status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api_url/api/uploads" -H "authorization: Bearer $token")
[ "$status" = 201 ] || { echo "bench/api.sh: POST /api/uploads answered $status" >&2; exit 1; }

cat > "$work/uploads.lua" <<EOF
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
EOF

# bench NAME URL [wrk args...]: one wrk run; appends "req/s p99_ms" to $work/NAME.
bench() {
  local name=$1 target=$2 out="$work/wrk-$1.txt"
  shift 2
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$target" > "$out"
  if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
    echo "bench/api.sh: $name had errors:" >&2
    cat "$out" >&2
    exit 1
  fi
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { printf "%.0f %.3f\n", rps, p99 }' "$out" >> "$work/$name"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "wrk: $threads threads, $connections connections, $duration per run, $rounds rounds (interleaved; medians)"
echo "list: $videos done videos seeded, a page of 20 is $list_bytes bytes of JSON"
# Warm-up: connections, allocator, SQLite's page cache and prepared statements.
wrk -t"$threads" -c"$connections" -d2s "$hello_url/" > /dev/null
wrk -t"$threads" -c"$connections" -d2s "$api_url/healthz" > /dev/null
wrk -t"$threads" -c"$connections" -d2s "$api_url/api/videos" > /dev/null
wrk -t"$threads" -c"$connections" -d2s "$page2_url" > /dev/null
wrk -t"$threads" -c"$connections" -d2s -s "$work/uploads.lua" "$api_url/api/uploads" > /dev/null
for ((r = 1; r <= rounds; r++)); do
  bench hello "$hello_url/"
  bench healthz "$api_url/healthz"
  bench list "$api_url/api/videos"
  bench page2 "$page2_url"
  bench uploads "$api_url/api/uploads" -s "$work/uploads.lua"
done

declare -A rps p99
echo
printf '%-28s %12s %10s %14s\n' endpoint 'req/s' 'p99 (ms)' 'req/s / hello'
for name in hello healthz list page2 uploads; do
  rps[$name]=$(cut -d' ' -f1 "$work/$name" | median)
  p99[$name]=$(cut -d' ' -f2 "$work/$name" | median)
done
for name in hello healthz list page2 uploads; do
  case $name in
    hello) label='GET / (axum hello-world)' ;;
    healthz) label='GET /healthz' ;;
    list) label='GET /api/videos' ;;
    page2) label='GET /api/videos?cursor=' ;;
    uploads) label='POST /api/uploads' ;;
  esac
  printf '%-28s %12s %10s %14s\n' "$label" "${rps[$name]}" "${p99[$name]}" \
    "$(awk -v a="${rps[$name]}" -v b="${rps[hello]}" 'BEGIN { printf "%.3f", a / b }')"
done
for name in hello healthz list page2 uploads; do
  echo "  $name rounds (req/s p99_ms): $(paste -sd',' "$work/$name" | sed 's/,/, /g')"
done

# Upload memory: peak RSS of the server while one 100 MB file streams through /upload.
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$api_pid/status"; }
head -c "$upload_bytes" /dev/urandom > "$work/upload.bin"
curl -fsS -X POST "$api_url/api/uploads" -H "authorization: Bearer $token" > "$work/ticket.json"
form=()
while IFS= read -r -d '' arg; do form+=("$arg"); done < <(python3 -c '
import json, sys
for name, value in json.load(open(sys.argv[1]))["fields"].items():
    sys.stdout.write("--form-string\0%s=%s\0" % (name, value))' "$work/ticket.json")
upload_url=$(json '["url"]' < "$work/ticket.json")
rss_before=$(kib VmRSS)
hwm_before=$(kib VmHWM)
reset=no
if echo 5 2>/dev/null > "/proc/$api_pid/clear_refs"; then
  reset=yes
fi
hwm_reset=$(kib VmHWM)
start_time=$(date +%s.%N)
status=$(curl -sS -o "$work/upload.out" -w '%{http_code}' "${form[@]}" -F "file=@$work/upload.bin" "$upload_url")
end_time=$(date +%s.%N)
hwm_after=$(kib VmHWM)
rss_after=$(kib VmRSS)
[ "$status" = 204 ] || { echo "bench/api.sh: the upload answered $status:" >&2; cat "$work/upload.out" >&2; exit 1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
echo
echo "upload of $upload_bytes bytes: HTTP $status in $(awk -v a="$end_time" -v b="$start_time" 'BEGIN { printf "%.2f", a - b }') s"
echo "  before: VmRSS $(mib "$rss_before"), VmHWM $(mib "$hwm_before") (peak since start)"
echo "  peak reset with clear_refs: $reset (VmHWM then $(mib "$hwm_reset"))"
echo "  after:  VmHWM $(mib "$hwm_after"), VmRSS $(mib "$rss_after")"
echo "  peak RSS growth (VmHWM after - VmRSS before): $(mib $((hwm_after - rss_before)))"
