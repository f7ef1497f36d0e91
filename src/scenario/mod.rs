//! Scenario files (`.scn`): reading, checking and printing them.
//!
//! A scenario is a small program against the loop's asyncio-style API (the
//! language is described in `docs/scenario-language.md`). This module turns its
//! text into a checked [`ast::Scenario`], or into diagnostics that point at
//! the mistakes:
//!
//! ```text
//! source ──lexer──▶ lines of tokens ──parser──▶ Scenario ──resolve──▶ checked Scenario
//!                        (never fails)      (reports, recovers)   (names and kinds)
//! ```
//!
//! ```
//! use loopsim::scenario::{parse, print, render};
//!
//! let source = "callback tick:\n    log tick\n\nmain:\n    call_later 1.5 tick\n    run_forever\n";
//! let scenario = parse("demo.scn", source).unwrap();
//! assert_eq!(print(&scenario), source);
//!
//! let bad = "main:\n    call_soon tock\n";
//! let errors = parse("bad.scn", bad).unwrap_err();
//! let text = render("bad.scn", bad, &errors, false);
//! assert!(text.starts_with("error: undefined callback `tock`\n  --> bad.scn:2:15\n"));
//! ```
//!
//! Every AST node carries a [`span::Span`]; diagnostics are plain data
//! ([`diagnostic::Diagnostic`]) rendered once by [`render`]. The printer
//! ([`print()`]) gives a file's canonical form, keeping comments, duration
//! literals and check conditions as written so that formatting a scenario
//! never changes its trace.

pub mod ast;
mod cursor;
pub mod diagnostic;
#[cfg(feature = "fuzz")]
pub mod generate;
mod header;
pub mod interpret;
#[doc = include_str!("../../docs/scenario-language.md")]
pub mod language {}
pub mod lexer;
mod lit_text;
mod parser;
pub mod plain;
mod primitives;
mod printer;
mod resolve;
pub mod settings;
pub mod source;
pub mod span;
#[cfg(feature = "cli")]
mod sparse_lines;
mod stmt;

use std::path::Path;

pub use ast::Scenario;
pub use diagnostic::{render, Diagnostic};
pub use interpret::{
    run, run_streamed, run_streamed_keeping, Outcome, Prepared, Remains, RunOptions,
};
pub use plain::render_plain;
pub use printer::print;
pub use settings::{Overrides, Settings};

/// Whether parsing keeps the file's comments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentPolicy {
    /// Keep them, for [`print()`]: their text goes to
    /// [`Scenario::comment_text`].
    Keep,
    /// Drop them as they are read: for what only runs a scenario, to which
    /// comments mean nothing. A file of comment lines then costs what a
    /// blank one does, and [`print()`] prints the scenario without them.
    Drop,
}

/// Lexes, parses and resolves `source`, keeping its comments; `file_name`
/// is used in messages. On failure, returns every problem found, in file
/// order.
pub fn parse(file_name: &str, source: &str) -> Result<Scenario, Vec<Diagnostic>> {
    parse_with(file_name, source, CommentPolicy::Keep)
}

/// [`parse`], keeping the comments or not as `comments` says. The
/// diagnostics are the same either way.
pub fn parse_with(
    file_name: &str,
    source: &str,
    comments: CommentPolicy,
) -> Result<Scenario, Vec<Diagnostic>> {
    let (scenario, resolved) = parser::parse_source(file_name, source, comments)?;
    let mut diagnostics = resolved.unwrap_or_else(|| resolve::resolve(source, &scenario));
    if diagnostics.is_empty() {
        return Ok(scenario);
    }
    diagnostics.sort_by_key(|d| d.span.start);
    Err(diagnostic::cap(diagnostics))
}

/// Reads the file at `path` and parses it. Returns the source with the
/// scenario, or the rendered errors (ANSI colours only if `color`): a
/// missing or unreadable file, a path that is not a regular file or a file
/// over [`source::MAX_SOURCE_BYTES`] ([`source::read_source`]; a leading
/// byte order mark is skipped: [`source::strip_bom`]), invalid UTF-8 (pointing at the first bad
/// byte), or the problems [`parse`] found.
pub fn read_and_parse(path: &Path, color: bool) -> Result<(String, Scenario), String> {
    read_and_parse_with(path, color, CommentPolicy::Keep)
}

/// [`read_and_parse`], keeping the comments or not as `comments` says:
/// only printing needs them.
pub fn read_and_parse_with(
    path: &Path,
    color: bool,
    comments: CommentPolicy,
) -> Result<(String, Scenario), String> {
    let name = path.display().to_string();
    let bytes =
        source::read_source(path).map_err(|e| diagnostic::render_unreadable(&name, &e, color))?;
    let bytes = source::strip_bom(bytes);
    let source =
        String::from_utf8(bytes).map_err(|e| diagnostic::render_invalid_utf8(&name, &e, color))?;
    match parse_with(&name, &source, comments) {
        Ok(scenario) => Ok((source, scenario)),
        Err(diagnostics) => Err(render(&name, &source, &diagnostics, color)),
    }
}
