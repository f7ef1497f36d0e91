//! A step that waits on several awaitables at once.
//!
//! A body that polls two loopsim awaitables in one step (a hand-written
//! join or select, `futures::join!`, `futures::select!`) suspends with each
//! of them blocked. The task then waits on all of them as `asyncio.wait`
//! with `FIRST_COMPLETED` waits on a private waiter future: the first of
//! them to finish wakes the task, and its next step runs one pass later,
//! as after a lone await. That step polls the body again, and each
//! awaitable knows its own readiness: a future or task is ready once it is
//! done, a `sleep` once its deadline is reached, a `yield_now` on the step
//! after it yielded; the others block again, and the task waits on them
//! anew.
//!
//! * a future or task gets a done callback that runs the step, unless
//!   something else woke the task first;
//! * the sleeps share one timer, at the earliest deadline, whose callback
//!   `call_soon`s the step, as a lone sleep's does;
//! * a `yield_now` `call_soon`s the step (no timer is needed then);
//! * cancelling the task wakes it with `CancelledError`, one pass later,
//!   as cancelling `asyncio.wait`'s waiter does; what it waits on is not
//!   cancelled. A cancel after the wake-up marks the task instead.
//!
//! The step that runs takes the other done callbacks off their futures and
//! cancels the timer (which stays queued, cancelled, as a sleep's does).
//! One allocation and boxed callbacks: this path is rare, and the lone
//! await keeps its own cheaper one.

use super::{TaskInner, Waiter};
use crate::error::Error;
use crate::event_loop::callback::{self, Callback};
use crate::event_loop::{Blocked, EventLoop, SlotRef};
use crate::future::Waitable;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// What a task waiting on several awaitables waits on.
pub(crate) struct Several {
    /// The task was woken (or its wake-up is scheduled): the remaining
    /// wake-ups do nothing.
    fired: Cell<bool>,
    /// The timer of the sleeps, at `deadline`, and whether it woke the task.
    timer: Cell<Option<SlotRef>>,
    deadline: Cell<i64>,
    timer_fired: Cell<bool>,
    /// The done callbacks added, to take off once the task wakes.
    callbacks: RefCell<Vec<(Rc<dyn Waitable>, u64)>>,
}

impl Several {
    /// Something woke the task; its step is scheduled.
    pub(crate) fn woken(&self) -> bool {
        self.fired.get()
    }

    /// The step begins: every wake-up but the one that ran is taken away.
    /// If the timer woke the task, every sleep due by its deadline is over
    /// (the step's `reached`).
    pub(crate) fn end(&self, lp: &EventLoop) {
        self.fired.set(true);
        for (waitable, id) in self.callbacks.take() {
            waitable.remove_done_callback(id);
        }
        if let Some(timer) = self.timer.take() {
            lp.inner.cancel_ref(timer);
        }
        if self.timer_fired.get() {
            lp.inner.step.reached.set(self.deadline.get());
        }
    }
}

impl<T, F> TaskInner<T, F>
where
    T: Clone + std::fmt::Debug + 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    /// The step ended with several awaitables blocked: wait on them all.
    #[cold]
    #[inline(never)]
    pub(super) fn suspend_on_several(self: &Rc<Self>, lp: &EventLoop, all: Vec<Blocked>) {
        // As for a lone await: another loop's future, or the task itself,
        // is thrown back in at once.
        for blocked in &all {
            if let Blocked::On(waitable) = blocked {
                let refused = if waitable.home() != Waitable::home(&self.future) {
                    Some(Error::AwaitedOtherLoop)
                } else if waitable.identity() == self.future_identity() {
                    Some(Error::AwaitItself)
                } else {
                    None
                };
                if let Some(error) = refused {
                    self.throw_next.set(Some(error));
                    let _ = lp.schedule_detached(None, self.step_callback());
                    return;
                }
            }
        }

        let several = Rc::new(Several {
            fired: Cell::new(false),
            timer: Cell::new(None),
            deadline: Cell::new(i64::MAX),
            timer_fired: Cell::new(false),
            callbacks: RefCell::new(Vec::new()),
        });
        let mut yielded = false;
        let mut deadline = None::<i64>;
        let mut all = all;
        while let Some(blocked) = all.pop() {
            match blocked {
                Blocked::Yield => yielded = true,
                Blocked::Sleep { until } => {
                    deadline = Some(deadline.map_or(until, |d| d.min(until)));
                }
                // `block` flattens them, but nesting would be harmless.
                Blocked::Several(more) => all.extend(*more),
                Blocked::On(waitable) => {
                    match waitable.add_done_callback(self.wake_from(&several)) {
                        Ok(id) => several.callbacks.borrow_mut().push((waitable, id)),
                        Err(error) => return self.finish(lp, Err(error)),
                    }
                }
            }
        }
        let scheduled = if yielded {
            lp.schedule_detached(None, self.wake_from(&several))
        } else if let Some(until) = deadline {
            several.deadline.set(until);
            lp.schedule_ref(Some(until), self.timer_of(&several))
                .map(|timer| several.timer.set(Some(timer)))
        } else {
            Ok(())
        };
        if let Err(error) = scheduled {
            return self.finish(lp, Err(error));
        }
        self.fut_waiter.set(Waiter::Several(several.clone()));
        if self.must_cancel.get() && self.cancel_several(lp, &several) == Ok(true) {
            self.must_cancel.set(false);
        }
    }

    /// A done callback (or a yield's `call_soon`) that runs the step,
    /// unless the task was woken already.
    fn wake_from(self: &Rc<Self>, several: &Rc<Several>) -> Callback {
        let task = self.clone();
        let several = several.clone();
        callback::internal(move |lp: &EventLoop| {
            if !several.fired.replace(true) {
                task.step(lp);
            }
        })
    }

    /// The sleeps' timer: `call_soon`s the step, unless the task was woken
    /// already.
    fn timer_of(self: &Rc<Self>, several: &Rc<Several>) -> Callback {
        let task = self.clone();
        let several = several.clone();
        callback::internal(move |lp: &EventLoop| {
            if !several.fired.replace(true) {
                several.timer_fired.set(true);
                let _ = lp.schedule_detached(None, task.step_callback());
            }
        })
    }

    /// Cancelling the task while it waits on several: it wakes with
    /// `CancelledError` in the next pass. `false` if it was woken already.
    pub(super) fn cancel_several(
        self: &Rc<Self>,
        lp: &EventLoop,
        several: &Several,
    ) -> Result<bool, Error> {
        if several.fired.replace(true) {
            return Ok(false);
        }
        self.throw_next.set(Some(Error::Cancelled));
        lp.schedule_detached(None, self.step_callback())?;
        Ok(true)
    }
}
