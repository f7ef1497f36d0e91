//! `asyncio.sleep`: [`yield_now`] for `sleep(0)`, [`sleep`] for a delay.

use crate::error::Error;
use crate::event_loop::Blocked;
use crate::future::current_step_loop;
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

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let lp = current_step_loop("yield_now() was awaited");
        if self.yielded {
            return Poll::Ready(lp.inner.take_thrown().map_or(Ok(()), Err));
        }
        self.yielded = true;
        lp.inner.block(Blocked::Yield);
        Poll::Pending
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
    delay: i64,
    state: SleepState,
}

enum SleepState {
    Start,
    Yielding(YieldNow),
    /// The task waits for the timer (see `Task::sleep_until`).
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
                let lp = current_step_loop("sleep() was awaited");
                let until = lp.inner.now().saturating_add(this.delay);
                lp.inner.block(Blocked::Sleep { until });
                this.state = SleepState::Waiting;
                Poll::Pending
            }
            SleepState::Yielding(y) => Pin::new(y).poll(cx),
            SleepState::Waiting => {
                // Woken by the timer, or by a cancel (thrown in).
                let lp = current_step_loop("sleep() was awaited");
                this.state = SleepState::Finished;
                Poll::Ready(lp.inner.take_thrown().map_or(Ok(()), Err))
            }
            SleepState::Finished => Poll::Ready(Ok(())),
        }
    }
}
