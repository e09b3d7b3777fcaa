#!/usr/bin/env bash
# Installs what building Nimbus needs and is missing (Debian packages: gcc, g++, cmake, nasm),
# builds the release binary, and runs `nimbus serve` in the foreground on the embedded default:
# SQLite and local files under ./nimbus-data, http://127.0.0.1:8080. Arguments go to `serve`
# (e.g. --listen 0.0.0.0:8080). Safe to run again: it only builds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
need=()
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v nasm >/dev/null 2>&1 || need+=(nasm)
if ((${#need[@]})); then
  echo "[serve] installing: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cargo build --release --locked -p nimbus-cli
exec target/release/nimbus serve "$@"
