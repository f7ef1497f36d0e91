//! The scenario's primitives: its `event`, `lock`, `queue`... declarations
//! made into [`crate::sync`] objects, and the statements that use them.
//!
//! Non-awaiting calls (`set`, `release`, `put_nowait`...) that fail are
//! recorded as `error` events and the body goes on, as failing loop calls
//! are. Awaiting ones (`acquire`, `get`, `wait`...) raise into the task, as
//! `await x.acquire()` does. `get` and `get_nowait` record `got` with the
//! item.

use super::ast::{Cond, Name, Primitive, StmtKind};
use crate::error::Error;
use crate::event_loop::EventLoop;
use crate::sync::{
    value_lt, Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, PriorityQueue, Queue,
    Semaphore,
};
use crate::trace::EventKind;
use crate::value::Value;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One declared primitive.
#[derive(Clone)]
pub(crate) enum Prim {
    Event(Event),
    Lock(Lock),
    Semaphore(Semaphore),
    Bounded(BoundedSemaphore),
    Condition(Condition),
    Barrier(Barrier),
    Queue(Queue<Value>),
    Lifo(LifoQueue<Value>),
    Priority(PriorityQueue<Value>),
}

/// The primitives by name, made from the declarations (locks first, so a
/// condition finds the lock it names wherever that is declared).
pub(crate) fn make_all<'a>(
    decls: impl Iterator<Item = (&'a Rc<str>, &'a Primitive)> + Clone,
) -> BTreeMap<Rc<str>, Prim> {
    let mut prims = BTreeMap::new();
    for (name, decl) in decls.clone() {
        if matches!(decl, Primitive::Lock) {
            prims.insert(name.clone(), Prim::Lock(Lock::new()));
        }
    }
    for (name, decl) in decls {
        let size = |n: &Option<u64>| usize::try_from(n.unwrap_or(0)).unwrap_or(usize::MAX);
        let count = |n: &Option<u64>| u32::try_from(n.unwrap_or(1)).unwrap_or(u32::MAX);
        let prim = match decl {
            Primitive::Lock => continue,
            Primitive::Event => Prim::Event(Event::new()),
            Primitive::Semaphore(n) => Prim::Semaphore(Semaphore::new(count(n))),
            Primitive::BoundedSemaphore(n) => Prim::Bounded(BoundedSemaphore::new(count(n))),
            Primitive::Condition(lock) => {
                let lock = lock.as_ref().and_then(|l| match prims.get(&l.text) {
                    Some(Prim::Lock(lock)) => Some(lock.clone()),
                    _ => None,
                });
                Prim::Condition(lock.map_or_else(Condition::new, Condition::with_lock))
            }
            Primitive::Barrier(n) => {
                Prim::Barrier(Barrier::new(usize::try_from(*n).unwrap_or(usize::MAX)))
            }
            Primitive::Queue(n) => Prim::Queue(Queue::new(size(n))),
            Primitive::LifoQueue(n) => Prim::Lifo(LifoQueue::new(size(n))),
            Primitive::PriorityQueue(n) => {
                Prim::Priority(PriorityQueue::with_lt(size(n), value_lt))
            }
        };
        prims.insert(name.clone(), prim);
    }
    prims
}

impl Prim {
    /// `x.locked()` of a lock, semaphore or condition.
    fn locked(&self) -> Option<bool> {
        Some(match self {
            Prim::Lock(l) => l.locked(),
            Prim::Semaphore(s) => s.locked(),
            Prim::Bounded(s) => s.locked(),
            Prim::Condition(c) => c.locked(),
            _ => return None,
        })
    }

    /// `(qsize, full)` of a queue.
    fn queue_state(&self) -> Option<(usize, bool)> {
        Some(match self {
            Prim::Queue(q) => (q.qsize(), q.full()),
            Prim::Lifo(q) => (q.qsize(), q.full()),
            Prim::Priority(q) => (q.qsize(), q.full()),
            _ => return None,
        })
    }

    fn put_nowait(&self, value: Value) -> Result<(), Error> {
        match self {
            Prim::Queue(q) => q.put_nowait(value),
            Prim::Lifo(q) => q.put_nowait(value),
            Prim::Priority(q) => q.put_nowait(value),
            _ => Ok(()),
        }
    }

    fn get_nowait(&self) -> Result<Value, Error> {
        match self {
            Prim::Queue(q) => q.get_nowait(),
            Prim::Lifo(q) => q.get_nowait(),
            Prim::Priority(q) => q.get_nowait(),
            _ => Ok(Value::None),
        }
    }

    fn task_done(&self) -> Result<(), Error> {
        match self {
            Prim::Queue(q) => q.task_done(),
            Prim::Lifo(q) => q.task_done(),
            Prim::Priority(q) => q.task_done(),
            _ => Ok(()),
        }
    }
}

/// Runs a non-awaiting primitive statement; `false` if `stmt` is not one.
/// A failure is recorded by `lp` as an `error` event. (The resolver made
/// sure every name is a primitive of the right kind.)
pub(crate) fn exec_action(
    prims: &BTreeMap<Rc<str>, Prim>,
    lp: &EventLoop,
    stmt: &StmtKind,
) -> bool {
    let (_, outcome) = match stmt {
        StmtKind::Set(x) => (
            x,
            with(prims, x, |p| {
                if let Prim::Event(e) = p {
                    return e.set();
                }
                Ok(())
            }),
        ),
        StmtKind::Clear(x) => (
            x,
            with(prims, x, |p| {
                if let Prim::Event(e) = p {
                    e.clear()
                }
                Ok(())
            }),
        ),
        StmtKind::Release(x) => (
            x,
            with(prims, x, |p| match p {
                Prim::Lock(l) => l.release(),
                Prim::Semaphore(s) => s.release(),
                Prim::Bounded(s) => s.release(),
                Prim::Condition(c) => c.release(),
                _ => Ok(()),
            }),
        ),
        StmtKind::Notify { cond, n } => (
            cond,
            with(prims, cond, |p| match p {
                Prim::Condition(c) => {
                    c.notify(usize::try_from(n.unwrap_or(1)).unwrap_or(usize::MAX))
                }
                _ => Ok(()),
            }),
        ),
        StmtKind::NotifyAll(x) => (
            x,
            with(prims, x, |p| match p {
                Prim::Condition(c) => c.notify_all(),
                _ => Ok(()),
            }),
        ),
        StmtKind::PutNowait { queue, value } => {
            (queue, with(prims, queue, |p| p.put_nowait(value.clone())))
        }
        StmtKind::GetNowait(x) => (
            x,
            with(prims, x, |p| p.get_nowait().map(|value| got(lp, x, value))),
        ),
        StmtKind::TaskDone(x) => (x, with(prims, x, Prim::task_done)),
        _ => return false,
    };
    if let Some(Err(error)) = outcome {
        let _ = lp.fail::<()>(error);
    }
    true
}

fn with(
    prims: &BTreeMap<Rc<str>, Prim>,
    name: &Name,
    f: impl FnOnce(&Prim) -> Result<(), Error>,
) -> Option<Result<(), Error>> {
    prims.get(&name.text).map(f)
}

/// Records `got queue=Q value=V`.
pub(crate) fn got(lp: &EventLoop, queue: &Name, value: Value) {
    lp.record(EventKind::Got {
        queue: queue.text.clone(),
        value,
    });
}

/// Runs an awaiting primitive statement in a task; `None` if `stmt` is not
/// one. What it raises goes into the task. A `get` gives its item, for the
/// caller to record as `got` with the loop then current.
pub(crate) async fn exec_await(
    prims: &BTreeMap<Rc<str>, Prim>,
    stmt: &StmtKind,
) -> Option<Result<Option<Value>, Error>> {
    let name = match stmt {
        StmtKind::Wait(x)
        | StmtKind::Acquire(x)
        | StmtKind::Get(x)
        | StmtKind::Join(x)
        | StmtKind::Abort(x)
        | StmtKind::Reset(x)
        | StmtKind::Put { queue: x, .. } => x,
        _ => return None,
    };
    let prim = prims.get(&name.text)?.clone();
    let got = match (stmt, &prim) {
        (StmtKind::Get(_), Prim::Queue(q)) => q.get().await,
        (StmtKind::Get(_), Prim::Lifo(q)) => q.get().await,
        (StmtKind::Get(_), Prim::Priority(q)) => q.get().await,
        _ => return Some(exec_await_unit(stmt, prim).await.map(|()| None)),
    };
    Some(got.map(Some))
}

async fn exec_await_unit(stmt: &StmtKind, prim: Prim) -> Result<(), Error> {
    match (stmt, prim) {
        (StmtKind::Wait(_), Prim::Event(e)) => e.wait().await,
        (StmtKind::Wait(_), Prim::Condition(c)) => c.wait().await,
        (StmtKind::Wait(_), Prim::Barrier(b)) => b.wait().await.map(drop),
        (StmtKind::Acquire(_), Prim::Lock(l)) => l.acquire().await,
        (StmtKind::Acquire(_), Prim::Semaphore(s)) => s.acquire().await,
        (StmtKind::Acquire(_), Prim::Bounded(s)) => s.acquire().await,
        (StmtKind::Acquire(_), Prim::Condition(c)) => c.acquire().await,
        (StmtKind::Put { value, .. }, Prim::Queue(q)) => q.put(value.clone()).await,
        (StmtKind::Put { value, .. }, Prim::Lifo(q)) => q.put(value.clone()).await,
        (StmtKind::Put { value, .. }, Prim::Priority(q)) => q.put(value.clone()).await,
        (StmtKind::Join(_), Prim::Queue(q)) => q.join().await,
        (StmtKind::Join(_), Prim::Lifo(q)) => q.join().await,
        (StmtKind::Join(_), Prim::Priority(q)) => q.join().await,
        (StmtKind::Abort(_), Prim::Barrier(b)) => b.abort().await,
        (StmtKind::Reset(_), Prim::Barrier(b)) => b.reset().await,
        // The resolver allows no other pairing.
        _ => Ok(()),
    }
}

/// Whether a primitive condition holds; `None` if `cond` is not one.
pub(crate) fn holds(prims: &BTreeMap<Rc<str>, Prim>, cond: &Cond) -> Option<bool> {
    let name = match cond {
        Cond::IsSet(x)
        | Cond::Locked(x)
        | Cond::Empty(x)
        | Cond::Full(x)
        | Cond::Qsize(x, _)
        | Cond::Broken(x) => x,
        _ => return None,
    };
    let p = prims.get(&name.text)?;
    Some(match cond {
        Cond::IsSet(_) => matches!(p, Prim::Event(e) if e.is_set()),
        Cond::Locked(_) => p.locked() == Some(true),
        Cond::Empty(_) => p.queue_state().is_some_and(|(n, _)| n == 0),
        Cond::Full(_) => p.queue_state().is_some_and(|(_, full)| full),
        Cond::Qsize(_, size) => p.queue_state().is_some_and(|(n, _)| n as u64 == *size),
        Cond::Broken(_) => matches!(p, Prim::Barrier(b) if b.broken()),
        _ => return None,
    })
}
