//! `filefd`: file handles allocated and the system-wide maximum, from
//! /proc/sys/fs/file-nr, as node_exporter's `node_filefd_allocated` and
//! `node_filefd_maximum`.

use super::common::single;
use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::file_nr;

pub struct Filefd;

impl Collector for Filefd {
    fn name(&self) -> &'static str {
        "filefd"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("sys/fs/file-nr")?;
        let [allocated, _, maximum] = file_nr::parse(bytes).map_err(|e| cx.parse_error(e))?;
        single(
            out,
            "node_filefd_allocated",
            "File descriptor statistics: allocated.",
            MetricType::Gauge,
            allocated as f64,
        );
        single(out, "node_filefd_maximum", "File descriptor statistics: maximum.", MetricType::Gauge, maximum as f64);
        Ok(())
    }
}
