//! `asyncio.shield`: await something without letting a cancel reach it.

use crate::error::Error;
use crate::event_loop::callback;
use crate::event_loop::{get_running_loop, EventLoop};
use crate::future::{Awaitable, Future};

/// `asyncio.shield(aw)`: a new future that ends as `aw` does. Cancelling it
/// (or the task awaiting it) cancels only the new future: `aw` goes on.
///
/// As CPython's: an outer future with a done callback on `aw` that passes
/// its outcome on (`aw` cancelled cancels the outer one), and one on the
/// outer future that takes that callback off `aw` if the outer one ends
/// first. If `aw` is already done, CPython returns `aw` itself; here a
/// future already holding its outcome, which awaits the same way.
///
/// ```
/// use loopsim::{new_event_loop, shield, sleep, Error};
///
/// let lp = new_event_loop();
/// let write = lp.create_task(async { sleep(2.0).await?; Ok(7) }).unwrap();
/// let w = write.clone();
/// let caller = lp.create_task(async move { shield(w).await }).unwrap();
/// let c = caller.clone();
/// lp.call_later(1.0, move |_: &loopsim::EventLoop| { c.cancel(); }).unwrap();
/// assert_eq!(lp.run_until_complete(&caller), Err(Error::Cancelled));
/// assert_eq!(lp.run_until_complete(&write), Ok(7)); // the write went on
/// ```
///
/// # Panics
/// If `aw`'s loop is gone and no loop is running.
pub fn shield<T, A>(aw: A) -> Future<T>
where
    T: Clone + std::fmt::Debug + 'static,
    A: Awaitable<T> + 'static,
{
    let inner = aw.waitable();
    // `outer = futures._get_loop(inner).create_future()`: on `aw`'s loop.
    let lp = inner
        .event_loop()
        .or_else(get_running_loop)
        .expect("loopsim::shield: no event loop");
    let outer = lp.create_future::<T>();
    if inner.is_done() {
        let _ = outer.0.finish(aw.try_result());
        return outer;
    }
    let id = {
        let outer = outer.clone();
        let cb = callback::internal(move |_: &EventLoop| {
            if outer.cancelled() {
                return;
            }
            match aw.try_result() {
                Err(Error::Cancelled) => {
                    outer.cancel();
                }
                outcome => {
                    let _ = outer.0.finish(outcome);
                }
            }
        });
        inner.add_done_callback(cb)
    };
    if let Ok(id) = id {
        let inner = inner.clone();
        let cb = callback::internal(move |_: &EventLoop| {
            if !inner.is_done() {
                inner.remove_done_callback(id);
            }
        });
        let _ = outer.0.add_done_callback(cb);
    }
    outer
}
