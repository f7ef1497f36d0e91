//! `asyncio.Event`: a flag that tasks wait to see set.
//!
//! `set` sets the result of every waiter not already woken, so each waiting
//! task resumes one pass later, in the order they began to wait; a `clear`
//! in between does not stop them (they were woken). The same in 3.11, 3.12
//! and 3.13.

use super::waiters::{wake, LoopBinding, Waiters};
use crate::error::Error;
use std::cell::Cell;
use std::rc::Rc;

/// `asyncio.Event()`. Cheap to clone: clones are the same event.
///
/// ```
/// use loopsim::sync::Event;
/// use loopsim::{new_event_loop, sleep};
///
/// let lp = new_event_loop();
/// let ready = Event::new();
/// let waiter = {
///     let ready = ready.clone();
///     lp.create_task(async move { ready.wait().await?; Ok(loopsim::get_running_loop().unwrap().time() as i64) }).unwrap()
/// };
/// let setter = ready.clone();
/// lp.call_later(2.0, move |_: &loopsim::EventLoop| setter.set()).unwrap();
/// assert_eq!(lp.run_until_complete(&waiter), Ok(2));
/// assert!(ready.is_set());
/// ```
#[derive(Clone, Default)]
pub struct Event(Rc<EventInner>);

#[derive(Default)]
struct EventInner {
    value: Cell<bool>,
    waiters: Waiters,
    binding: LoopBinding,
}

impl Event {
    /// A clear event, bound to no loop yet.
    pub fn new() -> Event {
        Event::default()
    }

    /// `event.is_set()`.
    pub fn is_set(&self) -> bool {
        self.0.value.get()
    }

    /// `event.set()`: wakes every task waiting. On a closed loop the first
    /// wake-up is refused: the event is set, the later waiters are not
    /// woken, and the call fails with [`Error::Closed`] (as CPython's
    /// raises).
    pub fn set(&self) -> Result<(), Error> {
        let me = &self.0;
        if !me.value.replace(true) {
            for fut in me.waiters.snapshot() {
                if !fut.done() {
                    wake(&fut, true)?;
                }
            }
        }
        Ok(())
    }

    /// `event.clear()`.
    pub fn clear(&self) {
        self.0.value.set(false);
    }

    /// `await event.wait()`: at once if set, else until `set`.
    pub async fn wait(&self) -> Result<(), Error> {
        let me = &self.0;
        if me.value.get() {
            return Ok(());
        }
        let lp = me.binding.get_loop()?;
        let fut = me.waiters.push_new(&lp);
        let woken = fut.wait().await;
        me.waiters.remove(&fut);
        woken.map(drop)
    }
}
