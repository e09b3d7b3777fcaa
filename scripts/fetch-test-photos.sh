#!/usr/bin/env bash
# Fetches photographs of people for the face-detection tests: the sample images of Debian's
# python3-skimage package (the astronaut portrait among them), downloaded with apt (no
# install) and unpacked into the cache. Prints the directory holding the images.
#
#   NIMBUS_TEST_PHOTOS   cache directory (default ~/.cache/nimbus/test-photos)
set -euo pipefail

DEST=${NIMBUS_TEST_PHOTOS:-$HOME/.cache/nimbus/test-photos}
PKG=python3-skimage

if [[ ! -f "$DEST/astronaut.png" ]]; then
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "fetch-test-photos: $tool not found (Debian/Ubuntu only)" >&2; exit 1; }
  done
  mkdir -p "$DEST"
  work=$(mktemp -d "$DEST/.download.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "fetch-test-photos: downloading $PKG into $DEST" >&2
  (cd "$work" && apt-get download "$PKG" >&2) || {
    echo "fetch-test-photos: 'apt-get download $PKG' failed; run 'apt-get update' first?" >&2
    exit 1
  }
  dpkg-deb -x "$work"/${PKG}_*.deb "$work/x"
  find "$work/x" -path '*/skimage/data/*' \( -name 'astronaut.png' -o -name 'camera.png' \) -exec cp {} "$DEST/" \;
  [[ -f "$DEST/astronaut.png" ]] || { echo "fetch-test-photos: astronaut.png not in $PKG" >&2; exit 1; }
fi
echo "$DEST"
