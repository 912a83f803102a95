#!/bin/sh
# Copies the right sonde binary and a config to a box over scp, installs
# the init file its init system wants, and starts sonde. Run from the
# repository after `make cross`.
#
#   examples/install.sh root@rb-ntp01                      # embedded default config
#   examples/install.sh -c examples/dns-box.toml root@rb-dns01
#   examples/install.sh -n root@router                     # print, do nothing
#
# The target is found from the box's `uname -m` and its byte order (MIPS
# comes in both). Init: procd (OpenWrt), systemd, or else a busybox or
# sysvinit inittab line.
set -eu
cd "$(dirname "$0")/.."

config=""
dry=""
while getopts c:n opt; do
    case $opt in
        c) config=$OPTARG ;;
        n) dry=1 ;;
        *) echo "usage: $0 [-c CONFIG] [-n] [user@]host" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-c CONFIG] [-n] [user@]host" >&2; exit 2; }
host=$1

run() { if [ -n "$dry" ]; then echo "+ $*"; else "$@"; fi; }

# `echo -n I | od -to2` prints 000111 on a little-endian box, 044400 on a
# big-endian one: busybox has od, not always file or readelf.
probe=$(ssh "$host" 'uname -m; echo -n I | od -to2 | head -n1 | cut -d" " -f2;
    if [ -e /sbin/procd ]; then echo procd; elif [ -d /run/systemd/system ]; then echo systemd; else echo inittab; fi')
machine=$(echo "$probe" | sed -n 1p)
order=$(echo "$probe" | sed -n 2p)
init=$(echo "$probe" | sed -n 3p)

case "$machine" in
    x86_64) name=x86_64 ;;
    i?86) name=i686 ;;
    aarch64|arm64) name=aarch64 ;;
    armv7*) name=armv7 ;;
    armv6*|armv5*) name=armv6 ;;
    mips*) if [ "$order" = 000111 ]; then name=mipsel; else name=mips; fi ;;
    *) echo "install.sh: no sonde target for '$machine'" >&2; exit 1 ;;
esac
. cross/lib.sh
load_target "$name"
bin=$(bin_path)
[ -f "$bin" ] || { echo "install.sh: $bin is not built; run make cross" >&2; exit 1; }
echo "install.sh: $host is $machine ($init): installing $name ($(wc -c < "$bin") bytes)" >&2

run scp "$bin" "$host:/tmp/sonde.new"
run ssh "$host" 'mv /tmp/sonde.new /usr/bin/sonde && chmod 755 /usr/bin/sonde && /usr/bin/sonde --version'
if [ -n "$config" ]; then
    run scp "$config" "$host:/etc/sonde.toml"
    run ssh "$host" '/usr/bin/sonde check-config /etc/sonde.toml'
fi

case "$init" in
    procd)
        run scp examples/openwrt/sonde.init "$host:/etc/init.d/sonde"
        run ssh "$host" '[ -f /etc/config/sonde ] || cat > /etc/config/sonde' < examples/openwrt/sonde.uci
        run ssh "$host" 'chmod +x /etc/init.d/sonde && /etc/init.d/sonde enable && /etc/init.d/sonde restart'
        ;;
    systemd)
        run scp examples/systemd/sonde.service "$host:/etc/systemd/system/sonde.service"
        # The unit checks /etc/sonde.toml before starting; without one, the
        # embedded default is written there.
        run ssh "$host" '[ -f /etc/sonde.toml ] || /usr/bin/sonde default-config > /etc/sonde.toml;
            systemctl daemon-reload && systemctl enable --now sonde && systemctl restart sonde'
        ;;
    inittab)
        line=$(grep -v '^#' examples/busybox/inittab)
        run ssh "$host" "grep -q '/usr/bin/sonde' /etc/inittab || echo '$line' >> /etc/inittab; kill -HUP 1"
        ;;
esac
echo "install.sh: done; try: curl http://$(echo "$host" | sed 's/.*@//'):9858/metrics" >&2
