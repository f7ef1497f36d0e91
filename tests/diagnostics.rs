//! Every malformed scenario in `tests/malformed/` is rejected with
//! diagnostics that point at the mistake; the rendered text is snapshotted.

use std::path::Path;

use loopsim::scenario::{parse, read_and_parse, render, render_plain};

/// Parses a malformed file, asserts what every rendering must satisfy, and
/// returns the rendered diagnostics.
fn rejected(name: &str, source: &str) -> String {
    let errors = parse(name, source).expect_err("a malformed file must be rejected");
    assert!(!errors.is_empty());
    let rendered = render(name, source, &errors, false);
    // Each error names FILE:LINE:COL (1-based) right under its message.
    let mut lines = rendered.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("error") {
            let location = lines.next().expect("a location line follows the message");
            assert!(
                location.trim_start().starts_with(&format!("--> {name}:")),
                "{location}"
            );
        }
    }
    assert_eq!(
        rendered.matches("\nerror").count() + 1,
        errors.len(),
        "one message per error"
    );
    assert!(!rendered.contains('\x1b'), "no colour unless asked");
    // The lean library's renderer gives the same text as codespan's.
    assert_eq!(render_plain(name, source, &errors), rendered);
    rendered
}

/// Every shipped scenario with one line broken at a time: the plain
/// renderer and codespan's agree on each error (related spans, gaps of one
/// line and of more, notes, wide line numbers).
#[test]
fn the_plain_renderer_matches_codespan() {
    let mut compared = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            for broken in [
                format!("{line} ???"),
                line.replace("sleep", "sleeep"),
                line.replacen(' ', "\t", 1),
                format!("{line}:"),
            ] {
                let mut edited = lines.clone();
                edited[i] = &broken;
                let edited = edited.join("\n") + "\n";
                if let Err(errors) = parse("x.scn", &edited) {
                    assert_eq!(
                        render_plain("x.scn", &edited, &errors),
                        render("x.scn", &edited, &errors, false),
                        "{edited}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 100, "{compared}");
}

#[test]
fn malformed_files_are_reported() {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::glob!("malformed/*.scn", |path| {
            let source = std::fs::read_to_string(path).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap();
            insta::assert_snapshot!(rejected(name, &source));
        });
    });
}

#[cfg(feature = "cli")]
#[test]
fn colour_is_opt_in() {
    let source = "main:\n    call_soon tock\n";
    let errors = parse("c.scn", source).unwrap_err();
    assert!(render("c.scn", source, &errors, true).contains('\x1b'));
}

#[test]
fn invalid_utf8_points_at_the_first_bad_byte() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("invalid_utf8.scn");
    std::fs::write(&path, b"main:\n    log caf\xc3\xa9 \xff\xfe ok\n").unwrap();
    let rendered = read_and_parse(&path, false).unwrap_err();
    let rendered = rendered.replace(&dir.display().to_string(), "[tmp]");
    assert!(
        rendered.contains("--> [tmp]/invalid_utf8.scn:2:14"),
        "{rendered}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn missing_file_is_reported() {
    let rendered = read_and_parse(Path::new("tests/no-such-file.scn"), false).unwrap_err();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn a_good_file_reads_back() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("good.scn");
    std::fs::write(&path, "main:\n    run_forever\n").unwrap();
    let (source, scenario) = read_and_parse(&path, false).unwrap();
    assert_eq!(source, "main:\n    run_forever\n");
    assert_eq!(scenario.main.body.stmts.len(), 1);
}
