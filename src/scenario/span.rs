//! Byte ranges into the scenario source, and their `line:col` form.
//!
//! Every token and AST node carries a [`Span`]. Spans are byte offsets, so
//! slicing the source with one is free; lines and columns are computed only
//! when a message needs them, with the same rule codespan-reporting uses
//! (1-based, columns counted in characters), so the `3:10` inside a message
//! agrees with the `--> file:3:10` under it.

use std::fmt;
use std::ops::Range;

/// A half-open byte range `start..end` into the source text.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The bytes this span covers in `source`.
    pub fn slice(self, source: &str) -> &str {
        &source[self.start..self.end]
    }
}

impl fmt::Debug for Span {
    /// `@3..7`: short, so AST dumps stay readable (and easy to strip).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{}", self.start, self.end)
    }
}

impl From<Span> for Range<usize> {
    fn from(span: Span) -> Range<usize> {
        span.start..span.end
    }
}

/// The 1-based line and character column of byte `offset` in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source.as_bytes()[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    // Count characters by their first bytes, which works on a prefix that
    // ends inside a character too.
    let col = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_characters() {
        let src = "ab\nçd\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 5), (2, 2));
        assert_eq!(line_col(src, 99), (3, 1));
    }
}
