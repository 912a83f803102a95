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
            # shellcheck disable=SC2046
            if is_native; then
                CARGO_TARGET_DIR=$(target_dir) cargo build --release --target "$TRIPLE" $(feature_args)
            else
                CARGO_TARGET_DIR=$(target_dir) cargo zigbuild --release --target "$TRIPLE" $(feature_args)
            fi
            ;;
        build-std)
            # shellcheck disable=SC2046
            CARGO_TARGET_DIR=$(target_dir) build_std $(feature_args)
            ;;
        *)
            echo "targets/$name.env: unknown BUILD '$BUILD'" >&2
            exit 2
            ;;
    esac
    ls -l "$(bin_path)" >&2
done
