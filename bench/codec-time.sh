#!/usr/bin/env bash
# One 720p ladder (720p, 480p, 360p and 240p from one decode, as the embedded transcoder runs
# it: split, scale, 2 s closed GOPs, no scene cuts, VBV peak 1.5x the average) encoded with
# one encoder, to a null output: what choosing a codec's preset costs in encode time.
#
# Usage: bench/codec-time.sh SOURCE x264|x265|svt-av1 [PRESET] [CRF]
#   x264 runs veryfast with the default preset's bitrates; x265 (default preset ultrafast) the
#   same bitrates; svt-av1 (default preset 10) capped CRF (default 42, QVBR level 7) under the
#   `av1` preset's peaks. Time it with a process timer, A against B, e.g.
#   /usr/bin/time -f %e bench/codec-time.sh clip.mp4 svt-av1
set -euo pipefail
source=$1 encoder=$2
sizes=(1280:720 854:480 640:360 426:240)
average_kbps=(3000 1400 800 400)
av1_peak_kbps=(2700 1300 750 500)
filter="[0:v:0]split=4[s0][s1][s2][s3]"
for i in 0 1 2 3; do filter+=";[s$i]scale=${sizes[$i]},setsar=1,fps=30[v$i]"; done
args=()
for i in 0 1 2 3; do
  rate=${average_kbps[$i]}
  case $encoder in
    x264) codec=(-c:v libx264 -preset "${3:-veryfast}" -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0
                 -force_key_frames 'expr:gte(t,n_forced*2)' -b:v "${rate}k" -maxrate "$((rate * 3 / 2))k" -bufsize "$((rate * 3))k") ;;
    x265) codec=(-c:v libx265 -preset "${3:-ultrafast}" -pix_fmt yuv420p -tag:v hvc1 -forced-idr 1
                 -x265-params keyint=60:min-keyint=60:scenecut=0:open-gop=0:log-level=error
                 -force_key_frames 'expr:gte(t,n_forced*2)' -b:v "${rate}k" -maxrate "$((rate * 3 / 2))k" -bufsize "$((rate * 3))k") ;;
    svt-av1) peak=${av1_peak_kbps[$i]}
             codec=(-c:v libsvtav1 -preset "${3:-10}" -pix_fmt yuv420p -g 60 -crf "${4:-42}" -maxrate "${peak}k" -bufsize "$((peak * 2))k") ;;
    *) echo "codec-time: unknown encoder $encoder (x264, x265, svt-av1)" >&2; exit 2 ;;
  esac
  args+=(-map "[v$i]" "${codec[@]}" -f null -)
done
SVT_LOG=1 exec ffmpeg -v error -nostdin -y -i "$source" -filter_complex "$filter" "${args[@]}"
