//! `asyncio.Semaphore` and `asyncio.BoundedSemaphore`: a counter that
//! `acquire` takes from and `release` gives back.
//!
//! `locked()` is true when the value is 0 *or* a waiter that is not
//! cancelled is queued (FIFO: a newcomer never overtakes a waiter).
//! `release` hands the count to the first waiter not yet woken, decrementing
//! the value for it at once. What a woken waiter does when it is cancelled
//! before it runs differs by version, and both are reproduced:
//!
//! * 3.11, 3.12: it gives the count back and wakes the next waiter; after a
//!   successful wait, a value still above 0 wakes one more;
//! * 3.13: it gives the count back, and on every way out (`finally`) wakes
//!   waiters for as long as the value is above 0.

use super::audit::{self, mutant};
use super::waiters::{wake, LoopBinding, Waiters};
use crate::error::Error;
use crate::python::Python;
use std::cell::Cell;
use std::rc::Rc;

/// `asyncio.Semaphore(value)`. Cheap to clone: clones are the same
/// semaphore.
///
/// ```
/// use loopsim::sync::Semaphore;
/// use loopsim::{new_event_loop, sleep};
///
/// let lp = new_event_loop();
/// let slots = Semaphore::new(2);
/// let mut tasks = Vec::new();
/// for _ in 0..3 {
///     let slots = slots.clone();
///     tasks.push(lp.create_task(async move {
///         slots.acquire().await?;
///         sleep(1.0).await?;
///         slots.release()?;
///         Ok(loopsim::get_running_loop().unwrap().time() as i64)
///     }).unwrap());
/// }
/// assert_eq!(lp.run_until_complete(&tasks[1]), Ok(1));
/// assert_eq!(lp.run_until_complete(&tasks[2]), Ok(2)); // waited for a slot
/// ```
#[derive(Clone)]
pub struct Semaphore(Rc<SemaphoreInner>);

struct SemaphoreInner {
    value: Cell<i64>,
    /// `BoundedSemaphore`'s `_bound_value`.
    bound: Option<i64>,
    waiters: Waiters,
    binding: LoopBinding,
}

/// `asyncio.BoundedSemaphore(value)`: a [`Semaphore`] whose `release`
/// fails rather than raise the value above its start. Cheap to clone.
///
/// ```
/// use loopsim::sync::BoundedSemaphore;
/// use loopsim::Error;
///
/// let sem = BoundedSemaphore::new(1);
/// assert_eq!(sem.release(), Err(Error::BoundedSemaphoreOverflow));
/// assert_eq!(Error::BoundedSemaphoreOverflow.to_string(), "BoundedSemaphore released too many times");
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore(Semaphore);

impl Semaphore {
    /// `asyncio.Semaphore(value)`.
    ///
    /// # Panics
    /// If `value` is negative (asyncio's `ValueError`).
    pub fn new(value: u32) -> Semaphore {
        Semaphore::with_bound(value, None)
    }

    fn with_bound(value: u32, bound: Option<i64>) -> Semaphore {
        Semaphore(Rc::new(SemaphoreInner {
            value: Cell::new(i64::from(value)),
            bound,
            waiters: Waiters::default(),
            binding: LoopBinding::default(),
        }))
    }

    /// The internal counter (`sem._value`).
    pub fn value(&self) -> i64 {
        self.0.value.get()
    }

    /// `sem.locked()`: true when `acquire` would wait, because the value
    /// is 0 or a waiter that is not cancelled is queued.
    pub fn locked(&self) -> bool {
        self.0.value.get() == 0 || !self.0.waiters.all_cancelled()
    }

    /// `await sem.acquire()`.
    pub async fn acquire(&self) -> Result<(), Error> {
        let me = &self.0;
        if !self.locked() || mutant!(SemaphoreNegative) {
            me.add(-1);
            return Ok(());
        }
        let lp = me.binding.get_loop()?;
        let fut = me.waiters.push_new(&lp);
        let woken = fut.wait().await;
        me.waiters.remove(&fut);
        if lp.python().at_least(Python::V3_13) {
            if let Err(Error::Cancelled) = woken {
                if fut.done() && !fut.cancelled() {
                    me.add(1);
                }
            }
            // The waiters are this running loop's: never refused.
            while me.value.get() > 0 {
                if me.wake_up_next() != Ok(true) {
                    break;
                }
            }
            return woken.map(drop);
        }
        match woken {
            Err(Error::Cancelled) => {
                if !fut.cancelled() {
                    me.add(1);
                    let _ = me.wake_up_next();
                }
                Err(Error::Cancelled)
            }
            Err(error) => Err(error),
            Ok(_) => {
                if me.value.get() > 0 {
                    let _ = me.wake_up_next();
                }
                Ok(())
            }
        }
    }

    /// `sem.release()`: one more count, handed to the first waiter.
    pub fn release(&self) -> Result<(), Error> {
        self.0.add(1);
        self.0.wake_up_next().map(drop)
    }

    /// Tasks waiting to acquire (cancelled ones not yet gone included).
    pub fn waiting(&self) -> usize {
        self.0.waiters.len()
    }
}

impl SemaphoreInner {
    /// `_wake_up_next`: the first waiter not yet woken takes a count.
    fn wake_up_next(&self) -> Result<bool, Error> {
        match self.waiters.first_pending() {
            Some(fut) => {
                self.add(-1);
                wake(&fut, true)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// `_value += delta`, judged against the invariant.
    fn add(&self, delta: i64) {
        let value = self.value.get() + delta;
        self.value.set(value);
        if value < 0 {
            audit::violated("semaphore_value", || {
                format!("a semaphore's value is {value}")
            });
        }
        if let Some(bound) = self.bound.filter(|b| value > *b) {
            audit::violated("semaphore_value", || {
                format!("a bounded semaphore's value is {value}, above its start {bound}")
            });
        }
    }
}

impl BoundedSemaphore {
    /// `asyncio.BoundedSemaphore(value)`.
    pub fn new(value: u32) -> BoundedSemaphore {
        BoundedSemaphore(Semaphore::with_bound(value, Some(i64::from(value))))
    }

    /// `sem.release()`; [`Error::BoundedSemaphoreOverflow`] when the value
    /// is already at its start.
    pub fn release(&self) -> Result<(), Error> {
        let me = &self.0 .0;
        if me.value.get() >= me.bound.unwrap_or(i64::MAX) && !mutant!(SemaphoreUnbounded) {
            return Err(Error::BoundedSemaphoreOverflow);
        }
        self.0.release()
    }

    /// The semaphore itself: `acquire`, `locked`, `value`.
    pub fn semaphore(&self) -> &Semaphore {
        &self.0
    }

    /// `await sem.acquire()`.
    pub async fn acquire(&self) -> Result<(), Error> {
        self.0.acquire().await
    }

    /// `sem.locked()`.
    pub fn locked(&self) -> bool {
        self.0.locked()
    }

    /// The internal counter.
    pub fn value(&self) -> i64 {
        self.0.value()
    }
}
