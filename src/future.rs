//! asyncio futures: a result that arrives later, and callbacks run when it does.
//!
//! A [`Future`] is pending until `set_result`, `set_exception` or `cancel`;
//! then its done callbacks are scheduled with `call_soon`, in the order they
//! were added. Awaiting a future from a task suspends the task until then
//! (see `task/mod.rs`).

use crate::error::Error;
use crate::event_loop::callback::{self, Callback};
use crate::event_loop::{Blocked, CallbackResult, EventLoop, LoopInner, Unretrieved};
use crate::trace::DoneState;
use crate::value::TraceValue;
use std::cell::{OnceCell, RefCell};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

/// What the loop and tasks need of any future or task, whatever its `T`.
#[doc(hidden)]
pub trait Waitable {
    fn is_done(&self) -> bool;
    /// `Future.cancel()` or `Task.cancel()`. Takes the `Rc`: a task that
    /// cancels its sleep schedules its own next step. `Err` is what
    /// CPython's `cancel()` raises (a done callback refused by a closed
    /// loop), not yet recorded: the caller records it, once.
    fn cancel(self: Rc<Self>) -> Result<bool, Error>;
    /// Schedules `cb` when done (at once if already done); returns an id
    /// for [`remove_done_callback`](Waitable::remove_done_callback). A
    /// refusal (a done future on a closed loop) is not recorded.
    fn add_done_callback(&self, cb: Callback) -> Result<u64, Error>;
    fn remove_done_callback(&self, id: u64);
    /// Identity, to catch a task awaiting itself.
    fn identity(&self) -> *const ();
    /// The loop this belongs to (`futures._get_loop`), as an address to
    /// compare with another loop's.
    fn home(&self) -> *const ();
    /// The name the trace gives it, if any (for the loop's state).
    fn name(&self) -> Option<Rc<str>> {
        None
    }
    /// The loop this belongs to (`futures._get_loop`), while it exists.
    fn event_loop(&self) -> Option<EventLoop> {
        None
    }
}

/// A [`Task`](crate::Task) or [`Future`] that `run_until_complete` can drive.
pub trait Awaitable<T> {
    #[doc(hidden)]
    fn waitable(&self) -> Rc<dyn Waitable>;
    /// The result if done: the value, the exception, or `Error::Cancelled`;
    /// `Error::ResultNotSet` while pending.
    fn try_result(&self) -> Result<T, Error>;
}

/// A future's or task's name, as the trace records it: given, a task's
/// default `Task-N`, or none (a future the trace does not name).
///
/// `Task-N` is written out the first time it is asked for: a loop with its
/// trace off never asks, so a task costs no formatting and no allocation
/// for it. One word and a fat pointer, as every task carries one.
pub(crate) struct Name {
    text: OnceCell<Rc<str>>,
    /// The `N` of a default `Task-N`; 0 for a given name or none.
    task_number: u64,
}

impl Name {
    pub fn none() -> Name {
        Name {
            text: OnceCell::new(),
            task_number: 0,
        }
    }

    pub fn given(text: Rc<str>) -> Name {
        Name {
            text: OnceCell::from(text),
            task_number: 0,
        }
    }

    /// `Task-N`; tasks are numbered from 1.
    pub fn task(number: u64) -> Name {
        assert!(number > 0, "tasks are numbered from 1");
        Name {
            text: OnceCell::new(),
            task_number: number,
        }
    }

    /// Whether the trace names this future or task (without writing out a
    /// default name).
    pub fn exists(&self) -> bool {
        self.task_number != 0 || self.text.get().is_some()
    }

    /// The name as the recorder takes it: text, or `Task-N` by number
    /// while nothing has written it out.
    pub(crate) fn as_name_ref(&self) -> Option<crate::event_loop::NameRef<'_>> {
        match (self.text.get(), self.task_number) {
            (Some(text), _) => Some(crate::event_loop::NameRef::Text(text)),
            (None, 0) => None,
            (None, n) => Some(crate::event_loop::NameRef::Task(n)),
        }
    }

    pub fn text(&self) -> Option<&Rc<str>> {
        match self.task_number {
            0 => self.text.get(),
            n => Some(self.text.get_or_init(|| format!("Task-{n}").into())),
        }
    }
}

// Every task carries a `FutureCore`, and a task's size is what a loop of
// sleeping tasks waits on memory for (see `benches/RESULTS.md`).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<FutureCore<()>>() == 72);

/// A future's pending done callbacks, each with the id
/// `remove_done_callback` names it by. Boxed, and only once the first is
/// added: most futures and tasks never get one, and each task carries this.
#[derive(Default)]
struct DoneCallbacks(Option<Box<DoneList>>);

#[derive(Default)]
struct DoneList {
    next_id: u64,
    pending: Vec<(u64, Callback)>,
}

impl DoneCallbacks {
    fn push(&mut self, cb: Callback) -> u64 {
        let list = self.0.get_or_insert_with(Box::default);
        let id = list.next_id;
        list.next_id += 1;
        list.pending.push((id, cb));
        id
    }

    /// An id for a callback scheduled at once because the future is done:
    /// nothing is pending any more, so no id can be confused with it.
    fn unused_id(&self) -> u64 {
        self.0.as_ref().map_or(0, |list| list.next_id)
    }

    fn take(&mut self) -> Vec<(u64, Callback)> {
        self.0
            .as_mut()
            .map(|list| std::mem::take(&mut list.pending))
            .unwrap_or_default()
    }

    fn remove(&mut self, id: u64) -> Option<Callback> {
        let pending = &mut self.0.as_mut()?.pending;
        let at = pending.iter().position(|(i, _)| *i == id)?;
        Some(pending.remove(at).1)
    }
}

/// The state every future and task has: CPython's `Future` minus the task.
pub(crate) struct FutureCore<T> {
    lp: Weak<LoopInner>,
    name: Name,
    state: RefCell<Option<Result<T, Error>>>,
    callbacks: RefCell<DoneCallbacks>,
}

impl<T> FutureCore<T> {
    /// Takes the done callbacks away (to be dropped by the caller): when a
    /// loop is dropped, the wake-ups that pending tasks and futures hold
    /// of each other are let go, so their cycles are freed.
    pub(crate) fn take_callbacks(&self) -> impl Sized {
        self.callbacks
            .try_borrow_mut()
            .map(|mut c| std::mem::take(&mut *c))
            .ok()
    }
}

impl<T: Clone + std::fmt::Debug + 'static> FutureCore<T> {
    pub fn new(lp: &EventLoop, name: Name) -> FutureCore<T> {
        FutureCore {
            lp: Rc::downgrade(&lp.inner),
            name,
            state: RefCell::new(None),
            callbacks: RefCell::new(DoneCallbacks::default()),
        }
    }

    /// The name as it is held (see [`Name`]).
    pub(crate) fn trace_name(&self) -> &Name {
        &self.name
    }

    /// The name, if the trace records this future's `done`.
    pub fn name(&self) -> Option<&Rc<str>> {
        self.name.text()
    }

    pub fn event_loop(&self) -> Option<EventLoop> {
        self.lp.upgrade().map(|inner| EventLoop { inner })
    }

    pub fn is_done(&self) -> bool {
        self.state.borrow().is_some()
    }

    /// `result()`: the outcome, which retrieves an exception (see
    /// `event_loop/unretrieved.rs`).
    pub fn result(&self) -> Result<T, Error> {
        let outcome = self
            .state
            .borrow()
            .clone()
            .unwrap_or(Err(Error::ResultNotSet));
        if matches!(&outcome, Err(e) if !matches!(e, Error::Cancelled | Error::ResultNotSet)) {
            if let Some(lp) = self.lp.upgrade() {
                lp.retrieved(self.core_address());
            }
        }
        outcome
    }

    /// Whether it was cancelled, without retrieving anything.
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.state.borrow(), Some(Err(Error::Cancelled)))
    }

    fn core_address(&self) -> *const () {
        self as *const Self as *const ()
    }

    /// After [`finish`](FutureCore::finish) with `raised`, an exception:
    /// asyncio's `__log_traceback = True`, until someone retrieves it.
    /// `owner` is the allocation holding this core.
    pub fn mark_unretrieved(&self, owner: Rc<dyn std::any::Any>, task: bool, raised: &Error) {
        if let Some(lp) = self.lp.upgrade() {
            let report = Unretrieved {
                task,
                name: self.name().map(|n| n.to_string()),
                message: raised.to_string(),
            };
            lp.mark_unretrieved(self.core_address(), owner, report);
        }
    }

    /// Moves to done: records `done` if named, then schedules the done
    /// callbacks (`__schedule_callbacks`). Fails, unrecorded, if already
    /// done (`InvalidState`) or if the loop is closed and a callback was
    /// pending (`Closed`: the future is done, as in CPython, where the
    /// first `call_soon` raises and the other callbacks are dropped).
    pub fn finish(&self, outcome: Result<T, Error>) -> Result<(), Error> {
        if self.is_done() {
            return Err(Error::InvalidState);
        }
        let lp = self.event_loop();
        if let Some(lp) = lp.as_ref().filter(|_| self.name.exists()) {
            if lp.inner.world.config.record_trace {
                let (state, value) = match &outcome {
                    Ok(v) => (DoneState::Result, Some(v.trace_value())),
                    Err(Error::Cancelled) => (DoneState::Cancelled, None),
                    Err(_) => (DoneState::Exception, None),
                };
                lp.inner.record_done(&self.name, state, value);
            }
        }
        *self.state.borrow_mut() = Some(outcome);
        let callbacks = self.callbacks.borrow_mut().take();
        let Some(lp) = lp else { return Ok(()) };
        for (_, cb) in callbacks {
            lp.schedule_detached(None, cb)?;
        }
        Ok(())
    }

    pub fn add_done_callback(&self, cb: Callback) -> Result<u64, Error> {
        if self.is_done() {
            let id = self.callbacks.borrow().unused_id();
            let lp = self.event_loop().ok_or(Error::Closed)?;
            lp.schedule_detached(None, cb)?;
            Ok(id)
        } else {
            Ok(self.callbacks.borrow_mut().push(cb))
        }
    }

    /// A user's done callback, recorded as `call name=NAME` when it runs
    /// (what `Future` and `Task` both offer as `add_done_callback_named`).
    /// A refusal is recorded by this future's loop.
    pub fn add_user_done_callback<F, R>(&self, name: Rc<str>, cb: F) -> Result<(), Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        match self.add_done_callback(callback::named(name, cb)) {
            Ok(_) => Ok(()),
            Err(error) => self.fail(error),
        }
    }

    /// Records a failed call on this future as an `error` event of its
    /// loop (if the loop is still there) and returns it.
    pub fn fail<R>(&self, error: Error) -> Result<R, Error> {
        match self.event_loop() {
            Some(lp) => lp.fail(error),
            None => Err(error),
        }
    }

    /// The user's `cancel()` of this future, or of the task `waitable` it
    /// is the core of: a failure is recorded by this future's loop and
    /// counts as a cancel (CPython raises it after the state changed).
    pub fn user_cancel(&self, waitable: Rc<dyn Waitable>) -> bool {
        waitable.cancel().unwrap_or_else(|error| {
            let _ = self.fail::<()>(error);
            true
        })
    }

    /// Drops every pending done callback (to break reference cycles at the
    /// end of a run).
    pub fn clear_callbacks(&self) {
        let callbacks = self.callbacks.borrow_mut().take();
        drop(callbacks);
    }

    pub fn remove_done_callback(&self, id: u64) {
        let removed = self.callbacks.borrow_mut().remove(id);
        drop(removed);
    }
}

/// The exception in `outcome`, if it is one (a cancellation is not).
pub(crate) fn raised<T>(outcome: &Result<T, Error>) -> Option<Error> {
    match outcome {
        Err(error) if !error.is_cancelled() => Some(error.clone()),
        _ => None,
    }
}

/// An asyncio `Future` carrying a `T`.
///
/// Cheap to clone: clones are the same future. Await it from a task
/// (`fut.clone().await`) to get `Result<T, Error>`.
pub struct Future<T>(pub(crate) Rc<FutureCore<T>>);

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future(self.0.clone())
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Future<T> {
    pub(crate) fn new(lp: &EventLoop, name: Option<Rc<str>>) -> Future<T> {
        Future(Rc::new(FutureCore::new(
            lp,
            name.map_or_else(Name::none, Name::given),
        )))
    }

    /// `fut.set_result(value)`; `Err(InvalidState)` (recorded as `error`)
    /// if already done.
    pub fn set_result(&self, value: T) -> Result<(), Error> {
        self.complete(Ok(value))
    }

    /// `fut.set_exception(exc)`; `Err(InvalidState)` if already done.
    pub fn set_exception(&self, error: Error) -> Result<(), Error> {
        self.complete(Err(error))
    }

    fn complete(&self, outcome: Result<T, Error>) -> Result<(), Error> {
        let raised = raised(&outcome);
        self.0.finish(outcome).or_else(|error| self.0.fail(error))?;
        if let Some(raised) = raised {
            self.0.mark_unretrieved(self.0.clone(), false, &raised);
        }
        Ok(())
    }

    /// `fut.cancel()`: `true` if it was pending and is now cancelled. On a
    /// closed loop a pending done callback cannot be scheduled: the future
    /// is cancelled all the same and the failure is recorded as `error`
    /// (CPython's `cancel()` raises `Event loop is closed`).
    pub fn cancel(&self) -> bool {
        self.0.clone().user_cancel(self.0.clone())
    }

    /// `fut.done()`.
    pub fn done(&self) -> bool {
        self.0.is_done()
    }

    /// `fut.cancelled()`.
    pub fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    /// `fut.result()`: the value, or the exception, `Cancelled`, or
    /// `ResultNotSet` while pending.
    pub fn result(&self) -> Result<T, Error> {
        self.0.result()
    }

    /// `fut.add_done_callback(cb)`: `cb` is `call_soon`ed when the future
    /// is done (at once if it already is), recorded as `call name=callback`.
    pub fn add_done_callback<F, R>(&self, cb: F) -> Result<(), Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.add_done_callback_named("callback", cb)
    }

    /// [`add_done_callback`](Future::add_done_callback) with the name the
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
        self.0.add_user_done_callback(name.into(), cb)
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Waitable for FutureCore<T> {
    fn is_done(&self) -> bool {
        FutureCore::is_done(self)
    }

    fn cancel(self: Rc<Self>) -> Result<bool, Error> {
        if self.is_done() {
            return Ok(false);
        }
        self.finish(Err(Error::Cancelled))?;
        Ok(true)
    }

    fn add_done_callback(&self, cb: Callback) -> Result<u64, Error> {
        FutureCore::add_done_callback(self, cb)
    }

    fn remove_done_callback(&self, id: u64) {
        FutureCore::remove_done_callback(self, id)
    }

    fn identity(&self) -> *const () {
        self as *const Self as *const ()
    }

    fn name(&self) -> Option<Rc<str>> {
        FutureCore::name(self).cloned()
    }

    fn home(&self) -> *const () {
        Weak::as_ptr(&self.lp) as *const ()
    }

    fn event_loop(&self) -> Option<EventLoop> {
        FutureCore::event_loop(self)
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Awaitable<T> for Future<T> {
    fn waitable(&self) -> Rc<dyn Waitable> {
        self.0.clone()
    }

    fn try_result(&self) -> Result<T, Error> {
        self.0.result()
    }
}

impl<T: Clone + std::fmt::Debug + 'static> std::future::IntoFuture for Future<T> {
    type Output = Result<T, Error>;
    type IntoFuture = Wait<T, Future<T>>;

    fn into_future(self) -> Self::IntoFuture {
        Wait::new(self)
    }
}

/// Awaiting a future or task from a task: CPython's `Future.__await__`.
///
/// Done already: the result, without suspending. Otherwise the task step
/// ends here and the task's wake-up is added as a done callback; the next
/// step (one pass after the future finished) resumes here with the result,
/// or with the cancellation the task was sent meanwhile.
pub struct Wait<T, A> {
    target: A,
    _value: std::marker::PhantomData<T>,
}

impl<T, A: Awaitable<T>> Wait<T, A> {
    pub(crate) fn new(target: A) -> Self {
        Wait {
            target,
            _value: std::marker::PhantomData,
        }
    }
}

impl<T, A: Awaitable<T> + Unpin> std::future::Future for Wait<T, A> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::task::with_stepping_loop(cx, "awaited a future", |lp| {
            if let Some(thrown) = lp.take_thrown() {
                return Poll::Ready(Err(thrown));
            }
            let waitable = self.target.waitable();
            if waitable.is_done() {
                return Poll::Ready(self.target.try_result());
            }
            lp.block(Blocked::On(waitable));
            Poll::Pending
        })
    }
}

impl LoopInner {
    /// Takes the exception to deliver where the stepping task is suspended.
    pub(crate) fn take_thrown(&self) -> Option<Error> {
        self.step.throw.take()
    }

    /// Tells the stepping task what it now waits for. Inlined, with what
    /// it calls, so that `on` is never built in memory (see `BlockedCell`).
    #[inline(always)]
    pub(crate) fn block(&self, on: Blocked) {
        if self.step.active.get() {
            self.step.block(on);
        }
    }
}
