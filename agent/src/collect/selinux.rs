//! `selinux`: whether SELinux is on and in which mode, as node_exporter's
//! `node_selinux_enabled`, and when it is, `node_selinux_current_mode`
//! (the `enforce` file of selinuxfs: 1 enforcing, 0 permissive) and
//! `node_selinux_config_mode` (`SELINUX=` of /etc/selinux/config under
//! `[paths] rootfs`: 1 enforcing, 0 permissive, -1 disabled or unset).
//! SELinux counts as enabled when selinuxfs answers at
//! /sys/fs/selinux/enforce.

use super::common::single;
use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::os_release;
use crate::wire::proc::number;

pub struct Selinux;

impl Collector for Selinux {
    fn name(&self) -> &'static str {
        "selinux"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let current = match cx.read_opt(Root::Sys, &["fs/selinux/enforce"]) {
            Ok(Some(raw)) => number::parse(raw).ok(),
            _ => None,
        };
        let enabled = "SELinux is enabled, 1 is true, 0 is false";
        let Some(current) = current else {
            single(out, "node_selinux_enabled", enabled, MetricType::Gauge, 0.0);
            return Ok(());
        };
        single(out, "node_selinux_enabled", enabled, MetricType::Gauge, 1.0);
        let mut config = -1.0;
        if let Some(raw) = cx.read_opt(Root::Rootfs, &["etc/selinux/config"])? {
            for (key, value) in os_release::parse(raw).filter_map(Result::ok) {
                if key == "SELINUX" {
                    config = match &*value {
                        "enforcing" => 1.0,
                        "permissive" => 0.0,
                        _ => -1.0,
                    };
                }
            }
        }
        single(out, "node_selinux_config_mode", "Configured SELinux enforcement mode", MetricType::Gauge, config);
        single(out, "node_selinux_current_mode", "Current SELinux enforcement mode", MetricType::Gauge, current as f64);
        Ok(())
    }
}
