//! `netdev`: per network device counters from /proc/net/dev, as
//! node_exporter's `node_network_{receive,transmit}_<stat>_total{device}`
//! (its "legacy" names, its default), plus
//! `node_network_receive_nohandler_total` from sysfs
//! (`statistics/rx_nohandler`), which /proc/net/dev lacks and
//! node_exporter's netlink path has.
//!
//! `[netdev] device_include` and `device_exclude` pick the devices.

use super::common::matches_any;
use super::{keep_first_error, Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::net_dev::{self, Device, RECEIVE, TRANSMIT};
use crate::wire::proc::number;

pub struct Netdev;

/// `[netdev]`: which network devices the netdev and netclass collectors
/// report. A device is reported if `device_include` is empty or one of its
/// patterns matches, and none of `device_exclude` does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Devices {
    pub device_include: Vec<String>,
    pub device_exclude: Vec<String>,
}

impl Devices {
    pub fn reports(&self, device: &str) -> bool {
        (self.device_include.is_empty() || matches_any(&self.device_include, device))
            && !matches_any(&self.device_exclude, device)
    }
}

impl Collector for Netdev {
    fn name(&self) -> &'static str {
        "netdev"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        cx.proc("net/dev")?;
        // Kept aside while the sysfs files are read.
        let bytes = cx.take_bytes();
        let filter = &cx.settings().netdev;
        let (devices, error) = parse(&bytes, |d| filter.reports(d));
        render(&devices, out);
        let mut error = error.map(|e| cx.parse_error(e));
        // node_exporter's netlink path has rx_nohandler; /proc/net/dev
        // does not, sysfs does (since Linux 4.6).
        let mut opened = false;
        for device in &devices {
            let Ok(Some(raw)) = cx.read_opt(Root::Sys, &["class/net", device.name, "statistics/rx_nohandler"]) else {
                continue;
            };
            match number::parse(raw) {
                Ok(v) => {
                    if !opened {
                        let help = "Network device statistic receive_nohandler.";
                        out.family("node_network_receive_nohandler_total", help, MetricType::Counter);
                        opened = true;
                    }
                    out.sample(&[("device", device.name)], v as f64);
                }
                Err(e) => {
                    error.get_or_insert(cx.parse_error(e));
                }
            }
        }
        drop(devices);
        cx.give_back(bytes);
        error.map_or(Ok(()), Err)
    }
}

/// The devices `reports` takes, parsed once; and the first bad line.
pub fn parse(bytes: &[u8], reports: impl Fn(&str) -> bool) -> (Vec<Device<'_>>, Option<crate::wire::Error>) {
    let mut error = None;
    let mut devices = Vec::new();
    devices.extend(keep_first_error(net_dev::parse(bytes), &mut error).filter(|d| reports(d.name)));
    (devices, error)
}

/// Writes the 16 families of /proc/net/dev.
pub fn render(devices: &[Device<'_>], out: &mut Exposition) {
    let columns = RECEIVE.iter().map(|s| ("receive_", *s)).chain(TRANSMIT.iter().map(|s| ("transmit_", *s)));
    for (i, (direction, stat)) in columns.enumerate() {
        let name = ["node_network_", direction, stat, "_total"];
        out.family_parts(&name, &["Network device statistic ", direction, stat, "."], MetricType::Counter);
        for d in devices {
            out.sample(&[("device", d.name)], d.stats[i] as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_families_per_device_with_node_exporters_names() {
        let mut out = Exposition::new(1 << 20);
        let dev = b"Inter-|\n face |\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n    lo: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let (devices, error) = parse(dev, |d| d != "lo");
        assert!(error.is_none());
        render(&devices, &mut out);
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("\nnode_network_receive_drop_total{device=\"eth0\"} 4\n"));
        assert!(text.contains("\nnode_network_transmit_colls_total{device=\"eth0\"} 14\n"));
        assert!(
            text.contains("# HELP node_network_transmit_carrier_total Network device statistic transmit_carrier.\n")
        );
        assert_eq!(text.matches("\nnode_network_").count(), 16);
        assert!(!text.contains("lo"));
    }
}
