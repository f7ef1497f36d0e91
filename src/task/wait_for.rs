//! `asyncio.wait_for`: await a task or future, but give up after a timeout.
//!
//! This is CPython 3.11's `wait_for` statement for statement, built from
//! the loop's own parts, so its passes are CPython's too:
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
use crate::event_loop::{get_running_loop, EventLoop, SlotRef};
use crate::future::{Awaitable, Future, Waitable};
use crate::time::IntoNanos;
use std::rc::Rc;

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
/// # Panics
/// Outside a running loop, like asyncio's `RuntimeError: no running event loop`.
pub async fn wait_for<T, A>(aw: A, timeout: impl IntoNanos) -> Result<T, Error>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T>,
{
    let timeout = timeout.into_nanos();
    let lp = get_running_loop().expect("loopsim::wait_for: no running event loop");
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
