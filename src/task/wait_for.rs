//! `asyncio.wait_for`: await a task or future, but give up after a timeout.
//!
//! Which one depends on the loop's [`Python`]: 3.12 rebuilt it on
//! `asyncio.timeout` (`wait_for_on_timeout`, over `combinators::timeout`), which
//! costs fewer passes. 3.11's is CPython's statement for statement, built
//! from the loop's own parts, so its passes are CPython's too:
//!
//! * a private *waiter* future stands between the task and what it waits
//!   on. A timer and a done callback on the awaited future both complete
//!   the waiter (`_release_waiter`); the task only ever awaits the waiter.
//!   So a result reaches the task two passes after the future finishes
//!   (the done callback, then the task's wake-up), and a timeout two passes
//!   after the deadline;
//! * on timeout the awaited task or future is cancelled and *waited for*
//!   (`_cancel_and_wait`, again through a waiter), so that it has stopped
//!   before `wait_for` returns; if it ended cancelled, `wait_for` raises
//!   [`Error::Timeout`], otherwise it returns what the awaited ended with;
//! * if the task running `wait_for` is cancelled meanwhile, the awaited one
//!   is cancelled and waited for as well, and the cancellation goes on up;
//! * the timer is cancelled on every way out (CPython's `finally`), so it
//!   stays queued as a cancelled timer, as it does in CPython;
//! * a task or future of another loop is refused with CPython's
//!   `ValueError` ([`Error::OtherLoopFuture`]).
//!
//! None of this is traced: the waiters are unnamed futures and the
//! callbacks are the loop's own. The trace shows only what it causes.

use crate::error::Error;
use crate::event_loop::callback::{self, Callback};
use crate::event_loop::{get_running_loop, Blocked, EventLoop, SlotRef};
use crate::future::{Awaitable, Future, Waitable};
use crate::python::Python;
use crate::time::{IntoNanos, Nanos};
use std::rc::Rc;
use std::task::Poll;

/// `await asyncio.wait_for(aw, timeout)`: what the task or future `aw`
/// ends with, or [`Error::Timeout`] if it is not done within `timeout`
/// (in which case it is cancelled, and has finished, by the time this
/// returns). A `timeout` of zero or less gives up at once unless `aw` is
/// already done.
///
/// Unlike `tokio::time::timeout`, it takes a task or future, not any Rust
/// future: to time out an `async` block, make it a task first
/// ([`create_task`](crate::create_task)), as asyncio's `wait_for` wraps a
/// coroutine in a task. Cancelling it is then asyncio's task cancellation.
///
/// ```
/// use loopsim::{new_event_loop, sleep, wait_for, Error};
///
/// let lp = new_event_loop();
/// let slow = lp.create_task(async { sleep(5.0).await?; Ok(1) }).unwrap();
/// let waiting = lp.create_task(async move {
///     assert_eq!(wait_for(slow.clone(), 2.0).await, Err(Error::Timeout));
///     assert!(slow.cancelled());
///     Ok(())
/// }).unwrap();
/// lp.run_until_complete(&waiting).unwrap();
/// assert_eq!(lp.time(), 2.0);
/// ```
///
/// Outside a running loop it fails with [`Error::NoRunningLoop`], like
/// asyncio's `RuntimeError: no running event loop`.
pub async fn wait_for<T, A>(aw: A, timeout: impl IntoNanos) -> Result<T, Error>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T>,
{
    let timeout = timeout.into_nanos();
    let Some(lp) = get_running_loop() else {
        // Only CPython 3.13.0 lets a task step with no running loop (a
        // failed nested `run_forever` cleared it). Its `wait_for` (3.12's)
        // then raises at its first `get_running_loop()`, which a done
        // future with no time never reaches.
        return if timeout <= 0 && aw.waitable().is_done() {
            aw.try_result()
        } else {
            Err(Error::NoRunningLoop)
        };
    };
    if lp.python().at_least(Python::V3_12) {
        wait_for_on_timeout(&lp, aw, timeout).await
    } else {
        wait_for_3_11(&lp, aw, timeout).await
    }
}

/// CPython 3.12's and 3.13's `wait_for` (`Lib/asyncio/tasks.py`):
///
/// ```python
/// if timeout is not None and timeout <= 0:
///     fut = ensure_future(fut)          # no loop: no check of fut's loop
///     if fut.done(): return fut.result()
///     await _cancel_and_wait(fut)
///     try: return fut.result()
///     except exceptions.CancelledError as exc: raise TimeoutError from exc
/// async with timeouts.timeout(timeout):
///     return await fut
/// ```
///
/// So a result reaches the task one pass after the future finishes (its
/// own wake-up), a timeout one pass after the deadline for a future (the
/// timer cancels the task, which cancels the future, whose done callback
/// wakes the task), and a future of another loop is awaited like any,
/// which fails in the task's next step (`got Future attached to a
/// different loop`).
async fn wait_for_on_timeout<T, A>(lp: &EventLoop, aw: A, timeout: i64) -> Result<T, Error>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T>,
{
    if timeout <= 0 {
        let fut = aw.waitable();
        if fut.is_done() {
            return aw.try_result();
        }
        cancel_and_wait(lp, &fut).await?;
        return timed_out(aw.try_result());
    }
    let awaited = aw.waitable();
    crate::combinators::timeout(Nanos(timeout), async move {
        await_waitable(awaited).await?;
        aw.try_result()
    })
    .await
}

/// `await fut` for a task or future: done at once if it is done, else the
/// task suspends on it; `Err` is what was thrown into the task meanwhile.
async fn await_waitable(fut: Rc<dyn Waitable>) -> Result<(), Error> {
    std::future::poll_fn(|cx| {
        crate::task::with_stepping_loop(cx, "awaited a future", |lp| {
            if let Some(thrown) = lp.take_thrown() {
                return Poll::Ready(Err(thrown));
            }
            if fut.is_done() {
                return Poll::Ready(Ok(()));
            }
            lp.block(Blocked::On(fut.clone()));
            Poll::Pending
        })
    })
    .await
}

/// CPython 3.11's `wait_for`, statement for statement.
async fn wait_for_3_11<T, A>(lp: &EventLoop, aw: A, timeout: i64) -> Result<T, Error>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T>,
{
    let lp = lp.clone();
    let fut = aw.waitable();
    // `ensure_future(fut, loop=loop)`, which CPython reaches at once for a
    // timeout of zero or less, and after making the waiter and the timer
    // otherwise (the timer then stays queued: the `finally` that cancels
    // it starts later).
    let other_loop = !lp.owns(&*fut);

    if timeout <= 0 {
        if other_loop {
            return Err(Error::OtherLoopFuture);
        }
        if fut.is_done() {
            return aw.try_result();
        }
        cancel_and_wait(&lp, &fut).await?;
        return timed_out(aw.try_result());
    }

    let waiter = lp.create_future::<()>();
    let deadline = lp.inner.now().saturating_add(timeout);
    let timer = lp.schedule_ref(Some(deadline), release(&waiter))?;
    if other_loop {
        return Err(Error::OtherLoopFuture);
    }
    let release_id = fut.add_done_callback(release(&waiter))?;
    // CPython's `try: ... finally: timeout_handle.cancel()`.
    let _finally = CancelTimer {
        lp: lp.clone(),
        timer,
    };

    match waiter.await {
        Err(error) if error.is_cancelled() => {
            // The task running `wait_for` was cancelled.
            if fut.is_done() {
                return aw.try_result();
            }
            fut.remove_done_callback(release_id);
            cancel_and_wait(&lp, &fut).await?;
            Err(error)
        }
        Err(other) => Err(other),
        Ok(()) => {
            if fut.is_done() {
                return aw.try_result();
            }
            // The timer released the waiter first.
            fut.remove_done_callback(release_id);
            cancel_and_wait(&lp, &fut).await?;
            timed_out(aw.try_result())
        }
    }
}

/// `_cancel_and_wait`: cancels `fut` and waits, through a waiter of its
/// own, until it is done. `Err` only if the waiting task is cancelled.
async fn cancel_and_wait(lp: &EventLoop, fut: &Rc<dyn Waitable>) -> Result<(), Error> {
    let waiter = lp.create_future::<()>();
    let release_id = fut.add_done_callback(release(&waiter))?;
    // CPython's `finally: fut.remove_done_callback(cb)`.
    let _finally = RemoveDoneCallback {
        fut: fut.clone(),
        id: release_id,
    };
    // `fut` is the running loop's own (checked above), so this cannot fail.
    let _ = fut.clone().cancel();
    waiter.await
}

/// `_release_waiter`: completes the waiter unless it is already done.
fn release(waiter: &Future<()>) -> Callback {
    let waiter = waiter.clone();
    callback::internal(move |_: &EventLoop| {
        if !waiter.done() {
            let _ = waiter.set_result(());
        }
    })
}

/// The awaited one's outcome after it was cancelled for the timeout:
/// cancelled becomes [`Error::Timeout`]; anything else it ended with (it
/// may have finished, or caught the cancellation) is returned as it is.
fn timed_out<T>(outcome: Result<T, Error>) -> Result<T, Error> {
    match outcome {
        Err(error) if error.is_cancelled() => Err(Error::Timeout),
        other => other,
    }
}

struct CancelTimer {
    lp: EventLoop,
    timer: SlotRef,
}

impl Drop for CancelTimer {
    fn drop(&mut self) {
        self.lp.inner.cancel_ref(self.timer);
    }
}

struct RemoveDoneCallback {
    fut: Rc<dyn Waitable>,
    id: u64,
}

impl Drop for RemoveDoneCallback {
    fn drop(&mut self) {
        self.fut.remove_done_callback(self.id);
    }
}
