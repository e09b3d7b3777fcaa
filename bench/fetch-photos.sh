#!/usr/bin/env bash
# Fetches a set of real photographs for the image benchmarks: the JPEG wallpapers of Debian's
# mate-backgrounds package, downloaded with apt (no install) and unpacked into the cache.
#
#   NIMBUS_BENCH_CACHE   cache directory (default ~/.cache/nimbus/bench)
#
# Prints the absolute paths of the JPEGs, one per line, on stdout (progress goes to stderr).
# The list is also written to $NIMBUS_BENCH_CACHE/photos.txt.
set -euo pipefail

CACHE=${NIMBUS_BENCH_CACHE:-$HOME/.cache/nimbus/bench}
PKG=mate-backgrounds
DEST="$CACHE/$PKG"
LIST="$CACHE/photos.txt"

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "fetch-photos: $tool not found (Debian/Ubuntu only)" >&2; exit 1; }
done
mkdir -p "$CACHE"

if [[ ! -d "$DEST/usr" ]]; then
  work=$(mktemp -d "$CACHE/.download.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "fetch-photos: downloading $PKG into $CACHE" >&2
  # apt-get download writes into the current directory and needs no root.
  if ! (cd "$work" && apt-get download "$PKG" >&2); then
    echo "fetch-photos: 'apt-get download $PKG' failed; run 'apt-get update' first?" >&2
    exit 1
  fi
  deb=$(find "$work" -maxdepth 1 -name "${PKG}_*.deb" | head -n 1)
  rm -rf "$DEST.tmp"
  dpkg-deb -x "$deb" "$DEST.tmp"
  mv "$DEST.tmp" "$DEST"
fi

find "$DEST" -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | sort >"$LIST"
count=$(wc -l <"$LIST")
if [[ "$count" -eq 0 ]]; then
  echo "fetch-photos: no JPEGs found in $DEST" >&2
  exit 1
fi
echo "fetch-photos: $count JPEGs listed in $LIST" >&2
cat "$LIST"
