//! A hint to the CPU: start loading memory we are about to need.
//!
//! The loop's hot misses are on memory it can name a pass early: the slot of
//! the next timer due, and the task a sleep's timer is about to wake. A
//! prefetch lets those loads overlap the work in between. It changes no
//! value anywhere, so it cannot change a trace.

/// Starts loading the cache lines of `*ptr` (a `T`, as many lines as it
/// spans); a no-op where the target has no prefetch instruction we use.
#[inline(always)]
pub(crate) fn prefetch<T>(ptr: *const T) {
    #[cfg(target_arch = "x86_64")]
    for line in 0..std::mem::size_of::<T>().div_ceil(64).max(1) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let at = ptr.cast::<i8>().wrapping_add(64 * line);
        // SAFETY: a prefetch never faults and reads nothing the program can
        // see, whatever the address; SSE is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}
