//! Signals and wake-ups for the main loop, through one self-pipe.
//!
//! The handlers only write one byte to a non-blocking pipe (write(2) is
//! async-signal-safe); the main loop polls the pipe's read end beside its
//! listeners and acts on what it reads. Connection threads write to the
//! same pipe when they finish, so a loop waiting for a free slot wakes.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

const WAKE: u8 = 0;

/// What the pipe said since the last read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Events {
    /// SIGTERM or SIGINT: the signal's number.
    pub stop: Option<i32>,
    /// SIGHUP.
    pub reload: bool,
}

/// The read end of the pipe, after the handlers are installed.
pub struct Signals {
    read: RawFd,
}

impl Signals {
    /// Creates the pipe and installs handlers for SIGTERM, SIGINT, SIGHUP.
    /// Call once per process.
    pub fn install() -> io::Result<Signals> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills the two descriptors it is given.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        WRITE_FD.store(fds[1], Ordering::SeqCst);
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            // SAFETY: the handler only calls write(2) on a descriptor that
            // stays open for the life of the process.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&raw mut action.sa_mask);
                if libc::sigaction(sig, &raw const action, std::ptr::null_mut()) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(Signals { read: fds[0] })
    }

    pub fn fd(&self) -> RawFd {
        self.read
    }

    /// Reads everything pending on the pipe.
    pub fn drain(&self) -> Events {
        let mut events = Events::default();
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reading into a local buffer of the stated length.
            let n = unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) };
            let Ok(n) = usize::try_from(n) else { break };
            if n == 0 {
                break;
            }
            for &b in &buf[..n] {
                match i32::from(b) {
                    libc::SIGHUP => events.reload = true,
                    s @ (libc::SIGTERM | libc::SIGINT) => events.stop = Some(s),
                    _ => {}
                }
            }
        }
        events
    }
}

/// Wakes the main loop (from any thread).
pub fn wake() {
    write_byte(WAKE);
}

extern "C" fn on_signal(sig: libc::c_int) {
    // Signal numbers of interest are all below 32.
    write_byte(sig as u8);
}

fn write_byte(b: u8) {
    let fd = WRITE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: one byte from a local to a non-blocking pipe. A full pipe
        // means a wake-up is already pending, so the byte may be lost.
        unsafe { libc::write(fd, (&raw const b).cast(), 1) };
    }
}

/// The name of a stop signal, for messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        _ => "signal",
    }
}
