//! asyncio's combinators, built from the loop's own parts (waiter futures,
//! done callbacks, timers) statement for statement as CPython writes them,
//! so that every pass they cost is CPython's: [`timeout`]/[`timeout_at`]
//! (`asyncio.timeout`), [`gather`] (`asyncio.gather`), [`wait`]
//! (`asyncio.wait`), [`shield`] (`asyncio.shield`) and [`TaskGroup`]
//! (`asyncio.TaskGroup`).

mod gather;
mod shield;
mod task_group;
mod timeout;
mod wait;

pub use gather::{gather, gather_return_exceptions, Gathering};
pub use shield::shield;
pub use task_group::TaskGroup;
pub use timeout::{timeout, timeout_at};
pub use wait::{wait, ReturnWhen};
