#!/usr/bin/env bash
# Compares, in one run on the same sources, the wall time of
#   vodpipe   - `vodpipe process` (probe, plan, job document, one ffmpeg process, publish)
#   single    - the best hand-written single ffmpeg command for the same outputs
#               (decode once, split, scale, encode every rendition, thumbnail)
#   naive     - one ffmpeg per rendition (each decodes the source again) and one for the thumbnail
# with the same encoder settings (libx264 veryfast, the default ladder's bitrates).
#
# Usage: bench/transcode.sh [RUNS] [SECONDS]     (defaults: 3 runs of 20 s sources)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/setup.sh
source scripts/setup.sh
runs=${1:-3}
seconds=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --locked -q -p vodpipe
target_dir=$(cargo_target_dir)
vodpipe="$target_dir/release/vodpipe"

# name short_side width video_k max_k profile level audio_k
rungs_1080="1080p 1080 1920 5000 7500 high 4.1 128
720p 720 1280 3000 4500 high 3.1 128
480p 480 854 1400 2100 main 3.0 96
360p 360 640 800 1200 main 3.0 96
240p 240 426 400 600 baseline 3.0 64"

now() { date +%s.%N; }

single() { # src out height
  local src=$1 out=$2 top=$3 n=0 filter maps=() map=() i=0
  mkdir -p "$out/thumbnails"
  local rungs; rungs=$(echo "$rungs_1080" | awk -v top="$top" '$2 <= top')
  n=$(echo "$rungs" | wc -l)
  filter="[0:v]split=$((n + 1))"
  for ((j = 0; j <= n; j++)); do filter+="[s$j]"; done
  while read -r name side width vk mk profile level ak; do
    filter+=";[s$i]scale=$width:$side,setsar=1,fps=30[v$i]"
    maps+=(-map "[v$i]" -map 0:a:0 -c:v:$i libx264 -preset:v:$i veryfast -b:v:$i ${vk}k -maxrate:v:$i ${mk}k
      -bufsize:v:$i $((mk * 2))k -profile:v:$i "$profile" -level:v:$i "$level" -pix_fmt:v:$i yuv420p -g:v:$i 60
      -keyint_min:v:$i 60 -sc_threshold:v:$i 0 -force_key_frames:v:$i "expr:gte(t,n_forced*2)"
      -c:a:$i aac -b:a:$i ${ak}k -ar:a:$i 48000 -ac:a:$i 2)
    map+=("v:$i,a:$i,name:_$name")
    i=$((i + 1))
  done <<< "$rungs"
  filter+=";[s$n]select='gte(t\\,2)',scale=640:-2,setsar=1[thumb]"
  ffmpeg -v error -nostdin -y -i "$src" -filter_complex "$filter" "${maps[@]}" \
    -f hls -hls_time 6 -hls_playlist_type vod -hls_flags independent_segments -start_number 1 \
    -hls_segment_filename "$out/index%v_%05d.ts" -master_pl_name index.m3u8 -var_stream_map "${map[*]}" "$out/index%v.m3u8" \
    -map "[thumb]" -frames:v 1 -q:v 7 -update 1 "$out/thumbnails/thumb_poster.0000001.jpg"
}

naive() { # src out height
  local src=$1 out=$2 top=$3
  mkdir -p "$out/thumbnails"
  echo "$rungs_1080" | awk -v top="$top" '$2 <= top' | while read -r name side width vk mk profile level ak; do
    ffmpeg -v error -nostdin -y -i "$src" -vf "scale=$width:$side,setsar=1,fps=30" -c:v libx264 -preset veryfast \
      -b:v ${vk}k -maxrate ${mk}k -bufsize $((mk * 2))k -profile:v "$profile" -level:v "$level" -pix_fmt yuv420p \
      -g 60 -keyint_min 60 -sc_threshold 0 -force_key_frames "expr:gte(t,n_forced*2)" -c:a aac -b:a ${ak}k -ar 48000 -ac 2 \
      -f hls -hls_time 6 -hls_playlist_type vod -hls_flags independent_segments -start_number 1 \
      -hls_segment_filename "$out/index_${name}_%05d.ts" "$out/index_${name}.m3u8"
  done
  ffmpeg -v error -nostdin -y -ss 2 -i "$src" -vf "scale=640:-2" -frames:v 1 -q:v 7 "$out/thumbnails/thumb_poster.0000001.jpg"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo "runs: $runs, source length: ${seconds}s"
for size in 1280x720 1920x1080; do
  height=${size#*x}
  src="$work/source-$height.mp4"
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=$size:rate=30:duration=$seconds" -f lavfi -i "sine=duration=$seconds" \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$src"
  declare -A times=()
  for ((r = 1; r <= runs; r++)); do
    for approach in vodpipe single naive; do  # interleaved, so drift hits all three alike
      out="$work/$approach-$height-$r"
      start=$(now)
      case $approach in
        vodpipe) "$vodpipe" process "$src" --out "$out" > /dev/null 2>&1 ;;
        single) single "$src" "$out" "$height" ;;
        naive) naive "$src" "$out" "$height" ;;
      esac
      times[$approach]+="$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }') "
      rm -rf "$out"
    done
  done
  v=$(echo ${times[vodpipe]} | tr ' ' '\n' | median)
  s=$(echo ${times[single]} | tr ' ' '\n' | median)
  n=$(echo ${times[naive]} | tr ' ' '\n' | median)
  printf '%sp: vodpipe %.2f s, single command %.2f s, naive %.2f s; vodpipe/single %.3f, naive/single %.3f\n' \
    "$height" "$v" "$s" "$n" "$(awk -v a="$v" -v b="$s" 'BEGIN { print a / b }')" "$(awk -v a="$n" -v b="$s" 'BEGIN { print a / b }')"
  unset times
done
