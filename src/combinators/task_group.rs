//! `asyncio.TaskGroup` (3.11+): children that live and die together.
//!
//! Statement for statement CPython's `taskgroups.py`, per version:
//!
//! * a child that fails (not cancelled) makes the group abort: every child
//!   still pending is cancelled, and so is the parent task, once (it is
//!   waiting in the group's exit; `_parent_cancel_requested`), which
//!   the exit takes back with `uncancel()`;
//! * the exit waits, in a loop, on a fresh future that the last child to
//!   finish completes; a cancel of the parent from outside wakes it too,
//!   and aborts the group;
//! * the outcome: a cancel from outside (one `uncancel()` did not take
//!   back) is `CancelledError`, unless a child failed: then the
//!   `ExceptionGroup` of the children's errors ([`Error::TaskGroup`]).
//!
//! Where the versions differ: 3.11 and 3.12 take the group's own cancel of
//! the parent back at the start of the exit, so one that a child's failure
//! requests *while* the exit waits is never taken back (the parent's
//! [`cancelling`](crate::Task::cancelling) stays 1 afterwards); 3.13 takes
//! it back after the wait, and also, when the group raises its errors
//! while the parent is being cancelled from outside, uncancels and cancels
//! the parent again (the count stays, the cancel is delivered anew).
//!
//! CPython keeps the children in a `set`, which `_abort` cancels in the
//! order of their hashes, that is of their memory addresses: not
//! reproducible from run to run. Here they are cancelled in the order they
//! were created; the conformance runner gives CPython's group the same
//! order (`conformance/README.md`).

use crate::error::Error;
use crate::event_loop::callback;
use crate::event_loop::{get_running_loop, EventLoop};
use crate::future::{Awaitable, Future, Waitable};
use crate::sync::audit::{mutant, violated};
use crate::task::{Task, TaskControl};
use crate::Python;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// `async with asyncio.TaskGroup() as tg:`: create children with
/// [`create_task`](TaskGroup::create_task), then [`join`](TaskGroup::join)
/// (leaving the block) waits for all of them. The first child to fail
/// cancels the others and the parent's wait, and `join` returns
/// [`Error::TaskGroup`] with every child's error.
///
/// ```
/// use loopsim::{new_event_loop, sleep, Error, TaskGroup};
///
/// let lp = new_event_loop();
/// let parent = lp.create_task(async {
///     let tg = TaskGroup::new()?;
///     let slow = tg.create_task_named("slow", async { sleep(5.0).await?; Ok(1) })?;
///     tg.create_task_named("bad", async { sleep(1.0).await?; Err::<i64, _>(Error::raised("boom")) })?;
///     let outcome = tg.join().await;
///     assert!(slow.cancelled()); // cancelled when `bad` failed, at t=1
///     assert_eq!(outcome.unwrap_err().to_string(), "unhandled errors in a TaskGroup (1 sub-exception)");
///     Ok(())
/// }).unwrap();
/// lp.run_until_complete(&parent).unwrap();
/// assert_eq!(lp.time(), 1.0);
/// ```
pub struct TaskGroup<T> {
    inner: Rc<Group>,
    _children: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for TaskGroup<T> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
            _children: std::marker::PhantomData,
        }
    }
}

/// The group's state, whatever its children's type.
struct Group {
    lp: EventLoop,
    parent: Rc<dyn TaskControl>,
    exiting: Cell<bool>,
    aborting: Cell<bool>,
    parent_cancel_requested: Cell<bool>,
    /// The children not done yet, in creation order (CPython's `set`).
    tasks: RefCell<Vec<Rc<dyn Waitable>>>,
    /// Every child, for the invariant checked on the way out.
    all: RefCell<Vec<Rc<dyn Waitable>>>,
    errors: RefCell<Vec<Error>>,
    on_completed: RefCell<Option<Future<bool>>>,
}

impl<T: Clone + std::fmt::Debug + 'static> TaskGroup<T> {
    /// `__aenter__`: a group whose parent is the task running now.
    ///
    /// # Errors
    /// [`Error::NoRunningLoop`] outside a running loop; outside a task,
    /// CPython's `RuntimeError` (`TaskGroup <TaskGroup> cannot determine
    /// the parent task`).
    pub fn new() -> Result<TaskGroup<T>, Error> {
        let lp = get_running_loop().ok_or(Error::NoRunningLoop)?;
        let parent = lp.inner.step.current_task().ok_or_else(|| {
            Error::raised("TaskGroup <TaskGroup> cannot determine the parent task")
        })?;
        Ok(TaskGroup {
            inner: Rc::new(Group {
                lp,
                parent,
                exiting: Cell::new(false),
                aborting: Cell::new(false),
                parent_cancel_requested: Cell::new(false),
                tasks: RefCell::new(Vec::new()),
                all: RefCell::new(Vec::new()),
                errors: RefCell::new(Vec::new()),
                on_completed: RefCell::new(None),
            }),
            _children: std::marker::PhantomData,
        })
    }

    /// `tg.create_task(coro)`: a child named `Task-N`.
    ///
    /// # Errors
    /// CPython's `RuntimeError`s: the group has finished, or is shutting
    /// down (a child failed); or the loop's own (closed).
    pub fn create_task<F>(&self, body: F) -> Result<Task<T>, Error>
    where
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        self.spawn(None, body)
    }

    /// `tg.create_task(coro, name=name)`.
    ///
    /// # Errors
    /// As [`create_task`](TaskGroup::create_task).
    pub fn create_task_named<F>(&self, name: impl Into<Rc<str>>, body: F) -> Result<Task<T>, Error>
    where
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        self.spawn(Some(name.into()), body)
    }

    fn spawn<F>(&self, name: Option<Rc<str>>, body: F) -> Result<Task<T>, Error>
    where
        F: std::future::Future<Output = Result<T, Error>> + 'static,
    {
        let g = &self.inner;
        if g.exiting.get() && g.tasks.borrow().is_empty() {
            return Err(Error::raised("TaskGroup <TaskGroup> is finished"));
        }
        if g.aborting.get() {
            return Err(Error::raised(
                "TaskGroup <TaskGroup cancelling> is shutting down",
            ));
        }
        let task = match name {
            Some(name) => g.lp.create_task_named(name, body)?,
            None => g.lp.create_task(body)?,
        };
        // 3.12 looks for a child already done (an eager task); a task made
        // here has not started.
        let waitable = task.waitable();
        g.tasks.borrow_mut().push(waitable.clone());
        g.all.borrow_mut().push(waitable.clone());
        let on_done = {
            let (g, task) = (g.clone(), task.clone());
            callback::internal(move |_: &EventLoop| g.on_task_done(&task))
        };
        waitable.add_done_callback(on_done)?;
        Ok(task)
    }

    /// Leaves the block normally (`__aexit__(None, None, None)`): waits for
    /// every child. `Ok` if none failed; [`Error::TaskGroup`] with their
    /// errors if some did; [`Error::Cancelled`] if the parent was cancelled
    /// from outside meanwhile (and no child failed).
    pub async fn join(self) -> Result<(), Error> {
        self.exit(Ok(())).await
    }

    /// Leaves the block with what it ended with (`__aexit__(et, exc, tb)`):
    /// an error aborts the group; a `CancelledError` propagates unless it
    /// was the group's own; any other error joins the children's in the
    /// group's error.
    pub async fn exit(self, block: Result<(), Error>) -> Result<(), Error> {
        let outcome = self.leave(block).await;
        self.inner.check_children_done();
        outcome
    }

    async fn leave(&self, block: Result<(), Error>) -> Result<(), Error> {
        let g = &self.inner;
        let v3_13 = g.lp.python() >= Python::V3_13;
        g.exiting.set(true);
        let mut propagate_cancel = matches!(block, Err(Error::Cancelled));
        if !v3_13 && g.parent_cancel_requested.get() && g.parent.uncancel() == 0 {
            propagate_cancel = false;
        }
        if block.is_err() && !g.aborting.get() {
            g.abort();
        }
        while !g.tasks.borrow().is_empty() && !mutant!(TaskGroupNoWait) {
            let fut = g
                .on_completed
                .borrow_mut()
                .get_or_insert_with(|| g.lp.create_future())
                .clone();
            if let Err(Error::Cancelled) = fut.await {
                if !g.aborting.get() {
                    propagate_cancel = true;
                    g.abort();
                }
            }
            *g.on_completed.borrow_mut() = None;
        }
        if v3_13 && g.parent_cancel_requested.get() && g.parent.uncancel() == 0 {
            propagate_cancel = false;
        }
        let mut errors = std::mem::take(&mut *g.errors.borrow_mut());
        if propagate_cancel && errors.is_empty() {
            return Err(Error::Cancelled);
        }
        if let Err(error) = block {
            if !error.is_cancelled() {
                errors.push(error);
            }
        }
        if errors.is_empty() {
            return Ok(());
        }
        if v3_13 && g.parent.cancelling() > 0 {
            g.parent.uncancel();
            let _ = g.parent.clone().cancel_task();
        }
        Err(Error::TaskGroup(errors.into()))
    }
}

impl Group {
    /// The invariant `task_group_pending`: a group never finishes with a
    /// child pending. Judged on every child created, apart from the set
    /// the exit waits on.
    fn check_children_done(&self) {
        let pending = self.all.borrow().iter().filter(|t| !t.is_done()).count();
        if pending > 0 {
            violated("task_group_pending", || {
                format!("a TaskGroup finished with {pending} child task(s) pending")
            });
        }
        self.all.borrow_mut().clear();
    }

    /// `_abort`: cancels every child still pending, in creation order.
    fn abort(&self) {
        self.aborting.set(true);
        let tasks = self.tasks.borrow().clone();
        for t in tasks {
            if !t.is_done() {
                let _ = t.cancel();
            }
        }
    }

    /// `_on_task_done`.
    fn on_task_done<T: Clone + std::fmt::Debug + 'static>(&self, task: &Task<T>) {
        let id = task.waitable().identity();
        self.tasks.borrow_mut().retain(|t| t.identity() != id);
        if self.tasks.borrow().is_empty() {
            let fut = self.on_completed.borrow().clone();
            if let Some(fut) = fut.filter(|f| !f.done()) {
                let _ = fut.set_result(true);
            }
        }
        let error = match task.result() {
            Ok(_) | Err(Error::Cancelled) => return,
            Err(error) => error,
        };
        self.errors.borrow_mut().push(error);
        // CPython reports a failing child of a finished parent to the
        // loop's exception handler, which a scenario does not record.
        if self.parent.is_done() {
            return;
        }
        if !self.aborting.get() && !self.parent_cancel_requested.get() {
            self.abort();
            self.parent_cancel_requested.set(true);
            let _ = self.parent.clone().cancel_task();
        }
    }
}
