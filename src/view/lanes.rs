//! Who did what: each event of a run placed on a lane (a task, a callback,
//! a future, `main`, or the loop's own machinery) with its scenario line.
//!
//! The trace does not name who recorded an event, but the run says enough:
//! a `call` or `step` starts a callback's or a task's turn, which lasts
//! until the next one or the end of the pass (each pass begins at a
//! [`PassState`]); a `done` belongs to what finished; an event whose
//! statement is in `main` is `main`'s; an event no statement recorded is
//! the loop's own (the `stop` that `run_until_complete` makes from a done
//! callback).

use crate::loop_state::PassState;
use crate::scenario::ast::{BlockKind, Scenario};
use crate::scenario::span::line_col;
use crate::scenario::Outcome;
use crate::trace::EventKind;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What a lane stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneKind {
    /// The `main:` block: the driver script.
    Main,
    /// A task (one lane per task, named as the trace names it).
    Task,
    /// A callback (one lane per callback name).
    Callback,
    /// A future (its `done`).
    Future,
    /// The loop's own machinery (no statement of the scenario).
    Loop,
}

impl LaneKind {
    /// `main`, `task`, `callback`, `future`, `loop`.
    pub fn as_str(self) -> &'static str {
        match self {
            LaneKind::Main => "main",
            LaneKind::Task => "task",
            LaneKind::Callback => "callback",
            LaneKind::Future => "future",
            LaneKind::Loop => "loop",
        }
    }
}

/// One lane of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The task's, callback's or future's name; `main`; `loop`.
    pub name: Rc<str>,
    /// What it stands for.
    pub kind: LaneKind,
}

/// Every event's lane and line, and the lanes in order of appearance
/// (`main` first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lanes {
    /// The lanes.
    pub lanes: Vec<Lane>,
    /// For each event of the trace: its lane's index.
    pub lane_of: Vec<usize>,
    /// For each event: its 1-based scenario line, 0 when none.
    pub line_of: Vec<u32>,
}

/// Lane indices by name and kind, `main` first.
struct Builder {
    lanes: Vec<Lane>,
    index: BTreeMap<(Rc<str>, &'static str), usize>,
}

impl Builder {
    fn lane(&mut self, name: &Rc<str>, kind: LaneKind) -> usize {
        let key = (name.clone(), kind.as_str());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.lanes.push(Lane {
            name: name.clone(),
            kind,
        });
        self.index.insert(key, self.lanes.len() - 1);
        self.lanes.len() - 1
    }
}

/// Places the events of `outcome` (run with `record_state`) on lanes.
/// `source` is the scenario's text, for lines.
pub fn place(scenario: &Scenario, source: &str, outcome: &Outcome) -> Lanes {
    let mut builder = Builder {
        lanes: Vec::new(),
        index: BTreeMap::new(),
    };
    let main = builder.lane(&"main".into(), LaneKind::Main);
    let main_stmts: std::collections::BTreeSet<usize> = scenario
        .main
        .body
        .stmts
        .iter()
        .map(|s| s.span.start)
        .collect();
    let line = |offset: u32| -> u32 {
        match offset {
            0 => 0,
            at => line_col(source, at as usize - 1).0 as u32,
        }
    };
    // Where each block starts: a callback's `call`, a task's first `step`.
    let block_line: BTreeMap<&str, u32> = scenario
        .blocks
        .iter()
        .filter(|b| !matches!(b.kind, BlockKind::Future))
        .map(|b| (&*b.name.text, line(b.span.start as u32 + 1)))
        .collect();
    let tasks: Vec<&str> = scenario
        .blocks
        .iter()
        .filter(|b| matches!(b.kind, BlockKind::Task(_)))
        .map(|b| &*b.name.text)
        .collect();

    let mut pass_starts = outcome.states.iter().map(|s| s.at_event).peekable();
    let mut actor: Option<usize> = None;
    // The line each lane was last at: where a task resumes.
    let mut last_line: BTreeMap<usize, u32> = BTreeMap::new();
    let mut lanes = Lanes::default();
    for (i, event) in outcome.trace.iter().enumerate() {
        if pass_starts.next_if(|&at| at <= i).is_some() {
            while pass_starts.next_if(|&at| at <= i).is_some() {}
            actor = None;
        }
        let source_at = outcome.sources.get(i).copied().unwrap_or(0);
        let in_main = source_at > 0 && main_stmts.contains(&(source_at as usize - 1));
        let lane = match &event.kind {
            EventKind::Call { name } => {
                let lane = builder.lane(name, LaneKind::Callback);
                actor = Some(lane);
                lane
            }
            EventKind::Step { task } => {
                let lane = builder.lane(task, LaneKind::Task);
                actor = Some(lane);
                lane
            }
            EventKind::Done { name, .. } => {
                let kind = if builder.index.contains_key(&(name.clone(), "task"))
                    || tasks.contains(&&**name)
                {
                    LaneKind::Task
                } else {
                    LaneKind::Future
                };
                builder.lane(name, kind)
            }
            EventKind::Returned { .. } | EventKind::Idle | EventKind::Budget { .. } => {
                actor = None;
                main
            }
            _ if in_main => main,
            // No statement: the loop's machinery (`run_until_complete`'s
            // stop, run from its future's done callback).
            _ if source_at == 0 => builder.lane(&"loop".into(), LaneKind::Loop),
            _ => actor.unwrap_or(main),
        };
        let mut at_line = line(source_at);
        if at_line == 0 {
            at_line = match &event.kind {
                EventKind::Call { name } => block_line.get(&**name).copied().unwrap_or(0),
                EventKind::Step { task } => last_line
                    .get(&lane)
                    .copied()
                    .or_else(|| block_line.get(&**task).copied())
                    .unwrap_or(0),
                _ => 0,
            };
        }
        if at_line > 0 {
            last_line.insert(lane, at_line);
        }
        lanes.lane_of.push(lane);
        lanes.line_of.push(at_line);
    }
    lanes.lanes = builder.lanes;
    lanes
}

/// The groups of timers with one deadline that became due together in a
/// pass, in the order they went to the ready queue (what the tie policy, or
/// a script, chose): `(deadline, names)`.
pub fn tie_groups(state: &PassState) -> Vec<(i64, Vec<Rc<str>>)> {
    let mut groups: Vec<(i64, Vec<Rc<str>>)> = Vec::new();
    for timer in state.due.iter().filter(|t| !t.cancelled) {
        match groups.last_mut() {
            Some((when, names)) if *when == timer.when => names.push(timer.name.clone()),
            _ => groups.push((timer.when, vec![timer.name.clone()])),
        }
    }
    groups.retain(|(_, names)| names.len() > 1);
    groups
}
