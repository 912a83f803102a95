//! `netclass`: network device properties from /sys/class/net/<device>/, as
//! node_exporter's `netclass` collector names them: `node_network_up`
//! (operstate is "up"), `node_network_info{address,adminstate,broadcast,
//! device,duplex,ifalias,operstate}`, and one gauge or counter per numeric
//! attribute (`carrier`, `mtu_bytes`, `speed_bytes`, …; help `Network
//! device property: <name>`). Documentation/ABI/testing/sysfs-class-net
//! defines the files.
//!
//! An attribute the device does not have, or that its driver refuses to
//! read (`carrier` and `speed` fail with EINVAL while a link is down), is
//! left out for that device, as node_exporter does. `[netdev]
//! device_include` and `device_exclude` pick the devices, as for netdev.
//!
//! Each attribute is a file, and a sysfs open, read and close costs some
//! microseconds on a fast CPU (more than parsing it), tens on a router's.
//! So by default only the basic ones are read: operstate, address,
//! broadcast, duplex, ifalias, flags, carrier, mtu and speed, nine files
//! per device, which give `up`, `info`, `flags`, `carrier`, `mtu_bytes`
//! and `speed_bytes`: what Node Exporter Full and the usual alert rules
//! use. `[netclass] all_attributes = true` reads node_exporter's full set,
//! twenty-two files per device, for its twelve other families.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::number;

pub struct Netclass;

/// How an attribute file is read.
#[derive(Clone, Copy)]
enum Read {
    Decimal,
    Hex,
    /// Mbit/s to bytes/s, node_exporter's `speed_bytes` (-1 stays
    /// -125000, as node_exporter writes it for a link without speed).
    Speed,
}

/// Metric suffix, attribute file, type, how to read it, and whether it is
/// one of the basic attributes read by default.
const ATTRIBUTES: [(&str, &str, MetricType, Read, bool); 17] = [
    ("address_assign_type", "addr_assign_type", MetricType::Gauge, Read::Decimal, false),
    ("carrier", "carrier", MetricType::Gauge, Read::Decimal, true),
    ("carrier_changes_total", "carrier_changes", MetricType::Counter, Read::Decimal, false),
    ("carrier_up_changes_total", "carrier_up_count", MetricType::Counter, Read::Decimal, false),
    ("carrier_down_changes_total", "carrier_down_count", MetricType::Counter, Read::Decimal, false),
    ("device_id", "dev_id", MetricType::Gauge, Read::Hex, false),
    ("dormant", "dormant", MetricType::Gauge, Read::Decimal, false),
    ("flags", "flags", MetricType::Gauge, Read::Hex, true),
    ("iface_id", "ifindex", MetricType::Gauge, Read::Decimal, false),
    ("iface_link", "iflink", MetricType::Gauge, Read::Decimal, false),
    ("iface_link_mode", "link_mode", MetricType::Gauge, Read::Decimal, false),
    ("mtu_bytes", "mtu", MetricType::Gauge, Read::Decimal, true),
    ("name_assign_type", "name_assign_type", MetricType::Gauge, Read::Decimal, false),
    ("net_dev_group", "netdev_group", MetricType::Gauge, Read::Decimal, false),
    ("speed_bytes", "speed", MetricType::Gauge, Read::Speed, true),
    ("transmit_queue_length", "tx_queue_len", MetricType::Gauge, Read::Decimal, false),
    ("protocol_type", "type", MetricType::Gauge, Read::Decimal, false),
];

/// The string attributes of `node_network_info`, in label order, with
/// `adminstate` (from `flags`) between address and broadcast.
const INFO: [&str; 5] = ["address", "broadcast", "duplex", "ifalias", "operstate"];

/// What one device's attributes said, read once per scrape.
struct Device {
    name: String,
    /// address, broadcast, duplex, ifalias, operstate; empty when absent.
    info: [String; 5],
    /// Each of [`ATTRIBUTES`], when it could be read.
    values: [Option<f64>; 17],
}

impl Collector for Netclass {
    fn name(&self) -> &'static str {
        "netclass"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let names = match cx.list(Root::Sys, &["class/net"], true) {
            Ok(d) => d,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let filter = &cx.settings().netdev;
        let all = cx.settings().netclass_all_attributes;
        let mut devices = Vec::with_capacity(names.len());
        for name in names.into_iter().filter(|d| filter.reports(d)) {
            // Gone since the listing: not reported.
            let Ok(dir) = cx.dir(Root::Sys, &["class/net", &name]) else { continue };
            let mut d = Device { name, info: Default::default(), values: [None; 17] };
            for (value, file) in d.info.iter_mut().zip(INFO) {
                if let Ok(raw) = cx.read_in(&dir, file) {
                    value.push_str(number::text(raw));
                }
            }
            for (slot, (_, file, _, read, basic)) in d.values.iter_mut().zip(ATTRIBUTES) {
                if !basic && !all {
                    continue;
                }
                let Ok(raw) = cx.read_in(&dir, file) else { continue };
                *slot = match read {
                    Read::Decimal => number::parse(raw).map(|v| v as f64).ok(),
                    Read::Hex => number::parse_hex_value(raw).map(|v| v as f64).ok(),
                    Read::Speed => number::parse(raw).map(|mbps| (mbps.saturating_mul(1_000_000) / 8) as f64).ok(),
                };
            }
            devices.push(d);
        }
        render(&devices, out);
        Ok(())
    }
}

/// Index of `flags` in [`ATTRIBUTES`]: adminstate is its bit 0 (IFF_UP).
const FLAGS: usize = 7;

fn render(devices: &[Device], out: &mut Exposition) {
    out.family("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", MetricType::Gauge);
    for d in devices {
        out.sample(&[("device", &d.name)], if d.info[4] == "up" { 1.0 } else { 0.0 });
    }
    out.family(
        "node_network_info",
        "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
        MetricType::Gauge,
    );
    for d in devices {
        let adminstate = match d.values[FLAGS] {
            Some(f) if f as u64 & 1 != 0 => "up",
            Some(_) => "down",
            None => "unknown",
        };
        let [address, broadcast, duplex, ifalias, operstate] = &d.info;
        out.sample(
            &[
                ("address", address),
                ("adminstate", adminstate),
                ("broadcast", broadcast),
                ("device", &d.name),
                ("duplex", duplex),
                ("ifalias", ifalias),
                ("operstate", operstate),
            ],
            1.0,
        );
    }
    for (i, (suffix, _, kind, _, _)) in ATTRIBUTES.into_iter().enumerate() {
        let mut opened = false;
        for d in devices {
            let Some(value) = d.values[i] else { continue };
            if !opened {
                out.family_parts(&["node_network_", suffix], &["Network device property: ", suffix], kind);
                opened = true;
            }
            out.sample(&[("device", &d.name)], value);
        }
    }
}
