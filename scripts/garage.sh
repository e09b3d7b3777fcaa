#!/usr/bin/env bash
# A single-node Garage (S3-compatible object storage) for Nimbus's tests and benchmarks.
#
#   scripts/garage.sh install        build garage once into the tool cache (about 20 min on
#                                    2 cores; nothing to do when it is there)
#   scripts/garage.sh start DIR      start a server with its data in DIR, a `nimbus` bucket
#                                    and a key; prints `export ...` lines for the AWS_* variables
#                                    and NIMBUS_TEST_BLOB_URL (eval them)
#   scripts/garage.sh stop DIR       stop it
#
# The binary lives outside the clone: $NIMBUS_TOOLS (default ~/.cache/nimbus-tools)/bin/garage.
set -euo pipefail

GARAGE_VERSION=2.5.0
TOOLS=${NIMBUS_TOOLS:-$HOME/.cache/nimbus-tools}
BIN="$TOOLS/bin/garage"
# Free loopback ports, so that several servers (a CI run beside a developer's) never meet.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Test credentials (Garage's formats: GK + 24 hex, 64 hex).
KEY_ID=GK6e696d6275732d7465737431
KEY_SECRET=6e696d6275732d746573742d7365637265742d6b65792d666f722d6761726167
BUCKET=nimbus

log() { printf '[garage] %s\n' "$*" >&2; }

have_garage() { [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$GARAGE_VERSION"; }

install() {
  if have_garage; then return 0; fi
  mkdir -p "$TOOLS"
  # One build at a time: CI starts one in the background early, the test script waits for it.
  exec 9>"$TOOLS/.garage.lock"
  flock 9
  if have_garage; then return 0; fi
  log "building garage $GARAGE_VERSION into $TOOLS (once; about 20 minutes on 2 cores)"
  cargo install --locked --quiet "garage@$GARAGE_VERSION" --root "$TOOLS"
}

start() {
  local dir=$1
  have_garage || { log "garage is not installed: run scripts/garage.sh install"; exit 1; }
  local S3_PORT RPC_PORT ADMIN_PORT
  S3_PORT=$(free_port)
  RPC_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
  mkdir -p "$dir/meta" "$dir/data"
  cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC_PORT"
rpc_public_addr = "127.0.0.1:$RPC_PORT"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$S3_PORT"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$ADMIN_PORT"
EOF
  local g=("$BIN" -c "$dir/garage.toml")
  "${g[@]}" server >"$dir/garage.log" 2>&1 &
  echo $! >"$dir/garage.pid"
  local node=""
  for _ in $(seq 1 100); do
    node=$("${g[@]}" node id -q 2>/dev/null | cut -d@ -f1) && [[ -n "$node" ]] && break
    sleep 0.2
  done
  [[ -n "$node" ]] || { log "garage did not start; log:"; tail -n 20 "$dir/garage.log" >&2; exit 1; }
  local up=""
  for _ in $(seq 1 100); do
    "${g[@]}" status >/dev/null 2>&1 && { up=1; break; }
    sleep 0.2
  done
  [[ -n "$up" ]] || { log "garage does not answer; log:"; tail -n 20 "$dir/garage.log" >&2; exit 1; }
  "${g[@]}" layout assign -z dc1 -c 1G "$node" >/dev/null
  "${g[@]}" layout apply --version 1 >/dev/null
  for _ in $(seq 1 50); do
    "${g[@]}" bucket create "$BUCKET" >/dev/null 2>&1 && break
    sleep 0.2
  done
  "${g[@]}" key import --yes -n nimbus-test "$KEY_ID" "$KEY_SECRET" >/dev/null
  "${g[@]}" bucket allow --read --write --owner "$BUCKET" --key "$KEY_ID" >/dev/null
  cat <<EOF
export AWS_ENDPOINT=http://127.0.0.1:$S3_PORT
export AWS_REGION=garage
export AWS_ACCESS_KEY_ID=$KEY_ID
export AWS_SECRET_ACCESS_KEY=$KEY_SECRET
export AWS_ALLOW_HTTP=true
export NIMBUS_TEST_BLOB_URL=s3://$BUCKET
EOF
}

stop() {
  local dir=$1
  if [[ -f "$dir/garage.pid" ]]; then
    kill "$(cat "$dir/garage.pid")" 2>/dev/null || true
    rm -f "$dir/garage.pid"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?data dir}" ;;
  stop) stop "${2:?data dir}" ;;
  *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
