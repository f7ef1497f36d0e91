//! A task body that polls several loopsim awaitables in one step (a
//! hand-written join or select, as `futures::join!`/`select!` do) waits on
//! all of them: the first one ready wakes it, each knows its own readiness,
//! and the others go on waiting.

use loopsim::trace::EventKind;
use loopsim::{sleep, yield_now, Error, EventLoop};
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::pin;
use std::task::Poll;

/// Both outcomes, each recorded (with the loop's time) as it arrives.
async fn join<A, B>(a: A, b: B, lp: &EventLoop) -> (A::Output, B::Output)
where
    A: Future,
    B: Future,
{
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                lp.log(format!("a at {}", lp.time()));
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                lp.log(format!("b at {}", lp.time()));
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

enum Either<L, R> {
    Left(L),
    Right(R),
}

/// The first outcome; the other awaitable is dropped.
async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    })
    .await
}

fn logs(lp: &EventLoop) -> Vec<String> {
    lp.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { text } => Some(text.to_string()),
            _ => None,
        })
        .collect()
}

fn steps(lp: &EventLoop, task: &str) -> Vec<f64> {
    lp.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Step { task: t } if &**t == task => Some(e.time as f64 / 1e9),
            _ => None,
        })
        .collect()
}

#[test]
fn joining_two_sleeps_finishes_each_at_its_own_deadline() {
    let lp = EventLoop::new();
    let l = lp.clone();
    let t = lp
        .create_task_named("j", async move {
            let (a, b) = join(sleep(1.0), sleep(3.0), &l).await;
            a?;
            b?;
            Ok(l.time() as i64)
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&t), Ok(3));
    assert_eq!(logs(&lp), ["a at 1", "b at 3"]);
    // One step per wake-up: the start, the first deadline, the second.
    assert_eq!(steps(&lp, "j"), [0.0, 1.0, 3.0]);
}

#[test]
fn joining_in_the_other_order_is_the_same() {
    let lp = EventLoop::new();
    let l = lp.clone();
    let t = lp
        .create_task(async move {
            let (a, b) = join(sleep(3.0), sleep(1.0), &l).await;
            a.and(b)
        })
        .unwrap();
    lp.run_until_complete(&t).unwrap();
    assert_eq!(logs(&lp), ["b at 1", "a at 3"]);
}

#[test]
fn selecting_a_future_against_a_sleep_is_a_timeout() {
    // The future arrives first: the select returns then, not at the sleep's
    // deadline, and the sleep's timer is left cancelled.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i64>();
    let setter = fut.clone();
    lp.call_later(2.0, move |_: &EventLoop| setter.set_result(7))
        .unwrap();
    let waited = fut.clone();
    let l = lp.clone();
    let t = lp
        .create_task(async move {
            match select(waited.into_future(), sleep(5.0)).await {
                // The value, then the time.
                Either::Left(v) => Ok(v? * 1000 + l.time() as i64),
                Either::Right(_) => Ok(-1),
            }
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&t), Ok(7002));

    // Never set: the sleep wins at its deadline, the future stays pending.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i64>();
    let waited = fut.clone();
    let l = lp.clone();
    let t = lp
        .create_task(async move {
            match select(waited.into_future(), sleep(5.0)).await {
                Either::Left(_) => Ok(-1),
                Either::Right(r) => r.map(|()| l.time() as i64),
            }
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&t), Ok(5));
    assert!(!fut.done());
}

#[test]
fn a_yield_beside_a_sleep_wakes_the_task_next_pass() {
    let lp = EventLoop::new();
    let l = lp.clone();
    let t = lp
        .create_task_named("y", async move {
            let (a, b) = join(yield_now(), sleep(2.0), &l).await;
            a.and(b)
        })
        .unwrap();
    lp.run_until_complete(&t).unwrap();
    assert_eq!(logs(&lp), ["a at 0", "b at 2"]);
    assert_eq!(steps(&lp, "y"), [0.0, 0.0, 2.0]);
}

#[test]
fn cancelling_a_task_that_waits_on_several_wakes_it_without_cancelling_them() {
    // As cancelling a task inside `asyncio.wait`: the task gets
    // CancelledError, what it waited on goes on.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i64>();
    let waited = fut.clone();
    let l = lp.clone();
    let t = lp
        .create_task(async move {
            // The first awaitable polled takes the CancelledError.
            match select(waited.into_future(), sleep(5.0)).await {
                Either::Left(v) => v.map(|_| l.log("left")),
                Either::Right(r) => r,
            }
        })
        .unwrap();
    let victim = t.clone();
    lp.call_later(1.0, move |_: &EventLoop| {
        victim.cancel();
    })
    .unwrap();
    assert_eq!(lp.run_until_complete(&t), Err(Error::Cancelled));
    assert_eq!(lp.time(), 1.0);
    assert!(!fut.done());
    assert!(logs(&lp).is_empty());
}

#[test]
fn a_future_finishing_while_a_sleep_is_due_wakes_the_task_once() {
    // Both wake-ups land in the same pass: the task steps once, and the
    // step finds both ready.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i64>();
    let setter = fut.clone();
    lp.call_later(1.0, move |_: &EventLoop| setter.set_result(1))
        .unwrap();
    let waited = fut.clone();
    let l = lp.clone();
    let t = lp
        .create_task_named("w", async move {
            let (a, b) = join(waited.into_future(), sleep(1.0), &l).await;
            a.map(|_| ()).and(b)
        })
        .unwrap();
    lp.run_until_complete(&t).unwrap();
    assert_eq!(steps(&lp, "w"), [0.0, 1.0]);
    assert_eq!(logs(&lp), ["a at 1", "b at 1"]);
}
