//! [`Handle`]: the user's reference to one scheduled callback.

use crate::event_loop::callback::Callback;
use crate::event_loop::slots::{CANCELLED, IN_TIMERS};
use crate::event_loop::LoopInner;
use crate::invariant::Probe;
use crate::time::Instant;
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::rc::{Rc, Weak};

/// A scheduled callback, as `call_soon`, `call_later` and `call_at` return.
///
/// Cloning gives another handle to the same callback: cancelling through
/// one shows in all. A handle holds neither the loop nor the callback's
/// slot (which is reused once the callback has run); it names the slot and
/// the callback's sequence number, so once the callback has run, or the
/// loop is gone, [`cancel`](Handle::cancel) only marks the handle, as in
/// asyncio.
pub struct Handle {
    owner: Weak<LoopInner>,
    slot: u32,
    seq: u64,
    when: Option<i64>,
    /// Whether `cancel` was called on this handle, until it is first cloned.
    cancelled: Cell<bool>,
    /// From the first clone on, the flag this handle and its clones share.
    shared: OnceCell<Rc<Cell<bool>>>,
}

impl Handle {
    /// A handle to the callback scheduled as `seq` in `slot`.
    #[inline]
    pub(crate) fn new(owner: Weak<LoopInner>, slot: u32, seq: u64, when: Option<i64>) -> Handle {
        Handle {
            owner,
            slot,
            seq,
            when,
            cancelled: Cell::new(false),
            shared: OnceCell::new(),
        }
    }

    /// Cancels the callback; it will not run. Cancelling twice, or after it
    /// ran, does nothing more (but [`cancelled`](Handle::cancelled) turns true,
    /// as in asyncio).
    pub fn cancel(&self) {
        match self.shared.get() {
            Some(flag) => flag.set(true),
            None => self.cancelled.set(true),
        }
        if let Some(owner) = self.owner.upgrade() {
            owner.cancel_ref(SlotRef::new(self.slot, self.seq));
        }
    }

    /// Whether [`cancel`](Handle::cancel) was called (on this handle or a
    /// clone of it).
    pub fn cancelled(&self) -> bool {
        self.shared
            .get()
            .map_or_else(|| self.cancelled.get(), |flag| flag.get())
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
/// Unlike a [`Handle`] it does not hold the loop, so making and dropping
/// one costs nothing. Like a handle it names the slot's sequence number, so
/// once the callback has run and its slot was freed (or reused), the
/// reference is recognised as stale.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotRef {
    slot: u32,
    seq: u64,
}

impl SlotRef {
    pub(crate) fn new(slot: u32, seq: u64) -> SlotRef {
        SlotRef { slot, seq }
    }

    /// The slot and the sequence number it must still hold.
    pub(crate) fn parts(self) -> (u32, u64) {
        (self.slot, self.seq)
    }
}

impl LoopInner {
    /// `Handle.cancel()`, for a [`Handle`] or the loop's own [`SlotRef`]:
    /// marks the slot cancelled and drops its callback; a timer counts
    /// towards the loop's cancelled-timer count, which decides compaction.
    /// Once the callback has run (its slot freed, or reused) there is
    /// nothing left to cancel: CPython only sets a flag then, which a
    /// `Handle` keeps itself.
    #[inline]
    pub(crate) fn cancel_ref(&self, target: SlotRef) {
        // Most often (a sleep's timer, cancelled as the sleep returns) the
        // callback has run: that check is all, and is kept inline.
        let scheduled = self.queues.borrow().slots.holds(target.slot, target.seq);
        if scheduled {
            self.cancel_scheduled(target);
        }
    }

    fn cancel_scheduled(&self, target: SlotRef) {
        let mut queues = self.queues.borrow_mut();
        let slot = queues.slots.get_mut(target.slot);
        if slot.is(CANCELLED) {
            return;
        }
        slot.set(CANCELLED);
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
        self.report(|| Probe::Cancelled { seq: target.seq });
        // Dropped here, outside any borrow of the loop's queues.
        drop(callback);
    }

    /// Whether `close` dropped `target`'s callback before it ran (told
    /// once: see [`Slots::forget_discarded`](super::slots::Slots::forget_discarded)).
    pub(crate) fn forget_discarded(&self, target: SlotRef) -> bool {
        let mut queues = self.queues.borrow_mut();
        queues.slots.forget_discarded(target.slot, target.seq)
    }

    /// Takes the callback out if it has not run yet, leaving it queued, to
    /// run as a no-op.
    pub(crate) fn take_pending_callback(&self, timer: SlotRef) -> Option<Callback> {
        let mut queues = self.queues.borrow_mut();
        if !queues.slots.holds(timer.slot, timer.seq) {
            return None;
        }
        queues.slots.get_mut(timer.slot).callback.take()
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        let flag = self
            .shared
            .get_or_init(|| Rc::new(Cell::new(self.cancelled.get())));
        Handle {
            owner: self.owner.clone(),
            slot: self.slot,
            seq: self.seq,
            when: self.when,
            cancelled: Cell::new(false),
            shared: OnceCell::from(flag.clone()),
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
