//! Parsers for the /proc files the host collectors read, one file per
//! kernel file (proc(5) names them). Each is a pure function or iterator
//! over the file's bytes; lines it does not know are skipped, lines it
//! knows but cannot read are reported with their line number, and the
//! caller keeps what parsed.

pub mod loadavg;
pub mod meminfo;
pub mod stat;
