//! The compiled program and the Pike VM that runs it.
//!
//! A Thompson program (Russ Cox, "Regular Expression Matching: the Virtual
//! Machine Approach") run over the text once, all threads in step, in
//! priority order: the first thread to reach `Match` cuts every thread
//! below it, which is leftmost-first (Perl, RE2, Go) matching, with the
//! groups the highest-priority thread saw. A thread lives only on an
//! instruction that reads a character, at most one per instruction, so a
//! match takes time in text × program and memory in program × groups,
//! whatever the pattern; [`MAX_PROGRAM`] bounds both.
//!
//! The program is laid out as regex-lite's NFA is, so that the groups of
//! a match agree with it (and with Go) to the byte: `x*` where `x` can
//! match empty compiles as `(x+)?`, else a repeated empty match would cut
//! the thread that prefers it.

use super::parse::{Look, Node};
use super::MAX_PROGRAM;

/// One step of the program; each but `Split` and `Jmp` goes on to the
/// next.
#[derive(Clone, Copy)]
enum Inst {
    /// Reads a character in `sets[from..to]`.
    Set(u32, u32),
    /// Tries the first target, then the second.
    Split(u32, u32),
    Jmp(u32),
    /// Records the position in a slot.
    Save(u32),
    Look(Look),
    Match,
}

/// A slot no thread has written.
pub const UNSET: usize = usize::MAX;

#[derive(Clone)]
pub struct Program {
    insts: Vec<Inst>,
    sets: Vec<(u32, u32)>,
    /// Two per group, the whole match's first.
    pub slots: usize,
    /// Whether every match starts at the text's start.
    anchored: bool,
}

/// Compiles the tree `root` of a parsed pattern, whose sets are `sets`
/// and which has `groups` groups (the whole match's included), or says
/// it is too large.
pub fn compile(root: &Node, sets: Vec<(u32, u32)>, groups: usize) -> Result<Program, String> {
    let budget = MAX_PROGRAM.saturating_sub(sets.len() * size_of::<(u32, u32)>()) / size_of::<Inst>();
    let mut c = Compiler { insts: Vec::new(), budget };
    c.emit(Inst::Save(0))?;
    c.node(root)?;
    c.emit(Inst::Save(1))?;
    c.emit(Inst::Match)?;
    let slots = groups * 2;
    // A thread holds its slots, and there is one thread at most on each
    // instruction that reads.
    let threads = c.insts.iter().filter(|i| matches!(i, Inst::Set(..) | Inst::Match)).count();
    if threads.saturating_mul(slots).saturating_mul(size_of::<usize>()) > MAX_PROGRAM * 4 {
        return Err(too_large());
    }
    Ok(Program { insts: c.insts, sets, slots, anchored: anchored(root) })
}

fn too_large() -> String {
    format!("pattern too large (compiled over {} KiB)", MAX_PROGRAM / 1024)
}

struct Compiler {
    insts: Vec<Inst>,
    budget: usize,
}

impl Compiler {
    fn pc(&self) -> u32 {
        self.insts.len() as u32
    }

    fn emit(&mut self, inst: Inst) -> Result<u32, String> {
        if self.insts.len() >= self.budget {
            return Err(too_large());
        }
        self.insts.push(inst);
        Ok(self.pc() - 1)
    }

    fn node(&mut self, node: &Node) -> Result<(), String> {
        match *node {
            // An instruction even for nothing, so that repeating nothing a
            // thousand times still counts against the budget.
            Node::Empty => drop(self.emit(Inst::Jmp(self.pc() + 1))?),
            Node::Set(from, to) => drop(self.emit(Inst::Set(from, to))?),
            Node::Look(look) => drop(self.emit(Inst::Look(look))?),
            Node::Group(index, ref sub) => {
                self.emit(Inst::Save(2 * index))?;
                self.node(sub)?;
                self.emit(Inst::Save(2 * index + 1))?;
            }
            Node::Concat(ref items) => {
                for item in items {
                    self.node(item)?;
                }
            }
            Node::Alt(ref branches) => {
                let mut ends = Vec::new();
                for (i, branch) in branches.iter().enumerate() {
                    if i + 1 == branches.len() {
                        self.node(branch)?;
                    } else {
                        let split = self.emit(Inst::Match)?;
                        self.node(branch)?;
                        ends.push(self.emit(Inst::Match)?);
                        self.insts[split as usize] = Inst::Split(split + 1, self.pc());
                    }
                }
                for end in ends {
                    self.insts[end as usize] = Inst::Jmp(self.pc());
                }
            }
            Node::Repeat { ref sub, min, max, greedy } => {
                let prefer =
                    |more: u32, done: u32| if greedy { Inst::Split(more, done) } else { Inst::Split(done, more) };
                match max {
                    None if min == 0 && !nullable(sub) => {
                        let split = self.emit(Inst::Match)?;
                        self.node(sub)?;
                        self.emit(Inst::Jmp(split))?;
                        self.insts[split as usize] = prefer(split + 1, self.pc());
                    }
                    None if min == 0 => {
                        let split = self.emit(Inst::Match)?;
                        self.node(sub)?;
                        let done = self.pc() + 1;
                        self.emit(prefer(split + 1, done))?;
                        self.insts[split as usize] = prefer(split + 1, done);
                    }
                    None => {
                        for _ in 1..min {
                            self.node(sub)?;
                        }
                        let last = self.pc();
                        self.node(sub)?;
                        self.emit(prefer(last, self.pc() + 1))?;
                    }
                    Some(max) => {
                        for _ in 0..min {
                            self.node(sub)?;
                        }
                        let mut splits = Vec::new();
                        for _ in min..max {
                            splits.push(self.emit(Inst::Match)?);
                            self.node(sub)?;
                        }
                        for split in splits {
                            self.insts[split as usize] = prefer(split + 1, self.pc());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `node` can match the empty string.
fn nullable(node: &Node) -> bool {
    match node {
        Node::Empty | Node::Look(_) => true,
        Node::Set(..) => false,
        Node::Group(_, sub) => nullable(sub),
        Node::Concat(items) => items.iter().all(nullable),
        Node::Alt(branches) => branches.iter().any(nullable),
        Node::Repeat { sub, min, .. } => *min == 0 || nullable(sub),
    }
}

/// Whether every match of `node` starts at the text's start.
fn anchored(node: &Node) -> bool {
    match node {
        Node::Look(Look::Start) => true,
        Node::Group(_, sub) => anchored(sub),
        Node::Concat(items) => items.first().is_some_and(anchored),
        Node::Alt(branches) => branches.iter().all(anchored),
        Node::Repeat { sub, min, .. } => *min > 0 && anchored(sub),
        _ => false,
    }
}

/// The threads on one position, in priority order, with their slots.
#[derive(Default)]
struct Threads {
    pcs: Vec<u32>,
    slots: Vec<usize>,
}

/// An entry of the closure's stack: an instruction to follow, or a slot
/// to put back once the branch that wrote it is done.
enum Frame {
    Follow(u32),
    Restore(u32, usize),
}

/// The state of one search.
struct Vm<'a> {
    prog: &'a Program,
    text: &'a [u8],
    /// The step on which each instruction was last reached.
    seen: Vec<usize>,
    step: usize,
    stack: Vec<Frame>,
}

impl Vm<'_> {
    /// Adds the threads `pc` leads to at `at` without reading, in
    /// priority order, each with `slots` as written on the way.
    fn add(&mut self, list: &mut Threads, slots: &mut [usize], at: usize, pc: u32) {
        self.stack.push(Frame::Follow(pc));
        while let Some(frame) = self.stack.pop() {
            let mut pc = match frame {
                Frame::Follow(pc) => pc as usize,
                Frame::Restore(slot, was) => {
                    slots[slot as usize] = was;
                    continue;
                }
            };
            while self.seen[pc] != self.step {
                self.seen[pc] = self.step;
                match self.prog.insts[pc] {
                    Inst::Set(..) | Inst::Match => {
                        list.pcs.push(pc as u32);
                        list.slots.extend_from_slice(slots);
                        break;
                    }
                    Inst::Split(first, second) => {
                        self.stack.push(Frame::Follow(second));
                        pc = first as usize;
                    }
                    Inst::Jmp(to) => pc = to as usize,
                    Inst::Save(slot) => {
                        if let Some(s) = slots.get_mut(slot as usize) {
                            self.stack.push(Frame::Restore(slot, *s));
                            *s = at;
                        }
                        pc += 1;
                    }
                    Inst::Look(look) if look.holds(self.text, at) => pc += 1,
                    Inst::Look(_) => break,
                }
            }
        }
    }
}

impl Program {
    /// The first match in `text` (leftmost, then by priority): its first
    /// `slots` slots, byte offsets or [`UNSET`]; None when none. With no
    /// slots it stops at the first match it sees.
    pub fn run(&self, text: &str, slots: usize) -> Option<Vec<usize>> {
        let mut vm =
            Vm { prog: self, text: text.as_bytes(), seen: vec![0; self.insts.len()], step: 1, stack: Vec::new() };
        let (mut now, mut next) = (Threads::default(), Threads::default());
        let mut scratch = vec![UNSET; slots];
        let mut found = None;
        let mut at = 0;
        loop {
            if now.pcs.is_empty() && (found.is_some() || self.anchored && at > 0) {
                break;
            }
            // A match starting here ranks below every one started earlier.
            if found.is_none() {
                // Not memset when there is nothing to set: a call per
                // character was most of is_match's time.
                if slots > 0 {
                    scratch.fill(UNSET);
                }
                vm.add(&mut now, &mut scratch, at, 0);
            }
            let c = text[at..].chars().next();
            vm.step += 1;
            for (i, &pc) in now.pcs.iter().enumerate() {
                let mine = &now.slots[i * slots..][..slots];
                match self.insts[pc as usize] {
                    Inst::Match => {
                        found = Some(mine.to_vec());
                        if slots == 0 {
                            return found;
                        }
                        break;
                    }
                    Inst::Set(from, to) => {
                        let Some(c) = c else { continue };
                        if self.sets[from as usize..to as usize].iter().any(|&(lo, hi)| (lo..=hi).contains(&(c as u32)))
                        {
                            scratch.copy_from_slice(mine);
                            vm.add(&mut next, &mut scratch, at + c.len_utf8(), pc + 1);
                        }
                    }
                    _ => {}
                }
            }
            std::mem::swap(&mut now, &mut next);
            next.pcs.clear();
            next.slots.clear();
            match c {
                Some(c) => at += c.len_utf8(),
                None => break,
            }
        }
        found
    }
}
