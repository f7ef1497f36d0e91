//! `asyncio.Lock`: one owner at a time, waiters served first come, first
//! served.
//!
//! As in CPython (the same code in 3.11, 3.12 and 3.13): `acquire` takes a
//! free lock at once unless a waiter is queued that is not cancelled (fair
//! scheduling: no jumping the queue); otherwise it queues a waiter future.
//! `release` sets the result of the first waiter, whose task takes the lock
//! one pass later. A waiter cancelled after it was woken must not swallow
//! the wake-up: on its way out it wakes the next one, unless someone took
//! the lock meanwhile.

use super::audit::{self, mutant};
use super::waiters::{wake, LoopBinding, Waiters};
use crate::error::Error;
use std::cell::Cell;
use std::rc::Rc;

/// `asyncio.Lock()`. Cheap to clone: clones are the same lock.
///
/// ```
/// use loopsim::sync::Lock;
/// use loopsim::{new_event_loop, sleep};
///
/// let lp = new_event_loop();
/// let lock = Lock::new();
/// for name in ["a", "b"] {
///     let lock = lock.clone();
///     lp.create_task_named(name, async move {
///         let _guard = lock.lock().await?; // released when dropped
///         loopsim::get_running_loop().unwrap().log(format!("{name} holds it"));
///         sleep(1.0).await
///     }).unwrap();
/// }
/// lp.run_until_complete(&lp.create_task(async { sleep(5.0).await }).unwrap()).unwrap();
/// let logs: Vec<String> = lp.trace().iter().map(|e| e.to_string()).filter(|e| e.contains("log")).collect();
/// assert_eq!(logs, ["#1 t=0.0 log text=\"a holds it\"", "#4 t=1.0 log text=\"b holds it\""]);
/// assert!(!lock.locked());
/// ```
#[derive(Clone, Default)]
pub struct Lock(pub(crate) Rc<LockInner>);

#[derive(Default)]
pub(crate) struct LockInner {
    locked: Cell<bool>,
    waiters: Waiters,
    binding: LoopBinding,
    /// The invariant's shadow: acquires that returned, minus releases.
    owners: Cell<u32>,
}

impl Lock {
    /// An unlocked lock, bound to no loop yet.
    pub fn new() -> Lock {
        Lock::default()
    }

    /// `lock.locked()`.
    pub fn locked(&self) -> bool {
        self.0.locked.get()
    }

    /// `await lock.acquire()`: waits until the lock is free, then takes it.
    /// `Err(Cancelled)` if the task is cancelled while waiting;
    /// [`Error::BoundToDifferentLoop`] if it must wait on a loop other than
    /// the one the lock is bound to.
    pub async fn acquire(&self) -> Result<(), Error> {
        let me = &self.0;
        if (!me.locked.get() || mutant!(LockDoubleOwner)) && me.waiters.all_cancelled() {
            me.locked.set(true);
            me.took();
            return Ok(());
        }
        let lp = me.binding.get_loop()?;
        let fut = me.waiters.push_new(&lp);
        let woken = fut.wait().await;
        me.waiters.remove(&fut);
        if let Err(error) = woken {
            if error.is_cancelled() && !me.locked.get() {
                // The waiters are this running loop's: never refused.
                let _ = me.wake_up_first();
            }
            me.waiters.done_with(fut);
            return Err(error);
        }
        me.locked.set(true);
        me.took();
        me.waiters.done_with(fut);
        Ok(())
    }

    /// `lock.release()`: frees the lock and wakes the first waiter.
    /// [`Error::LockNotAcquired`] on a lock that is not locked.
    #[inline]
    pub fn release(&self) -> Result<(), Error> {
        let me = &self.0;
        if !me.locked.get() {
            return Err(Error::LockNotAcquired);
        }
        me.locked.set(false);
        me.owners.set(me.owners.get().saturating_sub(1));
        me.wake_up_first()
    }

    /// `async with lock:` — [`acquire`](Lock::acquire), then a guard that
    /// releases the lock when dropped.
    pub async fn lock(&self) -> Result<LockGuard, Error> {
        self.acquire().await?;
        Ok(LockGuard(self.clone()))
    }

    /// Tasks waiting to acquire (cancelled ones not yet gone included).
    pub fn waiting(&self) -> usize {
        self.0.waiters.len()
    }
}

impl LockInner {
    /// `_wake_up_first`: the first waiter, if not already woken.
    #[inline]
    fn wake_up_first(&self) -> Result<(), Error> {
        self.waiters.wake_first(|fut| match fut {
            Some(fut) if !fut.done() => wake(fut, true),
            _ => Ok(()),
        })
    }

    /// A task took the lock: one more owner, who must be the only one.
    #[inline]
    fn took(&self) {
        let owners = self.owners.get() + 1;
        self.owners.set(owners);
        if owners > 1 {
            audit::violated("lock_owner", || format!("a lock has {owners} owners"));
        }
    }
}

/// Holds a [`Lock`] and releases it when dropped: the end of `async with
/// lock:`.
pub struct LockGuard(Lock);

impl LockGuard {
    /// The lock held.
    pub fn lock(&self) -> &Lock {
        &self.0
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.0.release();
    }
}
