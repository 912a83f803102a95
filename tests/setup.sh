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

# Peers of the watchdog, notification, log and HTTP-check tests
# (tests/common/peers.rs starts each one itself, in the foreground, with its
# own config in a scratch directory and on a free loopback port; the
# packaged services are never started, see tests/PEERS.md):
# blackbox_exporter and monit side by side with sonde, nginx as the HTTP
# server, Alertmanager as the notification receiver, rsyslog as one syslog
# receiver (with GnuTLS for RFC 5425), logrotate, mtail, and Debian's
# chromium for headless screenshots of the status page.
[ -x /usr/bin/prometheus-blackbox-exporter ] || need="$need prometheus-blackbox-exporter"
[ -x /usr/bin/monit ] || need="$need monit"
[ -x /usr/sbin/nginx ] || need="$need nginx"
[ -x /usr/bin/prometheus-alertmanager ] || need="$need prometheus-alertmanager"
[ -x /usr/sbin/rsyslogd ] || need="$need rsyslog"
dpkg-query -W -f '${Status}' rsyslog-gnutls 2>/dev/null | grep -q ' installed$' || need="$need rsyslog-gnutls"
[ -x /usr/sbin/logrotate ] || need="$need logrotate"
[ -x /usr/bin/mtail ] || need="$need mtail"
[ -x /usr/bin/chromium ] || need="$need chromium"
# htpasswd -B makes the bcrypt hashes of the web-config.yml tests, as an
# operator makes them (tests/auth.rs).
[ -x /usr/bin/htpasswd ] || need="$need apache2-utils"
# Daemons whose services the install must leave stopped and disabled.
services="prometheus-blackbox-exporter monit nginx prometheus-alertmanager rsyslog mtail"

# Two peers conflict, as Debian packages, with one that is installed:
# exim4 (the MTA with STARTTLS; mail-transport-agent, like OpenSMTPD) and
# syslog-ng (system-log-daemon, like rsyslog). They are unpacked with
# dpkg-deb -x under $PEERS, which this script owns and recreates, and run
# from there; their shared libraries are installed as the ordinary Debian
# packages they are. Exim looks its compiled-in user up by name before it
# reads any config, so that system user is created as exim4-base would.
PEERS=/opt/sonde-test-peers
private=""
getent passwd Debian-exim >/dev/null 2>&1 || private="$private Debian-exim-user"
"$PEERS/exim4/usr/sbin/exim4" -C /dev/null -bV >/dev/null 2>&1 || private="$private exim4-daemon-light"
LD_LIBRARY_PATH="$PEERS/syslog-ng/usr/lib/syslog-ng" "$PEERS/syslog-ng/usr/sbin/syslog-ng" -V >/dev/null 2>&1 ||
    private="$private syslog-ng-core"

if [ -n "$need$private" ] && [ "$(id -u)" != 0 ]; then
    echo "tests/setup.sh: missing$need$private; run as root or install them" >&2
    exit 1
fi

if [ -n "$need" ]; then
    # The packages' maintainer scripts would start their daemons (prometheus
    # on :9090, node_exporter on :9100, chronyd on :123 and :323, steering
    # the clock, sshd on :22, nginx on :80, rsyslog on /dev/log); the tests
    # start their own, so keep the installed services from starting with a
    # policy-rc.d for the duration of the install.
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
    # Whatever started anyway (a host whose init ignores policy-rc.d) is
    # stopped, and no service installed now starts at the next boot.
    for s in $services; do
        case " $need " in *" $s "*) ;; *) continue ;; esac
        if [ -d /run/systemd/system ]; then
            systemctl disable --now "$s" >/dev/null 2>&1 || true
        elif [ -x "/etc/init.d/$s" ]; then
            "/etc/init.d/$s" stop >/dev/null 2>&1 || true
            update-rc.d "$s" disable >/dev/null 2>&1 || true
        fi
    done
fi

if [ -n "$private" ]; then
    export DEBIAN_FRONTEND=noninteractive
    [ -n "$need" ] || apt-get update -qq
    case "$private" in *Debian-exim-user*)
        # The home and shell exim4-base's postinst gives it (not created).
        useradd --system --user-group --no-create-home --home-dir /var/spool/exim4 \
            --shell /usr/sbin/nologin Debian-exim ;;
    esac
    for pkg in $private; do
        case "$pkg" in
            exim4-daemon-light) into=exim4 ;;
            syslog-ng-core) into=syslog-ng ;;
            *) continue ;;
        esac
        tmp=$(mktemp -d)
        chown _apt "$tmp" 2>/dev/null || true
        (cd "$tmp" && apt-get download -qq "$pkg")
        deb=$(echo "$tmp"/*.deb)
        # Every lib* it depends on (alternatives and version bounds dropped).
        libs=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep '^lib')
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $libs >/dev/null
        rm -rf "$PEERS/$into.new"
        mkdir -p "$PEERS/$into.new"
        dpkg-deb -x "$deb" "$PEERS/$into.new"
        dpkg-deb -f "$deb" Package Version > "$PEERS/$into.new/DEBIAN-VERSION"
        rm -rf "$PEERS/$into" "$tmp"
        mv "$PEERS/$into.new" "$PEERS/$into"
    done
    "$PEERS/exim4/usr/sbin/exim4" -C /dev/null -bV >/dev/null 2>&1 ||
        { echo "tests/setup.sh: $PEERS/exim4 does not run" >&2; exit 1; }
    LD_LIBRARY_PATH="$PEERS/syslog-ng/usr/lib/syslog-ng" "$PEERS/syslog-ng/usr/sbin/syslog-ng" -V >/dev/null 2>&1 ||
        { echo "tests/setup.sh: $PEERS/syslog-ng does not run" >&2; exit 1; }
fi
