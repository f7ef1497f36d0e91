//! asyncio futures: a result that arrives later, and callbacks run when it does.
//!
//! A [`Future`] is pending until `set_result`, `set_exception` or `cancel`;
//! then its done callbacks are scheduled with `call_soon`, in the order they
//! were added. Awaiting a future from a task suspends the task until then
//! (see `task/mod.rs`).

use crate::error::Error;
use crate::event_loop::callback::{self, Callback};
use crate::event_loop::{Blocked, CallbackResult, EventLoop, LoopInner};
use crate::trace::{DoneState, EventKind};
use crate::value::TraceValue;
use std::cell::{Cell, OnceCell, RefCell};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

/// What the loop and tasks need of any future or task, whatever its `T`.
#[doc(hidden)]
pub trait Waitable {
    fn is_done(&self) -> bool;
    /// `Future.cancel()` or `Task.cancel()`.
    fn cancel(&self) -> bool;
    /// Schedules `cb` when done (at once if already done); returns an id
    /// for [`remove_done_callback`](Waitable::remove_done_callback).
    fn add_done_callback(&self, cb: Callback) -> Result<u64, Error>;
    fn remove_done_callback(&self, id: u64);
    /// Identity, to catch a task awaiting itself.
    fn identity(&self) -> *const ();
    /// The loop this belongs to (`futures._get_loop`), as an address to
    /// compare with another loop's.
    fn home(&self) -> *const ();
}

/// A [`Task`](crate::Task) or [`Future`] that `run_until_complete` can drive.
pub trait Awaitable<T> {
    #[doc(hidden)]
    fn waitable(&self) -> Rc<dyn Waitable>;
    /// The result if done: the value, the exception, or `Error::Cancelled`;
    /// `Error::ResultNotSet` while pending.
    fn try_result(&self) -> Result<T, Error>;
}

/// A future's or task's name, as the trace records it.
pub(crate) enum Name {
    Given(Rc<str>),
    /// A task's default `Task-N`, written out the first time it is asked
    /// for: a loop with its trace off never asks, so a task costs no
    /// formatting and no allocation for it.
    Task {
        number: u64,
        text: OnceCell<Rc<str>>,
    },
}

impl Name {
    pub fn task(number: u64) -> Name {
        Name::Task {
            number,
            text: OnceCell::new(),
        }
    }

    pub fn text(&self) -> &Rc<str> {
        match self {
            Name::Given(text) => text,
            Name::Task { number, text } => text.get_or_init(|| format!("Task-{number}").into()),
        }
    }
}

/// The state every future and task has: CPython's `Future` minus the task.
pub(crate) struct FutureCore<T> {
    lp: Weak<LoopInner>,
    name: Option<Name>,
    state: RefCell<Option<Result<T, Error>>>,
    callbacks: RefCell<Vec<(u64, Callback)>>,
    next_callback_id: Cell<u64>,
}

impl<T: Clone + TraceValue + 'static> FutureCore<T> {
    pub fn new(lp: &EventLoop, name: Option<Name>) -> FutureCore<T> {
        FutureCore {
            lp: Rc::downgrade(&lp.inner),
            name,
            state: RefCell::new(None),
            callbacks: RefCell::new(Vec::new()),
            next_callback_id: Cell::new(0),
        }
    }

    /// The name, if the trace records this future's `done`.
    pub fn name(&self) -> Option<&Rc<str>> {
        self.name.as_ref().map(Name::text)
    }

    pub fn event_loop(&self) -> Option<EventLoop> {
        self.lp.upgrade().map(|inner| EventLoop { inner })
    }

    pub fn is_done(&self) -> bool {
        self.state.borrow().is_some()
    }

    pub fn result(&self) -> Result<T, Error> {
        self.state
            .borrow()
            .clone()
            .unwrap_or(Err(Error::ResultNotSet))
    }

    /// Moves to done: records `done` if named, then schedules the done
    /// callbacks (`__schedule_callbacks`). Fails if already done.
    pub fn finish(&self, outcome: Result<T, Error>) -> Result<(), Error> {
        if self.is_done() {
            return Err(Error::InvalidState);
        }
        let lp = self.event_loop();
        if let (Some(lp), Some(name)) = (&lp, &self.name) {
            lp.inner.record_with(|| {
                let (state, value) = match &outcome {
                    Ok(v) => (DoneState::Result, Some(v.trace_value())),
                    Err(Error::Cancelled) => (DoneState::Cancelled, None),
                    Err(_) => (DoneState::Exception, None),
                };
                EventKind::Done {
                    name: name.text().clone(),
                    state,
                    value,
                }
            });
        }
        *self.state.borrow_mut() = Some(outcome);
        let callbacks = std::mem::take(&mut *self.callbacks.borrow_mut());
        let Some(lp) = lp else { return Ok(()) };
        for (_, cb) in callbacks {
            lp.schedule_detached(None, cb)?;
        }
        Ok(())
    }

    pub fn add_done_callback(&self, cb: Callback) -> Result<u64, Error> {
        let id = self.next_callback_id.get();
        self.next_callback_id.set(id + 1);
        if self.is_done() {
            let lp = self.event_loop().ok_or(Error::Closed)?;
            lp.schedule_detached(None, cb)?;
        } else {
            self.callbacks.borrow_mut().push((id, cb));
        }
        Ok(id)
    }

    /// A user's done callback, recorded as `call name=NAME` when it runs
    /// (what `Future` and `Task` both offer as `add_done_callback_named`).
    pub fn add_user_done_callback<F, R>(&self, name: Rc<str>, cb: F) -> Result<(), Error>
    where
        F: FnOnce(&EventLoop) -> R + 'static,
        R: CallbackResult,
    {
        self.add_done_callback(callback::named(name, cb))
            .map(|_| ())
    }

    /// Drops every pending done callback (to break reference cycles at the
    /// end of a run).
    pub fn clear_callbacks(&self) {
        let callbacks = std::mem::take(&mut *self.callbacks.borrow_mut());
        drop(callbacks);
    }

    pub fn remove_done_callback(&self, id: u64) {
        let removed = {
            let mut callbacks = self.callbacks.borrow_mut();
            callbacks
                .iter()
                .position(|(i, _)| *i == id)
                .map(|at| callbacks.remove(at))
        };
        drop(removed);
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

impl<T: Clone + TraceValue + 'static> Future<T> {
    pub(crate) fn new(lp: &EventLoop, name: Option<Rc<str>>) -> Future<T> {
        Future(Rc::new(FutureCore::new(lp, name.map(Name::Given))))
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
        match self.0.finish(outcome) {
            Err(error) => match self.0.event_loop() {
                Some(lp) => lp.fail(error),
                None => Err(error),
            },
            ok => ok,
        }
    }

    /// `fut.cancel()`: `true` if it was pending and is now cancelled.
    pub fn cancel(&self) -> bool {
        Waitable::cancel(&*self.0)
    }

    /// `fut.done()`.
    pub fn done(&self) -> bool {
        self.0.is_done()
    }

    /// `fut.cancelled()`.
    pub fn cancelled(&self) -> bool {
        matches!(*self.0.state.borrow(), Some(Err(Error::Cancelled)))
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

impl<T: Clone + TraceValue + 'static> Waitable for FutureCore<T> {
    fn is_done(&self) -> bool {
        FutureCore::is_done(self)
    }

    fn cancel(&self) -> bool {
        if self.is_done() {
            return false;
        }
        if let Err(error) = self.finish(Err(Error::Cancelled)) {
            if let Some(lp) = self.event_loop() {
                let _ = lp.fail::<()>(error);
            }
        }
        true
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

    fn home(&self) -> *const () {
        Weak::as_ptr(&self.lp) as *const ()
    }
}

impl<T: Clone + TraceValue + 'static> Awaitable<T> for Future<T> {
    fn waitable(&self) -> Rc<dyn Waitable> {
        self.0.clone()
    }

    fn try_result(&self) -> Result<T, Error> {
        self.0.result()
    }
}

impl<T: Clone + TraceValue + 'static> std::future::IntoFuture for Future<T> {
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

    /// Tells the stepping task what it now waits for.
    pub(crate) fn block(&self, on: Blocked) {
        if self.step.active.get() {
            self.step.blocked.set(Some(on));
        }
    }
}
