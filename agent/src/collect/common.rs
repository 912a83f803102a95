//! Helpers the host collectors share: reading a one-number file, writing a
//! one-sample family, sorting names.
//!
//! A kernel without a feature has no file for it (no conntrack module, no
//! PSI, no IPv6); node_exporter calls that "no data" and reports success,
//! and so does sonde ([`Context::read_opt`]). A file that exists but cannot
//! be read or parsed is a failure.

use super::{Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::number;

/// The number in a one-number file; `None` if the file is absent.
pub fn read_number(cx: &mut Context<'_>, root: Root, parts: &[&str]) -> Result<Option<i64>, Error> {
    let Some(bytes) = cx.read_opt(root, parts)? else {
        return Ok(None);
    };
    number::parse(bytes).map(Some).map_err(|e| cx.parse_error(e))
}

/// A family of one sample without labels.
pub fn single(out: &mut Exposition, name: &str, help: &str, kind: MetricType, value: f64) {
    out.family(name, help, kind);
    out.sample(&[], value);
}

/// Sorts names in place. Directory listings are tens of entries; an
/// insertion sort is a few hundred bytes of code where the standard
/// library's sorts, instantiated per element type, cost kilobytes.
pub fn sort_names(v: &mut [String]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}
