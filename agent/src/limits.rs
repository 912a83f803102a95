//! Every capacity and deadline of the agent, named in one place.
//!
//! sonde runs on boxes with a few MiB to spare and faces input it does not
//! control (HTTP clients, /proc files, config files). Each bound here is the
//! reason some buffer or wait cannot grow without limit; the code that
//! enforces it names the constant.

use std::time::Duration;

/// Requests served at once: the connection threads. A connection takes
/// one only once its whole request head has arrived, so clients that
/// connect and send nothing, or trickle their head, never hold one; more
/// requests than this wait, in order, for the first thread to finish.
pub const MAX_CONNECTIONS: usize = 16;

/// Connections held open at once: waiting for their request head (in the
/// main loop, a file descriptor and a few bytes each), waiting for a
/// thread, or served. At the bound, the connection that has waited longest
/// for its head is answered 408 and closed for each new one, so a flood of
/// idle connections cannot shut out a scraper that sends its request at
/// once. Lower if the hard limit of open files is (less 128 for the rest).
pub const MAX_OPEN_CONNECTIONS: usize = 1024;

/// Length of the kernel's accept queue for each listening socket. The main
/// loop accepts as soon as a connection is made, so this only absorbs a
/// burst between two of its turns.
pub const LISTEN_BACKLOG: i32 = 256;

/// Largest request head (request line and headers) accepted; a longer one
/// gets `431 Request Header Fields Too Large`.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// Most header lines in a request head; more also gets 431.
pub const MAX_REQUEST_HEADERS: usize = 32;

/// Time a client has, from accept, to send its whole request head. A total,
/// not per read, so a client trickling one byte at a time is closed at
/// this deadline whatever its pace (it holds no thread meanwhile).
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// How long a kept-alive connection may wait for its next request (it
/// waits in the main loop, like a new one, and counts against
/// [`MAX_OPEN_CONNECTIONS`]; at that bound idle ones are closed first).
/// Prometheus's client keeps an idle connection 5 minutes; a scrape
/// interval up to this reuses its connection.
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(300);

/// Time a client has to take the whole response.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// After an error response, how long unread request bytes are drained
/// before the close, so the client reads the status instead of a reset.
pub const LINGER: Duration = Duration::from_millis(500);

/// Stack of a connection thread. A request needs the head buffer plus
/// httparse's header array; the exposition itself lives on the heap. A
/// TLS handshake (the tls build's endpoint) overflows 64 KiB; the stack is
/// mapped, not touched, so the larger one costs only the pages used.
pub const CONNECTION_STACK: usize = if cfg!(feature = "tls") { 256 * 1024 } else { 64 * 1024 };

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

/// Longest the chrony collector may take in one scrape, every request and
/// retry included; past it the collector gives up and reports failure, so
/// a chronyd that stopped answering costs a scrape this much at most.
pub const CHRONY_DEADLINE: Duration = Duration::from_secs(3);

/// Times a chrony request is sent again when its timeout passes without a
/// reply (chronyc's own limit).
pub const CHRONY_RETRIES: u32 = 2;

/// Most chronyd sources reported in one scrape. Each costs up to four
/// requests; a chronyd with more reports the first this many, and the
/// collector says so by failing.
pub const MAX_CHRONY_SOURCES: usize = 64;

/// Most entries read from one sysfs directory (network devices, sensors,
/// block devices); a directory with more fails its collector.
pub const MAX_DIR_ENTRIES: usize = 1024;

/// Most mount points whose statfs(2) may hang at once. A mount that does
/// not answer within `[filesystem] timeout` keeps its helper thread (it
/// cannot be interrupted) and is skipped by later scrapes until that call
/// returns; past this many such threads, further mounts are not asked.
pub const MAX_STUCK_STATFS: usize = 4;

/// Stack of a statfs(2) helper thread: the call needs a few hundred bytes.
pub const STATFS_STACK: usize = 64 * 1024;

/// Most `*.prom` files the textfile collector reads in one scrape; a
/// directory with more reads the first ones (by name) and reports the
/// error in `node_textfile_scrape_error`.
pub const MAX_TEXTFILES: usize = 256;

/// Most processes and threads the processes collector counts in one scrape
/// (the kernel's own pid_max default is 32768; 4194304 on 64-bit hosts
/// with systemd). Past it the collector fails rather than take seconds.
pub const MAX_PROCESSES: usize = 65536;

/// Longest the unbound collector may take in one scrape, connect and
/// reply included; past it the collector gives up and reports failure.
pub const UNBOUND_DEADLINE: Duration = Duration::from_secs(3);

/// Largest `stats_noreset` reply read. Unbound 1.17 sends about 4 KiB with
/// extended statistics and one thread; each more thread adds about 0.6 KiB.
/// A longer reply fails the collector rather than grow the buffer.
pub const MAX_UNBOUND_REPLY: usize = 256 * 1024;

/// Bounds of the Unbound statistics codec, which owns them (wire imports
/// nothing of sonde).
pub use crate::wire::unbound::{MAX_UNBOUND_BUCKETS, MAX_UNBOUND_LABELLED, MAX_UNBOUND_THREADS};

/// Addresses checked per target of a service check; a name with more is
/// cut, in resolver order, so a name with hundreds of records cannot make
/// one check take hundreds of series. The addresses are checked at once,
/// one thread each, so this also bounds a check's threads.
pub const MAX_ADDRESSES: usize = 8;

/// Stack of the thread that checks one address. A check keeps its buffers
/// (a DNS message, the dialogue's lines) on the heap; this is headroom for
/// the socket calls and a TLS handshake. Untouched pages cost no memory.
pub const ADDRESS_STACK: usize = 128 * 1024;

/// Stack of a thread that runs configured checks on their schedule. A
/// check keeps its buffers on the heap; this is headroom for the name
/// lookup ([`crate::resolve`]), the socket calls and a TLS handshake with
/// the system's CA bundle. Untouched pages cost no memory.
pub const CHECKS_STACK: usize = 256 * 1024;

/// Configured checks (`[[check]]` tables) per config. Each costs a slot of
/// the schedule and about ten series; 1024 checks on a 15 s interval keep
/// the pool below busy and the exposition under half a megabyte.
pub const MAX_CHECKS: usize = 1024;

/// Configured checks run at once, each on a worker of its own; the pool
/// has no more workers than checks. A check blocked on a blackholed target
/// holds one worker until its timeout: 32 workers keep 500 checks on a
/// 15 s interval on schedule with 50 of them blackholed at a 5 s timeout
/// (the bench), with each worker's stack only touched, not reserved.
pub const MAX_CHECK_WORKERS: usize = 32;

/// Timeout of a `/probe` request's check per address when the module sets
/// none: 5 s, well under Prometheus's default 10 s scrape timeout, so the
/// answer arrives before the scraper gives up.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a `/probe` leaves unused of the scrape timeout Prometheus sends
/// (`X-Prometheus-Scrape-Timeout-Seconds`), for the answer to travel back
/// before Prometheus gives up: blackbox_exporter's `--timeout-offset`
/// default.
pub const PROBE_TIMEOUT_OFFSET: Duration = Duration::from_millis(500);

/// Longest a `/probe` check may take whatever the header says: a bound on
/// how long one request can hold a connection slot (blackbox_exporter
/// allows 120 s; a scrape timeout past 30 s is rare).
pub const MAX_PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// `/probe` checks running at once; one more is answered `503 Service
/// Unavailable` at once, so probes of blackholed targets can hold at most
/// half of the [`MAX_CONNECTIONS`] slots and `/metrics` always has some.
pub const MAX_PROBES: usize = MAX_CONNECTIONS / 2;

/// Largest exposition of one `/probe` answer: one check's families for at
/// most [`MAX_ADDRESSES`] addresses take a few KiB.
pub const MAX_PROBE_BODY: usize = 64 * 1024;

/// Bytes read from a peer in one TCP check's dialogue; a server streaming
/// garbage ends the check here or at its deadline, whichever comes first.
pub const MAX_DIALOGUE_READ: usize = 64 * 1024;

/// Bytes of one received line kept for an `expect` pattern; a longer line
/// is cut and its head still matched (no banner is near this long).
pub const MAX_DIALOGUE_LINE: usize = 4096;

/// Largest HTTP response head an http check reads (status line and
/// header fields); a longer one fails the check as `too_large`. A web
/// server's head is a few hundred bytes, one with a large
/// Content-Security-Policy a few KiB; Go's client, blackbox_exporter's,
/// allows 10 MB.
pub const MAX_HTTP_HEAD: usize = 64 * 1024;

/// Most body bytes an http check keeps to match its
/// `fail_if_body_[not_]matches_regexp` patterns against; a longer body
/// fails it as `too_large` (a smaller `body_size_limit` ends the read
/// sooner). Without such patterns a body is counted as it streams past,
/// never kept, however long.
pub const MAX_HTTP_BODY_KEPT: usize = 1024 * 1024;

/// Echoes one icmp check sends per run (`count`). Each is a few bytes of
/// state; the bound keeps a run's echoes spaced apart within its timeout.
pub const MAX_ICMP_COUNT: u32 = 100;

/// A wall clock before this (2026-01-01T00:00:00Z, the year this code was
/// written) is not set yet: push holds its cycles until it is.
pub const CLOCK_FLOOR_SECS: u64 = 1_767_225_600;

/// Log files followed at once, over every `[[log]]` and `[[log_rule]]`
/// path: each is an open file descriptor (a rotated file being drained
/// counts too). A file past it is not followed, and counted in
/// `sonde_log_files_ignored{reason="too_many"}`.
pub const MAX_LOG_FILES: usize = 256;

/// Files followed for one path or glob; the first ones by name are kept,
/// the rest counted as ignored (`reason="too_many"`).
pub const MAX_LOG_FILES_PER_PATH: usize = 64;

/// Directory entries a glob may look at in one scan; a glob whose
/// directories hold more is scanned this far.
pub const MAX_GLOB_ENTRIES: usize = 100_000;

/// Longest log line kept: a longer one is cut here (forwarded or matched
/// as its head, counted in `sonde_log_lines_truncated_total`) and the rest
/// of it skipped, never the file dropped.
pub const MAX_LOG_LINE: usize = 64 * 1024;

/// Bytes read from one path's files in one poll, so one busy file does not
/// starve the others; the next poll follows at once.
pub const LOG_READ_BUDGET: usize = 1024 * 1024;

/// Largest batch of forwarded lines, and most lines in one.
pub const MAX_LOG_BATCH: usize = 64 * 1024;
pub const MAX_LOG_BATCH_LINES: u32 = 1024;

/// How often followed files are looked at when nothing is pending.
pub const LOG_POLL: Duration = Duration::from_millis(250);

/// How often a glob is expanded again for new files (a plain path is
/// looked at every poll).
pub const LOG_GLOB_RESCAN: Duration = Duration::from_secs(5);

/// How long a file that is no longer at its path (renamed by a rotation,
/// deleted) is still read after it last grew: a writer may append to its
/// open descriptor until it reopens the log.
pub const LOG_ROTATE_WAIT: Duration = Duration::from_secs(5);

/// How long a last line without its newline waits for it before it is
/// taken as it is.
pub const LOG_PARTIAL_WAIT: Duration = Duration::from_secs(5);

/// Files of a directory looked at when searching for a rotated copy or a
/// renamed file (rotation while sonde was stopped, copytruncate).
pub const MAX_LOG_SIBLINGS: usize = 256;

/// How often log positions are written to the state file (temp, fsync,
/// rename) when they changed; between, each delivery appends to a journal
/// that is never fsynced (the page cache keeps it across a SIGKILL, and
/// the kernel writes it back in its own time).
pub const LOG_STATE_SYNC: Duration = Duration::from_secs(60);

/// A journal past this size is folded into the state file at once.
pub const MAX_LOG_JOURNAL: u64 = 256 * 1024;

/// Distinct label sets one log rule keeps; a match with another one is
/// counted in the rule's unlabelled series and refused as a label set
/// (`sonde_log_rule_dropped_total{reason="label_values"}`).
pub const MAX_RULE_SERIES: usize = 100;

/// Longest captured text used as a label value; a longer one is refused
/// like a label set past [`MAX_RULE_SERIES`].
pub const MAX_RULE_LABEL_VALUE: usize = 128;

/// Events one rule may raise per minute; more are counted, not raised.
pub const MAX_RULE_EVENTS_PER_MINUTE: u32 = 10;

/// sonde's own log lines waiting to be forwarded; more are dropped and
/// counted (`reason="memory_full"`).
pub const MAX_OWN_LOG_LINES: usize = 256;
