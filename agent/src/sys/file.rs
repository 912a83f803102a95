//! Bounded reads of small files (/proc, /sys and config files), and the
//! atomic replacement of a state file.
//!
//! Files under /proc and /sys report a size of 0 or 4096 whatever they
//! hold, so they are read in a loop into a caller's buffer, never sized by
//! `stat`, and never past the caller's bound: a file that keeps producing
//! bytes is an error, not an allocation.
//!
//! Files are opened with O_NONBLOCK, which changes nothing for regular
//! files and /proc or /sys files, and makes a FIFO put in a configured
//! procfs root read as empty instead of blocking the scrape forever.
//!
//! A scrape reads a hundred such files, so the syscalls per file count:
//! the file is opened with openat(2), not open(2) (musl's open() follows
//! an O_CLOEXEC open with an fcntl(2) for kernels older than 2.6.23); a
//! /proc file is read with enough room that one read(2) usually takes it
//! (a seq_file restarts its walk at every read: /proc/net/udp walks the
//! whole socket table each time); and a sysfs attribute is read once, as
//! kernfs returns the whole attribute, at most a page, in the first read
//! (a short read of a /proc seq_file does not mean its end, so /proc files
//! are read to a read of 0).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Room made in the buffer before reading a /proc file; those sonde reads
/// are mostly smaller. Reserved once: the buffer is reused.
const READ_ROOM: usize = 16 * 1024;

/// Room for one read of a sysfs attribute. Attributes are a few bytes
/// (`1500\n`); a longer one takes a read per this much, kernfs returning
/// the attribute's next part at each, and the room is zeroed before each
/// read, so it is kept small.
const ATTRIBUTE_ROOM: usize = 256;

/// Reads `path` into `buf` (cleared first). Fails with
/// [`io::ErrorKind::FileTooLarge`] if the file holds more than `max` bytes;
/// `buf` then holds its first `max` bytes.
pub fn read_bounded(path: &Path, buf: &mut Vec<u8>, max: usize) -> io::Result<()> {
    buf.clear();
    buf.reserve(READ_ROOM.min(max.saturating_add(1)));
    // One byte more than allowed tells "exactly max" from "too large".
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    // read_to_end reads a File into the spare capacity without zeroing it.
    open(libc::AT_FDCWD, path.as_os_str().as_bytes(), 0)?.take(limit).read_to_end(buf)?;
    too_large(buf, max)
}

/// [`read_bounded`] for a sysfs attribute: one read(2) when the attribute
/// is shorter than the room given to it, as every attribute is.
pub fn read_attribute(path: &Path, buf: &mut Vec<u8>, max: usize) -> io::Result<()> {
    buf.clear();
    let file = open(libc::AT_FDCWD, path.as_os_str().as_bytes(), 0)?;
    read_whole(file, buf, max)
}

/// A directory opened once, to read many files in it without resolving
/// its path again for each (a network device's twenty attributes: the
/// path walk through /sys/class/net's symbolic link costs more than the
/// read).
pub struct Dir(std::os::fd::OwnedFd);

impl Dir {
    pub fn open(path: &Path) -> io::Result<Dir> {
        let file = open(libc::AT_FDCWD, path.as_os_str().as_bytes(), libc::O_DIRECTORY)?;
        Ok(Dir(file.into()))
    }

    /// [`read_attribute`] of `name` in this directory.
    pub fn read_attribute(&self, name: &str, buf: &mut Vec<u8>, max: usize) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        buf.clear();
        if name.starts_with('/') || name.split('/').any(|c| c == "..") {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        let file = open(self.0.as_raw_fd(), name.as_bytes(), 0)?;
        read_whole(file, buf, max)
    }
}

fn read_whole(mut file: File, buf: &mut Vec<u8>, max: usize) -> io::Result<()> {
    let limit = max.saturating_add(1);
    loop {
        let len = buf.len();
        let room = ATTRIBUTE_ROOM.max(len).min(limit - len);
        if room == 0 {
            break;
        }
        // Zeroing the room costs less than the read it saves; it keeps this
        // safe code.
        buf.resize(len + room, 0);
        let n = match file.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        };
        buf.truncate(len + n);
        if n < room {
            break;
        }
    }
    too_large(buf, max)
}

fn too_large(buf: &mut Vec<u8>, max: usize) -> io::Result<()> {
    if buf.len() > max {
        buf.truncate(max);
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("larger than {max} bytes")));
    }
    Ok(())
}

/// openat(2) for reading, close-on-exec, not blocking on a FIFO, with
/// `extra` flags.
fn open(dir: libc::c_int, bytes: &[u8], extra: libc::c_int) -> io::Result<File> {
    // Paths here are short: a stack buffer spares the allocation that a
    // CString would cost at every file of every scrape.
    let mut stack = [0u8; 256];
    let heap;
    let c: &[u8] = if bytes.len() < stack.len() {
        stack[..bytes.len()].copy_from_slice(bytes);
        &stack[..=bytes.len()]
    } else {
        heap = [bytes, b"\0"].concat();
        &heap
    };
    if c[..c.len() - 1].contains(&0) {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    let flags = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY | extra;
    loop {
        // SAFETY: c is NUL-terminated with no NUL before its end; dir is
        // AT_FDCWD or a directory this process holds open.
        let fd = unsafe { libc::openat(dir, c.as_ptr().cast(), flags) };
        if fd >= 0 {
            // SAFETY: fd was just opened and is owned by nothing else.
            return Ok(unsafe { File::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Replaces `path` with `bytes` so that a crash or a power cut leaves the
/// old file or the new one, never a torn one: written to `path.tmp`,
/// fsynced, renamed over `path`, and the directory fsynced so the rename
/// itself survives. For state written rarely (flash wears): the watchdog's
/// counters, log positions, undelivered notifications.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Some filesystems refuse to fsync a directory; the rename is
        // then as durable as they make it.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_bound_and_refuses_past_it() {
        let dir = std::env::temp_dir().join(format!("sonde-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut buf = Vec::new();
        read_bounded(&path, &mut buf, 10).unwrap();
        assert_eq!(buf, b"0123456789");
        let err = read_bounded(&path, &mut buf, 9).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(buf.len(), 9);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// See: a FIFO in a fixture or misconfigured procfs root must not hang
    /// the scrape (open(2) of a FIFO blocks until a writer comes).
    #[test]
    fn a_fifo_reads_as_empty_instead_of_blocking() {
        let dir = std::env::temp_dir().join(format!("sonde-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("loadavg");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: c is NUL-terminated.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let mut buf = vec![1];
        read_bounded(&fifo, &mut buf, 10).unwrap();
        assert!(buf.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_paths_and_attributes() {
        // Past the stack buffer: a path of 300 bytes and more.
        let top = std::env::temp_dir().join(format!("sonde-long-{}", std::process::id()));
        let dir = top.join("x".repeat(100)).join("y".repeat(100)).join("z".repeat(100));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mtu");
        std::fs::write(&path, b"1500\n").unwrap();
        let mut buf = Vec::new();
        read_attribute(&path, &mut buf, 4096).unwrap();
        assert_eq!(buf, b"1500\n");
        let big = "y".repeat(40_000);
        std::fs::write(&path, &big).unwrap();
        read_attribute(&path, &mut buf, 1 << 20).unwrap();
        assert_eq!(buf.len(), 40_000);
        assert!(read_bounded(Path::new("/a\0b"), &mut buf, 10).is_err());
        std::fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn proc_files_read_despite_their_size_of_zero() {
        let mut buf = Vec::new();
        read_bounded(Path::new("/proc/self/stat"), &mut buf, 1 << 20).unwrap();
        assert!(!buf.is_empty());
    }

    #[test]
    fn an_atomic_write_replaces_the_file_whole() {
        let dir = std::env::temp_dir().join(format!("sonde-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two, longer");
        assert!(!dir.join("state.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
