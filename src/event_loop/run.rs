//! `_run_once` and the drivers built on it, as CPython 3.11 has them.
//!
//! One pass (`BaseEventLoop._run_once`):
//! 1. Drop cancelled timers: all of them when more than half of more than
//!    100 are cancelled (the queue is compacted and re-heapified), otherwise
//!    only those at the head.
//! 2. Wait: 0 if anything is ready or the loop is stopping, else until the
//!    earliest deadline, at most 86,400 s. Here waiting *is* advancing the
//!    virtual clock (plus jitter, if configured). Nothing ready and no timer:
//!    the loop would block forever, so the pass reports idle.
//! 3. Move every timer with `deadline <= now` to the ready queue, in queue order.
//!    Under a tie-order script (`LoopConfig::tie_order`, for exhaustive
//!    exploration) each group of equal deadlines goes in the script's order
//!    instead (`order_ties`); the queue itself is unchanged.
//! 4. Run the callbacks that were ready when the batch began, FIFO, skipping
//!    cancelled ones. What they schedule waits for the next pass.

use super::callback::{Label, Shows};
use super::config::Budget;
use super::slots::{Slots, CANCELLED, IN_TIMERS};
use super::{EventLoop, LoopInner, Queues};
use crate::error::Error;
use crate::future::Awaitable;
use crate::invariant::Probe;
use crate::time::MAXIMUM_SELECT_TIMEOUT;
use crate::timer_queue::TimerEntry;
use crate::trace::{Driver, EventKind};
use crate::value::TraceValue;
use std::rc::Rc;

/// How many timers ahead [`warm_next_timers`](LoopInner::warm_next_timers)
/// starts loading a timer's slot. One timer ahead is too close on a loop of
/// a million timers: the slot is a miss to memory and a page walk, longer
/// than one callback runs (W3 1M: 137-159 ns a timer one ahead, 106-122
/// eight ahead; 8, 16 and 32 measured the same).
const PREFETCH_DEPTH: usize = 16;

/// How many timers ahead it asks a timer's callback to warm what it will
/// touch (a sleeping task's memory, a page walk away on a loop of 100k
/// tasks): four (W4: 188 -> 170 ns a sleep), from a slot loaded twelve
/// timers before. Warming four ahead with the slots loaded only eight
/// ahead made W3 1M slower (78 -> 93 ns): reading a slot still on its way
/// stalls the pass that the prefetch was meant to spare.
const WARM_DEPTH: usize = 4;

/// CPython's `_MIN_SCHEDULED_TIMER_HANDLES`.
const MIN_SCHEDULED_TIMER_HANDLES: usize = 100;

/// How [`EventLoop::run_forever`] ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ended {
    /// `stop()` was called: asyncio's only way out of `run_forever`.
    Stopped,
    /// Nothing was ready and no timer was left. CPython would block
    /// forever here; loopsim returns, after recording `idle`.
    Idle,
}

/// How a pass ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Ran,
    Idle,
    /// A budget ran out before one of its callbacks: the run ends.
    OverBudget(Budget),
    /// The ready queue ran out before the batch did: a nested driver ran
    /// this loop's callbacks meanwhile (CPython 3.13.0 lets one, see
    /// [`EventLoop::run_forever`]). CPython's `popleft` raises `IndexError`.
    EmptyDeque,
}

impl LoopInner {
    /// The budget that has run out, if any, checked before each callback
    /// of a batch: events (the trace overflowed), callbacks run, objects
    /// pending. This is on every callback's path, so the callback and
    /// pending budgets share one countdown, `budget_headroom`: while it is
    /// above zero neither can have run out, and a check costs a flag, a
    /// compare and a decrement; at zero the check is exact
    /// ([`over_budget_exactly`](LoopInner::over_budget_exactly)), which
    /// also refills it.
    #[inline(always)]
    fn over_budget(&self, queues: &Queues) -> Option<Budget> {
        if self.world.events_overflowed.get() {
            return Some(Budget::Events);
        }
        let (left, spent) = self.budget_headroom.get().overflowing_sub(1);
        self.budget_headroom.set(left);
        if spent {
            return self.over_budget_exactly(queues);
        }
        None
    }

    /// The callback and pending budgets, exactly, and a new headroom when
    /// neither ran out: how many more checks are sure to pass.
    ///
    /// Between two checks one callback runs (callbacks run: at most +1)
    /// and leaves the ready queue (pending: -1); what it schedules or
    /// spawns is pending too, and each of those takes one from the
    /// headroom (`LoopInner::grew`). So with `c` callbacks run and `p`
    /// pending now, `min(max_callbacks - c - 1, max_pending - p)` more
    /// checks are sure to pass: each one, and each thing made pending
    /// meanwhile, spends one of them.
    #[inline(never)]
    fn over_budget_exactly(&self, queues: &Queues) -> Option<Budget> {
        let config = &self.world.config;
        let run = self.callbacks_run.get();
        let pending = (queues.ready.len() + queues.timers.len()) as u64 + self.live_tasks.get();
        self.budget_headroom.set(0);
        if run >= config.max_callbacks {
            Some(Budget::Callbacks)
        } else if pending > config.max_pending {
            Some(Budget::Pending)
        } else {
            let callbacks = config.max_callbacks - run - 1;
            self.budget_headroom
                .set(callbacks.min(config.max_pending - pending));
            None
        }
    }

    /// Records `budget reason=…` (past the event budget too: the trace
    /// always says why it ends) and gives the error that ends the run.
    #[cold]
    ///
    /// Only the first is recorded: a budget spent in a loop run from
    /// inside another's pass (CPython 3.13.0's failed nested `run_forever`)
    /// ends the outer runs too, each at its next check, silently.
    pub(crate) fn out_of_budget(&self, reason: Budget) -> Error {
        if !self.world.budget_spent.replace(true) {
            self.world.trace.borrow_mut().close_short_paths();
            self.record_past_budget(EventKind::Budget { reason });
        }
        self.world.events_overflowed.set(true);
        Error::BudgetExhausted
    }

    /// Whether this pass's sweep compacts the queue: more than half of
    /// more than 100 timers are cancelled.
    pub(super) fn compacts(&self, timers: usize) -> bool {
        // `cancelled / count > 0.5`, in integers.
        timers > MIN_SCHEDULED_TIMER_HANDLES && 2 * self.timer_cancelled_count.get() > timers
    }

    /// What a pass's start tells the checker and the state's record
    /// (`World::pass_hooks`): out of line, off the common path.
    #[inline(never)]
    fn pass_started(&self) {
        self.report(|| Probe::PassStart {
            iteration: self.iteration.get(),
            now: self.now(),
        });
        if self.world.config.record_state {
            self.snapshot();
        }
    }

    /// Step 1: drop cancelled timers, as `_run_once` does.
    fn sweep_cancelled_timers(&self) {
        let mut guard = self.queues.borrow_mut();
        let queues = &mut *guard;
        let compact = self.compacts(queues.timers.len());
        let head_cancelled = queues
            .timers
            .peek()
            .is_some_and(|t| queues.slots.get(t.slot).is(CANCELLED));
        if !compact && !head_cancelled {
            return; // the common case: nothing to drop
        }
        let dropped = if compact {
            self.timer_cancelled_count.set(0);
            let slots = &queues.slots;
            queues
                .timers
                .remove_cancelled(slots, |id| slots.get(id).is(CANCELLED))
        } else {
            let mut dropped = Vec::new();
            while let Some(head) = queues
                .timers
                .peek()
                .filter(|t| queues.slots.get(t.slot).is(CANCELLED))
            {
                self.timer_cancelled_count
                    .set(self.timer_cancelled_count.get().saturating_sub(1));
                queues.timers.pop(&queues.slots);
                dropped.push(head);
            }
            dropped
        };
        // A cancelled slot has no callback left, except under the
        // `RunCancelled` mutant: whatever is left is dropped after the borrow.
        let mut leftovers = Vec::new();
        for entry in &dropped {
            let seq = queues.slots.get(entry.slot).seq();
            leftovers.extend(queues.slots.dequeue(entry.slot));
            self.report(|| Probe::TimerDropped { seq });
        }
        drop(guard);
        drop(leftovers);
    }

    /// Step 2: how long the pass waits, `None` for forever.
    fn wait(&self) -> Option<i64> {
        let queues = self.queues.borrow();
        if self.stopping.get() || !queues.ready.is_empty() {
            return Some(0);
        }
        let head = queues.timers.peek()?.when;
        Some(
            head.saturating_sub(self.now())
                .clamp(0, MAXIMUM_SELECT_TIMEOUT),
        )
    }

    /// Waiting `wait > 0` ns on a virtual clock: time jumps.
    fn advance_clock(&self, wait: i64) {
        let jitter = self.world.config.jitter_nanos;
        let late = if jitter > 0 {
            self.world.jitter_rng.borrow_mut().in_range(0, jitter)
        } else {
            0
        };
        #[allow(unused_mut)]
        let mut by = wait.saturating_add(late);
        #[cfg(feature = "mutants")]
        if self.world.config.mutant == Some(crate::mutant::Mutant::TimerEarly) {
            by -= 1;
        }
        let from = self.now();
        let to = from.saturating_add(by);
        self.world.clock.set(to);
        self.report(|| Probe::ClockAdvanced { from, to });
    }

    /// Step 3: every due timer to the ready queue.
    /// `RECORD`: the loop's state is recorded (`config.record_state`),
    /// which learns the clock after the wait and the due timers in order.
    /// A parameter, so that the common case compiles without it.
    fn collect_due_timers<const RECORD: bool>(&self) {
        #[allow(unused_mut)]
        let mut due_until = self.now();
        #[cfg(feature = "mutants")]
        if self.world.config.mutant == Some(crate::mutant::Mutant::TimerEarly) {
            due_until += 1;
        }
        let now = self.now();
        let scripted = self.world.tie_script.is_some();
        let mut guard = self.queues.borrow_mut();
        let queues = &mut *guard;
        if queues.timers.peek().is_none_or(|t| t.when > due_until) {
            drop(guard);
            if RECORD {
                self.snapshot_due(&[]);
            }
            return; // the common case: nothing due
        }
        let mut seen = Vec::new();
        let mut due = Vec::new();
        while let Some(entry) = queues.timers.peek().filter(|t| t.when <= due_until) {
            queues.timers.pop(&queues.slots);
            let slot = queues.slots.get_mut(entry.slot);
            slot.clear(IN_TIMERS);
            let seq = slot.seq();
            self.report(|| Probe::TimerDue {
                seq,
                when: entry.when,
                key: queues.slots.tie_key(entry.slot),
                now,
            });
            if scripted {
                due.push(entry);
            } else {
                if RECORD {
                    seen.push(entry);
                }
                self.make_ready(queues, entry);
            }
        }
        if scripted {
            for entry in self.order_ties(due, &queues.slots) {
                if RECORD {
                    seen.push(entry);
                }
                self.make_ready(queues, entry);
            }
        }
        self.warm_next_timers(queues);
        if RECORD {
            drop(guard);
            self.snapshot_due(&seen);
        }
    }

    /// Prefetches, as a pipeline: the slot of the timer
    /// [`PREFETCH_DEPTH`] places back starts loading now (and the one after
    /// next, which a timer pushed since may have missed); the timer
    /// [`WARM_DEPTH`] places back, whose slot was loaded this way, names
    /// the memory its callback will touch (a sleeping task: see
    /// `Scheduled::warm`), and the next one names it again, for the nearest
    /// cache. On a loop with many timers each of those is otherwise a cache
    /// miss, or a TLB miss. Only the hardware sees this: nothing observable
    /// changes.
    fn warm_next_timers(&self, queues: &mut Queues) {
        let (timers, slots) = (&mut queues.timers, &queues.slots);
        let warm = |entry: Option<TimerEntry>| {
            if let Some(callback) = entry.and_then(|e| slots.get(e.slot).callback.as_ref()) {
                callback.warm();
            }
        };
        let load = |entry: Option<TimerEntry>| {
            if let Some(entry) = entry {
                crate::prefetch::prefetch(slots.get(entry.slot));
            }
        };
        warm(timers.peek());
        load(timers.peek_ahead(1, slots));
        warm(timers.peek_ahead(WARM_DEPTH, slots));
        load(timers.peek_ahead(PREFETCH_DEPTH, slots));
    }

    #[inline(always)]
    fn make_ready(&self, queues: &mut Queues, entry: TimerEntry) {
        let seq = queues.slots.get(entry.slot).seq();
        self.report(|| Probe::ReadyAppended { seq });
        queues.ready.push_back(entry.slot);
    }

    /// Under a tie-order script ([`LoopConfig::tie_order`]): the due timers
    /// (in deadline order) with each group of equal deadlines reordered by
    /// the script's choices.
    ///
    /// [`LoopConfig::tie_order`]: crate::LoopConfig::tie_order
    fn order_ties(&self, due: Vec<TimerEntry>, slots: &Slots) -> Vec<TimerEntry> {
        let Some(script) = &self.world.tie_script else {
            return due;
        };
        let mut script = script.borrow_mut();
        let mut out = Vec::with_capacity(due.len());
        let mut rest = due.into_iter().peekable();
        while let Some(first) = rest.next() {
            let when = first.when;
            let mut group = vec![first];
            while let Some(next) = rest.next_if(|e| e.when == when) {
                group.push(next);
            }
            group.sort_by_key(|e| slots.get(e.slot).seq());
            let (cancelled, mut live): (Vec<_>, Vec<_>) = group
                .into_iter()
                .partition(|e| slots.get(e.slot).is(CANCELLED));
            out.extend(cancelled);
            while live.len() > 1 {
                let i = script.choose(live.len());
                out.push(live.remove(i));
            }
            out.extend(live);
        }
        out
    }
}

/// `run_until_complete`'s done callback on its future (CPython's
/// `_run_until_complete_cb`): stops the loop.
struct StopOnDone;

impl super::callback::Scheduled for StopOnDone {
    const SHOWS: Shows = Shows::Nothing;

    fn label(&self) -> Label<'_> {
        Label::Internal
    }

    fn run(self, lp: &EventLoop) -> Result<(), Error> {
        lp.stop();
        Ok(())
    }

    fn describe(&self) -> std::rc::Rc<str> {
        "stop (run_until_complete)".into()
    }
}

/// asyncio's `finally` around `run_forever`: however the run ends, normally
/// or by a panic in a callback or a task (which goes on to the caller), the
/// loop is no longer running or stopping and the thread's running loop is
/// what it was before, so the loop and the thread's other loops stay usable.
struct Running<'a> {
    inner: &'a LoopInner,
    previous: Option<EventLoop>,
    stamping: bool,
    source: u32,
    catch: Option<Option<Error>>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let inner = self.inner;
        inner.world.source.set(self.source);
        inner.stopping.set(false);
        inner.running.set(false);
        inner.world.stamping.set(self.stamping);
        *inner.world.catch.borrow_mut() = self.catch.take();
        super::registry::set_running_loop(self.previous.take());
        if std::thread::panicking() {
            // The batch ended early: tell the checker, unless the panic came
            // from inside it (then its model is beyond repair anyway).
            let mut checker = inner.world.checker.try_borrow_mut();
            if let Ok(Some(checker)) = checker.as_deref_mut() {
                checker.observe(inner.id, &Probe::BudgetEnded);
                checker.observe(inner.id, &Probe::RunForeverReturned);
            }
        } else {
            inner.report(|| Probe::RunForeverReturned);
        }
    }
}

impl EventLoop {
    /// One `_run_once` pass.
    fn run_once(&self) -> Pass {
        let inner = &self.inner;
        inner.iteration.set(inner.iteration.get() + 1);
        if inner.world.pass_hooks {
            // One test per pass for both: off, a pass pays only this.
            inner.pass_started();
        }
        let (has_timers, ready) = {
            let queues = inner.queues.borrow();
            (queues.timers.peek().is_some(), queues.ready.len())
        };
        let batch = if has_timers {
            inner.sweep_cancelled_timers();
            let Some(wait) = inner.wait() else {
                return Pass::Idle;
            };
            if wait > 0 {
                // Waiting 0 moves nothing (jitter is only for real waits).
                inner.advance_clock(wait);
            }
            if inner.world.config.record_state {
                inner.collect_due_timers::<true>();
            } else {
                inner.collect_due_timers::<false>();
            }
            inner.queues.borrow().ready.len()
        } else if ready == 0 && !inner.stopping.get() {
            // No timer and nothing ready: a real loop would block forever.
            return Pass::Idle;
        } else {
            // Without timers there was nothing to sweep, wait for or collect
            // (the common case of a pass that only runs `call_soon` callbacks).
            ready
        };
        self.run_batch(batch)
    }

    /// Step 4: the `batch` callbacks ready when it began, in order. Before
    /// each, the budgets are checked: if one ran out, the batch ends there
    /// (what is left stays queued) and the budget is returned.
    fn run_batch(&self, batch: usize) -> Pass {
        let inner = &self.inner;
        #[allow(unused_mut)]
        let mut batch = batch;
        #[cfg(feature = "mutants")]
        let mutant = inner.world.config.mutant;
        // Read once for the batch (a callback cannot change them): a few
        // loads fewer per callback than `report` and `run_callback` make.
        let checking = inner.world.config.check_invariants;
        let tracing = inner.world.config.record_trace;
        if checking {
            inner.check(Probe::BatchStart { size: batch });
        }
        let mut i = 0;
        while i < batch {
            i += 1;
            let mut queues = inner.queues.borrow_mut();
            if let Some(reason) = inner.over_budget(&queues) {
                drop(queues);
                inner.report(|| Probe::BudgetEnded);
                return Pass::OverBudget(reason);
            }
            #[cfg(feature = "mutants")]
            let next = match mutant {
                Some(crate::mutant::Mutant::LifoReady) => queues.ready.pop_back(),
                _ => queues.ready.pop_front(),
            };
            #[cfg(not(feature = "mutants"))]
            let next = queues.ready.pop_front();
            let Some(slot) = next else {
                drop(queues);
                inner.report(|| Probe::BatchEmptied);
                return Pass::EmptyDeque;
            };
            let tag = queues.slots.get(slot);
            let (seq, skipped) = (tag.seq(), tag.is(CANCELLED));
            // A cancelled slot has no callback left (`cancel_ref` took it;
            // the `RunCancelled` mutant keeps it, so that it runs).
            let callback = queues.slots.dequeue(slot);
            drop(queues);
            if checking {
                inner.check(Probe::Run {
                    seq,
                    now: inner.now(),
                    skipped: skipped && callback.is_none(),
                });
            }
            if let Some(callback) = callback {
                inner.callbacks_run.set(inner.callbacks_run.get() + 1);
                if tracing {
                    self.run_traced(callback);
                } else {
                    // Neither `call` nor `exception` would be recorded: no
                    // label to read.
                    let _ = callback.run(self);
                }
            }
            #[cfg(feature = "mutants")]
            match mutant {
                Some(crate::mutant::Mutant::IgnoreBatchSnapshot) => {
                    batch = inner.queues.borrow().ready.len() + i
                }
                Some(crate::mutant::Mutant::StopMidBatch) if inner.stopping.get() => break,
                _ => {}
            }
        }
        if checking {
            inner.check(Probe::BatchEnd);
        }
        Pass::Ran
    }

    /// Runs one callback with the trace on: `call` first (unless loop
    /// machinery), then the body; an error it returns is recorded as
    /// `exception`. Inlined in the batch loop for all but named callbacks:
    /// an unnamed one's `call` is a few dozen instructions.
    #[inline(always)]
    fn run_traced(&self, callback: super::callback::Callback) {
        let inner = &self.inner;
        if inner.world.config.record_state {
            // A callback's events are its own, not the driver's.
            inner.world.source.set(0);
        }
        match callback.shows() {
            Shows::Named => return self.run_named(callback),
            Shows::Unnamed => inner.record_call(&inner.world.unnamed_callback),
            Shows::Nothing => {}
        }
        if let Err(error) = callback.run(self) {
            self.record_exception(inner.world.unnamed_callback.clone(), error);
        }
    }

    /// [`run_traced`](EventLoop::run_traced) for a named callback: its
    /// name is kept for an `exception`, as the callback is gone by then.
    #[inline(never)]
    fn run_named(&self, callback: super::callback::Callback) {
        let name = match callback.label() {
            Label::User(name) => name.clone(),
            Label::Unnamed | Label::Internal => self.inner.world.unnamed_callback.clone(),
        };
        self.inner.record_call(&name);
        if let Err(error) = callback.run(self) {
            self.record_exception(name, error);
        }
    }

    /// `exception name=NAME message=…`: a callback's body failed.
    #[cold]
    #[inline(never)]
    fn record_exception(&self, name: Rc<str>, error: Error) {
        self.inner.record(EventKind::Exception {
            name,
            message: error.to_string().into(),
        });
    }

    /// Whether the trace refused an event: it held
    /// [`LoopConfig::max_events`](crate::LoopConfig::max_events) already.
    pub fn trace_overflowed(&self) -> bool {
        self.inner.world.events_overflowed.get()
    }

    /// Ends a run for want of `reason`: records `budget reason=…` (even
    /// past the event budget) and gives [`Error::BudgetExhausted`]. The
    /// drivers do this themselves; a program that drives the loop its own
    /// way (as the scenario interpreter does between statements of `main`)
    /// calls it when it finds a budget spent.
    pub fn out_of_budget(&self, reason: Budget) -> Error {
        self.inner.out_of_budget(reason)
    }

    /// The checks `run_forever` makes before running: not closed, not
    /// running, no other loop running. A failure is recorded as `error`.
    pub fn check_can_run(&self) -> Result<(), Error> {
        if self.is_closed() {
            return self.fail(Error::Closed);
        }
        if self.is_running() {
            return self.fail(Error::AlreadyRunning);
        }
        if super::registry::get_running_loop().is_some() {
            return self.fail(Error::AnotherLoopRunning);
        }
        Ok(())
    }

    /// The body of `run_forever`, without the `returned` event.
    fn run_until_stopped(&self) -> Result<(), Error> {
        let inner = &self.inner;
        inner.running.set(true);
        let previous = super::registry::set_running_loop(Some(self.clone()));
        // Passes stamp their events with their own loop's count.
        let stamping = inner.world.stamping.replace(false);
        // The driver's own events (`budget`, `idle`, `returned`) belong to
        // the statement that called it, not to the last callback.
        let source = inner.world.source.get();
        // What the run changed is restored when it ends, by a panic too.
        let restore = Running {
            inner,
            previous,
            stamping,
            source,
            catch: inner.world.catch.take(),
        };
        let outcome = loop {
            if inner.iteration.get() >= inner.world.config.max_iterations {
                inner.world.source.set(source);
                break Err(inner.out_of_budget(Budget::Iterations));
            }
            let pass = self.run_once();
            if let Pass::OverBudget(reason) = pass {
                inner.world.source.set(source);
                break Err(inner.out_of_budget(reason));
            }
            if pass == Pass::EmptyDeque {
                break Err(Error::EmptyDeque);
            }
            if pass == Pass::Idle {
                inner.world.source.set(source);
                inner.record(EventKind::Idle);
            }
            if inner.world.events_overflowed.get() {
                inner.world.source.set(source);
                break Err(inner.out_of_budget(Budget::Events));
            }
            if pass == Pass::Idle {
                break Err(Error::Idle);
            }
            if inner.stopping.get() {
                break Ok(());
            }
        };
        drop(restore);
        match outcome {
            // CPython's `IndexError` leaves the driver after its `finally`.
            Err(Error::EmptyDeque) => self.fail(Error::EmptyDeque),
            other => other,
        }
    }

    /// CPython 3.13's `_run_forever_cleanup`, which its `run_forever` runs
    /// in a `finally` even when its checks failed: the loop is not
    /// stopping nor running any more, and no loop is running. From a
    /// callback of this loop, that lets a driver after the failed one run
    /// this loop again, nested in its own pass (scenario 37 under 3.13).
    fn run_forever_cleanup(&self) {
        self.inner.report(|| Probe::RunForeverCleanup);
        self.inner.stopping.set(false);
        self.inner.running.set(false);
        super::registry::set_running_loop(None);
    }

    /// `loop.run_forever()`: runs passes until `stop()`.
    ///
    /// Ends `Ok(Ended::Stopped)` after the batch in which `stop()` was
    /// called (recorded as `returned driver=run_forever`), and
    /// `Ok(Ended::Idle)` when nothing is ready and no timer is left
    /// (recorded as `idle`). That second end is loopsim's: CPython's
    /// `run_forever` would block forever there, waiting for I/O that a
    /// simulation never delivers, so the trace says `idle` and shows no
    /// `returned`. Ends `Err(`[`Error::BudgetExhausted`]`)` when the loop has
    /// made `max_iterations` passes, and fails at once, recording an `error`
    /// event, if the loop is closed or running, or another loop runs.
    ///
    /// Under CPython 3.13 a failed `run_forever` still runs its cleanup
    /// (`run_forever`'s `finally`): the loop stops stopping and running, and
    /// no loop runs any more (DESIGN.md, "Python versions").
    ///
    /// ```
    /// use loopsim::{new_event_loop, Ended, EventLoop};
    ///
    /// let lp = new_event_loop();
    /// lp.call_later(1.0, |lp: &EventLoop| lp.log("tick")).unwrap();
    /// assert_eq!(lp.run_forever(), Ok(Ended::Idle)); // ran out of work
    /// lp.call_soon(|lp: &EventLoop| lp.stop()).unwrap();
    /// assert_eq!(lp.run_forever(), Ok(Ended::Stopped));
    /// ```
    pub fn run_forever(&self) -> Result<Ended, Error> {
        if let Err(error) = self.check_can_run() {
            if self.python().at_least(crate::Python::V3_13) {
                self.run_forever_cleanup();
            }
            return Err(error);
        }
        match self.run_until_stopped() {
            Err(Error::Idle) => return Ok(Ended::Idle),
            outcome => outcome?,
        }
        self.inner.record(EventKind::Returned {
            driver: Driver::RunForever,
            value: None,
        });
        Ok(Ended::Stopped)
    }

    /// `loop.run_until_complete(future)`: runs until `future` (a
    /// [`Task`](crate::Task) or [`Future`](crate::Future)) is done and
    /// returns its result.
    ///
    /// The loop stops from the future's done callback, so it returns one
    /// pass after the future finished, as asyncio does. A future that raised
    /// or was cancelled gives its error, recorded as an `error` event.
    pub fn run_until_complete<T, A>(&self, future: &A) -> Result<T, Error>
    where
        T: Clone + std::fmt::Debug + 'static,
        A: Awaitable<T>,
    {
        self.check_can_run()?;
        let waitable = future.waitable();
        // `ensure_future(future, loop=self)`.
        if !self.owns(&*waitable) {
            return self.fail(Error::OtherLoopFuture);
        }
        let stop_on_done = waitable.add_done_callback(super::callback::machinery(StopOnDone))?;
        let identity = waitable.identity();
        let stops = &self.inner.world.stop_callbacks;
        stops.borrow_mut().push((identity, stop_on_done));
        let outcome = self.run_until_stopped();
        // `future.remove_done_callback(_run_until_complete_cb)` removes every
        // copy: also an outer `run_until_complete`'s of the same future, which
        // then never stops its loop (only CPython 3.13.0's failed nested
        // `run_forever` lets two be outstanding at once).
        let mine: Vec<u64> = {
            let mut stops = stops.borrow_mut();
            let mine = stops
                .iter()
                .filter(|s| s.0 == identity)
                .map(|s| s.1)
                .collect();
            stops.retain(|s| s.0 != identity);
            mine
        };
        for id in mine {
            waitable.remove_done_callback(id);
        }
        outcome?;
        #[allow(unused_mut)]
        let mut done = waitable.is_done();
        #[cfg(feature = "mutants")]
        if self.config().mutant == Some(crate::mutant::Mutant::ReturnEarly) {
            done = true;
        }
        if !done {
            self.inner.report(|| Probe::RunUntilCompleteReturned {
                ok: false,
                future_done: false,
            });
            return self.fail(Error::StoppedBeforeComplete);
        }
        self.inner.report(|| Probe::RunUntilCompleteReturned {
            ok: true,
            future_done: waitable.is_done(),
        });
        match future.try_result() {
            Ok(value) => {
                let traced = Some(value.trace_value());
                self.inner.record(EventKind::Returned {
                    driver: Driver::RunUntilComplete,
                    value: traced,
                });
                Ok(value)
            }
            Err(error) => self.fail(error),
        }
    }

    /// Wraps `coro` in a task and runs it to completion: asyncio's
    /// `run_until_complete(coro())`.
    pub fn block_on<T, F>(&self, coro: F) -> Result<T, Error>
    where
        T: Clone + std::fmt::Debug + 'static,
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        self.check_can_run()?;
        let task = self.create_task(coro)?;
        self.run_until_complete(&task)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Error, EventLoop, LoopConfig};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A loop with the given budgets, and the names of the callbacks it ran.
    fn budgeted(max_callbacks: u64, max_pending: u64) -> (EventLoop, Rc<RefCell<Vec<String>>>) {
        let lp = LoopConfig {
            max_callbacks,
            max_pending,
            ..LoopConfig::default()
        }
        .build();
        (lp, Rc::default())
    }

    fn ran(log: &Rc<RefCell<Vec<String>>>, name: &str) -> impl FnOnce(&EventLoop) + 'static {
        let (log, name) = (log.clone(), name.to_string());
        move |_: &EventLoop| log.borrow_mut().push(name)
    }

    #[test]
    fn what_a_callback_schedules_counts_at_the_very_next_check() {
        // Three ready, a budget of 5 pending: the first check leaves room
        // for two more; `a` then schedules ten, and the check before `b`
        // must see twelve pending, however much room the batch began with.
        let (lp, log) = budgeted(u64::MAX, 5);
        let spawn = log.clone();
        lp.call_soon(move |lp: &EventLoop| {
            spawn.borrow_mut().push("a".into());
            for _ in 0..10 {
                lp.call_soon(|_: &EventLoop| {}).unwrap();
            }
        })
        .unwrap();
        lp.call_soon(ran(&log, "b")).unwrap();
        lp.call_soon(ran(&log, "c")).unwrap();
        assert_eq!(lp.run_forever(), Err(Error::BudgetExhausted));
        assert_eq!(*log.borrow(), ["a"]);
        let last = lp.trace().last().map(|e| e.to_string());
        assert!(last.unwrap().ends_with("budget reason=pending"));
    }

    #[test]
    fn the_callback_budget_ends_a_run_before_the_callback_past_it() {
        for budget in 0..5 {
            let (lp, log) = budgeted(budget, u64::MAX);
            for name in ["a", "b", "c", "d"] {
                lp.call_soon(ran(&log, name)).unwrap();
            }
            let ended = lp.run_forever();
            let want: Vec<&str> = ["a", "b", "c", "d"]
                .into_iter()
                .take(budget as usize)
                .collect();
            assert_eq!(*log.borrow(), want, "max_callbacks {budget}");
            if budget < 4 {
                assert_eq!(ended, Err(Error::BudgetExhausted));
                // A loop whose budget is spent stays spent.
                assert_eq!(lp.run_forever(), Err(Error::BudgetExhausted));
            }
        }
    }
}
