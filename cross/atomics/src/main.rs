//! Every `__sync_*` function of agent/src/sys/arm_sync.rs under
//! contention: four threads, each operation a few hundred thousand times,
//! and totals that come out exact only if no update was lost and every
//! returned old value was the one replaced. qemu-user runs the threads on
//! the host's cores at once. The program does not link unless each
//! operation here is a call to those functions (Thumb code on ARMv6 has no
//! other way to do them); it exits 1 on a wrong total.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::SeqCst};
use std::sync::Barrier;
use std::thread;

#[cfg(all(target_arch = "arm", target_feature = "thumb-mode", not(target_feature = "thumb2")))]
#[path = "../../../agent/src/sys/arm_sync.rs"]
mod arm_sync;

const THREADS: u64 = 4;
const ROUNDS: u64 = 200_000;

static ADDED: AtomicU32 = AtomicU32::new(0); // fetch_add_4, fetch_sub_4
static WIDE: AtomicU64 = AtomicU64::new(0); // val_compare_and_swap_8
static TOKEN4: AtomicU32 = AtomicU32::new(0); // lock_test_and_set_4
static TOKEN8: AtomicU64 = AtomicU64::new(0); // lock_test_and_set_8
static FLAG: AtomicBool = AtomicBool::new(false); // lock_test_and_set_1
static BYTE: AtomicU8 = AtomicU8::new(0); // val_compare_and_swap_1
static WORD: AtomicU32 = AtomicU32::new(0); // val_compare_and_swap_4

/// A counter that only a lock keeps right.
struct Guarded(UnsafeCell<u64>);
// SAFETY: every access holds one of the spin locks below.
unsafe impl Sync for Guarded {}
static UNDER_FLAG: Guarded = Guarded(UnsafeCell::new(0));
static UNDER_BYTE: Guarded = Guarded(UnsafeCell::new(0));

fn work(t: u64, start: &Barrier) -> (u64, u64) {
    start.wait();
    let (mut out4, mut out8) = (0u64, 0u64);
    for i in 0..ROUNDS {
        ADDED.fetch_add(3, SeqCst);
        ADDED.fetch_sub(1, SeqCst);
        // Both halves change at once: a torn 64-bit update shows.
        let mut old = WIDE.load(SeqCst);
        while let Err(now) = WIDE.compare_exchange(old, old + (1 << 32) + 1, SeqCst, SeqCst) {
            old = now;
        }
        // What each swap hands back is what another put in.
        out4 += u64::from(TOKEN4.swap((t * ROUNDS + i) as u32, SeqCst));
        out8 += TOKEN8.swap((t << 40) + i, SeqCst);
        while FLAG.swap(true, SeqCst) {}
        // SAFETY: FLAG is held.
        unsafe { *UNDER_FLAG.0.get() += 1 };
        FLAG.store(false, SeqCst);
        while BYTE.compare_exchange(0, 1, SeqCst, SeqCst).is_err() {}
        // SAFETY: BYTE is held.
        unsafe { *UNDER_BYTE.0.get() += 1 };
        BYTE.store(0, SeqCst);
        let mut w = WORD.load(SeqCst);
        while let Err(now) = WORD.compare_exchange(w, w.wrapping_add(7), SeqCst, SeqCst) {
            w = now;
        }
    }
    (out4, out8)
}

fn main() {
    // All start at once, so they contend from the first round.
    let start: &'static Barrier = Box::leak(Box::new(Barrier::new(THREADS as usize)));
    let handles: Vec<_> = (0..THREADS).map(|t| thread::spawn(move || work(t, start))).collect();
    let (mut out4, mut out8) = (0u64, 0u64);
    for h in handles {
        let (a, b) = h.join().unwrap_or_default();
        out4 += a;
        out8 += b;
    }
    let n = THREADS * ROUNDS;
    let put4: u64 = (0..n).sum();
    let put8: u64 = (0..THREADS).map(|t| (0..ROUNDS).map(|i| (t << 40) + i).sum::<u64>()).sum();
    let checks = [
        ("fetch_add_4 and fetch_sub_4", u64::from(ADDED.load(SeqCst)), 2 * n),
        ("val_compare_and_swap_8", WIDE.load(SeqCst), n * ((1 << 32) + 1)),
        ("lock_test_and_set_4", out4 + u64::from(TOKEN4.load(SeqCst)), put4),
        ("lock_test_and_set_8", out8 + TOKEN8.load(SeqCst), put8),
        // SAFETY: every thread has ended.
        ("lock_test_and_set_1", unsafe { *UNDER_FLAG.0.get() }, n),
        // SAFETY: every thread has ended.
        ("val_compare_and_swap_1", unsafe { *UNDER_BYTE.0.get() }, n),
        ("val_compare_and_swap_4", u64::from(WORD.load(SeqCst)), (7 * n) & 0xffff_ffff),
    ];
    let mut failed = false;
    for (what, got, want) in checks {
        println!("{what}: {got} (want {want})");
        failed |= got != want;
    }
    std::process::exit(i32::from(failed));
}
