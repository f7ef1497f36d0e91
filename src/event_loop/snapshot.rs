//! Recording the loop's state at the start of each pass
//! ([`LoopConfig::record_state`](crate::LoopConfig::record_state)): the
//! queues and tasks read as they are, into [`PassState`]s. Nothing here
//! runs, or is built, unless that flag is on.

use super::slots::{Slots, CANCELLED};
use super::{EventLoop, LoopInner, SlotRef};
use crate::loop_state::{Awaits, PassState, TaskState, TimerOrder, TimerState};
use crate::timer_queue::TimerEntry;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

/// What the state needs of a task, whatever its body (`task/mod.rs`).
pub(crate) trait TaskView {
    fn view_name(&self) -> Rc<str>;
    fn view_done(&self) -> bool;
    /// What it waits on; `sleep_until` finds the deadline of a sleep's
    /// timer still pending with its wake-up (`None`: it fired, or the
    /// sleep was cancelled, and the task's step is scheduled).
    fn view_awaits(&self, sleep_until: &dyn Fn(SlotRef) -> Option<i64>) -> Awaits;
}

/// A task the loop's state lists, held weakly (the state never keeps a
/// task alive).
pub(crate) type TaskEntry = Weak<dyn TaskView>;

fn timer_state(slots: &Slots, entry: &TimerEntry) -> TimerState {
    let slot = slots.get(entry.slot);
    let cancelled = slot.is(CANCELLED);
    let name = match &slot.callback {
        Some(callback) => callback.describe(),
        // A sleep whose task was cancelled: the timer fires as a no-op.
        None if !cancelled => "no-op (sleep cancelled)".into(),
        None => "cancelled".into(),
    };
    TimerState {
        when: entry.when,
        name,
        cancelled,
    }
}

impl LoopInner {
    /// Remembers a new task for the state's task list.
    pub(crate) fn register_task(&self, task: TaskEntry) {
        self.tasks.borrow_mut().push(task);
    }

    /// Records the state at the start of pass `self.iteration`.
    pub(super) fn snapshot(&self) {
        let queues = self.queues.borrow();
        let ready = queues
            .ready
            .as_slice()
            .iter()
            .map(|&slot| match &queues.slots.get(slot).callback {
                Some(callback) => callback.describe(),
                None => "cancelled".into(),
            })
            .collect();
        let slots = &queues.slots;
        let is_cancelled = |slot: u32| slots.get(slot).is(CANCELLED);
        let compacting = self.compacts(queues.timers.len());
        let entries = queues.timers.in_pop_order(
            slots,
            compacting.then_some(&is_cancelled as &dyn Fn(u32) -> bool),
        );
        let timers = entries
            .iter()
            .map(|e| timer_state(&queues.slots, e))
            .collect();
        let pending: BTreeMap<u32, i64> = entries.iter().map(|e| (e.slot, e.when)).collect();
        let sleep_until = |timer: SlotRef| {
            let (slot, seq) = timer.parts();
            let live = queues.slots.holds(slot, seq)
                && queues.slots.get(slot).callback.is_some()
                && !queues.slots.get(slot).is(CANCELLED);
            live.then(|| pending.get(&slot).copied()).flatten()
        };
        let tasks = {
            let mut registry = self.tasks.borrow_mut();
            registry.retain(|t| t.upgrade().is_some_and(|t| !t.view_done()));
            registry
                .iter()
                .filter_map(Weak::upgrade)
                .map(|task| TaskState {
                    name: task.view_name(),
                    awaits: task.view_awaits(&sleep_until),
                })
                .collect()
        };
        let policy = self.world.config.tie_break;
        let order = match self.world.tie_script {
            Some(_) => TimerOrder::Scripted(policy),
            None => TimerOrder::Policy(policy),
        };
        let state = PassState {
            loop_id: self.id,
            iteration: self.iteration.get(),
            time: self.now(),
            now: self.now(),
            at_event: self.world.trace.borrow().len() as usize,
            ready,
            timers,
            order,
            due: Vec::new(),
            tasks,
        };
        drop(queues);
        self.world.states.borrow_mut().push(state);
    }

    /// The pass waited and moved its due timers to the ready queue: the
    /// last state learns the clock after the wait and, from the ready
    /// queue's tail, the order the due timers took.
    pub(super) fn snapshot_due(&self, due: &[TimerEntry]) {
        let queues = self.queues.borrow();
        let due = due.iter().map(|e| timer_state(&queues.slots, e)).collect();
        let mut states = self.world.states.borrow_mut();
        if let Some(state) = states.last_mut() {
            state.now = self.now();
            state.due = due;
        }
    }
}

impl EventLoop {
    /// The loop's state at the start of every pass so far, of this loop and
    /// every loop sharing its clock, in the order the passes began (empty
    /// unless [`LoopConfig::record_state`](crate::LoopConfig::record_state)).
    pub fn states(&self) -> Vec<PassState> {
        self.inner.world.states.borrow().clone()
    }

    /// Takes the states so far, leaving none.
    pub fn take_states(&self) -> Vec<PassState> {
        std::mem::take(&mut *self.inner.world.states.borrow_mut())
    }
}
