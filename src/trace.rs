//! The trace: every event a run produced, with its iteration and virtual time.
//!
//! Two stable forms, both fixed by the scenario contract (described in
//! `docs/scenario-language.md`, "Trace events"):
//! * text, for people and snapshots: `#ITERATION t=SECONDS KIND key=value…`;
//! * JSON lines: `{"iteration":N,"time":SECONDS,"event":KIND,…}`.
//!
//! Field order is fixed in both, so equal traces are equal byte for byte.

use crate::decimal::Backwards;
use crate::time::write_secs;
use crate::value::Value;
use std::fmt::{self, Write};
use std::rc::Rc;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `_run_once` passes of the producing loop so far (0 before the first).
    pub iteration: u64,
    /// Virtual time in nanoseconds.
    pub time: i64,
    /// What happened.
    pub kind: EventKind,
}

/// How a future or task finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DoneState {
    /// `set_result`, or a task's body returned.
    Result,
    /// `set_exception`, or a task's body raised.
    Exception,
    /// Cancelled.
    Cancelled,
}

impl DoneState {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DoneState::Result => "result",
            DoneState::Exception => "exception",
            DoneState::Cancelled => "cancelled",
        }
    }
}

/// Which driver returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// `run_forever`.
    RunForever,
    /// `run_until_complete`.
    RunUntilComplete,
}

impl Driver {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::RunForever => "run_forever",
            Driver::RunUntilComplete => "run_until_complete",
        }
    }
}

/// The kinds of event, with their fields, as the contract lists them (the
/// fields carry the contract's names).
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A user callback starts.
    Call { name: Rc<str> },
    /// A task step starts.
    Step { task: Rc<str> },
    /// `log TEXT`.
    Log { text: Rc<str> },
    /// A named future or task finished; `value` only for `Result`.
    Done {
        name: Rc<str>,
        state: DoneState,
        value: Option<Value>,
    },
    /// A loop call failed (a `RuntimeError` in asyncio).
    Error { message: Rc<str> },
    /// A callback raised and the loop's exception handler ran.
    Exception { name: Rc<str>, message: Rc<str> },
    /// `loop.stop()` was called.
    Stop,
    /// A driver returned; `value` only for `run_until_complete`.
    Returned {
        driver: Driver,
        value: Option<Value>,
    },
    /// Nothing ready and no timers: the driver ended.
    Idle,
    /// A budget ran out (`reason` says which); the run ends.
    Budget { reason: crate::event_loop::Budget },
    /// A `check` did not hold.
    CheckFailed { cond: Rc<str> },
    /// The invariant checker caught the loop breaking a rule.
    InvariantViolated {
        invariant: Rc<str>,
        message: Rc<str>,
    },
    /// `get Q` or `get_nowait Q` took `value` from the queue.
    Got { queue: Rc<str>, value: Value },
    /// `try STMT` caught what STMT raised; `message` is its text, or its
    /// class name when the text is empty.
    Caught { message: Rc<str> },
}

impl EventKind {
    /// The contract's name for this kind.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Call { .. } => "call",
            EventKind::Step { .. } => "step",
            EventKind::Log { .. } => "log",
            EventKind::Done { .. } => "done",
            EventKind::Error { .. } => "error",
            EventKind::Exception { .. } => "exception",
            EventKind::Stop => "stop",
            EventKind::Returned { .. } => "returned",
            EventKind::Idle => "idle",
            EventKind::Budget { .. } => "budget",
            EventKind::CheckFailed { .. } => "check_failed",
            EventKind::InvariantViolated { .. } => "invariant_violated",
            EventKind::Got { .. } => "got",
            EventKind::Caught { .. } => "caught",
        }
    }

    /// Whether this event makes `loopsim run` exit 1.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            EventKind::Budget { .. }
                | EventKind::CheckFailed { .. }
                | EventKind::InvariantViolated { .. }
        )
    }

    /// The text form without iteration and time: `check_failed cond="x"`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = self.write_text(&mut out);
        out
    }

    pub(crate) fn write_text(&self, out: &mut impl Write) -> fmt::Result {
        out.write_str(self.name())?;
        for (key, field) in self.each_field() {
            out.write_char(' ')?;
            out.write_str(key)?;
            out.write_char('=')?;
            crate::trace_writer::write_text_field(out, field)?;
        }
        Ok(())
    }

    /// The extra fields in contract order.
    pub fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        self.each_field().collect()
    }

    /// [`fields`](EventKind::fields) without collecting them: at most three,
    /// so writing or hashing an event allocates nothing.
    pub(crate) fn each_field(&self) -> impl Iterator<Item = (&'static str, Field<'_>)> {
        use Field::{Name, Text, Val};
        let fields = match self {
            EventKind::Call { name } => [Some(("name", Name(name))), None, None],
            EventKind::Step { task } => [Some(("task", Name(task))), None, None],
            EventKind::Log { text } => [Some(("text", Text(text))), None, None],
            EventKind::Done { name, state, value } => [
                Some(("name", Name(name))),
                Some(("state", Name(state.as_str()))),
                value.as_ref().map(|v| ("value", Val(v))),
            ],
            EventKind::Error { message } => [Some(("message", Text(message))), None, None],
            EventKind::Exception { name, message } => [
                Some(("name", Name(name))),
                Some(("message", Text(message))),
                None,
            ],
            EventKind::Stop | EventKind::Idle => [None, None, None],
            EventKind::Budget { reason } => [Some(("reason", Name(reason.as_str()))), None, None],
            EventKind::Returned { driver, value } => [
                Some(("driver", Name(driver.as_str()))),
                value.as_ref().map(|v| ("value", Val(v))),
                None,
            ],
            EventKind::CheckFailed { cond } => [Some(("cond", Text(cond))), None, None],
            EventKind::InvariantViolated { invariant, message } => [
                Some(("invariant", Name(invariant))),
                Some(("message", Text(message))),
                None,
            ],
            EventKind::Got { queue, value } => [
                Some(("queue", Name(queue))),
                Some(("value", Val(value))),
                None,
            ],
            EventKind::Caught { message } => [Some(("message", Text(message))), None, None],
        };
        fields.into_iter().flatten()
    }
}

/// One field's value, with how it is spelled.
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    /// An identifier-like string: bare in text, a JSON string in JSON.
    Name(&'a str),
    /// Free text: quoted in both forms.
    Text(&'a str),
    /// A result value.
    Val(&'a Value),
}

impl Event {
    /// The text form: `#3 t=1.5 call name=tick`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = self.write_text(&mut out);
        out
    }

    /// Writes the text form to `out` (for hashing a trace without building it).
    pub fn write_text(&self, out: &mut impl Write) -> fmt::Result {
        let mut iteration = Backwards::new();
        iteration.push_decimal(self.iteration);
        iteration.push(b'#');
        iteration.write_to(out)?;
        out.write_str(" t=")?;
        write_secs(out, self.time)?;
        out.write_char(' ')?;
        self.kind.write_text(out)
    }

    /// The JSON-lines form: `{"iteration":3,"time":1.5,"event":"call","name":"tick"}`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        crate::trace_writer::Writer::new(Format::Json).write_json(self, &mut out);
        out
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// The output forms of a whole trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// One [`Event::to_text`] line per event.
    #[default]
    Text,
    /// One [`Event::to_json`] line per event.
    Json,
}

/// A trace in the chosen form, one event per line, each ending in `\n`.
pub fn render(events: &[Event], format: Format) -> String {
    let mut out = String::new();
    let mut writer = crate::trace_writer::Writer::new(format);
    for event in events {
        writer.write_line(event, &mut out);
    }
    out
}

/// Where two traces first differ, for determinism checks and conformance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the first differing event.
    pub index: usize,
    /// The event in the first trace there, if it has one.
    pub left: Option<Event>,
    /// The event in the second trace there, if it has one.
    pub right: Option<Event>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |e: &Option<Event>| {
            e.as_ref()
                .map_or("<end of trace>".to_string(), Event::to_text)
        };
        write!(
            f,
            "traces diverge at event {}: `{}` vs `{}`",
            self.index,
            show(&self.left),
            show(&self.right)
        )
    }
}

/// The first event at which `left` and `right` differ, or `None` if equal.
pub fn first_divergence(left: &[Event], right: &[Event]) -> Option<Divergence> {
    let index = left
        .iter()
        .zip(right)
        .position(|(a, b)| a != b)
        .unwrap_or(left.len().min(right.len()));
    if index == left.len() && index == right.len() {
        return None;
    }
    Some(Divergence {
        index,
        left: left.get(index).cloned(),
        right: right.get(index).cloned(),
    })
}
