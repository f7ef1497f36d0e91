//! loopsim: asyncio's event loop on a virtual, seedable clock.
#![warn(missing_docs)]

pub mod error;
pub mod event_loop;
pub mod future;
pub mod fuzz_support;
pub mod invariant;
#[cfg(feature = "mutants")]
pub mod mutant;
pub mod rng;
pub mod task;
pub mod scenario;
pub mod tie_break;
pub mod time;
mod timer_queue;
pub mod trace;
pub mod value;

pub use error::Error;
pub use event_loop::{
    get_event_loop, get_running_loop, new_event_loop, set_event_loop, CallbackResult, EventLoop, Handle, LoopConfig,
    DEFAULT_MAX_ITERATIONS,
};
pub use future::{Awaitable, Future};
pub use task::{create_task, sleep, yield_now, Sleep, Task, YieldNow};
pub use tie_break::TieBreak;
pub use time::{Instant, Nanos};
pub use trace::{Event, EventKind};
pub use value::{TraceValue, Value};
