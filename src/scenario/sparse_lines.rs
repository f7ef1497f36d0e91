//! The source file that diagnostics are rendered against, with a sparse
//! index of its lines.
//!
//! codespan-reporting's `SimpleFile` keeps the start of every line: 8
//! bytes a line, so the 16 MiB file of 8 million blank or comment lines
//! that an error points into cost 128 MiB of index (256 MiB of capacity,
//! grown by doubling), to render a message or two. [`SparseLines`] keeps
//! the start of every [`STRIDE`]th line and finds the others by counting
//! at most `STRIDE` line breaks from there: a line is found as fast as a
//! message needs, and the index is 1/`STRIDE` the size.

use codespan_reporting::files::{Error, Files};
use std::ops::Range;

/// Every how many lines the index keeps a line's start.
const STRIDE: usize = 128;

/// A named source and the starts of lines `0`, `STRIDE`, `2 * STRIDE`, ...
pub struct SparseLines<'a> {
    name: &'a str,
    source: &'a str,
    /// The start of line `i * STRIDE`, for each `i`.
    starts: Vec<usize>,
    /// How many lines: one more than the line breaks (the text after the
    /// last one is a line, even when empty, as codespan counts them).
    lines: usize,
}

impl<'a> SparseLines<'a> {
    /// The index of `source`, which messages call `name`.
    pub fn new(name: &'a str, source: &'a str) -> SparseLines<'a> {
        let mut starts = vec![0];
        let mut lines = 1;
        for (i, _) in source.match_indices('\n') {
            if lines % STRIDE == 0 {
                starts.push(i + 1);
            }
            lines += 1;
        }
        SparseLines {
            name,
            source,
            starts,
            lines,
        }
    }

    /// Where line `index` starts; the end of the source for the line after
    /// the last.
    fn line_start(&self, index: usize) -> Result<usize, Error> {
        if index >= self.lines {
            return match index == self.lines {
                true => Ok(self.source.len()),
                false => Err(Error::LineTooLarge {
                    given: index,
                    max: self.lines - 1,
                }),
            };
        }
        let from = self.starts[index / STRIDE];
        let skip = index % STRIDE;
        Ok(match skip {
            0 => from,
            _ => self.source[from..]
                .match_indices('\n')
                .nth(skip - 1)
                .map_or(self.source.len(), |(i, _)| from + i + 1),
        })
    }
}

impl<'a> Files<'a> for SparseLines<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(self.source)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, Error> {
        let byte_index = byte_index.min(self.source.len());
        let checkpoint = self.starts.partition_point(|&s| s <= byte_index) - 1;
        let from = self.starts[checkpoint];
        let breaks = self.source.as_bytes()[from..byte_index]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Ok(checkpoint * STRIDE + breaks)
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, Error> {
        Ok(self.line_start(line_index)?..self.line_start(line_index + 1)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codespan_reporting::files::SimpleFile;

    /// Every line's index and range, and every byte's line, agree with
    /// codespan's `SimpleFile`, around the strides too.
    #[test]
    fn agrees_with_simple_file() {
        let long = "x".repeat(300);
        let sources = [
            String::new(),
            "\n".into(),
            "a".into(),
            "a\nb".into(),
            "a\r\nb\n".into(),
            "\n".repeat(STRIDE * 3),
            (0..STRIDE * 2 + 5)
                .map(|i| format!("line {i}{}\n", if i % 7 == 0 { &long } else { "" }))
                .collect(),
            "é\n".repeat(STRIDE + 1) + "tail",
        ];
        for source in &sources {
            let sparse = SparseLines::new("f", source);
            let simple = SimpleFile::new("f", source.as_str());
            for byte in 0..=source.len() + 1 {
                assert_eq!(
                    sparse.line_index((), byte).unwrap(),
                    simple.line_index((), byte.min(source.len())).unwrap(),
                    "byte {byte} of {source:?}"
                );
            }
            let lines = source.matches('\n').count() + 1;
            for line in 0..lines + 2 {
                assert_eq!(
                    sparse.line_range((), line).ok(),
                    simple.line_range((), line).ok(),
                    "line {line} of {source:?}"
                );
            }
        }
    }
}
