//! One sonde per spool and state directory: an advisory lock (flock(2))
//! on the directory itself, held for the life of the process, so no file
//! is created for it and a second instance that is refused has written
//! nothing. The kernel drops the lock when the process ends, however it
//! ends, so a stale lock cannot outlive a SIGKILL.

use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

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
    // SAFETY: flock on a descriptor this function owns.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            format!("{} is in use by another sonde; not started, nothing touched", dir.display())
        } else {
            fail(e)
        });
    }
    Ok(DirLock { _dir: f })
}
