#!/bin/sh
# Installs the Rust targets the build needs, for every target in targets/
# built with rustup's std (BUILD=rustup). Safe to rerun; does nothing when
# all are there. Targets built with nightly -Zbuild-std are set up by the
# cross build when it lands.
set -eu
cd "$(dirname "$0")/.."
command -v rustup >/dev/null 2>&1 || { echo "cross/setup.sh: rustup is needed" >&2; exit 1; }
installed=$(rustup target list --installed)
for f in targets/*.env; do
    TRIPLE='' BUILD=''
    . "./$f"
    [ "$BUILD" = rustup ] || continue
    echo "$installed" | grep -qx "$TRIPLE" || rustup target add "$TRIPLE"
done
