//! `uname`: `node_uname_info`, the uname(2) fields as labels.
//!
//! Grafana's "Node Exporter Full" builds its host picker from this family
//! (`label_values(node_uname_info, nodename)`): without it the dashboard is
//! empty, so it is on by default like in node_exporter.

use std::io;

use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};

pub struct Uname;

impl Collector for Uname {
    fn name(&self) -> &'static str {
        "uname"
    }

    fn collect(&self, _cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        // SAFETY: uname fills the utsname it is given with NUL-terminated
        // fields; all-zero is a valid utsname to start from.
        let uts = unsafe {
            let mut uts: libc::utsname = std::mem::zeroed();
            if libc::uname(&raw mut uts) < 0 {
                return Err(Error::Sys { call: "uname", err: io::Error::last_os_error() });
            }
            uts
        };
        let field = |f: &[libc::c_char]| -> String {
            // The kernel NUL-terminates each field; a field without one is
            // read to its end rather than past it.
            let bytes: Vec<u8> = f.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let (domainname, machine, nodename) = (field(&uts.domainname), field(&uts.machine), field(&uts.nodename));
        let (release, sysname, version) = (field(&uts.release), field(&uts.sysname), field(&uts.version));
        out.family(
            "node_uname_info",
            "Labeled system information as provided by the uname system call.",
            MetricType::Gauge,
        );
        out.sample(
            &[
                ("domainname", &domainname),
                ("machine", &machine),
                ("nodename", &nodename),
                ("release", &release),
                ("sysname", &sysname),
                ("version", &version),
            ],
            1.0,
        );
        Ok(())
    }
}
