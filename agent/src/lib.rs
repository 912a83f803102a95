//! sonde: a monitoring agent for small Linux appliances.
//!
//! One static binary that reads what the box knows about itself (/proc,
//! /sys), and serves it as a Prometheus endpoint or prints it once. See
//! DESIGN.md in the repository for the whole plan; this crate is the
//! library half, `main.rs` the command line.
//!
//! # Layout
//!
//! * [`wire`]: pure codecs over byte slices (the /proc file formats). No
//!   I/O, no clock, no panics; fuzzed.
//! * [`collect`]: one file per collector and the ordered registry that
//!   runs them and reports each one's success and duration.
//! * [`expo`]: the one writer of the exposition text, bounded.
//! * [`config`]: the config file's syntax, its schema, the embedded
//!   default, and the flags that override it.
//! * [`serve`]: the HTTP endpoint and the main loop with its signals.
//! * [`sys`]: thin shells over the OS: bounded file reads, sockets,
//!   signals.
//! * [`limits`]: every capacity and deadline, named.
//!
//! # Threads
//!
//! The main thread runs the accept loop (or the single `--once` cycle).
//! HTTP connections are served by a pool of threads with 64 KiB stacks,
//! started on demand up to [`limits::MAX_CONNECTIONS`] and then kept.
//! There are no other threads.

pub mod collect;
pub mod config;
pub mod expo;
pub mod limits;
pub mod serve;
pub mod sys;
pub mod wire;
