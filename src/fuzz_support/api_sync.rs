//! The `api` target's asyncio primitives: tasks that drive [`Lock`],
//! [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`],
//! [`Barrier`], [`Queue`], [`LifoQueue`] and [`PriorityQueue`] through the
//! Rust API, and a model of each that the driver checks after every call.
//!
//! A [`SyncPart`] is decoded after the rest of an [`ApiProgram`]'s bytes
//! (older inputs decode to an empty one, and run as before): the sizes of
//! the primitives, and up to six tasks, each a list of [`SyncOp`]s. The
//! tasks are created before `main` runs, so `main`'s drivers run them too,
//! and once more after it.
//!
//! What the driver checks, besides the loop's own invariants (`audit.rs`):
//! a lock and the condition's lock are locked exactly while acquires
//! outnumber releases, by at most one; a semaphore's value is never
//! negative, and a bounded one's value, and its value plus its acquires
//! minus its releases, never exceed its start; every queue holds what its model holds, hands items
//! out in its order (first in, last in, smallest) and never more than its
//! `maxsize`; `task_done` fails exactly when every item put was done; an
//! event is set exactly when its model is; a barrier never has more
//! waiting than its parties. A broken rule is recorded as
//! `invariant_violated` (invariant `api_model`), which fails the target.
//!
//! [`ApiProgram`]: super::ApiProgram

use super::api::State;
use crate::error::Error;
use crate::event_loop::EventLoop;
use crate::sync::{
    Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, PriorityQueue, Queue, Semaphore,
};
use crate::task::{sleep, yield_now, Task};
use crate::time::Nanos;
use crate::trace::EventKind;
use arbitrary::{Arbitrary, Unstructured};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

/// One thing a primitives task does. `queue` picks [`Queue`], [`LifoQueue`]
/// or [`PriorityQueue`]; `task` one of the primitives tasks.
#[allow(missing_docs)]
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum SyncOp {
    AcquireLock,
    ReleaseLock,
    AcquireSemaphore,
    ReleaseSemaphore,
    AcquireBounded,
    ReleaseBounded,
    AcquireCondition,
    ReleaseCondition,
    WaitCondition,
    Notify { n: u8 },
    NotifyAll,
    SetEvent,
    ClearEvent,
    WaitEvent,
    BarrierWait,
    BarrierReset,
    BarrierAbort,
    Put { queue: u8, value: i8 },
    PutNowait { queue: u8, value: i8 },
    Get { queue: u8 },
    GetNowait { queue: u8 },
    TaskDone { queue: u8 },
    Join { queue: u8 },
    Sleep { delay: u8 },
    Yield,
    Cancel { task: u8 },
}

/// The primitives' sizes and the tasks that use them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncPart {
    /// The semaphore's and the bounded semaphore's start value (1-3).
    pub permits: u32,
    /// The barrier's parties (1-3).
    pub parties: usize,
    /// The queues' `maxsize` (0-3; 0 is unbounded).
    pub maxsize: usize,
    /// Each task's operations, in order.
    pub tasks: Vec<Vec<SyncOp>>,
}

impl<'a> Arbitrary<'a> for SyncPart {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let permits = u.int_in_range(1..=3)?;
        let parties = u.int_in_range(1..=3)?;
        let maxsize = u.int_in_range(0..=3)?;
        let count = u.int_in_range(0..=6)?;
        let mut tasks = Vec::with_capacity(count);
        for _ in 0..count {
            tasks.push(super::api::list(u, 8)?);
        }
        Ok(SyncPart {
            permits,
            parties,
            maxsize,
            tasks,
        })
    }
}

/// A queue's model: what it holds, in the order put.
#[derive(Default)]
struct QueueModel {
    items: VecDeque<i64>,
    /// Items put and not yet done (`task_done`).
    unfinished: u64,
}

/// The primitives of one run, with the driver's model of each.
pub(super) struct SyncState {
    part: SyncPart,
    lock: Lock,
    semaphore: Semaphore,
    bounded: BoundedSemaphore,
    condition: Condition,
    event: Event,
    barrier: Barrier,
    fifo: Queue<i64>,
    lifo: LifoQueue<i64>,
    priority: PriorityQueue<i64>,
    /// Acquires minus releases that returned, of the lock, the semaphore,
    /// the bounded semaphore and the condition's lock.
    lock_held: Cell<i64>,
    semaphore_held: Cell<i64>,
    bounded_held: Cell<i64>,
    condition_held: Cell<i64>,
    event_set: Cell<bool>,
    queues: [RefCell<QueueModel>; 3],
    tasks: RefCell<Vec<Task<i64>>>,
}

impl SyncState {
    pub(super) fn new(part: &SyncPart) -> SyncState {
        SyncState {
            part: part.clone(),
            lock: Lock::new(),
            semaphore: Semaphore::new(part.permits),
            bounded: BoundedSemaphore::new(part.permits),
            condition: Condition::new(),
            event: Event::new(),
            barrier: Barrier::new(part.parties.max(1)),
            fifo: Queue::new(part.maxsize),
            lifo: LifoQueue::new(part.maxsize),
            priority: PriorityQueue::new(part.maxsize),
            lock_held: Cell::new(0),
            semaphore_held: Cell::new(0),
            bounded_held: Cell::new(0),
            condition_held: Cell::new(0),
            event_set: Cell::new(false),
            queues: Default::default(),
            tasks: RefCell::new(Vec::new()),
        }
    }

    /// Creates the tasks, which reach the primitives through `state`,
    /// weakly.
    pub(super) fn spawn(state: &Rc<State>, lp: &EventLoop) {
        for index in 0..state.sync.part.tasks.len() {
            let body = task_body(Rc::downgrade(state), index);
            if let Ok(task) = lp.create_task_named(format!("s{index}"), body) {
                state.sync.tasks.borrow_mut().push(task);
            }
        }
    }

    /// Whether there are tasks to run.
    pub(super) fn any(&self) -> bool {
        !self.part.tasks.is_empty()
    }

    /// Drops the tasks' bodies and done callbacks (see `State::tear_down`).
    pub(super) fn tear_down(&self) {
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        for task in &tasks {
            task.clear_for_teardown();
        }
    }

    /// Every rule of the model, after an operation: the first broken one.
    fn broken(&self) -> Option<String> {
        let lock = (self.lock.locked(), self.lock_held.get());
        if lock.0 != (lock.1 > 0) || lock.1 > 1 {
            return Some(format!("lock: locked() {} with {} held", lock.0, lock.1));
        }
        let cond = (self.condition.locked(), self.condition_held.get());
        if cond.0 != (cond.1 > 0) || cond.1 > 1 {
            return Some(format!(
                "condition: locked() {} with {} held",
                cond.0, cond.1
            ));
        }
        let start = i64::from(self.part.permits);
        if self.semaphore.value() < 0 {
            return Some(format!("semaphore: value {}", self.semaphore.value()));
        }
        let (value, held) = (self.bounded.value(), self.bounded_held.get());
        // Any task may release (asyncio does not track owners), so `held`
        // may be negative; value + held + the wake-ups not yet taken is
        // `start`, so value + held never exceeds it.
        if value < 0 || value > start || value + held > start {
            return Some(format!(
                "bounded semaphore of {start}: value {value} with {held} held"
            ));
        }
        if self.event.is_set() != self.event_set.get() {
            return Some(format!("event: is_set() {}", self.event.is_set()));
        }
        if self.barrier.n_waiting() > self.barrier.parties() {
            return Some(format!(
                "barrier of {}: {} waiting",
                self.barrier.parties(),
                self.barrier.n_waiting()
            ));
        }
        let sizes = [self.fifo.qsize(), self.lifo.qsize(), self.priority.qsize()];
        for (which, size) in sizes.into_iter().enumerate() {
            let model = self.queues[which].borrow().items.len();
            let max = self.part.maxsize;
            if size != model || (max > 0 && size > max) {
                return Some(format!(
                    "{}: qsize() {size}, {model} put and not got, maxsize {max}",
                    QUEUES[which]
                ));
            }
        }
        None
    }

    /// A queue's `put` or `put_nowait` of `value` returned `Ok`.
    fn put(&self, which: usize, value: i64) {
        let mut model = self.queues[which].borrow_mut();
        model.items.push_back(value);
        model.unfinished += 1;
    }

    /// A queue's `get` or `get_nowait` returned `got`: what the model says
    /// comes next, if that is not it.
    fn got(&self, which: usize, got: i64) -> Option<String> {
        let mut model = self.queues[which].borrow_mut();
        let next = match which {
            0 => model.items.pop_front(),
            1 => model.items.pop_back(),
            _ => {
                let at = (0..model.items.len()).min_by_key(|&i| model.items[i]);
                at.and_then(|at| model.items.remove(at))
            }
        };
        (next != Some(got)).then(|| format!("{}: got {got}, expected {next:?}", QUEUES[which]))
    }
}

const QUEUES: [&str; 3] = ["Queue", "LifoQueue", "PriorityQueue"];

/// Records a broken rule on the loop: `invariant_violated invariant=api_model`.
fn violated(lp: &EventLoop, message: String) {
    lp.record(EventKind::InvariantViolated {
        invariant: "api_model".into(),
        message: message.into(),
    });
}

/// The outcome of one awaited or immediate call: cancellation ends the
/// task (it propagates, as `CancelledError` does), other errors are
/// asyncio's answers and the task goes on.
fn go_on<T>(outcome: Result<T, Error>) -> Result<Option<T>, Error> {
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_cancelled() => Err(error),
        Err(_) => Ok(None),
    }
}

/// A primitives task running `part.tasks[index]`. It holds the state
/// while it awaits (the run's tear-down drops its body).
async fn task_body(weak: Weak<State>, index: usize) -> Result<i64, Error> {
    let ops = match weak.upgrade() {
        Some(state) => state.sync.part.tasks[index].clone(),
        None => return Ok(0),
    };
    for op in ops {
        let Some(state) = weak.upgrade() else {
            return Ok(0);
        };
        let problem = run_op(&state.sync, &op).await?;
        if let Some(problem) = problem.or_else(|| state.sync.broken()) {
            violated(
                &crate::event_loop::get_event_loop(),
                format!("after {op:?}: {problem}"),
            );
        }
    }
    Ok(0)
}

/// Runs one operation and updates the model; `Some` if the call's own
/// answer breaks the model (an item out of order, a wrong `task_done`).
async fn run_op(s: &SyncState, op: &SyncOp) -> Result<Option<String>, Error> {
    let count = |cell: &Cell<i64>, by: i64, done: Option<()>| {
        if done.is_some() {
            cell.set(cell.get() + by);
        }
    };
    match *op {
        SyncOp::AcquireLock => count(&s.lock_held, 1, go_on(s.lock.acquire().await)?),
        SyncOp::ReleaseLock => count(&s.lock_held, -1, go_on(s.lock.release())?),
        SyncOp::AcquireSemaphore => {
            count(&s.semaphore_held, 1, go_on(s.semaphore.acquire().await)?)
        }
        SyncOp::ReleaseSemaphore => count(&s.semaphore_held, -1, go_on(s.semaphore.release())?),
        SyncOp::AcquireBounded => count(&s.bounded_held, 1, go_on(s.bounded.acquire().await)?),
        SyncOp::ReleaseBounded => count(&s.bounded_held, -1, go_on(s.bounded.release())?),
        SyncOp::AcquireCondition => {
            count(&s.condition_held, 1, go_on(s.condition.acquire().await)?)
        }
        SyncOp::ReleaseCondition => count(&s.condition_held, -1, go_on(s.condition.release())?),
        SyncOp::WaitCondition => {
            // A locked condition's `wait` releases the lock while it waits
            // and takes it back before it returns, even when cancelled.
            let releases = s.condition.locked();
            if releases {
                s.condition_held.set(s.condition_held.get() - 1);
            }
            let outcome = s.condition.wait().await;
            if releases {
                s.condition_held.set(s.condition_held.get() + 1);
            }
            go_on(outcome)?;
        }
        SyncOp::Notify { n } => drop(go_on(s.condition.notify(usize::from(n % 3)))?),
        SyncOp::NotifyAll => drop(go_on(s.condition.notify_all())?),
        SyncOp::SetEvent => {
            if go_on(s.event.set())?.is_some() {
                s.event_set.set(true);
            }
        }
        SyncOp::ClearEvent => {
            s.event.clear();
            s.event_set.set(false);
        }
        SyncOp::WaitEvent => drop(go_on(s.event.wait().await)?),
        SyncOp::BarrierWait => drop(go_on(s.barrier.wait().await)?),
        SyncOp::BarrierReset => drop(go_on(s.barrier.reset().await)?),
        SyncOp::BarrierAbort => drop(go_on(s.barrier.abort().await)?),
        SyncOp::Put { queue, value } | SyncOp::PutNowait { queue, value } => {
            let which = usize::from(queue % 3);
            let value = i64::from(value);
            let waits = matches!(op, SyncOp::Put { .. });
            let put = match (which, waits) {
                (0, true) => s.fifo.put(value).await,
                (1, true) => s.lifo.put(value).await,
                (_, true) => s.priority.put(value).await,
                (0, false) => s.fifo.put_nowait(value),
                (1, false) => s.lifo.put_nowait(value),
                (_, false) => s.priority.put_nowait(value),
            };
            if go_on(put)?.is_some() {
                s.put(which, value);
            }
        }
        SyncOp::Get { queue } | SyncOp::GetNowait { queue } => {
            let which = usize::from(queue % 3);
            let waits = matches!(op, SyncOp::Get { .. });
            let got = match (which, waits) {
                (0, true) => s.fifo.get().await,
                (1, true) => s.lifo.get().await,
                (_, true) => s.priority.get().await,
                (0, false) => s.fifo.get_nowait(),
                (1, false) => s.lifo.get_nowait(),
                (_, false) => s.priority.get_nowait(),
            };
            if let Some(got) = go_on(got)? {
                return Ok(s.got(which, got));
            }
        }
        SyncOp::TaskDone { queue } => {
            let which = usize::from(queue % 3);
            let done = match which {
                0 => s.fifo.task_done(),
                1 => s.lifo.task_done(),
                _ => s.priority.task_done(),
            };
            let mut model = s.queues[which].borrow_mut();
            let expected = model.unfinished > 0;
            if done.is_ok() != expected {
                return Ok(Some(format!(
                    "{}: task_done() {done:?} with {} unfinished",
                    QUEUES[which], model.unfinished
                )));
            }
            model.unfinished = model.unfinished.saturating_sub(1);
        }
        SyncOp::Join { queue } => {
            let join = match queue % 3 {
                0 => s.fifo.join().await,
                1 => s.lifo.join().await,
                _ => s.priority.join().await,
            };
            go_on(join)?;
        }
        SyncOp::Sleep { delay } => {
            go_on(sleep(Nanos(super::api::nanos(delay).max(0))).await)?;
        }
        SyncOp::Yield => drop(go_on(yield_now().await)?),
        SyncOp::Cancel { task } => {
            let task = {
                let tasks = s.tasks.borrow();
                (!tasks.is_empty()).then(|| tasks[usize::from(task) % tasks.len()].clone())
            };
            if let Some(task) = task {
                task.cancel();
            }
        }
    }
    Ok(None)
}
