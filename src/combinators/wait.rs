//! `asyncio.wait`: wait for some or all of several tasks or futures.

use crate::error::Error;
use crate::event_loop::callback;
use crate::event_loop::{get_running_loop, EventLoop, SlotRef};
use crate::future::{Awaitable, Future, Waitable};
use crate::time::IntoNanos;
use std::cell::Cell;
use std::rc::Rc;

/// `asyncio.wait`'s `return_when`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnWhen {
    /// `FIRST_COMPLETED`: as soon as one is done.
    FirstCompleted,
    /// `FIRST_EXCEPTION`: as soon as one fails (not cancelled), or all are
    /// done.
    FirstException,
    /// `ALL_COMPLETED` (the default).
    #[default]
    AllCompleted,
}

/// `done, pending = await asyncio.wait(aws, timeout=..., return_when=...)`:
/// `(done, pending)`, each in the order of `aws`. Running out of time is
/// not an error: whatever is not done yet is `pending`. Nothing is
/// cancelled.
///
/// As CPython's `_wait`: a private waiter future, a done callback on each
/// that releases it when `return_when` is met, and a timer for `timeout`
/// (`None`: no timeout); all taken away on the way out.
///
/// ```
/// use loopsim::{new_event_loop, sleep, wait, ReturnWhen};
///
/// let lp = new_event_loop();
/// let t = lp.create_task(async {
///     let lp = loopsim::get_running_loop().unwrap();
///     let a = lp.create_task(async { sleep(1.0).await?; Ok(1) })?;
///     let b = lp.create_task(async { sleep(3.0).await?; Ok(2) })?;
///     let (done, pending) = wait(vec![a.clone(), b.clone()], None::<f64>, ReturnWhen::FirstCompleted).await?;
///     assert_eq!((done.len(), pending.len()), (1, 1));
///     assert_eq!(lp.time(), 1.0);
///     let (done, pending) = wait(vec![b], Some(0.5), ReturnWhen::AllCompleted).await?;
///     assert_eq!((done.len(), pending.len()), (0, 1));
///     Ok(())
/// }).unwrap();
/// lp.run_until_complete(&t).unwrap();
/// assert_eq!(lp.time(), 1.5);
/// ```
///
/// # Errors
/// CPython's: `aws` empty (`Set of Tasks/Futures is empty.`); no running
/// loop ([`Error::NoRunningLoop`]).
pub async fn wait<T, A>(
    aws: Vec<A>,
    timeout: Option<impl IntoNanos>,
    return_when: ReturnWhen,
) -> Result<(Vec<A>, Vec<A>), Error>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + Clone + 'static,
{
    if aws.is_empty() {
        // CPython's ValueError.
        return Err(Error::raised("Set of Tasks/Futures is empty."));
    }
    // CPython's `get_running_loop()`: a RuntimeError with no running loop
    // (after 3.13.0's failed nested `run_forever`, a task can step without
    // one).
    let lp = get_running_loop().ok_or(Error::NoRunningLoop)?;
    // `fs = set(fs)`: each one once.
    let mut fs: Vec<A> = Vec::new();
    for aw in &aws {
        let id = aw.waitable().identity();
        if !fs.iter().any(|f| f.waitable().identity() == id) {
            fs.push(aw.clone());
        }
    }
    let waiter = lp.create_future::<()>();
    let timer: Rc<Cell<Option<SlotRef>>> = Rc::default();
    if let Some(timeout) = timeout {
        let when = lp.inner.now().saturating_add(timeout.into_nanos());
        let release = release(&waiter);
        timer.set(Some(lp.schedule_ref(Some(when), release)?));
    }
    let counter = Rc::new(Cell::new(fs.len()));
    let mut added: Vec<(Rc<dyn Waitable>, u64)> = Vec::new();
    for f in &fs {
        let waitable = f.waitable();
        let on_completion = {
            let (counter, timer, waiter, f) =
                (counter.clone(), timer.clone(), waiter.clone(), f.clone());
            // The timer is the waiting loop's, which need not be the loop
            // running this callback (a child of another loop).
            let home = Rc::downgrade(&lp.inner);
            callback::internal(move |_: &EventLoop| {
                counter.set(counter.get().saturating_sub(1));
                let failed = matches!(f.try_result(), Err(e) if !e.is_cancelled());
                if counter.get() == 0
                    || return_when == ReturnWhen::FirstCompleted
                    || (return_when == ReturnWhen::FirstException && failed)
                {
                    if let (Some(timer), Some(home)) = (timer.take(), home.upgrade()) {
                        home.cancel_ref(timer);
                    }
                    if !waiter.done() {
                        let _ = waiter.set_result(());
                    }
                }
            })
        };
        let id = waitable.add_done_callback(on_completion)?;
        added.push((waitable, id));
    }
    // CPython's `finally`: the timer cancelled, the callbacks taken off.
    let _finally = Finally {
        lp: lp.clone(),
        timer: timer.clone(),
        added,
    };
    waiter.await?;
    drop(_finally);
    let (done, pending) = fs.into_iter().partition(|f| f.waitable().is_done());
    Ok((done, pending))
}

fn release(waiter: &Future<()>) -> callback::Callback {
    let waiter = waiter.clone();
    callback::internal(move |_: &EventLoop| {
        if !waiter.done() {
            let _ = waiter.set_result(());
        }
    })
}

struct Finally {
    lp: EventLoop,
    timer: Rc<Cell<Option<SlotRef>>>,
    added: Vec<(Rc<dyn Waitable>, u64)>,
}

impl Drop for Finally {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            self.lp.inner.cancel_ref(timer);
        }
        for (waitable, id) in self.added.drain(..) {
            waitable.remove_done_callback(id);
        }
    }
}
