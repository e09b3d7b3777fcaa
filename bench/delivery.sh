#!/usr/bin/env bash
# Delivery throughput of originals: Nimbus vs nginx serving the same files from disk.
#
# Builds target/release/nimbus, starts it on a temporary data dir, uploads a ~30 KB and a ~1 MB
# JPEG, starts nginx (non-daemon, generated config, another port) on copies of the same files,
# then runs `wrk -t2 -c32 -d10s` against each server for each size, three rounds alternating
# nimbus/nginx, and prints the median requests/second and the ratio nimbus/nginx.
#
#   NIMBUS_BENCH_DURATION   wrk duration per run (default 10s)
#   NIMBUS_BENCH_ROUNDS     rounds per size (default 3)
#   NIMBUS_BENCH_CONNS      wrk connections (default 32); NIMBUS_BENCH_THREADS wrk threads (default 2)
#   plus the variables of bench/lib.sh (NIMBUS_BIN, NIMBUS_BENCH_NO_BUILD, NIMBUS_BENCH_OUT, ...)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=${NIMBUS_BENCH_DURATION:-10s}
ROUNDS=${NIMBUS_BENCH_ROUNDS:-3}
CONNS=${NIMBUS_BENCH_CONNS:-32}
THREADS=${NIMBUS_BENCH_THREADS:-2}

WRK=$(need_tool wrk wrk) || exit 1
NGINX=$(need_tool nginx nginx-light) || exit 1
ensure_python
build_nimbus

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-bench-delivery.XXXXXX")
OUT=${NIMBUS_BENCH_OUT:-$BENCH_DIR/out}/delivery-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
NGINX_PID=
cleanup() {
  set +e
  stop_nimbus
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- files ------------------------------------------------------------------------------------
FILES="$WORK/www"
mkdir -p "$FILES"
blib jpeg "$FILES/small.jpg" 30000 1 >/dev/null
blib jpeg "$FILES/large.jpg" 1000000 2 >/dev/null
SIZES=(small large)
declare -A BYTES
for s in "${SIZES[@]}"; do BYTES[$s]=$(stat -c %s "$FILES/$s.jpg"); done
# nginx workers may run as another user: make the tree readable.
chmod 755 "$WORK" "$FILES"
chmod 644 "$FILES"/*.jpg

# --- nimbus -----------------------------------------------------------------------------------
start_nimbus "$WORK"
declare -A NIMBUS_URL NGINX_URL
for s in "${SIZES[@]}"; do
  NIMBUS_URL[$s]=$(blib upload "$FILES/$s.jpg" "bench/$s")
done

# --- nginx ------------------------------------------------------------------------------------
NGINX_PORT=$(free_port)
NGX="$WORK/nginx"
mkdir -p "$NGX/tmp"
USER_LINE=
[[ $EUID -eq 0 ]] && USER_LINE="user root;"
cat >"$NGX/nginx.conf" <<EOF
$USER_LINE
daemon off;
worker_processes auto;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=100 inactive=60s;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $FILES;
  }
}
EOF
"$NGINX" -c "$NGX/nginx.conf" -p "$NGX" >"$NGX/stdout.log" 2>&1 &
NGINX_PID=$!
blib wait-healthy "http://127.0.0.1:$NGINX_PORT/small.jpg" 20 || { cat "$NGX/error.log" "$NGX/stdout.log" >&2; exit 1; }
for s in "${SIZES[@]}"; do NGINX_URL[$s]="http://127.0.0.1:$NGINX_PORT/$s.jpg"; done

# A cached derivative (a 300x200 fill of the large image): rendered once here, then served by
# Nimbus from its blob store and by nginx as a plain file with the same bytes.
NIMBUS_URL[derived]=$(sed 's#/image/upload/#/image/upload/c_fill,h_200,w_300/#' <<<"${NIMBUS_URL[large]}")
curl -sf --noproxy '*' "${NIMBUS_URL[derived]}" -o "$FILES/derived.jpg" || { blog "rendering the derivative failed"; exit 1; }
chmod 644 "$FILES/derived.jpg"
NGINX_URL[derived]="http://127.0.0.1:$NGINX_PORT/derived.jpg"
SIZES+=(derived)
BYTES[derived]=$(stat -c %s "$FILES/derived.jpg")

# Both must serve identical bytes.
for s in "${SIZES[@]}"; do
  a=$(curl -sf --noproxy '*' "${NIMBUS_URL[$s]}" | md5sum | cut -d' ' -f1)
  b=$(curl -sf --noproxy '*' "${NGINX_URL[$s]}" | md5sum | cut -d' ' -f1)
  [[ "$a" == "$b" ]] || { blog "nimbus and nginx serve different bytes for $s ($a vs $b)"; exit 1; }
done

# --- runs -------------------------------------------------------------------------------------
run_wrk() { # name size round url
  local f="$OUT/$1-$2-$3.txt"
  "$WRK" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$4" >"$f" 2>&1 || { cat "$f" >&2; exit 1; }
  blib wrk-rps "$f" || { cat "$f" >&2; exit 1; }
}

blog "warm-up"
for s in "${SIZES[@]}"; do
  "$WRK" -t1 -c4 -d1s "${NIMBUS_URL[$s]}" >/dev/null
  "$WRK" -t1 -c4 -d1s "${NGINX_URL[$s]}" >/dev/null
done

declare -A RPS
for s in "${SIZES[@]}"; do
  for r in $(seq 1 "$ROUNDS"); do
    n=$(run_wrk nimbus "$s" "$r" "${NIMBUS_URL[$s]}")
    g=$(run_wrk nginx "$s" "$r" "${NGINX_URL[$s]}")
    RPS[nimbus-$s]="${RPS[nimbus-$s]:-} $n"
    RPS[nginx-$s]="${RPS[nginx-$s]:-} $g"
    blog "$s round $r: nimbus $n req/s, nginx $g req/s"
  done
done

{
  echo "Delivery of originals and of a cached derivative, wrk -t$THREADS -c$CONNS -d$DURATION, median of $ROUNDS rounds (alternating)"
  echo "machine: $(machine_line)"
  echo "nimbus: $NIMBUS_BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'no commit'))"
  echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*version: //'), sendfile, open_file_cache, worker_processes auto"
  printf '%-6s %10s %14s %14s %8s   %s\n' size bytes 'nimbus req/s' 'nginx req/s' ratio 'rounds (nimbus | nginx)'
  for s in "${SIZES[@]}"; do
    read -ra rn <<<"${RPS[nimbus-$s]}"
    read -ra rg <<<"${RPS[nginx-$s]}"
    mn=$(blib median "${rn[@]}"); mg=$(blib median "${rg[@]}")
    ratio=$(python3 -c "print('%.2f' % ($mn / $mg))")
    printf '%-6s %10s %14s %14s %8s   %s |%s\n' "$s" "${BYTES[$s]}" "$mn" "$mg" "$ratio" "${RPS[nimbus-$s]}" "${RPS[nginx-$s]}"
  done
} | tee "$OUT/summary.txt"
blog "raw wrk reports in $OUT"
