//! Errors, spelled as asyncio spells them.
//!
//! One enum serves both what asyncio raises as `RuntimeError` from loop calls
//! and what a task or future finishes with. Its `Display` is the exact text
//! asyncio prints, which is also what the trace records.
//!
//! [`Error`] is `Send + Sync + 'static` and implements
//! [`std::error::Error`], so `?` turns it into an `anyhow::Error` or a
//! `Box<dyn std::error::Error + Send + Sync>`.

use std::fmt;
use std::sync::Arc;

/// What a loop call failed with, or what a future or task raised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// `run_forever`/`run_until_complete` on a loop that is running.
    AlreadyRunning,
    /// `close` on a running loop.
    CloseRunning,
    /// Any scheduling call on a closed loop.
    Closed,
    /// Running a loop while another loop runs on this thread.
    AnotherLoopRunning,
    /// `run_until_complete` returned because of `stop()` before its future was done.
    StoppedBeforeComplete,
    /// `set_result`/`set_exception` on a future that is already done.
    InvalidState,
    /// `result()` of a future that is not done yet.
    ResultNotSet,
    /// The future or task was cancelled (`asyncio.CancelledError`).
    Cancelled,
    /// [`wait_for`](crate::wait_for) ran out of time (`asyncio.TimeoutError`).
    Timeout,
    /// `run_until_complete` or `wait_for` of a future or task of another
    /// loop (asyncio's `ValueError`).
    OtherLoopFuture,
    /// A task awaited a future or task of another loop (asyncio's
    /// `RuntimeError`, whose text also names both).
    AwaitedOtherLoop,
    /// A task awaited itself.
    AwaitItself,
    /// Nothing was ready and no timer was left: a real loop would block
    /// forever. `run_until_complete` fails with it (its future can never
    /// finish); `run_forever` returns [`Ended::Idle`](crate::Ended::Idle).
    Idle,
    /// `asyncio.get_running_loop()` found none (`RuntimeError`): in
    /// CPython 3.13.0 a task can step with none, after a failed nested
    /// `run_forever` cleared it (DESIGN.md, "Python versions").
    NoRunningLoop,
    /// A pass found its ready queue emptied under it (CPython's
    /// `IndexError` from `_ready.popleft()`): in 3.13.0 a nested driver
    /// can run a loop's callbacks in the middle of its own pass.
    EmptyDeque,
    /// The loop used up its iteration budget (`max_iterations`).
    BudgetExhausted,
    /// `Lock.release()` of a lock that is not locked (`RuntimeError`).
    LockNotAcquired,
    /// `BoundedSemaphore.release()` above the start value (`ValueError`).
    BoundedSemaphoreOverflow,
    /// `Condition.wait()` without holding its lock (`RuntimeError`).
    WaitUnacquired,
    /// `Condition.notify()` without holding its lock (`RuntimeError`).
    NotifyUnacquired,
    /// `Queue.task_done()` more often than items were put (`ValueError`).
    TaskDoneTooMany,
    /// `Queue.get_nowait()` on an empty queue (`asyncio.QueueEmpty`).
    QueueEmpty,
    /// `Queue.put_nowait()` on a full queue (`asyncio.QueueFull`).
    QueueFull,
    /// Waiting on an aborted barrier (`BrokenBarrierError("Barrier aborted")`).
    BarrierAborted,
    /// A barrier aborted or reset while waiting on it
    /// (`BrokenBarrierError("Abort or reset of barrier")`).
    BarrierBroken,
    /// A primitive that must wait on a loop other than the one it is bound
    /// to (`RuntimeError`; Python's text starts with the object's repr,
    /// which holds an address, and is left out).
    BoundToDifferentLoop,
    /// Python's `TypeError`, with its text (comparing values of a
    /// `PriorityQueue` that Python cannot order).
    Type(Arc<String>),
    /// An exception raised by user code, with its text (`Exception(text)`).
    Raised(Arc<String>),
    /// The `ExceptionGroup` a [`TaskGroup`](crate::TaskGroup) raises: the
    /// errors of its children (and of its own block), in the order they
    /// happened. Its text is Python's: `unhandled errors in a TaskGroup (1
    /// sub-exception)`.
    TaskGroup(Arc<Vec<Error>>),
}

// Two words, so that a `Result<(), Error>` (what `q.put(x).await?` and most
// calls return) comes back in two registers. With fat `Arc<str>` payloads an
// `Error` was three words, and each such result went through memory as
// words and came back as one 16-byte load, a store-forwarding stall on
// every call (`perf annotate`: a third of W6); hence `Arc<String>` and
// `Arc<Vec<Error>>`, thin pointers.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Error>() == 16);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Result<(), Error>>() == 16);

impl Error {
    /// An `Exception(text)`, as a scenario's `raise TEXT` makes.
    pub fn raised(text: impl Into<String>) -> Error {
        Error::Raised(Arc::new(text.into()))
    }

    /// Whether this is a cancellation.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Error::TaskGroup(errors) = self {
            // `BaseExceptionGroup.__str__`.
            let n = errors.len();
            let s = if n == 1 { "" } else { "s" };
            return write!(f, "unhandled errors in a TaskGroup ({n} sub-exception{s})");
        }
        f.write_str(match self {
            Error::AlreadyRunning => "This event loop is already running",
            Error::CloseRunning => "Cannot close a running event loop",
            Error::Closed => "Event loop is closed",
            Error::AnotherLoopRunning => "Cannot run the event loop while another loop is running",
            Error::StoppedBeforeComplete => "Event loop stopped before Future completed.",
            Error::InvalidState => "invalid state",
            Error::ResultNotSet => "Result is not set.",
            Error::Cancelled => "CancelledError",
            Error::Timeout => "TimeoutError",
            Error::OtherLoopFuture => {
                "The future belongs to a different loop than the one specified as the loop argument"
            }
            Error::AwaitedOtherLoop => "Task got Future attached to a different loop",
            Error::AwaitItself => "Task cannot await on itself",
            Error::Idle => "the loop is idle: nothing is ready and no timer is left",
            Error::NoRunningLoop => "no running event loop",
            Error::EmptyDeque => "pop from an empty deque",
            Error::BudgetExhausted => "the iteration budget is exhausted",
            Error::LockNotAcquired => "Lock is not acquired.",
            Error::BoundedSemaphoreOverflow => "BoundedSemaphore released too many times",
            Error::WaitUnacquired => "cannot wait on un-acquired lock",
            Error::NotifyUnacquired => "cannot notify on un-acquired lock",
            Error::TaskDoneTooMany => "task_done() called too many times",
            Error::QueueEmpty => "QueueEmpty",
            Error::QueueFull => "QueueFull",
            Error::BarrierAborted => "Barrier aborted",
            Error::BarrierBroken => "Abort or reset of barrier",
            Error::BoundToDifferentLoop => "is bound to a different event loop",
            Error::Type(text) | Error::Raised(text) => text,
            Error::TaskGroup(_) => unreachable!("written above"),
        })
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_a_shareable_std_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}

    #[test]
    fn errors_convert_into_boxed_send_sync_errors() {
        let error = Error::raised("boom");
        is_a_shareable_std_error(&error);
        let boxed: Box<dyn std::error::Error + Send + Sync> = error.clone().into();
        assert_eq!(boxed.to_string(), "boom");
        let moved = std::thread::spawn(move || error.to_string())
            .join()
            .unwrap();
        assert_eq!(moved, "boom");
    }

    #[test]
    fn an_exception_group_says_how_many_it_holds_as_python_does() {
        let one = Error::TaskGroup(vec![Error::raised("boom")].into());
        assert_eq!(
            one.to_string(),
            "unhandled errors in a TaskGroup (1 sub-exception)"
        );
        let two = Error::TaskGroup(vec![Error::raised("a"), Error::Timeout].into());
        assert_eq!(
            two.to_string(),
            "unhandled errors in a TaskGroup (2 sub-exceptions)"
        );
    }
}
