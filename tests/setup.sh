#!/bin/sh
# Installs what the black-box tests need, on a fresh Debian 12 machine, and
# nothing when it is already there. Called by `make test`; safe to rerun.
#
# Peers come from Debian's packages so the tests run against the real
# programs: promtool (package prometheus) checks the exposition, and
# prometheus-node-exporter is the compatibility and benchmark reference;
# chrony's chronyd and chronyc are the peer and the reference of the chrony
# collector's tests (tests/chrony.rs starts its own chronyds; the packaged
# service is never started).
set -eu

need=""
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
command -v prometheus-node-exporter >/dev/null 2>&1 || need="$need prometheus-node-exporter"
command -v curl >/dev/null 2>&1 || need="$need curl"
# /usr/sbin is not on every root PATH; look for the files themselves.
[ -x /usr/sbin/chronyd ] && [ -x /usr/bin/chronyc ] || need="$need chrony"
# tests/chrony.rs runs chronyd in network namespaces of its own (unshare,
# setpriv: util-linux, always there; ip: iproute2).
[ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || need="$need iproute2"
# Push: Prometheus (above) and VictoriaMetrics are the real receivers;
# nftables is the firewall between the push test's network namespaces.
[ -x /usr/bin/victoria-metrics ] || need="$need victoria-metrics"
[ -x /usr/sbin/nft ] || need="$need nftables"
# Service checks (tests/checks.rs): OpenSMTPD is the SMTP server of the
# banner dialogue (it starts in the foreground from a three-line config on
# any loopback port: `smtpd -d -f FILE`); unbound and chronyd are its DNS
# and NTP peers.
[ -x /usr/sbin/smtpd ] || need="$need opensmtpd"
# TCP checks with TLS (STARTTLS, SMTPS): aiosmtpd serves both from one
# command line; Debian 12's OpenSMTPD fails every TLS handshake against
# OpenSSL 3, and exim or postfix would replace it as the mail transport.
[ -d /usr/lib/python3/dist-packages/aiosmtpd ] || need="$need python3-aiosmtpd"
# openssl(1) makes the test CAs and certificates of the TLS suites (push
# over https, TLS checks) and is their TLS 1.2 peer (s_server).
command -v openssl >/dev/null 2>&1 || need="$need openssl"
# OpenSSH's sshd is the real SSH server of the ssh_banner module's test:
# it starts in the foreground (`sshd -D -e -f FILE`) on a loopback port
# with a host key the test makes; the packaged service never starts.
[ -x /usr/sbin/sshd ] && [ -x /usr/bin/ssh-keygen ] || need="$need openssh-server"
# Unbound: the peer and reference of the unbound collector's tests
# (tests/unbound.rs starts its own unbound on loopback; unbound-control and
# unbound-control-setup come with it); dig sends the test's queries.
[ -x /usr/sbin/unbound ] && [ -x /usr/sbin/unbound-control ] || need="$need unbound"
command -v dig >/dev/null 2>&1 || need="$need bind9-dnsutils"
# tests/mounts.rs boots an OpenWrt-like box for real, whose root is a
# squashfs image: mksquashfs makes it (mkfs.ext4, for the box's USB stick,
# is e2fsprogs', which every Debian has).
[ -x /usr/bin/mksquashfs ] || need="$need squashfs-tools"

if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "tests/setup.sh: missing$need; run as root or install them" >&2
        exit 1
    fi
    # The packages' maintainer scripts would start their daemons (prometheus
    # on :9090, node_exporter on :9100, chronyd on :123 and :323, steering
    # the clock, sshd on :22); the tests start their own, so keep
    # the installed services from starting with a policy-rc.d for the
    # duration of the install.
    created_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need >/dev/null
    [ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d
fi
