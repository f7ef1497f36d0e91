//! The event loop: asyncio's `BaseEventLoop` on a virtual clock.
//!
//! * `callback.rs`: callbacks as the loop stores them, with their labels;
//! * `slots.rs`: the slab where scheduled callbacks live;
//! * `handle.rs`: [`Handle`], the user's reference to one of them, and
//!   `SlotRef`, the loop's own (for a sleep's timer);
//! * `run.rs`: `_run_once` and the drivers (`run_forever`, `run_until_complete`);
//! * `world.rs`: what sibling loops share (clock, trace, seeded streams);
//! * `recorder/`: the trace, kept compact or streamed to a sink;
//! * `unretrieved.rs`: exceptions nobody retrieved (asyncio's "never retrieved");
//! * `registry.rs`: `get_event_loop`/`set_event_loop` and the running loop;
//! * `config.rs`: [`LoopConfig`].

pub(crate) mod callback;
mod config;
mod handle;
mod recorder;
mod registry;
mod run;
pub(crate) mod slots;
mod snapshot;
mod unretrieved;
mod world;

pub use callback::CallbackResult;
pub use config::{
    Budget, LoopConfig, DEFAULT_MAX_CALLBACKS, DEFAULT_MAX_EVENTS, DEFAULT_MAX_ITERATIONS,
    DEFAULT_MAX_PENDING,
};
pub use handle::Handle;
pub(crate) use handle::SlotRef;
pub use recorder::EventSink;
pub(crate) use recorder::NameRef;
pub use registry::{get_event_loop, get_running_loop, new_event_loop, set_event_loop};
pub use run::Ended;
pub(crate) use snapshot::{TaskEntry, TaskView};
pub use unretrieved::Unretrieved;

use crate::error::Error;
use crate::fifo_vec::FifoVec;
use crate::future::{Future, Name, Waitable};
use crate::invariant::Probe;
use crate::task::Task;
use crate::time::{Instant, IntoNanos};
use crate::timer_queue::{TimerEntry, TimerQueue};
use crate::trace::{Event, EventKind};
use callback::Callback;
use slots::{Slots, IN_TIMERS};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use world::World;

/// An asyncio event loop on a virtual clock.
///
/// Cheap to clone: clones are the same loop. Single-threaded by design
/// (`!Send`), like asyncio's.
#[derive(Clone)]
pub struct EventLoop {
    pub(crate) inner: Rc<LoopInner>,
}

/// What a task blocked on when its step returned `Pending`.
pub(crate) enum Blocked {
    /// A bare `yield` (`sleep(0)`): the next step is `call_soon`ed.
    Yield,
    /// A future or task: the next step runs from its done callback.
    On(Rc<dyn Waitable>),
    /// `sleep(d > 0)`: a timer at `until` wakes the task.
    Sleep { until: i64 },
    /// The body polled several awaitables that each blocked (a
    /// hand-written join or select): the task waits on all of them. Boxed,
    /// so that the common case stays three words.
    #[allow(clippy::box_collection)]
    Several(Box<Vec<Blocked>>),
}

/// The task step in progress on a loop, if any: what the awaitables it
/// polls read and write. Three cells rather than one `RefCell` of a
/// struct: a step sets and clears them around every poll.
pub(crate) struct StepContext {
    /// A step is in progress.
    pub active: Cell<bool>,
    /// An exception to deliver at the point where the task is suspended
    /// (CPython's `coro.throw(exc)`).
    pub throw: Cell<Option<Error>>,
    /// Set by the awaitable that suspended the step: see [`BlockedCell`].
    blocked: BlockedCell,
    /// The latest deadline the timer that woke this step stands for: a
    /// `sleep` waiting for a deadline at or before it (or the clock) is over.
    /// Set by the step before it polls, `i64::MIN` otherwise.
    pub reached: Cell<i64>,
    /// The task being stepped (`asyncio.current_task()`), valid while
    /// `active`: see [`current_task`](StepContext::current_task).
    pub task: Cell<Option<std::ptr::NonNull<dyn crate::task::TaskControl>>>,
}

impl Default for StepContext {
    fn default() -> Self {
        StepContext {
            active: Cell::new(false),
            throw: Cell::new(None),
            blocked: BlockedCell::default(),
            reached: Cell::new(i64::MIN),
            task: Cell::new(None),
        }
    }
}

/// An `Option<Blocked>` kept as one cell per variant's payload, with the
/// variant in a byte of its own.
///
/// Every step writes what it blocked on (in the awaitable's poll) and reads
/// it back at once (in `suspend`). As one `Cell<Option<Blocked>>` the
/// write went out as a tag word and a payload of two words, and the read
/// came back as one 16-byte load across them, which the CPU cannot forward
/// from the two stores: it waited for them to reach the cache (a fifth of
/// W5's time, by `perf annotate`). Apart, each read matches its write.
#[derive(Default)]
struct BlockedCell {
    /// 0: nothing; else which variant, its payload in the cell below.
    kind: Cell<u8>,
    on: Cell<Option<Rc<dyn Waitable>>>,
    until: Cell<i64>,
    /// As `Blocked::Several` holds it: moved in and out whole.
    #[allow(clippy::box_collection)]
    several: Cell<Option<Box<Vec<Blocked>>>>,
}

impl BlockedCell {
    const NOTHING: u8 = 0;
    const YIELD: u8 = 1;
    const ON: u8 = 2;
    const SLEEP: u8 = 3;
    const SEVERAL: u8 = 4;

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.kind.get() == Self::NOTHING
    }

    /// Keeps `on`; the cell must be empty.
    #[inline(always)]
    fn set(&self, on: Blocked) {
        let kind = match on {
            Blocked::Yield => Self::YIELD,
            Blocked::On(waitable) => {
                self.on.set(Some(waitable));
                Self::ON
            }
            Blocked::Sleep { until } => {
                self.until.set(until);
                Self::SLEEP
            }
            Blocked::Several(all) => {
                self.several.set(Some(all));
                Self::SEVERAL
            }
        };
        self.kind.set(kind);
    }

    #[inline]
    fn take(&self) -> Option<Blocked> {
        match self.kind.replace(Self::NOTHING) {
            Self::YIELD => Some(Blocked::Yield),
            Self::ON => self.on.take().map(Blocked::On),
            Self::SLEEP => Some(Blocked::Sleep {
                until: self.until.get(),
            }),
            Self::SEVERAL => self.several.take().map(Blocked::Several),
            _ => None,
        }
    }
}

/// What a loop does to an unfinished task of its own when the loop is
/// dropped: let go of everything the task holds (its body, what it waits
/// on, its done callbacks). A task waiting on a future that waits on the
/// task (through its done callback), or two tasks awaiting each other, are
/// cycles of `Rc`s; nothing could ever run them again, so breaking them
/// frees them. (asyncio holds tasks in a `WeakSet` and leaves cycles to
/// the garbage collector.)
pub(crate) trait Unlink {
    fn unlink(&self);
}

/// The loop's unfinished tasks, held weakly, in reusable places (a done
/// task leaves its place at once, so that its memory goes).
#[derive(Default)]
pub(crate) struct TaskRegistry {
    places: Vec<Option<std::rc::Weak<dyn Unlink>>>,
    free: Vec<u32>,
}

impl TaskRegistry {
    /// Holds `task`; its place, for [`remove`](TaskRegistry::remove).
    pub(crate) fn add(&mut self, task: std::rc::Weak<dyn Unlink>) -> u32 {
        match self.free.pop() {
            Some(at) => {
                self.places[at as usize] = Some(task);
                at
            }
            None => {
                self.places.push(Some(task));
                u32::try_from(self.places.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    /// The task at `at` is done.
    pub(crate) fn remove(&mut self, at: u32) {
        if let Some(place) = self.places.get_mut(at as usize) {
            if place.take().is_some() {
                self.free.push(at);
            }
        }
    }
}

impl Drop for LoopInner {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut *self.unfinished.borrow_mut());
        for task in tasks.places.into_iter().flatten() {
            if let Some(task) = task.upgrade() {
                task.unlink();
            }
        }
    }
}

/// Leaves the step when dropped: a task body that panics does not leave
/// its loop believing a step is still in progress.
pub(crate) struct LeaveStep<'a>(pub(crate) &'a StepContext);

impl Drop for LeaveStep<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.leave();
    }
}

impl StepContext {
    /// A step begins, with `throw` to deliver. Steps never nest: a step
    /// cannot run a loop (the loop is running, or another one is), and
    /// nothing else polls a task's body.
    #[inline]
    pub(crate) fn enter(&self, throw: Option<Error>) {
        debug_assert!(!self.active.get(), "task steps never nest");
        self.active.set(true);
        // Outside a step `throw` is empty (`leave` takes it): only an
        // exception to deliver needs writing, most steps have none.
        if throw.is_some() {
            self.throw.set(throw);
        }
    }

    /// The step ends; an exception it did not take is dropped. What it
    /// blocked on stays until [`take_blocked`](StepContext::take_blocked).
    #[inline]
    pub(crate) fn leave(&self) {
        self.active.set(false);
        drop(self.throw.take());
        self.reached.set(i64::MIN);
    }

    /// What the step that just ended blocked on.
    #[inline]
    pub(crate) fn take_blocked(&self) -> Option<Blocked> {
        self.blocked.take()
    }

    /// `asyncio.current_task()`: the task this step runs, if a step is in
    /// progress.
    pub(crate) fn current_task(&self) -> Option<Rc<dyn crate::task::TaskControl>> {
        if !self.active.get() {
            return None;
        }
        let task = self.task.get()?;
        // SAFETY: the step sets `task` to its own task, which lives in an
        // `Rc` (every task does) that the step holds for as long as it is
        // `active`; the pointer is that `Rc`'s `as_ptr`, unsized from the
        // task's type. Counting one more owner first makes `from_raw` an
        // `Rc` of its own.
        unsafe {
            Rc::increment_strong_count(task.as_ptr());
            Some(Rc::from_raw(task.as_ptr()))
        }
    }

    /// An awaitable blocks the step in progress. A second one in the same
    /// step keeps the first: the step waits on all of them.
    #[inline(always)]
    pub(crate) fn block(&self, on: Blocked) {
        if self.blocked.is_empty() {
            self.blocked.set(on);
        } else {
            self.block_more(on);
        }
    }

    #[cold]
    #[inline(never)]
    fn block_more(&self, latest: Blocked) {
        let earlier = self.blocked.take().expect("blocked before");
        let all = match earlier {
            Blocked::Several(mut all) => {
                all.push(latest);
                all
            }
            earlier => Box::new(vec![earlier, latest]),
        };
        self.blocked.set(Blocked::Several(all));
    }
}

pub(crate) struct LoopInner {
    pub(crate) world: Rc<World>,
    /// Numbers loops within a world, for the invariant checker.
    pub(crate) id: u32,
    queues: RefCell<Queues>,
    /// CPython's `_timer_cancelled_count`.
    timer_cancelled_count: Cell<usize>,
    stopping: Cell<bool>,
    running: Cell<bool>,
    closed: Cell<bool>,
    iteration: Cell<u64>,
    /// Callbacks run so far (for [`LoopConfig::max_callbacks`]).
    callbacks_run: Cell<u64>,
    /// Tasks of this loop not yet done (for [`LoopConfig::max_pending`]).
    pub(crate) live_tasks: Cell<u64>,
    /// How many more budget checks are sure to pass (see
    /// `LoopInner::over_budget`): 0 makes the next one exact.
    budget_headroom: Cell<u64>,
    /// The same tasks, held weakly, to break their cycles when the loop
    /// is dropped.
    pub(crate) unfinished: RefCell<TaskRegistry>,
    pub(crate) step: StepContext,
    /// The tasks made on this loop, for its state (only with
    /// `config.record_state`; done ones are dropped as states are taken).
    tasks: RefCell<Vec<TaskEntry>>,
}

/// The loop's queues and the slots they refer to, borrowed together.
pub(crate) struct Queues {
    /// CPython's `_ready`: slots to run, FIFO.
    ready: FifoVec<u32>,
    /// CPython's `_scheduled`.
    timers: TimerQueue,
    slots: Slots,
}

impl LoopInner {
    /// Feeds the invariant checker, if on; a violation goes in the trace.
    #[inline(always)]
    pub(crate) fn report(&self, probe: impl FnOnce() -> Probe) {
        if self.world.config.check_invariants {
            self.check(probe());
        }
    }

    /// [`report`](LoopInner::report) with the checker on.
    fn check(&self, probe: Probe) {
        let violation = match self.world.checker.borrow_mut().as_mut() {
            Some(checker) => checker.observe(self.id, &probe),
            None => None,
        };
        if let Some(v) = violation {
            self.record(EventKind::InvariantViolated {
                invariant: v.invariant.into(),
                message: v.message.into(),
            });
        }
    }

    /// Appends an event to the trace, if recording. Past
    /// [`LoopConfig::max_events`] the event is not kept and the world is
    /// marked overflowed: the run ends at the next budget check.
    pub(crate) fn record(&self, kind: EventKind) {
        if self.world.config.record_trace {
            let mut trace = self.world.trace.borrow_mut();
            if !self.may_record(trace.len()) {
                return;
            }
            trace.push(Event {
                iteration: self.stamp(),
                time: self.world.clock.get(),
                kind,
            });
            drop(trace);
            self.record_source();
        }
    }

    /// Whether an event may be recorded now; if not (past
    /// [`LoopConfig::max_events`]), the world is marked overflowed.
    #[inline]
    fn may_record(&self, recorded: u64) -> bool {
        if recorded >= self.world.config.max_events || self.world.budget_spent.get() {
            self.world.events_overflowed.set(true);
            return false;
        }
        true
    }

    /// `call name=NAME`, as a callback starts: no [`EventKind`] built, the
    /// name not cloned (see `recorder/mod.rs`).
    #[inline(always)]
    pub(crate) fn record_call(&self, name: &Rc<str>) {
        if !self.try_record_call(name) {
            self.record_call_long(name);
        }
    }

    /// [`record_call`](LoopInner::record_call) by the recorder's short
    /// path, if it may: whether it did. A leaf function: it calls nothing,
    /// so it saves no registers, and its caller's are not spilled for it.
    #[inline(never)]
    fn try_record_call(&self, name: &Rc<str>) -> bool {
        self.try_short(|trace, iteration, now| trace.try_call(iteration, now, name))
    }

    /// What the short paths share: not while a `main` statement stamps
    /// events (their iteration is another loop's), nor while the trace is
    /// borrowed (the long path says so).
    #[inline(always)]
    fn try_short(&self, keep: impl FnOnce(&mut recorder::Recorder, u64, i64) -> bool) -> bool {
        let world = &*self.world;
        if world.stamping.get() {
            return false;
        }
        let Ok(mut trace) = world.trace.try_borrow_mut() else {
            return false;
        };
        keep(&mut trace, self.iteration.get(), world.clock.get())
    }

    /// [`record_call`](LoopInner::record_call) past the short path: the
    /// budget, a sink, the source tag, a statement's stamp, a new name.
    #[inline(never)]
    fn record_call_long(&self, name: &Rc<str>) {
        let mut trace = self.world.trace.borrow_mut();
        if !self.may_record(trace.len()) {
            return;
        }
        trace.push_call(self.stamp(), self.world.clock.get(), name);
        drop(trace);
        self.record_source();
    }

    /// `step task=NAME`, recorded from the task's own name (a default
    /// `Task-N` is never written out for a kept trace).
    #[inline(always)]
    pub(crate) fn record_step(&self, task: &crate::future::Name) {
        if !self.try_record_step(task) {
            self.record_named(task, |trace, stamp, now, name| {
                trace.push_step(stamp, now, name)
            });
        }
    }

    /// [`record_step`](LoopInner::record_step) by the short path, if it
    /// may (a leaf, as [`try_record_call`](LoopInner::try_record_call)).
    #[inline(never)]
    fn try_record_step(&self, task: &crate::future::Name) -> bool {
        let Some(name) = task.as_name_ref() else {
            return false;
        };
        self.try_short(|trace, iteration, now| trace.try_step(iteration, now, name))
    }

    /// `done name=NAME state=… [value=…]`, likewise.
    pub(crate) fn record_done(
        &self,
        future: &crate::future::Name,
        state: crate::trace::DoneState,
        value: Option<crate::value::Value>,
    ) {
        use crate::value::Value;
        let code = match value {
            None => Some(0),
            Some(Value::None) => Some(1),
            Some(_) => None,
        };
        if let (Some(code), Some(name)) = (code, future.as_name_ref()) {
            let short = |trace: &mut recorder::Recorder, iteration, now| {
                trace.try_done(iteration, now, name, state, code)
            };
            if self.try_short(short) {
                return;
            }
        }
        self.record_named(future, |trace, stamp, now, name| {
            trace.push_done(stamp, now, name, state, value)
        });
    }

    /// Records one event about a named future or task with `push`, if the
    /// trace is on, the future has a name and the event budget allows.
    #[inline(always)]
    fn record_named(
        &self,
        named: &crate::future::Name,
        push: impl FnOnce(&mut recorder::Recorder, u64, i64, NameRef<'_>),
    ) {
        if !self.world.config.record_trace {
            return;
        }
        let Some(name) = named.as_name_ref() else {
            return;
        };
        let mut trace = self.world.trace.borrow_mut();
        if !self.may_record(trace.len()) {
            return;
        }
        push(&mut trace, self.stamp(), self.world.clock.get(), name);
        drop(trace);
        self.record_source();
    }

    /// [`record`](LoopInner::record) even past the event budget: for the
    /// `budget` event that ends a run.
    pub(crate) fn record_past_budget(&self, kind: EventKind) {
        if self.world.config.record_trace {
            self.world.trace.borrow_mut().push(Event {
                iteration: self.stamp(),
                time: self.world.clock.get(),
                kind,
            });
            self.record_source();
        }
    }

    /// The event just recorded gets the current source tag, when states
    /// are recorded (`EventLoop::sources`).
    #[inline]
    fn record_source(&self) {
        if self.world.config.record_state {
            self.push_source();
        }
    }

    #[inline(never)]
    fn push_source(&self) {
        self.world
            .sources
            .borrow_mut()
            .push(self.world.source.get());
    }

    /// The iteration an event recorded by this loop carries: this loop's
    /// count, except while a `main` statement runs outside any pass, whose
    /// every event (a `done` of another loop's future included) carries
    /// the count of the loop the statement acts on.
    #[inline(always)]
    fn stamp(&self) -> u64 {
        if self.world.stamping.get() {
            return self.statement_stamp();
        }
        self.iteration.get()
    }

    /// [`stamp`](LoopInner::stamp) while a `main` statement runs.
    #[inline(never)]
    fn statement_stamp(&self) -> u64 {
        if let Some(lp) = self.world.statement_loop.borrow().upgrade() {
            return lp.iteration.get();
        }
        self.iteration.get()
    }

    pub(crate) fn now(&self) -> i64 {
        self.world.clock.get()
    }

    /// One more object pending (a callback, a timer, a task): it spends
    /// one of the budget checks sure to pass (`over_budget`).
    #[inline(always)]
    pub(crate) fn grew(&self) {
        self.budget_headroom
            .set(self.budget_headroom.get().saturating_sub(1));
    }

    /// `cb` in a new slot at the tail of the ready queue: its slot and
    /// sequence number.
    fn enqueue_ready(&self, cb: Callback) -> (u32, u64) {
        let seq = self.world.next_seq();
        let mut queues = self.queues.borrow_mut();
        let slot = queues.slots.insert(seq, cb, 0);
        queues.ready.push_back(slot);
        self.grew();
        self.report(|| Probe::ReadyAppended { seq });
        (slot, seq)
    }

    /// `cb` in a new slot, as a timer due at `when`: its slot and sequence
    /// number.
    fn enqueue_timer(&self, when: i64, cb: Callback) -> (u32, u64) {
        let seq = self.world.next_seq();
        let mut queues = self.queues.borrow_mut();
        let queues = &mut *queues;
        let slot = queues.slots.insert(seq, cb, IN_TIMERS);
        self.grew();
        let mut key = 0;
        if self.world.config.tie_break == crate::TieBreak::Random {
            key = self.world.tie_break_key();
            queues.slots.set_tie_key(slot, key);
        }
        queues.timers.push(TimerEntry { when, slot }, &queues.slots);
        self.report(|| Probe::TimerPushed { seq, when, key });
        (slot, seq)
    }
}

/// Scheduling on a closed loop: `cb` is dropped, and the call fails.
#[cold]
fn refuse<T>(cb: Callback) -> Result<T, Error> {
    drop(cb);
    Err(Error::Closed)
}

impl Default for EventLoop {
    fn default() -> Self {
        EventLoop::new()
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("id", &self.inner.id)
            .field("time", &self.now())
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl PartialEq for EventLoop {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl EventLoop {
    /// A loop with the default [`LoopConfig`] on a clock of its own.
    pub fn new() -> EventLoop {
        EventLoop::with_config(LoopConfig::default())
    }

    /// A loop with `config` on a clock of its own.
    pub fn with_config(config: LoopConfig) -> EventLoop {
        EventLoop::in_world(Rc::new(World::new(config)))
    }

    fn in_world(world: Rc<World>) -> EventLoop {
        let id = world.loops_made.get();
        world.loops_made.set(id + 1);
        let policy = world.config.tie_break;
        EventLoop {
            inner: Rc::new(LoopInner {
                world,
                id,
                queues: RefCell::new(Queues {
                    ready: FifoVec::default(),
                    timers: TimerQueue::new(policy),
                    slots: Slots::default(),
                }),
                timer_cancelled_count: Cell::new(0),
                stopping: Cell::new(false),
                running: Cell::new(false),
                closed: Cell::new(false),
                iteration: Cell::new(0),
                callbacks_run: Cell::new(0),
                live_tasks: Cell::new(0),
                budget_headroom: Cell::new(0),
                unfinished: RefCell::new(TaskRegistry::default()),
                step: StepContext::default(),
                tasks: RefCell::new(Vec::new()),
            }),
        }
    }

    /// Another loop on the same virtual clock, trace and seed (as all of a
    /// program's asyncio loops share `time.monotonic`). Its iterations are
    /// counted apart.
    pub fn new_event_loop(&self) -> EventLoop {
        EventLoop::in_world(self.inner.world.clone())
    }

    /// The configuration this loop was built with.
    pub fn config(&self) -> &LoopConfig {
        &self.inner.world.config
    }

    /// Whose asyncio this loop is ([`LoopConfig::python`]).
    pub fn python(&self) -> crate::Python {
        self.inner.world.config.python
    }

    // ----- time -------------------------------------------------------

    /// `loop.time()`: virtual seconds.
    pub fn time(&self) -> f64 {
        self.now().as_secs_f64()
    }

    /// The virtual clock as an exact instant.
    pub fn now(&self) -> Instant {
        Instant(self.inner.now())
    }

    /// `_run_once` passes so far (0 before the first).
    pub fn iteration(&self) -> u64 {
        self.inner.iteration.get()
    }

    // ----- state ------------------------------------------------------

    /// `loop.is_running()`.
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }

    /// `loop.is_closed()`.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// `loop.stop()`: `run_forever` returns at the end of the current
    /// batch; if the loop is not running, the next `run_forever` runs one
    /// batch and returns.
    pub fn stop(&self) {
        self.inner.stopping.set(true);
        self.inner.record(EventKind::Stop);
        self.inner.report(|| Probe::Stop);
    }

    /// `loop.close()`: drops everything scheduled. Fails on a running loop;
    /// closing twice does nothing.
    pub fn close(&self) -> Result<(), Error> {
        if self.is_running() {
            return self.fail(Error::CloseRunning);
        }
        if self.inner.closed.replace(true) {
            return Ok(());
        }
        self.inner.report(|| Probe::Closed);
        let callbacks: Vec<Callback> = {
            let mut guard = self.inner.queues.borrow_mut();
            let queues = &mut *guard;
            let ready = queues.ready.take_all().into_iter();
            let timers = queues.timers.drain().into_iter().map(|t| t.slot);
            ready
                .chain(timers)
                .filter_map(|slot| queues.slots.discard(slot))
                .collect()
        };
        // Dropping callbacks may drop tasks and futures: outside the borrow.
        drop(callbacks);
        Ok(())
    }

    // ----- scheduling -------------------------------------------------

    /// `loop.call_soon(cb)`: runs `cb` in the next batch, after everything
    /// already ready. Recorded as `call name=callback`.
    pub fn call_soon<F, R>(&self, cb: F) -> Result<Handle, Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.schedule(None, callback::unnamed(cb))
    }

    /// [`call_soon`](EventLoop::call_soon) with the name the trace records.
    pub fn call_soon_named<F, R>(&self, name: impl Into<Rc<str>>, cb: F) -> Result<Handle, Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.schedule(None, callback::named(name.into(), cb))
    }

    /// `loop.call_later(delay, cb)`: a timer due `delay` from now. A negative
    /// delay is a deadline in the past: due at once, still in deadline order.
    pub fn call_later<F, R>(&self, delay: impl IntoNanos, cb: F) -> Result<Handle, Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.schedule(Some(self.deadline_after(delay)), callback::unnamed(cb))
    }

    /// [`call_later`](EventLoop::call_later) with the name the trace records.
    pub fn call_later_named<F, R>(
        &self,
        delay: impl IntoNanos,
        name: impl Into<Rc<str>>,
        cb: F,
    ) -> Result<Handle, Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        let when = self.deadline_after(delay);
        self.schedule(Some(when), callback::named(name.into(), cb))
    }

    /// The deadline `delay` from now, saturating at the ends of the clock.
    pub(crate) fn deadline_after(&self, delay: impl IntoNanos) -> i64 {
        self.inner.now().saturating_add(delay.into_nanos())
    }

    /// `loop.call_at(when, cb)`: a timer due at the absolute time `when`
    /// (seconds as `f64`, or an [`Instant`]).
    pub fn call_at<F, R>(&self, when: impl IntoNanos, cb: F) -> Result<Handle, Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.schedule(Some(when.into_nanos()), callback::unnamed(cb))
    }

    /// [`call_at`](EventLoop::call_at) with the name the trace records.
    pub fn call_at_named<F, R>(
        &self,
        when: impl IntoNanos,
        name: impl Into<Rc<str>>,
        cb: F,
    ) -> Result<Handle, Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.schedule(Some(when.into_nanos()), callback::named(name.into(), cb))
    }

    /// Schedules `cb` (at `when`, or soon) and returns its handle: the
    /// user's `call_soon` and friends, so a refusal is recorded here. Inlined
    /// into them, so a handle the caller drops at once is never copied, and
    /// `when` picks the queue at compile time.
    #[inline(always)]
    pub(crate) fn schedule(&self, when: Option<i64>, cb: Callback) -> Result<Handle, Error> {
        match self.enqueue(when, cb) {
            Ok((slot, seq)) => Ok(Handle::new(Rc::downgrade(&self.inner), slot, seq, when)),
            // The `Err` is built here, not by `fail`: a `Result` that one
            // out-of-line call filled went through memory, and the caller
            // that drops the handle could no longer see it was fresh
            // (W1: +24 instructions per `call_soon`).
            Err(error) => Err(self.refused(error)),
        }
    }

    /// Schedules `cb` for the loop's own use: see [`SlotRef`]. A refusal
    /// is returned, not recorded (see [`enqueue`](EventLoop::enqueue)).
    pub(crate) fn schedule_ref(&self, when: Option<i64>, cb: Callback) -> Result<SlotRef, Error> {
        let (slot, seq) = self.enqueue(when, cb)?;
        Ok(SlotRef::new(slot, seq))
    }

    /// Schedules `cb` with no handle to it: nothing can cancel it. A
    /// refusal is returned, not recorded (see [`enqueue`](EventLoop::enqueue)).
    pub(crate) fn schedule_detached(&self, when: Option<i64>, cb: Callback) -> Result<(), Error> {
        self.enqueue(when, cb).map(drop)
    }

    /// `schedule_detached(None, cb)` for code that holds only the loop's
    /// inner part (a waiter waking its task): the same check and queue.
    #[inline]
    pub(crate) fn soon_detached(inner: &LoopInner, cb: Callback) -> Result<(), Error> {
        if inner.closed.get() {
            return refuse(cb);
        }
        inner.enqueue_ready(cb);
        Ok(())
    }

    /// Puts `cb` in a new slot, and the slot in the ready queue or the
    /// timer queue. Returns the slot and its sequence number.
    ///
    /// On a closed loop `cb` is dropped and the call fails with
    /// [`Error::Closed`], which is *not* recorded here: a refusal deep in a
    /// future's `set_result` or a task's `cancel` is one failing call of
    /// the user's, recorded once, by whoever the user called (and, for a
    /// scenario statement, stamped by the loop the statement acts on).
    #[inline(always)]
    fn enqueue(&self, when: Option<i64>, cb: Callback) -> Result<(u32, u64), Error> {
        if self.is_closed() {
            return refuse(cb);
        }
        Ok(match when {
            None => self.inner.enqueue_ready(cb),
            Some(when) => self.inner.enqueue_timer(when, cb),
        })
    }

    /// [`fail`](EventLoop::fail) for `schedule`: the error, recorded or
    /// caught as `fail` does.
    #[cold]
    #[inline(never)]
    fn refused(&self, error: Error) -> Error {
        match self.fail::<()>(error) {
            Err(error) => error,
            Ok(()) => unreachable!("fail always fails"),
        }
    }

    /// Records a failed loop call as an `error` event and returns it;
    /// under [`catching`](EventLoop::catching), keeps it for the `try`
    /// instead (only the first: Python's `try` stops at it).
    pub(crate) fn fail<T>(&self, error: Error) -> Result<T, Error> {
        let mut catch = self.inner.world.catch.borrow_mut();
        match catch.as_mut() {
            Some(caught) => drop(caught.get_or_insert_with(|| error.clone())),
            None => {
                drop(catch);
                self.inner.record(EventKind::Error {
                    message: error.to_string().into(),
                });
            }
        }
        Err(error)
    }

    /// Runs `statement` (one that does not await) as a scenario's `try`
    /// runs it: a failing call in it is not recorded as an `error` event
    /// but returned, the first one only, for the `try` to catch.
    pub(crate) fn catching<R>(&self, statement: impl FnOnce() -> R) -> (R, Option<Error>) {
        let world = &self.inner.world;
        let outer = world.catch.replace(Some(None));
        let result = statement();
        let caught = std::mem::replace(&mut *world.catch.borrow_mut(), outer).flatten();
        (result, caught)
    }

    // ----- futures and tasks -----------------------------------------

    /// Whether a future or task belongs to this loop (CPython's
    /// `futures._get_loop(fut) is loop`).
    pub(crate) fn owns(&self, waitable: &dyn Waitable) -> bool {
        waitable.home() == Rc::as_ptr(&self.inner) as *const ()
    }

    /// `loop.create_future()`: a pending future on this loop, not recorded
    /// in the trace.
    pub fn create_future<T: Clone + std::fmt::Debug + 'static>(&self) -> Future<T> {
        Future::new(self, None)
    }

    /// A future whose completion the trace records as `done name=…`.
    pub fn create_future_named<T: Clone + std::fmt::Debug + 'static>(
        &self,
        name: impl Into<Rc<str>>,
    ) -> Future<T> {
        Future::new(self, Some(name.into()))
    }

    /// `loop.create_task(coro)`: wraps a Rust `async` block in a task named
    /// `Task-N` and schedules its first step with `call_soon`. As in CPython,
    /// only tasks without a name of their own take a number, in the order
    /// they are made; the count is per world (the loops sharing a clock and
    /// a trace), where CPython's is per process.
    ///
    /// The block returns `Result<T, Error>`: `Err(Error::Cancelled)` cancels
    /// the task, any other `Err` is its exception.
    pub fn create_task<T, F>(&self, coro: F) -> Result<Task<T>, Error>
    where
        T: Clone + std::fmt::Debug + 'static,
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        self.spawn(None, coro)
    }

    /// [`create_task`](EventLoop::create_task) with the name the trace records.
    pub fn create_task_named<T, F>(
        &self,
        name: impl Into<Rc<str>>,
        coro: F,
    ) -> Result<Task<T>, Error>
    where
        T: Clone + std::fmt::Debug + 'static,
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        self.spawn(Some(name.into()), coro)
    }

    fn spawn<T, F>(&self, name: Option<Rc<str>>, coro: F) -> Result<Task<T>, Error>
    where
        T: Clone + std::fmt::Debug + 'static,
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        if self.is_closed() {
            return self.fail(Error::Closed);
        }
        let name = match name {
            Some(name) => Name::given(name),
            None => Name::task(self.inner.world.next_task_number()),
        };
        Task::spawn(self, name, coro)
    }

    // ----- trace ------------------------------------------------------

    /// Records `log TEXT`.
    pub fn log(&self, text: impl Into<Rc<str>>) {
        self.inner.record(EventKind::Log { text: text.into() });
    }

    /// Runs `statement`, one statement of a scenario's `main`, acting on
    /// this loop: every event it records outside a pass is stamped with
    /// this loop's count (the contract's rule for `main`); the passes of a
    /// loop it runs stamp their own. Statements of bodies run inside
    /// passes and are not wrapped.
    pub(crate) fn run_statement<R>(&self, statement: impl FnOnce() -> R) -> R {
        let world = &self.inner.world;
        let outer = world.statement_loop.replace(Rc::downgrade(&self.inner));
        let was = world.stamping.replace(true);
        let result = statement();
        world.stamping.set(was);
        *world.statement_loop.borrow_mut() = outer;
        result
    }

    /// Records any event, stamped with this loop's iteration and the clock.
    pub fn record(&self, kind: EventKind) {
        self.inner.record(kind);
    }

    /// The trace so far, of this loop and every loop sharing its clock
    /// (empty once [`stream_trace`](EventLoop::stream_trace) was called).
    pub fn trace(&self) -> Vec<Event> {
        self.inner.world.trace.borrow().kept()
    }

    /// Hands every event from now on to `sink` as it is recorded, instead
    /// of keeping it for [`trace`](EventLoop::trace) (events kept so far
    /// go to `sink` first): a run's memory then does not grow with its
    /// trace. `sink` runs while the trace is borrowed, so it must not call
    /// the loop. Shared by every loop of the world, as the trace is.
    pub fn stream_trace(&self, sink: impl FnMut(&Event) + 'static) {
        self.inner.world.trace.borrow_mut().stream(Box::new(sink));
    }

    /// How many events were recorded so far, kept or streamed.
    pub fn events_recorded(&self) -> u64 {
        self.inner.world.trace.borrow().len()
    }

    /// The first failure recorded (`check_failed`, `invariant_violated`,
    /// `budget`), kept or streamed.
    pub fn first_failure(&self) -> Option<Event> {
        self.inner.world.trace.borrow().first_failure().cloned()
    }

    /// Tags the events recorded from now on with `source` (a scenario sets
    /// the byte offset of the statement it runs, plus one; 0 is none), when
    /// [`LoopConfig::record_state`] is on. The loop sets 0 before each
    /// callback it runs, and gives a driver's events the tag it was called
    /// with.
    pub fn set_source(&self, source: u32) {
        self.inner.world.source.set(source);
    }

    /// Each event's source tag, one per event of [`trace`](EventLoop::trace)
    /// (empty unless [`LoopConfig::record_state`]).
    pub fn sources(&self) -> Vec<u32> {
        self.inner.world.sources.borrow().clone()
    }

    /// Takes the source tags so far, leaving none.
    pub fn take_sources(&self) -> Vec<u32> {
        std::mem::take(&mut *self.inner.world.sources.borrow_mut())
    }

    /// Takes the trace so far, leaving it empty.
    pub fn take_trace(&self) -> Vec<Event> {
        self.inner.world.trace.borrow_mut().take()
    }

    /// The choices a tie-order script made so far (empty when the config
    /// has no [`tie_order`](LoopConfig::tie_order)), shared by sibling loops.
    pub fn tie_decisions(&self) -> Vec<crate::tie_break::TieDecision> {
        self.inner
            .world
            .tie_script
            .as_ref()
            .map_or_else(Vec::new, |s| s.borrow().made.clone())
    }

    /// A duration in `[low, high]` nanoseconds drawn from the program's
    /// seeded stream (a scenario's `rand(A, B)`).
    pub fn random_nanos(&self, low: i64, high: i64) -> i64 {
        let (low, high) = if low <= high {
            (low, high)
        } else {
            (high, low)
        };
        self.inner
            .world
            .program_rng
            .borrow_mut()
            .in_range(low, high)
    }
}
