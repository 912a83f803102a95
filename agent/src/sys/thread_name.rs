//! Naming a thread without musl's printf.
//!
//! std names each thread it spawns from inside that thread, through
//! `pthread_setname_np(pthread_self(), name)`. musl's implementation also
//! handles other threads, by writing `/proc/self/task/TID/comm`, a path it
//! builds with `snprintf`: that one call links musl's whole printf into a
//! binary that never prints with it (8.6 KiB of x86_64 code, measured).
//! This definition is linked in its place (a static link takes a symbol
//! from libc.a only when nothing defined it first) and names the calling
//! thread with prctl(2), as musl does for it.
//!
//! Invariants: the names of threads and their length limit are the
//! kernel's (16 bytes with the NUL; std truncates before calling, musl's
//! ERANGE is kept for a longer one); naming another thread is refused
//! (ENOSYS) rather than done differently from musl.

use libc::{c_char, c_int};

/// musl's `pthread_setname_np`, for the calling thread only.
///
/// # Safety
/// `name` is a NUL-terminated string (the C contract).
#[no_mangle]
pub unsafe extern "C" fn pthread_setname_np(thread: libc::pthread_t, name: *const c_char) -> c_int {
    // SAFETY: pthread_self has no preconditions; `name` is a C string by
    // this function's contract, and prctl reads at most 16 bytes of it.
    unsafe {
        if thread != libc::pthread_self() {
            return libc::ENOSYS;
        }
        if libc::strlen(name) > 15 {
            return libc::ERANGE;
        }
        if libc::prctl(libc::PR_SET_NAME, name as libc::c_ulong, 0, 0, 0) != 0 {
            return *libc::__errno_location();
        }
    }
    0
}
