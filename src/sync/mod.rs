//! asyncio's synchronization primitives and queues: [`Event`], [`Lock`],
//! [`Semaphore`], [`BoundedSemaphore`], [`Condition`], [`Barrier`],
//! [`Queue`], [`LifoQueue`] and [`PriorityQueue`].
//!
//! They are CPython's `Lib/asyncio/locks.py` and `queues.py`, transcribed
//! onto one mechanism (`waiters.rs`): a task that must wait queues a waiter
//! future and awaits it; whoever wakes it sets the future's result, and the
//! task resumes one pass later. So waiter order (FIFO), the passes each
//! hand-off costs, and what a cancelled waiter does with a wake-up it got
//! are CPython's, per version where they differ (`EventLoop::python`): the
//! semaphore and the condition changed in 3.13.
//!
//! A primitive is made without a loop and bound, as asyncio binds it, to
//! the running loop at its first call that must wait; waiting on it from
//! another loop fails with [`Error::BoundToDifferentLoop`](crate::Error).
//! Failing non-awaiting calls return asyncio's errors (`Lock is not
//! acquired.`, `QueueFull`, ...). Every run checks the primitives'
//! invariants (`audit.rs`): a lock has at most one owner, a semaphore's
//! value stays within `0..=start` (bounded), a queue within its `maxsize`,
//! and `task_done` is never called more often than items were put.
//!
//! ```
//! use loopsim::sync::{Lock, Queue};
//! use loopsim::{new_event_loop, sleep};
//!
//! let lp = new_event_loop();
//! let (lock, jobs) = (Lock::new(), Queue::new(16));
//! let worker = {
//!     let (lock, jobs) = (lock.clone(), jobs.clone());
//!     lp.create_task(async move {
//!         let mut total = 0;
//!         while total < 6 {
//!             let _held = lock.lock().await?;
//!             total += jobs.get().await?;
//!             sleep(0.5).await?;
//!         }
//!         Ok(total)
//!     }).unwrap()
//! };
//! for n in 1..=3 {
//!     jobs.put_nowait(n).unwrap();
//! }
//! assert_eq!(lp.run_until_complete(&worker), Ok(6));
//! assert_eq!(lp.time(), 1.5);
//! ```

pub(crate) mod audit;
mod barrier;
mod condition;
mod event;
mod heap;
mod lock;
mod queue;
mod queue_wait;
mod semaphore;
mod waiter;
mod waiters;

pub use barrier::Barrier;
pub use condition::Condition;
pub use event::Event;
pub use heap::{value_lt, PyLt};
pub use lock::{Lock, LockGuard};
pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use semaphore::{BoundedSemaphore, Semaphore};
