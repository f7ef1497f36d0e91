//! Callbacks as the loop stores them: a closure plus how the trace names it.
//!
//! The label travels inside the callback (one wrapper type per kind), so an
//! unnamed or internal callback costs the loop no name storage at all, and a
//! closure that captures at most one word is stored without allocating
//! ([`Callback`]).

use crate::error::Error;
use crate::event_loop::EventLoop;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::rc::Rc;

/// What a callback returns: nothing, or a `Result` whose error is "raised"
/// (the loop's exception handler records it as an `exception` event).
pub trait CallbackResult: 'static {
    /// As a `Result`.
    fn into_result(self) -> Result<(), Error>;
}

impl CallbackResult for () {
    fn into_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl CallbackResult for Result<(), Error> {
    fn into_result(self) -> Result<(), Error> {
        self
    }
}

/// How a callback shows in the trace.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Label<'a> {
    /// A user callback: `call name=…` when it starts.
    User(&'a Rc<str>),
    /// A user callback without a name: `call name=callback`.
    Unnamed,
    /// Loop machinery (task steps record `step` themselves): not recorded.
    Internal,
}

/// How a callback's start shows in the trace: [`Label`] without the name,
/// known from the callback's type (the loop reads it from the vtable,
/// without calling anything).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shows {
    /// [`Label::Internal`].
    Nothing,
    /// [`Label::Unnamed`].
    Unnamed,
    /// [`Label::User`].
    Named,
}

/// A scheduled value with its label: one of the closure wrappers below, or
/// loop machinery with a type of its own ([`machinery`]).
pub(crate) trait Scheduled: Sized + 'static {
    /// What [`label`](Scheduled::label) gives, without the name.
    const SHOWS: Shows;
    fn label(&self) -> Label<'_>;
    fn run(self, lp: &EventLoop) -> Result<(), Error>;
    /// Starts loading the memory `run` will touch, if it knows any: a
    /// prefetch hint, which changes nothing (see `warm_next_timers` in
    /// `run.rs`).
    fn warm(&self) {}
    /// What the loop's state calls this callback (`loop_state`): the
    /// trace's name for a user callback, `internal` for machinery that does
    /// not say more (a task's step says `step NAME`).
    fn describe(&self) -> Rc<str> {
        match self.label() {
            Label::User(name) => name.clone(),
            Label::Unnamed => "callback".into(),
            Label::Internal => "internal".into(),
        }
    }
}

/// A callback without a name of its own: recorded as `call name=callback`
/// when `RECORDED`, else loop machinery, not recorded.
struct Anonymous<F, const RECORDED: bool>(F);
struct Named<F> {
    name: Rc<str>,
    f: F,
}

impl<F, R, const RECORDED: bool> Scheduled for Anonymous<F, RECORDED>
where
    F: FnOnce(&EventLoop) -> R + 'static,
    R: CallbackResult,
{
    const SHOWS: Shows = if RECORDED {
        Shows::Unnamed
    } else {
        Shows::Nothing
    };

    fn label(&self) -> Label<'_> {
        if RECORDED {
            Label::Unnamed
        } else {
            Label::Internal
        }
    }

    fn run(self, lp: &EventLoop) -> Result<(), Error> {
        (self.0)(lp).into_result()
    }
}

impl<F, R> Scheduled for Named<F>
where
    F: FnOnce(&EventLoop) -> R + 'static,
    R: CallbackResult,
{
    const SHOWS: Shows = Shows::Named;

    fn label(&self) -> Label<'_> {
        Label::User(&self.name)
    }

    fn run(self, lp: &EventLoop) -> Result<(), Error> {
        (self.f)(lp).into_result()
    }
}

/// A user callback recorded as `call name=callback`.
pub(crate) fn unnamed<F, R>(f: F) -> Callback
where
    F: FnOnce(&EventLoop) -> R + 'static,
    R: CallbackResult,
{
    Callback::new(Anonymous::<F, true>(f))
}

/// A user callback recorded as `call name=NAME`.
pub(crate) fn named<F, R>(name: Rc<str>, f: F) -> Callback
where
    F: FnOnce(&EventLoop) -> R + 'static,
    R: CallbackResult,
{
    Callback::new(Named { name, f })
}

/// A user callback with a type of its own, which says its name
/// ([`Scheduled::label`]): the scenario interpreter's, one pointer, kept in
/// its slot without a box.
pub(crate) fn user<T: Scheduled>(value: T) -> Callback {
    debug_assert_eq!(T::SHOWS, Shows::Named);
    Callback::new(value)
}

/// Loop machinery, not recorded.
pub(crate) fn internal<F, R>(f: F) -> Callback
where
    F: FnOnce(&EventLoop) -> R + 'static,
    R: CallbackResult,
{
    Callback::new(Anonymous::<F, false>(f))
}

/// Loop machinery with a type of its own (one that can [`warm`] its memory),
/// not recorded.
///
/// [`warm`]: Scheduled::warm
pub(crate) fn machinery<T: Scheduled>(value: T) -> Callback {
    Callback::new(value)
}

/// The storage of a [`Callback`]: one machine word, which holds a callback
/// of that size or less itself, or else the pointer to its box.
///
/// A word, not a one-word array: with a scalar here a `Callback` is a pair
/// of scalars, which calls pass in two registers. As an array it was passed
/// through memory, written as two words and read back as one 16-byte load,
/// which cannot be forwarded from those two stores and waits for them to
/// reach the cache: that wait was a fifth of W1's time.
type Storage = MaybeUninit<usize>;

/// What a [`Callback`] can do with its storage, for one wrapped closure type
/// stored one way (inline or boxed).
struct VTable {
    /// [`Scheduled::SHOWS`].
    shows: Shows,
    label: for<'a> unsafe fn(&'a Storage) -> Label<'a>,
    describe: unsafe fn(&Storage) -> Rc<str>,
    run: unsafe fn(Storage, &EventLoop) -> Result<(), Error>,
    warm: unsafe fn(&Storage),
    drop: unsafe fn(&mut Storage),
}

/// A type-erased callback in two words: a vtable and [`Storage`].
///
/// `Box<dyn FnOnce>` would allocate for every closure that captures
/// anything. Most callbacks capture one pointer or one integer (a task, a
/// future, a counter), so a callback that fits in a word is kept in place
/// and only larger ones are boxed. Scheduling such a callback allocates
/// nothing: it is written straight into its slot.
#[doc(hidden)]
pub struct Callback {
    vtable: &'static VTable,
    storage: Storage,
    /// Closures may hold `Rc`s: a callback never leaves its thread.
    _not_send: PhantomData<Rc<()>>,
}

impl Callback {
    fn new<T: Scheduled>(value: T) -> Callback {
        let mut storage = Storage::uninit();
        let vtable = if Inline::<T>::FITS {
            // SAFETY: `T` fits the storage in size and alignment (`FITS`),
            // and the storage is uninitialised, so nothing is overwritten.
            unsafe { storage.as_mut_ptr().cast::<T>().write(value) };
            &Inline::<T>::VTABLE
        } else {
            let boxed = Box::into_raw(Box::new(value));
            // SAFETY: a pointer fits one word.
            unsafe { storage.as_mut_ptr().cast::<*mut T>().write(boxed) };
            &Boxed::<T>::VTABLE
        };
        Callback {
            vtable,
            storage,
            _not_send: PhantomData,
        }
    }

    /// How its start shows in the trace: a read of its vtable, no call.
    #[inline]
    pub(crate) fn shows(&self) -> Shows {
        self.vtable.shows
    }

    /// How the trace names this callback.
    pub(crate) fn label(&self) -> Label<'_> {
        // SAFETY: `vtable` was chosen by `new` for what `storage` holds.
        unsafe { (self.vtable.label)(&self.storage) }
    }

    /// [`Scheduled::describe`]: what the loop's state calls it.
    pub(crate) fn describe(&self) -> Rc<str> {
        // SAFETY: as in `label`.
        unsafe { (self.vtable.describe)(&self.storage) }
    }

    /// [`Scheduled::warm`]: a prefetch of what running it will touch.
    #[inline]
    pub(crate) fn warm(&self) {
        // SAFETY: as in `label`.
        unsafe { (self.vtable.warm)(&self.storage) }
    }

    /// Runs the callback, consuming it.
    #[inline]
    pub(crate) fn run(self, lp: &EventLoop) -> Result<(), Error> {
        let this = ManuallyDrop::new(self);
        // SAFETY: as in `label`; `run` takes the value over (the storage is
        // passed by value, in a register) and `this` is never dropped, so
        // it is not dropped twice (even if the closure panics).
        unsafe { (this.vtable.run)(this.storage, lp) }
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        // SAFETY: as in `label`; the storage still holds the value (`run`
        // consumes the callback without dropping it).
        unsafe { (self.vtable.drop)(&mut self.storage) }
    }
}

// A callback capturing one `Rc` (a task step, a future) is kept in place; a
// named one is boxed; and a slot's `Option<Callback>` is two words.
const _: () = assert!(Inline::<Anonymous<Rc<()>, false>>::FITS && !Inline::<Named<()>>::FITS);
const _: () = assert!(std::mem::size_of::<Option<Callback>>() == 16);

/// `T` kept in the storage itself.
struct Inline<T>(PhantomData<T>);

impl<T> Inline<T> {
    const FITS: bool = std::mem::size_of::<T>() <= std::mem::size_of::<Storage>()
        && std::mem::align_of::<T>() <= std::mem::align_of::<Storage>();
}

impl<T: Scheduled> Inline<T> {
    const VTABLE: VTable = VTable {
        shows: T::SHOWS,
        label: Self::label,
        describe: Self::describe,
        run: Self::run,
        warm: Self::warm,
        drop: Self::drop,
    };

    /// # Safety
    /// The storage holds a `T`.
    unsafe fn label(storage: &Storage) -> Label<'_> {
        (*storage.as_ptr().cast::<T>()).label()
    }

    /// # Safety
    /// As `label`.
    unsafe fn describe(storage: &Storage) -> Rc<str> {
        (*storage.as_ptr().cast::<T>()).describe()
    }

    /// # Safety
    /// The storage holds a `T`, which is moved out: no copy of the storage
    /// may be used again.
    unsafe fn run(storage: Storage, lp: &EventLoop) -> Result<(), Error> {
        storage.as_ptr().cast::<T>().read().run(lp)
    }

    /// # Safety
    /// As `label`.
    unsafe fn warm(storage: &Storage) {
        (*storage.as_ptr().cast::<T>()).warm()
    }

    /// # Safety
    /// The storage holds a `T`, which is dropped: it must not be used again.
    unsafe fn drop(storage: &mut Storage) {
        storage.as_mut_ptr().cast::<T>().drop_in_place()
    }
}

/// `T` in a box whose pointer the storage holds.
struct Boxed<T>(PhantomData<T>);

impl<T: Scheduled> Boxed<T> {
    const VTABLE: VTable = VTable {
        shows: T::SHOWS,
        label: Self::label,
        describe: Self::describe,
        run: Self::run,
        warm: Self::warm,
        drop: Self::drop,
    };

    /// # Safety
    /// The storage holds a pointer from `Box::into_raw(Box<T>)`.
    unsafe fn label(storage: &Storage) -> Label<'_> {
        (**storage.as_ptr().cast::<*const T>()).label()
    }

    /// # Safety
    /// As `label`.
    unsafe fn describe(storage: &Storage) -> Rc<str> {
        (**storage.as_ptr().cast::<*const T>()).describe()
    }

    /// The box itself (its label is read first when it runs: on a loop
    /// of many timers, a cache miss each), then what its value warms.
    ///
    /// # Safety
    /// As `label`.
    unsafe fn warm(storage: &Storage) {
        let boxed = *storage.as_ptr().cast::<*const T>();
        crate::prefetch::prefetch(boxed);
        (*boxed).warm()
    }

    /// # Safety
    /// As `label`; the box is taken back: the storage must not be used again.
    unsafe fn run(storage: Storage, lp: &EventLoop) -> Result<(), Error> {
        let boxed = Box::from_raw(storage.as_ptr().cast::<*mut T>().read());
        (*boxed).run(lp)
    }

    /// # Safety
    /// As `run`.
    unsafe fn drop(storage: &mut Storage) {
        drop(Box::from_raw(storage.as_mut_ptr().cast::<*mut T>().read()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Counts drops of the value it was made with.
    struct DropCounter(Rc<Cell<u32>>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn a_callback_runs_once_and_drops_its_captures_once() {
        let lp = EventLoop::new();
        for size in [1usize, 4] {
            let drops = Rc::new(Cell::new(0));
            let ran = Rc::new(Cell::new(0));
            let (d, r) = (DropCounter(drops.clone()), ran.clone());
            let padding = vec![0u8; size];
            let cb = if size == 1 {
                internal(move |_: &EventLoop| {
                    let _keep = &d;
                    r.set(r.get() + 1);
                })
            } else {
                named("big".into(), move |_: &EventLoop| {
                    let _keep = (&d, &padding);
                    r.set(r.get() + 1);
                })
            };
            assert_eq!(drops.get(), 0);
            cb.run(&lp).unwrap();
            assert_eq!((ran.get(), drops.get()), (1, 1), "size {size}");
        }
    }

    #[test]
    fn a_dropped_callback_drops_its_captures_without_running() {
        for boxed in [false, true] {
            let drops = Rc::new(Cell::new(0));
            let d = DropCounter(drops.clone());
            let extra = [7u64; 3];
            let cb = if boxed {
                unnamed(move |_: &EventLoop| drop((d, extra)))
            } else {
                unnamed(move |_: &EventLoop| drop(d))
            };
            drop(cb);
            assert_eq!(drops.get(), 1, "boxed {boxed}");
        }
    }

    #[test]
    fn labels_survive_type_erasure() {
        let name: Rc<str> = "tick".into();
        let cb = named(name, |_: &EventLoop| ());
        assert!(matches!(cb.label(), Label::User(n) if &**n == "tick"));
        assert_eq!(cb.shows(), Shows::Named);
        let cb = unnamed(|_: &EventLoop| ());
        assert!(matches!(cb.label(), Label::Unnamed));
        assert_eq!(cb.shows(), Shows::Unnamed);
        let cb = internal(|_: &EventLoop| ());
        assert!(matches!(cb.label(), Label::Internal));
        assert_eq!(cb.shows(), Shows::Nothing);
    }

    #[test]
    fn a_panicking_callback_drops_its_captures_once() {
        let drops = Rc::new(Cell::new(0));
        let d = DropCounter(drops.clone());
        let cb = internal(move |_: &EventLoop| -> Result<(), Error> {
            let _owned = d;
            panic!("boom");
        });
        let lp = EventLoop::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb.run(&lp)));
        assert!(caught.is_err());
        assert_eq!(drops.get(), 1);
    }
}
