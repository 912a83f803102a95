#!/bin/sh
# Sets up everything the cross build and its tests need, on a fresh Debian
# machine with rustup; does nothing that is already done.
#   - rustup targets for the targets built on stable (BUILD=rustup)
#   - the nightly toolchain's rust-src, for the build-std targets
#   - zig as the linker, through PyPI (ziglang, cargo-zigbuild; pinned)
#   - qemu-user-static to run the foreign binaries, busybox-static for the
#     init test (Debian packages)
set -eu
cd "$(dirname "$0")/.."
. cross/lib.sh
command -v rustup >/dev/null 2>&1 || { echo "cross/setup.sh: rustup is needed" >&2; exit 1; }

installed=$(rustup target list --installed)
need_nightly=""
need_qemu=""
for name in $(target_names); do
    load_target "$name"
    case "$BUILD" in
        rustup) echo "$installed" | grep -qx "$TRIPLE" || rustup target add "$TRIPLE" ;;
        build-std) need_nightly=1 ;;
    esac
    [ -z "$QEMU" ] || need_qemu=1
done

if [ -n "$need_nightly" ]; then
    rustup toolchain list | grep -q "^$NIGHTLY" ||
        rustup toolchain install "$NIGHTLY" --profile minimal
    rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^rust-src' ||
        rustup component add rust-src --toolchain "$NIGHTLY"
fi

# zig links every foreign target (and the build-std ones need no
# self-contained crt objects from Rust).
if ! command -v cargo-zigbuild >/dev/null 2>&1 || ! python3 -m ziglang version >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    python3 -m pip install --quiet $ZIG_PIP
fi

apt_need=""
if [ -n "$need_qemu" ] && ! command -v qemu-arm-static >/dev/null 2>&1; then
    apt_need="$apt_need qemu-user-static"
fi
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx init || apt_need="$apt_need busybox-static"
if [ -n "$apt_need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "cross/setup.sh: missing$apt_need; run as root or install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $apt_need >/dev/null
fi
