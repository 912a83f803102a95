//! Listening sockets, readiness waits (epoll), and the few socket calls
//! that must not wait.
//!
//! std cannot set `IPV6_V6ONLY` or the accept backlog before `bind`, and
//! both matter here: the default endpoint listens on IPv4 and IPv6 with one
//! socket each, so a box without IPv6 still gets its IPv4 endpoint and a
//! dual-stack `localhost` reaches the agent on either family.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::limits::LISTEN_BACKLOG;

/// Where the scrape endpoint listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Listen {
    /// `:PORT`: every address, one socket per family. A family the box
    /// lacks is skipped, as long as the other one binds.
    AnyAddress(u16),
    /// `IP:PORT` or `[IPv6]:PORT`: exactly this address; failing to bind is
    /// an error.
    Addr(SocketAddr),
}

impl Listen {
    /// The socket addresses to bind, and whether each one may fail.
    pub fn addrs(self) -> Vec<(SocketAddr, bool)> {
        match self {
            Listen::AnyAddress(port) => {
                vec![((Ipv4Addr::UNSPECIFIED, port).into(), true), ((Ipv6Addr::UNSPECIFIED, port).into(), true)]
            }
            Listen::Addr(a) => vec![(a, false)],
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::AnyAddress(port) => write!(f, ":{port}"),
            Listen::Addr(a) => write!(f, "{a}"),
        }
    }
}

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(port) = s.strip_prefix(':') {
            return port
                .parse()
                .map(Listen::AnyAddress)
                .map_err(|_| format!("'{s}': the port must be a number from 0 to 65535"));
        }
        s.parse()
            .map(Listen::Addr)
            .map_err(|_| format!("'{s}' is not an address to listen on; write IP:PORT, [IPv6]:PORT or :PORT"))
    }
}

/// A non-blocking listening socket on `addr`; an IPv6 one takes IPv6 only.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain syscalls on a descriptor this function owns; on every
    // error path the descriptor is closed by the TcpListener it was moved
    // into, or explicitly.
    unsafe {
        let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let listener = TcpListener::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let one_ptr = (&raw const one).cast::<libc::c_void>();
        let one_len = size_of::<libc::c_int>() as libc::socklen_t;
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, one_ptr, one_len) < 0 {
            return Err(io::Error::last_os_error());
        }
        let (storage, len) = sockaddr(addr);
        if domain == libc::AF_INET6 && libc::setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, one_ptr, one_len) < 0
        {
            return Err(io::Error::last_os_error());
        }
        if libc::bind(fd, (&raw const storage).cast::<libc::sockaddr>(), len) < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::listen(fd, LISTEN_BACKLOG) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(listener)
    }
}

pub(super) fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage by definition.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: all-zero is a valid sockaddr_in6.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            // SAFETY: sockaddr_in6 fits in sockaddr_storage by definition.
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// A TCP connection to `addr`, made within `timeout` (then a blocking
/// stream, as std's connect_timeout gives).
///
/// Unlike std's, the outcome of the non-blocking connect is read back by
/// calling connect(2) again before getsockopt(SO_ERROR): the kernel gives
/// the same answer either way for a refused or accepted connection, but
/// qemu-user passes SO_ERROR through as the host's number, so under
/// emulation a refused connection read as errno 111 on MIPS, where
/// ECONNREFUSED is 146, and looked like an unknown error. A connection an
/// ICMP error ended (the second connect says EALREADY) still reads
/// SO_ERROR.
pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let (storage, len) = sockaddr(addr);
    let sa = (&raw const storage).cast::<libc::sockaddr>();
    // SAFETY: plain syscalls on a descriptor this function owns, closed by
    // the TcpStream it is moved into on every path.
    unsafe {
        let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        if libc::connect(fd, sa, len) < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINPROGRESS) {
                return Err(err);
            }
            let mut pfd = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
            let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX).max(1);
            loop {
                let rc = libc::poll(&raw mut pfd, 1, ms);
                if rc == 0 {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "connection timed out"));
                }
                if rc > 0 {
                    break;
                }
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
            if libc::connect(fd, sa, len) < 0 {
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::EISCONN) => {}
                    // An ICMP error (host unreachable, prohibited) can
                    // leave the socket connecting; its error is then only
                    // in SO_ERROR.
                    Some(libc::EALREADY | libc::EINPROGRESS) => {
                        let mut so_error: libc::c_int = 0;
                        let mut l = size_of::<libc::c_int>() as libc::socklen_t;
                        let p = (&raw mut so_error).cast::<libc::c_void>();
                        if libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, p, &raw mut l) < 0 {
                            return Err(io::Error::last_os_error());
                        }
                        if so_error != 0 {
                            return Err(io::Error::from_raw_os_error(so_error));
                        }
                    }
                    _ => return Err(err),
                }
            }
        }
        stream.set_nonblocking(false)?;
        Ok(stream)
    }
}

/// Connects to the unix stream socket at `path`, waiting at most `timeout`
/// for room in its accept queue. A unix connect never waits for the peer
/// to accept, only for a full queue (a daemon that stopped accepting), and
/// SO_SNDTIMEO bounds that wait; without it the connect would block for
/// as long as the daemon hangs.
pub fn connect_unix(path: &Path, timeout: Duration) -> io::Result<UnixStream> {
    // SAFETY: all-zero is a valid sockaddr_un.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() || bytes.len() >= sun.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a usable unix socket path"));
    }
    for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    let len = (size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    // `as _`: musl's time_t and suseconds_t differ across targets (and
    // the libc crate deprecates naming them there).
    let tv = libc::timeval {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as _,
        tv_usec: timeout.subsec_micros().max(u32::from(timeout.is_zero())) as _,
    };
    // SAFETY: plain syscalls on a descriptor this function owns, closed by
    // the UnixStream it is moved into on every path.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let stream = UnixStream::from_raw_fd(fd);
        let tv_len = size_of::<libc::timeval>() as libc::socklen_t;
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_SNDTIMEO, (&raw const tv).cast(), tv_len) < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            if libc::connect(fd, (&raw const sun).cast::<libc::sockaddr>(), len) == 0 {
                return Ok(stream);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                // The wait ran out with the queue still full.
                Some(libc::EAGAIN) => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "the socket's accept queue stayed full"));
                }
                _ => return Err(err),
            }
        }
    }
}

/// An epoll(7) instance: the endpoint's main loop waits on its listeners,
/// its signal pipe and every connection that has not sent its request
/// head yet, however many, in one call. Each descriptor is registered with
/// a token the caller chooses and gets back with its events.
pub struct Poller(std::os::fd::OwnedFd);

/// What [`Poller::wait`] says of one descriptor.
#[derive(Clone, Copy, Debug)]
pub struct Ready {
    pub token: u64,
    /// The peer closed its side, or the connection failed: no more bytes
    /// will come.
    pub hangup: bool,
}

impl Poller {
    pub fn new() -> io::Result<Poller> {
        // SAFETY: epoll_create1 takes no pointers; the descriptor it returns
        // is owned by the OwnedFd from here on.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just created and is owned by nothing else.
        Ok(Poller(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// Watches `fd` for readability. `edge`: report only new arrivals
    /// (each segment a peer sends), not "there is something unread", so a
    /// connection whose head is still partial does not wake the loop again
    /// until more of it comes.
    pub fn add(&self, fd: RawFd, token: u64, edge: bool) -> io::Result<()> {
        let mut events = libc::EPOLLIN | libc::EPOLLRDHUP;
        if edge {
            events |= libc::EPOLLET;
        }
        let mut ev = libc::epoll_event { events: events as u32, u64: token };
        self.ctl(libc::EPOLL_CTL_ADD, fd, &raw mut ev)
    }

    pub fn remove(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut())
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, ev: *mut libc::epoll_event) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: ev is null (EPOLL_CTL_DEL) or points to a live epoll_event.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits until something is ready or `timeout_ms` passes (-1: no
    /// timeout) and fills `out` with what is; an interrupted wait returns
    /// nothing ready.
    pub fn wait(&self, out: &mut Vec<Ready>, timeout_ms: i32) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        const MAX: usize = 64;
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; MAX];
        out.clear();
        // SAFETY: evs has room for MAX events.
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), evs.as_mut_ptr(), MAX as libc::c_int, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted { Ok(()) } else { Err(err) };
        }
        for ev in &evs[..n as usize] {
            // Copied out: the struct is packed on some targets.
            let (events, token) = (ev.events, ev.u64);
            let ended = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
            out.push(Ready { token, hangup: events & ended != 0 });
        }
        Ok(())
    }
}

/// Copies what `fd` has received so far into `buf`, leaving it queued in
/// the kernel; never waits. Ok(0): the peer closed its side.
pub fn peek(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    recv(fd, buf, libc::MSG_PEEK | libc::MSG_DONTWAIT)
}

/// Reads what `fd` has received, without waiting.
pub fn recv_nowait(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    recv(fd, buf, libc::MSG_DONTWAIT)
}

fn recv(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    loop {
        // SAFETY: buf is writable for buf.len() bytes.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) };
        if let Ok(n) = usize::try_from(n) {
            return Ok(n);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Writes what fits of `bytes` into `fd`'s send buffer, without waiting
/// (and without SIGPIPE for a peer that is gone).
pub fn send_nowait(fd: RawFd, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: bytes is readable for bytes.len() bytes.
    let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Waits up to `timeout_ms` for any of `fds` to have something to read
/// (or an error to report, as an ICMP unreachable on a connected UDP
/// socket). A signal ends the wait early: the caller's loop reads what
/// there is, without waiting, and looks again.
pub fn wait_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<()> {
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    // SAFETY: pfds is a live array of pfds.len() pollfd structs.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(())
}

/// Raises this process's soft limit of open files towards `want` (as far
/// as the hard limit allows) and returns the limit in force. Linux's soft
/// default, 1024, is a leftover of select(2), which sonde does not use.
pub fn raise_open_files(want: u64) -> u64 {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and fill the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut l) != 0 {
            return 1024;
        }
        let target = (want as libc::rlim_t).min(l.rlim_max);
        if l.rlim_cur < target {
            let raised = libc::rlimit { rlim_cur: target, rlim_max: l.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) == 0 {
                l.rlim_cur = target;
            }
        }
    }
    // rlim_t is not u64 on every libc.
    #[allow(clippy::unnecessary_cast)]
    let limit = l.rlim_cur as u64;
    limit
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn connect_tells_refused_from_connected() {
        let l = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = l.local_addr().unwrap();
        assert!(connect(addr, Duration::from_secs(5)).is_ok());
        drop(l);
        let err = connect(addr, Duration::from_secs(5)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn a_unix_connect_to_a_full_queue_gives_up_at_its_timeout() {
        let dir = std::env::temp_dir().join(format!("sonde-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        // A backlog of 0: one pending connection fills the queue. Nothing
        // ever accepts, like a daemon that hangs.
        // SAFETY: listen(2) on a socket the listener owns.
        assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
        let mut held = Vec::new();
        let timeout = Duration::from_millis(200);
        let err = loop {
            let started = std::time::Instant::now();
            match connect_unix(&path, timeout) {
                Ok(s) => held.push(s),
                Err(e) => {
                    let took = started.elapsed();
                    assert!(took >= timeout / 2 && took < timeout * 10, "gave up after {took:?}");
                    break e;
                }
            }
            assert!(held.len() < 64, "the queue never filled");
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert_eq!(connect_unix(&dir.join("none"), timeout).unwrap_err().kind(), io::ErrorKind::NotFound);
        let long = dir.join("x".repeat(200));
        assert_eq!(connect_unix(&long, timeout).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        drop(listener);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn listens_on_both_families_on_one_port() {
        let v4 = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = v4.local_addr().unwrap().port();
        // Loopback IPv6 may be missing in a sandbox; where it exists, the
        // same port must be free for it because v4 and v6 sockets are apart.
        if let Ok(v6) = listen(SocketAddr::new("::1".parse().unwrap(), port)) {
            assert_eq!(v6.local_addr().unwrap().port(), port);
        }
    }
}
