//! Running a program for the watchdog (a service's start, stop or restart
//! program, a program check), as Monit runs its methods: no shell (argv is
//! executed as given; `["/bin/sh", "-c", "..."]` when the operator wants
//! one), in a session of its own (setsid), with stdin, stdout and stderr on
//! /dev/null (stdout and stderr on a pipe sonde reads, for a program
//! check) and every other descriptor closed at exec, a clean
//! environment (a fixed PATH plus what the caller gives: `SONDE_SERVICE`,
//! `SONDE_EVENT`, ...), signals at their defaults, umask 022, optionally
//! as another uid and gid (read back after the switch), and a timeout
//! that ends in SIGTERM to the program's whole process group, then
//! SIGKILL after [`KILL_GRACE`].
//!
//! Invariants: every child started here is reaped before [`run`]
//! returns, and a [`Child`] of [`spawn`] when it is dropped at the latest,
//! whatever happened (an exec that failed, a timeout), so the
//! watchdog leaves no zombie; a daemon the program forks is reparented
//! to init as usual and is not ours to reap. The child between fork and
//! exec calls only async-signal-safe functions, with every argument
//! prepared before the fork (sonde has threads).

use std::ffi::CString;
use std::io;
use std::time::{Duration, Instant};

/// What a program gets beside the caller's variables.
pub const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// After SIGTERM at a timeout, how long a program's process group has
/// before SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The longest pause between two looks at a running program.
const POLL_MAX: Duration = Duration::from_millis(20);

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it (not one of ours).
    Signalled(i32),
    /// It ran past its timeout and was ended by SIGTERM (or SIGKILL).
    TimedOut,
}

/// Who a program runs as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Runs `argv` (argv[0] an absolute path) with `env` (`NAME=value`) and
/// waits for it, at most `timeout` before ending it. Err: it could not be
/// started (not executable, a NUL in an argument, no uid switch); the
/// child is reaped then too.
pub fn run(argv: &[String], env: &[String], who: Credentials, timeout: Duration) -> io::Result<Ended> {
    let mut child = spawn(argv, env, who, false)?;
    Ok(child.wait(Instant::now() + timeout))
}

/// A program started by [`spawn`]. It is reaped by [`Child::poll`] once
/// it ended, by [`Child::wait`], or when dropped (ended first, as at a
/// timeout).
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    /// The read end of its stdout and stderr, non-blocking.
    output: Option<std::fs::File>,
    reaped: bool,
}

/// Starts `argv` as [`run`] does, without waiting for it; with `capture`,
/// its stdout and stderr go to a pipe [`Child::read_output`] reads (else
/// to /dev/null).
pub fn spawn(argv: &[String], env: &[String], who: Credentials, capture: bool) -> io::Result<Child> {
    use std::os::fd::FromRawFd;
    let cstr = |s: &str| CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
    let args: Vec<CString> = argv.iter().map(|a| cstr(a)).collect::<io::Result<_>>()?;
    let Some(path) = args.first() else { return Err(io::ErrorKind::InvalidInput.into()) };
    let vars: Vec<CString> =
        std::iter::once(PATH).chain(env.iter().map(String::as_str)).map(cstr).collect::<io::Result<_>>()?;
    let mut arg_ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    arg_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = vars.iter().map(|v| v.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());
    let null = c"/dev/null";
    let root = c"/";

    let mut report = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two descriptors it is given.
    if unsafe { libc::pipe2(report.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // The output pipe: blocking for the program (a full pipe makes it
    // wait, never fail), non-blocking for us, and as large as an
    // unprivileged pipe may be (the 64 KiB it has else is all a program
    // may write between two reads).
    let mut out = [-1 as libc::c_int; 2];
    // SAFETY: as above; fcntl on a descriptor we own.
    if capture
        && unsafe {
            libc::pipe2(out.as_mut_ptr(), libc::O_CLOEXEC) < 0
                || libc::fcntl(out[0], libc::F_SETFL, libc::O_NONBLOCK) < 0
        }
    {
        let e = io::Error::last_os_error();
        // SAFETY: closing descriptors we own (-1 is ignored by close).
        unsafe { report.iter().chain(&out).for_each(|&fd| _ = libc::close(fd)) };
        return Err(e);
    }
    if capture {
        // SAFETY: fcntl on a descriptor we own; a refusal keeps the size.
        unsafe { libc::fcntl(out[0], libc::F_SETPIPE_SZ, PIPE_SIZE) };
    }
    // Signals are blocked across the fork, so no handler of sonde's runs
    // in the child before it resets them.
    // SAFETY: plain sigset operations on locals.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigfillset(&raw mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const all, &raw mut old);
    }
    // SAFETY: the child branch calls only async-signal-safe functions on
    // memory prepared above, and ends in execve or _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above; every pointer is to a NUL-terminated string
        // or a NULL-terminated array that outlives the call.
        unsafe { child(path.as_ptr(), &arg_ptrs, &env_ptrs, [null.as_ptr(), root.as_ptr()], who, report[1], out[1]) }
    }
    let forked = io::Error::last_os_error();
    // SAFETY: restores this thread's mask; closes our copies of the write
    // ends.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const old, std::ptr::null_mut());
        libc::close(report[1]);
        if capture {
            libc::close(out[1]);
        }
    }
    // SAFETY: the read end is ours alone from here on.
    let output = capture.then(|| unsafe { std::fs::File::from_raw_fd(out[0]) });
    if pid < 0 {
        // SAFETY: closing the read end we own.
        unsafe { libc::close(report[0]) };
        return Err(forked);
    }
    // The write end closes at exec (CLOEXEC): 0 bytes means it started;
    // 4 bytes are the errno of what failed before.
    let mut errno = [0u8; 4];
    let n = loop {
        // SAFETY: reading into a local buffer of its stated length.
        let n = unsafe { libc::read(report[0], errno.as_mut_ptr().cast(), errno.len()) };
        if n >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break n;
        }
    };
    // SAFETY: closing the read end we own.
    unsafe { libc::close(report[0]) };
    if n == 4 {
        reap(pid);
        return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)));
    }
    Ok(Child { pid, output, reaped: false })
}

/// The size asked for a captured program's pipe: Linux's default
/// `pipe-max-size`, the most an unprivileged process may ask.
const PIPE_SIZE: libc::c_int = 1 << 20;

/// The most a [`Child::read_output`] call reads, so one call is bounded
/// whatever the program writes (a few milliseconds of copying), yet a
/// program that writes megabytes is not held back by its pipe.
const READ_MAX: usize = 16 << 20;

impl Child {
    pub fn pid(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// Takes what the program wrote since the last call, without waiting:
    /// the first bytes up to `keep` in all are kept in `out`, the rest read
    /// and dropped, so the program never blocks on a full pipe for long.
    pub fn read_output(&mut self, out: &mut Vec<u8>, keep: usize) {
        use std::io::Read;
        let Some(pipe) = &mut self.output else { return };
        let mut buf = [0u8; 4096];
        let mut read = 0;
        while read < READ_MAX {
            match pipe.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    read += n;
                    let room = keep.saturating_sub(out.len()).min(n);
                    out.extend_from_slice(&buf[..room]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// How it ended, once it has (it is reaped then); None while it runs.
    pub fn poll(&mut self) -> Option<Ended> {
        if self.reaped {
            return Some(Ended::TimedOut);
        }
        let status = try_reap(self.pid)?;
        self.reaped = true;
        Some(if libc::WIFEXITED(status) {
            Ended::Exited(libc::WEXITSTATUS(status))
        } else {
            Ended::Signalled(libc::WTERMSIG(status))
        })
    }

    /// Sends `sig` to its process group (and to it, should it have left
    /// the group), without waiting; nothing once it is reaped.
    pub fn signal_group(&self, sig: libc::c_int) {
        if !self.reaped {
            // SAFETY: kill(2) takes no pointers; -pid is the group setsid
            // made it the leader of, and it is not reaped, so the PID is
            // still its own.
            unsafe {
                libc::kill(-self.pid, sig);
                libc::kill(self.pid, sig);
            }
        }
    }

    /// Waits for it until `deadline`; past it, SIGTERM to its group, then
    /// SIGKILL after [`KILL_GRACE`]. It is reaped when this returns.
    pub fn wait(&mut self, deadline: Instant) -> Ended {
        if self.reaped {
            return Ended::TimedOut;
        }
        self.reaped = true;
        wait(self.pid, deadline)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            wait(self.pid, Instant::now());
        }
    }
}

/// The child's side: everything before exec. Never returns.
///
/// # Safety
/// Call only in a freshly forked child; the pointers must be valid.
unsafe fn child(
    path: *const libc::c_char,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    [null, root]: [*const libc::c_char; 2],
    who: Credentials,
    report: libc::c_int,
    output: libc::c_int,
) -> ! {
    // SAFETY: the caller's contract; all async-signal-safe.
    unsafe {
        let fail = |report: libc::c_int| -> ! {
            let e = *libc::__errno_location();
            let b = e.to_ne_bytes();
            libc::write(report, b.as_ptr().cast(), b.len());
            libc::_exit(127)
        };
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &raw const dfl, std::ptr::null_mut());
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut none);
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const none, std::ptr::null_mut());
        if libc::setsid() < 0 {
            fail(report);
        }
        if let Some(gid) = who.gid {
            if libc::setgroups(1, &raw const gid) < 0 || libc::setgid(gid) < 0 || libc::getgid() != gid {
                fail(report);
            }
        }
        if let Some(uid) = who.uid {
            if libc::setuid(uid) < 0 || libc::getuid() != uid || libc::geteuid() != uid {
                fail(report);
            }
        }
        let fd = libc::open(null, libc::O_RDWR);
        if fd < 0 {
            fail(report);
        }
        for std in 0..3 {
            if fd != std && libc::dup2(fd, std) < 0 {
                fail(report);
            }
        }
        if fd > 2 {
            libc::close(fd);
        }
        // A captured program writes both to the pipe (the original closes
        // at exec).
        if output >= 0 && (libc::dup2(output, 1) < 0 || libc::dup2(output, 2) < 0) {
            fail(report);
        }
        // Every inherited descriptor closes at exec (the report pipe
        // after an exec that worked). close_range(2) with CLOEXEC needs
        // Linux 5.11; before it, each descriptor up to the limit.
        const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
        if libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) != 0 {
            let mut limit: libc::rlimit = std::mem::zeroed();
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) == 0 {
                limit.rlim_cur.min(1 << 16) as libc::c_int
            } else {
                1024
            };
            for fd in 3..max {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        libc::umask(0o022);
        libc::chdir(root);
        libc::execve(path, argv.as_ptr(), envp.as_ptr());
        fail(report)
    }
}

/// Waits for `pid` until `deadline`; past it, SIGTERM to its group, then
/// SIGKILL after [`KILL_GRACE`]. Always reaps it.
fn wait(pid: libc::pid_t, deadline: Instant) -> Ended {
    let mut pause = Duration::from_millis(1);
    let mut killed: Option<Instant> = None;
    loop {
        if let Some(status) = try_reap(pid) {
            return match (killed, status) {
                (Some(_), _) => Ended::TimedOut,
                (None, s) if libc::WIFEXITED(s) => Ended::Exited(libc::WEXITSTATUS(s)),
                (None, s) => Ended::Signalled(libc::WTERMSIG(s)),
            };
        }
        let now = Instant::now();
        match killed {
            None if now >= deadline => {
                // SAFETY: kill(2) takes no pointers; -pid is the
                // program's process group (setsid made it the leader).
                unsafe {
                    libc::kill(-pid, libc::SIGTERM);
                    libc::kill(pid, libc::SIGTERM);
                }
                killed = Some(now);
            }
            Some(at) if now >= at + KILL_GRACE => {
                // SAFETY: as above.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                    libc::kill(pid, libc::SIGKILL);
                }
                reap(pid);
                return Ended::TimedOut;
            }
            _ => {}
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL_MAX);
    }
}

/// The child's wait status once it ended; None while it runs.
fn try_reap(pid: libc::pid_t) -> Option<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into a local.
        let r = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        // 0: still running; -1 (ECHILD): already reaped, nothing to wait for.
        return if r == 0 { None } else { Some(0) };
    }
}

/// Waits for `pid` to end, however long it takes (it was killed).
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waitpid writes the status into a local.
    while unsafe { libc::waitpid(pid, &raw mut status, 0) } < 0 {
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
}

/// Sends `sig` to process `pid`; false when there is no such process (or
/// no right to signal it).
pub fn signal(pid: u32, sig: libc::c_int) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: kill(2) takes no pointers; pid is positive.
    pid > 0 && unsafe { libc::kill(pid, sig) } == 0
}

/// The uid and primary gid of user `name` (the passwd database).
pub fn user(name: &str) -> Option<(u32, u32)> {
    let c = CString::new(name).ok()?;
    // SAFETY: getpwnam reads a NUL-terminated name; its result is read at
    // once (the watchdog's config is loaded on one thread at a time).
    let p = unsafe { libc::getpwnam(c.as_ptr()) };
    // SAFETY: a non-null result points to a valid passwd entry.
    (!p.is_null()).then(|| unsafe { ((*p).pw_uid, (*p).pw_gid) })
}

/// The gid of group `name` (the group database).
pub fn group(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: as for getpwnam.
    let g = unsafe { libc::getgrnam(c.as_ptr()) };
    // SAFETY: a non-null result points to a valid group entry.
    (!g.is_null()).then(|| unsafe { (*g).gr_gid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn exit_status_and_environment() {
        let who = Credentials::default();
        let t = Duration::from_secs(10);
        assert_eq!(run(&argv(&["/bin/true"]), &[], who, t).unwrap(), Ended::Exited(0));
        assert_eq!(run(&argv(&["/bin/sh", "-c", "exit 3"]), &[], who, t).unwrap(), Ended::Exited(3));
        let env = ["SONDE_SERVICE=web".to_owned()];
        let script = "test \"$SONDE_SERVICE\" = web && test -z \"$HOME\" && test \"$(pwd)\" = /";
        assert_eq!(run(&argv(&["/bin/sh", "-c", script]), &env, who, t).unwrap(), Ended::Exited(0));
        // Descriptors ≥ 3 are closed: /proc/self/fd has 0, 1, 2 and the
        // one ls opens to read it.
        let fds = "test $(ls /proc/self/fd | wc -l) -le 4";
        let _keep = std::fs::File::open("/proc/self/stat").unwrap();
        assert_eq!(run(&argv(&["/bin/sh", "-c", fds]), &[], who, t).unwrap(), Ended::Exited(0));
    }

    #[test]
    fn what_cannot_start_is_an_error_and_reaped() {
        let who = Credentials::default();
        let t = Duration::from_secs(10);
        let e = run(&argv(&["/nonexistent/x"]), &[], who, t).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(run(&argv(&["/bin/tr\0ue"]), &[], who, t).is_err());
        assert!(run(&[], &[], who, t).is_err());
    }

    #[test]
    fn a_spawned_program_is_read_and_reaped_without_waiting() {
        let who = Credentials::default();
        let script = "echo out; echo err >&2; head -c 100000 /dev/zero; exit 4";
        let mut c = spawn(&argv(&["/bin/sh", "-c", script]), &[], who, true).unwrap();
        let (mut out, deadline) = (Vec::new(), Instant::now() + Duration::from_secs(30));
        // 100 kB is more than a pipe holds: it ends only because it is read.
        let ended = loop {
            c.read_output(&mut out, 8);
            if let Some(e) = c.poll() {
                break e;
            }
            assert!(Instant::now() < deadline, "the program did not end");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!((ended, out.as_slice()), (Ended::Exited(4), b"out\nerr\n".as_slice()));
        // Dropped while it runs: ended and reaped at once.
        let c = spawn(&argv(&["/bin/sleep", "600"]), &[], who, false).unwrap();
        let pid = c.pid();
        drop(c);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    /// See: a start program that never returns is ended at its timeout,
    /// its children with it (they share its process group).
    #[test]
    fn a_program_past_its_timeout_is_ended_with_its_group() {
        let who = Credentials::default();
        let start = Instant::now();
        let ended = run(&argv(&["/bin/sh", "-c", "sleep 600 & sleep 600"]), &[], who, Duration::from_millis(200));
        assert_eq!(ended.unwrap(), Ended::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(60));
        // A program that ignores SIGTERM gets SIGKILL.
        let ended = run(&argv(&["/bin/sh", "-c", "trap '' TERM; sleep 600"]), &[], who, Duration::from_millis(100));
        assert_eq!(ended.unwrap(), Ended::TimedOut);
    }
}
