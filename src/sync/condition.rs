//! `asyncio.Condition`: tasks wait, holding a lock, to be notified.
//!
//! `wait` releases the lock, queues a waiter future, and once notified (or
//! cancelled) takes the lock again before it returns, retrying through
//! cancellations. `notify(n)` wakes the first `n` waiters not yet woken.
//! 3.13 changed `wait`: the waiter future is made before the lock is
//! released, and a `wait` that ends with an exception notifies one other
//! waiter (a woken waiter that was cancelled must not swallow the
//! notification). Both are reproduced.

use super::lock::Lock;
use super::waiters::{wake, LoopBinding, Waiters};
use crate::error::Error;
use crate::python::Python;
use std::rc::Rc;

/// `asyncio.Condition(lock)`. Cheap to clone: clones are the same
/// condition.
///
/// ```
/// use loopsim::sync::Condition;
/// use loopsim::{new_event_loop, yield_now};
///
/// let lp = new_event_loop();
/// let cond = Condition::new();
/// let waiter = {
///     let cond = cond.clone();
///     lp.create_task(async move {
///         cond.acquire().await?;
///         cond.wait().await?; // releases the lock while it waits
///         let held = cond.locked();
///         cond.release()?;
///         Ok(held)
///     }).unwrap()
/// };
/// let notifier = {
///     let cond = cond.clone();
///     lp.create_task(async move {
///         yield_now().await?;
///         let _held = cond.lock().lock().await?;
///         cond.notify(1)
///     }).unwrap()
/// };
/// assert_eq!(lp.run_until_complete(&waiter), Ok(true));
/// assert!(notifier.done());
/// ```
#[derive(Clone)]
pub struct Condition(Rc<ConditionInner>);

struct ConditionInner {
    lock: Lock,
    waiters: Waiters,
    binding: LoopBinding,
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl Condition {
    /// `asyncio.Condition()`: with a lock of its own.
    pub fn new() -> Condition {
        Condition::with_lock(Lock::new())
    }

    /// `asyncio.Condition(lock)`: over a lock that may be shared.
    pub fn with_lock(lock: Lock) -> Condition {
        Condition(Rc::new(ConditionInner {
            lock,
            waiters: Waiters::default(),
            binding: LoopBinding::default(),
        }))
    }

    /// The underlying lock (`cond._lock`).
    pub fn lock(&self) -> &Lock {
        &self.0.lock
    }

    /// `cond.locked()`: the lock's.
    pub fn locked(&self) -> bool {
        self.0.lock.locked()
    }

    /// `await cond.acquire()`: the lock's.
    pub async fn acquire(&self) -> Result<(), Error> {
        self.0.lock.acquire().await
    }

    /// `cond.release()`: the lock's.
    pub fn release(&self) -> Result<(), Error> {
        self.0.lock.release()
    }

    /// `await cond.wait()`: releases the lock, waits to be notified, takes
    /// the lock again. [`Error::WaitUnacquired`] if the lock is not held.
    pub async fn wait(&self) -> Result<(), Error> {
        if !self.locked() {
            return Err(Error::WaitUnacquired);
        }
        let me = &self.0;
        let python = crate::get_running_loop().map(|lp| lp.python());
        if python.is_some_and(|v| v.at_least(Python::V3_13)) {
            return self.wait_3_13().await;
        }
        // 3.11, 3.12
        self.release()?;
        let waited = match me.binding.get_loop() {
            Ok(lp) => {
                let fut = me.waiters.push_new(&lp);
                let woken = fut.wait().await;
                me.waiters.remove(&fut);
                woken.map(drop)
            }
            Err(error) => Err(error),
        };
        let mut cancelled = false;
        loop {
            match self.acquire().await {
                Ok(()) => break,
                Err(Error::Cancelled) => cancelled = true,
                Err(other) => return Err(other),
            }
        }
        if cancelled {
            return Err(Error::Cancelled);
        }
        waited
    }

    async fn wait_3_13(&self) -> Result<(), Error> {
        let me = &self.0;
        let lp = me.binding.get_loop()?;
        let fut = super::waiter::Waiter::new(&lp);
        self.release()?;
        me.waiters.push(fut.clone());
        let woken = fut.wait().await;
        me.waiters.remove(&fut);
        let mut err = None;
        let outcome = loop {
            match self.acquire().await {
                Ok(()) => break err.map_or(woken.map(drop), Err),
                Err(Error::Cancelled) => err = Some(Error::Cancelled),
                Err(other) => break Err(other),
            }
        };
        if outcome.is_err() {
            // The waiters are this running loop's: never refused.
            let _ = me.notify_pending(1);
        }
        outcome
    }

    /// `cond.notify(n)`: wakes up to `n` waiters.
    /// [`Error::NotifyUnacquired`] if the lock is not held.
    pub fn notify(&self, n: usize) -> Result<(), Error> {
        if !self.locked() {
            return Err(Error::NotifyUnacquired);
        }
        self.0.notify_pending(n)
    }

    /// `cond.notify_all()`.
    pub fn notify_all(&self) -> Result<(), Error> {
        self.notify(self.0.waiters.len())
    }

    /// Tasks waiting to be notified.
    pub fn waiting(&self) -> usize {
        self.0.waiters.len()
    }
}

impl ConditionInner {
    /// `_notify(n)`: the first `n` waiters not yet woken.
    fn notify_pending(&self, n: usize) -> Result<(), Error> {
        let mut woken = 0;
        for fut in self.waiters.snapshot() {
            if woken >= n {
                break;
            }
            if !fut.done() {
                woken += 1;
                wake(&fut, false)?;
            }
        }
        Ok(())
    }
}
