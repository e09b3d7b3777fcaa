#!/usr/bin/env bash
# Builds the release binary and packs it two ways, into dist/:
#   nimbus_<version>_amd64.deb  /usr/bin/nimbus, a hardened systemd unit running as the
#                               `nimbus` user on /var/lib/nimbus, /etc/nimbus/nimbus.toml (a
#                               conffile), README and licence under /usr/share/doc/nimbus
#   nimbus-<version>-x86_64-linux.tar.gz
#                               the binary, README.md, LICENSE, nimbus.example.toml, the unit
# Uses dpkg-deb (Debian's own packer). NIMBUS_BIN: pack that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
if [[ -z "${NIMBUS_BIN:-}" ]]; then
  cargo build --release --locked -p nimbus-cli
  NIMBUS_BIN=target/release/nimbus
fi
dist=dist
rm -rf "$dist" && mkdir -p "$dist"

# --- Debian package ------------------------------------------------------------------------
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
install -D -m 0755 "$NIMBUS_BIN" "$root/usr/bin/nimbus"
install -D -m 0644 packaging/nimbus.service "$root/lib/systemd/system/nimbus.service"
install -d -m 0755 "$root/etc/nimbus"
# The example configuration, with the data directory the unit grants.
sed 's|^data_dir = .*|data_dir = "/var/lib/nimbus"|' nimbus.example.toml >"$root/etc/nimbus/nimbus.toml"
chmod 0644 "$root/etc/nimbus/nimbus.toml"
install -D -m 0644 README.md "$root/usr/share/doc/nimbus/README.md"
install -D -m 0644 SECURITY.md "$root/usr/share/doc/nimbus/SECURITY.md"
install -D -m 0644 LICENSE "$root/usr/share/doc/nimbus/copyright"
install -D -m 0755 packaging/postinst "$root/DEBIAN/postinst"
echo /etc/nimbus/nimbus.toml >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: nimbus
Version: $version
Architecture: amd64
Maintainer: Nimbus developers <nimbus@localhost>
Installed-Size: $size
Depends: libc6, adduser
Section: web
Priority: optional
Description: self-hosted media platform, wire-compatible with Cloudinary's APIs
 Upload, transform, deliver and search images, video and raw files on your own
 machines; the official Cloudinary SDKs work against it unchanged.
CONTROL
deb="$dist/nimbus_${version}_amd64.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"

# --- tarball ---------------------------------------------------------------------------------
name="nimbus-${version}-x86_64-linux"
stage=$(mktemp -d)
mkdir "$stage/$name"
install -m 0755 "$NIMBUS_BIN" "$stage/$name/nimbus"
cp README.md LICENSE SECURITY.md nimbus.example.toml packaging/nimbus.service "$stage/$name/"
tar -C "$stage" -czf "$dist/$name.tar.gz" "$name"
rm -rf "$stage"
echo "$dist/$name.tar.gz"
