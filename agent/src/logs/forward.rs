//! Forwarding a path's lines as syslog: each line becomes a message
//! ([`crate::wire::syslog`]), messages become batches, and batches go
//! through the generic delivery ([`crate::deliver`]) to one receiver over
//! UDP, TCP or TLS ([`Syslog`], a [`Transport`] like Remote-Write's).
//!
//! A batch is the positions its lines complete, then the messages as
//! octet-counted frames ([`crate::wire::logstate`]'s batch layout); the
//! transport sends the frames as the receiver wants them (a datagram each
//! over UDP, octet counting or line feeds on a stream), and records the
//! positions as it sends them (just before; put back if the send fails):
//! a line's position moves when it is delivered, so a crash repeats
//! nothing and loses nothing.
//!
//! What "delivered" can mean differs by transport, and is said here once:
//! - UDP has no answer at all: a datagram sent is delivered. A receiver
//!   that is down is noticed only when the kernel reports the ICMP error
//!   of an earlier datagram (then the batch is retried from the datagram
//!   that failed); the one the error was about is lost uncounted.
//! - TCP and TLS: written into the connection. Before each batch the
//!   connection is checked for the receiver's end of it (a receiver that
//!   stopped or restarted while it was idle), so no batch is written into
//!   a connection that can no longer deliver it — the classic way `tail |
//!   logger` and simple forwarders lose the first lines after a receiver
//!   restart. What a receiver has acknowledged but not yet read when it
//!   dies is lost without sonde knowing; syslog has no acknowledgement
//!   of its own (rsyslog's RELP has; not spoken here).

use std::borrow::Cow;
use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::follow::Tail;
use super::state::{Position, Positions};
use super::{Forward, Protocol};
use crate::deliver::{Answer, AnyTransport, Batch, DropReason, Fate, Outbox, Queue, Sender, Transport};
use crate::limits::{MAX_LOG_BATCH, MAX_LOG_BATCH_LINES};
use crate::sys::time::{now_ms, Deadline};
use crate::wire::logstate::{self, hash};
use crate::wire::syslog::{self, Header};

/// In the log: the owner, and what its batches count.
pub const WHAT: (&str, &str) = ("logs", "lines");

/// Backoff between attempts, after a failure.
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The receiver of one `[[log]]`.
pub struct Syslog {
    f: Forward,
    conn: Option<Conn>,
    /// A batch partly sent over UDP: its hash and the datagrams sent.
    resume: Option<(u64, usize)>,
    positions: Arc<Mutex<Positions>>,
    /// The stream's bytes, for line-feed framing.
    wire: Vec<u8>,
}

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::Stream>),
}

impl Syslog {
    /// Reads the TLS files now, so a bad one stops the start with its name.
    pub fn new(f: &Forward, positions: Arc<Mutex<Positions>>) -> Result<Syslog, String> {
        #[cfg(feature = "tls")]
        if f.protocol == Protocol::Tls {
            crate::tls::client_config(&f.tls).map_err(|e| format!("{}: TLS: {e}", f.url))?;
        }
        Ok(Syslog { f: f.clone(), conn: None, resume: None, positions, wire: Vec::new() })
    }

    /// Sends a batch, on a connection the receiver has not closed or on a
    /// new one; records `positions` once connected (what changed, in
    /// `changed`, for [`Positions::undo`] if the send fails).
    fn deliver(
        &mut self,
        payload: &[u8],
        frames: &[u8],
        positions: logstate::Positions<'_>,
        changed: &mut Vec<(Position, Position)>,
        deadline: Deadline,
    ) -> io::Result<()> {
        if let Some(c) = &self.conn {
            if !alive(c) {
                self.conn = None;
            }
        }
        if self.conn.is_none() {
            self.conn = Some(self.connect(deadline)?);
        }
        *changed = self.positions.lock().unwrap_or_else(PoisonError::into_inner).commit_batch(positions.iter());
        let Some(conn) = self.conn.as_mut() else { return Err(io::ErrorKind::NotConnected.into()) };
        match conn {
            Conn::Udp(s) => {
                let id = hash(payload);
                let skip = self.resume.filter(|(h, _)| *h == id).map_or(0, |(_, n)| n);
                for (n, msg) in messages(frames).enumerate().skip(skip) {
                    if let Err(e) = s.send(msg) {
                        self.resume = Some((id, n));
                        return Err(e);
                    }
                }
                self.resume = None;
                Ok(())
            }
            _ => write_by(conn, stream_bytes(frames, self.f.octet_counting, &mut self.wire), deadline),
        }
    }

    fn connect(&self, deadline: Deadline) -> io::Result<Conn> {
        let addrs = crate::resolve::lookup(&self.f.host, self.f.port, deadline).map_err(|e| e.io(&self.f.host))?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{} has no address", self.f.host));
        for addr in addrs {
            let conn = match self.f.protocol {
                Protocol::Udp => {
                    let any: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
                    UdpSocket::bind(any).and_then(|s| s.connect(addr).map(|()| Conn::Udp(s)))
                }
                Protocol::Tcp => crate::sys::net::connect(addr, deadline.left_io()?).map(Conn::Tcp),
                #[cfg(feature = "tls")]
                Protocol::Tls => crate::sys::net::connect(addr, deadline.left_io()?).and_then(|tcp| {
                    let name = self.f.tls.server_name.as_deref().unwrap_or(&self.f.host);
                    let config = crate::tls::client_config(&self.f.tls)?;
                    let mut s = crate::tls::connect(tcp, &config, name)?;
                    // The handshake now, so a refused one says why.
                    while s.conn.is_handshaking() {
                        arm(&s.sock, deadline)?;
                        s.conn.complete_io(&mut s.sock)?;
                    }
                    Ok(Conn::Tls(Box::new(s)))
                }),
                #[cfg(not(feature = "tls"))]
                Protocol::Tls => Err(io::Error::new(io::ErrorKind::Unsupported, crate::tls::WITHOUT_TLS)),
            };
            match conn {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Transport for Syslog {
    fn target(&self) -> &str {
        &self.f.url
    }

    fn send(&mut self, b: &Batch) -> Answer {
        let answer = |fate, said: String| Answer { fate, retry_after: None, status: 0, said, misconfigured: false };
        let Ok((positions, frames)) = logstate::split_batch(&b.payload) else {
            // Only a damaged spool can hold one.
            return answer(Fate::Dropped(DropReason::Rejected), "a damaged batch".into());
        };
        // The positions are recorded once connected (a receiver that is
        // down, every retry of an outage, never moves one), before the
        // batch goes, and put back if it does not: a SIGKILL between the
        // two repeats nothing. The other order would repeat the batch
        // whenever the kill came while this thread waited for the
        // processor after its write woke the receiver, which a loaded box
        // makes likely; this one loses a batch only if the kill falls
        // between two system calls that wake no one (the journal's append
        // and the write).
        let mut changed = Vec::new();
        match self.deliver(&b.payload, frames, positions, &mut changed, Deadline::after(self.f.timeout)) {
            Ok(()) => answer(Fate::Delivered, String::new()),
            Err(e) => {
                self.positions.lock().unwrap_or_else(PoisonError::into_inner).undo(&changed);
                if !matches!(self.conn, Some(Conn::Udp(_))) {
                    self.conn = None;
                }
                answer(Fate::Retry, e.to_string())
            }
        }
    }
}

/// The messages of octet-counted frames (sonde's own: well formed).
fn messages(frames: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = frames;
    std::iter::from_fn(move || {
        let (msg, used) = syslog::parse_frame(rest).ok()?;
        rest = &rest[used..];
        Some(msg)
    })
}

/// What goes on the stream: the frames as they are, or each message ended
/// by a line feed.
fn stream_bytes<'a>(frames: &'a [u8], octet_counting: bool, wire: &'a mut Vec<u8>) -> &'a [u8] {
    if octet_counting {
        return frames;
    }
    wire.clear();
    for m in messages(frames) {
        wire.extend_from_slice(m);
        wire.push(b'\n');
    }
    wire
}

/// Whether a stream is still open at the receiver's end: no hang-up, no
/// error, no end of stream waiting (poll(2) with POLLRDHUP, which says
/// the receiver closed even when a TLS session ticket is unread).
fn alive(c: &Conn) -> bool {
    let fd = match c {
        Conn::Udp(_) => return true,
        Conn::Tcp(s) => s.as_raw_fd(),
        #[cfg(feature = "tls")]
        Conn::Tls(s) => s.sock.as_raw_fd(),
    };
    let mut p = libc::pollfd { fd, events: libc::POLLIN | libc::POLLRDHUP, revents: 0 };
    // SAFETY: one pollfd, owned here, for a descriptor that is open.
    let n = unsafe { libc::poll(&raw mut p, 1, 0) };
    if n <= 0 {
        return n == 0 || io::Error::last_os_error().kind() == io::ErrorKind::Interrupted;
    }
    if p.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        return false;
    }
    if matches!(c, Conn::Tcp(_)) && p.revents & libc::POLLIN != 0 {
        // A receiver says nothing; what it did say is read and dropped.
        let mut junk = [0u8; 512];
        // SAFETY: junk is writable for its length.
        let n = unsafe { libc::recv(fd, junk.as_mut_ptr().cast(), junk.len(), libc::MSG_DONTWAIT) };
        return n != 0;
    }
    true
}

/// Gives the socket's reads and writes the time left: both, as a TLS
/// write may read (the handshake) and a TLS read may write.
fn arm(sock: &TcpStream, deadline: Deadline) -> io::Result<()> {
    let left = deadline.left_io()?;
    sock.set_read_timeout(Some(left))?;
    sock.set_write_timeout(Some(left))
}

/// Writes all of `bytes` to a stream, or fails at the deadline.
fn write_by(conn: &mut Conn, mut bytes: &[u8], deadline: Deadline) -> io::Result<()> {
    use io::Write as _;
    while !bytes.is_empty() {
        let wrote = match conn {
            Conn::Udp(_) => return Err(io::ErrorKind::Unsupported.into()),
            Conn::Tcp(s) => arm(s, deadline).and_then(|()| s.write(bytes)),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => arm(&s.sock, deadline).and_then(|()| s.write(bytes)),
        };
        match wrote {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(feature = "tls")]
    if let Conn::Tls(s) = conn {
        // TLS keeps records back until flushed.
        arm(&s.sock, deadline)?;
        s.flush()?;
    }
    Ok(())
}

/// Where a forwarder's batches go: a queue with its sending thread
/// (daemon), or a queue sent from by the caller (`--once`).
pub enum Delivery {
    Outbox(Arc<Outbox>),
    Direct { queue: Box<Mutex<Queue>>, sender: Box<Sender<AnyTransport>> },
}

impl Delivery {
    pub fn queue(&self) -> &Mutex<Queue> {
        match self {
            Delivery::Outbox(o) => o.queue(),
            Delivery::Direct { queue, .. } => queue,
        }
    }
}

/// The lines of one `[[log]]` on their way: the batch being made and the
/// delivery it goes to.
pub struct Forwarder {
    f: Forward,
    replace_invalid: bool,
    pub delivery: Delivery,
    frames: Vec<u8>,
    lines: u32,
    oldest_ms: i64,
    /// The latest position of each file with lines in the batch.
    touched: Vec<Position>,
    msg: Vec<u8>,
    /// Lines found queued in the spool at the start (read by an earlier
    /// run).
    pub initial: u64,
    /// Messages cut at `max_message`.
    pub cut: u64,
}

impl Forwarder {
    /// Opens the queue (and its spool, whose batches' positions are taken
    /// as settled: they will be sent from there) and the transport.
    pub fn open(
        f: &Forward,
        replace_invalid: bool,
        source: u64,
        state_dir: &Path,
        positions: &Arc<Mutex<Positions>>,
        daemon: bool,
    ) -> Result<Forwarder, String> {
        let spool = f.spool.then(|| state_dir.join("log-spool").join(format!("{source:016x}")));
        let queue = Queue::open(WHAT, f.memory_cap, spool.as_deref(), f.spool_cap)?;
        {
            let mut p = positions.lock().unwrap_or_else(PoisonError::into_inner);
            queue.for_each_queued(|payload| {
                if let Ok((pos, _)) = logstate::split_batch(payload) {
                    pos.iter().for_each(|e| p.merge(&e));
                }
            });
        }
        let (memory, spooled) = queue.queued();
        let transport: AnyTransport = Box::new(Syslog::new(f, Arc::clone(positions))?);
        let sender = Sender::new(transport, WHAT, f.max_age, MIN_BACKOFF, MAX_BACKOFF);
        let delivery = if daemon {
            let outbox = Outbox::start("sonde-log-send", queue, sender)
                .map_err(|e| format!("cannot start the log sender thread: {e}"))?;
            Delivery::Outbox(Arc::new(outbox))
        } else {
            Delivery::Direct { queue: Box::new(Mutex::new(queue)), sender: Box::new(sender) }
        };
        Ok(Forwarder {
            f: f.clone(),
            replace_invalid,
            delivery,
            frames: Vec::new(),
            lines: 0,
            oldest_ms: 0,
            touched: Vec::new(),
            msg: Vec::new(),
            initial: memory + spooled,
            cut: 0,
        })
    }

    /// Adds one line: of `tail` (its position already past it), or of
    /// sonde's own log (`severity` then is its level's). `app` is the
    /// APP-NAME unless `app_name` is set; `cut`: the follower cut it.
    pub fn line(&mut self, tail: Option<(&Tail, u64)>, app: &str, line: &[u8], cut: bool, severity: Option<u8>) {
        let text: Cow<'_, [u8]> = match (self.replace_invalid, std::str::from_utf8(line)) {
            (true, Err(_)) => Cow::Owned(String::from_utf8_lossy(line).into_owned().into_bytes()),
            _ => Cow::Borrowed(line),
        };
        let (mut facility, mut sev) = (self.f.facility, severity.unwrap_or(self.f.severity));
        if let Some(re) = &self.f.priority_regex {
            let (lossy, mut caps) = (String::from_utf8_lossy(&text), Vec::new());
            if re.groups(&lossy, &["severity", "facility"], &mut caps) {
                sev = syslog::severity(caps[0]).unwrap_or(sev);
                facility = syslog::facility(caps[1]).unwrap_or(facility);
            }
        }
        let now = now_ms();
        let header = Header {
            facility,
            severity: sev,
            time_ms: now,
            hostname: &self.f.hostname,
            app_name: self.f.app_name.as_deref().unwrap_or(app),
        };
        self.msg.clear();
        if syslog::emit(&mut self.msg, self.f.format, &header, &text, self.f.max_message) && !cut {
            self.cut += 1;
        }
        syslog::emit_frame(&mut self.frames, &self.msg);
        if self.lines == 0 {
            self.oldest_ms = now;
        }
        self.lines += 1;
        if let Some((t, source)) = tail {
            match self.touched.iter_mut().find(|p| (p.dev, p.ino) == (t.dev, t.ino)) {
                Some(p) => t.update(p),
                None => self.touched.push(t.position(source)),
            }
        }
    }

    /// Whether the batch must go before another line.
    pub fn full(&self) -> bool {
        self.frames.len() + self.f.max_message + 16 > MAX_LOG_BATCH || self.lines >= MAX_LOG_BATCH_LINES
    }

    /// Hands the batch made so far to the queue.
    pub fn flush(&mut self) {
        if self.lines == 0 {
            self.touched.clear();
            return;
        }
        let mut payload = Vec::with_capacity(self.frames.len() + 128 * self.touched.len());
        let entries: Vec<_> = self.touched.iter().map(Position::entry).collect();
        logstate::emit_batch_head(&mut payload, &entries);
        payload.extend_from_slice(&self.frames);
        let batch = Batch { payload, items: self.lines, timestamp_ms: self.oldest_ms };
        (self.lines, self.oldest_ms) = (0, 0);
        self.frames.clear();
        self.touched.clear();
        match &self.delivery {
            Delivery::Outbox(o) => o.add([batch]),
            Delivery::Direct { queue, .. } => queue.lock().unwrap_or_else(PoisonError::into_inner).push(batch),
        }
    }

    /// Whether the queue's memory has room for two more batches (else the
    /// file waits: it is the buffer), and, sending from here, whether the
    /// receiver is not failing.
    pub fn room(&self) -> bool {
        let q = self.delivery.queue().lock().unwrap_or_else(PoisonError::into_inner);
        let fits = q.queued_bytes().0 as usize + 2 * MAX_LOG_BATCH <= self.f.memory_cap;
        match self.delivery {
            Delivery::Outbox(_) => fits,
            Delivery::Direct { .. } => fits && !q.is_failing(),
        }
    }

    /// `--once`: sends what is queued until it is all gone or the
    /// receiver fails (with a spool, it is kept there first).
    pub fn drain(&mut self) {
        self.flush();
        if let Delivery::Direct { queue, sender } = &mut self.delivery {
            if self.f.spool {
                queue.get_mut().unwrap_or_else(PoisonError::into_inner).keep_on_disk();
            }
            sender.drain(queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_feed_framing_ends_each_message() {
        let mut frames = Vec::new();
        syslog::emit_frame(&mut frames, b"<13>1 a");
        syslog::emit_frame(&mut frames, b"<13>1 b");
        let mut wire = Vec::new();
        assert_eq!(stream_bytes(&frames, true, &mut wire), &frames[..]);
        assert_eq!(stream_bytes(&frames, false, &mut wire), b"<13>1 a\n<13>1 b\n");
        assert_eq!(messages(&frames).count(), 2);
    }

    /// A receiver that is down: the retry moves no position, even for a
    /// moment (the journal holds nothing a SIGKILL could leave behind).
    #[test]
    fn a_refused_batch_never_records_its_positions() {
        let dir = std::env::temp_dir().join(format!("sonde-forward-refused-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let text = format!("[[log]]\npath = \"/var/log/x.log\"\nsyslog = \"tcp://127.0.0.1:{port}\"\n");
        let config = crate::config::parse(&text).unwrap();
        let f = config.logs.logs[0].forward.clone().unwrap();
        let mut positions = Positions::load(&dir);
        let old = Position {
            source: 1,
            dev: 2,
            ino: 3,
            epoch: 0,
            skipping: false,
            offset: 100,
            size: 100,
            prehash: 0,
            head_len: 0,
            head_hash: 0,
            path: "/var/log/x.log".into(),
        };
        positions.set(old.clone());
        positions.sync(true);
        let journal = std::fs::metadata(dir.join("logs.journal")).unwrap().len();
        let positions = Arc::new(Mutex::new(positions));
        let mut syslog = Syslog::new(&f, Arc::clone(&positions)).unwrap();
        let mut payload = Vec::new();
        logstate::emit_batch_head(&mut payload, &[logstate::Entry { offset: 200, size: 200, ..old.entry() }]);
        syslog::emit_frame(&mut payload, b"<13>1 - - x - - - a line");
        let answer = syslog.send(&Batch { payload, items: 1, timestamp_ms: 0 });
        assert!(matches!(answer.fate, Fate::Retry), "{}", answer.said);
        assert_eq!(positions.lock().unwrap().get((1, 2, 3)).unwrap().offset, 100);
        assert_eq!(std::fs::metadata(dir.join("logs.journal")).unwrap().len(), journal, "nothing journaled");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_closed_connection_is_not_alive() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        let conn = Conn::Tcp(c);
        assert!(alive(&conn));
        drop(s);
        assert!(!alive(&conn));
    }
}
