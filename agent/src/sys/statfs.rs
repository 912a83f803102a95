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
//! The last of those slots is kept for mounts that answered in the previous
//! scrape: a mount not known to answer may only take the others. Otherwise
//! mounts that hang from the start (a FUSE daemon that never answered,
//! however many mounts it serves) would leave no helper for anything, and
//! every healthy mount, the root filesystem included, would lose its sizes
//! until they recovered. What this cannot help, as nothing tells a hung
//! mount from a healthy one but asking: a mount first seen behind that many
//! hung ones is not asked until one of them returns, and mounts that
//! answered and then hang can take every slot.
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
    /// Not asked: as many helpers are stuck already as this mount may
    /// leave (all [`MAX_STUCK_STATFS`] of them for a mount that answered in
    /// the previous scrape, one less for any other).
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

// One slot is kept for mounts known to answer; the others must leave one.
const _: () = assert!(MAX_STUCK_STATFS >= 2);

/// The helpers, kept between scrapes.
pub struct Prober {
    call: fn(&CStr) -> io::Result<Usage>,
    idle: Option<Helper>,
    /// Mount points whose call is still stuck, with their helper.
    stuck: Vec<(String, Helper)>,
    /// The [`key`]s of the mount points that answered in the previous
    /// scrape, sorted; as many as there were mounts, so bounded by the
    /// mount table.
    answered: Vec<u64>,
    /// Those that answered in this scrape so far.
    answering: Vec<u64>,
    /// The request buffer, reused.
    path: Vec<u8>,
}

/// A mount point's FNV-1a hash: the answered lists hold these rather than
/// copies of the names. Two names with one hash only share a slot's claim.
fn key(mount_point: &str) -> u64 {
    mount_point.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Prober {
    /// A prober that runs `call` (statfs(2), or a stand-in in tests).
    pub const fn new(call: fn(&CStr) -> io::Result<Usage>) -> Prober {
        Prober { call, idle: None, stuck: Vec::new(), answered: Vec::new(), answering: Vec::new(), path: Vec::new() }
    }

    /// Starts a scrape: forgets the mounts whose stuck call has returned
    /// since, so they are asked again, and takes the mounts that answered
    /// in the scrape before as the ones known to answer. Call once per
    /// scrape, before [`Prober::ask`].
    pub fn sweep(&mut self) {
        self.stuck.retain(|(_, h)| !lock(&h.mailbox.0).ended);
        mem::swap(&mut self.answered, &mut self.answering);
        self.answering.clear();
        self.answered.sort_unstable();
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
        let key = key(mount_point);
        let slots = if self.answered.binary_search(&key).is_ok() { MAX_STUCK_STATFS } else { MAX_STUCK_STATFS - 1 };
        if self.stuck.len() >= slots {
            return Answer::NotAsked;
        }
        let helper = match self.idle.take() {
            Some(h) => h,
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
                self.answering.push(key);
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
        // More stuck mounts, up to the bound less the slot kept for mounts
        // that answer; then no more threads for new ones.
        for i in 1..MAX_STUCK_STATFS - 1 {
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

    static THAW: AtomicBool = AtomicBool::new(false);

    /// Hangs on paths ending in "hung" until THAW: [`fake`]'s twin, so the
    /// two tests do not release each other's mounts.
    fn hanging(path: &CStr) -> io::Result<Usage> {
        if path.to_bytes().ends_with(b"hung") {
            while !THAW.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(Usage { bsize: 4096, blocks: 7, ..Usage::default() })
    }

    /// See: once MAX_STUCK_STATFS mounts hung, no helper was left and every
    /// healthy mount, the root filesystem included, was reported as "too
    /// many stuck mounts" without sizes until they recovered (found with
    /// real FUSE mounts nobody serves, tests/mounts.rs).
    #[test]
    fn mounts_that_answer_are_still_asked_however_many_hang() {
        let mut p = Prober::new(hanging);
        let t = Duration::from_millis(20);
        let hung: Vec<String> = (0..MAX_STUCK_STATFS + 2).map(|i| format!("/mnt/fuse{i}")).collect();
        p.sweep();
        assert!(matches!(p.ask("/home", b"/home", t), Answer::Done(Ok(_))));
        for scrape in 0..4 {
            p.sweep();
            assert!(matches!(p.ask("/", b"/", t), Answer::Done(Ok(u)) if u.blocks == 7), "scrape {scrape}");
            let (mut timed_out, mut not_asked) = (0, 0);
            for m in &hung {
                match p.ask(m, format!("{m}-hung").as_bytes(), t) {
                    Answer::TimedOut => timed_out += 1,
                    Answer::NotAsked => not_asked += 1,
                    Answer::Done(r) => panic!("{m} answered: {r:?}"),
                }
            }
            assert_eq!((timed_out, not_asked), (MAX_STUCK_STATFS - 1, 3), "scrape {scrape}");
            // Behind the hung ones, a mount that answered before.
            assert!(matches!(p.ask("/home", b"/home", t), Answer::Done(Ok(_))), "scrape {scrape}");
        }
        // Should /home hang now, it takes the last slot, and the bound holds.
        p.sweep();
        assert!(matches!(p.ask("/home", b"/home-hung", t), Answer::TimedOut));
        assert!(matches!(p.ask("/", b"/", t), Answer::NotAsked));
        assert_eq!(p.stuck.len(), MAX_STUCK_STATFS);
        THAW.store(true, Ordering::SeqCst);
    }

    #[test]
    fn statfs_of_the_root_works_and_of_nothing_fails() {
        let root = statfs(c"/").unwrap();
        assert!(root.bsize > 0 && root.blocks > 0);
        let err = statfs(c"/nonexistent/sonde").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
