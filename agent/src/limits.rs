//! Every capacity and deadline of the agent, named in one place.
//!
//! sonde runs on boxes with a few MiB to spare and faces input it does not
//! control (HTTP clients, /proc files, config files). Each bound here is the
//! reason some buffer or wait cannot grow without limit; the code that
//! enforces it names the constant.

use std::time::Duration;

/// Connections served at once. Beyond this, new connections wait in the
/// kernel's accept queue until a slot frees, so a burst of scrapes is slowed
/// down, not refused, and idle clients can hold at most this many slots.
pub const MAX_CONNECTIONS: usize = 16;

/// Length of the kernel's accept queue for each listening socket.
pub const LISTEN_BACKLOG: i32 = 64;

/// Largest request head (request line and headers) accepted; a longer one
/// gets `431 Request Header Fields Too Large`.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// Most header lines in a request head; more also gets 431.
pub const MAX_REQUEST_HEADERS: usize = 32;

/// Time a client has, from accept, to send its whole request head. A total,
/// not per read, so a client trickling one byte at a time cannot hold a slot.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// Time a client has to take the whole response.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// After an error response, how long unread request bytes are drained
/// before the close, so the client reads the status instead of a reset.
pub const LINGER: Duration = Duration::from_millis(500);

/// Stack of a connection thread. A request needs the head buffer plus
/// httparse's header array; the exposition itself lives on the heap.
pub const CONNECTION_STACK: usize = 64 * 1024;

/// Largest exposition one scrape may produce. A collector whose output
/// would cross it is removed whole and counted, never cut mid-family.
pub const MAX_EXPOSITION: usize = 4 * 1024 * 1024;

/// Part of [`MAX_EXPOSITION`] kept for sonde's own families, so the report
/// of an overflow always fits.
pub const SELF_RESERVE: usize = 16 * 1024;

/// Longest label value written; a longer one rejects its sample.
pub const MAX_LABEL_VALUE: usize = 4 * 1024;

/// Largest /proc or /sys file read. Such files report no useful size, so
/// they are read in a loop up to this bound; a larger one is an error.
pub const MAX_PROC_FILE: usize = 1024 * 1024;

/// Largest config file accepted.
pub const MAX_CONFIG_FILE: usize = 1024 * 1024;

/// How long a stop waits for responses in flight before exiting anyway.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
