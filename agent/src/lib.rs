//! sonde: a monitoring agent for small Linux appliances.
//!
//! One static binary that reads what the box knows about itself (/proc,
//! /sys, chronyd's command socket), and serves it as a Prometheus endpoint
//! or prints it once. See
//! DESIGN.md in the repository for the whole plan; this crate is the
//! library half, `main.rs` the command line.
//!
//! # Layout
//!
//! * [`wire`]: pure codecs over byte slices (the /proc file formats,
//!   chronyd's command protocol). No I/O, no clock, no panics; fuzzed.
//! * [`collect`]: one file per collector and the ordered registry that
//!   runs them and reports each one's success and duration.
//! * [`check`]: service checks (TCP send/expect, DNS, NTP) as values,
//!   per address family, their scheduler and `/probe`.
//! * [`expo`]: the one writer of the exposition text, bounded.
//! * [`config`]: the config file's syntax, its schema, the embedded
//!   default, and the flags that override it.
//! * [`serve`]: the HTTP endpoint and the main loop with its signals.
//! * [`push`]: Remote-Write batches, the memory-first queue, the spool and
//!   the HTTP client that sends them.
//! * [`sys`]: thin shells over the OS: bounded file reads, listening
//!   sockets, datagram exchanges with deadlines, signals.
//! * [`limits`]: every capacity and deadline, named.
//! * `tls` (cargo feature `tls`): the TLS client that push over https and
//!   Unbound's control port share.
//!
//! # Threads
//!
//! The main thread runs the accept loop (or the single `--once` cycle).
//! HTTP connections are served by a pool of threads with 64 KiB stacks,
//! started on demand up to [`limits::MAX_CONNECTIONS`] and then kept.
//! The filesystem collector asks statfs(2) on a helper thread with a
//! 64 KiB stack, started at the first scrape and kept; a helper stuck on a
//! dead mount is left behind and replaced, at most
//! [`limits::MAX_STUCK_STATFS`] at once ([`sys::statfs`]).
//! Configured service checks run one at a time on a scheduler thread of
//! their own (256 KiB stack), started with the config and replaced on a
//! reload that changes them, so a check never holds up a scrape.
//! With push on, two more: one collecting on the push interval, one
//! sending (one request in flight at a time).

pub mod agent;
pub mod check;
pub mod collect;
pub mod config;
pub mod deliver;
pub mod expo;
pub mod limits;
pub mod push;
pub mod serve;
pub mod service;
pub mod sys;
pub mod tls;
pub mod wire;
