//! `asyncio.sleep`: [`yield_now`] for `sleep(0)`, [`sleep`] for a delay.

use super::with_stepping_loop;
use crate::error::Error;
use crate::event_loop::Blocked;
use crate::python::Python;
use crate::time::IntoNanos;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `await asyncio.sleep(0)`: gives up the rest of this pass; the task's next
/// step runs in the next one.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future [`yield_now`] returns.
pub struct YieldNow {
    yielded: bool,
}

impl std::future::Future for YieldNow {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        with_stepping_loop(cx, "yield_now() was awaited", |lp| {
            if self.yielded {
                return Poll::Ready(lp.take_thrown().map_or(Ok(()), Err));
            }
            self.yielded = true;
            lp.block(Blocked::Yield);
            Poll::Pending
        })
    }
}

/// `await asyncio.sleep(delay)`: a future completed by a timer `delay`
/// from now. `delay <= 0` is [`yield_now`].
pub fn sleep(delay: impl IntoNanos) -> Sleep {
    Sleep {
        delay: delay.into_nanos(),
        state: SleepState::Start,
    }
}

/// The future [`sleep`] returns.
pub struct Sleep {
    /// The delay, then (once waiting) the deadline.
    delay: i64,
    state: SleepState,
}

enum SleepState {
    Start,
    Yielding(YieldNow),
    /// The task waits for the timer (see `Task::sleep_until`) at the
    /// deadline, which `delay` now holds.
    Waiting,
    Finished,
}

impl std::future::Future for Sleep {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match &mut this.state {
            SleepState::Start if this.delay <= 0 => {
                this.state = SleepState::Yielding(yield_now());
                self.poll(cx)
            }
            SleepState::Start => {
                let started = with_stepping_loop(cx, "sleep() was awaited", |lp| {
                    // `loop = events.get_running_loop()`, which only
                    // CPython 3.13.0 lets a task find empty (a failed nested
                    // `run_forever` cleared it).
                    if lp.world.config.python.at_least(Python::V3_13)
                        && crate::event_loop::get_running_loop().is_none()
                    {
                        return Err(Error::NoRunningLoop);
                    }
                    let until = lp.now().saturating_add(this.delay);
                    lp.block(Blocked::Sleep { until });
                    Ok(until)
                });
                match started {
                    Ok(until) => this.delay = until,
                    Err(error) => {
                        this.state = SleepState::Finished;
                        return Poll::Ready(Err(error));
                    }
                }
                this.state = SleepState::Waiting;
                Poll::Pending
            }
            SleepState::Yielding(y) => Pin::new(y).poll(cx),
            SleepState::Waiting => {
                let until = this.delay;
                with_stepping_loop(cx, "sleep() was awaited", |lp| {
                    // Woken by a cancel (thrown in), by its timer, or, when
                    // the step waits on several things, by another of them:
                    // then it waits on.
                    if let Some(thrown) = lp.take_thrown() {
                        this.state = SleepState::Finished;
                        return Poll::Ready(Err(thrown));
                    }
                    // `reached` first: a lone sleep's own timer sets it to
                    // the end of time, and then the clock is not read.
                    if lp.step.reached.get() >= until || lp.now() >= until {
                        this.state = SleepState::Finished;
                        return Poll::Ready(Ok(()));
                    }
                    lp.block(Blocked::Sleep { until });
                    Poll::Pending
                })
            }
            SleepState::Finished => Poll::Ready(Ok(())),
        }
    }
}
