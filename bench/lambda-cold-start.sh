#!/usr/bin/env bash
# Cold start of the on-upload Lambda function, in the tests' Lambda Runtime API harness
# (host/lambda/tests/functions.rs, `on_upload_cold_start_figures`): each round starts a new
# function process with an empty plugin cache (a new instance with an empty /tmp) and times
# its init, its first message and a second one, against moto. Rounds alternate a bundle
# published without precompiled plugins and one with them (`vodpipe policy publish`).
#
# Release builds, as deployed (scripts/build-lambdas). Usage: bench/lambda-cold-start.sh [ROUNDS]
# (default 7 of each)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/setup.sh
source scripts/setup.sh
ensure_rust
ensure_ffmpeg
VODPIPE_BENCH_ROUNDS=${1:-7} cargo test --release --locked -p vodpipe-lambda --test functions \
  -- --ignored --exact on_upload_cold_start_figures --nocapture 2>&1 |
  grep -E '^(on-upload cold start|artifacts|none|published) |plugins loaded|test result'
