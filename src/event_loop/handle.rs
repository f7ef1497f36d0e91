//! Handles: one scheduled callback, and the user's way to cancel it.

use crate::error::Error;
use crate::event_loop::{EventLoop, LoopInner};
use crate::time::Instant;
use std::cell::Cell;
use std::fmt;
use std::rc::{Rc, Weak};

/// A boxed callback as the loop stores it.
#[doc(hidden)]
pub type Callback = Box<dyn FnOnce(&EventLoop) -> Result<(), Error>>;

/// What a callback returns: nothing, or a `Result` whose error is "raised"
/// (the loop's exception handler records it as an `exception` event).
pub trait CallbackResult {
    /// As a `Result`.
    fn into_result(self) -> Result<(), Error>;
}

impl CallbackResult for () {
    fn into_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl CallbackResult for Result<(), Error> {
    fn into_result(self) -> Result<(), Error> {
        self
    }
}

/// Boxes a user closure.
pub(crate) fn boxed<F, R>(f: F) -> Callback
where
    F: FnOnce(&EventLoop) -> R + 'static,
    R: CallbackResult,
{
    Box::new(move |lp: &EventLoop| f(lp).into_result())
}

/// How a callback shows in the trace.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum Label {
    /// A user callback: `call name=…` when it starts.
    User(Rc<str>),
    /// A user callback without a name: `call name=callback`.
    Unnamed,
    /// Loop machinery (task steps record `step` themselves): not recorded.
    Internal,
}

/// The shared state behind a [`Handle`]: CPython's `Handle`/`TimerHandle`.
pub(crate) struct HandleCell {
    /// Scheduling order within the loop's world; the last tie-breaker.
    pub seq: u64,
    /// Deadline for timers; `None` for `call_soon`.
    pub when: Option<i64>,
    pub label: Label,
    callback: Cell<Option<Callback>>,
    cancelled: Cell<bool>,
    /// In the timer queue (CPython's `TimerHandle._scheduled`).
    scheduled: Cell<bool>,
    owner: Weak<LoopInner>,
}

impl HandleCell {
    pub fn new(
        seq: u64,
        when: Option<i64>,
        label: Label,
        callback: Callback,
        owner: Weak<LoopInner>,
    ) -> HandleCell {
        HandleCell {
            seq,
            when,
            label,
            callback: Cell::new(Some(callback)),
            cancelled: Cell::new(false),
            scheduled: Cell::new(false),
            owner,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    pub fn set_scheduled(&self, scheduled: bool) {
        self.scheduled.set(scheduled);
    }

    /// Takes the callback to run it; a handle runs at most once.
    pub fn take_callback(&self) -> Option<Callback> {
        self.callback.take()
    }

    /// `Handle.cancel()`: a timer still in the queue counts towards the
    /// loop's cancelled-timer count, which decides compaction.
    pub fn cancel(&self) {
        if self.cancelled.replace(true) {
            return;
        }
        if let Some(owner) = self.owner.upgrade() {
            owner.handle_cancelled(self, self.scheduled.get());
            #[cfg(feature = "mutants")]
            if owner.world.config.mutant == Some(crate::mutant::Mutant::RunCancelled) {
                return; // the bug keeps the callback, so it can run
            }
        }
        // Dropped here, outside any borrow of the loop's queues.
        drop(self.callback.take());
    }
}

/// A scheduled callback, as `call_soon`, `call_later` and `call_at` return.
///
/// Cloning gives another handle to the same callback.
#[derive(Clone)]
pub struct Handle(pub(crate) Rc<HandleCell>);

impl Handle {
    /// Cancels the callback; it will not run. Cancelling twice, or after it
    /// ran, does nothing more (but [`cancelled`](Handle::cancelled) turns true,
    /// as in asyncio).
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether [`cancel`](Handle::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    /// A timer's deadline in seconds (`TimerHandle.when()`); `None` for
    /// `call_soon` handles.
    pub fn when(&self) -> Option<f64> {
        self.0.when.map(|ns| Instant(ns).as_secs_f64())
    }

    /// A timer's deadline as an exact [`Instant`].
    pub fn deadline(&self) -> Option<Instant> {
        self.0.when.map(Instant)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("seq", &self.0.seq)
            .field("when", &self.0.when)
            .field("cancelled", &self.cancelled())
            .finish()
    }
}
