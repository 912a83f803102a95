#!/bin/sh
# Builds sonde for every target in targets/ (or the ones named):
#   cross/build.sh                 # all
#   cross/build.sh armv7 mips      # some
# Native x86_64 uses plain cargo; other rustup targets link with zig
# (cargo-zigbuild); build-std targets rebuild std on nightly. Run
# cross/setup.sh first (make cross does).
set -eu
cd "$(dirname "$0")/.."
. cross/lib.sh
for name in $(target_names "$@"); do
    load_target "$name"
    echo "== $name ($TRIPLE, $BUILD)" >&2
    case "$BUILD" in
        rustup)
            if is_native; then
                cargo build --release --target "$TRIPLE"
            else
                cargo zigbuild --release --target "$TRIPLE"
            fi
            ;;
        build-std)
            # MIPS needs non-PIC code to run (DESIGN.md, Cross building).
            extra=""
            case "$TRIPLE" in mips*) extra="-C relocation-model=static" ;; esac
            # shellcheck disable=SC2086
            CARGO_TARGET_DIR=target/cross RUSTFLAGS="$BUILD_STD_RUSTFLAGS $extra" \
                cargo "+$NIGHTLY" zigbuild --release --target "$TRIPLE" $BUILD_STD_FLAGS
            ;;
        *)
            echo "targets/$name.env: unknown BUILD '$BUILD'" >&2
            exit 2
            ;;
    esac
    ls -l "$(bin_path)" >&2
done
