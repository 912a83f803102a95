//! `netstat`: protocol counters from /proc/net/netstat, /proc/net/snmp and
//! /proc/net/snmp6, as node_exporter's untyped
//! `node_netstat_<Proto>_<Field>`, restricted to its default
//! `--collector.netstat.fields`:
//!
//! ```text
//! ^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)
//!  |TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)
//!  |Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)
//!  |Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$
//! ```
//!
//! For a DNS or NTP server the UDP ones say whether queries are dropped
//! (`RcvbufErrors`, `InErrors`) or hit closed ports (`NoPorts`); the TCP
//! ones count retransmits and accept-queue drops (`ListenDrops`,
//! `ListenOverflows`). A kernel without IPv6 has no snmp6: no data for
//! it, not a failure.

use super::{keep_first_error, Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::net_snmp::Counter;
use crate::wire::proc::{net_snmp, net_snmp6};

pub struct Netstat;

impl Collector for Netstat {
    fn name(&self) -> &'static str {
        "netstat"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let mut error = None;
        for file in ["net/netstat", "net/snmp", "net/snmp6"] {
            let Some(bytes) = cx.read_opt(Root::Proc, &[file])? else { continue };
            let result = if file == "net/snmp6" {
                render(net_snmp6::parse(bytes), out)
            } else {
                render(net_snmp::parse(bytes), out)
            };
            if let Err(e) = result {
                error.get_or_insert(cx.parse_error(e));
            }
        }
        error.map_or(Ok(()), Err)
    }
}

/// Whether node_exporter's default field expression takes the counter.
pub fn exported(proto: &str, field: &str) -> bool {
    let one_of = |set: &[&str]| set.contains(&field);
    field == "InErrors"
        || field == "InErrs"
        || match proto {
            "Ip" => field == "Forwarding",
            "Ip6" | "IpExt" => one_of(&["InOctets", "OutOctets"]),
            "Icmp" | "Icmp6" => one_of(&["InMsgs", "OutMsgs"]),
            "TcpExt" => {
                field.starts_with("Listen")
                    || field.starts_with("Syncookies")
                    || one_of(&["TCPSynRetrans", "TCPTimeouts", "TCPOFOQueue", "TCPRcvQDrop"])
            }
            "Tcp" => {
                one_of(&["ActiveOpens", "InSegs", "OutSegs", "OutRsts", "PassiveOpens", "RetransSegs", "CurrEstab"])
            }
            "Udp" | "Udp6" => one_of(&["InDatagrams", "OutDatagrams", "NoPorts", "RcvbufErrors", "SndbufErrors"]),
            _ => false,
        }
}

/// Writes the exported counters; the first bad item is the error, after
/// every good one is written.
pub fn render<'a>(
    counters: impl Iterator<Item = Result<Counter<'a>, crate::wire::Error>>,
    out: &mut Exposition,
) -> Result<(), crate::wire::Error> {
    let mut error = None;
    for Counter { proto, name, value } in keep_first_error(counters, &mut error) {
        if exported(proto, name) {
            out.family_parts(
                &["node_netstat_", proto, "_", name],
                &["Statistic ", proto, name, "."],
                MetricType::Untyped,
            );
            out.sample(&[], value as f64);
        }
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_field_set() {
        for (p, f) in [
            ("Udp", "RcvbufErrors"),
            ("Udp6", "NoPorts"),
            ("UdpLite", "InErrors"),
            ("Tcp", "InErrs"),
            ("TcpExt", "ListenOverflows"),
            ("TcpExt", "SyncookiesRecv"),
            ("Ip", "Forwarding"),
            ("IpExt", "InOctets"),
            ("Icmp6", "OutMsgs"),
        ] {
            assert!(exported(p, f), "{p}_{f}");
        }
        for (p, f) in
            [("Tcp", "MaxConn"), ("Ip", "InReceives"), ("TcpExt", "TCPLostRetransmit"), ("UdpLite", "NoPorts")]
        {
            assert!(!exported(p, f), "{p}_{f}");
        }
    }
}
