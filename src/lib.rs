//! loopsim: asyncio's event loop on a virtual, seedable clock.
#![warn(missing_docs)]

pub mod rng;
pub mod scenario;
pub mod tie_break;
pub mod time;
pub mod trace;
pub mod value;
