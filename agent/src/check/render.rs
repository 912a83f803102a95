//! The `probe_*` families of a set of checks' outcomes, with
//! blackbox_exporter's names and help: the families every check has
//! ([`COMMON`]), then each kind's own, from its file's rows.
//!
//! A family is written only when some outcome has a value for it, so a
//! scrape without DNS checks has no `probe_dns_*` families. An empty check
//! name (a `/probe` request) leaves out the `check` label, as
//! blackbox_exporter's output has none; a blackbox.yml module's result
//! (`bare`) has none of sonde's labels, exactly blackbox's label set.

use std::net::IpAddr;

use super::{dns, http, icmp, ntp, tcp, CheckResult, Family, Reason, Row};
use crate::expo::{Exposition, MetricType};

/// The families of every kind.
pub const COMMON: &[Row] = &[
    Row::new("probe_success", "Displays whether or not the probe was a success", |o| {
        Some(if o.reason.is_none() { 1.0 } else { 0.0 })
    }),
    Row::new("probe_duration_seconds", "Returns how long the probe took to complete in seconds", |o| Some(o.seconds)),
    Row::new("probe_timeout_seconds", "Returns how long the probe timeout is in seconds", |o| Some(o.timeout_seconds)),
    Row::new("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", |o| {
        Some(o.lookup_seconds)
    }),
    Row::new(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        // 0 without an address, as blackbox_exporter's gauge stays.
        |o| Some(o.addr.map_or(0.0, |a| f64::from(fnv1a32(&a.ip())))),
    ),
    Row::new("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", |o| {
        Some(match o.addr {
            Some(a) if a.is_ipv4() => 4.0,
            Some(_) => 6.0,
            None => 0.0,
        })
    }),
];

/// Families more than one kind has (tcp and http): the regular
/// expressions' verdict and what TLS showed.
pub const SHARED: &[Row] = &[
    Row::new("probe_failed_due_to_regex", "Indicates if probe failed due to regex", |o| {
        o.detail.failed_due_to_regex().map(|f| if f { 1.0 } else { 0.0 })
    }),
    #[cfg(feature = "tls")]
    Row::info(
        "probe_tls_version_info",
        "Returns the TLS version used or NaN when unknown",
        |o| o.detail.tls().and_then(|t| t.version).map(|_| 1.0),
        |o| ("version", o.detail.tls().and_then(|t| t.version).unwrap_or_default()),
    ),
    #[cfg(feature = "tls")]
    Row::new("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", |o| {
        o.detail.tls().and_then(|t| t.earliest_expiry).map(|t| t as f64)
    }),
    // Only while it is so: a check that verifies has no such series, as
    // blackbox's has none.
    #[cfg(feature = "tls")]
    Row::new(
        "probe_tls_insecure_skip_verify",
        "sonde: 1 when the server's certificate was taken unverified (insecure_skip_verify)",
        |o| o.detail.tls().filter(|t| t.insecure && t.version.is_some()).map(|_| 1.0),
    ),
];

/// Why a check failed, in a family of its own: a label whose value
/// changes with the failure would split `probe_success`'s series and
/// restart every `for:` clock of the rules on it. One series per failing
/// address; none while it succeeds.
pub const FAILURE: &[Row] = &[Row::info(
    "sonde_check_failure_info",
    "sonde: Why the check failed at this address (1 while it fails; no series while it succeeds).",
    |o| o.reason.map(|_| 1.0),
    |o| ("reason", o.reason.map_or("", Reason::as_str)),
)];

/// Every family, in the order written: the common ones, each kind's, those
/// kinds share, then the failure reasons.
pub const ROWS: &[&[Row]] = &[COMMON, tcp::ROWS, dns::ROWS, ntp::ROWS, http::ROWS, icmp::ROWS, SHARED, FAILURE];

/// Writes the probe families for `checks`.
pub fn render(checks: &[CheckResult], out: &mut Exposition) {
    for row in ROWS.iter().flat_map(|rows| rows.iter()) {
        let values: Vec<_> = checks
            .iter()
            .flat_map(|c| c.outcomes.iter().map(move |o| (c, o)))
            .filter_map(|(c, o)| (row.value)(o).map(|v| (c, o, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        out.family(row.name, row.help, MetricType::Gauge);
        for (c, o, v) in values {
            let address = o.addr.map(|a| a.ip().to_string()).unwrap_or_default();
            let family = o.addr.map_or(c.family.as_str(), |a| Family::of(&a.ip()));
            let mut labels: Vec<(&str, &str)> = Vec::with_capacity(4);
            if !c.name.is_empty() {
                labels.push(("check", &c.name));
            }
            if !c.bare {
                labels.push(("address", &address));
                labels.push(("family", family));
            }
            if let Some(label) = row.label {
                labels.push(label(o));
            }
            match &row.split {
                None => out.sample(&labels, v),
                Some(split) => {
                    for (i, value) in split.values.iter().enumerate() {
                        labels.push((split.label, value));
                        out.sample(&labels, (split.value)(o, i));
                        labels.pop();
                    }
                }
            }
        }
    }
}

/// FNV-1a (32 bits) over the address's 4 or 16 octets, as
/// blackbox_exporter's `probe_ip_addr_hash`, so a dashboard sees the
/// same value from either.
pub fn fnv1a32(ip: &IpAddr) -> u32 {
    let octets: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    octets.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_hash_is_fnv1a_over_the_octets() {
        // FNV-1a 32 of 127.0.0.1's four octets (Python, from the FNV spec).
        assert_eq!(fnv1a32(&"127.0.0.1".parse().unwrap()), 0xdaaf_40ed);
        assert_ne!(fnv1a32(&"::1".parse().unwrap()), fnv1a32(&"127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn family_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for row in ROWS.iter().flat_map(|r| r.iter()) {
            assert!(seen.insert(row.name), "{} twice", row.name);
        }
    }
}
