//! statfs(2) with a deadline: a mount that does not answer (a dead NFS
//! server, a wedged FUSE daemon) must not hang a scrape.
//!
//! A statfs call cannot be interrupted, so it runs on a helper thread and
//! the scrape waits for it at most a timeout. A helper whose call outlives
//! the timeout is left behind, stuck in the kernel, and the mount is
//! remembered as stuck: later scrapes skip it (node_exporter reports such a
//! mount with `device_error="mountpoint timeout"`) until that call returns,
//! when its helper ends and the mount is asked again. At most
//! [`MAX_STUCK_STATFS`] helpers may be stuck at once; past that, further
//! mounts are not asked at all, so no input can make sonde pile up threads.
//!
//! One helper at a time serves the calls that do return, and is kept
//! between scrapes: starting a thread per mount per scrape would cost more
//! than the calls.

use std::ffi::CStr;
use std::io;
use std::mem;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::limits::{MAX_STUCK_STATFS, STATFS_STACK};

/// What statfs(2) says about a filesystem, in the units node_exporter
/// uses: sizes are blocks of `bsize` bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
}

/// statfs(2) of the NUL-terminated path.
pub fn statfs(path: &CStr) -> io::Result<Usage> {
    // SAFETY: path is NUL-terminated; statfs fills the struct it is given,
    // and all-zero is a valid value of it to start from.
    let st = unsafe {
        let mut st: libc::statfs = mem::zeroed();
        if libc::statfs(path.as_ptr(), &raw mut st) != 0 {
            return Err(io::Error::last_os_error());
        }
        st
    };
    // The field types differ between ABIs (c_ulong, fsblkcnt_t, i32 for
    // f_bsize on some); every value is a size or count, never negative.
    #[allow(clippy::unnecessary_cast, clippy::cast_sign_loss)]
    Ok(Usage {
        bsize: st.f_bsize as u64,
        blocks: st.f_blocks as u64,
        bfree: st.f_bfree as u64,
        bavail: st.f_bavail as u64,
        files: st.f_files as u64,
        ffree: st.f_ffree as u64,
    })
}

/// How asking about one mount went.
#[derive(Debug)]
pub enum Answer {
    Done(io::Result<Usage>),
    /// It did not answer within the timeout, or did not answer in an
    /// earlier scrape and still has not.
    TimedOut,
    /// Not asked: [`MAX_STUCK_STATFS`] helpers are stuck already.
    NotAsked,
}

/// A helper thread's mailbox.
#[derive(Default)]
struct Mailbox {
    /// The path to ask about, NUL-terminated; taken by the helper.
    request: Option<Vec<u8>>,
    /// The answer, and the request's buffer back for reuse.
    reply: Option<(io::Result<Usage>, Vec<u8>)>,
    /// The scrape stopped waiting: the helper ends after its call.
    abandoned: bool,
    /// The helper has ended.
    ended: bool,
}

struct Helper {
    mailbox: Arc<(Mutex<Mailbox>, Condvar)>,
}

fn lock(m: &Mutex<Mailbox>) -> MutexGuard<'_, Mailbox> {
    // A helper never panics while holding the lock (it only moves values),
    // so a poisoned lock still holds consistent data.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Helper {
    fn spawn(call: fn(&CStr) -> io::Result<Usage>) -> io::Result<Helper> {
        let mailbox = Arc::new((Mutex::new(Mailbox::default()), Condvar::new()));
        let theirs = Arc::clone(&mailbox);
        std::thread::Builder::new().name("statfs".into()).stack_size(STATFS_STACK).spawn(move || {
            let (m, cv) = &*theirs;
            loop {
                let path = {
                    let mut g = lock(m);
                    loop {
                        if let Some(path) = g.request.take() {
                            break path;
                        }
                        g = cv.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                };
                let result = match CStr::from_bytes_with_nul(&path) {
                    Ok(c) => call(c),
                    Err(_) => Err(io::ErrorKind::InvalidInput.into()),
                };
                let mut g = lock(m);
                if g.abandoned {
                    g.ended = true;
                    return;
                }
                g.reply = Some((result, path));
                cv.notify_all();
            }
        })?;
        Ok(Helper { mailbox })
    }
}

/// The helpers, kept between scrapes.
pub struct Prober {
    call: fn(&CStr) -> io::Result<Usage>,
    idle: Option<Helper>,
    /// Mount points whose call is still stuck, with their helper.
    stuck: Vec<(String, Helper)>,
    /// The request buffer, reused.
    path: Vec<u8>,
}

impl Prober {
    /// A prober that runs `call` (statfs(2), or a stand-in in tests).
    pub const fn new(call: fn(&CStr) -> io::Result<Usage>) -> Prober {
        Prober { call, idle: None, stuck: Vec::new(), path: Vec::new() }
    }

    /// Forgets the mounts whose stuck call has returned since, so they are
    /// asked again. Call once per scrape, before [`Prober::ask`].
    pub fn sweep(&mut self) {
        self.stuck.retain(|(_, h)| !lock(&h.mailbox.0).ended);
    }

    /// Whether `mount_point` is known to be stuck.
    pub fn is_stuck(&self, mount_point: &str) -> bool {
        self.stuck.iter().any(|(m, _)| m == mount_point)
    }

    /// Asks statfs(2) about `path` (the mount point under the root),
    /// waiting at most `timeout`; `mount_point` names it in the stuck list.
    pub fn ask(&mut self, mount_point: &str, path: &[u8], timeout: Duration) -> Answer {
        if self.is_stuck(mount_point) {
            return Answer::TimedOut;
        }
        if path.contains(&0) {
            return Answer::Done(Err(io::ErrorKind::InvalidInput.into()));
        }
        let helper = match self.idle.take() {
            Some(h) => h,
            None if self.stuck.len() >= MAX_STUCK_STATFS => return Answer::NotAsked,
            None => match Helper::spawn(self.call) {
                Ok(h) => h,
                Err(e) => return Answer::Done(Err(e)),
            },
        };
        let mut buf = mem::take(&mut self.path);
        buf.clear();
        buf.extend_from_slice(path);
        buf.push(0);
        let (m, cv) = &*helper.mailbox;
        let mut g = lock(m);
        g.request = Some(buf);
        cv.notify_all();
        let (mut g, _) =
            cv.wait_timeout_while(g, timeout, |g| g.reply.is_none()).unwrap_or_else(std::sync::PoisonError::into_inner);
        match g.reply.take() {
            Some((result, buf)) => {
                self.path = buf;
                drop(g);
                self.idle = Some(helper);
                Answer::Done(result)
            }
            None => {
                g.abandoned = true;
                drop(g);
                self.stuck.push((mount_point.to_owned(), helper));
                Answer::TimedOut
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    static RELEASE: AtomicBool = AtomicBool::new(false);

    /// Hangs on paths ending in "stuck" until RELEASE, like a dead NFS
    /// mount until its server comes back.
    fn fake(path: &CStr) -> io::Result<Usage> {
        if path.to_bytes().ends_with(b"stuck") {
            while !RELEASE.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(Usage { bsize: 4096, blocks: 10, ..Usage::default() })
    }

    /// See: a stuck mount must not hang a scrape, nor later ones, and must
    /// not cost more than a bounded number of threads.
    #[test]
    fn a_stuck_mount_times_out_is_skipped_and_recovers() {
        let mut p = Prober::new(fake);
        let t = Duration::from_millis(50);
        assert!(matches!(p.ask("/", b"/", t), Answer::Done(Ok(u)) if u.blocks == 10));
        assert!(matches!(p.ask("/mnt/a", b"/mnt/a-stuck", t), Answer::TimedOut));
        // The next mounts are served by a new helper.
        assert!(matches!(p.ask("/home", b"/home", t), Answer::Done(Ok(_))));
        // A later scrape does not wait for the stuck one.
        p.sweep();
        let start = std::time::Instant::now();
        assert!(matches!(p.ask("/mnt/a", b"/mnt/a-stuck", t), Answer::TimedOut));
        assert!(start.elapsed() < t);
        // More stuck mounts, up to the bound; then no more threads.
        for i in 1..MAX_STUCK_STATFS {
            let name = format!("/mnt/{i}");
            assert!(matches!(p.ask(&name, b"/x-stuck", t), Answer::TimedOut));
        }
        assert!(matches!(p.ask("/mnt/more", b"/more-stuck", t), Answer::NotAsked));
        // The server comes back: the stuck calls return and the mounts are
        // asked again.
        RELEASE.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while p.is_stuck("/mnt/a") && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            p.sweep();
        }
        assert!(matches!(p.ask("/mnt/a", b"/mnt/a-stuck", t), Answer::Done(Ok(_))));
    }

    #[test]
    fn statfs_of_the_root_works_and_of_nothing_fails() {
        let root = statfs(c"/").unwrap();
        assert!(root.bsize > 0 && root.blocks > 0);
        let err = statfs(c"/nonexistent/sonde").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
