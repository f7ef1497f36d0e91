//! A waiter future: what a task waiting on a primitive awaits.
//!
//! It is an asyncio future as far as anything can tell (it is done, or
//! cancelled, and its done callbacks are `call_soon`ed when it becomes
//! so), made lighter for the one use it has: almost always exactly one
//! done callback, the waiting task's wake-up, which it keeps inline rather
//! than in a list. A task that waits costs one allocation here, where a
//! general [`Future`](crate::Future) costs three, and this is most of what
//! a lock hand-off costs.

use crate::error::Error;
use crate::event_loop::callback::Callback;
use crate::event_loop::{EventLoop, LoopInner};
use crate::future::{Awaitable, Waitable};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Pending,
    Done(bool),
    Cancelled,
}

pub(crate) struct WaiterCore {
    lp: Weak<LoopInner>,
    state: Cell<State>,
    /// The first done callback (id 0): the waiting task's wake-up.
    first: Cell<Option<Callback>>,
    /// Any later ones, with their ids, in order.
    more: RefCell<Vec<(u64, Callback)>>,
    next_id: Cell<u64>,
}

/// A waiter future of a primitive. Cheap to clone: clones are the same.
#[derive(Clone)]
pub(crate) struct Waiter(Rc<WaiterCore>);

impl Waiter {
    /// `loop.create_future()`.
    #[inline]
    pub(crate) fn new(lp: &EventLoop) -> Waiter {
        Waiter(Rc::new(WaiterCore {
            lp: Rc::downgrade(&lp.inner),
            state: Cell::new(State::Pending),
            first: Cell::new(None),
            more: RefCell::new(Vec::new()),
            next_id: Cell::new(0),
        }))
    }

    /// This waiter's memory as a new pending waiter on `lp`, when nothing
    /// else can see it (no clone of it is left anywhere): `None` if
    /// something can, or it belongs to another loop. What it still held
    /// (a wake-up never run, a waiter not done) is dropped now, which is
    /// when dropping it would have dropped them.
    #[inline]
    pub(crate) fn renew(mut self, lp: &EventLoop) -> Option<Waiter> {
        let core = Rc::get_mut(&mut self.0)?;
        if !std::ptr::eq(core.lp.as_ptr(), Rc::as_ptr(&lp.inner)) {
            return None;
        }
        core.state.set(State::Pending);
        drop(core.first.take());
        drop(std::mem::take(core.more.get_mut()));
        core.next_id.set(0);
        Some(self)
    }

    /// No clone of this waiter exists but this one.
    #[inline]
    pub(crate) fn unshared(&self) -> bool {
        Rc::strong_count(&self.0) == 1
    }

    pub(crate) fn same(&self, other: &Waiter) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// `fut.done()`.
    #[inline]
    pub(crate) fn done(&self) -> bool {
        self.0.state.get() != State::Pending
    }

    /// `fut.cancelled()`.
    #[inline]
    pub(crate) fn cancelled(&self) -> bool {
        self.0.state.get() == State::Cancelled
    }

    /// `fut.set_result(value)` of a pending waiter; a refusal of the
    /// wake-up (a closed loop) is returned, not recorded (see `wake`).
    #[inline]
    pub(crate) fn finish_unrecorded(&self, value: bool) -> Result<(), Error> {
        self.0.finish(State::Done(value))
    }

    /// `fut.cancel()`: `true` if it was pending. A loop that refuses the
    /// wake-up (closed) records its error.
    pub(crate) fn cancel(&self) -> bool {
        match Waitable::cancel(self.0.clone()) {
            Ok(cancelled) => cancelled,
            Err(error) => {
                if let Some(lp) = self.0.event_loop() {
                    let _ = lp.fail::<()>(error);
                }
                true
            }
        }
    }

    /// `await fut`: `Ok` once set, `Err(Cancelled)` if cancelled (or if
    /// the task is cancelled meanwhile). [`Wait`] without a clone of the
    /// waiter to hold: the task's step gets one only if it must wait.
    #[inline]
    pub(crate) fn wait(&self) -> WaitFor<'_> {
        WaitFor(self)
    }
}

/// The future of [`Waiter::wait`].
pub(crate) struct WaitFor<'a>(&'a Waiter);

impl std::future::Future for WaitFor<'_> {
    type Output = Result<bool, Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let core = &(self.0).0;
        crate::task::with_stepping_loop(cx, "awaited a future", |lp| {
            if let Some(thrown) = lp.take_thrown() {
                return std::task::Poll::Ready(Err(thrown));
            }
            if core.state.get() != State::Pending {
                return std::task::Poll::Ready(self.0.try_result());
            }
            lp.block(crate::event_loop::Blocked::On(core.clone()));
            std::task::Poll::Pending
        })
    }
}

impl WaiterCore {
    fn event_loop(&self) -> Option<EventLoop> {
        self.lp.upgrade().map(|inner| EventLoop { inner })
    }

    /// Done: the state, then the callbacks scheduled in the order added.
    fn finish(&self, state: State) -> Result<(), Error> {
        debug_assert_eq!(self.state.get(), State::Pending);
        self.state.set(state);
        let first = self.first.take();
        if self.more.borrow().is_empty() {
            // The common case: the waiting task's wake-up alone.
            let Some(inner) = self.lp.upgrade() else {
                return Ok(());
            };
            return match first {
                Some(cb) => EventLoop::soon_detached(&inner, cb),
                None => Ok(()),
            };
        }
        let more = std::mem::take(&mut *self.more.borrow_mut());
        let Some(lp) = self.event_loop() else {
            return Ok(());
        };
        for cb in first.into_iter().chain(more.into_iter().map(|(_, cb)| cb)) {
            lp.schedule_detached(None, cb)?;
        }
        Ok(())
    }
}

impl Waitable for WaiterCore {
    fn is_done(&self) -> bool {
        self.state.get() != State::Pending
    }

    fn cancel(self: Rc<Self>) -> Result<bool, Error> {
        if self.is_done() {
            return Ok(false);
        }
        self.finish(State::Cancelled)?;
        Ok(true)
    }

    fn add_done_callback(&self, cb: Callback) -> Result<u64, Error> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        if self.is_done() {
            let lp = self.event_loop().ok_or(Error::Closed)?;
            lp.schedule_detached(None, cb)?;
        } else if id == 0 {
            self.first.set(Some(cb));
        } else {
            self.more.borrow_mut().push((id, cb));
        }
        Ok(id)
    }

    fn remove_done_callback(&self, id: u64) {
        if id == 0 {
            drop(self.first.take());
        } else {
            let mut more = self.more.borrow_mut();
            if let Some(at) = more.iter().position(|(i, _)| *i == id) {
                drop(more.remove(at));
            }
        }
    }

    fn identity(&self) -> *const () {
        self as *const Self as *const ()
    }

    fn home(&self) -> *const () {
        Weak::as_ptr(&self.lp) as *const ()
    }
}

impl Awaitable<bool> for Waiter {
    fn waitable(&self) -> Rc<dyn Waitable> {
        self.0.clone()
    }

    fn try_result(&self) -> Result<bool, Error> {
        match self.0.state.get() {
            State::Pending => Err(Error::ResultNotSet),
            State::Done(value) => Ok(value),
            State::Cancelled => Err(Error::Cancelled),
        }
    }
}
