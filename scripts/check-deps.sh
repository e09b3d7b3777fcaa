#!/usr/bin/env bash
# Guards the dependency direction of the architecture: the pure core never pulls in
# async runtimes, SQL, HTTP or storage crates, and the HTTP layer never touches SQL.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
deps() { cargo tree --locked -p "$1" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u; }
core=$(deps nimbus-core)
for banned in tokio sqlx sqlx-core axum hyper object_store reqwest image; do
  if grep -qx "$banned" <<<"$core"; then echo "nimbus-core depends on $banned" >&2; fail=1; fi
done
api=$(deps nimbus-api)
for banned in sqlx sqlx-core object_store; do
  if grep -qx "$banned" <<<"$api"; then echo "nimbus-api depends on $banned" >&2; fail=1; fi
done
console=$(deps nimbus-console)
for banned in sqlx sqlx-core object_store nimbus-api nimbus-db; do
  if grep -qx "$banned" <<<"$console"; then echo "nimbus-console depends on $banned" >&2; fail=1; fi
done
app=$(deps nimbus-app)
for banned in sqlx sqlx-core axum object_store; do
  if grep -qx "$banned" <<<"$app"; then echo "nimbus-app depends on $banned" >&2; fail=1; fi
done
[[ $fail == 0 ]] && echo "dependency direction: ok"
exit $fail
