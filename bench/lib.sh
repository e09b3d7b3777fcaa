# shellcheck shell=bash
# Shared by the bench/*.sh scripts (sourced, not run).
#
#   NIMBUS_BIN              server binary (default target/release/nimbus, built by the scripts)
#   NIMBUS_BENCH_NO_BUILD=1 do not run cargo (use NIMBUS_BIN as it is)
#   NIMBUS_VENV             Python venv with Pillow (default ~/.cache/nimbus/sdk-venv, shared with
#                           tests/sdk/run.sh; created when missing)
#   NIMBUS_BENCH_OUT        where raw results go (default bench/out/, ignored by git)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BENCH_PY_VENV=${NIMBUS_VENV:-$HOME/.cache/nimbus/sdk-venv}
PILLOW_VERSION=13.0.0
BENCH_CLOUD=bench
BENCH_KEY=271828182845904
BENCH_SECRET=NimbusBenchSecret_0123456789
NIMBUS_PID=
NIMBUS_PORT=
NIMBUS_DATA=

blog() { printf '[bench] %s\n' "$*" >&2; }

# need_tool NAME DEBIAN_PACKAGE: the tool must be on PATH (or in /usr/sbin); prints its path.
need_tool() {
  local path
  path=$(PATH="$PATH:/usr/sbin:/sbin" command -v "$1" 2>/dev/null) || {
    blog "$1 not found; the project's setup installs it (apt-get install $2)"
    exit 1
  }
  printf '%s\n' "$path"
}

# Sets BPY to a python with Pillow.
ensure_python() {
  if ! "$BENCH_PY_VENV/bin/python" -c 'import PIL' 2>/dev/null; then
    blog "creating venv $BENCH_PY_VENV with Pillow"
    python3 -m venv "$BENCH_PY_VENV" && "$BENCH_PY_VENV/bin/pip" install --quiet "Pillow==$PILLOW_VERSION" || exit 1
  fi
  BPY="$BENCH_PY_VENV/bin/python"
}

blib() { "$BPY" "$BENCH_DIR/benchlib.py" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Builds the release binary unless NIMBUS_BIN was given or NIMBUS_BENCH_NO_BUILD=1.
build_nimbus() {
  if [[ -n "${NIMBUS_BIN:-}" || "${NIMBUS_BENCH_NO_BUILD:-0}" == 1 ]]; then
    NIMBUS_BIN=${NIMBUS_BIN:-$ROOT/target/release/nimbus}
  else
    blog "cargo build --release -p nimbus-cli"
    (cd "$ROOT" && cargo build --release -p nimbus-cli) || exit 1
    NIMBUS_BIN=$ROOT/target/release/nimbus
  fi
  [[ -x "$NIMBUS_BIN" ]] || { blog "no server binary at $NIMBUS_BIN"; exit 1; }
}

# start_nimbus WORKDIR: starts the server on a free port with a data dir under WORKDIR.
start_nimbus() {
  NIMBUS_DATA="$1/nimbus-data"
  mkdir -p "$NIMBUS_DATA"
  NIMBUS_PORT=$(free_port)
  CLOUDINARY_URL="cloudinary://$BENCH_KEY:$BENCH_SECRET@$BENCH_CLOUD" RUST_LOG=${RUST_LOG:-warn} \
    "$NIMBUS_BIN" serve --listen "127.0.0.1:$NIMBUS_PORT" --data-dir "$NIMBUS_DATA" \
    >"$1/nimbus.log" 2>&1 &
  NIMBUS_PID=$!
  blib wait-healthy "http://127.0.0.1:$NIMBUS_PORT/healthz" 60 || { tail -n 30 "$1/nimbus.log" >&2; exit 1; }
  export NIMBUS_BENCH_BASE="http://127.0.0.1:$NIMBUS_PORT" NIMBUS_BENCH_CLOUD=$BENCH_CLOUD \
    NIMBUS_BENCH_KEY=$BENCH_KEY NIMBUS_BENCH_SECRET=$BENCH_SECRET
  blog "nimbus $NIMBUS_BIN up on $NIMBUS_BENCH_BASE (pid $NIMBUS_PID)"
}

stop_nimbus() {
  if [[ -n "$NIMBUS_PID" ]] && kill -0 "$NIMBUS_PID" 2>/dev/null; then
    kill -TERM "$NIMBUS_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$NIMBUS_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$NIMBUS_PID" 2>/dev/null; then
      blog "nimbus did not stop within 10 s of SIGTERM; killing it"
      kill -KILL "$NIMBUS_PID" 2>/dev/null || true
    fi
    wait "$NIMBUS_PID" 2>/dev/null || true
  fi
  NIMBUS_PID=
}

# The machine the numbers came from.
machine_line() {
  printf '%s cores, %s, %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    "$(uname -sr)"
}
