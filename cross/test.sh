#!/bin/sh
# Runs the black-box test suite against each target's binary under
# qemu-user (natively for x86_64): the same tests, every target.
#   cross/test.sh              # every built target
#   cross/test.sh armv7 mips   # some
#   CROSS_JOBS=1 cross/test.sh # one target at a time (default: 2 at once)
# Big-endian MIPS and 32-bit ARM are where byte-order and 64-bit atomics
# bugs hide (an ICMP checksum, a protobuf varint); this is what finds them. A target that is not built fails.
set -eu
cd "$(dirname "$0")/.."
. cross/lib.sh
# Build the test binaries once, for the host.
cargo test --no-run --test http --test exposition --test config --test signals --test chrony --test unbound --test push --test mounts --test checks --test logs --test icmp --test notify --test watch --test auth 2>/dev/null ||
    cargo test --no-run --test http --test exposition --test config --test signals --test chrony --test unbound --test push --test mounts --test checks --test logs --test icmp --test notify --test watch --test auth
# The suites mostly wait (on daemons, on deadlines, on qemu's start-up):
# a whole run kept one of two cores busy. Targets run in CROSS_JOBS lanes,
# each lane its targets one after another, each target's output in a file
# shown whole when the lanes are done. Every test works in its own
# scratch directory, on free ports, in namespaces it made, so two
# targets' suites do not meet.
LOGS=target/cross-test
rm -rf "$LOGS" && mkdir -p "$LOGS"

# One target's suites; its failures appended to $LOGS/failed.
one_target() {
    name=$1
    failed=""
    load_target "$name"
    bin=$(bin_path)
    if [ ! -f "$bin" ]; then
        echo "cross/test.sh: $name not built ($bin); run make cross" >&2
        echo " $name" >>"$LOGS/failed"
        return
    fi
    runner=""
    is_native || runner=$(command -v "$QEMU") || {
        echo "cross/test.sh: $QEMU not found; run cross/setup.sh" >&2
        echo " $name($QEMU)" >>"$LOGS/failed"
        return
    }
    echo "== $name: $bin ${runner:+under $runner}" >&2
    # shellcheck disable=SC2046
    if ! SONDE_BIN="$PWD/$bin" SONDE_RUNNER="$runner" \
        cargo test $(feature_args) --test http --test exposition --test config --test signals --test chrony --test unbound --test mounts --test checks \
            --test icmp --test auth; then
        failed="$failed $name"
    fi
    # Thumb code on ARMv6 does its atomics by calls to sonde's own ARM
    # functions (agent/src/sys/arm_sync.rs): four threads contend on each.
    if [ -n "$ATOMICS" ]; then
        if ! (cd cross/atomics && CARGO_TARGET_DIR=$ROOT/$(target_dir) build_std -q) ||
            ! $runner "$(target_dir)/$TRIPLE/release/atomics"; then
            failed="$failed $name(atomics)"
        fi
    fi
    # Push to real receivers on loopback: byte order and 32-bit counters
    # end up in the protobuf, the snappy stream and the spool records.
    # (The namespace and SIGKILL tests stay native: they run the binary
    # without the runner.) With the tls feature, https too: rustls and
    # ring on the target's own arithmetic.
    # shellcheck disable=SC2046
    if ! SONDE_BIN="$PWD/$bin" SONDE_RUNNER="$runner" \
        cargo test $(feature_args) --test push -- prometheus_and once_mode status_codes https; then
        failed="$failed $name(push)"
    fi
    # Logs to real rsyslog and syslog-ng: positions, the journal and the
    # spool are written in the target's byte order and read back across a
    # SIGKILL; with the tls feature, TLS to both receivers.
    # shellcheck disable=SC2046
    if ! SONDE_BIN="$PWD/$bin" SONDE_RUNNER="$runner" cargo test $(feature_args) --test logs; then
        failed="$failed $name(logs)"
    fi
    # Notifications: the spool's records and the state file written and
    # read back, JSON and SMTP on the target's own byte order and 32-bit
    # counters, against a webhook receiver and exim.
    # shellcheck disable=SC2046
    if ! SONDE_BIN="$PWD/$bin" SONDE_RUNNER="$runner" \
        cargo test $(feature_args) --test notify -- webhook mails_arrive once_runs; then
        failed="$failed $name(notify)"
    fi
    # The watchdog: its state file, /proc/PID/stat's 64-bit start times and
    # the programs it starts, on the target's word size, against nginx
    # and exim. (The soak and SIGKILL tests look at sonde's own process,
    # which is the runner here: they stay native.)
    # shellcheck disable=SC2046
    if ! SONDE_BIN="$PWD/$bin" SONDE_RUNNER="$runner" \
        cargo test $(feature_args) --test watch -- a_killed once_runs file_changes; then
        failed="$failed $name(watch)"
    fi
    [ -z "$failed" ] || echo "$failed" >>"$LOGS/failed"
}

names=$(target_names "$@")
jobs=${CROSS_JOBS:-2}
lane=0
while [ "$lane" -lt "$jobs" ]; do
    # Lane k takes targets k, k+jobs, k+2*jobs... (round robin).
    mine=$(echo "$names" | tr ' ' '\n' | awk -v k="$lane" -v n="$jobs" 'NF && (NR - 1) % n == k')
    (
        for name in $mine; do
            start=$(date +%s)
            one_target "$name" >"$LOGS/$name.log" 2>&1
            echo "cross/test.sh: $name done in $(($(date +%s) - start)) s" >>"$LOGS/$name.log"
        done
    ) &
    lane=$((lane + 1))
done
wait
for name in $names; do
    cat "$LOGS/$name.log" >&2
done
if [ -s "$LOGS/failed" ]; then
    echo "cross/test.sh: failed on:$(tr -d '\n' <"$LOGS/failed")" >&2
    exit 1
fi
