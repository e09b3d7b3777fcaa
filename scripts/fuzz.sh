#!/usr/bin/env bash
# Fuzzes the delivery-URL and transformation grammar (fuzz/fuzz_targets/delivery_url.rs) with
# libFuzzer for SECONDS (default 600). Needs a nightly toolchain and cargo-fuzz; installs
# cargo-fuzz when missing. Findings land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_TO_RUN=${1:-600}
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/delivery_url
# Debug assertions stay on (the checks are asserts); the cache target dir stays apart.
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target} cargo +nightly fuzz run delivery_url corpus/delivery_url -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=512
