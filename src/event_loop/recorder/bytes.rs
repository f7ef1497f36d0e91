//! Where a kept trace's bytes go: a small staging area the events are
//! written into, copied out to the trace's buffer a few hundred bytes at a
//! time with non-temporal stores.
//!
//! **Why.** A trace is written once and read (if ever) after the run, but
//! a plain store into it first reads each line of the buffer into the
//! cache (a "read for ownership") and leaves it there. On a loop whose own
//! memory misses the cache (W3's million timers, W4's 100k tasks) those
//! reads compete with the loop's for the few misses a core keeps in flight,
//! and the lines written push the loop's out: recording cost 20-25 ns an
//! event there, against 3-5 ns in W1, for the same instructions.
//! Non-temporal stores (`movnti`) write around the cache without reading
//! it: W4's recording cost fell from about 24 to 5-9 ns. Events are
//! written into the staging area (in the nearest cache, overwritten in
//! place), so each of the buffer's words is written once, by one
//! non-temporal store, and an `sfence` after each copy makes the stores
//! visible before anything else touches that memory (Rust's rule for
//! these intrinsics). Elsewhere than x86-64 the copy is a plain one.
//!
//! **Reuse.** The buffer of a thread's last trace is kept for its next
//! one (up to 32 MiB): a fresh page costs a fault, about 2 µs on a VM
//! (3 ns an event at 7 bytes an event), and the kernel's work on it evicts
//! what the loop had in its caches. A test process or an `explore` sweep
//! runs many traces on one thread.

use std::borrow::Cow;
use std::cell::Cell;

/// Bytes staged before a copy to the buffer.
const STAGE: usize = 512;
/// Room in the staging area past [`STAGE`]: the longest event is 36 bytes
/// (two header bytes, three 8-byte numbers, a done byte and an 8-byte
/// integer), and a word written at an event's start may reach 8 bytes.
const STAGE_ROOM: usize = STAGE + 64;

thread_local! {
    /// The buffer of this thread's last trace dropped, emptied.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest buffer kept for the next trace.
const SPARE_MAX: usize = 32 << 20;

pub(super) struct TraceBytes {
    /// The bytes copied out so far.
    buffer: Vec<u8>,
    /// The bytes since, `staged` of them.
    stage: [u8; STAGE_ROOM],
    staged: usize,
}

impl Default for TraceBytes {
    fn default() -> Self {
        TraceBytes {
            buffer: SPARE.with(Cell::take),
            stage: [0; STAGE_ROOM],
            staged: 0,
        }
    }
}

impl Drop for TraceBytes {
    fn drop(&mut self) {
        let mut buffer = std::mem::take(&mut self.buffer);
        if buffer.capacity() <= SPARE_MAX {
            buffer.clear();
            // Keep the larger of the two (`try_with`: not while the
            // thread's locals are being torn down).
            let _ = SPARE.try_with(|spare| {
                let other = spare.take();
                spare.set(if other.capacity() > buffer.capacity() {
                    other
                } else {
                    buffer
                });
            });
        }
    }
}

impl TraceBytes {
    /// Appends the first `len` (at most 8) bytes of `word`, little-endian,
    /// if the staging area has room: whether it did. One store of a
    /// register (built byte by byte in memory and copied in, the bytes
    /// would be read back as a word before they reach the cache: a
    /// store-forwarding stall), and no call, so that the short paths stay
    /// leaf functions.
    #[inline(always)]
    pub(super) fn try_word(&mut self, word: u64, len: usize) -> bool {
        let at = self.staged;
        if at >= STAGE {
            return false;
        }
        debug_assert!(len <= 8);
        // In bounds: `at < STAGE` and `STAGE + 8 <= STAGE_ROOM`.
        self.stage[at..at + 8].copy_from_slice(&word.to_le_bytes());
        self.staged = at + len;
        true
    }

    /// Appends `bytes` (at most 64), copying the staging area out first
    /// if it is full.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        if self.staged >= STAGE {
            self.copy_out();
        }
        let at = self.staged;
        self.stage[at..at + bytes.len()].copy_from_slice(bytes);
        self.staged = at + bytes.len();
    }

    /// Copies the staged bytes to the buffer, non-temporally.
    #[inline(never)]
    fn copy_out(&mut self) {
        #[cfg(target_arch = "x86_64")]
        self.stream_out();
        #[cfg(not(target_arch = "x86_64"))]
        self.buffer.extend_from_slice(&self.stage[..self.staged]);
        self.staged = 0;
    }

    /// [`copy_out`](TraceBytes::copy_out) with `movnti`, whole words: the
    /// last one's bytes past the staged ones are rewritten by the next
    /// copy, after this one's fence.
    #[cfg(target_arch = "x86_64")]
    fn stream_out(&mut self) {
        use std::arch::x86_64::{_mm_sfence, _mm_stream_si64};
        let staged = self.staged;
        self.buffer.reserve(staged + 8);
        let at = self.buffer.len();
        // SAFETY: `reserve` made room for every word written, `staged`
        // rounded up to 8 bytes past `at`; `movnti` needs no alignment;
        // the fence orders the stores before any later access to the
        // buffer (Rust's rule for non-temporal stores); the first `staged`
        // bytes after `at` are then initialised.
        unsafe {
            let end = self.buffer.as_mut_ptr().add(at);
            for i in 0..staged.div_ceil(8) {
                // In bounds: at most `STAGE + 64` bytes are staged.
                let word: [u8; 8] = self.stage[8 * i..8 * i + 8].try_into().unwrap_or_default();
                _mm_stream_si64(end.add(8 * i).cast::<i64>(), i64::from_le_bytes(word));
            }
            _mm_sfence();
            self.buffer.set_len(at + staged);
        }
    }

    /// Every byte appended, in order.
    pub(super) fn contents(&self) -> Cow<'_, [u8]> {
        let staged = &self.stage[..self.staged];
        if self.buffer.is_empty() {
            Cow::Borrowed(staged)
        } else if staged.is_empty() {
            Cow::Borrowed(&self.buffer)
        } else {
            Cow::Owned([&self.buffer[..], staged].concat())
        }
    }

    /// How many bytes were appended.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.buffer.len() + self.staged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_back_in_order_across_copies() {
        let mut bytes = TraceBytes::default();
        let mut expected = Vec::new();
        let mut n = 0u64;
        for i in 0..10_000usize {
            // Words of 0-8 bytes and slices of up to 40, mixed.
            if i % 7 == 0 {
                let slice: Vec<u8> = (0..i % 41).map(|b| (b * 31 + i) as u8).collect();
                bytes.push(&slice);
                expected.extend_from_slice(&slice);
            } else {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = i % 9;
                if !bytes.try_word(n, len) {
                    bytes.push(&n.to_le_bytes()[..len]);
                }
                expected.extend_from_slice(&n.to_le_bytes()[..len]);
            }
            assert_eq!(bytes.len(), expected.len());
        }
        assert_eq!(&*bytes.contents(), &expected[..]);
    }
}
