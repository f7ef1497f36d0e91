//! asyncio tasks over Rust `async`: steps, wake-ups and cancellation.
//!
//! A task drives one `async` block with CPython's `Task.__step` protocol:
//!
//! * creating a task `call_soon`s its first step;
//! * a step polls the block once; it ends where the block awaits something
//!   not done yet. The awaitable says what that was: a bare `yield`
//!   (`sleep(0)`) `call_soon`s the next step; a future or task gets the
//!   task's wake-up as a done callback, so the next step runs one pass after
//!   it finishes;
//! * `Task::cancel` cancels what the task waits on (which wakes it with
//!   `CancelledError`), or, when it waits on nothing, marks it so that its
//!   next step delivers `CancelledError` at its suspension point — or, if it
//!   never started, finishes it cancelled without running its body.
//!
//! Rust has no `coro.throw`, so a loopsim awaitable ([`sleep()`],
//! [`yield_now`], awaiting a [`Future`](crate::Future) or [`Task`]) checks at
//! the start of each step for an exception sent to the task, and returns it
//! as `Err`. The body propagates it with `?`, as Python propagates
//! `CancelledError`; a body that swallows it goes on, as in Python.

use crate::error::Error;
use crate::event_loop::callback::{self, Callback, Label, Scheduled, Shows};
use crate::event_loop::{Blocked, CallbackResult, EventLoop, SlotRef, TaskView};
use crate::future::{Awaitable, FutureCore, Name, Wait, Waitable};
use crate::loop_state::Awaits;
use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

mod several;
mod sleep;
mod wait_for;
mod waker;
pub use sleep::{sleep, yield_now, Sleep, YieldNow};
pub use wait_for::wait_for;
pub(crate) use waker::with_stepping_loop;

/// A task and its body `F` (the `async` block), in one allocation: the
/// step that wakes a task reads both, and the body is not a box of its own.
pub(crate) struct TaskInner<T, F> {
    /// Also holds the task's name.
    future: FutureCore<T>,
    /// The body, pinned where it lies: see `poll_body`.
    body: RefCell<Option<F>>,
    started: Cell<bool>,
    /// CPython's `_must_cancel`.
    must_cancel: Cell<bool>,
    /// Inside `cancel`, passing it on to what the task waits on.
    cancelling_waiter: Cell<bool>,
    /// An exception for the next step other than cancellation.
    throw_next: Cell<Option<Error>>,
    /// CPython's `_fut_waiter`: what the task waits on.
    fut_waiter: Cell<Waiter>,
    /// The source tag (`EventLoop::set_source`) where the task last
    /// suspended: its next `step` event's, as the step resumes there. It
    /// fits in the padding after the flags: a task is no larger for it.
    resume_source: Cell<u32>,
    /// CPython's `_num_cancels_requested` (3.11+).
    num_cancels: Cell<u32>,
    /// Where the loop's registry of unfinished tasks holds this one.
    registered: Cell<u32>,
}

/// What combinators need of the task they run in (`current_task()`),
/// whatever its body.
pub(crate) trait TaskControl: Waitable {
    /// `task.cancelling()`.
    fn cancelling(&self) -> u32;
    /// `task.uncancel()`, per version.
    fn uncancel(&self) -> u32;
    /// `task.cancel()` (the `Rc`: see [`Waitable::cancel`]).
    fn cancel_task(self: Rc<Self>) -> Result<bool, Error>;
}

/// What [`Task`] and awaiting tasks need of a task, whatever its body.
trait TaskRef<T>: TaskControl {
    fn core(&self) -> &FutureCore<T>;
    fn name(&self) -> &Rc<str>;
    fn to_waitable(self: Rc<Self>) -> Rc<dyn Waitable>;
    /// Drops the pending done callbacks, the body and what it waits on.
    fn teardown(&self);
}

/// What a suspended task waits on (CPython's `_fut_waiter`).
#[derive(Clone, Default)]
enum Waiter {
    #[default]
    Nothing,
    /// A future or task; its done callback wakes the task.
    On(Rc<dyn Waitable>),
    /// A `sleep`'s timer, which wakes the task itself.
    Sleep(SlotRef),
    /// Several of these at once (see `several.rs`).
    Several(Rc<several::Several>),
}

/// An asyncio `Task` running a Rust `async` block that returns
/// `Result<T, Error>`.
///
/// Cheap to clone: clones are the same task. Await it from another task to
/// get its result.
pub struct Task<T>(Rc<dyn TaskRef<T>>);

impl<T> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task(self.0.clone())
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Task<T> {
    pub(crate) fn spawn<F>(lp: &EventLoop, name: Name, body: F) -> Result<Task<T>, Error>
    where
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        let inner = Rc::new(TaskInner {
            future: FutureCore::new(lp, name),
            body: RefCell::new(Some(body)),
            started: Cell::new(false),
            must_cancel: Cell::new(false),
            cancelling_waiter: Cell::new(false),
            throw_next: Cell::new(None),
            fut_waiter: Cell::new(Waiter::Nothing),
            resume_source: Cell::new(0),
            num_cancels: Cell::new(0),
            registered: Cell::new(u32::MAX),
        });
        lp.schedule_detached(None, inner.step_callback())?;
        lp.inner.live_tasks.set(lp.inner.live_tasks.get() + 1);
        lp.inner.grew();
        let weak = Rc::downgrade(&inner);
        let weak: std::rc::Weak<dyn crate::event_loop::Unlink> = weak;
        inner
            .registered
            .set(lp.inner.unfinished.borrow_mut().add(weak));
        if lp.config().record_state {
            let view: Rc<dyn TaskView> = inner.clone();
            lp.inner.register_task(Rc::downgrade(&view));
        }
        Ok(Task(inner))
    }

    /// The task's name (`Task-N` unless given).
    pub fn name(&self) -> &str {
        TaskRef::name(&*self.0)
    }

    /// `task.cancel()`: asks the task to finish with `CancelledError`.
    /// `false` if it is already done.
    ///
    /// On a closed loop, cancelling what the task waits on cannot schedule
    /// its wake-up: the failure is recorded as `error` (CPython's `cancel()`
    /// raises `Event loop is closed`) and the task stays pending.
    pub fn cancel(&self) -> bool {
        self.0.core().user_cancel(self.0.clone().to_waitable())
    }

    /// `task.cancelling()` (3.11+): how many cancels were requested and
    /// not yet taken back with [`uncancel`](Task::uncancel). `timeout` and
    /// `TaskGroup` use it to tell their own cancel from one from outside.
    pub fn cancelling(&self) -> u32 {
        self.0.cancelling()
    }

    /// `task.uncancel()` (3.11+): takes back one cancel request and
    /// returns how many are left. On 3.13, bringing the count back to 0
    /// also forgets a cancel not yet delivered.
    ///
    /// ```
    /// use loopsim::{new_event_loop, sleep};
    ///
    /// let lp = new_event_loop();
    /// let t = lp.create_task(async { sleep(1.0).await }).unwrap();
    /// t.cancel();
    /// t.cancel();
    /// assert_eq!(t.cancelling(), 2);
    /// assert_eq!(t.uncancel(), 1);
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.0.uncancel()
    }

    /// `task.done()`.
    pub fn done(&self) -> bool {
        self.0.core().is_done()
    }

    /// `task.cancelled()`.
    pub fn cancelled(&self) -> bool {
        self.0.core().is_cancelled()
    }

    /// `task.result()`.
    pub fn result(&self) -> Result<T, Error> {
        self.0.core().result()
    }

    /// `task.add_done_callback(cb)`, recorded as `call name=callback`.
    pub fn add_done_callback<F, R>(&self, cb: F) -> Result<(), Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.add_done_callback_named("callback", cb)
    }

    /// [`add_done_callback`](Task::add_done_callback) with the name the
    /// trace records.
    pub fn add_done_callback_named<F, R>(
        &self,
        name: impl Into<Rc<str>>,
        cb: F,
    ) -> Result<(), Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.0.core().add_user_done_callback(name.into(), cb)
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Task<T> {
    /// Drops the task's pending done callbacks, its coroutine and what it
    /// waits on, breaking the reference cycles that tasks still waiting on
    /// each other at the end of a run leave behind.
    pub(crate) fn clear_for_teardown(&self) {
        self.0.teardown();
    }
}

impl<T, F> TaskRef<T> for TaskInner<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    fn core(&self) -> &FutureCore<T> {
        &self.future
    }

    fn name(&self) -> &Rc<str> {
        self.future.name().expect("a task has a name")
    }

    fn to_waitable(self: Rc<Self>) -> Rc<dyn Waitable> {
        self
    }

    fn teardown(&self) {
        self.future.clear_callbacks();
        self.drop_body();
        drop(self.fut_waiter.replace(Waiter::Nothing));
    }
}

impl<T, F> TaskInner<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    /// Drops the body where it lies (never moving it: it is pinned). Not
    /// while it is being polled: then it is about to finish anyway.
    fn drop_body(&self) {
        if let Ok(mut body) = self.body.try_borrow_mut() {
            *body = None;
        }
    }

    /// A callback that runs the next step.
    fn step_callback(self: &Rc<Self>) -> Callback {
        callback::machinery(Step(self.clone()))
    }

    /// `Task.__step`.
    fn step(self: &Rc<Self>, lp: &EventLoop) {
        if self.future.is_done() {
            return;
        }
        if lp.inner.world.config.record_trace {
            if lp.config().record_state {
                lp.set_source(self.resume_source.get());
            }
            lp.inner.record_step(self.future.trace_name());
        }
        let cancelling = self.must_cancel.replace(false);
        if lp.inner.step.active.get() {
            // A step inside another task's step of this loop: only under
            // CPython 3.13.0, whose failed `run_forever` in a task runs its
            // cleanup, so that a driver after it runs this loop again from
            // inside the step. `__step` has taken the pending cancel and
            // cleared `_fut_waiter` when `_enter_task` raises `Cannot enter
            // into task ... while another task ... is being executed`: the
            // body is not resumed, and nothing will step the task again
            // (the loop's exception handler reports it; no scenario event).
            drop(self.fut_waiter.replace(Waiter::Nothing));
            return;
        }
        // A cancel that arrived after the sleep or future woke the task
        // replaces what that wake-up would have thrown in.
        let thrown = self.throw_next.take();
        let throw = if cancelling {
            Some(Error::Cancelled)
        } else {
            thrown
        };
        // What the timer that woke the step stands for (read by the
        // sleeps the body polls): a lone sleep's timer ends that sleep,
        // whatever the clock says.
        match self.fut_waiter.replace(Waiter::Nothing) {
            Waiter::Sleep(timer) => {
                // The sleep's `finally: h.cancel()`, which runs as the step
                // resumes the coroutine, before any of the task's own code.
                lp.inner.cancel_ref(timer);
                lp.inner.step.reached.set(i64::MAX);
            }
            Waiter::Several(several) => several.end(lp),
            Waiter::Nothing | Waiter::On(_) => {}
        }

        let poll = if cancelling && !self.started.get() {
            // Throwing into a coroutine that never ran: its body never runs.
            self.drop_body();
            Poll::Ready(Err(Error::Cancelled))
        } else {
            self.started.set(true);
            self.poll_body(lp, throw)
        };

        match poll {
            Poll::Ready(Ok(value)) if self.must_cancel.replace(false) => {
                // Cancelled right before the body returned.
                drop(value);
                self.finish(lp, Err(Error::Cancelled));
            }
            Poll::Ready(outcome) => self.finish(lp, outcome),
            Poll::Pending => self.suspend(lp),
        }
    }

    /// Polls the body once with the loop's step context set. When it is
    /// pending, what it awaited stays in the step context for `suspend`.
    fn poll_body(&self, lp: &EventLoop, throw: Option<Error>) -> Poll<Result<T, Error>> {
        let Ok(mut body) = self.body.try_borrow_mut() else {
            return Poll::Ready(Err(Error::Cancelled));
        };
        let Some(future) = body.as_mut() else {
            return Poll::Ready(Err(Error::Cancelled));
        };
        // SAFETY: pinning. The body lives in this task's `Rc` allocation,
        // which never moves, and it is never moved out of it: it is only
        // dropped in place (`drop_body` and the line below assign `None`;
        // dropping the task drops the field where it is).
        let future = unsafe { Pin::new_unchecked(future) };
        lp.inner.step.enter(throw);
        lp.inner
            .step
            .task
            .set(Some(std::ptr::NonNull::from(self as &dyn TaskControl)));
        // Left when the poll returns, or when the body panics.
        let leave = crate::event_loop::LeaveStep(&lp.inner.step);
        let poll = waker::with_step_context(lp, |cx| future.poll(cx));
        drop(leave);
        if poll.is_ready() {
            *body = None;
            drop(lp.inner.step.take_blocked());
        }
        poll
    }

    fn finish(self: &Rc<Self>, lp: &EventLoop, outcome: Result<T, Error>) {
        lp.inner
            .live_tasks
            .set(lp.inner.live_tasks.get().saturating_sub(1));
        lp.inner
            .unfinished
            .borrow_mut()
            .remove(self.registered.get());
        let raised = crate::future::raised(&outcome);
        match self.future.finish(outcome) {
            Err(error) => drop(lp.fail::<()>(error)),
            Ok(()) => {
                if let Some(raised) = raised {
                    self.future.mark_unretrieved(self.clone(), true, &raised);
                }
            }
        }
    }

    /// The step ended at an await: arrange the next one.
    ///
    /// What the body awaited is taken from the step context here, not
    /// passed along with the poll's result: copying the two together went
    /// through the stack in pieces of different sizes, and reading them back
    /// waited for the writes to reach the cache.
    fn suspend(self: &Rc<Self>, lp: &EventLoop) {
        self.resume_source.set(lp.inner.world.source.get());
        match lp.inner.step.take_blocked() {
            Some(Blocked::Yield) => {
                let _ = lp.schedule_detached(None, self.step_callback());
            }
            // CPython checks the loop first, then for the task itself.
            Some(Blocked::On(waitable)) if waitable.home() != Waitable::home(&self.future) => {
                self.throw_next.set(Some(Error::AwaitedOtherLoop));
                let _ = lp.schedule_detached(None, self.step_callback());
            }
            Some(Blocked::On(waitable)) if waitable.identity() == self.future_identity() => {
                self.throw_next.set(Some(Error::AwaitItself));
                let _ = lp.schedule_detached(None, self.step_callback());
            }
            Some(Blocked::On(waitable)) => {
                let _ = waitable.add_done_callback(self.step_callback());
                if !self.must_cancel.get() {
                    // The step emptied it: nothing to drop but a `Nothing`.
                    match self.fut_waiter.replace(Waiter::On(waitable)) {
                        Waiter::Nothing => {}
                        other => drop(other),
                    }
                    return;
                }
                self.fut_waiter.set(Waiter::On(waitable.clone()));
                // The loop runs (it is stepping this task), so cancelling
                // a future of its own cannot fail.
                if waitable.cancel() == Ok(true) {
                    self.must_cancel.set(false);
                }
            }
            Some(Blocked::Sleep { until }) => self.sleep_until(lp, until),
            Some(Blocked::Several(all)) => self.suspend_on_several(lp, *all),
            None => {
                let message = "a task awaited something that is not a loopsim future";
                self.finish(lp, Err(Error::raised(message)));
            }
        }
    }

    /// `asyncio.sleep(d)` for `d > 0`: CPython makes a future, a timer that
    /// completes it, and adds the task's wake-up to it. Here the timer wakes
    /// the task itself, with the same passes: the timer runs in one pass
    /// and `call_soon`s the step, which runs in the next.
    ///
    /// The timer's callback is the wake-up itself ([`WakeUp`]).
    fn sleep_until(self: &Rc<Self>, lp: &EventLoop, until: i64) {
        let wake = callback::machinery(WakeUp(self.clone()));
        match lp.schedule_ref(Some(until), wake) {
            Ok(timer) => {
                self.fut_waiter.set(Waiter::Sleep(timer));
                if self.must_cancel.get() && self.cancel_sleep(lp) == Ok(true) {
                    self.must_cancel.set(false);
                }
            }
            Err(error) => self.finish(lp, Err(error)),
        }
    }

    /// Cancelling the sleep's future: the task wakes with `CancelledError`
    /// in the next pass. `false` if the sleep was already over.
    ///
    /// The sleep is pending while its timer still holds the wake-up. Taking
    /// the wake-up out leaves the timer queued, to fire as a no-op, as
    /// `_set_result_unless_cancelled` does on a cancelled future.
    ///
    /// A sleep whose timer `close` dropped is pending too, for ever, as
    /// CPython's sleep future is: cancelling it is what CPython's does, the
    /// future is cancelled and scheduling the task's wake-up fails with
    /// `Event loop is closed`, which `Task.cancel()` raises (the task stays
    /// pending, not even marked). Cancelling it again finds it done.
    fn cancel_sleep(self: &Rc<Self>, lp: &EventLoop) -> Result<bool, Error> {
        let Waiter::Sleep(timer) = self.waiter() else {
            return Ok(false);
        };
        let Some(wake) = lp.inner.take_pending_callback(timer) else {
            if lp.inner.forget_discarded(timer) {
                return Err(Error::Closed);
            }
            return Ok(false);
        };
        drop(wake);
        self.throw_next.set(Some(Error::Cancelled));
        lp.schedule_detached(None, self.step_callback())?;
        Ok(true)
    }

    /// What the task waits on, left in place (a `Cell`'s value is only
    /// ever moved in or out, never borrowed).
    fn waiter(&self) -> Waiter {
        let waiter = self.fut_waiter.take();
        self.fut_waiter.set(waiter.clone());
        waiter
    }

    fn future_identity(&self) -> *const () {
        self as *const Self as *const ()
    }
}

/// The strong and weak counts an `Rc` keeps before its value.
const RC_COUNTS: usize = 2 * std::mem::size_of::<usize>();

/// A task's next step, as a callback (`Task.__step` scheduled): one `Rc`,
/// stored in place.
struct Step<T, F>(Rc<TaskInner<T, F>>);

impl<T, F> Scheduled for Step<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    const SHOWS: Shows = Shows::Nothing;

    fn label(&self) -> Label<'_> {
        Label::Internal
    }

    fn run(self, lp: &EventLoop) -> Result<(), Error> {
        self.0.step(lp);
        Ok(())
    }

    fn describe(&self) -> Rc<str> {
        format!("step {}", TaskRef::name(&*self.0)).into()
    }
}

/// A sleep's timer callback: `call_soon`s its task's step, without reading
/// the task, whose memory is cold until the step runs.
struct WakeUp<T, F>(Rc<TaskInner<T, F>>);

impl<T, F> Scheduled for WakeUp<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    const SHOWS: Shows = Shows::Nothing;

    fn label(&self) -> Label<'_> {
        Label::Internal
    }

    fn run(self, lp: &EventLoop) -> Result<(), Error> {
        // The step runs next pass: have the task close by then (`warm` asked
        // for it a timer earlier, but that may have left the nearest cache).
        self.warm();
        // The task's `Rc` moves into the step: no count up and down.
        let _ = lp.schedule_detached(None, callback::machinery(Step(self.0)));
        Ok(())
    }

    fn describe(&self) -> Rc<str> {
        format!("wake {}", TaskRef::name(&*self.0)).into()
    }

    /// The task, which the step reads two passes from now.
    fn warm(&self) {
        // From the `Rc`'s counts, two words before the task, which the
        // step's clone touches first.
        let counts = Rc::as_ptr(&self.0).cast::<u8>().wrapping_sub(RC_COUNTS);
        crate::prefetch::prefetch_bytes(counts, RC_COUNTS + std::mem::size_of::<TaskInner<T, F>>());
    }
}

impl<T, F> Waitable for TaskInner<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    fn is_done(&self) -> bool {
        self.future.is_done()
    }

    /// `Task.cancel()`. What cancelling the waited-on future or task
    /// raises propagates, as from CPython's (the task is then not marked).
    fn cancel(self: Rc<Self>) -> Result<bool, Error> {
        if self.future.is_done() {
            return Ok(false);
        }
        self.num_cancels
            .set(self.num_cancels.get().saturating_add(1));
        if let Waiter::Several(several) = self.waiter() {
            if let Some(lp) = self.future.event_loop() {
                if self.cancel_several(&lp, &several)? {
                    return Ok(true);
                }
            }
            self.must_cancel.set(true);
            return Ok(true);
        }
        if matches!(self.waiter(), Waiter::Sleep(_)) {
            if let Some(lp) = self.future.event_loop() {
                if self.cancel_sleep(&lp)? {
                    return Ok(true);
                }
            }
            self.must_cancel.set(true);
            return Ok(true);
        }
        let waiter = match self.waiter() {
            Waiter::On(waitable) => Some(waitable),
            Waiter::Nothing | Waiter::Sleep(_) | Waiter::Several(_) => None,
        };
        // In an await cycle (A awaits B, B awaits A) passing the cancel on
        // comes back here: CPython recurses until `RecursionError`; here the
        // cycle is cut and this task is marked instead.
        if let Some(waiter) = waiter.filter(|_| !self.cancelling_waiter.replace(true)) {
            let passed_on = waiter.cancel();
            self.cancelling_waiter.set(false);
            if passed_on? {
                return Ok(true);
            }
        }
        self.must_cancel.set(true);
        Ok(true)
    }

    fn add_done_callback(&self, cb: Callback) -> Result<u64, Error> {
        self.future.add_done_callback(cb)
    }

    fn remove_done_callback(&self, id: u64) {
        self.future.remove_done_callback(id)
    }

    fn event_loop(&self) -> Option<EventLoop> {
        self.future.event_loop()
    }

    fn identity(&self) -> *const () {
        self.future_identity()
    }

    fn name(&self) -> Option<Rc<str>> {
        Some(TaskRef::name(self).clone())
    }

    fn home(&self) -> *const () {
        Waitable::home(&self.future)
    }
}

impl<T, F> TaskView for TaskInner<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    fn view_name(&self) -> Rc<str> {
        TaskRef::name(self).clone()
    }

    fn view_done(&self) -> bool {
        self.future.is_done()
    }

    fn view_awaits(&self, sleep_until: &dyn Fn(SlotRef) -> Option<i64>) -> Awaits {
        if !self.started.get() {
            return Awaits::Start;
        }
        match self.waiter() {
            Waiter::Nothing => Awaits::Step,
            Waiter::Sleep(timer) => match sleep_until(timer) {
                Some(until) => Awaits::Sleep { until },
                None => Awaits::Step,
            },
            Waiter::On(waitable) => Awaits::Future {
                name: waitable.name(),
                done: waitable.is_done(),
            },
            // As `asyncio.wait`'s private waiter: an unnamed future.
            Waiter::Several(several) => Awaits::Future {
                name: None,
                done: several.woken(),
            },
        }
    }
}

impl<T, F> TaskControl for TaskInner<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    fn cancelling(&self) -> u32 {
        self.num_cancels.get()
    }

    /// 3.13 also forgets a pending cancel once the count is back to 0.
    fn uncancel(&self) -> u32 {
        let n = self.num_cancels.get();
        if n > 0 {
            self.num_cancels.set(n - 1);
            if n == 1 {
                let v3_13 = self
                    .future
                    .event_loop()
                    .is_some_and(|lp| lp.python() >= crate::Python::V3_13);
                if v3_13 {
                    self.must_cancel.set(false);
                }
            }
        }
        self.num_cancels.get()
    }

    fn cancel_task(self: Rc<Self>) -> Result<bool, Error> {
        Waitable::cancel(self)
    }
}

impl<T, F> crate::event_loop::Unlink for TaskInner<T, F> {
    fn unlink(&self) {
        if let Ok(mut body) = self.body.try_borrow_mut() {
            drop(body.take());
        }
        drop(self.fut_waiter.take());
        drop(self.throw_next.take());
        drop(self.future.take_callbacks());
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Awaitable<T> for Task<T> {
    fn waitable(&self) -> Rc<dyn Waitable> {
        self.0.clone().to_waitable()
    }

    fn try_result(&self) -> Result<T, Error> {
        self.0.core().result()
    }
}

impl<T: Clone + std::fmt::Debug + 'static> std::future::IntoFuture for Task<T> {
    type Output = Result<T, Error>;
    type IntoFuture = Wait<T, Task<T>>;

    fn into_future(self) -> Self::IntoFuture {
        Wait::new(self)
    }
}

/// `asyncio.create_task(coro)`: a task on the running loop.
///
/// # Panics
/// Outside a running loop, like asyncio's `RuntimeError: no running event loop`.
pub fn create_task<T, F>(coro: F) -> Result<Task<T>, Error>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    let lp =
        crate::event_loop::get_running_loop().expect("loopsim::create_task: no running event loop");
    lp.create_task(coro)
}
