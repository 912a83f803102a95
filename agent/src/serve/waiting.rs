//! Connections accepted whose request head has not arrived yet. They are
//! held by the main loop, not by a thread: a file descriptor and a slot
//! here each, at most [`MAX_OPEN_CONNECTIONS`] in all. The loop learns of
//! new bytes from epoll (edge-triggered: one wake-up per arrival, none for
//! bytes already seen), looks at what has arrived without taking it
//! (`MSG_PEEK`, so the kernel keeps the bytes and sonde no buffer per
//! connection), and hands the connection to a thread once the head is
//! whole ([`http::head_arrived`]).
//!
//! Each connection has [`HEAD_DEADLINE`] from its accept; one that passes
//! it is answered 408 and closed here. Accepts come in deadline order, so
//! the oldest is always at the front of one queue: the next deadline is
//! its deadline, and the connection to give up on when the bound is
//! reached is that one.
//!
//! A connection kept alive after a response ([`Waiting::kept`]) waits
//! here for its next request up to [`KEEP_ALIVE_IDLE`], in a second queue
//! (also in deadline order); one that passes it is closed without a word,
//! as an idle HTTP/1.1 connection may be, and at the bound idle ones are
//! closed before any client that is sending a request.

use std::collections::VecDeque;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;

use super::http::{self, TIMEOUT_408};
use crate::limits::{HEAD_DEADLINE, KEEP_ALIVE_IDLE, MAX_REQUEST_HEAD};
use crate::sys::net::{self, Poller};
use crate::sys::time::Deadline;

/// The epoll token of the first slot; lower ones are the loop's own.
pub(super) const FIRST_TOKEN: u64 = 1 << 32;

struct Held {
    stream: TcpStream,
    deadline: Deadline,
    /// Kept alive after a response, waiting for the next request.
    idle: bool,
    /// Tells a slot's connection from the one it held before.
    generation: u32,
}

/// What became of a connection that was looked at.
pub(super) enum Look {
    /// Still waiting for (more of) its head.
    Waiting,
    /// Its head is here: take it, with its deadline.
    Arrived(TcpStream, Deadline),
    /// It is gone (closed by the client, or an error): forgotten.
    Gone,
}

/// What a look at a connection's received bytes found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Not a whole head yet (or nothing at all).
    Nothing,
    /// A whole head, or bytes that cannot start one: a thread answers.
    Head,
    /// The client closed, or the connection failed.
    End,
}

pub(super) struct Waiting {
    slots: Vec<Option<Held>>,
    free: Vec<usize>,
    /// (slot, generation) in accept order, so in deadline order. Entries
    /// of connections that left are skipped when they reach the front.
    order: VecDeque<(usize, u32)>,
    /// The same for the kept-alive connections.
    idle_order: VecDeque<(usize, u32)>,
    held: usize,
    next_generation: u32,
    peek: Box<[u8; MAX_REQUEST_HEAD]>,
}

impl Waiting {
    pub(super) fn new() -> Waiting {
        Waiting {
            slots: Vec::new(),
            free: Vec::new(),
            order: VecDeque::new(),
            idle_order: VecDeque::new(),
            held: 0,
            next_generation: 0,
            peek: Box::new([0; MAX_REQUEST_HEAD]),
        }
    }

    /// Connections held here.
    pub(super) fn len(&self) -> usize {
        self.held
    }

    /// Takes a connection just accepted: handed back at once when its head
    /// is already here, else held and watched.
    pub(super) fn accepted(&mut self, stream: TcpStream, poller: &Poller) -> Option<(TcpStream, Deadline)> {
        self.hold(stream, false, poller)
    }

    /// Takes a connection kept alive after a response: handed back at once
    /// when its next request is already here, else held until it comes or
    /// [`KEEP_ALIVE_IDLE`] passes.
    pub(super) fn kept(&mut self, stream: TcpStream, poller: &Poller) -> Option<(TcpStream, Deadline)> {
        self.hold(stream, true, poller)
    }

    fn hold(&mut self, stream: TcpStream, idle: bool, poller: &Poller) -> Option<(TcpStream, Deadline)> {
        match look_at(&mut self.peek[..], &stream) {
            Seen::Head => return Some((stream, Deadline::after(HEAD_DEADLINE))),
            Seen::End => return None,
            Seen::Nothing => {}
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        if poller.add(stream.as_raw_fd(), FIRST_TOKEN + slot as u64, true).is_err() {
            self.free.push(slot);
            return None;
        }
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let deadline = Deadline::after(if idle { KEEP_ALIVE_IDLE } else { HEAD_DEADLINE });
        self.slots[slot] = Some(Held { stream, deadline, idle, generation });
        let order = if idle { &mut self.idle_order } else { &mut self.order };
        order.push_back((slot, generation));
        self.held += 1;
        // Entries of connections that left wait for their turn at the
        // front; keep them from piling up behind a long-lived one.
        if self.order.len() + self.idle_order.len() > 2 * self.held + 64 {
            let slots = &self.slots;
            let live = |&(s, g): &(usize, u32)| slots[s].as_ref().is_some_and(|h| h.generation == g);
            self.order.retain(live);
            self.idle_order.retain(live);
        }
        None
    }

    /// A connection epoll says has news (`token`): its head, or its end
    /// (`hangup`: no more bytes will come).
    pub(super) fn readable(&mut self, token: u64, hangup: bool, poller: &Poller) -> Look {
        let Some(slot) = token.checked_sub(FIRST_TOKEN).and_then(|s| usize::try_from(s).ok()) else {
            return Look::Waiting;
        };
        let Some(held) = self.slots.get(slot).and_then(Option::as_ref) else { return Look::Waiting };
        let seen = look_at(&mut self.peek[..], &held.stream);
        if seen == Seen::Nothing && !hangup {
            return Look::Waiting;
        }
        match self.release(slot, poller) {
            // A kept-alive connection's request has the head's time from
            // now, not what was left of its idle wait.
            Some(held) if seen == Seen::Head && held.idle => Look::Arrived(held.stream, Deadline::after(HEAD_DEADLINE)),
            Some(held) if seen == Seen::Head => Look::Arrived(held.stream, held.deadline),
            _ => Look::Gone,
        }
    }

    fn release(&mut self, slot: usize, poller: &Poller) -> Option<Held> {
        let held = self.slots.get_mut(slot)?.take()?;
        let _ = poller.remove(held.stream.as_raw_fd());
        self.free.push(slot);
        self.held -= 1;
        Some(held)
    }

    /// When the next deadline passes, if any connection is held.
    pub(super) fn next_deadline(&mut self) -> Option<Deadline> {
        self.skip_gone();
        let at = |q: &VecDeque<(usize, u32)>| q.front().and_then(|&(s, _)| self.slots[s].as_ref()).map(|h| h.deadline);
        [at(&self.order), at(&self.idle_order)].into_iter().flatten().min()
    }

    /// Closes every connection whose deadline has passed: a 408 to one
    /// that was sending a request, nothing to an idle one.
    pub(super) fn expire(&mut self, poller: &Poller) {
        loop {
            self.skip_gone();
            let passed = |q: &VecDeque<(usize, u32)>| {
                q.front().and_then(|&(s, _)| self.slots[s].as_ref()).is_some_and(|h| h.deadline.passed())
            };
            let idle = if passed(&self.idle_order) {
                true
            } else if passed(&self.order) {
                false
            } else {
                break;
            };
            self.close_oldest(idle, poller);
        }
    }

    /// Makes room for one more: closes the oldest idle connection, or else
    /// answers 408 to the one that has waited longest for its head; false
    /// when none is held.
    pub(super) fn give_up_oldest(&mut self, poller: &Poller) -> bool {
        self.skip_gone();
        self.close_oldest(!self.idle_order.is_empty(), poller)
    }

    fn close_oldest(&mut self, idle: bool, poller: &Poller) -> bool {
        let order = if idle { &mut self.idle_order } else { &mut self.order };
        let Some((slot, _)) = order.pop_front() else { return false };
        let Some(held) = self.release(slot, poller) else { return false };
        if !held.idle {
            time_out(&held.stream);
        }
        true
    }

    /// Closes every connection held (at a stop).
    pub(super) fn clear(&mut self, poller: &Poller) {
        for slot in 0..self.slots.len() {
            self.release(slot, poller);
        }
        self.order.clear();
        self.idle_order.clear();
    }

    fn skip_gone(&mut self) {
        for order in [&mut self.order, &mut self.idle_order] {
            while let Some(&(slot, generation)) = order.front() {
                if self.slots[slot].as_ref().is_some_and(|h| h.generation == generation) {
                    break;
                }
                order.pop_front();
            }
        }
    }
}

/// What has arrived on `stream` so far, looked at through `buf`.
fn look_at(buf: &mut [u8], stream: &TcpStream) -> Seen {
    match net::peek(stream.as_raw_fd(), buf) {
        Ok(0) => Seen::End,
        Ok(n) if http::head_arrived(&buf[..n]) => Seen::Head,
        Ok(_) => Seen::Nothing,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Seen::Nothing,
        Err(_) => Seen::End,
    }
}

/// The 408 as a thread would send it, but without waiting: the response
/// fits any send buffer. What the client sent is read first, so the close
/// is a FIN after the response and not a reset that could destroy it
/// before the client reads it.
fn time_out(stream: &TcpStream) {
    let fd = stream.as_raw_fd();
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match net::recv_nowait(fd, &mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = net::send_nowait(fd, TIMEOUT_408);
    let _ = stream.shutdown(Shutdown::Write);
}
