//! Handles: one scheduled callback, and the user's way to cancel it.

use crate::error::Error;
use crate::event_loop::{EventLoop, LoopInner};
use crate::time::Instant;
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

/// Where a scheduled callback lives: an index into the loop's [`HandleSlab`].
pub(crate) type HandleId = u32;

/// One scheduled callback: CPython's `Handle`/`TimerHandle` state.
pub(crate) struct Slot {
    /// Owners: each [`Handle`] value, plus one while in the ready or timer
    /// queue. The slot is reused when the last one lets go.
    refs: u32,
    /// Scheduling order within the loop's world; the last tie-breaker.
    pub seq: u64,
    /// Deadline for timers; `None` for `call_soon`.
    pub when: Option<i64>,
    pub label: Label,
    callback: Option<Callback>,
    pub cancelled: bool,
    /// In the timer queue (CPython's `TimerHandle._scheduled`).
    pub scheduled: bool,
}

/// The loop's scheduled callbacks, in reusable slots: scheduling allocates
/// nothing once the slab has grown to the loop's working set.
#[derive(Default)]
pub(crate) struct HandleSlab {
    slots: Vec<Slot>,
    free: Vec<HandleId>,
}

impl HandleSlab {
    /// Stores a callback, owned by the queue and by `handles` more owners.
    pub fn insert(
        &mut self,
        seq: u64,
        when: Option<i64>,
        label: Label,
        callback: Callback,
        handles: u32,
    ) -> HandleId {
        let slot = Slot {
            refs: 1 + handles,
            seq,
            when,
            label,
            callback: Some(callback),
            cancelled: false,
            scheduled: false,
        };
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                HandleId::try_from(self.slots.len() - 1).expect("fewer than 2^32 pending callbacks")
            }
        }
    }

    pub fn get(&self, id: HandleId) -> &Slot {
        &self.slots[id as usize]
    }

    pub fn get_mut(&mut self, id: HandleId) -> &mut Slot {
        &mut self.slots[id as usize]
    }

    pub fn is_cancelled(&self, id: HandleId) -> bool {
        self.get(id).cancelled
    }

    /// Takes the callback to run it; a handle runs at most once.
    pub fn take_callback(&mut self, id: HandleId) -> Option<Callback> {
        self.get_mut(id).callback.take()
    }

    pub fn retain(&mut self, id: HandleId) {
        self.get_mut(id).refs += 1;
    }

    /// One owner lets go; the last frees the slot. Returns what the slot
    /// still held, for the caller to drop outside any borrow (dropping a
    /// callback can drop tasks and handles, which come back to the slab).
    pub fn release(&mut self, id: HandleId) -> Option<(Label, Option<Callback>)> {
        let slot = self.get_mut(id);
        slot.refs -= 1;
        if slot.refs > 0 {
            return None;
        }
        let label = std::mem::replace(&mut slot.label, Label::Internal);
        let callback = slot.callback.take();
        self.free.push(id);
        Some((label, callback))
    }

    /// Takes every callback out (closing the loop).
    pub fn take_all_callbacks(&mut self) -> Vec<Callback> {
        self.slots
            .iter_mut()
            .filter_map(|s| s.callback.take())
            .collect()
    }
}

/// A scheduled callback, as `call_soon`, `call_later` and `call_at` return.
///
/// Cloning gives another handle to the same callback.
pub struct Handle {
    owner: Weak<LoopInner>,
    id: HandleId,
    seq: u64,
    when: Option<i64>,
}

impl Handle {
    /// A new owner of slot `id` (the slab already counted it).
    pub(crate) fn new(owner: Weak<LoopInner>, id: HandleId, seq: u64, when: Option<i64>) -> Handle {
        Handle {
            owner,
            id,
            seq,
            when,
        }
    }

    /// Cancels the callback; it will not run. Cancelling twice, or after it
    /// ran, does nothing more (but [`cancelled`](Handle::cancelled) turns true,
    /// as in asyncio).
    pub fn cancel(&self) {
        if let Some(owner) = self.owner.upgrade() {
            owner.cancel_handle(self.id);
        }
    }

    /// Whether [`cancel`](Handle::cancel) was called (`false` once the loop
    /// itself is gone).
    pub fn cancelled(&self) -> bool {
        self.owner
            .upgrade()
            .is_some_and(|owner| owner.handles.borrow().is_cancelled(self.id))
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

impl Clone for Handle {
    fn clone(&self) -> Self {
        if let Some(owner) = self.owner.upgrade() {
            owner.handles.borrow_mut().retain(self.id);
        }
        Handle {
            owner: self.owner.clone(),
            ..*self
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let Some(owner) = self.owner.upgrade() else {
            return;
        };
        // A handle dropped while the slab is busy keeps its slot (a leak of
        // one slot, never a panic); the loop never drops user values there.
        let released = match owner.handles.try_borrow_mut() {
            Ok(mut slab) => slab.release(self.id),
            Err(_) => None,
        };
        drop(released);
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
