//! Properties over many generated inputs (a small LCG, no dependencies):
//! the front end never panics, every well-formed file parses, and printing
//! is a fixpoint that preserves the AST.

use loopsim::scenario::ast::Comments;
use loopsim::scenario::{parse, print, render, Scenario};

/// A linear congruential generator: reproducible pseudo-random choices.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The AST's debug form with every span (`@12..15`) removed, and every
/// range of the comment text (`Comments { start: 3, end: 9 }`) replaced by
/// the comments it holds.
fn without_spans(scenario: &Scenario) -> String {
    let dump = format!("{scenario:?}");
    let text = format!(", comment_text: {:?} }}", scenario.comment_text);
    let mut dump = dump.strip_suffix(&text).expect("comment_text is last");
    let mut resolved = String::new();
    let open = "Comments { start: ";
    while let Some(at) = dump.find(open) {
        resolved.push_str(&dump[..at]);
        let (start, rest) = dump[at + open.len()..].split_once(", end: ").unwrap();
        let (end, rest) = rest.split_once(" }").unwrap();
        let (start, end) = (start.parse().unwrap(), end.parse().unwrap());
        let comments = Comments::new(start, end);
        resolved.push_str(&format!(
            "{:?}",
            comments.lines(&scenario.comment_text).collect::<Vec<_>>()
        ));
        dump = rest;
    }
    resolved.push_str(dump);
    let mut out = String::new();
    let mut rest = resolved.as_str();
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        rest = rest[at + 1..].trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    }
    out + rest
}

/// Asserts the printer's laws on a file that must parse.
fn assert_round_trip(source: &str) {
    let first = match parse("gen.scn", source) {
        Ok(s) => s,
        Err(e) => panic!("{source}\n{}", render("gen.scn", source, &e, false)),
    };
    let printed = print(&first);
    let second = match parse("gen.scn", &printed) {
        Ok(s) => s,
        Err(e) => panic!("{printed}\n{}", render("gen.scn", &printed, &e, false)),
    };
    assert_eq!(
        without_spans(&first),
        without_spans(&second),
        "{source}\n---\n{printed}"
    );
    assert_eq!(print(&second), printed, "idempotent");
}

const TEXTS: &[&str] = &[
    "hello",
    "\"quoted # not a comment\"",
    "a   b",
    "\"\\\" \\\\ \\n\"",
    "x=1 (y), z:",
    "\"\"",
];
const DURS: &[&str] = &[
    "1",
    "1.50",
    "-2",
    "250ms",
    "10us",
    "7ns",
    "0",
    "rand(1ms, 2ms)",
    "rand( 1 ,2 )",
];
const VALUES: &[&str] = &["42", "-7", "none", "\"s\"", "\"a\\nb\"", "007"];
const CALLBACKS: &[&str] = &["cb0", "cb1"];
const AWAITABLES: &[&str] = &["t0", "w1", "f0", "f1"];

/// One random statement; task-only ones only if `in_task`.
fn statement(rng: &mut Lcg, in_task: bool) -> Vec<String> {
    let cb = rng.pick(CALLBACKS);
    let x = rng.pick(AWAITABLES);
    let s = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    match rng.below(if in_task { 25 } else { 20 }) {
        0 => s(&["log", rng.pick(TEXTS)]),
        1 => s(&["call_soon", cb]),
        2 => s(&["call_soon", cb, "as", "h0"]),
        3 => s(&["call_later", rng.pick(DURS), cb]),
        4 => s(&["call_at", rng.pick(DURS), cb, "as", "h0"]),
        5 => s(&["create_task", "t0"]),
        6 => s(&["create_task", "t1", "as", "w1"]),
        7 => s(&["cancel", rng.pick(&["h0", "t0", "w1", "f0"])]),
        8 => s(&["set_result", rng.pick(&["f0", "f1"])]),
        9 => s(&["set_result", "f0", rng.pick(VALUES)]),
        10 => s(&["set_exception", "f1", rng.pick(TEXTS)]),
        11 => s(&["add_done_callback", x, cb]),
        12 => s(&[rng.pick(&["stop", "close", "run_forever"])]),
        13 => s(&["raise", rng.pick(TEXTS)]),
        14 => {
            let mut parts = if rng.chance(30) {
                s(&["check", "not"])
            } else {
                s(&["check"])
            };
            parts.extend(match rng.below(6) {
                0 => s(&["is_running"]),
                1 => s(&["is_closed"]),
                2 => s(&["done", x]),
                3 => s(&["cancelled", x]),
                4 => s(&["result", x, "==", rng.pick(VALUES)]),
                _ => s(&["time", "==", rng.pick(DURS)]),
            });
            parts
        }
        15 => s(&["run_until_complete", rng.pick(&["t0", "w1", "f1", "t1"])]),
        16 => s(&["new_event_loop", "l0"]),
        17 => s(&["set_event_loop", rng.pick(&["l0", "main"])]),
        18 | 19 => s(&["log", rng.pick(TEXTS)]),
        20 => s(&["sleep", rng.pick(DURS)]),
        21 => s(&["yield"]),
        22 => s(&["await", x]),
        23 => s(&["wait_for", x, rng.pick(DURS)]),
        _ => s(&["return", rng.pick(VALUES)]),
    }
}

fn spaces(rng: &mut Lcg) -> &'static str {
    rng.pick(&[" ", " ", "  ", "   "])
}

fn comment(rng: &mut Lcg, out: &mut String, indent: usize) {
    if rng.chance(15) {
        out.push_str(&format!(
            "{}# note {}\n",
            " ".repeat(indent),
            rng.below(100)
        ));
    }
    if rng.chance(10) {
        out.push('\n');
    }
}

fn line(rng: &mut Lcg, out: &mut String, indent: usize, parts: &[String]) {
    comment(rng, out, indent);
    out.push_str(&" ".repeat(indent));
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(spaces(rng));
        }
        out.push_str(part);
    }
    if rng.chance(20) {
        out.push_str(&format!("{}# trailing", spaces(rng)));
    }
    out.push('\n');
}

/// A random well-formed scenario.
fn scenario(rng: &mut Lcg) -> String {
    let mut out = String::new();
    if rng.chance(30) {
        out.push_str("# file comment\n\n");
    }
    let settings = [
        ["seed", "7"],
        ["tie_break", "heapq"],
        ["jitter", "2ms"],
        ["start_time", "-1.5"],
        ["max_iterations", "99"],
    ];
    for [key, value] in settings {
        if rng.chance(40) {
            line(rng, &mut out, 0, &[key.to_string(), value.to_string()]);
        }
    }
    let mut blocks = vec![
        "callback cb0:",
        "callback cb1:",
        "task t0:",
        "task t1:",
        "future f0",
        "future f1",
        "main:",
    ];
    for i in (1..blocks.len()).rev() {
        blocks.swap(i, rng.below(i + 1));
    }
    for block in blocks {
        line(
            rng,
            &mut out,
            0,
            &block.split(' ').map(String::from).collect::<Vec<_>>(),
        );
        let depth = 1 + rng.below(8);
        let mut body: Vec<Vec<String>> = (0..rng.below(5))
            .map(|_| statement(rng, block.starts_with("task")))
            .collect();
        if block == "main:" {
            for fixed in [
                "create_task t0",
                "create_task t1 as w1",
                "new_event_loop l0",
                "call_soon cb0 as h0",
            ] {
                body.insert(
                    rng.below(body.len() + 1),
                    fixed.split(' ').map(String::from).collect(),
                );
            }
        }
        if block.starts_with("future") {
            body.clear();
        }
        for stmt in body {
            line(rng, &mut out, depth, &stmt);
        }
        if block.ends_with(':') {
            comment(rng, &mut out, depth);
        }
    }
    if rng.chance(20) {
        out.push_str("\n# the end\n");
    }
    out
}

#[test]
fn well_formed_files_round_trip_through_the_printer() {
    let mut rng = Lcg(7);
    for _ in 0..2000 {
        assert_round_trip(&scenario(&mut rng));
    }
}

#[test]
fn the_front_end_never_panics_on_token_soup() {
    const WORDS: &[&str] = &[
        "main",
        ":",
        "task",
        "callback",
        "future",
        "t",
        "cb",
        "f",
        "log",
        "call_soon",
        "call_later",
        "sleep",
        "await",
        "wait_for",
        "check",
        "not",
        "done",
        "result",
        "==",
        "=",
        "time",
        "rand(",
        ")",
        ",",
        "1",
        "-1.5",
        "99999999999999",
        "250ms",
        "\"s\"",
        "\"bad\\q\"",
        "\"open",
        "#",
        "as",
        "seed",
        "tie_break",
        "heapq",
        "jitter",
        "none",
        "\t",
        "é",
        "create_task",
        "run_until_complete",
        "set_result",
        "return",
        "yield",
    ];
    let mut rng = Lcg(11);
    for _ in 0..5000 {
        let mut source = String::new();
        for _ in 0..rng.below(8) {
            source.push_str(&" ".repeat([0, 0, 4, 2, 8][rng.below(5)]));
            for _ in 0..rng.below(6) {
                source.push_str(rng.pick(WORDS));
                source.push_str(rng.pick(&[" ", "", "  "]));
            }
            source.push_str(rng.pick(&["\n", "\r\n", "\n\n"]));
        }
        match parse("soup.scn", &source) {
            Ok(scenario) => assert_round_trip(&print(&scenario)),
            Err(errors) => {
                let rendered = render("soup.scn", &source, &errors, false);
                assert!(rendered.contains("--> soup.scn:"), "{source:?}\n{rendered}");
            }
        }
    }
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
fn rich_files_reach_a_fixpoint() {
    assert_round_trip(RICH);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("printer_rich", print(&parse("rich.scn", RICH).unwrap()));
    });
    for source in [
        "main:\n",
        "seed 1\nmain:\n    log x\n",
        "jitter 1\n# about seed\nseed 2\nmain:\n    run_forever\n",
        "main:\n    log a\n    # indented end\n# column zero\n",
        "main:\r\n  log crlf  # c\r\n",
    ] {
        assert_round_trip(source);
    }
}
