//! From lines to a [`Scenario`]: header, blocks, bodies and comments.
//!
//! The parser is line-oriented. A line at column 0 is a header setting or
//! a block line; the lines after a block line that are indented (by any
//! number of spaces, the same for the whole body) are its body. Each line
//! is parsed on its own, so a bad line yields one diagnostic and parsing
//! goes on with the next line: a file's errors are reported together.
//!
//! ```text
//! file    = { setting } { block }          (settings only before the first block)
//! setting = "python" VERSION | ("seed" | "max_iterations" | "max_events" | "max_callbacks"
//!           | "max_pending") INTEGER | "tie_break" POLICY
//!         | ("jitter" | "start_time") DURATION | "expect" "fail"
//! block   = ("callback" | "task") NAME ":" body | "future" NAME | "main" ":" body
//!         | ("event" | "lock") NAME | "condition" NAME [NAME] | "barrier" NAME INTEGER
//!         | ("semaphore" | "bounded_semaphore" | "queue" | "lifo_queue" | "priority_queue") NAME [INTEGER]
//! body    = { INDENT stmt }                (may be empty; see `stmt.rs`)
//! ```
//!
//! Comments are kept for the printer ([`CommentPolicy::Keep`]): a comment
//! line belongs to the next code line (as `Trivia::leading`), except that
//! comment lines at the top followed by a blank line are the file's comment,
//! indented comment lines at the end of a body stay in that body, and
//! comments after everything are the file's trailing comments. Their text
//! is appended to [`Scenario::comment_text`] as they are read, so the
//! comments still to be placed are always its last ones, and placing them
//! is cutting that tail in ranges ([`Comments`]). With
//! [`CommentPolicy::Drop`] no text is kept and every range is empty: a file
//! of comment lines costs what a blank one does.

use std::mem;

use super::ast::{
    Block, BlockKind, Body, Comments, Header, MainBlock, Name, Primitive, Scenario, Stmt, Trivia,
};
use super::cursor::{Cursor, Parsed};
use super::diagnostic::{Collector, Diagnostic};
use super::header;
use super::lexer::{Lexer, Line, TokenKind};
use super::resolve::Resolver;
use super::span::Span;
use super::stmt::{parse_stmt, KEYWORDS};
use super::CommentPolicy;

/// What may start a top-level line, for messages.
const TOP_LEVEL: &str =
    "a header setting (`python`, `seed`, `tie_break`, `jitter`, `start_time`, `max_iterations`, \
     `max_events`, `max_callbacks`, `max_pending`, `expect`) or a block \
     (`callback NAME:`, `task NAME:`, `future NAME`, `main:`) or a declaration (`event`, `lock`, \
     `semaphore`, `bounded_semaphore`, `condition`, `barrier`, `queue`, `lifo_queue`, `priority_queue`)";

/// Parses `source`, lexing it one line at a time, keeping its comments or
/// not as `comments` says. `file_name` is only for messages.
/// When `main` is the last block, its statements are resolved as they are
/// read, and the resolver's diagnostics come with the scenario; `None`
/// leaves resolving to [`resolve`](super::resolve::resolve).
pub fn parse_source(
    file_name: &str,
    source: &str,
    comments: CommentPolicy,
) -> Result<(Scenario, Option<Vec<Diagnostic>>), Vec<Diagnostic>> {
    let mut p = Parser {
        source,
        lexer: Lexer::new(source),
        next: Line::default(),
        has_next: false,
        keep_comments: comments == CommentPolicy::Keep,
        comment_text: String::new(),
        pending: 0,
        first_unindented: None,
        file_comments: None,
        diags: Collector::default(),
        header: Header::default(),
        blocks: Vec::new(),
        main: None,
        first_block: None,
        resolver: None,
    };
    p.advance();
    let mut line = Line::default();
    while let Some(trivia) = p.take(&mut line) {
        if line.indent > 0 {
            p.stray_indentation(&line);
        } else {
            p.top_level(&line, trivia);
        }
    }
    super::cursor::forget_names();
    let trailing_comments = p.take_pending(p.comment_text.len());
    let Some(main) = p.main else {
        let message = if p.file_comments.is_none() {
            format!("`{file_name}` has no statements: expected at least a `main:` block")
        } else {
            format!("`{file_name}` has no `main:` block")
        };
        p.diags.push(
            Diagnostic::error(Span::new(source.len(), source.len()), message)
                .with_label("expected `main:` by here")
                .with_note("every scenario needs exactly one `main:` block: the script that drives the loop"),
        );
        return Err(p.diags.finish());
    };
    if !p.diags.is_empty() {
        return Err(p.diags.finish());
    }
    let resolved = match p.resolver {
        Some((resolver, blocks)) if blocks == p.blocks.len() => Some(resolver.finish(&p.blocks)),
        _ => None,
    };
    let scenario = Scenario {
        file_comments: p.file_comments.unwrap_or_default(),
        header: p.header,
        blocks: p.blocks,
        main,
        trailing_comments,
        comment_text: p.comment_text,
    };
    Ok((scenario, resolved))
}

/// The parser reads the file as a sequence of code lines (lines with a
/// token), each with the comment lines above it, with one of lookahead:
/// [`next`](Parser::next) and the pending comments. At the end of the file
/// `has_next` is false and the pending comments are those after the last
/// code line.
///
/// Lines are swapped, not moved: [`take`](Parser::take) swaps the
/// lookahead with the caller's line, whose old token vector the line after
/// is then lexed into, so a body of any length lexes into the same two
/// vectors.
struct Parser<'a> {
    source: &'a str,
    lexer: Lexer<'a>,
    /// The next code line, not yet taken, if `has_next`.
    next: Line,
    has_next: bool,
    /// [`CommentPolicy::Keep`]: whether comments go to `comment_text`.
    keep_comments: bool,
    /// The text of the comments read so far, each followed by `\n`.
    comment_text: String,
    /// Where the pending comments start in `comment_text`: those above
    /// `next` (or at the end of the file) run from here to its end.
    pending: usize,
    /// Where the first pending comment at column 1 starts, if one is
    /// pending: the indented ones before it end a body.
    first_unindented: Option<usize>,
    /// The file's comment, set when the first code line is read (the
    /// comment lines at the top, up to the last blank line before it).
    file_comments: Option<Comments>,
    diags: Collector,
    header: Header,
    blocks: Vec<Block>,
    main: Option<MainBlock>,
    /// The first block line, once seen: settings must come before it.
    first_block: Option<Span>,
    /// From the first `main:` line on (if the file has no error by then):
    /// a resolver that has resolved the blocks before it and resolves the
    /// statements of `main` as they are read, with how many blocks it
    /// knows. Its work stands if no block follows `main`, the order
    /// [`resolve`](super::resolve::resolve) works in; otherwise that resolves the file
    /// afresh.
    resolver: Option<(Resolver<'a>, usize)>,
}

impl<'a> Parser<'a> {
    /// Reads lines up to the next code line into [`next`](Parser::next),
    /// adding the comment lines on the way to the pending comments.
    fn advance(&mut self) {
        let mut before_blank = self.pending;
        while self.lexer.next_line(&mut self.next) {
            let line = &self.next;
            match (line.is_empty(), line.comment) {
                (false, _) => {
                    if self.file_comments.is_none() {
                        self.file_comments = Some(self.take_pending(before_blank));
                    }
                    self.has_next = true;
                    return;
                }
                (true, Some(span)) if self.keep_comments => {
                    if line.indent == 0 && self.first_unindented.is_none() {
                        self.first_unindented = Some(self.comment_text.len());
                    }
                    self.keep_comment(span);
                }
                (true, Some(_)) => {}
                (true, None) => before_blank = self.comment_text.len(),
            }
        }
        self.has_next = false;
    }

    /// Adds the comment at `span` to `comment_text`.
    fn keep_comment(&mut self, span: Span) {
        self.comment_text.push_str(span.slice(self.source));
        self.comment_text.push('\n');
    }

    /// The pending comments up to `end` (in `comment_text`), which are
    /// placed: the pending ones start after them. (When the file's comment
    /// is taken short of a later comment at column 1, that one is not
    /// looked for again: the first code line takes all the rest.)
    fn take_pending(&mut self, end: usize) -> Comments {
        let taken = Comments::new(self.pending, end);
        self.pending = end;
        if self.first_unindented.is_some_and(|at| at < end) {
            self.first_unindented = None;
        }
        taken
    }

    /// Takes the next code line into `line` and returns its trivia (the
    /// comments above it and at its end); the line after it, lexed into
    /// `line`'s old token vector, becomes the lookahead. `None`, leaving
    /// `line` alone, at the end of the file.
    #[inline]
    fn take(&mut self, line: &mut Line) -> Option<Trivia> {
        if !self.has_next {
            return None;
        }
        mem::swap(&mut self.next, line);
        let none_pending = self.pending == self.comment_text.len();
        let trivia = if !self.keep_comments || (none_pending && line.comment.is_none()) {
            Trivia::default()
        } else {
            self.trivia(line)
        };
        self.advance();
        Some(trivia)
    }

    /// The trivia of `line`, which has a comment above it or at its end.
    #[cold]
    fn trivia(&mut self, line: &Line) -> Trivia {
        let leading = self.take_pending(self.comment_text.len());
        if let Some(span) = line.comment {
            self.keep_comment(span);
        }
        let trailing = self.take_pending(self.comment_text.len());
        Trivia::new(leading, trailing)
    }

    /// Whether the next code line is indented.
    fn next_is_indented(&self) -> bool {
        self.has_next && self.next.indent > 0
    }

    /// The line's text, from its first token to its comment.
    fn content(line: &Line) -> Span {
        Span::new(line.span.start + line.indent, line.content_end)
    }

    /// Reports an indented line where none was expected, and skips the run
    /// of indented lines it starts.
    fn stray_indentation(&mut self, line: &Line) {
        self.diags.push(
            Diagnostic::error(
                Self::content(line),
                "unexpected indentation: expected a line at column 1",
            )
            .with_label("this line is indented")
            .with_note("only the lines of a `callback`, `task` or `main:` body are indented"),
        );
        let mut skipped = Line::default();
        while self.next_is_indented() {
            self.take(&mut skipped);
        }
    }

    /// A line at column 0: a setting or a block line (with its body).
    fn top_level(&mut self, line: &Line, trivia: Trivia) {
        let mut c = Cursor::new(self.source, line);
        let span = Self::content(line);
        let result = match c.word(TOP_LEVEL) {
            Err(d) => Err(d),
            Ok((key, key_span)) if header::KEYS.contains(&key) => {
                self.setting(key, key_span, &mut c, span, trivia)
            }
            Ok((keyword @ ("callback" | "task" | "future"), _)) => {
                self.block(keyword, &mut c, span, trivia)
            }
            Ok((keyword, _)) if Primitive::KEYWORDS.contains(&keyword) => {
                declaration(keyword, &mut c).map(|(name, primitive)| {
                    self.push_block(BlockKind::Primitive(primitive), name, span, trivia)
                })
            }
            Ok(("main", _)) => self.main_block(&mut c, span, trivia),
            Ok((other, other_span)) => {
                if line
                    .tokens
                    .last()
                    .is_some_and(|t| t.kind == TokenKind::Punct(":"))
                {
                    // Read what looks like its body, so its lines are not stray.
                    self.body(false);
                }
                Err(unknown_top_level(other, other_span))
            }
        };
        if let Err(d) = result {
            self.diags.push(d);
        }
    }

    /// A header setting, which must come before the first block.
    fn setting(
        &mut self,
        key: &str,
        key_span: Span,
        c: &mut Cursor,
        span: Span,
        trivia: Trivia,
    ) -> Parsed<()> {
        match self.first_block {
            Some(first) => Err(Diagnostic::error(
                key_span,
                format!("header setting `{key}` after a block"),
            )
            .with_label("settings must come before the first block")
            .with_related(first, "first block here")),
            None => header::parse_setting(&mut self.header, key, c, span, trivia),
        }
    }

    /// `callback NAME:` or `task NAME:` with its body, or `future NAME`.
    /// The cursor is after the keyword. A body is read (and checked) even
    /// when the block line is wrong, so its lines are not stray.
    fn block(&mut self, keyword: &str, c: &mut Cursor, span: Span, trivia: Trivia) -> Parsed<()> {
        if keyword == "future" {
            let name = future_head(c)?;
            self.push_block(BlockKind::Future, name, span, trivia);
            return Ok(());
        }
        let head = block_head(c, keyword);
        let body = self.body(false);
        let kind = if keyword == "task" {
            BlockKind::Task(body)
        } else {
            BlockKind::Callback(body)
        };
        self.push_block(kind, head?, span, trivia);
        Ok(())
    }

    fn push_block(&mut self, kind: BlockKind, name: Name, span: Span, trivia: Trivia) {
        self.first_block.get_or_insert(span);
        self.blocks.push(Block {
            kind,
            name,
            span,
            trivia,
        });
    }

    /// `main:` and its body; the cursor is after `main`.
    fn main_block(&mut self, c: &mut Cursor, span: Span, trivia: Trivia) -> Parsed<()> {
        let head = c.punct(":", "after `main`").and_then(|_| c.end("`main:`"));
        let first = self.main.is_none() && self.resolver.is_none();
        if first && self.diags.is_empty() && head.is_ok() {
            let resolver = Resolver::new(self.source, &self.blocks);
            self.resolver = Some((resolver, self.blocks.len()));
        }
        let body = self.body(first);
        head?;
        if let Some(first) = &self.main {
            return Err(Diagnostic::error(
                span,
                "a second `main:` block; a scenario has exactly one",
            )
            .with_label("second `main:`")
            .with_related(first.span, "first `main:` here"));
        }
        self.first_block.get_or_insert(span);
        self.main = Some(MainBlock { span, trivia, body });
        Ok(())
    }

    /// The indented lines after a block line. Statements that fail to parse
    /// are reported and left out.
    /// `main`: whether this is the body of the first `main:`, whose
    /// statements the [`resolver`](Parser::resolver) takes as they come.
    fn body(&mut self, main: bool) -> Body {
        let mut body = Body::default();
        if self.next_is_indented() {
            body.stmts
                .reserve_exact(1 + self.lexer.indented_lines_ahead());
        }
        let mut depth = None;
        let mut line = Line::default();
        while self.next_is_indented() {
            let Some(trivia) = self.take(&mut line) else {
                break;
            };
            if let Some(tab) = line.tab_in_indent {
                self.diags.push(
                    Diagnostic::error(tab, "tab in indentation; indent with spaces")
                        .with_label("tab")
                        .with_note("tabs are an error: their width is ambiguous"),
                );
            } else if *depth.get_or_insert(line.indent) != line.indent {
                let expected = depth.unwrap_or_default();
                self.diags.push(
                    Diagnostic::error(
                        Span::new(line.span.start, line.span.start + line.indent),
                        format!(
                            "inconsistent indentation: expected {expected} spaces \
                             like the body's first line, found {}",
                            line.indent
                        ),
                    )
                    .with_label(format!("{} spaces", line.indent)),
                );
            }
            match parse_stmt(&mut Cursor::new(self.source, &line)) {
                Ok(kind) => {
                    body.stmts.push(Stmt {
                        kind,
                        span: Self::content(&line),
                        trivia,
                    });
                    let resolver = self.resolver.as_mut().filter(|_| main);
                    if let (Some((resolver, _)), Some(stmt)) = (resolver, body.stmts.last()) {
                        resolver.statement(stmt, "`main`", false);
                    }
                }
                Err(d) => self.diags.push(d),
            }
        }
        let indented_end = self.first_unindented.unwrap_or(self.comment_text.len());
        body.trailing_comments = self.take_pending(indented_end);
        body
    }
}

/// `NAME :` after `callback` or `task`.
fn block_head(c: &mut Cursor, keyword: &str) -> Parsed<Name> {
    let name = c.name(&format!("a name for the {keyword}"))?;
    c.punct(
        ":",
        &format!("after the {keyword} name (a block line ends with `:`)"),
    )?;
    c.end(format_args!("`{keyword} {}:`", name.text))?;
    Ok(name)
}

/// `NAME` after `future`, with no `:`.
fn future_head(c: &mut Cursor) -> Parsed<Name> {
    let name = c.name("a name for the future")?;
    if let Some(colon) = c.peek().filter(|t| c.text_of(t.span) == ":") {
        return Err(Diagnostic::error(
            colon.span,
            "expected end of line after `future NAME`, found `:`",
        )
        .with_label("a future has no body: remove the `:`"));
    }
    c.end(format_args!("`future {}`", name.text))?;
    Ok(name)
}

/// `KEYWORD NAME [ARG]` of a primitive; the cursor is after the keyword.
fn declaration(keyword: &str, c: &mut Cursor) -> Parsed<(Name, Primitive)> {
    let name = c.name(&format!("a name for the {}", keyword.replace('_', " ")))?;
    let mut size = |what: &str| -> Parsed<Option<u64>> {
        if c.at_end() {
            Ok(None)
        } else {
            c.count(what).map(Some)
        }
    };
    let primitive = match keyword {
        "event" => Primitive::Event,
        "lock" => Primitive::Lock,
        "semaphore" => Primitive::Semaphore(size("the initial value (an integer)")?),
        "bounded_semaphore" => Primitive::BoundedSemaphore(size("the initial value (an integer)")?),
        "queue" => Primitive::Queue(size("the maxsize (an integer; 0 is unbounded)")?),
        "lifo_queue" => Primitive::LifoQueue(size("the maxsize (an integer; 0 is unbounded)")?),
        "priority_queue" => {
            Primitive::PriorityQueue(size("the maxsize (an integer; 0 is unbounded)")?)
        }
        "condition" => Primitive::Condition(if c.at_end() {
            None
        } else {
            Some(c.name("the name of a lock")?)
        }),
        "barrier" => {
            let at = c.here();
            let parties = c
                .count("the number of parties (an integer above 0)")
                .map_err(|d| {
                    d.with_note("asyncio.Barrier(parties) has no default: write `barrier NAME N`")
                })?;
            if parties == 0 {
                return Err(Diagnostic::error(at, "a barrier needs at least one party")
                    .with_label("parties must be > 0 (asyncio's ValueError)"));
            }
            Primitive::Barrier(parties)
        }
        other => unreachable!("not a declaration keyword: {other}"),
    };
    c.end(format_args!("`{keyword} {}` and its argument", name.text))?;
    Ok((name, primitive))
}

/// A top-level line that is neither a setting nor a block.
fn unknown_top_level(word: &str, span: Span) -> Diagnostic {
    let d = Diagnostic::error(span, format!("expected {TOP_LEVEL}, found `{word}`"))
        .with_label("not a setting or a block");
    if KEYWORDS.split(", ").any(|k| k == word) {
        d.with_note("statements belong in an indented body, such as the lines after `main:`")
    } else {
        d
    }
}
