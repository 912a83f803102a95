//! `[unbound]`: how the unbound collector reaches Unbound's remote-control
//! channel.
//!
//! `address` names one of the transports Unbound offers for
//! `control-interface`: a unix socket path (never TLS) or an IP and port
//! (`control-port`, plain when `control-use-cert: no`). "auto" tries the
//! usual socket paths, then 127.0.0.1:8953, as an operator would. The
//! three certificate files turn TLS on for an IP:PORT address.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::tls::TLS_BUILT;
use super::{control_address, control_timeout, ControlAddress, Problem};
use crate::limits::UNBOUND_DEADLINE;
use crate::wire::toml::{Entry, Value};

/// Where Unbound's control channel is (`[unbound] address`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnboundAddress {
    /// `"auto"`: each of [`UNBOUND_SOCKETS`], then plain TCP to
    /// [`UNBOUND_CONTROL`]. A box with none of them has no Unbound with
    /// remote control, which is not a failure.
    Auto,
    /// `"unix:/path"`: a `control-interface` that is a path.
    Unix(PathBuf),
    /// `"IP:PORT"` or `"[IPv6]:PORT"`: `control-interface` and
    /// `control-port`, with `control-use-cert: no`.
    Tcp(SocketAddr),
}

impl fmt::Display for UnboundAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnboundAddress::Auto => f.write_str("auto"),
            UnboundAddress::Unix(p) => write!(f, "unix:{}", p.display()),
            UnboundAddress::Tcp(a) => write!(f, "{a}"),
        }
    }
}

/// The control sockets "auto" tries, in order: Debian's package
/// (`/etc/unbound/unbound.conf.d/remote-control.conf`) and the letsencrypt
/// exporter's default, then OpenWrt's (`unbound.sh`).
pub const UNBOUND_SOCKETS: &[&str] = &["/run/unbound.ctl", "/var/run/unbound.ctl"];

/// Unbound's default `control-interface` and `control-port`.
pub const UNBOUND_CONTROL: &str = "127.0.0.1:8953";

/// The `[unbound]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unbound {
    pub address: UnboundAddress,
    /// How long connecting, and then each read of the reply, may wait.
    pub timeout: Duration,
    /// The certificate files for `control-use-cert: yes`, with an IP:PORT
    /// address; `None`: plain text.
    pub tls: Option<Tls>,
}

impl Default for Unbound {
    fn default() -> Self {
        Unbound { address: UnboundAddress::Auto, timeout: Duration::from_secs(1), tls: None }
    }
}

/// unbound-control-setup's files, under unbound.conf's own names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// `server-cert-file`: the certificate the server must present (it is
    /// self-signed by unbound-control-setup, so it is pinned, not used as
    /// a CA).
    pub server_cert_file: PathBuf,
    /// `control-cert-file` and `control-key-file`: sonde's client
    /// certificate and its key.
    pub control_cert_file: PathBuf,
    pub control_key_file: PathBuf,
}

/// The section's keys.
pub const KEYS: &[&str] = &["address", "timeout", "server_cert_file", "control_cert_file", "control_key_file"];

pub(super) fn entry(c: &mut Unbound, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("address", Value::Str(s)) => {
            c.address = match control_address(s, "an Unbound control address")? {
                ControlAddress::Auto => UnboundAddress::Auto,
                ControlAddress::Unix(path) => UnboundAddress::Unix(path),
                ControlAddress::Ip(addr) => UnboundAddress::Tcp(addr),
            };
            Ok(())
        }
        ("timeout", Value::Str(s)) => {
            c.timeout = control_timeout(s, UNBOUND_DEADLINE)?;
            Ok(())
        }
        ("server_cert_file" | "control_cert_file" | "control_key_file", Value::Str(s)) => {
            if !TLS_BUILT {
                return Err(Problem::Invalid(
                    "this sonde is built without TLS (cargo feature tls); use a unix socket or control-use-cert: no"
                        .into(),
                ));
            }
            if !s.starts_with('/') {
                return Err(Problem::Invalid(format!("'{s}': write an absolute path")));
            }
            let tls = c.tls.get_or_insert_with(Tls::default);
            let slot = match e.key.as_str() {
                "server_cert_file" => &mut tls.server_cert_file,
                "control_cert_file" => &mut tls.control_cert_file,
                _ => &mut tls.control_key_file,
            };
            *slot = s.into();
            Ok(())
        }
        ("address" | "timeout" | "server_cert_file" | "control_cert_file" | "control_key_file", v) => {
            Err(Problem::Invalid(format!("expected a string, found {}", v.type_name())))
        }
        _ => Err(Problem::UnknownKey),
    }
}

/// What the section says as a whole: TLS needs all three files and an
/// IP:PORT address. Called once the section's entries are read.
pub(super) fn check(c: &Unbound) -> Result<(), String> {
    let Some(tls) = &c.tls else { return Ok(()) };
    let empty = |p: &PathBuf| p.as_os_str().is_empty();
    if empty(&tls.server_cert_file) || empty(&tls.control_cert_file) || empty(&tls.control_key_file) {
        return Err("[unbound]: TLS needs all of server_cert_file, control_cert_file and control_key_file".into());
    }
    if !matches!(c.address, UnboundAddress::Tcp(_)) {
        return Err("[unbound]: the certificate files need an IP:PORT address (unix sockets never use TLS)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn unbound_section() {
        let c = parse("[unbound]\n").unwrap();
        assert_eq!(c.unbound, Unbound::default());
        let c = parse("[unbound]\naddress = \"unix:/var/run/unbound.ctl\"\ntimeout = \"250ms\"\n").unwrap();
        assert_eq!(c.unbound.address, UnboundAddress::Unix("/var/run/unbound.ctl".into()));
        assert_eq!(c.unbound.timeout, Duration::from_millis(250));
        let c = parse("[unbound]\naddress = \"[::1]:8953\"\n").unwrap();
        assert_eq!(c.unbound.address, UnboundAddress::Tcp("[::1]:8953".parse().unwrap()));
        for (text, says) in [
            ("address = \"localhost:8953\"", "not an Unbound control address"),
            ("address = \"unix:unbound.ctl\"", "absolute path"),
            ("address = 8953", "expected a string"),
            ("timeout = \"1\"", "not a duration"),
            ("timeout = \"5s\"", "out of range"),
            ("timeout = \"1ms\"", "out of range"),
            ("adress = \"auto\"", "did you mean 'address'?"),
        ] {
            let errors = parse(&format!("[unbound]\n{text}\n")).unwrap_err();
            assert_eq!(errors[0].line, 2, "{text}");
            assert!(errors[0].message.contains(says), "{text}: {errors:?}");
        }
    }

    #[test]
    fn tls_files_need_the_feature_all_three_and_an_ip_address() {
        let files = "server_cert_file = \"/etc/unbound/unbound_server.pem\"\n\
                     control_cert_file = \"/etc/unbound/unbound_control.pem\"\n\
                     control_key_file = \"/etc/unbound/unbound_control.key\"\n";
        let text = format!("[unbound]\naddress = \"127.0.0.1:8953\"\n{files}");
        if !TLS_BUILT {
            let errors = parse(&text).unwrap_err();
            assert!(errors[0].message.contains("without TLS"), "{errors:?}");
            return;
        }
        let c = parse(&text).unwrap();
        let tls = c.unbound.tls.unwrap();
        assert_eq!(tls.control_key_file, PathBuf::from("/etc/unbound/unbound_control.key"));
        let errors = parse(&format!("[unbound]\n{files}")).unwrap_err();
        assert!(errors[0].message.contains("IP:PORT"), "{errors:?}");
        let errors = parse("[unbound]\naddress = \"127.0.0.1:8953\"\ncontrol_key_file = \"/k\"\n").unwrap_err();
        assert!(errors[0].message.contains("all of"), "{errors:?}");
        let errors = parse("[unbound]\naddress = \"127.0.0.1:8953\"\ncontrol_key_file = \"k\"\n").unwrap_err();
        assert!(errors[0].message.contains("absolute path"), "{errors:?}");
    }

    #[test]
    fn the_auto_tcp_address_parses() {
        assert!(UNBOUND_CONTROL.parse::<SocketAddr>().is_ok());
    }
}
