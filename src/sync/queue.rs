//! `asyncio.Queue`, `LifoQueue` and `PriorityQueue`: one queue over three
//! orders.
//!
//! As CPython's `queues.py` (the same in 3.11, 3.12 and 3.13, before 3.13's
//! `shutdown`): getters and putters are two deques of waiter futures. A
//! `put_nowait` wakes the first getter not yet woken (taking it off the
//! deque), a `get_nowait` the first putter; the woken task then loops,
//! re-checks, and takes its item one pass later. A woken waiter that is
//! cancelled before it runs passes the wake-up on. `join` waits for an
//! `Event` that `task_done` sets when every item put was done.

use super::audit::{self, mutant};
use super::event::Event;
use super::heap::{self, PyLt};
use super::queue_wait::{Get, Put};
use super::waiters::{wake, LoopBinding, Waiter, Waiters};
use crate::error::Error;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// The order a queue hands items out in (`_init`, `_put`, `_get`).
pub(crate) trait Order {
    type Item;
    fn put(&mut self, item: Self::Item) -> Result<(), Error>;
    fn get(&mut self) -> Result<Self::Item, Error>;
    fn len(&self) -> usize;
}

/// `Queue`: first in, first out.
pub(crate) struct Fifo<T>(VecDeque<T>);
/// `LifoQueue`: last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);
/// `PriorityQueue`: smallest first, by `heapq` with Python's `<`.
pub(crate) struct Heap<T> {
    items: Vec<T>,
    lt: PyLt<T>,
}

impl<T> Order for Fifo<T> {
    type Item = T;
    fn put(&mut self, item: T) -> Result<(), Error> {
        self.0.push_back(item);
        Ok(())
    }
    fn get(&mut self) -> Result<T, Error> {
        let item = if mutant!(QueueGetsNewest) {
            self.0.pop_back()
        } else {
            self.0.pop_front()
        };
        Ok(item.expect("not empty"))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Order for Lifo<T> {
    type Item = T;
    fn put(&mut self, item: T) -> Result<(), Error> {
        self.0.push(item);
        Ok(())
    }
    fn get(&mut self) -> Result<T, Error> {
        Ok(self.0.pop().expect("not empty"))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Order for Heap<T> {
    type Item = T;
    fn put(&mut self, item: T) -> Result<(), Error> {
        heap::push(&mut self.items, item, self.lt)
    }
    fn get(&mut self) -> Result<T, Error> {
        heap::pop(&mut self.items, self.lt).expect("not empty")
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// What the three queues share: `asyncio.Queue` minus `_init`, `_put`, `_get`.
pub(crate) struct Core<O> {
    maxsize: usize,
    items: RefCell<O>,
    pub(super) getters: Waiters,
    pub(super) putters: Waiters,
    unfinished_tasks: Cell<u64>,
    finished: Event,
    pub(super) binding: LoopBinding,
    /// The invariant's shadow: items put and `task_done` calls that
    /// returned.
    put_count: Cell<u64>,
    done_count: Cell<u64>,
}

impl<O: Order> Core<O> {
    fn new(maxsize: usize, items: O) -> Core<O> {
        let finished = Event::new();
        let _ = finished.set(); // nothing waits yet: cannot fail
        Core {
            maxsize,
            items: RefCell::new(items),
            getters: Waiters::default(),
            putters: Waiters::default(),
            unfinished_tasks: Cell::new(0),
            finished,
            binding: LoopBinding::default(),
            put_count: Cell::new(0),
            done_count: Cell::new(0),
        }
    }

    #[inline]
    pub(super) fn qsize(&self) -> usize {
        self.items.borrow().len()
    }

    #[inline]
    pub(super) fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// `_wakeup_next`: pops waiters until one not done, and wakes it.
    /// Inlined for its common case, nobody waiting (every `put_nowait`
    /// and `get_nowait` asks).
    #[inline(always)]
    fn wakeup_next(waiters: &Waiters) -> Result<(), Error> {
        if waiters.is_empty() {
            return Ok(());
        }
        Self::wakeup_waiting(waiters)
    }

    #[inline(never)]
    fn wakeup_waiting(waiters: &Waiters) -> Result<(), Error> {
        while let Some(waiter) = waiters.pop_front() {
            if !waiter.done() {
                return wake(&waiter, true);
            }
        }
        Ok(())
    }

    /// What a `put` or `get` does once the waiter `fut` it awaited is
    /// done (`woken`): on any exception, what `except:` does: cancel the
    /// waiter, take it off, and pass a wake-up it got on if `can_go_on`
    /// says another could use it.
    pub(super) fn waited(
        waiters: &Waiters,
        fut: Waiter,
        woken: Result<bool, Error>,
        can_go_on: impl Fn() -> bool,
    ) -> Result<(), Error> {
        match woken {
            Ok(_) => {
                waiters.done_with(fut);
                Ok(())
            }
            Err(error) => {
                fut.cancel();
                waiters.remove(&fut);
                if can_go_on() && !fut.cancelled() {
                    // The waiters are this running loop's: never refused.
                    let _ = Self::wakeup_next(waiters);
                }
                waiters.done_with(fut);
                Err(error)
            }
        }
    }

    /// `await q.put(item)`: `while self.full(): <wait as a putter>`, then
    /// `put_nowait` (see `queue_wait.rs`).
    fn put(&self, item: O::Item) -> Put<'_, O> {
        Put::new(self, item)
    }

    #[inline]
    pub(super) fn put_nowait(&self, item: O::Item) -> Result<(), Error> {
        let size = {
            let mut items = self.items.borrow_mut();
            if self.maxsize > 0 && items.len() >= self.maxsize && !mutant!(QueueOverfull) {
                return Err(Error::QueueFull);
            }
            items.put(item)?;
            items.len()
        };
        self.unfinished_tasks.set(self.unfinished_tasks.get() + 1);
        self.finished.clear();
        self.put_count.set(self.put_count.get() + 1);
        if self.maxsize > 0 && size > self.maxsize {
            let maxsize = self.maxsize;
            audit::violated("queue_maxsize", || {
                format!("a queue of maxsize {maxsize} holds {size} items")
            });
        }
        Self::wakeup_next(&self.getters)
    }

    /// `await q.get()`: `while self.empty(): <wait as a getter>`, then
    /// `get_nowait` (see `queue_wait.rs`).
    fn get(&self) -> Get<'_, O> {
        Get::new(self)
    }

    #[inline]
    pub(super) fn get_nowait(&self) -> Result<O::Item, Error> {
        let item = {
            let mut items = self.items.borrow_mut();
            if items.len() == 0 {
                return Err(Error::QueueEmpty);
            }
            items.get()?
        };
        // Refused on a closed loop: the item is gone all the same, as in
        // CPython, where `_wakeup_next` raises after `_get`.
        Self::wakeup_next(&self.putters)?;
        Ok(item)
    }

    fn task_done(&self) -> Result<(), Error> {
        let unfinished = self.unfinished_tasks.get();
        if unfinished == 0 && !mutant!(TaskDoneUnchecked) {
            return Err(Error::TaskDoneTooMany);
        }
        self.unfinished_tasks.set(unfinished.saturating_sub(1));
        if unfinished <= 1 {
            self.finished.set()?;
        }
        let done = self.done_count.get() + 1;
        self.done_count.set(done);
        let put = self.put_count.get();
        if done > put {
            audit::violated("task_done", || {
                format!("task_done called {done} times for {put} items put")
            });
        }
        Ok(())
    }

    async fn join(&self) -> Result<(), Error> {
        if self.unfinished_tasks.get() > 0 {
            self.finished.wait().await?;
        }
        Ok(())
    }
}

macro_rules! queue_api {
    ($name:ident, $what:literal) => {
        impl<T: 'static> $name<T> {
            #[doc = concat!("`q.qsize()`: items in the ", $what, ".")]
            pub fn qsize(&self) -> usize {
                self.0.qsize()
            }

            /// `q.empty()`.
            pub fn empty(&self) -> bool {
                self.0.qsize() == 0
            }

            /// `q.full()`: never for a `maxsize` of 0.
            pub fn full(&self) -> bool {
                self.0.full()
            }

            /// `q.maxsize`.
            pub fn maxsize(&self) -> usize {
                self.0.maxsize
            }

            /// `await q.put(item)`: waits while the queue is full.
            pub fn put(
                &self,
                item: T,
            ) -> impl std::future::Future<Output = Result<(), Error>> + '_ {
                self.0.put(item)
            }

            /// `q.put_nowait(item)`: [`Error::QueueFull`] if full.
            pub fn put_nowait(&self, item: T) -> Result<(), Error> {
                self.0.put_nowait(item)
            }

            /// `await q.get()`: waits while the queue is empty.
            pub fn get(&self) -> impl std::future::Future<Output = Result<T, Error>> + '_ {
                self.0.get()
            }

            /// `q.get_nowait()`: [`Error::QueueEmpty`] if empty.
            pub fn get_nowait(&self) -> Result<T, Error> {
                self.0.get_nowait()
            }

            /// `q.task_done()`: one item put is done;
            /// [`Error::TaskDoneTooMany`] when none is left.
            pub fn task_done(&self) -> Result<(), Error> {
                self.0.task_done()
            }

            /// `await q.join()`: until every item put is done.
            pub async fn join(&self) -> Result<(), Error> {
                self.0.join().await
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }
    };
}

/// `asyncio.Queue(maxsize)`: first in, first out; a `maxsize` of 0 is
/// unbounded. Cheap to clone: clones are the same queue.
///
/// ```
/// use loopsim::sync::Queue;
/// use loopsim::new_event_loop;
///
/// let lp = new_event_loop();
/// let q = Queue::new(1);
/// let producer = {
///     let q = q.clone();
///     lp.create_task(async move {
///         for i in 0..3 {
///             q.put(i).await?; // waits while the queue is full
///         }
///         q.join().await // until the consumer is done with all three
///     }).unwrap()
/// };
/// let consumer = {
///     let q = q.clone();
///     lp.create_task(async move {
///         let mut got = 0;
///         for _ in 0..3 {
///             got = got * 10 + q.get().await?;
///             q.task_done()?;
///         }
///         Ok(got)
///     }).unwrap()
/// };
/// lp.run_until_complete(&producer).unwrap();
/// assert_eq!(consumer.result(), Ok(12)); // 0, then 1, then 2
/// ```
pub struct Queue<T>(Rc<Core<Fifo<T>>>);

/// `asyncio.LifoQueue(maxsize)`: last in, first out.
///
/// ```
/// use loopsim::sync::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// q.put_nowait("a").unwrap();
/// q.put_nowait("b").unwrap();
/// assert_eq!(q.get_nowait(), Ok("b"));
/// ```
pub struct LifoQueue<T>(Rc<Core<Lifo<T>>>);

/// `asyncio.PriorityQueue(maxsize)`: smallest first, in exactly the order
/// CPython's `heapq` gives (equal items included).
///
/// ```
/// use loopsim::sync::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// for p in [3, 1, 2] {
///     q.put_nowait(p).unwrap();
/// }
/// assert_eq!(q.get_nowait(), Ok(1));
/// assert_eq!(q.get_nowait(), Ok(2));
/// ```
pub struct PriorityQueue<T>(Rc<Core<Heap<T>>>);

impl<T: 'static> Queue<T> {
    /// `asyncio.Queue(maxsize)`.
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue(Rc::new(Core::new(maxsize, Fifo(VecDeque::new()))))
    }
}

impl<T: 'static> LifoQueue<T> {
    /// `asyncio.LifoQueue(maxsize)`.
    pub fn new(maxsize: usize) -> LifoQueue<T> {
        LifoQueue(Rc::new(Core::new(maxsize, Lifo(Vec::new()))))
    }
}

impl<T: Ord + 'static> PriorityQueue<T> {
    /// `asyncio.PriorityQueue(maxsize)`, ordered by `T`'s `Ord`.
    pub fn new(maxsize: usize) -> PriorityQueue<T> {
        PriorityQueue::with_lt(maxsize, |a, b| Ok(a < b))
    }
}

impl<T: 'static> PriorityQueue<T> {
    /// A priority queue ordered by `lt`, Python's `<`, which may raise:
    /// as in CPython, an item whose comparison raises stays queued after
    /// `put` fails, and `get` that raises has lost its item.
    /// [`value_lt`](super::value_lt) compares scenario values as Python.
    pub fn with_lt(maxsize: usize, lt: PyLt<T>) -> PriorityQueue<T> {
        PriorityQueue(Rc::new(Core::new(
            maxsize,
            Heap {
                items: Vec::new(),
                lt,
            },
        )))
    }
}

queue_api!(Queue, "queue");
queue_api!(LifoQueue, "queue");
queue_api!(PriorityQueue, "queue");
