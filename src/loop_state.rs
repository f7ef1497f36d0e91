//! The loop's state at the start of a pass, as plain data.
//!
//! A trace says what happened; a [`PassState`] says what the loop was
//! holding when a `_run_once` pass began: the ready queue (what runs this
//! pass, in order), the pending timers (in the order they will leave the
//! queue), the tasks and what each one awaits. With
//! [`LoopConfig::record_state`](crate::LoopConfig::record_state) on, the
//! loop records one per pass ([`EventLoop::states`](crate::EventLoop::states));
//! off (the default), nothing is built and a pass costs one test of a flag.
//!
//! `loopsim run --state` prints them between the trace's events (the text
//! form below, or one JSON object each), and `loopsim view` draws them: the
//! page is a view over this data, as the trace's text is.
//!
//! ```
//! use loopsim::{sleep, LoopConfig};
//!
//! let lp = LoopConfig { record_state: true, ..LoopConfig::default() }.build();
//! lp.call_later_named(2.0, "tick", |_: &loopsim::EventLoop| ()).unwrap();
//! let task = lp.create_task_named("napper", async { sleep(1.0).await?; Ok(()) }).unwrap();
//! lp.run_until_complete(&task).unwrap();
//! let first = &lp.states()[0];
//! assert_eq!(first.ready, ["step napper".into()]);
//! assert_eq!(first.timers[0].name, "tick".into());
//! let second = &lp.states()[1];
//! // The task went to sleep: its wake-up is a timer, before `tick`'s.
//! assert_eq!(second.timers.iter().map(|t| &*t.name).collect::<Vec<_>>(), ["wake napper", "tick"]);
//! assert_eq!(second.tasks[0].to_string(), "napper: sleep until t=1.0");
//! // The pass waited one second: the clock jumped from 0 to 1.
//! assert_eq!((second.time, second.now), (0, 1_000_000_000));
//! ```

use crate::tie_break::TieBreak;
use crate::time::write_secs;
use serde_json::{json, Value as Json};
use std::fmt::{self, Write};
use std::rc::Rc;

/// What a loop held at the start of one `_run_once` pass, and what that
/// pass's wait and timers did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassState {
    /// The loop (0 is the first of its world, `main` in a scenario).
    pub loop_id: u32,
    /// The pass's number: the iteration its events carry.
    pub iteration: u64,
    /// The clock when the pass began, in nanoseconds.
    pub time: i64,
    /// The clock after the pass's wait (`time` when it did not wait): the
    /// time of the callbacks it runs. `now - time` is the clock's jump.
    pub now: i64,
    /// How many events the trace held when the pass began: this state goes
    /// before event `at_event`.
    pub at_event: usize,
    /// The ready queue, in the order it runs (what the trace would name
    /// each: a user callback's name, `step T` for a task's next step).
    pub ready: Vec<Rc<str>>,
    /// The pending timers, in the order they will leave the queue.
    pub timers: Vec<TimerState>,
    /// How `timers` is ordered among equal deadlines.
    pub order: TimerOrder,
    /// The timers that became due in this pass (after its wait), in the
    /// order they joined the ready queue: the order the policy (or script)
    /// chose for ties.
    pub due: Vec<TimerState>,
    /// The loop's pending tasks, in the order they were created.
    pub tasks: Vec<TaskState>,
}

/// One pending timer (a `TimerHandle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerState {
    /// Its deadline, in nanoseconds.
    pub when: i64,
    /// What it runs (as [`PassState::ready`] names it); `cancelled` once
    /// cancelled (asyncio drops a cancelled handle's callback too).
    pub name: Rc<str>,
    /// Cancelled: it stays queued until a pass sweeps it out, and never runs.
    pub cancelled: bool,
}

/// How [`PassState::timers`] is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerOrder {
    /// The policy's own order, exactly: the timers leave in this order
    /// unless timers pushed later come between them (under `heapq`, a later
    /// push can also reorder ties: CPython's heap has no stable order).
    Policy(TieBreak),
    /// A tie-order script (`--tie-order`) decides ties as they leave; the
    /// list is in deadline order, ties in the policy's queue order, which
    /// the script overrides.
    Scripted(TieBreak),
}

impl TimerOrder {
    /// `fifo`, `random`, `heapq`, or `scripted (fifo)`.
    pub fn describe(self) -> String {
        match self {
            TimerOrder::Policy(policy) => policy.to_string(),
            TimerOrder::Scripted(policy) => format!("scripted ({policy})"),
        }
    }
}

/// A pending task and what it waits on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    /// The task's name.
    pub name: Rc<str>,
    /// What it waits on.
    pub awaits: Awaits,
}

/// What a pending task waits on (CPython's `_fut_waiter`, and whether a
/// step is scheduled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Awaits {
    /// Created; its first step is in the ready queue.
    Start,
    /// Its next step is in the ready queue (after a `yield`, or woken).
    Step,
    /// `sleep`: its wake-up is a timer due at this time (nanoseconds).
    Sleep {
        /// The wake-up's deadline.
        until: i64,
    },
    /// A future or task, by name (`None`: an unnamed future, such as one
    /// inside `wait_for`). `done`: it finished, and the task's step is in
    /// the ready queue.
    Future {
        /// The name the trace gives it, if any.
        name: Option<Rc<str>>,
        /// It is done; the task wakes next.
        done: bool,
    },
}

impl fmt::Display for Awaits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Awaits::Start => f.write_str("first step ready"),
            Awaits::Step => f.write_str("step ready"),
            Awaits::Sleep { until } => {
                f.write_str("sleep until t=")?;
                write_secs(f, *until)
            }
            Awaits::Future { name, done } => {
                f.write_str("awaits ")?;
                f.write_str(name.as_deref().unwrap_or("a future"))?;
                if *done {
                    f.write_str(" (done: step ready)")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for TaskState {
    /// `napper: sleep until t=1.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.awaits)
    }
}

impl fmt::Display for TimerState {
    /// `t=2.0 tick`, `t=2.0 tick (cancelled)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("t=")?;
        write_secs(f, self.when)?;
        write!(f, " {}", self.name)?;
        if self.cancelled {
            f.write_str(" (cancelled)")?;
        }
        Ok(())
    }
}

fn secs(nanos: i64) -> Json {
    serde_json::Number::from_f64(nanos as f64 / 1e9).map_or(Json::Null, Json::Number)
}

impl TimerState {
    fn to_json(&self) -> Json {
        json!({"when": secs(self.when), "name": &*self.name, "cancelled": self.cancelled})
    }
}

impl TaskState {
    fn to_json(&self) -> Json {
        let (kind, extra) = match &self.awaits {
            Awaits::Start => ("start", Json::Null),
            Awaits::Step => ("step", Json::Null),
            Awaits::Sleep { until } => ("sleep", secs(*until)),
            Awaits::Future { name, .. } => ("future", json!(name.as_deref())),
        };
        let mut task =
            json!({"name": &*self.name, "awaits": kind, "text": self.awaits.to_string()});
        match &self.awaits {
            Awaits::Sleep { .. } => task["until"] = extra,
            Awaits::Future { done, .. } => {
                task["future"] = extra;
                task["done"] = json!(done);
            }
            Awaits::Start | Awaits::Step => {}
        }
        task
    }
}

impl PassState {
    /// The state as a JSON value (what `--format json --state` prints under
    /// the key `state`): times in seconds, as the trace's.
    pub fn to_json_value(&self) -> Json {
        json!({
            "loop": self.loop_id,
            "iteration": self.iteration,
            "time": secs(self.time),
            "now": secs(self.now),
            "ready": self.ready.iter().map(|r| &**r).collect::<Vec<_>>(),
            "timers": self.timers.iter().map(TimerState::to_json).collect::<Vec<_>>(),
            "order": self.order.describe(),
            "due": self.due.iter().map(TimerState::to_json).collect::<Vec<_>>(),
            "tasks": self.tasks.iter().map(TaskState::to_json).collect::<Vec<_>>(),
        })
    }

    /// One JSON line: `{"state":{"loop":0,"iteration":3,...}}`.
    pub fn to_json(&self) -> String {
        json!({ "state": self.to_json_value() }).to_string()
    }

    /// The text form, four lines between the trace's events:
    ///
    /// ```text
    /// -- pass #2 t=0.0 -> 1.0 (waited 1.0)
    ///    ready:  (empty)
    ///    timers: t=1.0 wake napper, t=2.0 tick   [fifo]
    ///    due:    t=1.0 wake napper
    ///    tasks:  napper: sleep until t=1.0
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) -> fmt::Result {
        write!(out, "-- pass #{}", self.iteration)?;
        if self.loop_id != 0 {
            write!(out, " of loop {}", self.loop_id)?;
        }
        out.push_str(" t=");
        write_secs(out, self.time)?;
        if self.now != self.time {
            out.push_str(" -> ");
            write_secs(out, self.now)?;
            out.push_str(" (waited ");
            write_secs(out, self.now - self.time)?;
            out.push(')');
        }
        out.push_str("\n   ready:  ");
        list(out, &self.ready)?;
        out.push_str("\n   timers: ");
        list(out, &self.timers)?;
        if !self.timers.is_empty() {
            write!(out, "   [{}]", self.order.describe())?;
        }
        if !self.due.is_empty() {
            out.push_str("\n   due:    ");
            list(out, &self.due)?;
        }
        out.push_str("\n   tasks:  ");
        list(out, &self.tasks)
    }
}

/// `a, b, c`, or `(empty)`.
fn list<T: fmt::Display>(out: &mut String, items: &[T]) -> fmt::Result {
    if items.is_empty() {
        out.push_str("(empty)");
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "{item}")?;
    }
    Ok(())
}

/// A trace with the states put before the events they precede, one line
/// per event and per state line, in `format` (what `loopsim run --state`
/// prints).
pub fn render_with_states(
    events: &[crate::trace::Event],
    states: &[PassState],
    format: crate::trace::Format,
) -> String {
    use crate::trace::Format;
    let mut out = String::new();
    let mut states = states.iter().peekable();
    for index in 0..=events.len() {
        while let Some(state) = states.next_if(|s| s.at_event <= index) {
            match format {
                Format::Text => out.push_str(&state.to_text()),
                Format::Json => out.push_str(&state.to_json()),
            }
            out.push('\n');
        }
        if let Some(event) = events.get(index) {
            match format {
                Format::Text => out.push_str(&event.to_text()),
                Format::Json => out.push_str(&event.to_json()),
            }
            out.push('\n');
        }
    }
    out
}

/// Where two runs of one scenario first made a different choice, as far
/// as the loop's states show it: the first pass (of the same loop and
/// number in both runs, before trace event `before_event`) whose due
/// timers left in a different order (a tie decided otherwise) or whose
/// clock jumped by a different amount (a `rand()` delay or jitter drawn
/// otherwise). `None` when the states agree up to there: the runs then part
/// on a value the program itself drew (`rand()` in a statement's
/// arguments) or on their settings alone.
pub fn first_choice_apart(
    left: &[PassState],
    right: &[PassState],
    before_event: usize,
) -> Option<ChoiceApart> {
    for (a, b) in left.iter().zip(right) {
        if a.at_event > before_event || b.at_event > before_event {
            break;
        }
        if (a.loop_id, a.iteration) != (b.loop_id, b.iteration) {
            break;
        }
        let names = |due: &[TimerState]| due.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let (left_due, right_due) = (names(&a.due), names(&b.due));
        if a.now != b.now || left_due != right_due {
            return Some(ChoiceApart {
                iteration: a.iteration,
                time: a.time,
                now: (a.now, b.now),
                due: (left_due, right_due),
            });
        }
    }
    None
}

/// A pass at which two runs chose differently ([`first_choice_apart`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChoiceApart {
    /// The pass.
    pub iteration: u64,
    /// The clock when it began, in nanoseconds (equal in both runs).
    pub time: i64,
    /// Where each run's clock stood after the pass's wait.
    pub now: (i64, i64),
    /// The timers that became due in each run, in the order they left.
    pub due: (Vec<Rc<str>>, Vec<Rc<str>>),
}

impl ChoiceApart {
    /// One line saying what each run chose, `left` and `right` naming the runs.
    pub fn describe(&self, left: &str, right: &str) -> String {
        let mut out = format!("pass #{} (t=", self.iteration);
        let _ = write_secs(&mut out, self.time);
        if self.now.0 != self.now.1 {
            out.push_str("): the clock jumped to t=");
            let _ = write_secs(&mut out, self.now.0);
            out.push_str(&format!(" under {left}, to t="));
            let _ = write_secs(&mut out, self.now.1);
            out.push_str(&format!(
                " under {right} (a rand() delay or jitter drawn otherwise)"
            ));
        } else {
            out.push_str(&format!(
                "): tied timers left as [{}] under {left}, as [{}] under {right}",
                self.due.0.join(", "),
                self.due.1.join(", ")
            ));
        }
        out
    }
}
