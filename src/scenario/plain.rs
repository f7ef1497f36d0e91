//! Diagnostics as rustc-style plain text, without codespan-reporting.
//!
//! The lean library (`default-features = false`) renders diagnostics here;
//! with the `cli` feature [`render`](super::render) uses codespan-reporting,
//! which can also colour them. For the diagnostics loopsim makes (labels
//! within one line) the two give the same text byte for byte, which
//! `tests/diagnostics.rs` checks on every malformed example:
//!
//! ```text
//! error: duplicate block name `tick` (first defined at 1:10)
//!   --> duplicate_block.scn:4:10
//!   |
//! 1 | callback tick:
//!   |          ---- first defined here
//!   .
//! 4 | callback tick:
//!   |          ^^^^ defined again here
//! ```
//!
//! Differences, should they ever matter: a label that spans several lines
//! is drawn to the end of its first line (codespan draws its left edge down
//! to its last), and every character is one column wide except a tab (tab
//! stops every 4 columns; codespan also knows East Asian wide characters).

use super::diagnostic::{Diagnostic, Severity};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::ops::Range;

/// codespan's tab width.
const TAB_WIDTH: usize = 4;

/// A label on one line: primary (`^`) or not (`-`), its byte range within
/// the line, and its message.
type LineLabel<'a> = (bool, Range<usize>, &'a str);

/// `diagnostics` about `source` (read from `file_name`), one after another.
pub fn render_plain(file_name: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        write_one(&mut out, file_name, source, diagnostic);
    }
    out
}

/// A diagnostic without source: `error: MESSAGE`, then its notes.
pub fn render_bare(severity: Severity, message: &str, notes: &[String]) -> String {
    let mut out = String::new();
    header(&mut out, severity, message);
    for note in notes {
        write_note(&mut out, 0, note);
    }
    out.push('\n');
    out
}

fn header(out: &mut String, severity: Severity, message: &str) {
    let name = match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{name}: {message}");
}

/// The byte range of line `index` (0-based) without its line ending, and
/// where the line starts.
fn line_at(source: &str, index: usize) -> Option<(usize, &str)> {
    let mut start = 0;
    for _ in 0..index {
        start += source[start..].find('\n')? + 1;
    }
    let rest = &source[start..];
    let line = rest.find('\n').map_or(rest, |end| &rest[..end]);
    Some((start, line.trim_end_matches(['\n', '\r', '\0'])))
}

/// The 0-based line of byte `offset`.
fn line_index(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn write_one(out: &mut String, file_name: &str, source: &str, diagnostic: &Diagnostic) {
    let clamp = |at: usize| at.min(source.len());
    let all = std::iter::once((true, diagnostic.span, diagnostic.label.as_str())).chain(
        diagnostic
            .related
            .iter()
            .map(|(span, label)| (false, *span, label.as_str())),
    );
    // Labels by line, each line's sorted by range (codespan's order).
    let mut lines: BTreeMap<usize, Vec<LineLabel<'_>>> = BTreeMap::new();
    let mut padding = 0;
    for (primary, span, message) in all {
        let (start, end) = (clamp(span.start), clamp(span.end));
        let index = line_index(source, start);
        let (line_start, text) = line_at(source, index).unwrap_or((start, ""));
        // A label over several lines is drawn to the end of its first.
        let end = if line_index(source, end) == index {
            end
        } else {
            line_start + text.len() + 1
        };
        let range = (start - line_start)..(end - line_start).max(start - line_start + 1);
        padding = padding.max(digits(index + 1));
        let labels = lines.entry(index).or_default();
        let at = labels
            .binary_search_by(|(_, r, _)| (r.start, r.end).cmp(&(range.start, range.end)))
            .unwrap_or_else(|at| at);
        labels.insert(at, (primary, range, message));
    }

    header(out, diagnostic.severity, &diagnostic.message);
    let (line, column) = super::span::line_col(source, clamp(diagnostic.span.start));
    let gutter = " ".repeat(padding + 1);
    let _ = writeln!(out, "{gutter}--> {file_name}:{line}:{column}");
    let _ = writeln!(out, "{gutter}|");
    let mut previous: Option<usize> = None;
    for (&index, labels) in &lines {
        match previous.map(|p| index - p) {
            None | Some(1) => {}
            Some(2) => {
                let (_, text) = line_at(source, index - 1).unwrap_or((0, ""));
                write_source_line(out, padding, index - 1, text);
            }
            Some(_) => {
                let _ = writeln!(out, "{gutter}.");
            }
        }
        let (_, text) = line_at(source, index).unwrap_or((0, ""));
        write_source_line(out, padding, index, text);
        write_labels(out, &gutter, text, labels);
        previous = Some(index);
    }
    if !diagnostic.notes.is_empty() {
        let _ = writeln!(out, "{gutter}|");
    }
    for note in &diagnostic.notes {
        write_note(out, padding, note);
    }
    out.push('\n');
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

fn write_source_line(out: &mut String, padding: usize, index: usize, text: &str) {
    let _ = write!(out, "{:>padding$} | ", index + 1);
    for (_, ch, width) in columns(text) {
        match ch {
            '\t' => out.extend(std::iter::repeat_n(' ', width)),
            _ => out.push(ch),
        }
    }
    out.push('\n');
}

/// Each character of `text` with its byte offset and width in columns.
fn columns(text: &str) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    let mut column = 0;
    text.char_indices().map(move |(at, ch)| {
        let width = if ch == '\t' {
            TAB_WIDTH - column % TAB_WIDTH
        } else {
            1
        };
        column += width;
        (at, ch, width)
    })
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start.max(b.start) < a.end.min(b.end)
}

/// The caret line under a source line, then the labels that hang below it.
fn write_labels(out: &mut String, gutter: &str, text: &str, labels: &[LineLabel<'_>]) {
    let max_start = labels.iter().map(|(_, r, _)| r.start).max().unwrap_or(0);
    let max_end = labels.iter().map(|(_, r, _)| r.end).max().unwrap_or(0);
    // The label ending right-most, if it has a message and overlaps no
    // other, is written after the carets.
    let mut trailing = None;
    let mut running_end = 0;
    for (i, (_, range, message)) in labels.iter().enumerate() {
        running_end = running_end.max(range.end);
        if range.end == running_end {
            trailing = (!message.is_empty()).then_some(i);
        }
    }
    if let Some(t) = trailing {
        let range = &labels[t].1;
        if labels
            .iter()
            .enumerate()
            .any(|(i, (_, r, _))| i != t && overlaps(range, r))
        {
            trailing = None;
        }
    }

    let _ = write!(out, "{gutter}| ");
    let end_of_line = (text.len(), '\0', 1);
    for (at, ch, width) in columns(text).chain(std::iter::once(end_of_line)) {
        let column = at..at + ch.len_utf8();
        let style = labels
            .iter()
            .filter(|(_, r, _)| overlaps(r, &column))
            .map(|(primary, _, _)| *primary)
            .max();
        let caret = match style {
            Some(true) => Some('^'),
            Some(false) => Some('-'),
            None if at < max_end => Some(' '),
            None => None,
        };
        if let Some(caret) = caret {
            out.extend(std::iter::repeat_n(caret, width));
        }
    }
    if let Some(t) = trailing {
        let _ = write!(out, " {}", labels[t].2);
    }
    out.push('\n');

    let hanging: Vec<&LineLabel<'_>> = labels
        .iter()
        .enumerate()
        .filter(|(i, (_, _, message))| !message.is_empty() && Some(*i) != trailing)
        .map(|(_, label)| label)
        .collect();
    if hanging.is_empty() {
        return;
    }
    let pointers = |out: &mut String, upto: usize| {
        for (at, ch, width) in columns(text).take_while(|(at, _, _)| *at < upto) {
            let column = at..at + ch.len_utf8();
            let spaces = if hanging.iter().any(|(_, r, _)| column.contains(&r.start)) {
                out.push('|');
                width - 1
            } else {
                width
            };
            if at <= max_start {
                out.extend(std::iter::repeat_n(' ', spaces));
            }
        }
    };
    let _ = write!(out, "{gutter}| ");
    pointers(out, usize::MAX);
    out.push('\n');
    for (_, range, message) in hanging.iter().rev() {
        let _ = write!(out, "{gutter}| ");
        pointers(out, range.start);
        let _ = writeln!(out, "{message}");
    }
}

fn write_note(out: &mut String, padding: usize, note: &str) {
    let gutter = " ".repeat(padding + 1);
    for (i, line) in note.lines().enumerate() {
        let bullet = if i == 0 { '=' } else { ' ' };
        let _ = writeln!(out, "{gutter}{bullet} {line}");
    }
}
