//! The trace hash that counts distinct traces, and FNV-1a (the hash of a
//! trace's text form that `loopsim run --check-determinism` streams).
//!
//! [`trace_hash`] reads each event's fields rather than its text: writing
//! the text of every event of every run was 13% of a 20-event run's
//! instructions, and hashing the fields is a few multiplications per
//! event. Events that are equal (as [`first_divergence`] compares them)
//! hash equal, and so do their texts. Our own code, so the count never
//! depends on a hasher's random seed or a dependency's version.
//!
//! [`first_divergence`]: crate::trace::first_divergence

use crate::trace::{Event, Field};
use crate::value::Value;
use std::fmt;

/// FNV-1a, 64 bits, over bytes: the trace hash.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Adds `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

impl fmt::Write for Fnv1a {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}

/// A trace's hash: every event's iteration, time, kind and fields, each
/// string with its length, folded 64 bits at a time (FxHash's step: rotate,
/// xor, multiply by an odd constant, which no single changed word can
/// undo), then mixed (MurmurHash3's finalizer). Equal traces hash equal;
/// a collision of distinct ones could only make the count of distinct
/// traces smaller.
pub fn trace_hash(trace: &[Event]) -> u64 {
    let mut hash = Words(0x243f_6a88_85a3_08d3);
    for event in trace {
        hash.word(event.iteration);
        hash.word(event.time as u64);
        hash.bytes(event.kind.name().as_bytes());
        for (_, field) in event.kind.each_field() {
            match field {
                Field::Name(s) => hash.tagged(1, s.as_bytes()),
                Field::Text(s) => hash.tagged(2, s.as_bytes()),
                Field::Val(Value::None) => hash.word(3),
                Field::Val(Value::Int(n)) => {
                    hash.word(4);
                    hash.word(*n as u64);
                }
                Field::Val(Value::Str(s)) => hash.tagged(5, s.as_bytes()),
                Field::Val(Value::Debug(s)) => hash.tagged(6, s.as_bytes()),
            }
        }
        hash.word(u64::MAX); // the end of the event
    }
    hash.finish()
}

/// The state of [`trace_hash`].
struct Words(u64);

impl Words {
    #[inline]
    fn word(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(word));
        self.word(bytes.len() as u64);
    }

    fn tagged(&mut self, tag: u64, bytes: &[u8]) {
        self.word(tag);
        self.bytes(bytes);
    }

    fn finish(self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::EventKind;

    #[test]
    fn equal_traces_hash_equal_and_any_changed_field_moves_the_hash() {
        let event = |iteration, time, text: &str| Event {
            iteration,
            time,
            kind: EventKind::Log { text: text.into() },
        };
        let trace = vec![event(1, 0, "a"), event(2, 5, "abcdefgh")];
        assert_eq!(trace_hash(&trace), trace_hash(&trace.clone()));
        let variants = [
            vec![event(1, 0, "a"), event(2, 5, "abcdefgh"), event(2, 5, "")],
            vec![event(1, 0, "a")],
            vec![event(1, 0, "a"), event(3, 5, "abcdefgh")],
            vec![event(1, 0, "a"), event(2, 6, "abcdefgh")],
            vec![event(1, 0, "a"), event(2, 5, "abcdefgi")],
            vec![event(1, 0, "a"), event(2, 5, "abcdefgh\0")],
            vec![event(1, 0, "ab"), event(2, 5, "cdefgh")],
            vec![],
        ];
        let mut hashes: Vec<u64> = variants.iter().map(|t| trace_hash(t)).collect();
        hashes.push(trace_hash(&trace));
        let count = hashes.len();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), count, "every variant hashes apart");
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        let hash = |s: &str| {
            let mut h = Fnv1a::default();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
