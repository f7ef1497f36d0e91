//! The harness as a user meets it: a test breaks, the failure names the
//! seed, the user's own `file:line` and the command that reruns the seed,
//! and that command reproduces it. Panics in the test, in tasks and in
//! callbacks are caught; unhandled exceptions fail a seed unless allowed.

use loopsim::harness::{Harness, TestResult};
use loopsim::{sleep, Error, EventLoop, TieBreak};
use std::cell::RefCell;
use std::process::{Command, Output};
use std::rc::Rc;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs one `#[ignore]`d test of this binary, as `cargo test NAME -- --exact`
/// runs it (with `LOOPSIM_SEED` if given).
fn run_child(name: &str, seed: Option<u64>) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([name, "--exact", "--include-ignored"]);
    command
        .env_remove("LOOPSIM_SEED")
        .env("RUST_BACKTRACE", "0");
    if let Some(seed) = seed {
        command.env("LOOPSIM_SEED", seed.to_string());
    }
    command.output().unwrap()
}

/// The line of this file holding `marker`, from 1.
fn line_of(marker: &str) -> usize {
    let source = include_str!("harness.rs");
    let at = source.find(marker).expect("marker in this file");
    source[..at].matches('\n').count() + 1
}

/// Two timers due at once, and a test that wrongly assumes `a` runs
/// first: under `random` ties, some seeds break it.
fn record_order(lp: &EventLoop) -> Result<Vec<&'static str>, Error> {
    let order = Rc::new(RefCell::new(Vec::new()));
    for name in ["a", "b"] {
        let order = order.clone();
        lp.call_later(1.0, move |_| order.borrow_mut().push(name))?;
    }
    lp.run_forever()?;
    let order = order.borrow().clone();
    Ok(order)
}

/// What a user writes: a test with `Harness` and an `assert!`.
#[test]
#[ignore = "run as a child process by a_broken_assert_names_seed_rerun_line_and_place"]
fn user_flow_child() {
    Harness::from_env().run(|lp| {
        let order = record_order(lp)?;
        assert_eq!(order, ["a", "b"]); // the user's assert
        Ok(())
    });
}

/// The user's whole first hour: the test fails, the message names the
/// seed, the place of the user's `assert_eq!` and the rerun line; the
/// rerun line runs that one seed and fails the same way.
#[test]
fn a_broken_assert_names_seed_rerun_line_and_place() {
    let out = run_child("user_flow_child", None);
    assert!(!out.status.success());
    let output = text(&out);
    let place = format!("tests/harness.rs:{}:9", line_of("// the user's assert"));
    let failed = output
        .lines()
        .find(|l| l.starts_with("loopsim: seed "))
        .unwrap_or_else(|| panic!("no failure line in:\n{output}"));
    let seed: u64 = failed["loopsim: seed ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        failed.starts_with(&format!(
            "loopsim: seed {seed} failed: panicked at {place}: assertion `left == right` failed"
        )),
        "{output}"
    );
    let rerun = format!("rerun it with: LOOPSIM_SEED={seed} cargo test user_flow_child -- --exact");
    assert!(output.contains(&rerun), "{output}");
    // The final panic points at the user's `.run(` line, not into loopsim.
    let run_line = line_of("Harness::from_env().run(|lp| {");
    assert!(
        output.contains(&format!("panicked at tests/harness.rs:{run_line}:")),
        "{output}"
    );
    assert!(!output.contains("src/harness"), "{output}");

    // The rerun line: that seed alone, the same failure.
    let again = run_child("user_flow_child", Some(seed));
    assert!(!again.status.success());
    let again = text(&again);
    assert!(again.contains(failed), "{again}");
    assert!(again.contains(&rerun), "{again}");
}

#[test]
#[ignore = "run by harness_from_env_reruns_the_seed_it_names, with LOOPSIM_SEED set"]
fn harness_from_env_child() {
    assert_eq!(Harness::from_env().seeds, 5..6);
}

#[test]
fn harness_from_env_reruns_the_seed_it_names() {
    let out = run_child("harness_from_env_child", Some(5));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 passed"), "{}", text(&out));
}

#[test]
fn a_panic_in_a_task_body_is_caught_with_its_place() {
    let failure = Harness::new()
        .check(|lp| {
            let task = lp.create_task_named("worker", async {
                sleep(1.0).await?;
                let found = "abc".find('z');
                Ok(found.expect("a value")) // the task's unwrap
            })?;
            lp.run_until_complete(&task)?;
            Ok(())
        })
        .unwrap_err();
    let panic = failure.panic.as_ref().unwrap();
    assert_eq!(
        (
            panic.file.as_str(),
            panic.line as usize,
            panic.message.as_str()
        ),
        (
            "tests/harness.rs",
            line_of("// the task's unwrap"),
            "a value"
        )
    );
    assert_eq!(failure.seed, 0);
    assert!(failure.message.starts_with("panicked at tests/harness.rs:"));
    // The trace so far is kept: the task stepped, slept, stepped again.
    let steps = failure
        .trace
        .iter()
        .filter(|e| e.to_text().contains("step task=worker"));
    assert_eq!(steps.count(), 2);

    // The thread is usable again: the next loop runs (the panicking one
    // was left registered as running).
    Harness::new().seeds(0..3).run(|lp| {
        lp.create_task(async { sleep(1.0).await })?;
        lp.run_forever()?;
        Ok(())
    });
}

#[test]
fn a_panic_in_a_callback_is_caught_with_its_place() {
    let failure = Harness::new()
        .check(|lp| {
            let broken = |_: &EventLoop| -> () { panic!("callback broke") }; // the callback's panic
            lp.call_later(2.0, broken).unwrap();
            lp.run_forever().unwrap();
        })
        .unwrap_err();
    let panic = failure.panic.unwrap();
    assert_eq!(panic.line as usize, line_of("// the callback's panic"));
    assert_eq!(panic.message, "callback broke");
}

#[test]
fn unhandled_exceptions_fail_a_seed_unless_allowed() {
    let callback_raises = |lp: &EventLoop| -> TestResult {
        lp.call_soon_named("boom", |_: &EventLoop| Err(Error::raised("kaput")))?;
        lp.run_forever()?;
        Ok(())
    };
    let failure = Harness::new().check(callback_raises).unwrap_err();
    assert_eq!(
        failure.message,
        "a callback raised an exception nobody handled: #1 t=0.0 exception name=boom \
         message=\"kaput\" (Harness::allow_unhandled_exceptions() lets it pass)"
    );

    let task_raises = |awaited: bool| {
        move |lp: &EventLoop| -> TestResult {
            let task = lp.create_task_named("fetch", async {
                sleep(1.0).await?;
                Err::<u32, _>(Error::raised("boom"))
            })?;
            if awaited {
                assert_eq!(lp.run_until_complete(&task), Err(Error::raised("boom")));
            } else {
                lp.run_forever()?;
            }
            Ok(())
        }
    };
    let failure = Harness::new().check(task_raises(false)).unwrap_err();
    assert_eq!(
        failure.message,
        "Task exception was never retrieved: task `fetch` raised \"boom\" \
         (Harness::allow_unhandled_exceptions() lets it pass)"
    );
    // Retrieved (here by run_until_complete): handled.
    Harness::new().run(task_raises(true));
    // Cancelled is not an exception.
    Harness::new().run(|lp| {
        let task = lp.create_task(async { sleep(5.0).await })?;
        lp.call_later(1.0, move |_: &EventLoop| {
            task.cancel();
        })?;
        lp.run_forever()?;
        Ok(())
    });

    let allowing = Harness::new().allow_unhandled_exceptions();
    allowing.run(callback_raises);
    allowing.run(task_raises(false));
}

#[test]
fn tests_return_any_error_through_question_marks() {
    fn message(test: impl Fn(&EventLoop) -> TestResult) -> String {
        Harness::new().check(test).unwrap_err().message
    }
    // loopsim's own errors.
    assert_eq!(
        message(|lp| {
            lp.close()?;
            lp.call_soon(|_: &EventLoop| ())?;
            Ok(())
        }),
        "Event loop is closed"
    );
    // Any std error, strings, and boxed Send + Sync errors (what
    // `anyhow::Error` converts into).
    assert_eq!(
        message(|_| {
            "x1".parse::<u8>()?;
            Ok(())
        }),
        "invalid digit found in string"
    );
    assert_eq!(message(|_| Err("plain text".into())), "plain text");
    assert_eq!(
        message(|_| {
            let shared: Box<dyn std::error::Error + Send + Sync> = "shared".into();
            Err(shared)?
        }),
        "shared"
    );
    // A test may also return nothing and only assert.
    Harness::new().seeds(0..2).run(|lp| {
        assert!(!lp.is_running());
    });
}

#[test]
fn loop_failures_and_nondeterminism_fail_a_seed() {
    let failure = Harness::new()
        .check(|lp| {
            lp.record(loopsim::EventKind::CheckFailed {
                cond: "mine".into(),
            });
            Ok(())
        })
        .unwrap_err();
    assert_eq!(
        (failure.seed, failure.message.as_str()),
        (0, "#0 t=0.0 check_failed cond=\"mine\"")
    );

    let calls = std::cell::Cell::new(0);
    let failure = Harness::new()
        .check(|lp| {
            calls.set(calls.get() + 1);
            lp.log(format!("call {}", calls.get()));
            Ok(())
        })
        .unwrap_err();
    assert!(
        failure
            .message
            .starts_with("nondeterminism: traces diverge at event 0"),
        "{}",
        failure.message
    );
}

#[test]
fn ties_under_fifo_never_break_the_order() {
    let failure = Harness::new()
        .test_name("ordering")
        .check(|lp| {
            assert_eq!(record_order(lp)?, ["a", "b"]);
            Ok(())
        })
        .unwrap_err();
    assert!(failure.to_string().ends_with(&format!(
        "rerun it with: LOOPSIM_SEED={} cargo test ordering -- --exact",
        failure.seed
    )));
    Harness::new().tie_break(TieBreak::Fifo).run(|lp| {
        assert_eq!(record_order(lp)?, ["a", "b"]);
        Ok(())
    });
}
