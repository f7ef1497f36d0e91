//! The canonical form of a scenario.
//!
//! Header settings in a fixed order (`seed`, `tie_break`, `jitter`,
//! `start_time`, `max_iterations`), then the blocks in file order, then
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

use super::ast::{Block, BlockKind, Body, Comment, Name, Scenario, Stmt, StmtKind, Trivia};
use crate::value::quote;

const INDENT: &str = "    ";

/// The canonical text of `scenario`.
pub fn print(scenario: &Scenario) -> String {
    let mut out = String::new();
    comments(&mut out, &scenario.file_comments, "");
    if !scenario.file_comments.is_empty() {
        out.push('\n');
    }
    let h = &scenario.header;
    let settings = [
        h.seed
            .as_ref()
            .map(|s| ("seed", s.value.to_string(), &s.trivia)),
        h.tie_break
            .as_ref()
            .map(|s| ("tie_break", s.value.to_string(), &s.trivia)),
        h.jitter
            .as_ref()
            .map(|s| ("jitter", s.value.text.clone(), &s.trivia)),
        h.start_time
            .as_ref()
            .map(|s| ("start_time", s.value.text.clone(), &s.trivia)),
        h.max_iterations
            .as_ref()
            .map(|s| ("max_iterations", s.value.to_string(), &s.trivia)),
    ];
    let mut previous: Option<&Block> = None;
    let mut any_setting = false;
    for (key, value, trivia) in settings.into_iter().flatten() {
        line(&mut out, "", &format!("{key} {value}"), trivia);
        any_setting = true;
    }
    for block in &scenario.blocks {
        let both_futures = previous.is_some_and(|p| p.kind == BlockKind::Future)
            && block.kind == BlockKind::Future;
        if (previous.is_some() || any_setting) && !both_futures {
            out.push('\n');
        }
        let head = match &block.kind {
            BlockKind::Future => format!("future {}", block.name.text),
            kind => format!("{} {}:", kind.keyword(), block.name.text),
        };
        line(&mut out, "", &head, &block.trivia);
        if let Some(b) = block.kind.body() {
            body(&mut out, b);
        }
        previous = Some(block);
    }
    if previous.is_some() || any_setting {
        out.push('\n');
    }
    line(&mut out, "", "main:", &scenario.main.trivia);
    body(&mut out, &scenario.main.body);
    if !scenario.trailing_comments.is_empty() {
        out.push('\n');
        comments(&mut out, &scenario.trailing_comments, "");
    }
    out
}

fn comments(out: &mut String, comments: &[Comment], indent: &str) {
    for c in comments {
        let _ = writeln!(out, "{indent}{}", c.text);
    }
}

/// The leading comments, then `text` with its trailing comment.
fn line(out: &mut String, indent: &str, text: &str, trivia: &Trivia) {
    comments(out, &trivia.leading, indent);
    match &trivia.trailing {
        Some(c) => {
            let _ = writeln!(out, "{indent}{text}  {}", c.text);
        }
        None => {
            let _ = writeln!(out, "{indent}{text}");
        }
    }
}

fn body(out: &mut String, body: &Body) {
    for s in &body.stmts {
        line(out, INDENT, &stmt(s), &s.trivia);
    }
    comments(out, &body.trailing_comments, INDENT);
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
        StmtKind::Return(v) => format!("return {v}"),
        StmtKind::RunForever => "run_forever".into(),
        StmtKind::RunUntilComplete(x) => format!("run_until_complete {}", x.text),
        StmtKind::NewEventLoop(x) => format!("new_event_loop {}", x.text),
        StmtKind::SetEventLoop(x) => format!("set_event_loop {}", x.text),
    }
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

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    /// The AST's debug form with every span (`@12..15`) removed.
    fn without_spans(scenario: &Scenario) -> String {
        let dump = format!("{scenario:#?}");
        let mut out = String::new();
        let mut rest = dump.as_str();
        while let Some(at) = rest.find('@') {
            out.push_str(&rest[..at]);
            rest = rest[at + 1..].trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        }
        out + rest
    }

    /// Asserts the printer's laws on `source` and returns the printed form.
    fn check_fixpoint(source: &str) -> String {
        let first = parse("t.scn", source).expect("source parses");
        let printed = print(&first);
        let second = parse("t.scn", &printed)
            .unwrap_or_else(|e| panic!("printed form parses: {e:?}\n{printed}"));
        assert_eq!(without_spans(&first), without_spans(&second), "{printed}");
        assert_eq!(print(&second), printed, "print is idempotent");
        printed
    }

    const RICH: &str = r#"# A file comment.
# Second line.

# About jitter.
jitter   2ms   # trailing
seed 7
tie_break heapq
max_iterations 100
start_time -1.50

main:
  # before create
  create_task   worker as w1  # named
  call_later rand( 1ms ,2ms) tick as h
  call_at 1.5 tick
  run_until_complete w1
  check   not done   w1
  check result f == "a  b\n"
  check time == 1.5
  set_result f
  set_exception f  bad   thing
  log "quoted # not a comment"
  log say "hi" there
  log "  padded "
  new_event_loop other
  set_event_loop other
  set_event_loop main
  cancel h
  # end of main

callback tick:
    log tick
    add_done_callback w1 tick
    stop
    close
    raise "boom"
future f
future g  # second
task worker:
    sleep 0.25
    yield
    await g
    return -42
callback empty:
    # nothing here yet

# trailing comment
"#;

    #[test]
    fn printer_reaches_a_fixpoint() {
        let printed = check_fixpoint(RICH);
        insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("printer_rich", printed);
        });
        check_fixpoint("main:\n");
        check_fixpoint("seed 1\nmain:\n    log x\n");
        check_fixpoint("jitter 1\n# about seed\nseed 2\nmain:\n    run_forever\n");
        check_fixpoint("main:\n    log a\n    # indented end\n# column zero\n");
    }
}
