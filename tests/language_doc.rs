//! `docs/scenario-language.md` stays true and complete: every `scn` example
//! parses and prints the trace shown under it, and every statement,
//! condition, header setting and trace event the implementation knows is
//! documented there.

use loopsim::scenario::{self, parse, RunOptions};
use loopsim::trace::{render, EventKind, Format};

const DOC: &str = include_str!("../docs/scenario-language.md");

/// The fenced blocks of the doc: (info string, body).
fn fenced_blocks(doc: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in doc.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    blocks
}

#[test]
fn every_example_parses_and_prints_the_trace_shown() {
    let blocks = fenced_blocks(DOC);
    let mut examples = 0;
    for (i, (info, source)) in blocks.iter().enumerate() {
        if info != "scn" {
            continue;
        }
        examples += 1;
        let scenario = parse("example.scn", source)
            .unwrap_or_else(|e| panic!("example {examples} does not parse: {e:?}\n{source}"));
        if let Some((next_info, expected)) = blocks.get(i + 1) {
            if next_info == "trace" {
                let outcome = scenario::run(&scenario, &RunOptions::default());
                assert_eq!(
                    &render(&outcome.trace, Format::Text),
                    expected,
                    "example {examples}:\n{source}"
                );
            }
        }
    }
    assert!(examples >= 8, "{examples} examples");
}

/// What the diagnostic for `source` lists: the items of its note (`note`),
/// or the first word of each backticked item of its message before
/// `, found`.
fn listed_in_message(source: &str, note: bool) -> Vec<String> {
    let errors = parse("probe.scn", source).unwrap_err();
    let text = scenario::render("probe.scn", source, &errors, false);
    let line = if note {
        text.lines().find(|l| l.contains("= ")).unwrap().to_string()
    } else {
        text.lines().next().unwrap().to_string()
    };
    let items: Vec<String> = if note {
        // `= the statements are: a, b, c`
        line.split_once(": ")
            .unwrap()
            .1
            .split(", ")
            .map(|s| s.trim().to_string())
            .collect()
    } else {
        let listed = line.split(", found").next().unwrap();
        listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|item| item.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert!(items.len() > 3, "{text}");
    items
}

fn documented(word: &str) -> bool {
    // In inline code: `word` or `word ARGS`.
    DOC.contains(&format!("`{word} ")) || DOC.contains(&format!("`{word}`"))
}

#[test]
fn every_statement_the_parser_accepts_is_documented() {
    // The parser's note for an unknown statement lists every statement.
    let statements = listed_in_message("main:\n    frobnicate\n", true);
    assert!(statements.contains(&"wait_for".to_string()));
    for keyword in statements {
        assert!(
            documented(&keyword),
            "statement `{keyword}` is not documented"
        );
    }
}

#[test]
fn every_condition_and_header_setting_is_documented() {
    let conditions = listed_in_message("main:\n    check frobnicated\n", false);
    assert!(conditions.contains(&"is_running".to_string()));
    for word in conditions {
        assert!(documented(&word), "condition `{word}` is not documented");
    }
    let settings = listed_in_message("frobnicate 1\nmain:\n", false);
    assert!(settings.contains(&"expect".to_string()));
    for key in settings {
        assert!(documented(&key), "header setting `{key}` is not documented");
    }
}

/// One event of every kind. The match below stops compiling when a kind is
/// added: add it here, and to the doc's table.
fn every_kind() -> Vec<EventKind> {
    use loopsim::trace::{DoneState, Driver};
    let s = |t: &str| std::rc::Rc::<str>::from(t);
    let kinds = vec![
        EventKind::Call { name: s("cb") },
        EventKind::Step { task: s("t") },
        EventKind::Log { text: s("x") },
        EventKind::Done {
            name: s("f"),
            state: DoneState::Result,
            value: None,
        },
        EventKind::Error { message: s("m") },
        EventKind::Exception {
            name: s("cb"),
            message: s("m"),
        },
        EventKind::Stop,
        EventKind::Returned {
            driver: Driver::RunForever,
            value: None,
        },
        EventKind::Idle,
        EventKind::Budget {
            reason: loopsim::event_loop::Budget::Iterations,
        },
        EventKind::CheckFailed { cond: s("c") },
        EventKind::InvariantViolated {
            invariant: s("i"),
            message: s("m"),
        },
        EventKind::Got {
            queue: s("q"),
            value: loopsim::Value::Int(1),
        },
        EventKind::Caught { message: s("m") },
    ];
    for kind in &kinds {
        match kind {
            EventKind::Call { .. }
            | EventKind::Step { .. }
            | EventKind::Log { .. }
            | EventKind::Done { .. }
            | EventKind::Error { .. }
            | EventKind::Exception { .. }
            | EventKind::Stop
            | EventKind::Returned { .. }
            | EventKind::Idle
            | EventKind::Budget { .. }
            | EventKind::CheckFailed { .. }
            | EventKind::InvariantViolated { .. }
            | EventKind::Got { .. }
            | EventKind::Caught { .. } => {}
        }
    }
    kinds
}

#[test]
fn every_trace_event_is_documented_with_its_fields() {
    for kind in every_kind() {
        let name = kind.name();
        let row = DOC
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for the event `{name}`"));
        for (field, _) in kind.fields() {
            assert!(
                row.contains(&format!("`{field}`")),
                "`{name}` lacks `{field}`: {row}"
            );
        }
    }
}

#[test]
fn docs_name_no_path_outside_the_repository_and_are_linked() {
    let mut docs: Vec<String> = ["README.md", "DESIGN.md", "conformance/README.md"]
        .map(String::from)
        .to_vec();
    for entry in std::fs::read_dir("docs").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path.display().to_string());
        }
    }
    let design = std::fs::read_to_string("DESIGN.md").unwrap();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        if doc.starts_with("docs/") && doc != "docs/scenario-language.md" {
            assert!(design.contains(doc.as_str()), "DESIGN.md never links {doc}");
        }
        // The first is the development machine's root, spelt in pieces so
        // that this file names no machine path itself.
        let machine_root = ["/", "work", "/"].concat();
        for outside in [machine_root.as_str(), "../shared", "SCENARIO_FORMAT"] {
            assert!(!text.contains(outside), "{doc} names `{outside}`");
        }
    }
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(readme.contains("docs/scenario-language.md"));
    let lib = std::fs::read_to_string("src/lib.rs").unwrap();
    assert!(lib.contains("docs/scenario-language.md"));
}
