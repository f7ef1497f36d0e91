//! Header settings: the optional lines before the first block.
//!
//! ```text
//! python 3.11          whose asyncio: 3.11 | 3.12 | 3.13 (default 3.12)
//! seed 42              an integer from 0 to 2^64 - 1
//! tie_break fifo       fifo | random | heapq
//! jitter 2ms           a duration literal, not negative
//! start_time 100       a duration literal
//! max_iterations 1000  an integer from 0 to 2^64 - 1
//! max_events 5000      an integer from 0 to 2^64 - 1
//! max_callbacks 5000   an integer from 0 to 2^64 - 1
//! max_pending 100      an integer from 0 to 2^64 - 1
//! expect fail          the run fails on purpose (for `loopsim check`)
//! ```
//!
//! Each may be given once. `rand(A, B)` is not allowed here: a header value
//! is fixed before anything runs.

use super::ast::{Expect, Header, Setting, Trivia};
use super::cursor::{Cursor, Parsed};
use super::diagnostic::Diagnostic;
use super::span::Span;

/// The setting names, in the order the printer writes them.
pub const KEYS: [&str; 10] = [
    "python",
    "seed",
    "tie_break",
    "jitter",
    "start_time",
    "max_iterations",
    "max_events",
    "max_callbacks",
    "max_pending",
    "expect",
];

/// Reads the value of setting `key` (the cursor is just after the key) and
/// stores it in `header`. `span` is the whole line, `trivia` its comments.
pub fn parse_setting(
    header: &mut Header,
    key: &str,
    c: &mut Cursor,
    span: Span,
    trivia: Trivia,
) -> Parsed<()> {
    let end = |c: &Cursor| c.end(format_args!("the `{key}` setting"));
    match key {
        "seed" => {
            let seed = integer(c, "a seed (an integer from 0 to 2^64 - 1)")?;
            end(c)?;
            store(&mut header.seed, key, span, trivia, seed)
        }
        "max_iterations" => {
            let budget = integer(c, "a number of iterations (an integer from 0 to 2^64 - 1)")?;
            end(c)?;
            store(&mut header.max_iterations, key, span, trivia, budget)
        }
        "python" => {
            let (text, word) = c.word("a Python version (`3.11`, `3.12` or `3.13`)")?;
            let version = text.parse().map_err(|message: String| {
                Diagnostic::error(word, message).with_label("unsupported version")
            })?;
            end(c)?;
            store(&mut header.python, key, span, trivia, version)
        }
        "max_events" | "max_callbacks" | "max_pending" => {
            let what = &key["max_".len()..];
            let budget = integer(
                c,
                &format!("a number of {what} (an integer from 0 to 2^64 - 1)"),
            )?;
            end(c)?;
            let slot = match key {
                "max_events" => &mut header.max_events,
                "max_callbacks" => &mut header.max_callbacks,
                _ => &mut header.max_pending,
            };
            store(slot, key, span, trivia, budget)
        }
        "tie_break" => {
            let (text, word) = c.word("a tie-break policy (`fifo`, `random` or `heapq`)")?;
            let policy = text.parse().map_err(|message: String| {
                Diagnostic::error(word, message).with_label("unknown policy")
            })?;
            end(c)?;
            store(&mut header.tie_break, key, span, trivia, policy)
        }
        "expect" => {
            let (text, word) = c.word("what the run is expected to do (`fail`)")?;
            let expect = match text {
                "fail" => Expect::Fail,
                other => {
                    let message = format!("expected `fail` after `expect`, found `{other}`");
                    return Err(Diagnostic::error(word, message).with_label("unknown expectation"));
                }
            };
            end(c)?;
            store(&mut header.expect, key, span, trivia, expect)
        }
        "jitter" => {
            let jitter = c.dur_lit()?;
            if jitter.nanos < 0 {
                let message = format!("expected a jitter of 0 or more, found `{}`", jitter.text);
                return Err(Diagnostic::error(jitter.span, message).with_label("negative"));
            }
            end(c)?;
            store(&mut header.jitter, key, span, trivia, jitter)
        }
        _ => {
            let start = c.dur_lit()?;
            end(c)?;
            store(&mut header.start_time, key, span, trivia, start)
        }
    }
}

/// Stores a setting given for the first time.
fn store<T>(
    slot: &mut Option<Setting<T>>,
    key: &str,
    span: Span,
    trivia: Trivia,
    value: T,
) -> Parsed<()> {
    if let Some(first) = slot {
        return Err(
            Diagnostic::error(span, format!("duplicate header setting `{key}`"))
                .with_label("set again here")
                .with_related(first.span, "first set here"),
        );
    }
    *slot = Some(Setting {
        value,
        span,
        trivia,
    });
    Ok(())
}

/// An unsigned 64-bit integer.
fn integer(c: &mut Cursor, what: &str) -> Parsed<u64> {
    let (text, span) = c.word(what)?;
    text.parse::<u64>().map_err(|_| {
        Diagnostic::error(span, format!("expected {what}, found `{text}`"))
            .with_label("not an integer from 0 to 2^64 - 1")
    })
}
