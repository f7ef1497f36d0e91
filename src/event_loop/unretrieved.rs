//! asyncio's "exception was never retrieved": futures and tasks that
//! finished with an exception nobody asked for.
//!
//! CPython sets `__log_traceback` when a future gets an exception and
//! clears it when `result()` or `exception()` reads it (awaiting the future
//! and `run_until_complete` call `result()`); a future still marked when it
//! is garbage-collected is logged as `Future exception was never retrieved`
//! (`Task exception was never retrieved` for a task). A simulation has no
//! garbage collector to wait for, so the world keeps the marked ones and
//! [`EventLoop::unretrieved_exceptions`] lists them whenever asked; the
//! [`Harness`](crate::Harness) fails a seed that leaves one behind.
//!
//! Cancellation is not an exception here, as in asyncio. Each entry holds
//! its future, so its address, which identifies it, cannot be reused while
//! it is listed. Only futures that raise pay for this.

use crate::event_loop::{EventLoop, LoopInner};
use std::any::Any;
use std::fmt;
use std::rc::Rc;

/// A future or task whose exception nobody retrieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unretrieved {
    /// A task (else a plain future).
    pub task: bool,
    /// The task's or future's name, if it has one.
    pub name: Option<String>,
    /// The exception's text.
    pub message: String,
}

impl fmt::Display for Unretrieved {
    /// `Task exception was never retrieved: task `fetch` raised "boom"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.task { "Task" } else { "Future" };
        write!(f, "{kind} exception was never retrieved: ")?;
        match &self.name {
            Some(name) => write!(f, "{} `{name}`", kind.to_lowercase())?,
            None => write!(f, "a {}", kind.to_lowercase())?,
        }
        write!(f, " raised {}", crate::value::quote(&self.message))
    }
}

/// One marked future: its core's address, the allocation holding it, and
/// what to report.
pub(crate) struct Marked {
    core: *const (),
    _owner: Rc<dyn Any>,
    report: Unretrieved,
}

impl LoopInner {
    /// `__log_traceback = True` for the future whose core is at `core`.
    pub(crate) fn mark_unretrieved(
        &self,
        core: *const (),
        owner: Rc<dyn Any>,
        report: Unretrieved,
    ) {
        self.world.unretrieved.borrow_mut().push(Marked {
            core,
            _owner: owner,
            report,
        });
    }

    /// `__log_traceback = False`: the exception was read.
    pub(crate) fn retrieved(&self, core: *const ()) {
        let mut marked = self.world.unretrieved.borrow_mut();
        if let Some(at) = marked.iter().position(|m| m.core == core) {
            let entry = marked.remove(at);
            drop(marked);
            drop(entry);
        }
    }
}

impl EventLoop {
    /// The futures and tasks of this loop and its siblings that finished
    /// with an exception (not a cancellation) which nobody has retrieved
    /// yet, by awaiting them, `run_until_complete` or `result()`: what
    /// asyncio would log as `Task exception was never retrieved`. In the
    /// order they finished.
    ///
    /// ```
    /// use loopsim::{new_event_loop, Error};
    ///
    /// let lp = new_event_loop();
    /// let task = lp.create_task_named("fetch", async { Err::<(), _>(Error::raised("boom")) }).unwrap();
    /// lp.run_forever().unwrap();
    /// let left = lp.unretrieved_exceptions();
    /// assert_eq!(left[0].to_string(), "Task exception was never retrieved: task `fetch` raised \"boom\"");
    /// assert_eq!(task.result(), Err(Error::raised("boom"))); // retrieved now
    /// assert!(lp.unretrieved_exceptions().is_empty());
    /// ```
    pub fn unretrieved_exceptions(&self) -> Vec<Unretrieved> {
        let marked = self.inner.world.unretrieved.borrow();
        marked.iter().map(|m| m.report.clone()).collect()
    }
}
