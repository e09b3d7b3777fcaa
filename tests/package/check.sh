#!/usr/bin/env bash
# The packages install and run: builds them (scripts/package.sh), installs the .deb with dpkg
# into a scratch root (no container, nothing outside that root is touched), checks what it
# holds, starts the installed binary on the installed configuration, asks /healthz, stops it
# with SIGTERM, removes the package; then unpacks the tarball and runs its binary.
# NIMBUS_BIN: pack that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "[package] FAIL $*" >&2; exit 1; }
ok() { echo "[package] PASS $*"; }

mapfile -t built < <(bash scripts/package.sh)
deb=${built[0]}
tarball=${built[1]}
[[ -f "$deb" && -f "$tarball" ]] || fail "scripts/package.sh built ${built[*]}"

scratch=$(mktemp -d)
server=
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT
root="$scratch/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg=(dpkg --root="$root" --force-script-chrootless --force-not-root --force-depends)
# The scratch root has no libc6 or adduser package: dependencies are forced and reported.
"${dpkg[@]}" -i "$deb" >"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log" >&2; fail "dpkg -i"; }
"${dpkg[@]}" -s nimbus | grep -q '^Status: install ok installed' || fail "dpkg does not list nimbus as installed"
"${dpkg[@]}" -s nimbus | grep -q '/etc/nimbus/nimbus.toml' || fail "the configuration is not a conffile"
ok "dpkg -i into a scratch root"
for f in usr/bin/nimbus lib/systemd/system/nimbus.service etc/nimbus/nimbus.toml usr/share/doc/nimbus/copyright; do
  [[ -e "$root/$f" ]] || fail "missing /$f"
done
unit="$root/lib/systemd/system/nimbus.service"
for line in "User=nimbus" "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" "UMask=0077" \
            "ExecStart=/usr/bin/nimbus serve --config /etc/nimbus/nimbus.toml"; do
  grep -qx "$line" "$unit" || fail "unit lacks $line"
done
grep -q '^data_dir = "/var/lib/nimbus"' "$root/etc/nimbus/nimbus.toml" || fail "config data_dir"
ok "files, hardened unit, configuration"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify --root="$root" "$unit" >/dev/null 2>&1 && ok "systemd-analyze verify" || echo "[package] note: systemd-analyze verify could not run here"
fi

bin="$root/usr/bin/nimbus"
"$bin" --version | grep -Eq '^nimbus [0-9.]+ \(commit' || fail "--version"
"$bin" config check "$root/etc/nimbus/nimbus.toml" >/dev/null || fail "the installed configuration does not pass its check"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$root/var/lib/nimbus"
(cd / && CLOUDINARY_URL= NIMBUS_LOG=warn exec "$bin" serve --config "$root/etc/nimbus/nimbus.toml" \
  --data-dir "$root/var/lib/nimbus" --listen "127.0.0.1:$port") >"$scratch/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" | grep -q ok || { cat "$scratch/server.log" >&2; fail "installed binary: /healthz"; }
kill -TERM "$server"
wait "$server" || fail "installed binary: exit status after SIGTERM"
server=
ok "the installed binary serves /healthz and stops on SIGTERM"
"${dpkg[@]}" -r nimbus >>"$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log" >&2; fail "dpkg -r"; }
[[ ! -e "$root/usr/bin/nimbus" && -e "$root/etc/nimbus/nimbus.toml" ]] || fail "remove keeps only the conffile"
ok "dpkg -r removes the binary and keeps the configuration"

mkdir "$scratch/tar"
tar -C "$scratch/tar" -xzf "$tarball"
dir=$(ls "$scratch/tar")
for f in nimbus README.md LICENSE nimbus.example.toml nimbus.service; do
  [[ -e "$scratch/tar/$dir/$f" ]] || fail "tarball lacks $f"
done
"$scratch/tar/$dir/nimbus" --version >/dev/null || fail "tarball binary"
ok "tarball $(basename "$tarball")"
