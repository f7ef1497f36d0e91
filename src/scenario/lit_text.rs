//! The spelling of a duration literal, kept without an allocation.
//!
//! A [`DurLit`](super::ast::DurLit) keeps its literal exactly as written
//! (`1.50`, `250ms`) for the printer. Those are a few bytes long, and a
//! generated scenario has one per line: as a `String` each was an
//! allocation of its own (100,000 for the whole-run benchmark's file).
//! [`LitText`] holds up to [`LitText::INLINE`] bytes in place, in the 24
//! bytes a `String` takes, and boxes only a longer one.
//!
//! ```
//! use loopsim::scenario::ast::LitText;
//!
//! let short = LitText::from("250ms");
//! assert_eq!(&*short, "250ms");
//! assert_eq!(short.to_string(), "250ms");
//! let long = LitText::from("0.000000000000000000000000000001");
//! assert_eq!(long.len(), 32);
//! ```

use std::fmt;
use std::ops::Deref;

/// Text of a literal: short ones in place, long ones boxed.
#[derive(Clone)]
pub struct LitText(Repr);

#[derive(Clone)]
enum Repr {
    /// The first `len` bytes of `bytes` are the text (valid UTF-8).
    Inline {
        len: u8,
        bytes: [u8; LitText::INLINE],
    },
    /// A text longer than [`LitText::INLINE`] bytes.
    Boxed(Box<str>),
}

impl LitText {
    /// The longest text held in place, in bytes.
    pub const INLINE: usize = 22;

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                // Always valid: only whole `&str`s are copied in.
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Boxed(text) => text,
        }
    }
}

impl From<&str> for LitText {
    fn from(text: &str) -> LitText {
        if text.len() > LitText::INLINE {
            return LitText(Repr::Boxed(text.into()));
        }
        let mut bytes = [0; LitText::INLINE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        LitText(Repr::Inline {
            len: text.len() as u8,
            bytes,
        })
    }
}

impl From<String> for LitText {
    fn from(text: String) -> LitText {
        LitText::from(text.as_str())
    }
}

impl Deref for LitText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for LitText {
    fn eq(&self, other: &LitText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for LitText {}

impl PartialEq<str> for LitText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LitText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for LitText {
    /// As the `String` it replaced: `"250ms"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for LitText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::LitText;

    #[test]
    fn texts_of_any_length_read_back_as_written() {
        for text in [
            "",
            "7",
            "250ms",
            "é1",
            "1234567890123456789012",
            "12345678901234567890123",
            "0.0000000000000000000000000000000001s",
        ] {
            let lit = LitText::from(text);
            assert_eq!(lit.as_str(), text);
            assert_eq!(lit.clone(), LitText::from(text.to_string()));
            assert_eq!(format!("{lit}|{lit:?}"), format!("{text}|{text:?}"));
        }
        assert_eq!(std::mem::size_of::<LitText>(), 24);
    }
}
