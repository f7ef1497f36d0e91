//! The waker a task step polls its body with, and how loopsim's awaitables
//! find the stepping loop through it.
//!
//! An awaitable (`sleep`, awaiting a future) needs the loop that is stepping
//! its task: to read the clock, to say what the task now waits for, to take
//! what was thrown in. The step's waker carries a pointer to that loop, so
//! finding it is a compare and a load, where the running loop would be a
//! thread-local lookup and a reference count up and down.
//!
//! Waking does nothing, as with `Waker::noop()`: a task is woken by the
//! loop (its timer, a done callback), never through its waker. A clone of
//! the waker holds a strong count of the loop, so one kept past its step
//! never dangles. A body polled with some other waker (a combinator that
//! makes wakers of its own) still works: [`with_stepping_loop`] then falls
//! back to the running loop.

use crate::event_loop::{get_running_loop, EventLoop, LoopInner};
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

/// Data: `Rc::as_ptr` of the loop's `LoopInner`.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// # Safety
/// `data` is a live `LoopInner` of an `Rc` (see [`VTABLE`]).
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    Rc::increment_strong_count(data.cast::<LoopInner>());
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// As `clone_waker`; the waker owned a count, given back here.
unsafe fn wake(data: *const ()) {
    drop_waker(data);
}

unsafe fn wake_by_ref(_data: *const ()) {}

/// # Safety
/// As `wake`.
unsafe fn drop_waker(data: *const ()) {
    Rc::decrement_strong_count(data.cast::<LoopInner>());
}

/// Runs `poll` with a context whose waker names `lp`. That waker holds no
/// count of its own (it borrows `lp`, which outlives the call) and is never
/// dropped; clones made from it hold one.
#[inline]
pub(crate) fn with_step_context<R>(lp: &EventLoop, poll: impl FnOnce(&mut Context<'_>) -> R) -> R {
    let data = Rc::as_ptr(&lp.inner).cast::<()>();
    // SAFETY: the vtable's functions treat `data` as the `LoopInner` of an
    // `Rc`, which `lp` keeps alive for the whole call; the waker itself is
    // never dropped (so it never gives back a count it does not own).
    let waker = ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) });
    poll(&mut Context::from_waker(&waker))
}

/// Calls `f` with the loop whose task step is polling `cx`: the one the
/// step's waker names, or else the running loop. Awaiting outside a
/// loopsim task is a programming error (`what` says what was awaited).
#[inline]
pub(crate) fn with_stepping_loop<R>(
    cx: &Context<'_>,
    what: &str,
    f: impl FnOnce(&LoopInner) -> R,
) -> R {
    let waker = cx.waker();
    if std::ptr::eq(waker.vtable(), &VTABLE) {
        // SAFETY: only wakers made here have this vtable, and each either
        // borrows a loop alive for the step (`with_step_context`) or holds a
        // count of it (`clone_waker`); `cx` borrows that waker meanwhile.
        let inner = unsafe { &*waker.data().cast::<LoopInner>() };
        if inner.step.active.get() {
            return f(inner);
        }
    }
    with_running_loop(what, f)
}

/// [`with_stepping_loop`] for a body polled with a waker not made here.
#[cold]
#[inline(never)]
fn with_running_loop<R>(what: &str, f: impl FnOnce(&LoopInner) -> R) -> R {
    match get_running_loop() {
        Some(lp) if lp.inner.step.active.get() => f(&lp.inner),
        _ => panic!("loopsim: {what} outside a loopsim task (use loop.create_task)"),
    }
}

#[cfg(test)]
mod tests {
    use crate::{sleep, EventLoop, Nanos};
    use std::cell::RefCell;
    use std::future::Future as _;
    use std::pin::pin;
    use std::rc::Rc;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn a_waker_kept_past_its_step_holds_the_loop_until_dropped() {
        let lp = EventLoop::new();
        let kept: Rc<RefCell<Vec<Waker>>> = Rc::default();
        let keep = kept.clone();
        lp.block_on(async move {
            std::future::poll_fn(|cx| {
                keep.borrow_mut().push(cx.waker().clone());
                keep.borrow_mut().push(cx.waker().clone());
                Poll::Ready(())
            })
            .await;
            Ok(())
        })
        .unwrap();
        let counted = Rc::strong_count(&lp.inner);
        let mut wakers = kept.take();
        wakers[0].wake_by_ref(); // does nothing, gives nothing back
        assert_eq!(Rc::strong_count(&lp.inner), counted);
        wakers.pop().unwrap().wake(); // consumed: its count given back
        assert_eq!(Rc::strong_count(&lp.inner), counted - 1);
        drop(wakers);
        assert_eq!(Rc::strong_count(&lp.inner), counted - 2);
    }

    #[test]
    fn a_body_polled_with_a_foreign_waker_finds_the_running_loop() {
        let lp = EventLoop::new();
        let end = lp
            .block_on(async {
                let mut nap = pin!(sleep(Nanos(5)));
                std::future::poll_fn(|_| {
                    nap.as_mut().poll(&mut Context::from_waker(Waker::noop()))
                })
                .await?;
                Ok(crate::get_running_loop().unwrap().now().0)
            })
            .unwrap();
        assert_eq!(end, 5);
    }

    #[test]
    #[should_panic(expected = "sleep() was awaited outside a loopsim task")]
    fn awaiting_outside_a_task_is_a_programming_error() {
        let _ = pin!(sleep(Nanos(5))).poll(&mut Context::from_waker(Waker::noop()));
    }
}
