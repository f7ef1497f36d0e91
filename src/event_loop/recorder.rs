//! Where a world's events go: kept for [`EventLoop::trace`], or handed one
//! by one to a sink as they are recorded (`loopsim run` writes each to its
//! output at once), so that a run's memory does not grow with its trace.
//!
//! Either way the recorder counts the events (the event budget, `check`'s
//! `N events`) and keeps the first failure (`check_failed`,
//! `invariant_violated`, `budget`): what a run's outcome needs of a trace
//! it did not keep.
//!
//! **Kept events are compact** (tests always record, so recording is on
//! every test's path): one byte array, each event a tag byte and
//! variable-length numbers, most 3 to 6 bytes where an [`Event`] is 64.
//! The iteration and time are differences from the previous event's
//! (zigzag, so a loop's events may interleave with another's); names and
//! texts are ids into a table of `Rc<str>`s, interned by pointer (the
//! table holds each one, so no pointer is reused while it is listed); a
//! task's default name is its number (`Task-N` is written only when the
//! trace is read). The common kinds (`call`, `step`, `log`, `done`
//! without a string value) are encoded so; any other event (a new kind
//! included) is kept whole in a side list and referred to by index.
//! [`EventLoop::trace`] decodes: formatting happens only when a trace is
//! read.
//!
//! [`EventLoop::trace`]: super::EventLoop::trace

use crate::trace::{DoneState, Event, EventKind};
use crate::value::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// What a streamed run does with each event (see
/// [`EventLoop::stream_trace`](super::EventLoop::stream_trace)).
pub type EventSink = Box<dyn FnMut(&Event)>;

/// A name as its owner holds it: text, or a task's default `Task-N` not
/// yet written out.
#[derive(Clone, Copy)]
pub(crate) enum NameRef<'a> {
    Text(&'a Rc<str>),
    Task(u64),
}

impl NameRef<'_> {
    fn to_rc(self) -> Rc<str> {
        match self {
            NameRef::Text(text) => text.clone(),
            NameRef::Task(n) => format!("Task-{n}").into(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Recorder {
    kept: Compact,
    sink: Option<EventSink>,
    /// Events recorded so far, kept or not.
    count: u64,
    first_failure: Option<Event>,
}

impl Recorder {
    /// Events recorded so far.
    #[inline]
    pub fn len(&self) -> u64 {
        self.count
    }

    #[inline]
    pub fn push(&mut self, event: Event) {
        self.count += 1;
        if self.first_failure.is_none() && event.kind.is_failure() {
            self.first_failure = Some(event.clone());
        }
        match &mut self.sink {
            None => self.kept.push(event.iteration, event.time, event.kind),
            Some(sink) => sink(&event),
        }
    }

    /// `step task=NAME`, without writing out a default name when kept.
    #[inline]
    pub fn push_step(&mut self, iteration: u64, time: i64, task: NameRef<'_>) {
        if self.sink.is_some() {
            let task = task.to_rc();
            return self.push(Event {
                iteration,
                time,
                kind: EventKind::Step { task },
            });
        }
        self.count += 1;
        let kept = &mut self.kept;
        match task {
            NameRef::Text(text) => {
                let id = kept.intern(text);
                let mut out = kept.head(STEP, iteration, time);
                out.varint(id);
                kept.put(out);
            }
            NameRef::Task(n) => {
                let mut out = kept.head(STEP_TASK, iteration, time);
                out.varint(n);
                kept.put(out);
            }
        }
    }

    /// `done name=NAME state=… [value=…]`, likewise.
    pub fn push_done(
        &mut self,
        iteration: u64,
        time: i64,
        name: NameRef<'_>,
        state: DoneState,
        value: Option<Value>,
    ) {
        let small = match &value {
            None => Some(0),
            Some(Value::None) => Some(1),
            Some(Value::Int(_)) => Some(2),
            Some(_) => None,
        };
        let code = match small {
            Some(code) if self.sink.is_none() => code,
            _ => {
                let name = name.to_rc();
                return self.push(Event {
                    iteration,
                    time,
                    kind: EventKind::Done { name, state, value },
                });
            }
        };
        self.count += 1;
        let kept = &mut self.kept;
        let (tag, id) = match name {
            NameRef::Text(text) => (DONE, kept.intern(text)),
            NameRef::Task(n) => (DONE_TASK, n),
        };
        let mut out = kept.head(tag, iteration, time);
        out.varint(id);
        let state = match state {
            DoneState::Result => 0,
            DoneState::Exception => 1,
            DoneState::Cancelled => 2,
        };
        out.byte(state * 3 + code);
        if let Some(Value::Int(i)) = value {
            out.varint(zigzag(i));
        }
        kept.put(out);
    }

    /// From now on events go to `sink`; those kept so far go first.
    pub fn stream(&mut self, mut sink: EventSink) {
        for event in std::mem::take(&mut self.kept).decode() {
            sink(&event);
        }
        self.sink = Some(sink);
    }

    /// The kept events (none while streaming), decoded.
    pub fn kept(&self) -> Vec<Event> {
        self.kept.decode()
    }

    /// Takes the kept events, leaving none (the count stays).
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.kept).decode()
    }

    pub fn first_failure(&self) -> Option<&Event> {
        self.first_failure.as_ref()
    }
}

// Tags: what follows the head (tag, iteration and time differences).
/// `call`: name id.
const CALL: u8 = 0;
/// `step`: name id.
const STEP: u8 = 1;
/// `step` of a task named `Task-N`: N.
const STEP_TASK: u8 = 2;
/// `log`: text id.
const LOG: u8 = 3;
/// `done`: name id, then `state * 3 + value code` (0 no value, 1 `none`,
/// 2 an integer, which follows zigzagged).
const DONE: u8 = 4;
/// `done` of a task named `Task-N`: N, then as `DONE`.
const DONE_TASK: u8 = 5;
/// Any other event: its index in `others`.
const OTHER: u8 = 6;

/// Kept events, compact (see the module doc).
#[derive(Default)]
struct Compact {
    bytes: Vec<u8>,
    /// Interned names and texts, by id.
    names: Vec<Rc<str>>,
    /// Ids by pointer.
    ids: HashMap<usize, u64, BuildHasherDefault<PtrHasher>>,
    /// The last name interned (most events repeat it): pointer and id.
    last: Option<(usize, u64)>,
    others: Vec<EventKind>,
    /// The previous event's iteration and time.
    iteration: u64,
    time: i64,
}

impl Compact {
    #[inline]
    fn push(&mut self, iteration: u64, time: i64, kind: EventKind) {
        match &kind {
            EventKind::Call { name } => {
                let id = self.intern(name);
                let mut out = self.head(CALL, iteration, time);
                out.varint(id);
                self.put(out);
            }
            EventKind::Log { text } => {
                let id = self.intern(text);
                let mut out = self.head(LOG, iteration, time);
                out.varint(id);
                self.put(out);
            }
            EventKind::Step { task } => {
                let id = self.intern(task);
                let mut out = self.head(STEP, iteration, time);
                out.varint(id);
                self.put(out);
            }
            _ => {
                let mut out = self.head(OTHER, iteration, time);
                out.varint(self.others.len() as u64);
                self.put(out);
                self.others.push(kind);
            }
        }
    }

    #[inline]
    fn intern(&mut self, name: &Rc<str>) -> u64 {
        let ptr = Rc::as_ptr(name) as *const u8 as usize;
        if let Some((last, id)) = self.last {
            if last == ptr {
                return id;
            }
        }
        let id = *self.ids.entry(ptr).or_insert_with(|| {
            self.names.push(name.clone());
            self.names.len() as u64 - 1
        });
        self.last = Some((ptr, id));
        id
    }

    /// An event's first bytes: its tag, iteration and time, in `out`.
    #[inline]
    fn head(&mut self, tag: u8, iteration: u64, time: i64) -> Bytes {
        let mut out = Bytes::default();
        out.byte(tag);
        let step = iteration.wrapping_sub(self.iteration) as i64;
        out.varint(zigzag(step));
        out.varint(zigzag(time.wrapping_sub(self.time)));
        self.iteration = iteration;
        self.time = time;
        out
    }

    /// Appends an event's bytes (one copy, one capacity check).
    #[inline]
    fn put(&mut self, out: Bytes) {
        self.bytes.extend_from_slice(&out.buf[..out.len]);
    }

    fn decode(&self) -> Vec<Event> {
        let mut events = Vec::new();
        let mut reader = Reader {
            bytes: &self.bytes,
            at: 0,
        };
        let (mut iteration, mut time) = (0u64, 0i64);
        let name = |id: u64| self.names[id as usize].clone();
        let task = |n: u64| -> Rc<str> { format!("Task-{n}").into() };
        while let Some(tag) = reader.byte() {
            iteration = iteration.wrapping_add(unzigzag(reader.varint()) as u64);
            time = time.wrapping_add(unzigzag(reader.varint()));
            let kind = match tag {
                CALL => EventKind::Call {
                    name: name(reader.varint()),
                },
                STEP => EventKind::Step {
                    task: name(reader.varint()),
                },
                STEP_TASK => EventKind::Step {
                    task: task(reader.varint()),
                },
                LOG => EventKind::Log {
                    text: name(reader.varint()),
                },
                DONE | DONE_TASK => {
                    let id = reader.varint();
                    let name = if tag == DONE { name(id) } else { task(id) };
                    let code = reader.byte().unwrap_or(0);
                    let state = match code / 3 {
                        0 => DoneState::Result,
                        1 => DoneState::Exception,
                        _ => DoneState::Cancelled,
                    };
                    let value = match code % 3 {
                        0 => None,
                        1 => Some(Value::None),
                        _ => Some(Value::Int(unzigzag(reader.varint()))),
                    };
                    EventKind::Done { name, state, value }
                }
                _ => self.others[reader.varint() as usize].clone(),
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

/// One event's bytes, put together on the stack: a tag and at most four
/// numbers of at most ten bytes, and a state byte.
struct Bytes {
    buf: [u8; 48],
    len: usize,
}

impl Default for Bytes {
    #[inline]
    fn default() -> Self {
        Bytes {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl Bytes {
    #[inline]
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    #[inline]
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.byte(n as u8 | 0x80);
            n >>= 7;
        }
        self.byte(n as u8);
    }
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

    fn varint(&mut self) -> u64 {
        let (mut n, mut shift) = (0u64, 0);
        while let Some(b) = self.byte() {
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        n
    }
}

fn zigzag(n: i64) -> u64 {
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
    fn kept_events_decode_to_what_was_recorded() {
        let shared: Rc<str> = "tick".into();
        let mut recorder = Recorder::default();
        let mut expected = Vec::new();
        let times = [0, 5, 5, -3, i64::MAX, i64::MIN, 7];
        for (i, &time) in times.iter().enumerate() {
            let iteration = [0, 1, 1, 9, u64::MAX, 3, 4][i];
            let kinds = [
                EventKind::Call {
                    name: shared.clone(),
                },
                EventKind::Log {
                    text: format!("text {i}").into(),
                },
                EventKind::Step {
                    task: shared.clone(),
                },
                EventKind::Stop,
                EventKind::Done {
                    name: "f".into(),
                    state: DoneState::Result,
                    value: Some(Value::Str("s".into())),
                },
            ];
            for kind in kinds {
                let event = Event {
                    iteration,
                    time,
                    kind,
                };
                expected.push(event.clone());
                recorder.push(event);
            }
            recorder.push_step(iteration, time, NameRef::Task(i as u64 + 1));
            expected.push(Event {
                iteration,
                time,
                kind: EventKind::Step {
                    task: format!("Task-{}", i + 1).into(),
                },
            });
            let value =
                [None, Some(Value::None), Some(Value::Int(-(i as i64) << 40))][i % 3].clone();
            let state = [
                DoneState::Result,
                DoneState::Exception,
                DoneState::Cancelled,
            ][i % 3];
            recorder.push_done(
                iteration,
                time,
                NameRef::Text(&shared),
                state,
                value.clone(),
            );
            recorder.push_done(iteration, time, NameRef::Task(77), state, value.clone());
            for name in [shared.clone(), "Task-77".into()] {
                expected.push(Event {
                    iteration,
                    time,
                    kind: EventKind::Done {
                        name,
                        state,
                        value: value.clone(),
                    },
                });
            }
        }
        assert_eq!(recorder.len(), expected.len() as u64);
        assert_eq!(recorder.kept(), expected);
        let mut streamed = Vec::new();
        let out = Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = out.clone();
        recorder.stream(Box::new(move |e: &Event| sink.borrow_mut().push(e.clone())));
        recorder.push_step(1, 2, NameRef::Task(3));
        streamed.extend(expected);
        streamed.push(Event {
            iteration: 1,
            time: 2,
            kind: EventKind::Step {
                task: "Task-3".into(),
            },
        });
        assert_eq!(*out.borrow(), streamed);
        assert!(recorder.kept().is_empty());
    }
}
