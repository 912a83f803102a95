//! `chrony`: chronyd's tracking, sources, sourcestats, serverstats and
//! activity, asked over its command protocol ([`crate::wire::chrony`]) on
//! the unix socket or UDP ([`crate::sys::dgram`]).
//!
//! The names, labels, types and help texts are chrony_exporter's
//! (SuperQ/chrony_exporter, `shared/reference/exporters.md` §1.3), so its
//! dashboards and alerts keep working; `source_name` and `tracking_name`
//! are the address, as with its `--no-collector.dns-lookups`, because sonde
//! makes no DNS lookups. What chrony_exporter lacks is added under the same
//! namespace: `chrony_tracking_leap_status`,
//! `chrony_sources_reachability_register`, `chrony_sources_selection_info`
//! (the `sources` and `selectdata` state columns), `chrony_activity_sources`
//! and `chrony_command_available`, and the ntpdata families are on whenever
//! chronyd answers ntpdata.
//!
//! One scrape asks, in order: tracking, the number of sources, then for
//! each source (at most [`crate::limits::MAX_CHRONY_SOURCES`]) its source data,
//! sourcestats, selectdata and, for NTP sources, ntpdata; then serverstats
//! and activity. Every request has the configured timeout, at most
//! [`crate::limits::CHRONY_RETRIES`] resends, and all of them end by [`CHRONY_DEADLINE`].
//! serverstats, ntpdata and selectdata are not authorised over UDP: that is
//! reported by `chrony_command_available` and once on stderr, and is not a
//! failure. In `auto` mode a box without chronyd (no socket, UDP refused)
//! gets no chrony families at all and success, since there was nothing to
//! collect; one where chronyd belongs (its socket file, its config file,
//! or this process saw it answer: [`daemon::Presence`]) gets `chrony_up 0`
//! and a failed collector.
//!
//! [`render`] is a pure function of a [`Report`], so captured replies test
//! the exposition without a chronyd.
//!
//! Files: `session` asks chronyd (the socket, retries, the order of the
//! requests), `label` spells addresses and refids as label values, and
//! [`render`] writes the families from a [`Report`].

mod label;
mod render;
mod session;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::daemon::{self, Address, Asked};
use super::{Collector, Context, Error};
use crate::expo::Exposition;
use crate::limits::CHRONY_DEADLINE;
use crate::sys::log;
use crate::sys::time::Deadline;
use crate::wire::chrony::{Activity, NtpData, ServerStats, SourceData, Sourcestats, Tracking};
pub use label::Label;
pub use render::render;
use session::{scrape, Target};

pub struct Chrony;

/// The `[chrony]` section: how the collector reaches chronyd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `auto`: the unix socket [`CHRONY_SOCKET`], else UDP to 127.0.0.1
    /// and ::1 on [`CHRONY_PORT`], as chronyc tries them.
    pub address: Address,
    /// How long one request waits for its reply before it is sent again.
    pub timeout: Duration,
}

/// chronyd's unix command socket where Debian, Fedora, Alpine and OpenWrt
/// put it (`<CHRONYRUNDIR>/chronyd.sock`).
pub const CHRONY_SOCKET: &str = "/run/chrony/chronyd.sock";

/// chronyd's UDP command port (`DEFAULT_CANDM_PORT`).
pub const CHRONY_PORT: u16 = 323;

/// Set once chronyd answered in this process.
static SEEN: AtomicBool = AtomicBool::new(false);

/// What tells that chronyd belongs on this box: its socket, its config
/// file where Debian, Fedora, Alpine and OpenWrt keep it.
const PRESENCE: daemon::Presence = daemon::Presence {
    daemon: "chronyd",
    sockets: &[CHRONY_SOCKET],
    configs: &["/etc/chrony/chrony.conf", "/etc/chrony.conf"],
    seen: &SEEN,
};

impl Default for Settings {
    fn default() -> Self {
        Settings { address: Address::Auto, timeout: Duration::from_secs(1) }
    }
}

impl Collector for Chrony {
    fn name(&self) -> &'static str {
        "chrony"
    }

    /// chrony_exporter's job, not node_exporter's: reported in
    /// `sonde_collector_*`.
    fn node_exporter(&self) -> bool {
        false
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let config = &cx.settings().chrony;
        let deadline = Deadline::after(CHRONY_DEADLINE);
        let mut report = Report::default();
        let result = match &config.address {
            Address::Unix(path) => {
                let target = Target::Unix(path);
                scrape(target, config, deadline, &mut report).map(|()| (target, None))
            }
            Address::Ip(addr) => {
                let target = Target::Udp(*addr);
                scrape(target, config, deadline, &mut report).map(|()| (target, None))
            }
            Address::Auto => match auto(config, &cx.settings().rootfs, deadline, &mut report) {
                // No chronyd on this box: nothing to collect, nothing to say.
                Ok(None) => return Ok(()),
                Ok(Some(found)) => Ok(found),
                Err(e) => Err(e),
            },
        };
        render(&report, out);
        let (target, unix_failed) = result?;
        explain_refusals(&report, target, unix_failed.as_ref());
        Ok(())
    }
}

/// Says once on stderr that chronyd would not answer some commands here
/// (`chrony_command_available` says which), and how to get them.
fn explain_refusals(report: &Report, target: Target<'_>, unix_failed: Option<&Error>) {
    let refused = [
        report.serverstats == Answer::Refused,
        report.ntp_data == Answer::Refused,
        report.select_data == Answer::Refused,
    ];
    if !refused.contains(&true) || NOTED.swap(true, Ordering::Relaxed) {
        return;
    }
    let peer = target.describe();
    match unix_failed {
        Some(e) => log::info!(
            "chrony: using {peer}, where some commands are not authorised: the unix socket is not usable: {e}"
        ),
        None => log::info!(
            "chrony: some commands are not authorised over {peer} (see chrony_command_available); chronyd \
             answers them on its unix socket, to root or chronyd's user"
        ),
    }
}

/// What one scrape learned from chronyd.
#[derive(Debug, Default)]
pub struct Report {
    /// chronyd answered tracking.
    pub up: bool,
    pub tracking: Option<Tracking>,
    /// Resolved sources, in chronyd's order.
    pub sources: Vec<Source>,
    pub serverstats: Answer<ServerStats>,
    pub activity: Option<Activity>,
    /// Whether chronyd answered ntpdata and selectdata, once asked.
    pub ntp_data: Answer<()>,
    pub select_data: Answer<()>,
}

/// The outcome of a command chronyd may refuse: it answers serverstats,
/// ntpdata and selectdata only on its unix socket by default.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Answer<T> {
    #[default]
    NotAsked,
    /// Not authorised, or unknown to this chronyd.
    Refused,
    Got(T),
}

/// One source and what chronyd said about it.
#[derive(Debug)]
pub struct Source {
    pub data: SourceData,
    /// The address, or a reference clock's refid: both label values.
    pub label: Label,
    pub stats: Option<Sourcestats>,
    /// What ntpdata says of the last exchange, if asked.
    pub peer: Option<Peer>,
    /// selectdata's state column, if asked.
    pub select_state: Option<u8>,
}

/// The part of ntpdata that is exported. Only what is kept is decoded:
/// once the codec is inlined here, the rest of the layout costs nothing.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub offset: f64,
    pub delay: f64,
    pub dispersion: f64,
    pub response_time: f64,
    pub jitter_asymmetry: f64,
}

impl From<NtpData> for Peer {
    fn from(n: NtpData) -> Peer {
        Peer {
            offset: n.offset,
            delay: n.peer_delay,
            dispersion: n.peer_dispersion,
            response_time: n.response_time,
            jitter_asymmetry: n.jitter_asymmetry,
        }
    }
}

/// Set once a refusal has been explained on stderr.
static NOTED: AtomicBool = AtomicBool::new(false);

/// Tries the unix socket, then UDP on 127.0.0.1 and ::1, as chronyc does.
/// Returns where chronyd answered, and why an earlier place failed;
/// `Ok(None)`: no chronyd anywhere.
fn auto(
    config: &Settings,
    rootfs: &Path,
    deadline: Deadline,
    report: &mut Report,
) -> Result<Option<(Target<'static>, Option<Error>)>, Error> {
    let places = [
        Target::Unix(Path::new(CHRONY_SOCKET)),
        Target::Udp((Ipv4Addr::LOCALHOST, CHRONY_PORT).into()),
        Target::Udp((Ipv6Addr::LOCALHOST, CHRONY_PORT).into()),
    ];
    let found = daemon::discover(places, &PRESENCE, rootfs, |target| {
        *report = Report::default();
        match scrape(target, config, deadline, report) {
            // It answered, then failed: that chronyd is the one to report.
            Err(e) if report.up => Asked::Broke(e),
            result => Asked::of(result),
        }
    })?;
    Ok(found.map(|f| (f.place, f.earlier)))
}
