//! Kept events as bytes: what a kept trace costs per event is what this
//! file writes, so it is written for the writer (tests always record; the
//! trace is read far less often than it is written).
//!
//! **The encoding.** Each event is two header bytes, then little-endian
//! numbers whose lengths the header gives, so that most events are written
//! with one unaligned store of an 8-byte word built in a register, never a
//! loop over 7-bit groups (a varint) and never a buffer read back:
//!
//! * byte 0: `kind | time_len << 3` (kind in bits 0-2, the time
//!   difference's length in bytes, 0-8, above it);
//! * byte 1: `number_len | step << 4` (the number's length, 0-8; the
//!   iteration difference, 0-14, or 15: it follows the number, in 8
//!   bytes);
//!
//! then the time difference (`time_len` bytes, none for 0: a pass's events
//! share their time), the number (a name id, or N of a task named
//! `Task-N`) and, rarely, the iteration difference. Differences are from
//! the previous event's, wrapping: the clock never goes back, but the
//! events of sibling loops interleave, and another loop's iteration count
//! may be lower (8 bytes then). A `done` adds one byte, `state * 3 +
//! value code` (0 no value, 1 `none`, 2 an integer) with the integer's
//! length above it, then the integer, zigzagged.
//!
//! In W1 (a chain of `call_soon`) an event is 2 bytes: the iteration moves
//! by one, the time not at all, and the name is id 0.
//!
//! Names and texts are ids into a table of `Rc<str>`s, interned by pointer
//! (the table holds each, so no pointer is reused while it is listed); the
//! last one interned is checked first, since most events repeat it. Any
//! kind without a short form is kept whole in a side list, the number
//! being its index there.

use super::bytes::TraceBytes;
use crate::trace::{DoneState, Event, EventKind};
use crate::value::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

// Kinds: what the number is.
/// `call`: name id.
pub(super) const CALL: u8 = 0;
/// `step`: name id.
pub(super) const STEP: u8 = 1;
/// `step` of a task named `Task-N`: N.
pub(super) const STEP_TASK: u8 = 2;
/// `log`: text id.
pub(super) const LOG: u8 = 3;
/// `done`: name id, then the value byte.
pub(super) const DONE: u8 = 4;
/// `done` of a task named `Task-N`: N, then as `DONE`.
pub(super) const DONE_TASK: u8 = 5;
/// Any other event: its index in `others`.
const OTHER: u8 = 6;

/// An iteration difference this large or larger follows the numbers.
const ITERATION_ESCAPE: u64 = 15;

/// Kept events, compact (see the module doc).
#[derive(Default)]
pub(super) struct Compact {
    bytes: TraceBytes,
    /// Interned names and texts, by id.
    names: Vec<Rc<str>>,
    /// Ids by pointer.
    ids: HashMap<usize, u64, BuildHasherDefault<PtrHasher>>,
    /// The last name interned (most events repeat it): its pointer (0:
    /// none yet) and id.
    last_ptr: usize,
    last_id: u64,
    others: Vec<EventKind>,
    /// The previous event's iteration and time.
    iteration: u64,
    time: i64,
}

impl Compact {
    /// Any event: the common kinds in their short form, others whole.
    pub(super) fn push(&mut self, iteration: u64, time: i64, kind: EventKind) {
        match &kind {
            EventKind::Call { name } => {
                let id = self.intern(name);
                self.put(CALL, iteration, time, id);
            }
            EventKind::Log { text } => {
                let id = self.intern(text);
                self.put(LOG, iteration, time, id);
            }
            EventKind::Step { task } => {
                let id = self.intern(task);
                self.put(STEP, iteration, time, id);
            }
            _ => {
                self.put(OTHER, iteration, time, self.others.len() as u64);
                self.others.push(kind);
            }
        }
    }

    /// The id of `name` (interned by pointer).
    #[inline(always)]
    pub(super) fn intern(&mut self, name: &Rc<str>) -> u64 {
        match self.last_id(name) {
            Some(id) => id,
            None => self.intern_other(name),
        }
    }

    /// The id of `name` if it was the last one interned (most events
    /// repeat it).
    #[inline(always)]
    pub(super) fn last_id(&self, name: &Rc<str>) -> Option<u64> {
        (Rc::as_ptr(name) as *const u8 as usize == self.last_ptr).then_some(self.last_id)
    }

    /// [`intern`](Compact::intern) of a name other than the last one.
    #[inline(never)]
    fn intern_other(&mut self, name: &Rc<str>) -> u64 {
        let ptr = Rc::as_ptr(name) as *const u8 as usize;
        let id = *self.ids.entry(ptr).or_insert_with(|| {
            self.names.push(name.clone());
            self.names.len() as u64 - 1
        });
        (self.last_ptr, self.last_id) = (ptr, id);
        id
    }

    /// Appends an event of `kind` with its `number` (see the module doc).
    #[inline]
    pub(super) fn put(&mut self, kind: u8, iteration: u64, time: i64, number: u64) {
        if !self.try_put(kind, iteration, time, number, None) {
            self.put_long(kind, iteration, time, number, None);
        }
    }

    /// [`put`](Compact::put) in one 8-byte store, followed by a `done`
    /// event's byte if given: whether the event fit one word (two header
    /// bytes, the numbers and that byte) and the buffer had room for it.
    /// Calls nothing, so that the short paths stay leaf functions.
    #[inline(always)]
    pub(super) fn try_put(
        &mut self,
        kind: u8,
        iteration: u64,
        time: i64,
        number: u64,
        done: Option<u8>,
    ) -> bool {
        let step = iteration.wrapping_sub(self.iteration);
        let delta = time.wrapping_sub(self.time) as u64;
        let (time_len, number_len) = (byte_len(delta), byte_len(number));
        let done_len = usize::from(done.is_some());
        let len = 2 + time_len + number_len + done_len;
        if step >= ITERATION_ESCAPE || len > 8 {
            return false;
        }
        // Every shift keeps every bit (the lengths add up to 8 at most); a
        // shift by 64 shifts a 0 (a number with no room: its length is 0).
        let word = u64::from(kind | (time_len as u8) << 3)
            | u64::from(number_len as u8 | (step as u8) << 4) << 8
            | delta << 16
            | number.wrapping_shl(16 + 8 * time_len as u32)
            | u64::from(done.unwrap_or(0)).wrapping_shl(8 * (len as u32 - 1));
        if !self.bytes.try_word(word, len) {
            return false;
        }
        self.iteration = iteration;
        self.time = time;
        true
    }

    /// [`put`](Compact::put) of any event, with the done byte and integer
    /// of a `done`.
    #[inline(never)]
    fn put_long(
        &mut self,
        kind: u8,
        iteration: u64,
        time: i64,
        number: u64,
        done: Option<(u8, u64)>,
    ) {
        let step = iteration.wrapping_sub(self.iteration);
        let delta = time.wrapping_sub(self.time) as u64;
        self.iteration = iteration;
        self.time = time;
        let (time_len, number_len) = (byte_len(delta), byte_len(number));
        let escaped = step >= ITERATION_ESCAPE;
        let shown = if escaped { ITERATION_ESCAPE } else { step };
        let bytes = &mut self.bytes;
        bytes.push(&[
            kind | (time_len as u8) << 3,
            number_len as u8 | (shown as u8) << 4,
        ]);
        bytes.push(&delta.to_le_bytes()[..time_len]);
        bytes.push(&number.to_le_bytes()[..number_len]);
        if escaped {
            bytes.push(&step.to_le_bytes());
        }
        if let Some((code, int)) = done {
            let len = byte_len(int);
            bytes.push(&[code | (len as u8) << 4]);
            bytes.push(&int.to_le_bytes()[..len]);
        }
    }

    /// A `done` event: its kind and number (a name id or `N` of
    /// `Task-N`), state and value, which is none, `none` or an integer.
    pub(super) fn put_done(
        &mut self,
        kind: u8,
        iteration: u64,
        time: i64,
        number: u64,
        state: DoneState,
        value: &Option<Value>,
    ) {
        let (code, int) = match value {
            None => (0, 0),
            Some(Value::None) => (1, 0),
            Some(Value::Int(i)) => (2, zigzag(*i)),
            Some(_) => unreachable!("a done with another value is kept whole"),
        };
        let code = done_code(state, code);
        if int != 0 || !self.try_put(kind, iteration, time, number, Some(code)) {
            self.put_long(kind, iteration, time, number, Some((code, int)));
        }
    }

    /// The events, decoded.
    pub(super) fn decode(&self) -> Vec<Event> {
        let mut events = Vec::new();
        let bytes = self.bytes.contents();
        let mut reader = Reader {
            bytes: &bytes,
            at: 0,
        };
        let (mut iteration, mut time) = (0u64, 0i64);
        let name = |id: u64| self.names[id as usize].clone();
        let task = |n: u64| -> Rc<str> { format!("Task-{n}").into() };
        while let Some(tag) = reader.byte() {
            let lens = reader.byte().unwrap_or(0);
            time = time.wrapping_add(reader.number(usize::from(tag >> 3)) as i64);
            let number = reader.number(usize::from(lens & 15));
            let step = match u64::from(lens >> 4) {
                ITERATION_ESCAPE => reader.number(8),
                step => step,
            };
            iteration = iteration.wrapping_add(step);
            let kind = match tag & 7 {
                CALL => EventKind::Call { name: name(number) },
                STEP => EventKind::Step { task: name(number) },
                STEP_TASK => EventKind::Step { task: task(number) },
                LOG => EventKind::Log { text: name(number) },
                kind @ (DONE | DONE_TASK) => {
                    let name = if kind == DONE {
                        name(number)
                    } else {
                        task(number)
                    };
                    let code = reader.byte().unwrap_or(0);
                    let int = reader.number(usize::from(code >> 4));
                    let code = code & 15;
                    let state = match code / 3 {
                        0 => DoneState::Result,
                        1 => DoneState::Exception,
                        _ => DoneState::Cancelled,
                    };
                    let value = match code % 3 {
                        0 => None,
                        1 => Some(Value::None),
                        _ => Some(Value::Int(unzigzag(int))),
                    };
                    EventKind::Done { name, state, value }
                }
                _ => self.others[number as usize].clone(),
            };
            events.push(Event {
                iteration,
                time,
                kind,
            });
        }
        events
    }
}

/// A `done` event's byte without the integer's length (bits 4-7): `state
/// * 3 + value code` (0 no value, 1 `none`, 2 an integer).
#[inline(always)]
pub(super) fn done_code(state: DoneState, value_code: u8) -> u8 {
    let state = match state {
        DoneState::Result => 0,
        DoneState::Exception => 1,
        DoneState::Cancelled => 2,
    };
    state * 3 + value_code
}

/// How many bytes `n` needs little-endian, without its high zero bytes
/// (0 for 0).
#[inline(always)]
fn byte_len(n: u64) -> usize {
    (71 - n.leading_zeros() as usize) / 8
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    /// A little-endian number of `len` bytes.
    fn number(&mut self, len: usize) -> u64 {
        let mut le = [0u8; 8];
        let end = (self.at + len.min(8)).min(self.bytes.len());
        le[..end - self.at].copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        u64::from_le_bytes(le)
    }
}

pub(super) fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    (n >> 1) as i64 ^ -((n & 1) as i64)
}

/// Pointers are distinct and aligned: one multiply spreads them.
#[derive(Default)]
struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_every_length_round_trip() {
        let name: Rc<str> = "n".into();
        let mut compact = Compact::default();
        let mut expected = Vec::new();
        let mut values = vec![0u64, 1, 7, 8, 14, 15, 16, 127, 128, u64::MAX];
        values.extend((0..64).map(|b| 1u64 << b));
        values.extend((0..64).map(|b| (1u64 << b) - 1));
        let (mut iteration, mut time) = (0u64, 0i64);
        for (i, &v) in values.iter().enumerate() {
            // Jumps of every size, forwards and back, in both numbers.
            iteration = if i % 2 == 0 {
                iteration.wrapping_add(v)
            } else {
                iteration.wrapping_sub(v)
            };
            time = if i % 3 == 0 {
                time.wrapping_sub(v as i64)
            } else {
                time.wrapping_add(v as i64)
            };
            compact.put(STEP_TASK, iteration, time, v);
            expected.push(Event {
                iteration,
                time,
                kind: EventKind::Step {
                    task: format!("Task-{v}").into(),
                },
            });
            compact.push(iteration, time, EventKind::Call { name: name.clone() });
            expected.push(Event {
                iteration,
                time,
                kind: EventKind::Call { name: name.clone() },
            });
        }
        assert_eq!(compact.decode(), expected);
    }

    #[test]
    fn a_chain_of_calls_takes_two_bytes_an_event() {
        let name: Rc<str> = "callback".into();
        let mut compact = Compact::default();
        for i in 1..=1000 {
            compact.push(i, 0, EventKind::Call { name: name.clone() });
        }
        assert_eq!(compact.bytes.len(), 2000);
        assert_eq!(compact.decode().len(), 1000);
    }
}
