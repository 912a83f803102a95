# Shared by the cross scripts: reading targets/ and where each build goes.
# Source it from the repository root.

# The toolchain and flags of a build-std build: nightly rebuilds std with
# optimize_for_size and panic=immediate-abort (no unwinder, no backtrace
# printer: less than half the size), linked by zig without Rust's own
# self-contained crt objects. Nothing unwinds (a panic aborts at once), so
# no unwind tables either: rustc emits them on x86_64, i686, AArch64 and
# MIPS unless told not to, and they were 140 KiB of the x86_64 binary
# (.eh_frame; 967,640 -> 827,496 bytes, measured). A debugger still walks
# the stack with the debug info of a `make size-detail` build.
NIGHTLY=${NIGHTLY:-nightly}
ROOT=$PWD
BUILD_STD_FLAGS="-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size"
BUILD_STD_RUSTFLAGS="-C link-self-contained=no -Zunstable-options -Cpanic=immediate-abort -C force-unwind-tables=no"
# pip versions of the linker, pinned so a fresh machine links the same way.
ZIG_PIP="ziglang==0.17.1 cargo-zigbuild==0.24.0"

# Loads targets/NAME.env into TRIPLE BUILD QEMU BUDGET_KIB FEATURES
# RUSTFLAGS_EXTRA WRAPPER ATOMICS.
load_target() {
    TRIPLE='' BUILD='' QEMU='' BUDGET_KIB='' FEATURES='' RUSTFLAGS_EXTRA='' WRAPPER='' ATOMICS=''
    . "./targets/$1.env"
}

# `cargo zigbuild` of a build-std target (loaded) with its flags and
# wrapper, arguments after; run where the package's Cargo.toml is.
# Every build-std target is linked as a static executable, not PIE
# (zig's link; `file` says "executable"), so its code is compiled
# non-PIC too: MIPS needs that to run (DESIGN.md, Cross building), and
# elsewhere position-independent code only paid for an indirection
# nothing used (i686 -58 KB: no PC-relative data there; armv6 -9 KB,
# armv7 -8 KB, x86_64 -12 KB). Not aarch64, where PC-relative addressing
# is free and static code came out 1.3 KB larger. Every link drops what
# nothing reads at run time (cross/discard.ld); a target's WRAPPER (a
# script in cross/) sees every rustc call.
build_std() {
    extra="-C link-arg=-Wl,-T,$ROOT/cross/discard.ld"
    case "$TRIPLE" in aarch64*) ;; *) extra="$extra -C relocation-model=static" ;; esac
    RUSTFLAGS="$BUILD_STD_RUSTFLAGS $RUSTFLAGS_EXTRA $extra" RUSTC_WRAPPER="${WRAPPER:+$ROOT/$WRAPPER}" \
        cargo "+$NIGHTLY" zigbuild --release --target "$TRIPLE" $BUILD_STD_FLAGS "$@"
}

# `--features sonde/F` for a target with cargo features, else nothing.
feature_args() {
    [ -z "$FEATURES" ] || echo "--features sonde/$FEATURES"
}

# The names of every target, or of those given.
target_names() {
    if [ $# -gt 0 ]; then
        echo "$@"
    else
        for f in targets/*.env; do basename "$f" .env; done
    fi
}

# Where a target's build goes: build-std builds have a target dir of their
# own, so nightly's host artifacts never evict the stable ones.
target_dir() {
    case "$BUILD" in
        build-std) echo "target/cross${FEATURES:+-$FEATURES}" ;;
        *) echo "target${FEATURES:+/with-$FEATURES}" ;;
    esac
}

bin_path() {
    echo "$(target_dir)/$TRIPLE/release/sonde"
}

# Whether the target runs natively on this machine.
is_native() {
    [ -z "$QEMU" ]
}
