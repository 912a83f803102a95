//! One sonde per spool and state directory: an advisory lock (flock(2))
//! on the directory itself, held for the life of the process, so no file
//! is created for it and a second instance that is refused has written
//! nothing. The kernel drops the lock when the process ends, however it
//! ends, so a stale lock cannot outlive a SIGKILL; but a program sonde
//! had just forked holds a copy of the descriptor until its exec closes it,
//! and on a loaded box that can take a while after the SIGKILL: a refused
//! lock is asked again for up to [`LOCK_WAIT`] before sonde gives up.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// How long a taken lock is asked for again before sonde refuses to start.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A held directory lock; released when dropped.
pub struct DirLock {
    _dir: File,
}

/// Locks `dir` (created if missing) for this process, or says which
/// process-wide resource is taken.
pub fn lock_dir(dir: &Path) -> Result<DirLock, String> {
    let fail = |e: io::Error| format!("cannot lock {}: {e}", dir.display());
    fs::create_dir_all(dir).map_err(fail)?;
    let f = File::open(dir).map_err(fail)?;
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    // SAFETY: flock on a descriptor this function owns.
    while unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            continue;
        }
        return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            format!("{} is in use by another sonde; not started, nothing touched", dir.display())
        } else {
            fail(e)
        });
    }
    Ok(DirLock { _dir: f })
}
