//! /proc/net/snmp6: IPv6 protocol counters, one `name value` per line
//! (net/ipv6/proc.c `snmp6_seq_show`). Absent when the kernel has no IPv6.
//!
//! ```text
//! Ip6InReceives                    9781
//! Icmp6InMsgs                      9646
//! Udp6InDatagrams                  5064
//! UdpLite6InErrors                 0
//! ```
//!
//! The kernel pads the name with spaces and a tab. The protocol is the
//! name up to and including its first `6` (`Ip6`, `Icmp6`, `Udp6`,
//! `UdpLite6`), as node_exporter splits it.

use super::net_snmp::Counter;
use crate::wire::Error;

/// The counters in file order; a line that is not a counter is an error
/// item and the lines after it still come.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Counter<'_>, Error>> {
    super::name_values(input).map(|item| {
        let (n, key, value) = item?;
        let six = key.find('6').ok_or(Error::at(n, "no protocol in the name"))?;
        let (proto, name) = key.split_at(six + 1);
        Ok(Counter { proto, name, value })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"Ip6InReceives                   \t9781\n\
Icmp6InMsgs                     \t9646\n\
Icmp6OutMsgs                    \t9654\n\
Udp6InDatagrams                 \t5064\n\
UdpLite6InErrors                \t0\n";

    #[test]
    fn parse_captured_snmp6() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got[0], Counter { proto: "Ip6", name: "InReceives", value: 9781 });
        assert_eq!(got[3], Counter { proto: "Udp6", name: "InDatagrams", value: 5064 });
        assert_eq!(got[4], Counter { proto: "UdpLite6", name: "InErrors", value: 0 });
    }

    #[test]
    fn truncated_snmp6_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        assert!(parse(b"IpInReceives 3\n").next().unwrap().is_err());
    }
}
