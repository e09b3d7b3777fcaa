#!/usr/bin/env bash
# Fuzzes a grammar with libFuzzer: `scripts/fuzz.sh [SECONDS] [TARGET]`, SECONDS default 600,
# TARGET delivery_url (delivery URLs and transformations, the default) or search_expression
# (search and folder expressions). Needs a nightly toolchain and cargo-fuzz; installs
# cargo-fuzz when missing. Findings land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_TO_RUN=${1:-600}
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
TARGET=${2:-delivery_url}
mkdir -p "corpus/$TARGET"
# Debug assertions stay on (the checks are asserts); the cache target dir stays apart.
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target} cargo +nightly fuzz run "$TARGET" "corpus/$TARGET" -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=512
