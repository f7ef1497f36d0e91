//! [`Backwards`]: decimal text built right to left in a stack buffer.
//!
//! The trace's text form is written for every event of every run `explore`
//! hashes, and `core::fmt` spends most of that time on two integers (the
//! iteration and the time). Digits come out of a number last first, so they
//! are written from the end of a small buffer and handed over as one `&str`.

use std::fmt;

/// Room for a sign, the 20 digits of a `u64` or the 10 + 1 + 9 of a time.
const CAPACITY: usize = 24;

/// ASCII text, written last character first.
pub(crate) struct Backwards {
    buf: [u8; CAPACITY],
    /// The text is `buf[start..]`.
    start: usize,
}

impl Backwards {
    pub fn new() -> Backwards {
        Backwards {
            buf: [0; CAPACITY],
            start: CAPACITY,
        }
    }

    /// Puts `byte` (ASCII) in front of the text so far.
    pub fn push(&mut self, byte: u8) {
        debug_assert!(byte.is_ascii());
        self.start -= 1;
        self.buf[self.start] = byte;
    }

    /// Puts the decimal digits of `n` in front of the text so far.
    pub fn push_decimal(&mut self, mut n: u64) {
        loop {
            self.push(b'0' + (n % 10) as u8);
            n /= 10;
            if n == 0 {
                break;
            }
        }
    }

    /// Puts exactly `count` low decimal digits of `n` in front, with
    /// leading zeros.
    pub fn push_digits(&mut self, mut n: u64, count: usize) {
        for _ in 0..count {
            self.push(b'0' + (n % 10) as u8);
            n /= 10;
        }
    }

    /// The text's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Writes the text to `out`, a character at a time: the text is a
    /// few ASCII bytes, and checking them as UTF-8 to hand them over as
    /// one `&str` cost more than pushing them (a sixth of a JSON line's
    /// instructions).
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        for &byte in &self.buf[self.start..] {
            out.write_char(char::from(byte))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &Backwards) -> String {
        let mut out = String::new();
        b.write_to(&mut out).unwrap();
        out
    }

    #[test]
    fn decimals_match_display() {
        for n in [0, 1, 9, 10, 99, 100, 1_234_567, u64::MAX] {
            let mut b = Backwards::new();
            b.push_decimal(n);
            b.push(b'#');
            assert_eq!(text(&b), format!("#{n}"));
        }
        let mut b = Backwards::new();
        b.push_digits(42, 5);
        assert_eq!(text(&b), "00042");
    }
}
