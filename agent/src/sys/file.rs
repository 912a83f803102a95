//! Bounded reads of small files: /proc, /sys and config files.
//!
//! Files under /proc and /sys report a size of 0 or 4096 whatever they
//! hold, so they are read in a loop into a caller's buffer, never sized by
//! `stat`, and never past the caller's bound: a file that keeps producing
//! bytes is an error, not an allocation.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Reads `path` into `buf` (cleared first). Fails with
/// [`io::ErrorKind::FileTooLarge`] if the file holds more than `max` bytes;
/// `buf` then holds its first `max` bytes.
pub fn read_bounded(path: &Path, buf: &mut Vec<u8>, max: usize) -> io::Result<()> {
    buf.clear();
    let file = File::open(path)?;
    // One byte more than allowed tells "exactly max" from "too large".
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(buf)?;
    if buf.len() > max {
        buf.truncate(max);
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("larger than {max} bytes")));
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

    #[test]
    fn proc_files_read_despite_their_size_of_zero() {
        let mut buf = Vec::new();
        read_bounded(Path::new("/proc/self/stat"), &mut buf, 1 << 20).unwrap();
        assert!(!buf.is_empty());
    }
}
