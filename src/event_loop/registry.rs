//! The current-loop registry: asyncio's `get_event_loop`/`set_event_loop`
//! and the running loop.
//!
//! This is the one thread-local in loopsim, and it holds only handles to
//! loops: every piece of determinism state (clock, queues, RNG, trace) is
//! owned by the loops themselves.

use crate::event_loop::EventLoop;
use std::cell::RefCell;

struct Registry {
    /// What `set_event_loop` set (the policy's loop in asyncio).
    current: Option<EventLoop>,
    /// The loop inside `run_forever` on this thread, if any.
    running: Option<EventLoop>,
}

thread_local! {
    // `const`: no lazy initialisation to check on every access (a task's
    // every `sleep` looks up the running loop here).
    static REGISTRY: RefCell<Registry> = const {
        RefCell::new(Registry {
            current: None,
            running: None,
        })
    };
}

/// `asyncio.get_event_loop()`: the running loop if there is one, else the
/// current loop, else a new loop with the default configuration, which
/// becomes current.
pub fn get_event_loop() -> EventLoop {
    if let Some(running) = get_running_loop() {
        return running;
    }
    REGISTRY.with(|r| {
        r.borrow_mut()
            .current
            .get_or_insert_with(EventLoop::new)
            .clone()
    })
}

/// `asyncio.set_event_loop(loop)`: makes `lp` the current loop.
pub fn set_event_loop(lp: &EventLoop) {
    REGISTRY.with(|r| r.borrow_mut().current = Some(lp.clone()));
}

/// `asyncio.new_event_loop()`: a new loop with the default configuration,
/// on a clock of its own. It is not made current.
pub fn new_event_loop() -> EventLoop {
    EventLoop::new()
}

/// `asyncio.get_running_loop()`, without the exception: the loop running on
/// this thread, if any.
pub fn get_running_loop() -> Option<EventLoop> {
    REGISTRY.with(|r| r.borrow().running.clone())
}

/// Marks `lp` as running (or nothing, with `None`); returns what was there.
pub(crate) fn set_running_loop(lp: Option<EventLoop>) -> Option<EventLoop> {
    REGISTRY.with(|r| std::mem::replace(&mut r.borrow_mut().running, lp))
}
