//! Statements: one line of a body, from its keyword to its end.
//!
//! ```text
//! stmt = "log" TEXT | "raise" TEXT
//!      | ("call_soon" | "call_later" DUR | "call_at" DUR) NAME ["as" NAME]
//!      | "create_task" NAME ["as" NAME] | "cancel" NAME
//!      | "set_result" NAME [VALUE] | "set_exception" NAME TEXT
//!      | "add_done_callback" NAME NAME | "check" ["not"] COND
//!      | "sleep" DUR | "await" NAME | "wait_for" NAME DUR | "return" VALUE
//!      | "stop" | "close" | "yield" | "run_forever"
//!      | ("run_until_complete" | "new_event_loop" | "set_event_loop") NAME
//!      | ("set" | "clear" | "release" | "notify_all" | "get_nowait" | "task_done") NAME
//!      | "notify" NAME [INTEGER] | ("put_nowait" | "put") NAME VALUE
//!      | ("wait" | "acquire" | "get" | "join" | "abort" | "reset") NAME
//!      | "try" stmt | ("timeout" | "timeout_at") DUR stmt | "shield" NAME
//!      | "gather" NAME+ ["return_exceptions"]
//!      | "wait" NAME+ ["timeout" DUR] ["return_when" WHEN] | "task_group" NAME+
//! WHEN = "first_completed" | "first_exception" | "all_completed"
//! COND = "is_running" | "is_closed" | ("done" | "cancelled") NAME
//!      | "result" NAME "==" VALUE | "time" "==" DUR
//!      | ("is_set" | "locked" | "empty" | "full" | "broken") NAME | "qsize" NAME "==" INTEGER
//! ```
//!
//! Which names are allowed where (a callback, a task, ...) is the
//! resolver's job; this module only checks the shape of the line.

use super::ast::{Cond, Name, ReturnWhen, Stmt, StmtKind, Trivia};
use super::cursor::{Cursor, Parsed};
use super::diagnostic::Diagnostic;
use super::span::Span;

/// Every statement keyword, for the "unknown statement" note.
pub const KEYWORDS: &str = "log, call_soon, call_later, call_at, create_task, cancel, set_result, \
     set_exception, add_done_callback, stop, close, raise, check, sleep, yield, await, wait_for, \
     return, \
     run_forever, run_until_complete, new_event_loop, set_event_loop, set, clear, release, notify, \
     notify_all, put_nowait, get_nowait, task_done, wait, acquire, put, get, join, abort, reset, \
     try, timeout, timeout_at, shield, gather, task_group";

/// Parses the statement at the cursor, up to the end of the line.
pub fn parse_stmt(c: &mut Cursor) -> Parsed<StmtKind> {
    let (keyword, span) = c.word("a statement")?;
    let kind = match keyword {
        "log" => StmtKind::Log(c.text("the text to log")?.into()),
        "raise" => StmtKind::Raise(c.text("the exception's text")?),
        "call_soon" => StmtKind::CallSoon {
            cb: c.name("a callback name")?,
            handle: c.alias("a handle name")?,
        },
        "call_later" => StmtKind::CallLater {
            delay: c.dur()?,
            cb: c.name("a callback name")?,
            handle: c.alias("a handle name")?,
        },
        "call_at" => StmtKind::CallAt {
            when: c.dur()?,
            cb: c.name("a callback name")?,
            handle: c.alias("a handle name")?,
        },
        "create_task" => StmtKind::CreateTask {
            task: c.name("a task name")?,
            name: c.alias("a name for the task")?,
        },
        "cancel" => StmtKind::Cancel(c.name("a handle, task or future name")?),
        "set_result" => StmtKind::SetResult {
            fut: c.name("a future name")?,
            value: if c.at_end() { None } else { Some(c.value()?) },
        },
        "set_exception" => StmtKind::SetException {
            fut: c.name("a future name")?,
            text: c.text("the exception's text")?,
        },
        "add_done_callback" => StmtKind::AddDoneCallback {
            target: c.name("a task or future name")?,
            cb: c.name("a callback name")?,
        },
        "check" => check(c)?,
        "sleep" => StmtKind::Sleep(c.dur()?),
        "await" => StmtKind::Await(c.name("a task or future name")?),
        "wait_for" => StmtKind::WaitFor {
            target: c.name("a task or future name")?,
            timeout: c.dur()?,
        },
        "return" => StmtKind::Return(c.value()?),
        "stop" => StmtKind::Stop,
        "close" => StmtKind::Close,
        "yield" => StmtKind::Yield,
        "run_forever" => StmtKind::RunForever,
        "run_until_complete" => StmtKind::RunUntilComplete(c.name("a task or future name")?),
        "new_event_loop" => StmtKind::NewEventLoop(c.name("a name for the new loop")?),
        "set_event_loop" => StmtKind::SetEventLoop(c.name("a loop name")?),
        "set" => StmtKind::Set(c.name("an event name")?),
        "clear" => StmtKind::Clear(c.name("an event name")?),
        "release" => StmtKind::Release(c.name("a lock, semaphore or condition name")?),
        "notify" => StmtKind::Notify {
            cond: c.name("a condition name")?,
            n: if c.at_end() {
                None
            } else {
                Some(c.count("how many to wake (an integer)")?)
            },
        },
        "notify_all" => StmtKind::NotifyAll(c.name("a condition name")?),
        "put_nowait" => StmtKind::PutNowait {
            queue: c.name("a queue name")?,
            value: c.value()?,
        },
        "get_nowait" => StmtKind::GetNowait(c.name("a queue name")?),
        "task_done" => StmtKind::TaskDone(c.name("a queue name")?),
        "wait" => wait(c)?,
        "acquire" => StmtKind::Acquire(c.name("a lock, semaphore or condition name")?),
        "put" => StmtKind::Put {
            queue: c.name("a queue name")?,
            value: c.value()?,
        },
        "get" => StmtKind::Get(c.name("a queue name")?),
        "join" => StmtKind::Join(c.name("a queue name")?),
        "abort" => StmtKind::Abort(c.name("a barrier name")?),
        "reset" => StmtKind::Reset(c.name("a barrier name")?),
        "try" => StmtKind::Try(nested(c, "try")?),
        "timeout" => StmtKind::Timeout {
            delay: c.dur()?,
            body: nested(c, "timeout DUR")?,
        },
        "timeout_at" => StmtKind::TimeoutAt {
            when: c.dur()?,
            body: nested(c, "timeout_at TIME")?,
        },
        "shield" => StmtKind::Shield(c.name("a task or future name")?),
        "gather" => gather(c)?,
        "task_group" => StmtKind::TaskGroup(names(c, "a task name", &[])?),
        other => {
            let note = match other {
                "callback" | "task" | "future" | "main" => {
                    "blocks are not nested: write the block line at column 1".to_string()
                }
                _ => format!("the statements are: {KEYWORDS}"),
            };
            return Err(
                Diagnostic::error(span, format!("unknown statement `{other}`"))
                    .with_label("expected a statement")
                    .with_note(note),
            );
        }
    };
    c.end(format_args!("`{keyword}` and its arguments"))?;
    Ok(kind)
}

/// `wait X`: one event, condition, barrier, task or future (which, the
/// resolver knows); `wait X Y ... [timeout D] [return_when W]`:
/// `asyncio.wait` over tasks or futures. The options come in either order,
/// each at most once.
fn wait(c: &mut Cursor) -> Parsed<StmtKind> {
    let targets = names(
        c,
        "an event, condition, barrier, task or future name",
        OPTIONS,
    )?;
    let (mut timeout, mut return_when) = (None, None);
    const AFTER: &str = "`timeout DUR`, `return_when ...` or the end of the line";
    while !c.at_end() {
        let (word, span) = c.word(AFTER)?;
        match word {
            "timeout" if timeout.is_none() => timeout = Some(c.dur()?),
            "return_when" if return_when.is_none() => {
                let (w, wspan) = c.word(RETURN_WHEN)?;
                return_when = Some(match w {
                    "first_completed" => ReturnWhen::FirstCompleted,
                    "first_exception" => ReturnWhen::FirstException,
                    "all_completed" => ReturnWhen::AllCompleted,
                    _ => {
                        return Err(Diagnostic::error(
                            wspan,
                            format!("expected {RETURN_WHEN}, found `{w}`"),
                        )
                        .with_label("unknown `return_when`"))
                    }
                });
            }
            "timeout" | "return_when" => {
                return Err(Diagnostic::error(span, format!("`{word}` given twice"))
                    .with_label("given again here"))
            }
            _ => {
                return Err(
                    Diagnostic::error(span, format!("expected {AFTER}, found `{word}`"))
                        .with_label("unexpected"),
                )
            }
        }
    }
    if targets.len() == 1 && timeout.is_none() && return_when.is_none() {
        let target = targets.into_iter().next().expect("one name");
        return Ok(StmtKind::Wait(target));
    }
    Ok(StmtKind::WaitTasks {
        targets,
        timeout,
        return_when,
    })
}

/// The words after the names of `wait`.
const OPTIONS: &[&str] = &["timeout", "return_when"];

const RETURN_WHEN: &str = "`first_completed`, `first_exception` or `all_completed`";

/// `gather X Y ... [return_exceptions]`.
fn gather(c: &mut Cursor) -> Parsed<StmtKind> {
    let targets = names(c, "a task or future name", &["return_exceptions"])?;
    let return_exceptions = c.eat_keyword("return_exceptions");
    Ok(StmtKind::Gather {
        targets,
        return_exceptions,
    })
}

/// One name or more, up to the end of the line or one of the words `stop`.
fn names(c: &mut Cursor, what: &str, stop: &[&str]) -> Parsed<Vec<Name>> {
    let mut out = vec![c.name(what)?];
    while !c.at_end() && !stop.iter().any(|w| c.at_keyword(w)) {
        out.push(c.name(what)?);
    }
    Ok(out)
}

/// The statement after `try`, `timeout DUR` or `timeout_at TIME`, up to
/// the end of the line (`after` names what comes before it, for messages).
fn nested(c: &mut Cursor, after: &str) -> Parsed<Box<Stmt>> {
    if c.at_end() {
        return Err(c
            .expected(&format!("a statement after `{after}`"))
            .with_note(format!(
                "`{after} STMT` runs one statement, on the same line"
            )));
    }
    let start = c.here().start;
    let kind = parse_stmt(c)?;
    Ok(Box::new(Stmt {
        kind,
        span: Span::new(start, c.last_end()),
        trivia: Trivia::default(),
    }))
}

/// What a condition looks like, for messages.
const CONDITION: &str =
    "a condition (`is_running`, `is_closed`, `done X`, `cancelled X`, `result X == VALUE`, `time == T`, \
     `is_set E`, `locked X`, `empty Q`, `full Q`, `qsize Q == N` or `broken B`)";

/// `check [not] COND`; the condition's text is kept as written.
fn check(c: &mut Cursor) -> Parsed<StmtKind> {
    let start = c.here().start;
    let negated = c.eat_keyword("not");
    let (word, word_span) = c.word(CONDITION)?;
    let cond = match word {
        "is_running" => Cond::IsRunning,
        "is_closed" => Cond::IsClosed,
        "done" => Cond::Done(c.name("a task or future name")?),
        "cancelled" => Cond::Cancelled(c.name("a task or future name")?),
        "result" => {
            let name = c.name("a task or future name")?;
            c.punct("==", "after the name")?;
            Cond::Result(name, c.value()?)
        }
        "time" => {
            c.punct("==", "after `time`")?;
            Cond::Time(c.dur()?)
        }
        "is_set" => Cond::IsSet(c.name("an event name")?),
        "locked" => Cond::Locked(c.name("a lock, semaphore or condition name")?),
        "empty" => Cond::Empty(c.name("a queue name")?),
        "full" => Cond::Full(c.name("a queue name")?),
        "broken" => Cond::Broken(c.name("a barrier name")?),
        "qsize" => {
            let queue = c.name("a queue name")?;
            c.punct("==", "after the queue name")?;
            Cond::Qsize(queue, c.count("a size (an integer)")?)
        }
        _ => {
            return Err(Diagnostic::error(
                word_span,
                format!("expected {CONDITION}, found `{word}`"),
            )
            .with_label("unknown condition"))
        }
    };
    let text = collapse_whitespace(c.text_of(Span::new(start, c.last_end())));
    Ok(StmtKind::Check {
        negated,
        cond,
        text,
    })
}

/// `text` with each run of whitespace outside double quotes replaced by one
/// space. Quoted strings (with their escapes) are kept as they are.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut quoted, mut escaped, mut space) = (false, false, false);
    for ch in text.trim().chars() {
        if !quoted && ch.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(ch);
        match ch {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_collapses_outside_quotes_only() {
        assert_eq!(collapse_whitespace("  not   done\tt1 "), "not done t1");
        assert_eq!(
            collapse_whitespace("result f ==  \"a  \\\"  b\""),
            "result f == \"a  \\\"  b\""
        );
    }
}
