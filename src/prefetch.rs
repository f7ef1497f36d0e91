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
    prefetch_bytes(ptr.cast(), std::mem::size_of::<T>());
}

/// Starts loading every cache line that `len` bytes from `start` touch.
#[inline(always)]
pub(crate) fn prefetch_bytes(start: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let skip = start as usize % 64;
        for line in 0..(skip + len.max(1)).div_ceil(64) {
            let at = start.wrapping_sub(skip).wrapping_add(64 * line);
            // SAFETY: a prefetch never faults and reads nothing the program
            // can see, whatever the address; SSE is part of the x86_64
            // baseline.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, len);
}
