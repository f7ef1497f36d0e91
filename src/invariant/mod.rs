//! The invariants checked on every run.
//!
//! The checker sits apart from the loop: the loop only *reports* what it
//! does (a [`Probe`] per step of `_run_once`), and the checker keeps its own
//! model of the queues and the clock to judge those reports. A bug in the
//! loop's queues therefore shows up as a disagreement with the model, not as
//! a check that shares the bug. Violations become `invariant_violated`
//! events (and exit status 1 from the CLI).
//!
//! | invariant | meaning |
//! |---|---|
//! | `timer_early` | no timer leaves the queue (or runs) before its deadline |
//! | `timer_order` | timers leave in nondecreasing deadline order; ties as the policy says |
//! | `ready_fifo` | ready callbacks run in the order they became ready |
//! | `batch_snapshot` | a callback made ready during a batch never runs in it |
//! | `stop` | after `stop()`, `run_forever` returns at the end of that batch |
//! | `cancelled_ran` | a cancelled handle never runs |
//! | `clock` | the clock never goes back, and moves only when nothing is ready |
//! | `run_until_complete` | `run_until_complete` returns only when its future is done |
//! | `closed_loop` | a closed loop runs nothing |
//!
//! The synchronization primitives check their own invariants the same way,
//! against a shadow of their state (`src/sync/audit.rs`): `lock_owner`,
//! `semaphore_value`, `queue_maxsize`, `task_done`. So do the combinators,
//! judging the children themselves when they finish: `task_group_pending`
//! (a `TaskGroup` never finishes with a child pending) and `gather_done`
//! (`gather`'s future is done only when its children are, or one failed
//! without `return_exceptions`); `timeout` checks `timeout_early` (a
//! timeout never expires before the deadline it was entered with).

mod seq_bits;
mod timers;

use seq_bits::SeqBits;
use std::collections::VecDeque;
use timers::{PendingTimers, SeqMap};

/// One thing a loop did, as it reports it to the checker. `seq` numbers a
/// handle, `when` is a deadline and `now` the clock, in nanoseconds.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// A timer entered the queue with tie key `key`.
    TimerPushed { seq: u64, when: i64, key: u64 },
    /// A handle was cancelled.
    Cancelled { seq: u64 },
    /// A cancelled timer was dropped from the queue without running.
    TimerDropped { seq: u64 },
    /// A handle joined the ready queue.
    ReadyAppended { seq: u64 },
    /// A `_run_once` pass began.
    PassStart { iteration: u64, now: i64 },
    /// The pass waited: the clock moved.
    ClockAdvanced { from: i64, to: i64 },
    /// A due timer left the queue.
    TimerDue {
        seq: u64,
        when: i64,
        key: u64,
        now: i64,
    },
    /// The batch began with `size` ready callbacks.
    BatchStart { size: usize },
    /// A ready handle was taken: run, or skipped as cancelled.
    Run { seq: u64, now: i64, skipped: bool },
    /// The batch ended.
    BatchEnd,
    /// A budget ran out before a callback of the batch: the rest of the
    /// batch stays queued and the run ends.
    BudgetEnded,
    /// The ready queue ran out before the batch did (a nested run took
    /// from it): CPython's `IndexError`, and the run ends.
    BatchEmptied,
    /// `stop()` was called.
    Stop,
    /// `run_forever`'s loop ended (for any reason).
    RunForeverReturned,
    /// A failed `run_forever` ran CPython 3.13's cleanup: the loop is no
    /// longer stopping.
    RunForeverCleanup,
    /// `run_until_complete` returned; `ok`: with its future's result.
    RunUntilCompleteReturned { ok: bool, future_done: bool },
    /// The loop was closed.
    Closed,
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's short name (see the module table).
    pub invariant: &'static str,
    /// What happened.
    pub message: String,
}

/// The checker's model of one loop.
#[derive(Default)]
struct LoopModel {
    /// Ready handles, with a timer's deadline.
    ready: VecDeque<(u64, Option<i64>)>,
    /// For each batch under way, innermost last: how many of the callbacks
    /// ready when it began are left; `None` once a nested run of this loop
    /// (CPython 3.13.0 allows one, in a callback) took from its queue.
    batches: Vec<Option<usize>>,
    /// Pending timers, with their deadlines and tie keys.
    timers: PendingTimers,
    /// The last timer that left the queue in this pass, by total key
    /// `(when, key, seq)`: the next one must not come before it.
    last_due: Option<(i64, u64, u64)>,
    /// Timers that left the queue, with their deadlines, in order, until
    /// they join the ready queue (at once, unless a tie-order script
    /// reorders them: then they wait in `due`).
    due_queue: VecDeque<(u64, i64)>,
    due: SeqMap<i64>,
    stopping: bool,
    /// A batch ended while stopping: the next thing must be the return.
    must_return: bool,
    closed: bool,
}

/// Checks the probes of every loop in a world, in O(1) amortized per
/// probe: sets of sequence numbers as sliding bitsets (`seq_bits.rs`),
/// deadlines carried along the ready queue, and the pending timers filed
/// against the clock (`timers.rs`).
#[derive(Default)]
pub struct Checker {
    /// By loop id (ids count up from 0).
    loops: Vec<LoopModel>,
    cancelled: SeqBits,
    clock: Option<i64>,
    /// Compare ties by `(key, seq)`; `heapq` ties are CPython's business
    /// (checked against CPython by the conformance suite).
    pub total_tie_order: bool,
}

impl Checker {
    /// A checker for a world whose tie-break policy is `policy`.
    pub fn for_policy(policy: crate::TieBreak) -> Checker {
        Checker {
            total_tie_order: policy != crate::TieBreak::Heapq,
            ..Checker::default()
        }
    }

    /// Judges one probe from loop `id`. Inlined into the loop's one
    /// caller (`LoopInner::check`): a call fewer per probe, of seven a pass.
    #[inline]
    pub fn observe(&mut self, id: u32, probe: &Probe) -> Option<Violation> {
        let fail =
            |invariant: &'static str, message: String| Some(Violation { invariant, message });
        let total = self.total_tie_order;
        let index = id as usize;
        if index >= self.loops.len() {
            self.loops.resize_with(index + 1, LoopModel::default);
        }
        let model = &mut self.loops[index];
        if model.must_return
            && !matches!(
                probe,
                Probe::RunForeverReturned | Probe::Stop | Probe::RunForeverCleanup
            )
        {
            model.must_return = false;
            return fail(
                "stop",
                format!("the loop went on after the batch in which stop() was called ({probe:?})"),
            );
        }
        match *probe {
            Probe::TimerPushed { seq, when, .. } => model.timers.insert(seq, when),
            Probe::Cancelled { seq } => {
                self.cancelled.insert(seq);
            }
            Probe::TimerDropped { seq } => {
                model.timers.remove(seq);
                if !self.cancelled.remove(seq) {
                    return fail(
                        "cancelled_ran",
                        format!("timer #{seq} was dropped from the queue but never cancelled"),
                    );
                }
            }
            Probe::ReadyAppended { seq } => {
                let when = match model.due_queue.front() {
                    Some(&(first, when)) if first == seq => {
                        model.due_queue.pop_front();
                        Some(when)
                    }
                    Some(_) => {
                        model.due.extend(model.due_queue.drain(..));
                        model.due.remove(&seq)
                    }
                    None if model.due.is_empty() => None,
                    None => model.due.remove(&seq),
                };
                model.ready.push_back((seq, when));
            }
            Probe::PassStart { now, .. } => {
                model.last_due = None;
                if let Some(before) = self.clock {
                    if now < before {
                        return fail(
                            "clock",
                            format!("the clock went back from {before} ns to {now} ns"),
                        );
                    }
                }
                self.clock = Some(now);
            }
            Probe::ClockAdvanced { from, to } => {
                self.clock = Some(to);
                if to < from {
                    return fail(
                        "clock",
                        format!("the clock went back from {from} ns to {to} ns"),
                    );
                }
                if to > from && (!model.ready.is_empty() || model.stopping) {
                    return fail(
                        "clock",
                        format!(
                            "the clock moved from {from} ns to {to} ns while callbacks were ready"
                        ),
                    );
                }
            }
            Probe::TimerDue {
                seq,
                when,
                key,
                now,
            } => {
                model.timers.remove(seq);
                model.due_queue.push_back((seq, when));
                if when > now {
                    return fail(
                        "timer_early",
                        format!("timer #{seq} due at {when} ns left the queue at {now} ns"),
                    );
                }
                // Every pending timer due by `now` leaves in this pass
                // (checked at the batch's start): so this one is the
                // earliest pending if it comes after the pass's last.
                let last = model.last_due.replace((when, key, seq));
                if let Some((last_when, last_key, last_seq)) = last {
                    let out_of_order = if total {
                        (when, key, seq) < (last_when, last_key, last_seq)
                    } else {
                        when < last_when
                    };
                    if out_of_order {
                        return fail(
                            "timer_order",
                            format!("timer #{seq} (deadline {when} ns) left after timer #{last_seq} (deadline {last_when} ns)"),
                        );
                    }
                }
            }
            Probe::BatchStart { size } => {
                for outer in &mut model.batches {
                    *outer = None;
                }
                model.batches.push(Some(size));
                if let Some(now) = self.clock {
                    model.timers.advance(now);
                    if let Some((seq, when)) = model.timers.first_due() {
                        // Reported once: the model lets it go.
                        model.timers.remove(seq);
                        return fail(
                            "timer_order",
                            format!(
                                "timer #{seq} (deadline {when} ns) stayed in the queue at {now} ns"
                            ),
                        );
                    }
                }
                if size != model.ready.len() {
                    return fail(
                        "batch_snapshot",
                        format!(
                            "batch of {size} while {} callbacks were ready",
                            model.ready.len()
                        ),
                    );
                }
            }
            Probe::Run { seq, now, skipped } => {
                if model.closed {
                    return fail("closed_loop", format!("a closed loop ran handle #{seq}"));
                }
                let (expected, deadline) = match model.ready.pop_front() {
                    Some((first, when)) => (Some(first), when),
                    None => (None, None),
                };
                if expected != Some(seq) {
                    if let Some(at) = model.ready.iter().position(|(s, _)| *s == seq) {
                        model.ready.remove(at);
                    }
                    return fail(
                        "ready_fifo",
                        format!(
                            "handle #{seq} ran before handle #{}",
                            expected.map_or(-1, |s| s as i64)
                        ),
                    );
                }
                match model.batches.last_mut() {
                    Some(Some(0)) | None => {
                        return fail(
                            "batch_snapshot",
                            format!("handle #{seq} became ready during the batch and ran in it"),
                        )
                    }
                    Some(Some(left)) => *left -= 1,
                    Some(None) => {}
                }
                let was_cancelled = self.cancelled.remove(seq);
                if was_cancelled && !skipped {
                    return fail("cancelled_ran", format!("cancelled handle #{seq} ran"));
                }
                if let Some(when) = deadline {
                    if when > now && !skipped {
                        return fail(
                            "timer_early",
                            format!("timer #{seq} due at {when} ns ran at {now} ns"),
                        );
                    }
                }
            }
            Probe::BatchEnd => {
                if let Some(Some(left @ 1..)) = model.batches.pop() {
                    return fail(
                        "batch_snapshot",
                        format!("the batch ended with {left} of its callbacks not run"),
                    );
                }
                if model.stopping {
                    model.must_return = true;
                }
            }
            Probe::BudgetEnded | Probe::BatchEmptied => {
                model.batches.pop();
            }
            Probe::Stop => model.stopping = true,
            Probe::RunForeverReturned | Probe::RunForeverCleanup => {
                model.stopping = false;
                model.must_return = false;
            }
            Probe::RunUntilCompleteReturned { ok, future_done } => {
                if ok && !future_done {
                    return fail(
                        "run_until_complete",
                        "run_until_complete returned before its future was done".into(),
                    );
                }
            }
            Probe::Closed => {
                model.closed = true;
                model.ready.clear();
                model.timers.clear();
                model.due.clear();
                model.due_queue.clear();
            }
        }
        None
    }
}

/// Numbers in `0..bound` for the checker's own structures' tests, from our
/// own LCG (no dependency decides the cases).
#[cfg(test)]
fn test_cases() -> impl FnMut(u64) -> u64 {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    move |bound| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 32) % bound
    }
}
