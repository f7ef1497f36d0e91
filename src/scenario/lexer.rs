//! Splits the source into lines of tokens. Never fails, never panics.
//!
//! The language is line-oriented, so the lexer's output is a sequence of
//! [`Line`]s, each with its indentation, tokens and comment; blocks are found
//! by the parser from the indentation. Anything malformed becomes a token or
//! a flag that the parser reports if (and only if) it matters there.
//!
//! The parser reads lines one at a time ([`Lexer::next_line`]), lexing each
//! into a [`Line`] whose token vector it reuses: a file of a million lines
//! is never held as a million lines of tokens. [`lex`] collects them all,
//! for tests and tools.
//!
//! Rules, per line (`\n` or `\r\n` ends a line):
//!
//! ```text
//! indent   = { " " | "\t" }        (a tab sets `tab_in_indent`: an error)
//! token    = word | string | punct
//! word     = 1*( any char except whitespace # " ( ) , : = )
//! string   = '"' { char | '\"' | '\\' | '\n' } '"'
//! punct    = "(" | ")" | "," | ":" | "=="
//! comment  = "#" rest-of-line      (a `#` inside a string is not one)
//! ```
//!
//! A string with another escape is an [`TokenKind::Invalid`] token; one that
//! reaches the end of the line is [`TokenKind::Unterminated`]. A lone `=` is
//! `Invalid` too. Bare rest-of-line text is not a token: the parser slices it
//! from the source between a token's start and [`Line::content_end`].

use super::span::Span;

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// A run of non-special characters: a keyword, name, number or
    /// duration (the parser decides which).
    Word,
    /// A well-formed quoted string, unescaped. (Boxed, as the message of
    /// `Invalid`, so that a token is 40 bytes: a big file's lines are all
    /// held while it is parsed.)
    Str(Box<str>),
    /// `(`, `)`, `,`, `:` or `==`.
    Punct(&'static str),
    /// A string with no closing quote on its line.
    Unterminated,
    /// Something malformed: what is wrong, and the exact place (such as
    /// the bad escape inside a string).
    Invalid(Box<(String, Span)>),
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// One line of source.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The line without its line break.
    pub span: Span,
    /// Number of leading spaces and tabs.
    pub indent: usize,
    /// Where the first tab of the indentation is, if there is one.
    pub tab_in_indent: Option<Span>,
    /// The tokens, comment excluded.
    pub tokens: Vec<Token>,
    /// The `#` comment at the end of the line, if any.
    pub comment: Option<Span>,
    /// Where the line's content ends: the comment's start or the line's end,
    /// with trailing whitespace before it skipped.
    pub content_end: usize,
}

impl Line {
    /// A line with no tokens (blank or comment only).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl Default for Line {
    /// An empty line at offset 0, to lex into.
    fn default() -> Line {
        Line {
            span: Span::default(),
            indent: 0,
            tab_in_indent: None,
            tokens: Vec::new(),
            comment: None,
            content_end: 0,
        }
    }
}

/// Splits `source` into lines.
pub fn lex(source: &str) -> Vec<Line> {
    let mut lexer = Lexer::new(source);
    let mut lines = Vec::new();
    let mut line = Line::default();
    while lexer.next_line(&mut line) {
        lines.push(line.clone());
    }
    lines
}

/// The lines of a source, one at a time.
pub struct Lexer<'a> {
    source: &'a str,
    /// Where the next line starts; past the end once the last line is read.
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the first line of `source`.
    pub fn new(source: &'a str) -> Lexer<'a> {
        Lexer { source, pos: 0 }
    }

    /// How many of the lines from the next one on could be statements of
    /// an indented body: the indented lines with something other than a
    /// comment on them, before the next line that starts at column 1 with
    /// code. An upper bound on the statements still to come in the body
    /// being read, found from the first bytes of each line, so that the
    /// parser sizes a body once: grown by doubling, a body of 100,000
    /// statements was copied and its memory zeroed about twice over.
    /// Capped at [`Lexer::MAX_LINES_AHEAD`]: past that, a body grows.
    pub fn indented_lines_ahead(&self) -> usize {
        let rest = self.source.as_bytes().get(self.pos..).unwrap_or_default();
        let mut count = 0;
        let mut at = 0;
        while let Some(&first) = rest.get(at) {
            if !matches!(first, b' ' | b'\t' | b'#' | b'\r' | b'\n') {
                break;
            }
            let line = &rest[at..];
            let content = line.iter().position(|&b| b != b' ' && b != b'\t');
            let code = content.and_then(|i| line.get(i));
            count += usize::from(!matches!(code, None | Some(b'#' | b'\r' | b'\n')));
            if count == Self::MAX_LINES_AHEAD {
                break;
            }
            match find_newline(line) {
                Some(i) => at += i + 1,
                None => break,
            }
        }
        count
    }

    /// The most lines [`indented_lines_ahead`](Lexer::indented_lines_ahead)
    /// counts: room for a million statements (about 144 MiB) is reserved
    /// at most, whatever a file of blank-looking lines says.
    pub const MAX_LINES_AHEAD: usize = 1 << 20;

    /// Lexes the next line into `line` (its token vector is cleared and
    /// reused); `false`, leaving `line` alone, once every line has been
    /// read. A source of `n` line breaks has `n + 1` lines unless it ends
    /// with one (as `str::split_inclusive` counts them): the empty source
    /// has none.
    pub fn next_line(&mut self, line: &mut Line) -> bool {
        let rest = match self.source.get(self.pos..) {
            Some(rest) if !rest.is_empty() => rest,
            _ => return false,
        };
        let (body, len) = match find_newline(rest.as_bytes()) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        let body = body.strip_suffix('\r').unwrap_or(body);
        lex_line(body, self.pos, line);
        self.pos += len;
        true
    }
}

/// Where the first `\n` of `bytes` is: eight bytes at a time (a zero byte
/// of the word XOR `\n`s, found with the usual bit trick; the lowest flag
/// is always a true one), then byte by byte.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_le_bytes([b'\n'; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default()) ^ NEWLINES;
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(offset + zeros.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let rest = chunks.remainder().iter().position(|&b| b == b'\n');
    rest.map(|i| offset + i)
}

/// Characters that end a word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '#' | '"' | '(' | ')' | ',' | ':' | '=')
}

/// For each byte, whether a word's fast scan stops there: the ASCII bytes
/// that end a word ([`ends_word`]; `char::is_whitespace` of ASCII is
/// U+0009..=U+000D and the space), and every non-ASCII byte, whose
/// character is decoded to decide.
const STOPS_WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b >= 128
            || matches!(
                b as u8,
                b'\t'..=b'\r' | b' ' | b'#' | b'"' | b'(' | b')' | b',' | b':' | b'='
            );
        b += 1;
    }
    table
};

/// The character starting at byte `at` of `text` (a char boundary).
fn char_at(text: &str, at: usize) -> char {
    text[at..].chars().next().unwrap_or('\0')
}

/// Where the word starting at byte `start` ends: runs of ASCII bytes are
/// scanned with one table load each, other characters decoded.
#[inline]
fn word_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = start;
    loop {
        let rest = bytes.get(end..).unwrap_or_default();
        end += rest
            .iter()
            .position(|&b| STOPS_WORD[usize::from(b)])
            .unwrap_or(rest.len());
        match bytes.get(end) {
            Some(&b) if b >= 128 => {
                let c = char_at(text, end);
                if ends_word(c) {
                    return end;
                }
                end += c.len_utf8();
            }
            _ => return end,
        }
    }
}

/// Lexes one line whose text is `text`, starting at byte `base`, into
/// `line`. ASCII bytes are dispatched on directly; other characters are
/// decoded (one may be whitespace, or start a word).
fn lex_line(text: &str, base: usize, line: &mut Line) {
    let (indent, tab_in_indent) = indentation(text, base);
    let tokens = &mut line.tokens;
    tokens.clear();
    let mut comment = None;
    let bytes = text.as_bytes();
    let mut i = indent;
    while let Some(&b) = bytes.get(i) {
        let (kind, end) = match b {
            b'\t'..=b'\r' | b' ' => {
                i += 1;
                continue;
            }
            b'#' => {
                let end = text.trim_end().len().max(i + 1);
                comment = Some(Span::new(base + i, base + end));
                break;
            }
            b'"' => lex_string(text, i, base),
            b'(' => (TokenKind::Punct("("), i + 1),
            b')' => (TokenKind::Punct(")"), i + 1),
            b',' => (TokenKind::Punct(","), i + 1),
            b':' => (TokenKind::Punct(":"), i + 1),
            b'=' if bytes.get(i + 1) == Some(&b'=') => (TokenKind::Punct("=="), i + 2),
            b'=' => (
                TokenKind::Invalid(Box::new((
                    "expected `==`, found a single `=`".into(),
                    Span::new(base + i, base + i + 1),
                ))),
                i + 1,
            ),
            b if b.is_ascii() => (TokenKind::Word, word_end(text, i + 1)),
            _ => {
                let c = char_at(text, i);
                if c.is_whitespace() {
                    i += c.len_utf8();
                    continue;
                }
                (TokenKind::Word, word_end(text, i + c.len_utf8()))
            }
        };
        tokens.push(Token {
            kind,
            span: Span::new(base + i, base + end),
        });
        i = end;
    }
    let content = comment.map_or(text, |span| &text[..span.start - base]);
    line.span = Span::new(base, base + text.len());
    line.indent = indent;
    line.tab_in_indent = tab_in_indent;
    line.comment = comment;
    line.content_end = base + content.trim_end().len();
}

/// The number of leading spaces and tabs (all one byte), and where the
/// first tab is.
fn indentation(text: &str, base: usize) -> (usize, Option<Span>) {
    let indent = text
        .bytes()
        .take_while(|&b| b == b' ' || b == b'\t')
        .count();
    let tab = text.as_bytes()[..indent]
        .iter()
        .position(|&b| b == b'\t')
        .map(|i| Span::new(base + i, base + i + 1));
    (indent, tab)
}

/// Lexes the string starting at the quote at `open`; returns the token kind
/// and the offset just past the string (the line's end if unterminated).
fn lex_string(text: &str, open: usize, base: usize) -> (TokenKind, usize) {
    let mut value = String::new();
    let mut error = None;
    let mut chars = text[open + 1..]
        .char_indices()
        .map(|(j, c)| (open + 1 + j, c));
    while let Some((j, c)) = chars.next() {
        match c {
            '"' => {
                let kind = error.map_or(TokenKind::Str(value.into()), |invalid| {
                    TokenKind::Invalid(Box::new(invalid))
                });
                return (kind, j + 1);
            }
            '\\' => match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((k, other)) => {
                    error.get_or_insert_with(|| {
                        let message = format!(
                            "unknown escape `\\{other}` in a string; expected `\\\"`, `\\\\` or `\\n`"
                        );
                        (message, Span::new(base + j, base + k + other.len_utf8()))
                    });
                }
                None => break,
            },
            c => value.push(c),
        }
    }
    (TokenKind::Unterminated, text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src)
            .into_iter()
            .flat_map(|l| l.tokens)
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn words_strings_and_punctuation() {
        use TokenKind::*;
        assert_eq!(
            kinds("check result f==\"a\\\"b\" # c"),
            [Word, Word, Word, Punct("=="), Str("a\"b".into())]
        );
        assert_eq!(
            kinds("rand(1ms,-2)"),
            [Word, Punct("("), Word, Punct(","), Word, Punct(")")]
        );
        assert_eq!(kinds("\"ab"), [Unterminated]);
        assert!(matches!(kinds("\"a\\qb\"")[..], [Invalid(..)]));
    }

    #[test]
    fn indentation_comments_and_content_end() {
        let lines = lex("main:\n  \tlog a # \"b\"  \r\n\"#\" x");
        assert_eq!(lines.len(), 3);
        assert_eq!(
            (lines[1].indent, lines[1].tab_in_indent),
            (3, Some(Span::new(8, 9)))
        );
        assert_eq!(
            lines[1]
                .comment
                .map(|c| c.slice("main:\n  \tlog a # \"b\"  \r\n")),
            Some("# \"b\"")
        );
        assert_eq!(lines[1].content_end, 14);
        assert_eq!(lines[2].comment, None);
        assert_eq!(lines[2].tokens.len(), 2);
    }

    /// A small linear congruential generator: deterministic "random" bytes
    /// without a dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u8 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 56) as u8
        }
    }

    #[test]
    fn newlines_are_found_eight_bytes_at_a_time_as_one_by_one() {
        let mut rng = Lcg(7);
        for _ in 0..2000 {
            let len = usize::from(rng.next() % 40);
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.next() % 8 {
                    0 => b'\n',
                    1 => 0x0b,
                    2 => 0x8a,
                    3 => 0x09,
                    _ => rng.next(),
                })
                .collect();
            let expected = bytes.iter().position(|&b| b == b'\n');
            assert_eq!(find_newline(&bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn a_body_ahead_counts_its_indented_code_lines() {
        let source = "main:\n    a\n\n  # c\n# d\n\t\tb x\n   \r\n    c\nmain:\n    d\n";
        let mut lexer = Lexer::new(source);
        let mut line = Line::default();
        assert!(lexer.next_line(&mut line));
        assert_eq!(lexer.indented_lines_ahead(), 3);
        assert_eq!(Lexer::new("").indented_lines_ahead(), 0);
        assert_eq!(Lexer::new("   ").indented_lines_ahead(), 0);
        assert_eq!(Lexer::new("  x").indented_lines_ahead(), 1);
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        const ALPHABET: &[u8] = b" \t\n\r#\"\\n():,=-.0123456789abcdefsmu\xc3\xa9\xe2\x82\xac";
        let mut rng = Lcg(42);
        for round in 0..5000 {
            let len = usize::from(rng.next() % 64);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let b = rng.next();
                    if round % 2 == 0 {
                        ALPHABET[usize::from(b) % ALPHABET.len()]
                    } else {
                        b
                    }
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            for line in lex(&text) {
                for token in &line.tokens {
                    assert!(token.span.start < token.span.end && token.span.end <= text.len());
                    let _ = token.span.slice(&text);
                }
                assert!(line.content_end <= line.span.end);
            }
        }
    }
}
