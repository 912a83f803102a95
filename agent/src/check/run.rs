//! Running one check: its target resolved to addresses of the family
//! asked, each address checked at once on a scoped thread of its own.
//!
//! The outcomes come back in a stable order (IPv4, then IPv6, each in
//! resolver order), not in the order the threads finish, so a dual-stack
//! name with one family blackholed costs one timeout, not one per address.
//! A target with one address, the common case, is checked on the caller's
//! thread when that thread has [`ADDRESS_STACK`] at least (the scheduler's,
//! the main thread); `/probe`'s connection threads have less (a TLS check
//! with the system's CA bundle killed sonde on one), so there it gets a
//! thread too ([`run_probe`]), and an address whose thread cannot start (out
//! of threads or memory) fails as `error`, said on stderr, rather than run
//! there.
//!
//! The timeout counts from the start of the check, name lookup included
//! (as blackbox_exporter's): the lookup ([`crate::resolve`]) gives up at
//! the check's deadline, failing it as `resolve`, and an address whose
//! lookup took nearly all of it fails as `timeout` at once.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use super::{Check, Detail, Outcome, Reason, Select};
use crate::limits::{ADDRESS_STACK, MAX_ADDRESSES};
use crate::sys::log;
use crate::sys::time::Deadline;

/// The addresses of `host` that `select` picks, with `port`. `Every`: those of the
/// family asked, deduplicated, at most [`MAX_ADDRESSES`] (cut in resolver
/// order), IPv4 first, as [`crate::resolve::lookup`] gives them: a report
/// should not reorder itself when the host's routes change.
/// `Preferred`: the one blackbox_exporter would take.
pub fn resolve(host: &str, port: u16, select: Select, deadline: Deadline) -> Result<Vec<SocketAddr>, Reason> {
    let all = crate::resolve::lookup(host, port, deadline).map_err(|_| Reason::Resolve)?;
    pick(&all, select)
}

/// [`resolve`]'s choice among a name's addresses, in resolver order.
fn pick(all: &[SocketAddr], select: Select) -> Result<Vec<SocketAddr>, Reason> {
    let family = match select {
        Select::Every(f) => f,
        Select::Preferred { ip6, fallback } => {
            let preferred = all.iter().find(|a| a.is_ipv6() == ip6);
            let other = || all.iter().rev().find(|a| a.is_ipv6() != ip6).filter(|_| fallback);
            return preferred.or_else(other).map(|a| vec![*a]).ok_or(Reason::NoAddress);
        }
    };
    let mut out: Vec<SocketAddr> = Vec::new();
    for a in all {
        if family.admits(&a.ip()) && !out.contains(a) && out.len() < MAX_ADDRESSES {
            out.push(*a);
        }
    }
    if out.is_empty() {
        return Err(Reason::NoAddress);
    }
    // A stable partition of at most MAX_ADDRESSES: no sort needed.
    let v4 = out.iter().filter(|a| a.is_ipv4());
    Ok(v4.chain(out.iter().filter(|a| a.is_ipv6())).copied().collect())
}

/// Runs the check against every address at once; never fails, never
/// panics. The outcomes are in [`resolve`]'s order. Call it on a thread
/// with at least [`ADDRESS_STACK`] of stack.
pub fn run(check: &Check) -> Vec<Outcome> {
    run_on(check, true)
}

/// [`run`] from a thread with a small stack (an HTTP connection's): every
/// address, even a lone one, is checked on a thread of its own.
pub fn run_probe(check: &Check) -> Vec<Outcome> {
    run_on(check, false)
}

/// [`run`]; `here`: a lone address may be checked on this thread.
fn run_on(check: &Check, here: bool) -> Vec<Outcome> {
    let start = Instant::now();
    // The name lookup spends the same budget: a /probe answers within
    // the scrape timeout even when the resolver is slow.
    let deadline = Deadline::at(start + check.timeout);
    let addrs = match check.kind.authority(&check.target).map_err(|_| Reason::Resolve) {
        Ok((host, port)) => resolve(host, port, check.select, deadline),
        Err(r) => Err(r),
    };
    let addrs = match addrs {
        Ok(a) => a,
        Err(reason) => {
            return vec![Outcome {
                addr: None,
                reason: Some(reason),
                seconds: start.elapsed().as_secs_f64(),
                timeout_seconds: check.timeout.as_secs_f64(),
                lookup_seconds: start.elapsed().as_secs_f64(),
                detail: check.kind.probe().unresolved(),
            }]
        }
    };
    let lookup_seconds = start.elapsed().as_secs_f64();
    let timeout_seconds = check.timeout.as_secs_f64();
    let one = |addr: SocketAddr| {
        let t = Instant::now();
        let (reason, detail) = if deadline.passed() {
            (Some(Reason::Timeout), Detail::None)
        } else {
            check.kind.probe().run(&check.target, addr, deadline)
        };
        Outcome {
            addr: Some(addr),
            reason,
            seconds: t.elapsed().as_secs_f64(),
            timeout_seconds,
            lookup_seconds,
            detail,
        }
    };
    if let ([addr], true) = (&addrs[..], here) {
        // No thread to start and end every interval for most checks.
        // (Also what keeps Debian 12's qemu-i386 from crashing on the
        // next signal after a thread has ended: its emulation bug.)
        return vec![one(*addr)];
    }
    std::thread::scope(|scope| {
        let started: Vec<_> = addrs
            .iter()
            .map(|&addr| {
                let thread = std::thread::Builder::new().name("check".into()).stack_size(ADDRESS_STACK);
                let spawned = if no_threads() { Err(io::ErrorKind::OutOfMemory.into()) } else { Ok(thread) };
                (addr, spawned.and_then(|t| t.spawn_scoped(scope, move || one(addr))))
            })
            .collect();
        // Joined in the addresses' order, whichever finishes first. An
        // address whose thread could not start (out of threads or memory)
        // is checked here, late rather than never, where this thread's
        // stack allows; else (a /probe connection thread) it reports
        // `error`, as does one that panicked (a bug; release builds abort).
        let error = |addr| Outcome {
            addr: Some(addr),
            reason: Some(Reason::Error),
            seconds: 0.0,
            timeout_seconds,
            lookup_seconds,
            detail: Detail::None,
        };
        started
            .into_iter()
            .map(|(addr, thread)| match thread {
                Ok(t) => t.join().unwrap_or(error(addr)),
                Err(_) if here => one(addr),
                Err(e) => {
                    log::error!("cannot start a thread to check {addr}: {e}");
                    error(addr)
                }
            })
            .collect()
    })
}

#[cfg(test)]
thread_local! {
    /// Tests: thread starts on this thread fail, as out of threads.
    static NO_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn no_threads() -> bool {
    #[cfg(test)]
    return NO_THREADS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{tcp, Kind};
    use std::time::Duration;

    #[test]
    fn families_filter_addresses() {
        use crate::check::Family;
        let d = Deadline::after(Duration::from_secs(1));
        assert_eq!(resolve("127.0.0.1", 1, Select::Every(Family::Ipv6), d), Err(Reason::NoAddress));
        assert_eq!(resolve("::1", 1, Select::Every(Family::Any), d).unwrap().len(), 1);
    }

    /// blackbox_exporter's chooseProtocol: the first of the preferred
    /// family, else (with the fallback) the last of the other.
    #[test]
    fn a_preferred_family_picks_one_address_as_blackbox_does() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let all = [a("[2001:db8::1]:53"), a("192.0.2.1:53"), a("[2001:db8::2]:53"), a("192.0.2.2:53")];
        let pick = |ip6, fallback, from: &[SocketAddr]| pick(from, Select::Preferred { ip6, fallback });
        assert_eq!(pick(true, true, &all), Ok(vec![all[0]]));
        assert_eq!(pick(false, false, &all), Ok(vec![all[1]]));
        let v6 = &all[..1];
        assert_eq!(pick(false, true, v6), Ok(vec![all[0]]), "fallback to the other family");
        assert_eq!(pick(false, false, v6), Err(Reason::NoAddress), "no fallback");
        assert_eq!(pick(true, true, &[all[1], all[3]]), Ok(vec![all[3]]), "the last of the other family");
    }

    /// Out of threads, a lone address is checked on the caller's thread
    /// only where its stack allows (not a /probe connection thread's).
    #[test]
    fn an_address_without_a_thread_fails_unless_it_may_run_here() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let check = Check {
            name: String::new(),
            target: l.local_addr().unwrap().to_string(),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            select: Select::Every(crate::check::Family::Any),
            kind: Kind::Tcp(tcp::Settings::default()),
        };
        NO_THREADS.with(|n| n.set(true));
        let reasons = |here| run_on(&check, here).iter().map(|o| o.reason).collect::<Vec<_>>();
        let (probe, scheduler) = (reasons(false), reasons(true));
        NO_THREADS.with(|n| n.set(false));
        assert_eq!(probe, [Some(Reason::Error)]);
        assert_eq!(scheduler, [None]);
        assert_eq!(reasons(false), [None]);
    }
}
