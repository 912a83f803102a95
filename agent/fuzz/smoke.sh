#!/bin/sh
# Builds every fuzz target and runs each for a short while: a smoke test
# that the codecs survive arbitrary input, not a fuzzing campaign.
#
#   agent/fuzz/smoke.sh                  # 20 s per target
#   FUZZ_SECONDS=300 agent/fuzz/smoke.sh # longer
#   agent/fuzz/smoke.sh proc_stat        # some targets only
#
# Exits non-zero if any target crashes, hangs or fails to build. Needs
# rustup; installs the nightly toolchain and cargo-fuzz when missing.
set -eu

cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
SECONDS_EACH=${FUZZ_SECONDS:-20}
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
# A single input taking longer than this is reported as a hang.
TIMEOUT=${FUZZ_TIMEOUT:-5}
LOGS=$FUZZ_DIR/target/smoke
SEEDS_REPO=$FUZZ_DIR/seeds

say() { printf 'smoke: %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
    say "rustup not found; install it from https://rustup.rs"
    exit 2
fi
if ! rustup toolchain list | grep -q "^$TOOLCHAIN"; then
    say "installing the $TOOLCHAIN toolchain (cargo-fuzz needs nightly)"
    rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
# libfuzzer-sys compiles libFuzzer itself, which is C++.
if ! command -v c++ >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing g++ (libFuzzer is built from C++ source)"
        apt-get update -q && apt-get install -y -q g++
    else
        say "a C++ compiler is needed: apt-get install g++ (or build-essential)"
        exit 2
    fi
fi

# --- seeds -------------------------------------------------------------
# Real files of this machine, plus the committed hand-made hostile ones.
seed() { # target file name
    mkdir -p "corpus/$1"
    if [ -r "$2" ]; then
        # /proc files report size 0; cat reads them to the end.
        cat "$2" >"corpus/$1/$3"
    fi
}
seed proc_meminfo /proc/meminfo real-meminfo
seed proc_stat /proc/stat real-stat
seed proc_loadavg /proc/loadavg real-loadavg
seed config_syntax ../src/config/default.toml default.toml
# YAML: blackbox_exporter's own file where its Debian package is installed,
# and the Prometheus rule files among the examples.
seed yaml /etc/prometheus/blackbox.yml real-blackbox.yml
for f in ../../examples/prometheus/*.yml; do [ -f "$f" ] && seed yaml "$f" "$(basename "$f")"; done
# The host collectors' files: this machine's, and the fixture trees'
# (tests/fixtures/README.md), which hold what this machine may not have.
seed proc_net_dev /proc/net/dev real-net-dev
seed proc_net_snmp /proc/net/snmp real-snmp
seed proc_net_snmp /proc/net/netstat real-netstat
seed proc_net_snmp6 /proc/net/snmp6 real-snmp6
seed proc_net_sockstat /proc/net/sockstat real-sockstat
seed proc_net_sockstat /proc/net/sockstat6 real-sockstat6
seed proc_net_arp /proc/net/arp real-arp
seed proc_net_udp /proc/net/udp real-udp
seed proc_softnet_stat /proc/net/softnet_stat real-softnet-stat
seed proc_nf_conntrack_stat /proc/net/stat/nf_conntrack real-nf-conntrack
seed proc_diskstats /proc/diskstats real-diskstats
seed proc_mountinfo /proc/self/mountinfo real-mountinfo
seed proc_pressure /proc/pressure/io real-pressure-io
seed proc_schedstat /proc/schedstat real-schedstat
seed proc_schedstat ../../tests/fixtures/node_exporter/proc/schedstat fixture-node-exporter-schedstat
seed proc_vmstat /proc/vmstat real-vmstat
# hwmon: the names of the fixture trees' sensor files, as inputs.
mkdir -p corpus/hwmon_file
for f in ../../tests/fixtures/*/sys/class/hwmon/*/* ../../tests/fixtures/*/sys/devices/platform/*/*_*; do
    [ -e "$f" ] && printf '%s' "${f##*/}" >"corpus/hwmon_file/name-${f##*/}"
done
for f in /sys/class/power_supply/*/* ../../tests/fixtures/*/sys/class/power_supply/*/*; do
    [ -f "$f" ] && seed proc_power_supply "$f" "$(echo "$f" | tr / _)"
done
seed proc_cpufreq /sys/devices/system/cpu/offline real-offline
seed proc_cpufreq /sys/devices/system/cpu/cpu0/cpufreq/scaling_available_governors real-governors
seed proc_cpufreq ../../tests/fixtures/sensors/sys/devices/system/cpu/cpufreq/policy0/scaling_available_governors fixture-sensors-governors
seed proc_file_nr /proc/sys/fs/file-nr real-file-nr
seed proc_pid_stat /proc/self/stat real-pid-stat
seed proc_number /proc/sys/kernel/pid_max real-pid-max
seed os_release /etc/os-release real-os-release
seed resolv /etc/resolv.conf real-resolv.conf
for f in ../../tests/fixtures/*/root/etc/os-release; do
    [ -f "$f" ] && seed os_release "$f" "$(basename "$(dirname "$(dirname "$(dirname "$f")")")")"
done
for f in ../../tests/fixtures/openwrt/proc/net/* ../../tests/fixtures/openwrt/proc/diskstats \
    ../../tests/fixtures/openwrt/proc/1/mountinfo ../../tests/fixtures/broken/proc/diskstats \
    ../../tests/fixtures/broken/proc/1/mountinfo ../../tests/fixtures/broken/proc/net/*; do
    [ -f "$f" ] || continue
    case "$f" in
    */net/dev) t=proc_net_dev ;; */net/snmp | */net/netstat) t=proc_net_snmp ;;
    */net/sockstat) t=proc_net_sockstat ;; */net/arp) t=proc_net_arp ;; */net/udp) t=proc_net_udp ;;
    */net/softnet_stat) t=proc_softnet_stat ;; */diskstats) t=proc_diskstats ;; */mountinfo) t=proc_mountinfo ;;
    *) continue ;;
    esac
    seed "$t" "$f" "fixture-$(echo "${f#../../tests/fixtures/}" | tr / _)"
done
# chronyd's replies as captured (tests/fixtures/chrony/README.md).
mkdir -p corpus/chrony_reply
for f in ../../tests/fixtures/chrony/*/*.reply.bin ../../tests/fixtures/chrony/*/*/*.reply.bin; do
    [ -f "$f" ] || continue
    v=${f#../../tests/fixtures/chrony/}
    cp "$f" "corpus/chrony_reply/$(echo "$v" | tr / _)"
done
# Unbound's replies as captured (tests/fixtures/unbound/*/README.md).
mkdir -p corpus/unbound_stats
for f in ../../tests/fixtures/unbound/*/stats_noreset*.txt; do
    [ -f "$f" ] || continue
    v=${f#../../tests/fixtures/unbound/}
    cp "$f" "corpus/unbound_stats/$(echo "$v" | tr / _)"
done
# Certificates made by openssl (tests/fixtures/x509/README.md), as DER.
mkdir -p corpus/x509_not_after
for f in ../../tests/fixtures/x509/*.pem; do
    [ -f "$f" ] && command -v openssl >/dev/null 2>&1 || continue
    openssl x509 -in "$f" -outform DER -out "corpus/x509_not_after/$(basename "$f" .pem).der" || true
done
for d in "$SEEDS_REPO"/*/; do
    [ -d "$d" ] || continue
    t=$(basename "$d")
    mkdir -p "corpus/$t"
    cp "$d"* "corpus/$t/"
done

# --- build -------------------------------------------------------------
if [ $# -gt 0 ]; then
    TARGETS=$*
else
    TARGETS=$(cargo "+$TOOLCHAIN" fuzz list)
fi
say "building: $(echo $TARGETS)"
cargo "+$TOOLCHAIN" fuzz build

# --- run ---------------------------------------------------------------
# libFuzzer runs a target on one core: JOBS targets run at once (the
# machine's cores), each writing its summary line to $LOGS/$t.line.
mkdir -p "$LOGS"
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}

run_one() { # target
    t=$1
    mkdir -p "corpus/$t"
    log=$LOGS/$t.log
    say "running $t for ${SECONDS_EACH}s"
    start=$(date +%s)
    if cargo "+$TOOLCHAIN" fuzz run "$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
        corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
        line="ok     $t: ${runs:-?} runs in $(($(date +%s) - start))s, cov ${cov:-?}, corpus ${corp:-?}"
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        line="CRASH  $t: ${artifact:-no artifact} (log: $log)"
        [ -z "$artifact" ] || echo "  cargo +$TOOLCHAIN fuzz run $t $artifact" >"$LOGS/$t.repro"
        # The panic message and where it came from.
        grep -E -A1 "panicked at" "$log" | head -n 4 >&2 || true
        grep -E "^(SUMMARY|==[0-9]+== ERROR)" "$log" | head -n 2 >&2 || true
    fi
    say "$line"
    echo "$line" >"$LOGS/$t.line"
}

rm -f "$LOGS"/*.line "$LOGS"/*.repro
lane=0
while [ "$lane" -lt "$JOBS" ]; do
    # Lane k takes targets k, k+JOBS, ... one after another.
    mine=$(echo $TARGETS | tr ' ' '\n' | awk -v k="$lane" -v n="$JOBS" 'NF && (NR - 1) % n == k')
    (for t in $mine; do run_one "$t"; done) &
    lane=$((lane + 1))
done
wait

summary=""
failed=""
for t in $TARGETS; do
    line=$(cat "$LOGS/$t.line" 2>/dev/null || echo "CRASH  $t: no result (log: $LOGS/$t.log)")
    summary="$summary$line
"
    case "$line" in ok*) ;; *) failed="$failed $t" ;; esac
done
printf '\n%s' "$summary"
if [ -n "$failed" ]; then
    printf 'FAILED:%s\nReproduce, from %s:\n' "$failed" "$FUZZ_DIR"
    cat "$LOGS"/*.repro 2>/dev/null || true
    exit 1
fi
printf 'all %s targets ran %ss each without a crash\n' "$(echo $TARGETS | wc -w)" "$SECONDS_EACH"
