//! [`Handle`]: the user's reference to one scheduled callback.

use crate::event_loop::callback::Callback;
use crate::event_loop::slots::{CANCELLED, IN_TIMERS, QUEUED};
use crate::event_loop::LoopInner;
use crate::invariant::Probe;
use crate::time::Instant;
use std::fmt;
use std::rc::Weak;

/// A scheduled callback, as `call_soon`, `call_later` and `call_at` return.
///
/// Cloning gives another handle to the same callback. A handle keeps its
/// slot in the loop alive (not the loop itself); once the loop is dropped,
/// [`cancel`](Handle::cancel) does nothing and
/// [`cancelled`](Handle::cancelled) answers `false`.
pub struct Handle {
    owner: Weak<LoopInner>,
    slot: u32,
    seq: u64,
    when: Option<i64>,
}

impl Handle {
    /// A handle to `slot`, whose count of handles already includes it.
    #[inline]
    pub(crate) fn new(owner: Weak<LoopInner>, slot: u32, seq: u64, when: Option<i64>) -> Handle {
        Handle {
            owner,
            slot,
            seq,
            when,
        }
    }

    /// Cancels the callback; it will not run. Cancelling twice, or after it
    /// ran, does nothing more (but [`cancelled`](Handle::cancelled) turns true,
    /// as in asyncio).
    pub fn cancel(&self) {
        if let Some(owner) = self.owner.upgrade() {
            owner.cancel_slot(self.slot);
        }
    }

    /// Whether [`cancel`](Handle::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.owner
            .upgrade()
            .is_some_and(|owner| owner.queues.borrow().slots.get(self.slot).is(CANCELLED))
    }

    /// A timer's deadline in seconds (`TimerHandle.when()`); `None` for
    /// `call_soon` handles.
    pub fn when(&self) -> Option<f64> {
        self.when.map(|ns| Instant(ns).as_secs_f64())
    }

    /// A timer's deadline as an exact [`Instant`].
    pub fn deadline(&self) -> Option<Instant> {
        self.when.map(Instant)
    }
}

/// The loop's own reference to a callback it scheduled (a sleep's timer),
/// for a task that already has the loop at hand.
///
/// Unlike a [`Handle`] it holds neither the loop nor a count in the slot,
/// so making and dropping one costs nothing; instead it names the slot's
/// sequence number, so once the callback has run and its slot was freed
/// (or reused), the reference is recognised as stale.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotRef {
    slot: u32,
    seq: u64,
}

impl SlotRef {
    pub(crate) fn new(slot: u32, seq: u64) -> SlotRef {
        SlotRef { slot, seq }
    }
}

impl LoopInner {
    /// `Handle.cancel()` through a [`SlotRef`]. Once the callback has run
    /// there is nothing left to cancel (CPython only sets a flag no one
    /// reads then).
    pub(crate) fn cancel_ref(&self, timer: SlotRef) {
        let scheduled = self.queues.borrow().slots.holds(timer.slot, timer.seq);
        if scheduled {
            self.cancel_slot(timer.slot);
        }
    }

    /// Takes the callback out if it has not run yet, leaving it queued, to
    /// run as a no-op.
    pub(crate) fn take_pending_callback(&self, timer: SlotRef) -> Option<Callback> {
        let mut queues = self.queues.borrow_mut();
        if !queues.slots.holds(timer.slot, timer.seq) {
            return None;
        }
        let slot = queues.slots.get_mut(timer.slot);
        if slot.is(QUEUED) {
            slot.callback.take()
        } else {
            None
        }
    }

    /// `Handle.cancel()`: marks the slot and drops its callback; a timer
    /// still in the queue counts towards the loop's cancelled-timer count,
    /// which decides compaction.
    pub(crate) fn cancel_slot(&self, id: u32) {
        let mut queues = self.queues.borrow_mut();
        let slot = queues.slots.get_mut(id);
        if slot.is(CANCELLED) {
            return;
        }
        slot.flags |= CANCELLED;
        let seq = slot.seq;
        let queued = slot.is(QUEUED);
        let in_timers = slot.is(IN_TIMERS);
        #[allow(unused_mut)]
        let mut callback = slot.callback.take();
        #[cfg(feature = "mutants")]
        if self.world.config.mutant == Some(crate::mutant::Mutant::RunCancelled) {
            slot.callback = callback.take(); // the bug keeps the callback, so it can run
        }
        if in_timers {
            self.timer_cancelled_count
                .set(self.timer_cancelled_count.get() + 1);
        }
        drop(queues);
        if queued {
            // Only a queued callback can still be skipped or dropped.
            self.report(|| Probe::Cancelled { seq });
        }
        // Dropped here, outside any borrow of the loop's queues.
        drop(callback);
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        if let Some(owner) = self.owner.upgrade() {
            owner.queues.borrow_mut().slots.retain(self.slot);
        }
        Handle {
            owner: self.owner.clone(),
            slot: self.slot,
            seq: self.seq,
            when: self.when,
        }
    }
}

impl Drop for Handle {
    #[inline]
    fn drop(&mut self) {
        // The loop is reached without `upgrade` (a count up and down again):
        // `release` runs no user code and drops nothing, so the loop cannot
        // go away while it is borrowed here.
        if self.owner.strong_count() > 0 {
            // SAFETY: a strong count above zero keeps the `LoopInner` alive,
            // and nothing below can drop it (see above).
            let owner = unsafe { &*self.owner.as_ptr() };
            owner.queues.borrow_mut().slots.release(self.slot);
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("seq", &self.seq)
            .field("when", &self.when)
            .field("cancelled", &self.cancelled())
            .finish()
    }
}
