//! `asyncio.Barrier`: `parties` tasks wait until all have arrived.
//!
//! CPython builds it on a [`Condition`] and a state (filling, draining,
//! resetting, broken), and so does this file, statement for statement, so
//! its passes are CPython's: the last task to arrive starts draining and
//! notifies all; each woken task retakes the condition's lock in turn, and
//! the last one out returns the barrier to filling. `abort` breaks it
//! (waiters and later arrivals get `Barrier aborted`, or `Abort or reset
//! of barrier` if they were waiting); `reset` breaks the current waiters
//! and lets the barrier fill again. The same in 3.11, 3.12 and 3.13.

use super::condition::Condition;
use crate::error::Error;
use std::cell::Cell;
use std::rc::Rc;

/// `_BarrierState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Filling,
    Draining,
    Resetting,
    Broken,
}

/// `asyncio.Barrier(parties)`. Cheap to clone: clones are the same barrier.
///
/// ```
/// use loopsim::sync::Barrier;
/// use loopsim::{new_event_loop, sleep};
///
/// let lp = new_event_loop();
/// let barrier = Barrier::new(2);
/// let arrivals: Vec<_> = [1.0, 3.0].into_iter().map(|late| {
///     let barrier = barrier.clone();
///     lp.create_task(async move {
///         sleep(late).await?;
///         let index = barrier.wait().await?; // both pass at t=3
///         Ok(index as i64)
///     }).unwrap()
/// }).collect();
/// assert_eq!(lp.run_until_complete(&arrivals[0]), Ok(0));
/// assert_eq!(arrivals[1].result(), Ok(1));
/// assert_eq!(lp.time(), 3.0);
/// ```
#[derive(Clone)]
pub struct Barrier(Rc<BarrierInner>);

struct BarrierInner {
    cond: Condition,
    parties: usize,
    state: Cell<State>,
    count: Cell<usize>,
}

impl Barrier {
    /// `asyncio.Barrier(parties)`.
    ///
    /// # Panics
    /// If `parties` is 0 (asyncio's `ValueError: parties must be > 0`).
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "parties must be > 0");
        Barrier(Rc::new(BarrierInner {
            cond: Condition::new(),
            parties,
            state: Cell::new(State::Filling),
            count: Cell::new(0),
        }))
    }

    /// `barrier.parties`.
    pub fn parties(&self) -> usize {
        self.0.parties
    }

    /// `barrier.n_waiting`: tasks waiting while it fills.
    pub fn n_waiting(&self) -> usize {
        match self.0.state.get() {
            State::Filling => self.0.count.get(),
            _ => 0,
        }
    }

    /// `barrier.broken`.
    pub fn broken(&self) -> bool {
        self.0.state.get() == State::Broken
    }

    /// `await barrier.wait()`: this task's arrival index, from 0, once
    /// `parties` tasks have arrived; [`Error::BarrierAborted`] or
    /// [`Error::BarrierBroken`] if it is aborted or reset meanwhile.
    pub async fn wait(&self) -> Result<usize, Error> {
        let me = &self.0;
        me.cond.acquire().await?;
        let outcome = self.wait_locked().await;
        let released = me.cond.release();
        let index = outcome?;
        released.map(|()| index)
    }

    /// The body of `async with self._cond:` in `wait`.
    async fn wait_locked(&self) -> Result<usize, Error> {
        let me = &self.0;
        // `_block`: wait while draining or resetting.
        self.wait_until(|s| !matches!(s, State::Draining | State::Resetting))
            .await?;
        if me.state.get() == State::Broken {
            return Err(Error::BarrierAborted);
        }
        let index = me.count.get();
        me.count.set(index + 1);
        let outcome = if index + 1 == me.parties {
            // `_release`
            me.state.set(State::Draining);
            me.cond.notify_all()
        } else {
            // `_wait`
            match self.wait_until(|s| s != State::Filling).await {
                Ok(()) if matches!(me.state.get(), State::Broken | State::Resetting) => {
                    Err(Error::BarrierBroken)
                }
                other => other,
            }
        };
        // `finally`: what it raises replaces the outcome.
        me.count.set(me.count.get() - 1);
        self.exit().and(outcome.map(|()| index))
    }

    /// `cond.wait_for(lambda: pred(state))`.
    async fn wait_until(&self, pred: impl Fn(State) -> bool) -> Result<(), Error> {
        while !pred(self.0.state.get()) {
            self.0.cond.wait().await?;
        }
        Ok(())
    }

    /// `_exit`: the last task out ends draining or resetting.
    fn exit(&self) -> Result<(), Error> {
        let me = &self.0;
        if me.count.get() == 0 {
            if matches!(me.state.get(), State::Resetting | State::Draining) {
                me.state.set(State::Filling);
            }
            return me.cond.notify_all();
        }
        Ok(())
    }

    /// `await barrier.reset()`: waiting tasks get [`Error::BarrierBroken`];
    /// the barrier fills again.
    pub async fn reset(&self) -> Result<(), Error> {
        let me = &self.0;
        me.cond.acquire().await?;
        if me.count.get() > 0 {
            if me.state.get() != State::Resetting {
                me.state.set(State::Resetting);
            }
        } else {
            me.state.set(State::Filling);
        }
        let notified = me.cond.notify_all();
        me.cond.release().and(notified)
    }

    /// `await barrier.abort()`: the barrier is broken for good.
    pub async fn abort(&self) -> Result<(), Error> {
        let me = &self.0;
        me.cond.acquire().await?;
        me.state.set(State::Broken);
        let notified = me.cond.notify_all();
        me.cond.release().and(notified)
    }
}
