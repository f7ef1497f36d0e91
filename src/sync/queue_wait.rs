//! `await q.put(item)` and `await q.get()`, written as futures by hand.
//!
//! They are CPython's `put` and `get` loops (`while self.full(): await
//! putter`, then `put_nowait`), with the same checks in the same order,
//! so the same passes and wake-ups. By hand rather than `async`, because
//! most calls never wait (a queue of 16 between two tasks waits once in 16
//! items): the common case is then a check and `put_nowait`, without the
//! state machine of two nested `async fn`s around it.

use super::queue::{Core, Order};
use super::waiters::Waiter;
use crate::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of `q.put(item)`.
pub(crate) struct Put<'a, O: Order> {
    core: &'a Core<O>,
    /// Until it is put.
    item: Option<O::Item>,
    /// The putter waiter awaited, while waiting.
    fut: Option<Waiter>,
}

/// The future of `q.get()`.
pub(crate) struct Get<'a, O: Order> {
    core: &'a Core<O>,
    /// The getter waiter awaited, while waiting.
    fut: Option<Waiter>,
}

// Neither is ever pinned structurally: the item is only moved out whole.
impl<O: Order> Unpin for Put<'_, O> {}
impl<O: Order> Unpin for Get<'_, O> {}

impl<'a, O: Order> Put<'a, O> {
    pub(super) fn new(core: &'a Core<O>, item: O::Item) -> Self {
        Put {
            core,
            item: Some(item),
            fut: None,
        }
    }
}

impl<'a, O: Order> Get<'a, O> {
    pub(super) fn new(core: &'a Core<O>) -> Self {
        Get { core, fut: None }
    }
}

/// Polls the waiter in `slot`, if any: `Pending` while it is, else what
/// `Core::waited` made of its outcome (the slot is then empty).
#[inline]
fn poll_waiting(
    slot: &mut Option<Waiter>,
    cx: &mut Context<'_>,
    after: impl FnOnce(Waiter, Result<bool, Error>) -> Result<(), Error>,
) -> Poll<Result<(), Error>> {
    let Some(fut) = slot else {
        return Poll::Ready(Ok(()));
    };
    match Pin::new(&mut fut.wait()).poll(cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(woken) => {
            let fut = slot.take().expect("waiting");
            Poll::Ready(after(fut, woken))
        }
    }
}

impl<O: Order> Future for Put<'_, O> {
    type Output = Result<(), Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let core = this.core;
        loop {
            let waited = poll_waiting(&mut this.fut, cx, |fut, woken| {
                Core::<O>::waited(&core.putters, fut, woken, || !core.full())
            });
            match waited {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {}
            }
            if !core.full() {
                let item = this.item.take().expect("a put is polled until it is done");
                return Poll::Ready(core.put_nowait(item));
            }
            match core.binding.get_loop() {
                Ok(lp) => this.fut = Some(core.putters.push_new(&lp)),
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl<O: Order> Future for Get<'_, O> {
    type Output = Result<O::Item, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let core = this.core;
        loop {
            let waited = poll_waiting(&mut this.fut, cx, |fut, woken| {
                Core::<O>::waited(&core.getters, fut, woken, || core.qsize() > 0)
            });
            match waited {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {}
            }
            if core.qsize() > 0 {
                return Poll::Ready(core.get_nowait());
            }
            match core.binding.get_loop() {
                Ok(lp) => this.fut = Some(core.getters.push_new(&lp)),
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}
