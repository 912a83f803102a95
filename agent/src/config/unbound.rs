//! `[unbound]`: how the unbound collector reaches Unbound's remote-control
//! channel.
//!
//! `address` names one of the transports Unbound offers for
//! `control-interface`: a unix socket path (never TLS) or an IP and port
//! (`control-port`, plain when `control-use-cert: no`). "auto" tries the
//! usual socket paths, then 127.0.0.1:8953, as an operator would. The
//! three certificate files turn TLS on for an IP:PORT address.

use super::{control_address, control_timeout, Problem};
use crate::collect::unbound::{Settings, Tls};
use crate::limits::UNBOUND_DEADLINE;
use crate::tls::TLS_BUILT;
use crate::wire::toml::{Entry, Value};

/// The section's keys.
pub const KEYS: &[&str] = &["address", "timeout", "server_cert_file", "control_cert_file", "control_key_file"];

pub(super) fn entry(c: &mut Settings, e: &Entry) -> Result<(), Problem> {
    match (e.key.as_str(), &e.value) {
        ("address", Value::Str(s)) => {
            c.address = control_address(s, "an Unbound control address")?;
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

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::collect::daemon::Address;
    use crate::collect::unbound::UNBOUND_CONTROL;
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::time::Duration;

    #[test]
    fn unbound_section() {
        let c = parse("[unbound]\n").unwrap();
        assert_eq!(c.collect.unbound, Settings::default());
        let c = parse("[unbound]\naddress = \"unix:/var/run/unbound.ctl\"\ntimeout = \"250ms\"\n").unwrap();
        assert_eq!(c.collect.unbound.address, Address::Unix("/var/run/unbound.ctl".into()));
        assert_eq!(c.collect.unbound.timeout, Duration::from_millis(250));
        let c = parse("[unbound]\naddress = \"[::1]:8953\"\n").unwrap();
        assert_eq!(c.collect.unbound.address, Address::Ip("[::1]:8953".parse().unwrap()));
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
        let tls = c.collect.unbound.tls.unwrap();
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
