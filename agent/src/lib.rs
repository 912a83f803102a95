//! sonde: a monitoring agent for small Linux appliances.
//!
//! One static binary that reads what the box knows about itself (/proc,
//! /sys, chronyd's and Unbound's control sockets), checks its services,
//! and serves the result as a Prometheus endpoint, pushes it, or prints it
//! once. See
//! DESIGN.md in the repository for the whole plan; this crate is the
//! library half, `main.rs` the command line.
//!
//! # Layout
//!
//! Layers, each importing only those below it (docs/architecture.md says
//! where a new collector, check kind, service or delivery target goes):
//!
//! * [`wire`]: pure codecs over byte slices (the /proc file formats,
//!   chronyd's command protocol, DNS, NTP, the exposition, TOML). No I/O,
//!   no clock, no panics, nothing of sonde imported; fuzzed.
//! * [`limits`]: every capacity and deadline, named.
//! * [`sys`]: thin shells over the OS (bounded file reads, sockets,
//!   datagram exchanges and statfs with deadlines, signals), the toolkit
//!   every waiting part shares ([`sys::time`]: deadlines, a stop signal,
//!   backoff, random numbers, say-once transitions) and sonde's own log
//!   ([`sys::log`]).
//! * [`resolve`]: names to addresses by a deadline: IP literals, the
//!   hosts file, then resolv.conf's nameservers, asked by sonde itself.
//! * [`expo`]: the one writer of the exposition text, bounded.
//! * [`service`]: the shape of a long-running part of the agent.
//! * [`tls`]: client TLS settings in every build; with the `tls` feature,
//!   the rustls client that push, the checks and Unbound's control share.
//! * The domains, each owning its settings type: [`collect`] (one file per
//!   collector and the ordered registry), [`check`] (service checks, one
//!   file per kind, the fan-out over addresses and the scheduler service),
//!   [`deliver`] (the queue, spool, sender and accounting any outbound
//!   stream shares, and its HTTP and SMTP clients), [`push`] (Remote-Write
//!   over it, the push service), [`logs`] (files followed through
//!   rotation, forwarded as syslog over the same delivery, counted by
//!   rules) and [`notify`] (events to Alertmanager, mail and webhooks,
//!   over it too).
//! * [`config`]: maps the config file and the flags onto the domains'
//!   settings, every error with its line.
//! * [`agent`]: the running agent: the config in force, the services and
//!   their lifecycle, the scrape assembler, `--once`.
//! * [`serve`]: the HTTP endpoint, the main loop with its signals, `/probe`.
//!
//! # Threads
//!
//! The main thread runs the accept loop (or the single `--once` cycle).
//! HTTP connections are served by a pool of threads with 64 KiB stacks,
//! started on demand up to [`limits::MAX_CONNECTIONS`] and then kept; a
//! `/probe` checks a target's addresses on threads of their own (128 KiB,
//! at most [`limits::MAX_ADDRESSES`] per probe and [`limits::MAX_PROBES`]
//! probes at once). The filesystem collector asks statfs(2) on a helper
//! thread with a 64 KiB stack, started at the first scrape and kept; a
//! helper stuck on a dead mount is left behind and replaced, at most
//! [`limits::MAX_STUCK_STATFS`] at once ([`sys::statfs`]).
//!
//! Each service adds its own, started with the config and stopped by its
//! `Stop`:
//! * checks: one scheduler thread (256 KiB stack) running the configured
//!   checks one at a time, each target's addresses on scoped threads of
//!   their own, so a check never holds up a scrape;
//! * push: one thread collecting on the push interval, one sending (one
//!   request in flight at a time);
//! * logs: one follower thread (256 KiB stack) polling every path, and one
//!   sending thread per forwarding `[[log]]` (at most 32);
//! * notify: one ticker (2 MiB stack: reminders, and a collection for the
//!   daemons' look when nothing else collected for a while), and
//!   one sending thread per `[[notify]]` output.

pub mod agent;
pub mod check;
pub mod collect;
pub mod config;
pub mod deliver;
pub mod expo;
pub mod limits;
pub mod logs;
pub mod notify;
pub mod push;
pub mod resolve;
pub mod serve;
pub mod service;
pub mod sys;
pub mod tls;
pub mod watch;
pub mod wire;
