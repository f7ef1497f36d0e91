//! The trace hash that counts distinct traces: FNV-1a 64 over the text form.
//!
//! Our own code, so the count never depends on a hasher's random seed or a
//! dependency's version; fed by [`Event::write_text`], so no string is built.

use crate::trace::Event;
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

/// The FNV-1a 64 hash of a trace's text form ([`crate::trace::render`]),
/// computed without building the text.
pub fn trace_hash(trace: &[Event]) -> u64 {
    let mut hash = Fnv1a::default();
    for event in trace {
        let _ = event.write_text(&mut hash);
        hash.write(b"\n");
    }
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

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
