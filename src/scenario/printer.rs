//! The canonical form of a scenario.
//!
//! Header settings in a fixed order (`python`, `seed`, `tie_break`, `jitter`,
//! `start_time`, `max_iterations`, `expect`), then the blocks in file order, then
//! `main:`; a blank line between blocks (none between consecutive
//! futures); bodies indented by 4 spaces; one space between tokens; a
//! trailing comment two spaces after its statement.
//!
//! What a trace shows is printed as written: duration literals (`1.50`
//! stays `1.50`) and `check` conditions. Text is printed bare when reading
//! it back bare gives the same text, otherwise quoted with
//! [`crate::value::quote`]. Comments stay with the line they were attached
//! to. `parse(print(s))` equals `s` up to spans, and `print` is idempotent.

use std::fmt::Write;

use super::ast::{
    return_when_keyword, Block, BlockKind, Body, Comments, Name, Scenario, Stmt, StmtKind, Trivia,
};
use crate::value::quote;

const INDENT: &str = "    ";

/// The canonical text of `scenario`.
pub fn print(scenario: &Scenario) -> String {
    let mut out = String::new();
    comments(&mut out, scenario, scenario.file_comments, "");
    if !scenario.file_comments.is_empty() {
        out.push('\n');
    }
    let h = &scenario.header;
    let settings = [
        h.python
            .as_ref()
            .map(|s| ("python", s.value.to_string(), &s.trivia)),
        h.seed
            .as_ref()
            .map(|s| ("seed", s.value.to_string(), &s.trivia)),
        h.tie_break
            .as_ref()
            .map(|s| ("tie_break", s.value.to_string(), &s.trivia)),
        h.jitter
            .as_ref()
            .map(|s| ("jitter", s.value.text.to_string(), &s.trivia)),
        h.start_time
            .as_ref()
            .map(|s| ("start_time", s.value.text.to_string(), &s.trivia)),
        h.max_iterations
            .as_ref()
            .map(|s| ("max_iterations", s.value.to_string(), &s.trivia)),
        h.max_events
            .as_ref()
            .map(|s| ("max_events", s.value.to_string(), &s.trivia)),
        h.max_callbacks
            .as_ref()
            .map(|s| ("max_callbacks", s.value.to_string(), &s.trivia)),
        h.max_pending
            .as_ref()
            .map(|s| ("max_pending", s.value.to_string(), &s.trivia)),
        h.expect
            .as_ref()
            .map(|s| ("expect", s.value.as_str().to_string(), &s.trivia)),
    ];
    let mut previous: Option<&Block> = None;
    let mut any_setting = false;
    for (key, value, trivia) in settings.into_iter().flatten() {
        line(&mut out, scenario, "", &format!("{key} {value}"), trivia);
        any_setting = true;
    }
    for block in &scenario.blocks {
        let both_declarations =
            previous.is_some_and(|p| p.kind.is_declaration()) && block.kind.is_declaration();
        if (previous.is_some() || any_setting) && !both_declarations {
            out.push('\n');
        }
        let head = match &block.kind {
            BlockKind::Future => format!("future {}", block.name.text),
            BlockKind::Primitive(p) => match p.argument() {
                Some(arg) => format!("{} {} {arg}", p.keyword(), block.name.text),
                None => format!("{} {}", p.keyword(), block.name.text),
            },
            kind => format!("{} {}:", kind.keyword(), block.name.text),
        };
        line(&mut out, scenario, "", &head, &block.trivia);
        if let Some(b) = block.kind.body() {
            body(&mut out, scenario, b);
        }
        previous = Some(block);
    }
    if previous.is_some() || any_setting {
        out.push('\n');
    }
    line(&mut out, scenario, "", "main:", &scenario.main.trivia);
    body(&mut out, scenario, &scenario.main.body);
    if !scenario.trailing_comments.is_empty() {
        out.push('\n');
        comments(&mut out, scenario, scenario.trailing_comments, "");
    }
    out
}

fn comments(out: &mut String, scenario: &Scenario, comments: Comments, indent: &str) {
    for c in scenario.comment_lines(comments) {
        let _ = writeln!(out, "{indent}{c}");
    }
}

/// The leading comments, then `text` with its trailing comment.
fn line(out: &mut String, scenario: &Scenario, indent: &str, text: &str, trivia: &Trivia) {
    if trivia.is_empty() {
        let _ = writeln!(out, "{indent}{text}");
        return;
    }
    comments(out, scenario, trivia.leading(), indent);
    match scenario.comment_lines(trivia.trailing()).next() {
        Some(c) => {
            let _ = writeln!(out, "{indent}{text}  {c}");
        }
        None => {
            let _ = writeln!(out, "{indent}{text}");
        }
    }
}

fn body(out: &mut String, scenario: &Scenario, body: &Body) {
    for s in &body.stmts {
        line(out, scenario, INDENT, &stmt(s), &s.trivia);
    }
    comments(out, scenario, body.trailing_comments, INDENT);
}

/// One statement, without indentation or comments.
fn stmt(s: &Stmt) -> String {
    let alias = |n: &Option<Name>| {
        n.as_ref()
            .map_or(String::new(), |n| format!(" as {}", n.text))
    };
    match &s.kind {
        StmtKind::Log(t) => format!("log {}", text(t)),
        StmtKind::CallSoon { cb, handle } => format!("call_soon {}{}", cb.text, alias(handle)),
        StmtKind::CallLater { delay, cb, handle } => {
            format!("call_later {} {}{}", delay.text(), cb.text, alias(handle))
        }
        StmtKind::CallAt { when, cb, handle } => {
            format!("call_at {} {}{}", when.text(), cb.text, alias(handle))
        }
        StmtKind::CreateTask { task, name } => format!("create_task {}{}", task.text, alias(name)),
        StmtKind::Cancel(x) => format!("cancel {}", x.text),
        StmtKind::SetResult { fut, value: None } => format!("set_result {}", fut.text),
        StmtKind::SetResult {
            fut,
            value: Some(v),
        } => format!("set_result {} {v}", fut.text),
        StmtKind::SetException { fut, text: t } => {
            format!("set_exception {} {}", fut.text, text(t))
        }
        StmtKind::AddDoneCallback { target, cb } => {
            format!("add_done_callback {} {}", target.text, cb.text)
        }
        StmtKind::Stop => "stop".into(),
        StmtKind::Close => "close".into(),
        StmtKind::Raise(t) => format!("raise {}", text(t)),
        StmtKind::Check { text, .. } => format!("check {text}"),
        StmtKind::Sleep(d) => format!("sleep {}", d.text()),
        StmtKind::Yield => "yield".into(),
        StmtKind::Await(x) => format!("await {}", x.text),
        StmtKind::WaitFor { target, timeout } => {
            format!("wait_for {} {}", target.text, timeout.text())
        }
        StmtKind::Return(v) => format!("return {v}"),
        StmtKind::RunForever => "run_forever".into(),
        StmtKind::RunUntilComplete(x) => format!("run_until_complete {}", x.text),
        StmtKind::NewEventLoop(x) => format!("new_event_loop {}", x.text),
        StmtKind::SetEventLoop(x) => format!("set_event_loop {}", x.text),
        StmtKind::Notify { cond, n: None } => format!("notify {}", cond.text),
        StmtKind::Notify { cond, n: Some(n) } => format!("notify {} {n}", cond.text),
        StmtKind::PutNowait { queue, value } => format!("put_nowait {} {value}", queue.text),
        StmtKind::Put { queue, value } => format!("put {} {value}", queue.text),
        StmtKind::Try(body) => format!("try {}", stmt(body)),
        StmtKind::Timeout { delay, body } => format!("timeout {} {}", delay.text(), stmt(body)),
        StmtKind::TimeoutAt { when, body } => {
            format!("timeout_at {} {}", when.text(), stmt(body))
        }
        StmtKind::Shield(x) => format!("shield {}", x.text),
        StmtKind::Gather {
            targets,
            return_exceptions,
        } => {
            let flag = if *return_exceptions {
                " return_exceptions"
            } else {
                ""
            };
            format!("gather {}{flag}", names(targets))
        }
        StmtKind::WaitTasks {
            targets,
            timeout,
            return_when,
        } => {
            let mut line = format!("wait {}", names(targets));
            if let Some(d) = timeout {
                line += &format!(" timeout {}", d.text());
            }
            if let Some(w) = return_when {
                line += &format!(" return_when {}", return_when_keyword(*w));
            }
            line
        }
        StmtKind::TaskGroup(children) => format!("task_group {}", names(children)),
        other => {
            let (keyword, x) = other.keyword_and_target().expect("a one-name statement");
            format!("{keyword} {}", x.text)
        }
    }
}

/// Names separated by one space.
fn names(names: &[Name]) -> String {
    let texts: Vec<&str> = names.iter().map(|n| &*n.text).collect();
    texts.join(" ")
}

/// Text bare if it reads back bare as itself, quoted otherwise.
fn text(t: &str) -> String {
    let bare = !t.is_empty()
        && t.trim() == t
        && !t.contains(['#', '"'])
        && !t.chars().any(char::is_control);
    if bare {
        t.to_string()
    } else {
        quote(t)
    }
}
