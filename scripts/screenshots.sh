#!/usr/bin/env bash
# Refreshes the console screenshots in docs/screenshots/ (shown in the README) by running the
# browser scenario with screenshots on. Needs what the tests need (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p nimbus-cli
NIMBUS_SCREENSHOTS="$PWD/docs/screenshots" bash tests/browser/run.sh
ls -l docs/screenshots
