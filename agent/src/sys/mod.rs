//! Thin shells over the operating system: bounded file reads, listening
//! sockets, datagram request/reply with deadlines, ICMP echo sockets, statfs(2) with a
//! deadline, signals; and the toolkit every waiting part shares ([`time`]:
//! deadlines, a stop signal, backoff, random numbers) and sonde's own
//! log ([`log`]).
//!
//! Everything here does I/O and nothing else: no parsing, no formatting.
//! Every read is bounded by a named limit and every wait by a deadline, so
//! the layers above can treat a hostile file or peer as an ordinary error.

// Thumb code on ARMv6 (armv6's build) calls these for every atomic.
#[cfg(all(target_arch = "arm", target_feature = "thumb-mode", not(target_feature = "thumb2")))]
mod arm_sync;
pub mod dgram;
pub mod file;
pub mod icmp;
pub mod lock;
pub mod log;
pub mod net;
pub mod process;
pub mod signal;
pub mod statfs;
// musl's own links its printf for a path sonde never names threads by.
#[cfg(target_env = "musl")]
mod thread_name;
pub mod time;
