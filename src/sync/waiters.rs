//! The one mechanism under every primitive: a FIFO of waiter futures, and
//! the loop the primitive is bound to.
//!
//! CPython's `Lib/asyncio/locks.py` and `queues.py` build every primitive
//! the same way: a task that must wait makes a future on its loop
//! (`self._get_loop().create_future()`), appends it to a `deque`, and awaits
//! it; whoever wakes it sets the future's result, which schedules the
//! task's wake-up with `call_soon`, so the task resumes one pass later.
//! [`Waiters`] is that deque; [`LoopBinding`] is `mixins._LoopBoundMixin`:
//! a primitive belongs to no loop until the first call that must wait, and
//! from then on only to that one.
//!
//! Waiter futures are unnamed, so the trace never shows them: it shows the
//! steps and passes they cost, exactly as CPython's do.

use crate::error::Error;
use crate::event_loop::{get_running_loop, EventLoop, LoopInner};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

pub(crate) use super::waiter::Waiter;

/// `fut.set_result(value)` on a waiter not yet done. On a closed loop the
/// waiter is done all the same and its task's wake-up is refused: the
/// `Event loop is closed` CPython raises there, returned unrecorded, so
/// that the primitive's call stops where CPython's does and the statement
/// records it once (DESIGN.md, decision 16).
#[inline]
pub(crate) fn wake(fut: &Waiter, value: bool) -> Result<(), Error> {
    fut.finish_unrecorded(value)
}

/// `mixins._LoopBoundMixin`: the loop a primitive is bound to, set by the
/// first call that must wait.
#[derive(Default)]
pub(crate) struct LoopBinding {
    bound: RefCell<Option<Weak<LoopInner>>>,
}

impl LoopBinding {
    /// `self._get_loop()`: the running loop, binding to it on first use;
    /// [`Error::BoundToDifferentLoop`] if bound to another.
    ///
    /// Only CPython 3.13.0 lets a task step with no running loop (a failed
    /// nested `run_forever` cleared it): `_get_loop()` then returns `None`
    /// for an unbound primitive, whose `create_future()` is an
    /// `AttributeError`, and a bound one is "bound to a different loop".
    #[inline]
    pub(crate) fn get_loop(&self) -> Result<EventLoop, Error> {
        let Some(lp) = get_running_loop() else {
            return Err(match &*self.bound.borrow() {
                None => Error::raised("'NoneType' object has no attribute 'create_future'"),
                Some(_) => Error::BoundToDifferentLoop,
            });
        };
        let mut bound = self.bound.borrow_mut();
        match &*bound {
            None => *bound = Some(Rc::downgrade(&lp.inner)),
            Some(weak) if std::ptr::eq(weak.as_ptr(), Rc::as_ptr(&lp.inner)) => {}
            Some(_) => return Err(Error::BoundToDifferentLoop),
        }
        Ok(lp)
    }
}

/// A `collections.deque` of waiter futures, oldest first.
#[derive(Default)]
pub(crate) struct Waiters {
    queue: RefCell<VecDeque<Waiter>>,
    /// `len(queue)`, kept beside it: a queue's every `put_nowait` and
    /// `get_nowait` asks whether anyone waits, and this answers without
    /// borrowing the deque.
    count: Cell<usize>,
    /// A waiter done with, whose memory the next `push_new` reuses: a
    /// task that waits allocates nothing, most of the time.
    spare: Cell<Option<Waiter>>,
}

impl Waiters {
    /// `fut = loop.create_future(); waiters.append(fut)`.
    #[inline]
    pub(crate) fn push_new(&self, lp: &EventLoop) -> Waiter {
        let fut = match self.spare.take().and_then(|spare| spare.renew(lp)) {
            Some(renewed) => renewed,
            None => Waiter::new(lp),
        };
        self.push(fut.clone());
        fut
    }

    /// `waiters.append(fut)`.
    #[inline]
    pub(crate) fn push(&self, fut: Waiter) {
        self.queue.borrow_mut().push_back(fut);
        self.count.set(self.count.get() + 1);
    }

    /// `waiters.remove(fut)`: the first entry that is `fut`; `false` (the
    /// `ValueError`) if none is.
    #[inline]
    pub(crate) fn remove(&self, fut: &Waiter) -> bool {
        let mut queue = self.queue.borrow_mut();
        if queue.front().is_some_and(|w| w.same(fut)) {
            // The common case: the oldest waiter leaves.
            drop(queue.pop_front());
            self.count.set(queue.len());
            return true;
        }
        match queue.iter().position(|w| w.same(fut)) {
            Some(at) => {
                queue.remove(at);
                self.count.set(queue.len());
                true
            }
            None => false,
        }
    }

    /// The waiter a task awaited is done with, as its last use: where
    /// `fut` would be dropped. Its memory is kept for the next
    /// [`push_new`](Waiters::push_new) if nothing else holds it.
    #[inline]
    pub(crate) fn done_with(&self, fut: Waiter) {
        if fut.unshared() {
            self.spare.set(Some(fut));
        }
    }

    /// `not waiters`, without borrowing the deque.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.count.get() == 0
    }

    /// `waiters.popleft()`.
    #[inline]
    pub(crate) fn pop_front(&self) -> Option<Waiter> {
        if self.count.get() == 0 {
            return None;
        }
        self.count.set(self.count.get() - 1);
        self.queue.borrow_mut().pop_front()
    }

    /// `f` of the oldest waiter, left in place, without a clone of it:
    /// `f` may wake it (which only schedules its task's step) but must not
    /// touch this deque.
    #[inline]
    pub(crate) fn wake_first<R>(&self, f: impl FnOnce(Option<&Waiter>) -> R) -> R {
        f(self.queue.borrow().front())
    }

    /// `len(waiters)`.
    pub(crate) fn len(&self) -> usize {
        self.queue.borrow().len()
    }

    /// `all(w.cancelled() for w in waiters)` (true when empty).
    #[inline]
    pub(crate) fn all_cancelled(&self) -> bool {
        if self.count.get() == 0 {
            return true;
        }
        self.queue.borrow().iter().all(|w| w.cancelled())
    }

    /// The waiters in order, cloned out so that waking them may touch the
    /// deque (setting a result only schedules, but the clone keeps that
    /// reasoning local).
    pub(crate) fn snapshot(&self) -> Vec<Waiter> {
        self.queue.borrow().iter().cloned().collect()
    }

    /// The oldest waiter that is not done (`_wake_up_next`'s search).
    pub(crate) fn first_pending(&self) -> Option<Waiter> {
        self.queue.borrow().iter().find(|w| !w.done()).cloned()
    }
}
