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
//! every test's path): one byte array, 2 to 8 bytes for most events where
//! an [`Event`] is 64 (`compact.rs`), written around the cache
//! (`bytes.rs`). A task's default name is its number (`Task-N` is written
//! only when the trace is read), and the common kinds (`call`, `step`,
//! `done`) have short paths of their own, which take the name by
//! reference and build no [`EventKind`]: an event kept costs a few
//! nanoseconds (`docs/performance.md`, Recording). [`EventLoop::trace`]
//! decodes: formatting happens only when a trace is read.
//!
//! [`EventLoop::trace`]: super::EventLoop::trace

mod bytes;
mod compact;

use crate::trace::{DoneState, Event, EventKind};
use crate::value::Value;
use compact::{Compact, CALL, DONE, DONE_TASK, STEP, STEP_TASK};
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
    /// The short paths ([`try_call`](Recorder::try_call),
    /// [`try_step`](Recorder::try_step)) keep an event only while `count`
    /// is below this: the event budget while events are kept, 0 while
    /// they are streamed, once a budget is spent, or when the world
    /// records states (whose source tags the long path writes). One
    /// comparison stands for all of those.
    fast_below: u64,
    first_failure: Option<Event>,
}

impl Recorder {
    /// A recorder whose short paths keep up to `max_events` events (0:
    /// none; every event takes the long path).
    pub fn new(max_events: u64) -> Recorder {
        Recorder {
            fast_below: max_events,
            ..Recorder::default()
        }
    }

    /// From now on every event takes the long path (a budget was spent).
    pub fn close_short_paths(&mut self) {
        self.fast_below = 0;
    }

    /// Keeps `call name=NAME` by the short path, if it may: whether it
    /// did. The short paths build no [`EventKind`], clone no name and call
    /// nothing: whatever they cannot do in one store (the budget, a sink,
    /// states, a name other than the last one, a full buffer, a long
    /// event) they leave to the long path ([`push_call`] and the like).
    ///
    /// [`push_call`]: Recorder::push_call
    #[inline(always)]
    pub fn try_call(&mut self, iteration: u64, time: i64, name: &Rc<str>) -> bool {
        // A call's name is always text: `CALL` stands for both kinds.
        self.try_keep(iteration, time, NameRef::Text(name), (CALL, CALL), None)
    }

    /// Keeps `step task=NAME` by the short path, if it may.
    #[inline(always)]
    pub fn try_step(&mut self, iteration: u64, time: i64, task: NameRef<'_>) -> bool {
        self.try_keep(iteration, time, task, (STEP, STEP_TASK), None)
    }

    /// Keeps `done name=NAME state=…` by the short path, if it may: the
    /// value none or `none` (`value_code` 0 or 1).
    #[inline(always)]
    pub fn try_done(
        &mut self,
        iteration: u64,
        time: i64,
        name: NameRef<'_>,
        state: DoneState,
        value_code: u8,
    ) -> bool {
        let code = compact::done_code(state, value_code);
        self.try_keep(iteration, time, name, (DONE, DONE_TASK), Some(code))
    }

    /// What the short paths share: within the budget, an event about
    /// `name` (of kind `kinds.0` for text, `kinds.1` for a task's number)
    /// kept in one store, and counted.
    #[inline(always)]
    fn try_keep(
        &mut self,
        iteration: u64,
        time: i64,
        name: NameRef<'_>,
        kinds: (u8, u8),
        done: Option<u8>,
    ) -> bool {
        if self.count >= self.fast_below {
            return false;
        }
        let Some((kind, number)) = self.short_name(name, kinds.0, kinds.1) else {
            return false;
        };
        let kept = self.kept.try_put(kind, iteration, time, number, done);
        self.count += u64::from(kept);
        kept
    }

    /// The kind and number of an event about `name`: `text` with the last
    /// name's id, `task` with a task's number.
    #[inline(always)]
    fn short_name(&self, name: NameRef<'_>, text: u8, task: u8) -> Option<(u8, u64)> {
        match name {
            NameRef::Text(name) => Some((text, self.kept.last_id(name)?)),
            NameRef::Task(n) => Some((task, n)),
        }
    }

    /// Events recorded so far.
    #[inline]
    pub fn len(&self) -> u64 {
        self.count
    }

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

    /// `call name=NAME`.
    pub fn push_call(&mut self, iteration: u64, time: i64, name: &Rc<str>) {
        if self.sink.is_some() {
            return self.push_whole(iteration, time, EventKind::Call { name: name.clone() });
        }
        self.count += 1;
        let id = self.kept.intern(name);
        self.kept.put(CALL, iteration, time, id);
    }

    /// `step task=NAME`, without writing out a default name when kept.
    pub fn push_step(&mut self, iteration: u64, time: i64, task: NameRef<'_>) {
        if self.sink.is_some() {
            let task = task.to_rc();
            return self.push_whole(iteration, time, EventKind::Step { task });
        }
        self.count += 1;
        match task {
            NameRef::Text(text) => {
                let id = self.kept.intern(text);
                self.kept.put(STEP, iteration, time, id);
            }
            NameRef::Task(n) => self.kept.put(STEP_TASK, iteration, time, n),
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
        let short = matches!(value, None | Some(Value::None) | Some(Value::Int(_)));
        if !short || self.sink.is_some() {
            let name = name.to_rc();
            return self.push_whole(iteration, time, EventKind::Done { name, state, value });
        }
        self.count += 1;
        let (kind, number) = match name {
            NameRef::Text(text) => (DONE, self.kept.intern(text)),
            NameRef::Task(n) => (DONE_TASK, n),
        };
        self.kept
            .put_done(kind, iteration, time, number, state, &value);
    }

    /// [`push`](Recorder::push), out of the short entry points' way.
    #[inline(never)]
    fn push_whole(&mut self, iteration: u64, time: i64, kind: EventKind) {
        self.push(Event {
            iteration,
            time,
            kind,
        });
    }

    /// From now on events go to `sink`; those kept so far go first.
    pub fn stream(&mut self, mut sink: EventSink) {
        for event in std::mem::take(&mut self.kept).decode() {
            sink(&event);
        }
        self.sink = Some(sink);
        self.fast_below = 0;
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
            recorder.push_call(iteration, time, &shared);
            expected.push(Event {
                iteration,
                time,
                kind: EventKind::Call {
                    name: shared.clone(),
                },
            });
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
        recorder.push_call(1, 2, &shared);
        streamed.extend(expected);
        streamed.push(Event {
            iteration: 1,
            time: 2,
            kind: EventKind::Step {
                task: "Task-3".into(),
            },
        });
        streamed.push(Event {
            iteration: 1,
            time: 2,
            kind: EventKind::Call { name: shared },
        });
        assert_eq!(*out.borrow(), streamed);
        assert!(recorder.kept().is_empty());
    }

    #[test]
    fn short_paths_keep_what_they_can_and_leave_the_rest() {
        let name: Rc<str> = "tick".into();
        let other: Rc<str> = "tock".into();
        let mut recorder = Recorder::new(4);
        // No name interned yet: the long path interns it.
        assert!(!recorder.try_call(1, 0, &name));
        recorder.push_call(1, 0, &name);
        assert!(recorder.try_call(2, 0, &name));
        assert!(!recorder.try_call(2, 0, &other), "not the last name");
        assert!(recorder.try_step(3, 1 << 20, NameRef::Task(70_000)));
        assert!(recorder.try_done(3, 1 << 20, NameRef::Task(70_000), DoneState::Cancelled, 0));
        // The event budget (4) is reached: the long path decides.
        assert!(!recorder.try_call(4, 1 << 20, &name));
        // Too long for one word: an iteration 2^40 on.
        let mut long = Recorder::new(u64::MAX);
        long.push_call(0, 0, &name);
        assert!(!long.try_call(1 << 40, 0, &name));
        let at = |iteration, time, kind| Event {
            iteration,
            time,
            kind,
        };
        assert_eq!(
            recorder.kept(),
            vec![
                at(1, 0, EventKind::Call { name: name.clone() }),
                at(2, 0, EventKind::Call { name: name.clone() }),
                at(
                    3,
                    1 << 20,
                    EventKind::Step {
                        task: "Task-70000".into()
                    }
                ),
                at(
                    3,
                    1 << 20,
                    EventKind::Done {
                        name: "Task-70000".into(),
                        state: DoneState::Cancelled,
                        value: None
                    }
                ),
            ]
        );
        assert_eq!(recorder.len(), 4);
        recorder.stream(Box::new(|_: &Event| {}));
        let mut fresh = Recorder::new(u64::MAX);
        fresh.push_call(0, 0, &name);
        fresh.stream(Box::new(|_: &Event| {}));
        assert!(!fresh.try_call(1, 0, &name), "a sink takes the long path");
    }
}
