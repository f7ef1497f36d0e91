//! Where scheduled callbacks live: one slab of slots per loop.
//!
//! CPython allocates a `Handle` object per callback. Here a callback is a
//! 24-byte slot in one vector, and the ready queue and the timer queue hold
//! slot numbers, so scheduling and running touch memory the loop already
//! owns, and a million pending timers cost a million slots rather than a
//! million allocations.
//!
//! A slot is alive while its callback is queued (ready or a timer). Once it
//! leaves its queue it goes on the free list and is reused. What refers to
//! it from outside ([`Handle`](crate::Handle)s, the loop's own `SlotRef`s)
//! names its sequence number too, so a slot freed or reused since is
//! recognised ([`Slots::holds`]) and left alone.
//!
//! `close` drops every queued callback. A slot whose callback it dropped
//! is left *discarded* rather than freed (a closed loop never schedules
//! again, so nothing would reuse it): what waited for that callback can
//! tell "dropped by close" from "ran" ([`Slots::forget_discarded`]), as
//! CPython can (a sleep whose timer `close` dropped is still pending).

use super::callback::Callback;

/// In the timer queue (CPython's `TimerHandle._scheduled`).
pub(crate) const IN_TIMERS: u8 = 1;
/// `Handle.cancel()` was called.
pub(crate) const CANCELLED: u8 = 2;
/// On the free list; any other slot is queued (ready or a timer) or
/// discarded.
const FREE: u8 = 4;
/// Its callback was dropped by `close` before it could run.
const DISCARDED: u8 = 8;

/// No slot: the end of the free list.
const NONE: u32 = u32::MAX;

/// The flags take the low byte of [`Slot::tag`], the sequence number the rest.
const SEQ_SHIFT: u32 = 8;

pub(crate) struct Slot {
    /// Taken when the callback runs or is cancelled.
    pub callback: Option<Callback>,
    /// The flags in the low byte, the sequence number (scheduling order
    /// within the loop's world; on the free list, the next free slot) in
    /// the 56 bits above: one word, so a slot is 24 bytes, and testing or
    /// setting a flag is one byte operation. 2^56 callbacks would take a
    /// loop running one per nanosecond two years.
    tag: u64,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 24);

impl Slot {
    #[inline]
    fn tag(seq: u64, flags: u8) -> u64 {
        assert!(
            seq >> (64 - SEQ_SHIFT) == 0,
            "fewer than 2^56 callbacks per world"
        );
        seq << SEQ_SHIFT | u64::from(flags)
    }

    /// The sequence number (see [`tag`](Slot::tag)).
    #[inline]
    pub fn seq(&self) -> u64 {
        self.tag >> SEQ_SHIFT
    }

    #[inline]
    pub fn is(&self, flag: u8) -> bool {
        self.tag as u8 & flag != 0
    }

    #[inline]
    pub fn set(&mut self, flag: u8) {
        self.tag |= u64::from(flag);
    }

    #[inline]
    pub fn clear(&mut self, flag: u8) {
        self.tag &= !u64::from(flag);
    }
}

pub(crate) struct Slots {
    slots: Vec<Slot>,
    /// The first free slot, or [`NONE`].
    free: u32,
    /// The seeded tie-break key of each slot's timer, under `random` only.
    tie_keys: Vec<u64>,
}

impl Default for Slots {
    fn default() -> Slots {
        Slots {
            slots: Vec::new(),
            free: NONE,
            tie_keys: Vec::new(),
        }
    }
}

impl Slots {
    /// A new queued slot for `callback`.
    #[inline(always)]
    pub fn insert(&mut self, seq: u64, callback: Callback, flags: u8) -> u32 {
        match self.free {
            NONE => {
                let id = u32::try_from(self.slots.len()).expect("fewer than 2^32 live callbacks");
                assert!(id != NONE, "fewer than 2^32 - 1 live callbacks");
                self.slots.push(Slot {
                    callback: Some(callback),
                    tag: Slot::tag(seq, flags),
                });
                id
            }
            id => {
                // Field by field, not `*slot = Slot { .. }`: building the
                // slot on the stack first and copying it costs a
                // store-forwarding stall on the hottest path of the loop.
                let slot = &mut self.slots[id as usize];
                // A free slot's sequence number is the next free slot.
                self.free = slot.seq() as u32;
                // A free slot has no callback (`dequeue` took it): nothing
                // to drop.
                debug_assert!(slot.callback.is_none());
                std::mem::forget(slot.callback.replace(callback));
                slot.tag = Slot::tag(seq, flags);
                id
            }
        }
    }

    #[inline]
    pub fn get(&self, id: u32) -> &Slot {
        &self.slots[id as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut Slot {
        &mut self.slots[id as usize]
    }

    /// The seeded key of a timer under `random` (0 when none was set).
    #[inline]
    pub fn tie_key(&self, id: u32) -> u64 {
        self.tie_keys.get(id as usize).copied().unwrap_or(0)
    }

    pub fn set_tie_key(&mut self, id: u32, key: u64) {
        let at = id as usize;
        if self.tie_keys.len() <= at {
            self.tie_keys.resize(at + 1, 0);
        }
        self.tie_keys[at] = key;
    }

    /// `(key, seq)`: the order among equal deadlines under `fifo` (key 0)
    /// and `random`.
    #[inline]
    pub fn tie(&self, id: u32) -> (u64, u64) {
        (self.tie_key(id), self.get(id).seq())
    }

    /// The slot left its queue and is freed. Returns its callback, if it
    /// still has one, for the caller to run or drop outside any borrow.
    #[inline]
    pub fn dequeue(&mut self, id: u32) -> Option<Callback> {
        let slot = &mut self.slots[id as usize];
        debug_assert!(!slot.is(FREE));
        let callback = slot.callback.take();
        slot.tag = Slot::tag(u64::from(self.free), FREE);
        self.free = id;
        callback
    }

    /// Whether slot `id` still holds the callback scheduled as `seq`: not
    /// freed since, not reused for another, not discarded by `close`.
    #[inline]
    pub fn holds(&self, id: u32, seq: u64) -> bool {
        let slot = &self.slots[id as usize];
        !slot.is(FREE | DISCARDED) && slot.seq() == seq
    }

    /// `close` takes the slot out of its queue: a callback still there is
    /// returned (for the caller to drop outside any borrow) and the slot
    /// stays, discarded; a slot whose callback was taken already (a
    /// cancelled timer) is freed.
    pub fn discard(&mut self, id: u32) -> Option<Callback> {
        let slot = &mut self.slots[id as usize];
        match slot.callback.take() {
            Some(callback) => {
                slot.set(DISCARDED);
                Some(callback)
            }
            None => self.dequeue(id),
        }
    }

    /// Whether `close` discarded the callback scheduled as `seq` in slot
    /// `id` before it ran; it is then forgotten (freed), so this says so
    /// once.
    pub fn forget_discarded(&mut self, id: u32, seq: u64) -> bool {
        let slot = &self.slots[id as usize];
        let discarded = slot.is(DISCARDED) && !slot.is(FREE) && slot.seq() == seq;
        if discarded {
            drop(self.dequeue(id));
        }
        discarded
    }

    /// Live slots (for tests).
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.slots.iter().filter(|s| !s.is(FREE)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cb() -> Callback {
        super::super::callback::internal(|_| ())
    }

    #[test]
    fn a_slot_lives_while_queued_and_is_then_reused() {
        let mut slots = Slots::default();
        let a = slots.insert(0, cb(), 0);
        assert!(slots.holds(a, 0));
        assert!(slots.dequeue(a).is_some());
        assert_eq!(slots.live(), 0);
        assert!(!slots.holds(a, 0), "freed");
        let b = slots.insert(1, cb(), 0);
        assert_eq!(b, a, "freed slots are reused");
        assert!(
            slots.holds(b, 1) && !slots.holds(b, 0),
            "reused: the old sequence number is stale"
        );
        let c = slots.insert(2, cb(), 0);
        assert_ne!(c, b);
        drop(slots.dequeue(b));
        drop(slots.dequeue(c));
        assert_eq!(slots.live(), 0);
        let d = slots.insert(3, cb(), 0);
        let e = slots.insert(4, cb(), 0);
        assert_eq!((d, e), (c, b), "the free list is last in, first out");
    }

    #[test]
    fn a_discarded_slot_is_told_apart_from_one_that_ran_once() {
        let mut slots = Slots::default();
        let ran = slots.insert(0, cb(), IN_TIMERS);
        let dropped = slots.insert(1, cb(), IN_TIMERS);
        let taken = slots.insert(2, cb(), IN_TIMERS);
        drop(slots.dequeue(ran));
        drop(slots.get_mut(taken).callback.take());
        assert!(slots.discard(dropped).is_some());
        assert!(slots.discard(taken).is_none(), "nothing left to drop");
        assert!(!slots.holds(dropped, 1), "a discarded callback is not held");
        assert!(!slots.forget_discarded(ran, 0));
        assert!(!slots.forget_discarded(taken, 2));
        assert!(
            !slots.forget_discarded(dropped, 9),
            "another sequence number"
        );
        assert!(slots.forget_discarded(dropped, 1));
        assert!(!slots.forget_discarded(dropped, 1), "told once");
        assert_eq!(slots.live(), 0);
    }
}
