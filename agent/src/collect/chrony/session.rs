//! A conversation with one chronyd: the socket, the requests in order,
//! resends within the deadline, and what each answer means.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use super::label::Label;
use super::{Answer, Peer, Report, Settings, Source};
use crate::collect::Error;
use crate::limits::{CHRONY_RETRIES, MAX_CHRONY_SOURCES};
use crate::sys::dgram::{Retry, Socket};
use crate::sys::time::{Deadline, Rng};
use crate::wire;
use crate::wire::chrony::{
    self as candm, mode, Activity, Address, NtpData, Reply, Request, SelectData, ServerStats, SourceData, Sourcestats,
    Status, Tracking,
};

/// Where to ask.
#[derive(Clone, Copy)]
pub(super) enum Target<'a> {
    Unix(&'a Path),
    Udp(SocketAddr),
}

impl Target<'_> {
    pub(super) fn describe(self) -> String {
        match self {
            Target::Unix(p) => format!("unix:{}", p.display()),
            Target::Udp(a) => a.to_string(),
        }
    }
}

/// Asks chronyd at `target` everything, into `report`.
pub(super) fn scrape(
    target: Target<'_>,
    config: &Settings,
    deadline: Deadline,
    report: &mut Report,
) -> Result<(), Error> {
    let peer = target.describe();
    let sock = match target {
        Target::Unix(path) => Socket::unix(path),
        Target::Udp(addr) => Socket::udp(addr),
    };
    let sock = sock.map_err(|err| Error::Socket { peer: peer.clone(), command: "connect", err })?;
    let mut s = Session {
        sock,
        peer,
        retry: Retry { timeout: config.timeout, retries: CHRONY_RETRIES, deadline },
        sequence: Rng::new(),
        request: [0; candm::MAX_REQUEST_LEN],
        reply: [0; candm::MAX_REPLY_LEN],
        len: 0,
    };
    gather(&mut s, report)
}

fn gather(s: &mut Session, report: &mut Report) -> Result<(), Error> {
    s.must(Request::Tracking)?;
    report.tracking = Some(s.parse(Request::Tracking, Tracking::parse)?);
    report.up = true;
    s.must(Request::NSources)?;
    let n = s.parse(Request::NSources, candm::parse_n_sources)?;
    let count = usize::try_from(n).unwrap_or(usize::MAX).min(MAX_CHRONY_SOURCES);
    report.sources.reserve(count);
    for i in 0..count as u32 {
        let request = Request::SourceData(i);
        match s.ask(request)? {
            Said::Yes => {}
            // Sources went away since N_SOURCES.
            Said::NoSuchSource => break,
            Said::Refused => return Err(s.refused(request)),
        }
        let data = s.parse(request, SourceData::parse)?;
        // Unresolved sources have no address yet (chronyc sources leaves
        // them out too, without -a).
        let Some(label) = Label::source(&data) else { continue };
        let request = Request::Sourcestats(i);
        let stats = match s.ask(request)? {
            Said::Yes => Some(s.parse(request, Sourcestats::parse)?),
            Said::NoSuchSource => None,
            Said::Refused => return Err(s.refused(request)),
        };
        let request = Request::SelectData(i);
        // Once refused, not asked again for the other sources.
        let select = if report.select_data != Answer::Refused && s.optional(request, &mut report.select_data)? {
            Some(s.parse(request, SelectData::parse)?)
        } else {
            None
        };
        let ntp = match (data.mode, data.ip_addr, report.ntp_data) {
            (mode::CLIENT | mode::PEER, Address::Ip(ip), Answer::NotAsked | Answer::Got(())) => {
                let request = Request::NtpData(ip);
                if s.optional(request, &mut report.ntp_data)? {
                    Some(s.parse(request, NtpData::parse)?)
                } else {
                    None
                }
            }
            _ => None,
        };
        // Indices shift when sources come and go between requests.
        let stats = stats.filter(|st| same_source(&data, st.ref_id, st.ip_addr));
        let select_state = select.filter(|sd| same_source(&data, sd.ref_id, sd.ip_addr)).map(|sd| sd.state_char);
        let peer = ntp.map(Peer::from);
        report.sources.push(Source { data, label, stats, peer, select_state });
    }
    let mut asked = Answer::NotAsked;
    report.serverstats = if s.optional(Request::ServerStats, &mut asked)? {
        Answer::Got(s.parse(Request::ServerStats, ServerStats::parse)?)
    } else {
        Answer::Refused
    };
    s.must(Request::Activity)?;
    report.activity = Some(s.parse(Request::Activity, Activity::parse)?);
    if n as usize > MAX_CHRONY_SOURCES {
        return Err(s.bad(
            Request::NSources,
            wire::Error::at(0, "more sources than limits::MAX_CHRONY_SOURCES; only that many are reported"),
        ));
    }
    Ok(())
}

/// Whether sourcestats or selectdata (by `ref_id` and `ip`) describe the
/// same source as `data`: indices shift when sources come and go between
/// requests. A reference clock's source data holds its refid as an IPv4
/// address; the others give it as the refid, with no address.
fn same_source(data: &SourceData, ref_id: u32, ip: Address) -> bool {
    ip == data.ip_addr
        || (data.mode == mode::REF
            && ip == Address::Unspec
            && data.ip_addr == Address::Ip(IpAddr::V4(Ipv4Addr::from(ref_id))))
}

/// A conversation with one chronyd.
struct Session {
    sock: Socket,
    peer: String,
    retry: Retry,
    /// Sequence numbers that tell requests apart, as chronyc's random
    /// ones do; not a secret.
    sequence: Rng,
    request: [u8; candm::MAX_REQUEST_LEN],
    reply: [u8; candm::MAX_REPLY_LEN],
    /// Length of the last answer in `reply`.
    len: usize,
}

/// How chronyd answered, when it did not fail.
enum Said {
    /// Success: the answer is in [`Session::reply`].
    Yes,
    /// Not authorised here, or unknown to this chronyd.
    Refused,
    /// The index or address names no source (any more).
    NoSuchSource,
}

impl Session {
    /// Sends `request` with a new sequence number and waits for its answer.
    fn ask(&mut self, request: Request) -> Result<Said, Error> {
        let x = self.sequence.next_u64() as u32;
        let command = request.command();
        let accept = |b: &[u8]| Reply::new_checked(b).is_ok_and(|r| r.answers(command, x));
        let bytes = request.emit(x, &mut self.request);
        self.len = self.sock.exchange(bytes, &mut self.reply, &accept, &self.retry).map_err(|err| Error::Socket {
            peer: self.peer.clone(),
            command: request.name(),
            err,
        })?;
        match self.reply().status() {
            Status::Success => Ok(Said::Yes),
            Status::Unauth | Status::Invalid => Ok(Said::Refused),
            Status::NoSuchSource => Ok(Said::NoSuchSource),
            status => Err(self.bad(request, wire::Error::at(0, status.what()))),
        }
    }

    /// Asks a command chronyd must answer.
    fn must(&mut self, request: Request) -> Result<(), Error> {
        match self.ask(request)? {
            Said::Yes => Ok(()),
            _ => Err(self.refused(request)),
        }
    }

    /// Asks a command chronyd may refuse, records in `answer` whether it
    /// did, and tells whether the answer is there to parse.
    fn optional(&mut self, request: Request, answer: &mut Answer<()>) -> Result<bool, Error> {
        match self.ask(request)? {
            Said::Yes => {
                *answer = Answer::Got(());
                Ok(true)
            }
            Said::Refused => {
                *answer = Answer::Refused;
                Ok(false)
            }
            Said::NoSuchSource => Ok(false),
        }
    }

    /// The last answer; its header was checked when it was accepted.
    fn reply(&self) -> Reply<'_> {
        Reply::new_unchecked(self.reply.get(..self.len).unwrap_or_default())
    }

    fn parse<T>(&self, request: Request, parse: fn(&Reply<'_>) -> Result<T, wire::Error>) -> Result<T, Error> {
        parse(&self.reply()).map_err(|err| self.bad(request, err))
    }

    fn refused(&self, request: Request) -> Error {
        self.bad(request, wire::Error::at(0, self.reply().status().what()))
    }

    fn bad(&self, request: Request, err: wire::Error) -> Error {
        Error::Reply { peer: self.peer.clone(), command: request.name(), err }
    }
}
