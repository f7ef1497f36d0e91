//! `asyncio.gather`: one future for the outcomes of several.

use crate::error::Error;
use crate::event_loop::callback::{self, Callback};
use crate::event_loop::{get_event_loop, EventLoop};
use crate::future::{Awaitable, FutureCore, Name, Wait, Waitable};
use crate::sync::audit::{mutant, violated};
use crate::Python;
use std::cell::Cell;
use std::rc::Rc;

/// `asyncio.gather(*aws)`: a future done when every one of `aws` is (with
/// their results, in order), or as soon as one fails or is cancelled (with
/// that exception; the others go on). Cancelling it cancels them all.
///
/// Awaiting the [`Gathering`] gives every child's outcome; with
/// `return_exceptions` false (this function) they are all `Ok` when it
/// returns `Ok`; [`Gathering::values`] unwraps them.
///
/// ```
/// use loopsim::{gather, new_event_loop, sleep, Error};
///
/// let lp = new_event_loop();
/// let t = lp.create_task(async {
///     let lp = loopsim::get_running_loop().unwrap();
///     let a = lp.create_task(async { sleep(1.0).await?; Ok(1) })?;
///     let b = lp.create_task(async { sleep(2.0).await?; Ok(2) })?;
///     let c = lp.create_task(async { sleep(0.5).await?; Err::<i64, _>(Error::raised("boom")) })?;
///     assert_eq!(gather(vec![a.clone(), b.clone()]).values().await, Ok(vec![1, 2]));
///     // The first failure, at once; the others go on.
///     assert_eq!(gather(vec![c, a]).values().await, Err(Error::raised("boom")));
///     Ok(())
/// }).unwrap();
/// lp.run_until_complete(&t).unwrap();
/// ```
///
/// Needs no running loop: the gathering future is on the first child's
/// loop, as CPython's is.
pub fn gather<T, A>(aws: Vec<A>) -> Gathering<T>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    start(aws, false)
}

/// `asyncio.gather(*aws, return_exceptions=True)`: done when every one of
/// `aws` is, with each one's outcome (a failure or a cancel is an `Err` in
/// its place, not the gather's).
///
/// ```
/// use loopsim::{gather_return_exceptions, new_event_loop, sleep, Error};
///
/// let lp = new_event_loop();
/// let t = lp.create_task(async {
///     let lp = loopsim::get_running_loop().unwrap();
///     let a = lp.create_task(async { sleep(1.0).await?; Ok(1) })?;
///     let b = lp.create_task(async { Err::<i64, _>(Error::raised("boom")) })?;
///     let all = gather_return_exceptions(vec![a, b]).await?;
///     assert_eq!(all, vec![Ok(1), Err(Error::raised("boom"))]);
///     Ok(())
/// }).unwrap();
/// lp.run_until_complete(&t).unwrap();
/// ```
///
/// Needs no running loop, as [`gather`].
pub fn gather_return_exceptions<T, A>(aws: Vec<A>) -> Gathering<T>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    start(aws, true)
}

/// The future [`gather`] returns (CPython's `_GatheringFuture`).
pub struct Gathering<T>(Rc<dyn GatherRef<T>>);

impl<T> Clone for Gathering<T> {
    fn clone(&self) -> Self {
        Gathering(self.0.clone())
    }
}

type Outcomes<T> = Vec<Result<T, Error>>;

trait GatherRef<T>: Waitable {
    fn core(&self) -> &FutureCore<Outcomes<T>>;
    fn to_waitable(self: Rc<Self>) -> Rc<dyn Waitable>;
}

struct GatherInner<T, A> {
    outer: FutureCore<Outcomes<T>>,
    /// One per argument (a repeated one is there each time).
    children: Vec<A>,
    /// How many distinct children there are, and have finished.
    nfuts: usize,
    nfinished: Cell<usize>,
    return_exceptions: bool,
    cancel_requested: Cell<bool>,
}

fn start<T, A>(aws: Vec<A>, return_exceptions: bool) -> Gathering<T>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    let mut seen: Vec<*const ()> = Vec::new();
    let mut distinct = Vec::new();
    for (i, aw) in aws.iter().enumerate() {
        let id = aw.waitable().identity();
        if !seen.contains(&id) {
            seen.push(id);
            distinct.push(i);
        }
    }
    // The outer future is on the first child's loop (`futures._get_loop`);
    // a child of another loop is `ensure_future`'s ValueError, raised
    // after the children before it got their done callbacks.
    let first = distinct.first().map(|&i| aws[i].waitable());
    let home = first.as_ref().map(|w| w.home());
    // No child: `get_event_loop()`'s (CPython asks for no running loop
    // when it has children).
    let lp = first
        .and_then(|w| w.event_loop())
        .unwrap_or_else(get_event_loop);
    let foreign = distinct
        .iter()
        .position(|&i| Some(aws[i].waitable().home()) != home);
    let inner = Rc::new(GatherInner {
        outer: FutureCore::new(&lp, Name::none()),
        nfuts: distinct.len(),
        children: aws,
        nfinished: Cell::new(0),
        return_exceptions,
        cancel_requested: Cell::new(false),
    });
    if inner.children.is_empty() {
        let _ = inner.outer.finish(Ok(Vec::new()));
        return Gathering(inner);
    }
    // 3.12 runs the callback of a child already done at once, after the
    // outer future exists; 3.11 adds it as a done callback (a pass later).
    let eager = lp.python() >= Python::V3_12;
    let mut done_now = Vec::new();
    for (k, &i) in distinct.iter().enumerate() {
        if Some(k) == foreign {
            // No outer future in CPython: the callbacks added find none
            // and return; here they find it done.
            let _ = inner.outer.finish(Err(Error::OtherLoopFuture));
            return Gathering(inner);
        }
        let child = inner.children[i].waitable();
        if eager && child.is_done() {
            done_now.push(i);
        } else {
            let _ = child.add_done_callback(done_callback(&inner, i));
        }
    }
    for i in done_now {
        inner.child_done(i);
    }
    Gathering(inner)
}

fn done_callback<T, A>(inner: &Rc<GatherInner<T, A>>, i: usize) -> Callback
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    let inner = inner.clone();
    callback::internal(move |_: &EventLoop| inner.child_done(i))
}

impl<T, A> GatherInner<T, A>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    /// `_done_callback(fut)`.
    fn child_done(&self, i: usize) {
        self.nfinished.set(self.nfinished.get() + 1);
        if self.outer.is_done() {
            return;
        }
        if !self.return_exceptions {
            if let Err(error) = self.children[i].try_result() {
                self.finish(Err(error), Some(i));
                return;
            }
        }
        if self.nfinished.get() == self.nfuts || mutant!(GatherFirstChild) {
            let results = self.children.iter().map(|c| c.try_result()).collect();
            let outcome = if self.cancel_requested.get() {
                Err(Error::Cancelled)
            } else {
                Ok(results)
            };
            self.finish(outcome, None);
        }
    }

    /// Finishes the outer future, first judging the invariant
    /// `gather_done`: it is done only when every child is, or when child
    /// `failed`, done with an error, fails it (without
    /// `return_exceptions`). Judged on the children themselves, not on
    /// the count of done callbacks that decided to finish.
    fn finish(&self, outcome: Result<Outcomes<T>, Error>, failed: Option<usize>) {
        let pending = self
            .children
            .iter()
            .filter(|c| !c.waitable().is_done())
            .count();
        let failed_ok = failed.is_some_and(|i| {
            !self.return_exceptions
                && self.children[i].waitable().is_done()
                && self.children[i].try_result().is_err()
        });
        if pending > 0 && !failed_ok {
            violated("gather_done", || {
                format!("gather finished with {pending} child(ren) pending and none failed")
            });
        }
        let _ = self.outer.finish(outcome);
    }
}

impl<T, A> Waitable for GatherInner<T, A>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    fn is_done(&self) -> bool {
        self.outer.is_done()
    }

    /// `_GatheringFuture.cancel`: cancels every child; `true` if one was.
    fn cancel(self: Rc<Self>) -> Result<bool, Error> {
        if self.outer.is_done() {
            return Ok(false);
        }
        let mut cancelled = false;
        for child in &self.children {
            if child.waitable().cancel()? {
                cancelled = true;
            }
        }
        if cancelled {
            self.cancel_requested.set(true);
        }
        Ok(cancelled)
    }

    fn add_done_callback(&self, cb: Callback) -> Result<u64, Error> {
        self.outer.add_done_callback(cb)
    }

    fn remove_done_callback(&self, id: u64) {
        self.outer.remove_done_callback(id)
    }

    fn identity(&self) -> *const () {
        self as *const Self as *const ()
    }

    fn name(&self) -> Option<Rc<str>> {
        None
    }

    fn home(&self) -> *const () {
        Waitable::home(&self.outer)
    }

    fn event_loop(&self) -> Option<EventLoop> {
        self.outer.event_loop()
    }
}

impl<T, A> GatherRef<T> for GatherInner<T, A>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    fn core(&self) -> &FutureCore<Outcomes<T>> {
        &self.outer
    }

    fn to_waitable(self: Rc<Self>) -> Rc<dyn Waitable> {
        self
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Gathering<T> {
    /// `outer.done()`.
    pub fn done(&self) -> bool {
        self.0.core().is_done()
    }

    /// `outer.cancel()`: cancels every child still pending; `true` if one
    /// was.
    pub fn cancel(&self) -> bool {
        self.0.core().user_cancel(self.0.clone().to_waitable())
    }

    /// Awaits the gather and unwraps the outcomes (all `Ok` unless
    /// `return_exceptions`, where the first `Err` is returned).
    pub async fn values(self) -> Result<Vec<T>, Error> {
        self.await?.into_iter().collect()
    }
}

impl<T: Clone + std::fmt::Debug + 'static> Awaitable<Outcomes<T>> for Gathering<T> {
    fn waitable(&self) -> Rc<dyn Waitable> {
        self.0.clone().to_waitable()
    }

    fn try_result(&self) -> Result<Outcomes<T>, Error> {
        self.0.core().result()
    }
}

impl<T: Clone + std::fmt::Debug + 'static> std::future::IntoFuture for Gathering<T> {
    type Output = Result<Outcomes<T>, Error>;
    type IntoFuture = Wait<Outcomes<T>, Gathering<T>>;

    fn into_future(self) -> Self::IntoFuture {
        Wait::new(self)
    }
}
