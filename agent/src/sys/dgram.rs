//! Request and reply over a datagram socket, with deadlines and bounded
//! retries: UDP, or a unix datagram socket with a bound reply address.
//!
//! The peer is a local daemon's control socket (chronyd's). Every wait has
//! a timeout, every request is sent at most `1 + retries` times, and all of
//! it ends at the caller's deadline. Replies the caller does not accept (a
//! late answer to an earlier request, anything else) are dropped and the
//! wait goes on, so a stale datagram can never be taken for the answer.
//!
//! A unix datagram server answers to the client's bound address, so the
//! client binds one: `sonde.<pid>.<n>.sock` in the server socket's
//! directory, where the server's user can reach it. That directory belongs
//! to the daemon's user, who could swap the path for a symlink between our
//! bind and our chmod; so the permissions are changed through a descriptor
//! of the path opened without following links and checked to be our own
//! socket, never through the path itself. The socket is made writable by
//! the directory's owner only (the daemon's user) and is removed when the
//! [`Socket`] is dropped, whatever happened in between.

use std::ffi::CString;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::time::Deadline;

/// How long a request may wait, and how often it is sent.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Wait for one reply before sending the request again.
    pub timeout: Duration,
    /// Sends after the first.
    pub retries: u32,
    /// No wait goes past it.
    pub deadline: Deadline,
}

/// A connected datagram socket.
pub enum Socket {
    Udp(UdpSocket),
    Unix(UnixClient),
}

/// A unix datagram socket bound to its own path, removed on drop.
pub struct UnixClient {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Drop for UnixClient {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Tells apart the reply sockets of one process.
static NEXT: AtomicU32 = AtomicU32::new(0);

impl Socket {
    /// A UDP socket on an ephemeral port of `server`'s family, connected to
    /// it, so that a closed port is reported (ECONNREFUSED) instead of
    /// waited on.
    pub fn udp(server: SocketAddr) -> io::Result<Socket> {
        let local: SocketAddr = match server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let sock = UdpSocket::bind(local)?;
        sock.connect(server)?;
        Ok(Socket::Udp(sock))
    }

    /// A unix datagram socket bound beside `server` and connected to it.
    pub fn unix(server: &Path) -> io::Result<Socket> {
        // No server socket (or no way to see it): say so before creating
        // anything in its directory.
        std::fs::symlink_metadata(server)?;
        let dir = match server.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("sonde.{}.{n}.sock", std::process::id()));
        // A sonde that died with this pid may have left it; it is ours by
        // its name, and only ever a socket.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&path);
        }
        let sock = UnixDatagram::bind(&path)?;
        // From here on, dropping the client removes the path.
        let client = UnixClient { sock, path };
        let owner = std::fs::metadata(dir)?;
        permit_owner(&client.path, owner.uid(), owner.gid())?;
        client.sock.connect(server)?;
        Ok(Socket::Unix(client))
    }

    /// Sends `request` and returns the length of the first datagram that
    /// `accept` takes, read into `reply`. The request is sent again after
    /// each `retry.timeout` without one, `retry.retries` times at most;
    /// `TimedOut` when none came by then or by the deadline.
    pub fn exchange(
        &self,
        request: &[u8],
        reply: &mut [u8],
        accept: &dyn Fn(&[u8]) -> bool,
        retry: &Retry,
    ) -> io::Result<usize> {
        for _ in 0..=retry.retries {
            if retry.deadline.passed() {
                break;
            }
            let until = Deadline::after(retry.timeout).min(retry.deadline);
            self.send(request)?;
            while let Some(left) = until.left() {
                self.set_read_timeout(left)?;
                match self.recv(reply) {
                    Ok(n) if accept(reply.get(..n).unwrap_or_default()) => return Ok(n),
                    // Not ours, or too late: keep waiting for the answer.
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Err(io::Error::new(io::ErrorKind::TimedOut, "no reply"))
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Udp(s) => s.send(buf),
            Socket::Unix(c) => c.sock.send(buf),
        }
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Udp(s) => s.recv(buf),
            Socket::Unix(c) => c.sock.recv(buf),
        }
    }

    fn set_read_timeout(&self, d: Duration) -> io::Result<()> {
        match self {
            Socket::Udp(s) => s.set_read_timeout(Some(d)),
            Socket::Unix(c) => c.sock.set_read_timeout(Some(d)),
        }
    }
}

/// Makes the socket at `path` writable by `uid` (the directory's owner,
/// the daemon's user) and nobody else, through a descriptor of the path
/// opened without following a link and checked to be a socket we own.
fn permit_owner(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: plain syscalls on a NUL-terminated path and on a descriptor
    // this function opens and closes; `st` is plain data written by fstat.
    unsafe {
        let fd = libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let result = (|| {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(fd, &raw mut st) < 0 {
                return Err(io::Error::last_os_error());
            }
            let euid = libc::geteuid();
            if st.st_mode & libc::S_IFMT != libc::S_IFSOCK || st.st_uid != euid {
                return Err(io::Error::new(io::ErrorKind::PermissionDenied, "reply socket replaced"));
            }
            // The descriptor's /proc link names exactly the inode checked.
            let by_fd = CString::new(format!("/proc/self/fd/{fd}")).map_err(|_| io::ErrorKind::InvalidInput)?;
            if uid != euid && libc::chown(by_fd.as_ptr(), uid, gid) < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::chmod(by_fd.as_ptr(), 0o600) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        })();
        libc::close(fd);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(timeout_ms: u64, retries: u32) -> Retry {
        Retry { timeout: Duration::from_millis(timeout_ms), retries, deadline: Deadline::after(Duration::from_secs(5)) }
    }

    #[test]
    fn udp_skips_replies_it_does_not_accept_and_resends_on_silence() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut buf = [0; 16];
            // First request: no answer. Second: a stale datagram, then the answer.
            let (_, _) = server.recv_from(&mut buf).unwrap();
            let (n, from) = server.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"ping");
            server.send_to(b"stale", from).unwrap();
            server.send_to(b"pong", from).unwrap();
        });
        let s = Socket::udp(addr).unwrap();
        let mut reply = [0; 16];
        let n = s.exchange(b"ping", &mut reply, &|b| b == b"pong", &retry(200, 2)).unwrap();
        assert_eq!(&reply[..n], b"pong");
        t.join().unwrap();
    }

    #[test]
    fn udp_silence_times_out_after_the_retries() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let s = Socket::udp(server.local_addr().unwrap()).unwrap();
        let err = s.exchange(b"x", &mut [0; 4], &|_| true, &retry(20, 2)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let mut buf = [0; 4];
        server.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let sent = (0..4).filter(|_| server.recv(&mut buf).is_ok()).count();
        assert_eq!(sent, 3, "one send and two retries");
    }

    #[test]
    fn udp_closed_port_is_refused() {
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let s = Socket::udp(port).unwrap();
        let err = s.exchange(b"x", &mut [0; 4], &|_| true, &retry(500, 0)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn unix_reply_socket_is_private_and_removed() {
        let dir = std::env::temp_dir().join(format!("sonde-dgram-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let server_path = dir.join("server.sock");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let s = Socket::unix(&server_path).unwrap();
        let Socket::Unix(c) = &s else { panic!() };
        let mine = c.path.clone();
        assert!(mine.file_name().unwrap().to_str().unwrap().starts_with("sonde."));
        let meta = std::fs::symlink_metadata(&mine).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o777, 0o600);
        let t = std::thread::spawn(move || {
            let mut buf = [0; 16];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], from.as_pathname().unwrap()).unwrap();
        });
        let mut reply = [0; 16];
        let n = s.exchange(b"echo", &mut reply, &|_| true, &retry(1000, 0)).unwrap();
        assert_eq!(&reply[..n], b"echo");
        t.join().unwrap();
        drop(s);
        assert!(std::fs::symlink_metadata(&mine).is_err(), "removed on drop");
        // A server that is gone: the path is still cleaned up.
        std::fs::remove_file(&server_path).unwrap();
        assert!(Socket::unix(&server_path).is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
