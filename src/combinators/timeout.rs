//! `asyncio.timeout` and `asyncio.timeout_at` (3.11+), as a wrapping
//! future rather than an `async with` block.
//!
//! CPython's `Timeout` is built on task cancellation: entering it notes
//! the task's `cancelling()` count and schedules a timer (`call_at`, or
//! `call_soon` for a deadline already past); when the timer runs it
//! cancels the task, which raises `CancelledError` where the block awaits.
//! Leaving it cancels the timer and, if it expired, calls `uncancel()`: if
//! no other cancel is left over (the count is back to what it was), the
//! `CancelledError` becomes `TimeoutError`; otherwise the cancellation is
//! someone else's and goes on up. 3.13 converts on any exception the
//! block ends with once expired (not only `CancelledError`), which only
//! changes exception chaining: what propagates is the same.
//!
//! Every run checks the invariant `timeout_early`: a timeout never expires
//! before its deadline (an `invariant_violated` event otherwise).

use crate::error::Error;
use crate::event_loop::callback;
use crate::event_loop::{get_running_loop, EventLoop};
use crate::sync::audit::mutant;
use crate::time::IntoNanos;
use crate::trace::EventKind;
use std::cell::Cell;
use std::rc::Rc;

/// `async with asyncio.timeout(delay): return await body`: `body`'s
/// outcome, or [`Error::Timeout`] if it was still running `delay` from now
/// (it is then cancelled where it awaits, as asyncio does).
///
/// ```
/// use loopsim::{new_event_loop, sleep, timeout, Error};
///
/// let lp = new_event_loop();
/// let t = lp.create_task(async {
///     let slow = timeout(2.0, async { sleep(5.0).await?; Ok(1) }).await;
///     assert_eq!(slow, Err(Error::Timeout));
///     let fast = timeout(2.0, async { sleep(1.0).await?; Ok(2) }).await;
///     assert_eq!(fast, Ok(2));
///     Ok(())
/// }).unwrap();
/// lp.run_until_complete(&t).unwrap();
/// assert_eq!(lp.time(), 3.0);
/// ```
///
/// With no running loop it fails with [`Error::NoRunningLoop`], as
/// asyncio's does.
///
/// # Panics
/// In a running loop but outside a task (CPython's `RuntimeError:
/// Timeout should be used inside a task`).
pub async fn timeout<T, B>(delay: impl IntoNanos, body: B) -> Result<T, Error>
where
    B: std::future::Future<Output = Result<T, Error>>,
{
    // Only CPython 3.13.0 lets a task step with no running loop (a failed
    // nested `run_forever` cleared it): `timeout()` raises at its
    // `get_running_loop()`.
    let Some(lp) = get_running_loop() else {
        return Err(Error::NoRunningLoop);
    };
    let when = lp.inner.now().saturating_add(delay.into_nanos());
    run(&lp, when, body).await
}

/// `async with asyncio.timeout_at(when)`: [`timeout`] with a deadline in
/// the loop's time (seconds, as [`EventLoop::time`] reads it).
///
/// ```
/// use loopsim::{new_event_loop, sleep, timeout_at, Error};
///
/// let lp = new_event_loop();
/// let t = lp.create_task(async {
///     sleep(1.0).await?;
///     timeout_at(1.5, async { sleep(1.0).await }).await
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&t), Err(Error::Timeout));
/// assert_eq!(lp.time(), 1.5);
/// ```
///
/// # Panics
/// As [`timeout`].
pub async fn timeout_at<T, B>(when: impl IntoNanos, body: B) -> Result<T, Error>
where
    B: std::future::Future<Output = Result<T, Error>>,
{
    // `__aenter__`'s `current_task()` raises with no running loop.
    let Some(lp) = get_running_loop() else {
        return Err(Error::NoRunningLoop);
    };
    run(&lp, when.into_nanos(), body).await
}

/// `_State.ENTERED`, `EXPIRING` (the timer ran).
const ENTERED: u8 = 0;
const EXPIRING: u8 = 1;

async fn run<T, B>(lp: &EventLoop, when: i64, body: B) -> Result<T, Error>
where
    B: std::future::Future<Output = Result<T, Error>>,
{
    // `__aenter__`: no suspension.
    let task = lp
        .inner
        .step
        .current_task()
        .expect("loopsim::timeout: Timeout should be used inside a task");
    let cancelling = task.cancelling();
    let state = Rc::new(Cell::new(ENTERED));
    let on_timeout = {
        let task = task.clone();
        let state = state.clone();
        callback::internal(move |lp: &EventLoop| {
            // The invariant `timeout_early`, judged against the deadline
            // the block was entered with, apart from how the timer was
            // scheduled.
            let now = lp.inner.now();
            if now < when && lp.config().check_invariants {
                lp.record(EventKind::InvariantViolated {
                    invariant: "timeout_early".into(),
                    message: format!("a timeout due at {when} ns expired at {now} ns").into(),
                });
            }
            let _ = task.clone().cancel_task();
            state.set(EXPIRING);
        })
    };
    // `reschedule(when)`: `call_soon` for a deadline already past.
    let at = (when > lp.inner.now()).then_some(when);
    let at = if mutant!(TimeoutEarly) {
        at.map(|when| when - 1)
    } else {
        at
    };
    let handle = lp.schedule_ref(at, on_timeout)?;

    let outcome = body.await;

    // `__aexit__`.
    lp.inner.cancel_ref(handle);
    if state.get() == EXPIRING && task.uncancel() <= cancelling {
        if let Err(error) = &outcome {
            if error.is_cancelled() {
                return Err(Error::Timeout);
            }
        }
    }
    outcome
}
