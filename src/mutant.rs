//! Deliberate bugs, compiled only with the `mutants` feature.
//!
//! Each mutant breaks one rule of the loop. The test suite turns each on and
//! shows that the invariant checker or a fuzz target catches it within a
//! bounded number of runs: checks that cannot fail prove nothing.

/// One deliberate bug in the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// The ready queue runs newest first.
    LifoReady,
    /// `run_forever` leaves in the middle of the batch in which `stop()` was called.
    StopMidBatch,
    /// Waits end 1 ns before the deadline, and timers 1 ns from due fire.
    TimerEarly,
    /// Cancelled handles run anyway.
    RunCancelled,
    /// Callbacks scheduled during a batch run in it.
    IgnoreBatchSnapshot,
    /// The `random` tie-break policy ignores the seed.
    UnseededRandomTies,
    /// `run_until_complete` returns without its future being done.
    ReturnEarly,
    /// A lock's `acquire` takes the lock even when it is held.
    LockDoubleOwner,
    /// A semaphore's `acquire` takes a count even at 0.
    SemaphoreNegative,
    /// A bounded semaphore's `release` ignores its bound.
    SemaphoreUnbounded,
    /// A queue's `put_nowait` ignores `maxsize`.
    QueueOverfull,
    /// A queue's `task_done` ignores that nothing is left to be done.
    TaskDoneUnchecked,
    /// A `TaskGroup` leaves its block without waiting for its children.
    TaskGroupNoWait,
    /// `gather` finishes with every result when its first child finishes.
    GatherFirstChild,
    /// `timeout`/`timeout_at` schedule their timer 1 ns before the deadline.
    TimeoutEarly,
    /// A `Queue`'s `get` takes the newest item, not the oldest: no
    /// invariant of the loop sees it, the `api` fuzz target's model of the
    /// queue does.
    QueueGetsNewest,
}

impl Mutant {
    /// Every mutant.
    pub const ALL: [Mutant; 7] = [
        Mutant::LifoReady,
        Mutant::StopMidBatch,
        Mutant::TimerEarly,
        Mutant::RunCancelled,
        Mutant::IgnoreBatchSnapshot,
        Mutant::UnseededRandomTies,
        Mutant::ReturnEarly,
    ];

    /// The mutants of the synchronization primitives (`src/sync/`).
    pub const SYNC: [Mutant; 5] = [
        Mutant::LockDoubleOwner,
        Mutant::SemaphoreNegative,
        Mutant::SemaphoreUnbounded,
        Mutant::QueueOverfull,
        Mutant::TaskDoneUnchecked,
    ];

    /// The mutants of the combinators (`src/combinators/`).
    pub const COMBINATORS: [Mutant; 3] = [
        Mutant::TaskGroupNoWait,
        Mutant::GatherFirstChild,
        Mutant::TimeoutEarly,
    ];
}
