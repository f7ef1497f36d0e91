//! The `api` target: programs written against the Rust API, not scenarios.
//!
//! An [`ApiProgram`] is a list of blocks (callbacks and tasks, by rank), a
//! few futures, and a `main` list of operations, all decoded from fuzzer
//! bytes. Running it calls [`EventLoop`] directly: `call_soon`,
//! `call_later`, `call_at`, `Handle::cancel`, `create_task` with `sleep`,
//! `yield_now` and awaits of tasks and futures, `gather`, `wait` and
//! `TaskGroup`, futures' `set_result`,
//! `set_exception`, `cancel` and `add_done_callback`, `stop`, `close` and
//! the drivers. As in the scenario generator, a block only schedules blocks
//! of a higher rank, at most twice, so every program ends. Tasks using
//! asyncio's primitives, with the driver's model of each, are
//! `api_sync.rs`.
//!
//! Closures hold the program's state weakly, and the run ends by closing
//! the loop and clearing every future's and task's done callbacks, so a run
//! leaves no reference cycle behind (the fuzzer's leak check sees it).

use super::api_sync::{SyncPart, SyncState};
use crate::combinators::{gather, gather_return_exceptions, wait, ReturnWhen, TaskGroup};
use crate::error::Error;
use crate::event_loop::{EventLoop, Handle, LoopConfig};
use crate::future::Future;
use crate::python::Python;
use crate::task::{sleep, wait_for, yield_now, Task};
use crate::tie_break::TieBreak;
use crate::time::{Instant, Nanos};
use crate::trace::{first_divergence, render, Event, EventKind, Format};
use arbitrary::{Arbitrary, Unstructured};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// Delays and times the operations choose from, in nanoseconds: few, so
/// deadlines tie.
const NANOS: [i64; 8] = [
    -1_000_000_000,
    0,
    1_000_000,
    1_000_000_000,
    1_000_000_000,
    2_000_000_000,
    250_000_000,
    7,
];

/// One thing a callback, a task or `main` does.
#[allow(missing_docs)]
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Log,
    CallSoon {
        cb: u8,
    },
    CallLater {
        delay: u8,
        cb: u8,
    },
    CallAt {
        at: u8,
        cb: u8,
    },
    CancelHandle {
        handle: u8,
    },
    CreateTask {
        task: u8,
    },
    CancelTask {
        task: u8,
    },
    SetResult {
        future: u8,
        value: i8,
    },
    SetException {
        future: u8,
    },
    CancelFuture {
        future: u8,
    },
    /// On a future (even `target`) or a task (odd).
    AddDoneCallback {
        target: u8,
        cb: u8,
    },
    Stop,
    Close,
    Raise,
    RunForever,
    /// A future (even `target`) or a task (odd).
    RunUntilComplete {
        target: u8,
    },
}

/// What only a task does. `WaitFor` waits on a future (even `target`) or
/// a task (odd).
#[allow(missing_docs)]
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum TaskOp {
    Act(Action),
    Sleep {
        delay: u8,
    },
    Yield,
    AwaitFuture {
        future: u8,
    },
    AwaitTask {
        task: u8,
    },
    WaitFor {
        target: u8,
        timeout: u8,
    },
    Return {
        value: i8,
    },
    /// `gather` of two futures.
    Gather {
        a: u8,
        b: u8,
        return_exceptions: bool,
    },
    /// `wait` for two tasks, with a timeout unless `timeout` is 0.
    WaitTasks {
        a: u8,
        b: u8,
        timeout: u8,
        first_completed: bool,
    },
    /// A `TaskGroup` of two children of task blocks ranked after this one.
    Group {
        a: u8,
        b: u8,
    },
}

/// A callback or a task body.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Callback(Vec<Action>),
    Task(Vec<TaskOp>),
}

/// A program against the Rust API, and the loop configuration to run it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiProgram {
    /// The loop's seed.
    pub seed: u64,
    /// The loop's tie-break policy.
    pub tie_break: TieBreak,
    /// The loop's jitter in nanoseconds.
    pub jitter_nanos: i64,
    /// Whose asyncio the loop is.
    pub python: Python,
    /// How many futures (`f0`, `f1`, …) exist from the start.
    pub futures: usize,
    /// Callbacks and task bodies, by rank.
    pub blocks: Vec<Block>,
    /// What `main` does, in order.
    pub main: Vec<Action>,
    /// Tasks using asyncio's primitives (`api_sync.rs`), created before
    /// `main` runs; decoded last, so older inputs have none.
    pub sync: SyncPart,
}

pub(super) fn list<'a, T: Arbitrary<'a>>(
    u: &mut Unstructured<'a>,
    max: usize,
) -> arbitrary::Result<Vec<T>> {
    let len = u.int_in_range(0..=max)?;
    (0..len).map(|_| T::arbitrary(u)).collect()
}

impl<'a> Arbitrary<'a> for ApiProgram {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let seed = u64::arbitrary(u)?;
        let tie_break = *u.choose(&TieBreak::ALL)?;
        let jitter_nanos = *u.choose(&super::JITTERS)?;
        let futures = u.int_in_range(0..=3)?;
        let count = u.int_in_range(1..=8)?;
        let mut blocks = Vec::with_capacity(count);
        for _ in 0..count {
            blocks.push(if bool::arbitrary(u)? {
                Block::Task(list(u, 5)?)
            } else {
                Block::Callback(list(u, 4)?)
            });
        }
        let main = list(u, 24)?;
        // Read last, so older inputs decode as before (to 3.11).
        let python = *u.choose(&Python::ALL)?;
        // Later still: older inputs have no primitives tasks.
        let sync = SyncPart::arbitrary(u)?;
        Ok(ApiProgram {
            seed,
            tie_break,
            jitter_nanos,
            python,
            futures,
            blocks,
            main,
            sync,
        })
    }
}

impl ApiProgram {
    /// Decodes a fuzzer input; total: missing bytes read as zeros.
    pub fn from_bytes(data: &[u8]) -> ApiProgram {
        ApiProgram::arbitrary(&mut Unstructured::new(data)).unwrap_or(ApiProgram {
            seed: 0,
            tie_break: TieBreak::Fifo,
            jitter_nanos: 0,
            python: Python::default(),
            futures: 0,
            blocks: Vec::new(),
            main: Vec::new(),
            sync: SyncPart::default(),
        })
    }

    /// Runs the program on a fresh loop and returns its trace.
    pub fn run(&self) -> Vec<Event> {
        self.run_with(LoopConfig::default())
    }

    /// [`run`](ApiProgram::run) on a loop built from `base` (its mutant,
    /// for the tests that prove the target can fail) with the program's
    /// own seed, policy, jitter, version and budget.
    pub fn run_with(&self, base: LoopConfig) -> Vec<Event> {
        let config = LoopConfig {
            seed: self.seed,
            tie_break: self.tie_break,
            jitter_nanos: self.jitter_nanos,
            python: self.python,
            max_iterations: 100_000,
            ..base
        };
        let lp = config.build();
        let state = Rc::new(State {
            blocks: self.blocks.clone(),
            futures: (0..self.futures)
                .map(|f| lp.create_future_named(format!("f{f}")))
                .collect(),
            handles: RefCell::new(Vec::new()),
            tasks: RefCell::new(Vec::new()),
            sync: SyncState::new(&self.sync),
        });
        SyncState::spawn(&state, &lp);
        for action in &self.main {
            exec(&state, &lp, None, action);
        }
        if state.sync.any() {
            // The primitives tasks run to their end, or until they all wait.
            let _ = lp.run_forever();
        }
        let trace = lp.take_trace();
        let _ = lp.close();
        state.tear_down();
        trace
    }
}

/// The `api` target: runs an [`ApiProgram`] twice; no invariant may be
/// violated, the budget may not run out, and the traces must be equal.
pub fn check_api(data: &[u8]) -> Result<(), String> {
    check_api_with(data, LoopConfig::default())
}

/// [`check_api`] on loops built from `base` (see
/// [`ApiProgram::run_with`]): with a mutant on, it shows the target fails.
pub fn check_api_with(data: &[u8], base: LoopConfig) -> Result<(), String> {
    let program = ApiProgram::from_bytes(data);
    let first = program.run_with(base.clone());
    let options = format!(
        "seed {}, tie-break {}, jitter {} ns",
        program.seed, program.tie_break, program.jitter_nanos
    );
    if let Some(event) = first.iter().find(|e| {
        matches!(
            e.kind,
            EventKind::InvariantViolated { .. } | EventKind::Budget { .. }
        )
    }) {
        return Err(format!(
            "{} ({options})\n{program:?}\ntrace:\n{}",
            event.to_text(),
            render(&first, Format::Text)
        ));
    }
    let second = program.run_with(base);
    if let Some(divergence) = first_divergence(&first, &second) {
        return Err(format!(
            "not deterministic ({options}): {divergence}\n{program:?}"
        ));
    }
    Ok(())
}

/// What a running program's closures and tasks share (weakly).
pub(super) struct State {
    blocks: Vec<Block>,
    /// The primitives and their tasks (`api_sync.rs`).
    pub(super) sync: SyncState,
    futures: Vec<Future<i64>>,
    handles: RefCell<Vec<Handle>>,
    tasks: RefCell<Vec<Task<i64>>>,
}

impl State {
    /// Breaks every cycle a run can leave: tasks waiting on each other and
    /// on futures hold each other through done callbacks.
    fn tear_down(&self) {
        for future in &self.futures {
            future.0.clear_callbacks();
        }
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        for task in &tasks {
            task.clear_for_teardown();
        }
        drop(tasks);
        self.sync.tear_down();
        self.handles.borrow_mut().clear();
    }

    /// The block of kind `task` chosen by `pick` among those ranked after
    /// `rank` (all of them for `main`).
    fn later(&self, rank: Option<usize>, task: bool, pick: u8) -> Option<usize> {
        let from = rank.map_or(0, |r| r + 1);
        let candidates: Vec<usize> = (from..self.blocks.len())
            .filter(|&i| matches!(self.blocks[i], Block::Task(_)) == task)
            .collect();
        (!candidates.is_empty()).then(|| candidates[usize::from(pick) % candidates.len()])
    }

    fn future(&self, pick: u8) -> Option<Future<i64>> {
        (!self.futures.is_empty())
            .then(|| self.futures[usize::from(pick) % self.futures.len()].clone())
    }

    fn task(&self, pick: u8) -> Option<Task<i64>> {
        let tasks = self.tasks.borrow();
        (!tasks.is_empty()).then(|| tasks[usize::from(pick) % tasks.len()].clone())
    }
}

pub(super) fn nanos(pick: u8) -> i64 {
    NANOS[usize::from(pick) % NANOS.len()]
}

/// A closure that runs callback block `index`.
fn callback(
    state: &Rc<State>,
    index: usize,
) -> impl FnOnce(&EventLoop) -> Result<(), Error> + 'static {
    let weak = Rc::downgrade(state);
    move |lp: &EventLoop| {
        let Some(state) = weak.upgrade() else {
            return Ok(());
        };
        let Block::Callback(actions) = &state.blocks[index] else {
            return Ok(());
        };
        let mut spawned = 0;
        for action in actions {
            if spawns(action) {
                spawned += 1;
                if spawned > 2 {
                    continue;
                }
            }
            if exec(&state, lp, Some(index), action) {
                return Err(Error::raised("boom"));
            }
        }
        Ok(())
    }
}

/// A task running block `index`.
async fn task_body(weak: Weak<State>, index: usize) -> Result<i64, Error> {
    let ops = match weak.upgrade().map(|s| s.blocks[index].clone()) {
        Some(Block::Task(ops)) => ops,
        _ => return Ok(0),
    };
    let mut spawned = 0;
    for op in ops {
        let Some(state) = weak.upgrade() else {
            return Ok(0);
        };
        match op {
            TaskOp::Sleep { delay } => {
                drop(state);
                sleep(Nanos(nanos(delay))).await?;
            }
            TaskOp::Yield => {
                drop(state);
                yield_now().await?;
            }
            TaskOp::AwaitFuture { future } => {
                let Some(future) = state.future(future) else {
                    continue;
                };
                drop(state);
                future.await?;
            }
            TaskOp::AwaitTask { task } => {
                let Some(task) = state.task(task) else {
                    continue;
                };
                drop(state);
                task.await?;
            }
            TaskOp::WaitFor { target, timeout } => {
                let timeout = Nanos(nanos(timeout));
                if target % 2 == 0 {
                    let Some(future) = state.future(target / 2) else {
                        continue;
                    };
                    drop(state);
                    wait_for(future, timeout).await?;
                } else {
                    let Some(task) = state.task(target / 2) else {
                        continue;
                    };
                    drop(state);
                    wait_for(task, timeout).await?;
                }
            }
            TaskOp::Return { value } => return Ok(i64::from(value)),
            TaskOp::Gather {
                a,
                b,
                return_exceptions,
            } => {
                let (Some(a), Some(b)) = (state.future(a), state.future(b)) else {
                    continue;
                };
                drop(state);
                if return_exceptions {
                    gather_return_exceptions(vec![a, b]).await?;
                } else {
                    gather(vec![a, b]).await?;
                }
            }
            TaskOp::WaitTasks {
                a,
                b,
                timeout,
                first_completed,
            } => {
                let (Some(a), Some(b)) = (state.task(a), state.task(b)) else {
                    continue;
                };
                drop(state);
                let timeout = (timeout != 0).then(|| Nanos(nanos(timeout)));
                let when = if first_completed {
                    ReturnWhen::FirstCompleted
                } else {
                    ReturnWhen::AllCompleted
                };
                wait(vec![a, b], timeout, when).await?;
            }
            TaskOp::Group { a, b } => {
                let children: Vec<usize> = [a, b]
                    .iter()
                    .filter_map(|&pick| state.later(Some(index), true, pick))
                    .collect();
                let group = TaskGroup::<i64>::new()?;
                for i in children {
                    let n = state.tasks.borrow().len();
                    let body = task_body(Rc::downgrade(&state), i);
                    match group.create_task_named(format!("b{i}_{n}"), body) {
                        Ok(task) => state.tasks.borrow_mut().push(task),
                        Err(error) => {
                            drop(state);
                            return group.exit(Err(error)).await.map(|()| 0);
                        }
                    }
                }
                drop(state);
                group.join().await?;
            }
            TaskOp::Act(action) => {
                if spawns(&action) {
                    spawned += 1;
                    if spawned > 2 {
                        continue;
                    }
                }
                // The running loop, or, after CPython 3.13.0's failed nested
                // `run_forever` cleared it, the current one: where a
                // statement in a body acts (`get_event_loop`).
                let lp = crate::event_loop::get_event_loop();
                if exec(&state, &lp, Some(index), &action) {
                    return Err(Error::raised("boom"));
                }
            }
        }
    }
    Ok(0)
}

/// Whether `action` schedules a callback or creates a task.
fn spawns(action: &Action) -> bool {
    matches!(
        action,
        Action::CallSoon { .. }
            | Action::CallLater { .. }
            | Action::CallAt { .. }
            | Action::CreateTask { .. }
            | Action::AddDoneCallback { .. }
    )
}

/// Runs one action from the block at `rank` (`None`: `main`); returns
/// whether it raised.
fn exec(state: &Rc<State>, lp: &EventLoop, rank: Option<usize>, action: &Action) -> bool {
    let push = |handle: Result<Handle, Error>| {
        if let Ok(handle) = handle {
            state.handles.borrow_mut().push(handle);
        }
    };
    match *action {
        Action::Log => lp.log("log"),
        Action::CallSoon { cb } => {
            if let Some(i) = state.later(rank, false, cb) {
                push(lp.call_soon_named(format!("b{i}"), callback(state, i)));
            }
        }
        Action::CallLater { delay, cb } => {
            if let Some(i) = state.later(rank, false, cb) {
                push(lp.call_later_named(Nanos(nanos(delay)), format!("b{i}"), callback(state, i)));
            }
        }
        Action::CallAt { at, cb } => {
            if let Some(i) = state.later(rank, false, cb) {
                push(lp.call_at_named(
                    Instant(nanos(at).max(0)),
                    format!("b{i}"),
                    callback(state, i),
                ));
            }
        }
        Action::CancelHandle { handle } => {
            let handle = {
                let handles = state.handles.borrow();
                (!handles.is_empty()).then(|| handles[usize::from(handle) % handles.len()].clone())
            };
            if let Some(handle) = handle {
                handle.cancel();
            }
        }
        Action::CreateTask { task } => {
            if let Some(i) = state.later(rank, true, task) {
                let n = state.tasks.borrow().len();
                if let Ok(task) =
                    lp.create_task_named(format!("b{i}_{n}"), task_body(Rc::downgrade(state), i))
                {
                    state.tasks.borrow_mut().push(task);
                }
            }
        }
        Action::CancelTask { task } => {
            if let Some(task) = state.task(task) {
                task.cancel();
            }
        }
        Action::SetResult { future, value } => {
            if let Some(future) = state.future(future) {
                let _ = future.set_result(i64::from(value));
            }
        }
        Action::SetException { future } => {
            if let Some(future) = state.future(future) {
                let _ = future.set_exception(Error::raised("oops"));
            }
        }
        Action::CancelFuture { future } => {
            if let Some(future) = state.future(future) {
                future.cancel();
            }
        }
        Action::AddDoneCallback { target, cb } => {
            let Some(i) = state.later(rank, false, cb) else {
                return false;
            };
            let added = if target % 2 == 0 {
                state
                    .future(target / 2)
                    .map(|f| f.add_done_callback_named(format!("b{i}"), callback(state, i)))
            } else {
                state
                    .task(target / 2)
                    .map(|t| t.add_done_callback_named(format!("b{i}"), callback(state, i)))
            };
            if let Some(Err(error)) = added {
                lp.record(EventKind::Error {
                    message: error.to_string().into(),
                });
            }
        }
        Action::Stop => lp.stop(),
        Action::Close => drop(lp.close()),
        Action::Raise => return rank.is_some(),
        Action::RunForever => drop(lp.run_forever()),
        Action::RunUntilComplete { target } => {
            if target % 2 == 0 {
                if let Some(future) = state.future(target / 2) {
                    let _ = lp.run_until_complete(&future);
                }
            } else if let Some(task) = state.task(target / 2) {
                let _ = lp.run_until_complete(&task);
            }
        }
    }
    false
}
