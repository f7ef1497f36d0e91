//! Reading the tokens of one line: names, durations, values, text.
//!
//! Each reader either consumes what it wants or returns a [`Diagnostic`]
//! saying what was expected and what was found. A line stops at its first
//! error; the parser then goes on with the next line.

use std::rc::Rc;

use super::ast::{Dur, DurLit, Name, RandDur};
use super::diagnostic::Diagnostic;
use super::lexer::{Line, Token, TokenKind};
use super::span::Span;
use crate::time::{parse_duration, DurationError};
use crate::value::Value;

/// The result of reading part of a line.
pub type Parsed<T> = Result<T, Diagnostic>;

/// The names of the file being parsed, one `Rc` each, and the last one
/// interned (a generated file names the same callback line after line).
struct Names {
    all: std::collections::BTreeSet<Rc<str>>,
    last: Option<Rc<str>>,
}

thread_local! {
    /// [`parse_source`](super::parser::parse_source) empties it when done.
    static NAMES: std::cell::RefCell<Names> = const {
        std::cell::RefCell::new(Names {
            all: std::collections::BTreeSet::new(),
            last: None,
        })
    };
}

/// The one `Rc` of name `text` in the file being parsed: a name used in
/// a hundred thousand statements is one allocation, and the trace
/// events that carry it all touch the same memory.
fn intern(text: &str) -> Rc<str> {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        let names = &mut *names;
        if let Some(last) = names.last.as_ref().filter(|last| ***last == *text) {
            return last.clone();
        }
        let name = match names.all.get(text) {
            Some(name) => name.clone(),
            None => {
                let name: Rc<str> = Rc::from(text);
                names.all.insert(name.clone());
                name
            }
        };
        names.last = Some(name.clone());
        name
    })
}

/// Forgets the interned names (the parse is over).
pub fn forget_names() {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        names.all.clear();
        names.last = None;
    });
}

/// What a value looks like, for messages.
pub const VALUE: &str = "a value (an integer, a quoted string or `none`)";

/// A position in the tokens of one line.
pub struct Cursor<'a> {
    source: &'a str,
    line: &'a Line,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the first token of `line`.
    pub fn new(source: &'a str, line: &'a Line) -> Cursor<'a> {
        Cursor {
            source,
            line,
            pos: 0,
        }
    }

    /// The next token, not consumed.
    pub fn peek(&self) -> Option<&'a Token> {
        self.line.tokens.get(self.pos)
    }

    /// Whether every token has been read.
    pub fn at_end(&self) -> bool {
        self.pos == self.line.tokens.len()
    }

    /// The source text of `span`.
    pub fn text_of(&self, span: Span) -> &'a str {
        span.slice(self.source)
    }

    /// Where the next token is, or the empty span at the end of the content.
    pub fn here(&self) -> Span {
        self.peek().map_or(
            Span::new(self.line.content_end, self.line.content_end),
            |t| t.span,
        )
    }

    /// The end of the last token read, for spans of whole statements.
    pub fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .map_or(self.line.span.start + self.line.indent, |i| {
                self.line.tokens[i].span.end
            })
    }

    /// How the next token reads in a message: `` `x` ``, `a string`,
    /// `end of line`.
    pub fn found(&self) -> String {
        match self.peek() {
            None => "end of line".into(),
            Some(t) => match &t.kind {
                TokenKind::Str(_) => format!("the string {}", self.text_of(t.span)),
                TokenKind::Unterminated => "an unterminated string".into(),
                _ => format!("`{}`", self.text_of(t.span)),
            },
        }
    }

    /// "expected WHAT, found ..." at the next token.
    pub fn expected(&self, what: &str) -> Diagnostic {
        let label = if !self.at_end() {
            "unexpected".into()
        } else if what.len() <= 40 {
            format!("expected {what} here")
        } else {
            "expected here".into()
        };
        Diagnostic::error(
            self.here(),
            format!("expected {what}, found {}", self.found()),
        )
        .with_label(label)
    }

    /// The lexer's own complaint about the next token, if it has one.
    fn malformed(&self) -> Option<Diagnostic> {
        let t = self.peek()?;
        match &t.kind {
            TokenKind::Invalid(invalid) => {
                let (message, at) = &**invalid;
                Some(Diagnostic::error(*at, message.clone()).with_label("not allowed here"))
            }
            TokenKind::Unterminated => Some(unterminated(t.span)),
            _ => None,
        }
    }

    /// Reads a word (keyword, name, number, duration) described by `what`.
    pub fn word(&mut self, what: &str) -> Parsed<(&'a str, Span)> {
        match self.peek() {
            Some(t) if matches!(t.kind, TokenKind::Word) => {
                self.pos += 1;
                Ok((self.text_of(t.span), t.span))
            }
            _ => Err(self.malformed().unwrap_or_else(|| self.expected(what))),
        }
    }

    /// Consumes the word `keyword` if it is next.
    pub fn eat_keyword(&mut self, keyword: &str) -> bool {
        let hit = self.at_keyword(keyword);
        self.pos += usize::from(hit);
        hit
    }

    /// Whether the next token is the word `keyword` (not consumed).
    pub fn at_keyword(&self, keyword: &str) -> bool {
        self.peek()
            .is_some_and(|t| matches!(t.kind, TokenKind::Word) && self.text_of(t.span) == keyword)
    }

    /// Reads the punctuation `p` (`:`, `(`, ...), or says it was expected
    /// `context` (e.g. "after the task name").
    pub fn punct(&mut self, p: &str, context: &str) -> Parsed<Span> {
        match self.peek() {
            Some(t) if matches!(t.kind, TokenKind::Punct(q) if q == p) => {
                self.pos += 1;
                Ok(t.span)
            }
            _ => Err(self
                .malformed()
                .unwrap_or_else(|| self.expected(&format!("`{p}` {context}")))),
        }
    }

    /// Reads a name: `[A-Za-z_][A-Za-z0-9_]*`.
    pub fn name(&mut self, what: &str) -> Parsed<Name> {
        let (text, span) = self.word(what)?;
        if !is_name(text) {
            self.pos -= 1;
            return Err(self
                .expected(what)
                .with_note("a name is letters, digits and `_`, and does not start with a digit"));
        }
        Ok(Name {
            text: intern(text),
            span,
        })
    }

    /// Reads an integer from 0 to 2^64 - 1 (a size, a count).
    pub fn count(&mut self, what: &str) -> Parsed<u64> {
        let (text, span) = self.word(what)?;
        text.parse::<u64>().map_err(|_| {
            Diagnostic::error(span, format!("expected {what}, found `{text}`"))
                .with_label("not an integer from 0 to 2^64 - 1")
        })
    }

    /// Reads `as NAME` if present.
    pub fn alias(&mut self, what: &str) -> Parsed<Option<Name>> {
        if self.eat_keyword("as") {
            self.name(what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a duration literal such as `1.5` or `250ms`.
    pub fn dur_lit(&mut self) -> Parsed<DurLit> {
        const WHAT: &str = "a duration such as `2`, `1.5`, `250ms`, `10us` or `7ns`";
        let (text, span) = self.word(WHAT)?;
        match parse_duration(text) {
            Ok(nanos) => Ok(DurLit {
                nanos,
                text: text.into(),
                span,
            }),
            Err(DurationError::Malformed) => {
                self.pos -= 1;
                Err(self.expected(WHAT))
            }
            Err(DurationError::Overflow) => Err(Diagnostic::error(
                span,
                format!("duration `{text}` overflows the clock"),
            )
            .with_label("too large")
            .with_note("the clock counts nanoseconds in 64 bits: at most about 292 years")),
        }
    }

    /// Reads a duration: a literal or `rand(A, B)` with `A <= B`.
    pub fn dur(&mut self) -> Parsed<Dur> {
        let is_rand = self.at_keyword("rand")
            && self
                .line
                .tokens
                .get(self.pos + 1)
                .is_some_and(|t| matches!(t.kind, TokenKind::Punct("(")));
        if !is_rand {
            return self.dur_lit().map(Dur::Literal);
        }
        let start = self.here();
        self.pos += 2;
        let low = self.dur_lit()?;
        self.punct(",", "between the bounds of `rand`")?;
        let high = self.dur_lit()?;
        let span = start.to(self.punct(")", "to close `rand(`")?);
        if low.nanos > high.nanos {
            return Err(Diagnostic::error(
                span,
                format!(
                    "empty range: `rand({}, {})` needs its first bound not above its second",
                    low.text, high.text
                ),
            )
            .with_label("low bound is above high bound"));
        }
        Ok(Dur::Rand(Box::new(RandDur { low, high, span })))
    }

    /// Reads a value: an integer, a quoted string or `none`.
    pub fn value(&mut self) -> Parsed<Value> {
        if let Some(d) = self.malformed() {
            return Err(d);
        }
        let Some(t) = self.peek() else {
            return Err(self.expected(VALUE));
        };
        let text = self.text_of(t.span);
        let value = match &t.kind {
            TokenKind::Str(s) => Value::Str(Rc::from(&**s)),
            TokenKind::Word if text == "none" => Value::None,
            TokenKind::Word if is_integer(text) => match text.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => {
                    return Err(Diagnostic::error(
                        t.span,
                        format!("integer `{text}` does not fit in 64 bits"),
                    )
                    .with_label("too large")
                    .with_note("integers range from -9223372036854775808 to 9223372036854775807"))
                }
            },
            _ => return Err(self.expected(VALUE)),
        };
        self.pos += 1;
        Ok(value)
    }

    /// Reads the rest of the line as text: one quoted string, or the bare
    /// rest of the line (trimmed, up to the comment) taken as written.
    pub fn text(&mut self, what: &str) -> Parsed<String> {
        let Some(first) = self.peek() else {
            return Err(self.expected(what));
        };
        if self.text_of(first.span).starts_with('"') {
            if let Some(d) = self.malformed() {
                return Err(d);
            }
            let TokenKind::Str(s) = &first.kind else {
                return Err(self.expected(what));
            };
            self.pos += 1;
            return Ok(s.to_string());
        }
        let rest = &self.line.tokens[self.pos..];
        if let Some(t) = rest.iter().find(|t| t.kind == TokenKind::Unterminated) {
            return Err(unterminated(t.span)
                .with_note("to put a lone `\"` in text, quote the whole text: \"5\\\" tall\""));
        }
        self.pos = self.line.tokens.len();
        Ok(self.source[first.span.start..self.line.content_end].to_string())
    }

    /// Checks that the line has nothing more after `after` (formatted only
    /// for the error: pass `format_args!`, not `format!`, so the common
    /// case allocates nothing).
    pub fn end(&self, after: impl std::fmt::Display) -> Parsed<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(Diagnostic::error(
                Span::new(t.span.start, self.line.content_end),
                format!("expected end of line after {after}, found {}", self.found()),
            )
            .with_label("unexpected")),
        }
    }
}

fn unterminated(span: Span) -> Diagnostic {
    Diagnostic::error(
        span,
        "unterminated string: expected a closing `\"` before the end of the line",
    )
    .with_label("string starts here")
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `-?[0-9]+`.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
