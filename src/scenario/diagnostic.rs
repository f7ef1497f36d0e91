//! Diagnostics as plain data, and their rendering (once, at the edge).
//!
//! The lexer, parser and resolver only build [`Diagnostic`] values: a
//! message, the span it is about, a short label for that span, optional
//! related spans and notes. [`render`] turns them into rustc-style text,
//! with codespan-reporting under the `cli` feature (which can colour it),
//! else with [`render_plain`](super::plain::render_plain), which gives the
//! same text without colour:
//!
//! ```text
//! error: expected a callback name, found task `worker`
//!   --> demo.scn:7:15
//!   |
//! 7 |     call_soon worker
//!   |               ^^^^^^ not a callback
//! ```
//!
//! Colour is the caller's decision (`color: bool`), never the environment's.

#[cfg(feature = "cli")]
use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as ReportSeverity};
#[cfg(feature = "cli")]
use codespan_reporting::files::SimpleFile;
#[cfg(feature = "cli")]
use codespan_reporting::term::termcolor::Buffer;
#[cfg(feature = "cli")]
use codespan_reporting::term::{self, Chars, Config};

#[cfg(feature = "cli")]
use std::io::Write;
use std::string::FromUtf8Error;

use super::span::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The file is rejected.
    Error,
    /// Worth knowing; the file is accepted.
    Warning,
}

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, saying what was expected and what was found.
    pub message: String,
    /// Where it is wrong.
    pub span: Span,
    /// A short text shown under `span` (may be empty).
    pub label: String,
    /// Related places, each with its label (e.g. a first definition).
    pub related: Vec<(Span, String)>,
    /// Extra lines of help, shown after the source.
    pub notes: Vec<String>,
}

/// The most diagnostics one file reports: the first 100 in file order,
/// then one error that counts the rest, so that a file of a million bad
/// lines gives a screenful, not hundreds of megabytes.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Keeps the first [`MAX_DIAGNOSTICS`] of `diagnostics` (in the order
/// given) and replaces the rest with one error at the first of them that
/// says how many there were.
pub fn cap(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if diagnostics.len() > MAX_DIAGNOSTICS {
        let more = diagnostics.len() - MAX_DIAGNOSTICS;
        let at = diagnostics[MAX_DIAGNOSTICS].span;
        diagnostics.truncate(MAX_DIAGNOSTICS);
        diagnostics.push(omitted(at, more));
    }
    diagnostics
}

/// The error that stands for `more` errors not shown, from `at` on.
fn omitted(at: Span, more: usize) -> Diagnostic {
    let errors = if more == 1 { "error" } else { "errors" };
    Diagnostic::error(
        at,
        format!(
            "{more} more {errors} from here on, not shown (the first {MAX_DIAGNOSTICS} are above)"
        ),
    )
    .with_label("the next error")
}

/// Collects diagnostics as a parser finds them, keeping at most
/// [`MAX_DIAGNOSTICS`] and counting the rest, so that memory does not grow
/// with the number of bad lines either.
#[derive(Debug, Default)]
pub struct Collector {
    kept: Vec<Diagnostic>,
    /// The first diagnostic not kept, and how many were not.
    omitted: Option<(Span, usize)>,
}

impl Collector {
    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if self.kept.len() < MAX_DIAGNOSTICS {
            self.kept.push(diagnostic);
        } else {
            let (_, count) = self.omitted.get_or_insert((diagnostic.span, 0));
            *count += 1;
        }
    }

    /// Whether none were added.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The diagnostics kept, then one that counts the others, if any.
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut kept = self.kept;
        if let Some((at, more)) = self.omitted {
            kept.push(omitted(at, more));
        }
        kept
    }
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            related: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// This diagnostic with `label` under its span.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    /// This diagnostic with a related place.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    /// This diagnostic with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    #[cfg(feature = "cli")]
    fn to_report(&self) -> Report<()> {
        let severity = match self.severity {
            Severity::Error => ReportSeverity::Error,
            Severity::Warning => ReportSeverity::Warning,
        };
        let mut labels = vec![Label::primary((), self.span).with_message(&self.label)];
        labels.extend(
            self.related
                .iter()
                .map(|(span, label)| Label::secondary((), *span).with_message(label)),
        );
        Report::new(severity)
            .with_message(&self.message)
            .with_labels(labels)
            .with_notes(self.notes.clone())
    }
}

/// Whether `c` is a control character a terminal could act on (C0 but
/// newline and tab, DEL, C1).
fn is_hostile(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `text` with each control character written as an escape (`\u{1b}`), so
/// that a message quoting the user's text cannot drive the terminal.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(is_hostile) {
        return text.into();
    }
    text.chars()
        .map(|c| match c {
            c if is_hostile(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

/// `source` with each control character replaced by a visible one of the
/// same length in bytes (`?` for one byte, `·` for two), so that every
/// span still points where it did.
fn blank_controls(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains(is_hostile) {
        return source.into();
    }
    source
        .chars()
        .map(|c| match (is_hostile(c), c.len_utf8()) {
            (true, 1) => '?',
            (true, _) => '·',
            (false, _) => c,
        })
        .collect::<String>()
        .into()
}

/// The diagnostics with control characters escaped in every text.
fn visible(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    let esc = |s: &str| escape_controls(s).into_owned();
    diagnostics
        .iter()
        .map(|d| Diagnostic {
            severity: d.severity,
            message: esc(&d.message),
            span: d.span,
            label: esc(&d.label),
            related: d.related.iter().map(|(s, l)| (*s, esc(l))).collect(),
            notes: d.notes.iter().map(|n| esc(n)).collect(),
        })
        .collect()
}

/// Renders `diagnostics` about `source` (read from `file_name`), one after
/// another, rustc style; ANSI colours only if `color` (and only with the
/// `cli` feature: without it the text is always plain). Control characters
/// in the source, the file name and the messages are shown, never sent to
/// the terminal as they are.
#[cfg(not(feature = "cli"))]
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let _ = color;
    let (name, source) = (escape_controls(file_name), blank_controls(source));
    super::plain::render_plain(&name, &source, &visible(diagnostics))
}

/// Renders `diagnostics` about `source` (read from `file_name`), one after
/// another, rustc style; ANSI colours only if `color` (and only with the
/// `cli` feature: without it the text is always plain).
#[cfg(feature = "cli")]
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let (name, source) = (escape_controls(file_name), blank_controls(source));
    let file = super::sparse_lines::SparseLines::new(&name, &source);
    let mut out = buffer(color);
    for diagnostic in &visible(diagnostics) {
        // Spans come from this very source, so emitting cannot fail; if it
        // somehow did, the bare message still gets out.
        if term::emit(&mut out, &config(), &file, &diagnostic.to_report()).is_err() {
            let _ = writeln!(out, "error: {}", diagnostic.message);
        }
    }
    String::from_utf8_lossy(out.as_slice()).into_owned()
}

/// The error for a file that cannot be read: `error: cannot read `NAME`:
/// no such file`. There is no source to point into.
pub fn render_unreadable(name: &str, error: &std::io::Error, color: bool) -> String {
    let reason = match error.kind() {
        // Without Rust's " (os error 2)" suffix.
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    };
    let message = format!("cannot read `{name}`: {reason}");
    #[cfg(feature = "cli")]
    {
        let report = Report::<()>::error().with_message(message);
        let mut out = buffer(color);
        let _ = term::emit(&mut out, &config(), &SimpleFile::new("", ""), &report);
        String::from_utf8_lossy(out.as_slice()).into_owned()
    }
    #[cfg(not(feature = "cli"))]
    {
        let _ = color;
        super::plain::render_bare(Severity::Error, &message, &[])
    }
}

/// The error for a file `name` that is not UTF-8 (`error` comes from
/// [`String::from_utf8`]), pointing at the line and column of the first bad
/// byte. The snippet shows the file with bad bytes replaced by U+FFFD; the
/// valid prefix, and so the position, is unchanged.
pub fn render_invalid_utf8(name: &str, error: &FromUtf8Error, color: bool) -> String {
    let bytes = error.as_bytes();
    let at = error.utf8_error().valid_up_to();
    let bad = bytes[at];
    let shown = String::from_utf8_lossy(bytes);
    let span = Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8());
    let diagnostic = Diagnostic::error(
        span,
        format!("`{name}` is not valid UTF-8: found byte 0x{bad:02x}"),
    )
    .with_label("invalid UTF-8 here")
    .with_note("scenario files are UTF-8 text");
    render(name, &shown, &[diagnostic], color)
}

/// rustc's look: ASCII `-->` and `|`.
#[cfg(feature = "cli")]
fn config() -> Config {
    Config {
        chars: Chars::ascii(),
        ..Config::default()
    }
}

#[cfg(feature = "cli")]
fn buffer(color: bool) -> Buffer {
    if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    }
}
