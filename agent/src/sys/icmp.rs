//! ICMP sockets for echo: a datagram ("ping") socket, which Linux lets a
//! process open when its group is inside `net.ipv4.ping_group_range`
//! (IPv6 too), or a raw socket, which needs root or CAP_NET_RAW.
//!
//! Either is connected to the one address it echoes: the kernel then
//! delivers only that address's packets, and an ICMP error that answers
//! our echo (host unreachable, prohibited) comes back as the next
//! receive's error. A raw socket is also filtered to echo replies
//! (`ICMP_FILTER`, `ICMP6_FILTER`), since it otherwise gets every ICMP
//! message the host receives. The reply's TTL or hop limit comes with it
//! (`IP_RECVTTL`, `IPV6_RECVHOPLIMIT`); an IPv4 raw socket also hands over
//! the IPv4 header, which has it.
//!
//! Invariants: every wait has a timeout; the descriptor is closed on every
//! path.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// linux/icmp.h: the raw socket option that drops ICMP types by bit.
const ICMP_FILTER: libc::c_int = 1;
/// linux/icmpv6.h: its ICMPv6 counterpart, 256 bits, a set bit blocks.
const ICMP6_FILTER: libc::c_int = 1;

/// Which kind of socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// SOCK_DGRAM with IPPROTO_ICMP(V6): the kernel sets the echo
    /// identifier and matches replies to the socket.
    Datagram,
    /// SOCK_RAW: every ICMP packet, the identifier ours to set and check.
    Raw,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Datagram => "datagram",
            Flavor::Raw => "raw",
        }
    }
}

/// A connected ICMP socket.
pub struct Socket {
    fd: OwnedFd,
    pub flavor: Flavor,
    pub v6: bool,
}

/// How echoes leave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// TTL or hop limit; None leaves the system's.
    pub ttl: Option<u8>,
    /// IPv4's DF bit (IP_PMTUDISC_DO): a packet over the path's MTU is
    /// refused at send (EMSGSIZE) instead of fragmented.
    pub dont_fragment: bool,
}

impl Socket {
    /// A `flavor` socket connected to `dest`.
    pub fn open(dest: IpAddr, flavor: Flavor, o: Options) -> io::Result<Socket> {
        let v6 = dest.is_ipv6();
        let (domain, proto) =
            if v6 { (libc::AF_INET6, libc::IPPROTO_ICMPV6) } else { (libc::AF_INET, libc::IPPROTO_ICMP) };
        let ty = match flavor {
            Flavor::Datagram => libc::SOCK_DGRAM,
            Flavor::Raw => libc::SOCK_RAW,
        };
        // SAFETY: socket(2) takes no pointers; the descriptor is owned at once.
        let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just opened and nothing else owns it.
        let s = Socket { fd: unsafe { OwnedFd::from_raw_fd(fd) }, flavor, v6 };
        if v6 {
            s.set(libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &1i32)?;
            if let Some(ttl) = o.ttl {
                s.set(libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &i32::from(ttl))?;
            }
            if flavor == Flavor::Raw {
                // Block every type but echo reply (129).
                let mut filter = [u32::MAX; 8];
                filter[129 / 32] &= !(1 << (129 % 32));
                s.set(libc::IPPROTO_ICMPV6, ICMP6_FILTER, &filter)?;
            }
        } else {
            s.set(libc::IPPROTO_IP, libc::IP_RECVTTL, &1i32)?;
            if let Some(ttl) = o.ttl {
                s.set(libc::IPPROTO_IP, libc::IP_TTL, &i32::from(ttl))?;
            }
            if o.dont_fragment {
                s.set(libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, &libc::IP_PMTUDISC_DO)?;
            }
            if flavor == Flavor::Raw {
                // Block every type but echo reply (0).
                s.set(libc::SOL_RAW, ICMP_FILTER, &!1u32)?;
            }
        }
        let (addr, len) = super::net::sockaddr(SocketAddr::new(dest, 0));
        // SAFETY: addr is a valid sockaddr of `len` bytes.
        if unsafe { libc::connect(s.fd.as_raw_fd(), (&raw const addr).cast(), len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(s)
    }

    fn set<T>(&self, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
        let len = size_of::<T>() as libc::socklen_t;
        // SAFETY: value points to a T of len bytes for the call's length.
        let rc = unsafe { libc::setsockopt(self.fd.as_raw_fd(), level, name, (value as *const T).cast(), len) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends one message to the connected address.
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        loop {
            // SAFETY: msg is valid for its length.
            let n = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Waits at most `timeout` for a packet: its length in `buf` and the
    /// TTL or hop limit that came with it. `TimedOut` when none came; an
    /// ICMP error answering our echo is its errno.
    pub fn recv(&self, buf: &mut [u8], timeout: Duration) -> io::Result<(usize, Option<u8>)> {
        let fd = self.fd.as_raw_fd();
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&raw mut pfd, 1, ms) } {
            0 => return Err(io::Error::new(io::ErrorKind::TimedOut, "no reply")),
            rc if rc < 0 => return Err(io::Error::last_os_error()),
            _ => {}
        }
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // u64s: aligned for cmsghdr; room for one int-sized message and more.
        let mut control = [0u64; 16];
        // SAFETY: all-zero is a valid msghdr (musl has padding fields).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: msg points at a live iovec and control buffer.
        let n = unsafe { libc::recvmsg(fd, &raw mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut hop = None;
        // SAFETY: the CMSG macros walk the control buffer the kernel
        // filled, within msg_controllen; each data read is an int.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
            while !c.is_null() {
                let (level, ty) = ((*c).cmsg_level, (*c).cmsg_type);
                if (level, ty) == (libc::IPPROTO_IP, libc::IP_TTL)
                    || (level, ty) == (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT)
                {
                    let v = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                    hop = u8::try_from(v).ok();
                }
                c = libc::CMSG_NXTHDR(&raw const msg, c);
            }
        }
        Ok((n as usize, hop))
    }
}
