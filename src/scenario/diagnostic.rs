//! Diagnostics as plain data, and their rendering (once, at the edge).
//!
//! The lexer, parser and resolver only build [`Diagnostic`] values: a
//! message, the span it is about, a short label for that span, optional
//! related spans and notes. [`render`] turns them into rustc-style text with
//! codespan-reporting:
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

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as ReportSeverity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::termcolor::Buffer;
use codespan_reporting::term::{self, Chars, Config};

use std::io::Write;

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

/// Renders `diagnostics` about `source` (read from `file_name`), one after
/// another, rustc style; ANSI colours only if `color`.
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let file = SimpleFile::new(file_name, source);
    let mut out = buffer(color);
    for diagnostic in diagnostics {
        // Spans come from this very source, so emitting cannot fail; if it
        // somehow did, the bare message still gets out.
        if term::emit(&mut out, &config(), &file, &diagnostic.to_report()).is_err() {
            let _ = writeln!(out, "error: {}", diagnostic.message);
        }
    }
    String::from_utf8_lossy(out.as_slice()).into_owned()
}

/// A problem with no source to show (a missing file): `error: MESSAGE`,
/// rendered by the same renderer so it looks like every other error.
pub fn render_plain(message: &str, color: bool) -> String {
    let report = Report::<()>::error().with_message(message);
    let mut out = buffer(color);
    let _ = term::emit(&mut out, &config(), &SimpleFile::new("", ""), &report);
    String::from_utf8_lossy(out.as_slice()).into_owned()
}

/// rustc's look: ASCII `-->` and `|`.
fn config() -> Config {
    Config {
        chars: Chars::ascii(),
        ..Config::default()
    }
}

fn buffer(color: bool) -> Buffer {
    if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    }
}
