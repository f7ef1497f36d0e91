//! asyncio's combinators through the Rust API, against what real CPython
//! 3.11, 3.12 and 3.13 log for the same programs (each expected log below
//! was printed by the three interpreters on a virtual-clock loop; they
//! agree on these).

use loopsim::trace::EventKind;
use loopsim::{
    gather, gather_return_exceptions, shield, sleep, timeout, yield_now, Error, EventLoop,
    LoopConfig, Python, Task,
};

fn logs(lp: &EventLoop) -> Vec<String> {
    lp.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { text } => Some(format!("t={} {text}", e.time as f64 / 1e9)),
            _ => None,
        })
        .collect()
}

fn each_python(f: impl Fn(&EventLoop)) {
    for python in Python::ALL {
        let lp = LoopConfig {
            python,
            ..LoopConfig::default()
        }
        .build();
        f(&lp);
    }
}

fn current() -> EventLoop {
    loopsim::get_running_loop().unwrap()
}

#[test]
fn an_outer_cancel_racing_a_timeout_stays_a_cancel() {
    // `uncancel()` leaves 1: the cancel was not only the timeout's.
    each_python(|lp| {
        let t: Task<()> = lp
            .create_task(async {
                let r = timeout(1.0, async { sleep(5.0).await }).await;
                let lp = current();
                match r {
                    Err(Error::Timeout) => lp.log("timeout"),
                    Err(e) if e.is_cancelled() => {
                        lp.log("cancelled");
                        return Err(e);
                    }
                    _ => {}
                }
                Ok(())
            })
            .unwrap();
        let main = lp
            .create_task(async move {
                yield_now().await?;
                let victim = t.clone();
                current().call_later(1.0, move |_: &EventLoop| {
                    victim.cancel();
                })?;
                if t.await.is_err() {
                    current().log("t cancelled");
                }
                Ok(())
            })
            .unwrap();
        lp.run_until_complete(&main).unwrap();
        assert_eq!(logs(lp), ["t=1 cancelled", "t=1 t cancelled"]);
    });
}

#[test]
fn a_timeout_alone_is_a_timeout_error_and_leaves_no_cancel_counted() {
    each_python(|lp| {
        let t: Task<u32> = lp
            .create_task(async {
                let r = timeout(1.0, async { sleep(5.0).await }).await;
                assert_eq!(r, Err(Error::Timeout));
                current().log("timeout");
                Ok(0)
            })
            .unwrap();
        lp.run_until_complete(&t).unwrap();
        assert_eq!(t.cancelling(), 0);
        assert_eq!(logs(lp), ["t=1 timeout"]);
    });
}

async fn ok(d: f64, v: i64) -> Result<i64, Error> {
    sleep(d).await?;
    current().log(format!("ok {v}"));
    Ok(v)
}

async fn bad(d: f64) -> Result<i64, Error> {
    sleep(d).await?;
    current().log("bad");
    Err(Error::raised("boom"))
}

#[test]
fn gather_fails_at_the_first_failure_and_the_others_go_on() {
    each_python(|lp| {
        let main = lp
            .create_task(async {
                let lp = current();
                let a = lp.create_task(ok(1.0, 1))?;
                let b = lp.create_task(ok(3.0, 2))?;
                let c = lp.create_task(bad(2.0))?;
                if let Err(e) = gather(vec![a, b, c]).values().await {
                    lp.log(format!("gather {e}"));
                }
                sleep(5.0).await?;
                let a = lp.create_task(ok(1.0, 1))?;
                let b = lp.create_task(ok(3.0, 2))?;
                let c = lp.create_task(bad(2.0))?;
                let all = gather_return_exceptions(vec![a, b, c]).await?;
                let shown: Vec<String> = all
                    .iter()
                    .map(|r| match r {
                        Ok(v) => v.to_string(),
                        Err(e) => e.to_string(),
                    })
                    .collect();
                lp.log(format!("rex {}", shown.join(" ")));
                Ok(())
            })
            .unwrap();
        lp.run_until_complete(&main).unwrap();
        assert_eq!(
            logs(lp),
            [
                "t=1 ok 1",
                "t=2 bad",
                "t=2 gather boom",
                "t=3 ok 2",
                "t=8 ok 1",
                "t=9 bad",
                "t=10 ok 2",
                "t=10 rex 1 2 boom",
            ]
        );
    });
}

#[test]
fn cancelling_a_task_awaiting_gather_cancels_the_children() {
    each_python(|lp| {
        let a = lp.create_task(ok(1.0, 1)).unwrap();
        let b = lp.create_task(ok(3.0, 2)).unwrap();
        let (ca, cb) = (a.clone(), b.clone());
        let main = lp
            .create_task(async move { gather(vec![ca, cb]).values().await })
            .unwrap();
        let m = main.clone();
        lp.call_later(2.0, move |_: &EventLoop| {
            m.cancel();
        })
        .unwrap();
        assert_eq!(lp.run_until_complete(&main), Err(Error::Cancelled));
        assert_eq!(a.result(), Ok(1));
        assert!(b.cancelled());
        assert_eq!(logs(lp), ["t=1 ok 1"]);
    });
}

#[test]
fn shield_keeps_the_inner_task_running_when_the_caller_is_cancelled() {
    each_python(|lp| {
        let inner = lp
            .create_task(async {
                sleep(2.0).await?;
                current().log("written");
                Ok(7)
            })
            .unwrap();
        let i = inner.clone();
        let caller = lp
            .create_task(async move {
                let r = shield(i).await;
                if r.is_err() {
                    current().log("caller cancelled");
                }
                r
            })
            .unwrap();
        let c = caller.clone();
        lp.call_later(1.0, move |_: &EventLoop| {
            c.cancel();
        })
        .unwrap();
        assert_eq!(lp.run_until_complete(&caller), Err(Error::Cancelled));
        assert_eq!(lp.run_until_complete(&inner), Ok(7));
        assert_eq!(logs(lp), ["t=1 caller cancelled", "t=2 written"]);
    });
}

#[test]
fn cancel_counting_and_uncancel_per_version() {
    // CPython: 3.11 and 3.12 still deliver the cancel; 3.13's uncancel
    // back to 0 forgets it and the task runs.
    each_python(|lp| {
        let t = lp
            .create_task(async {
                sleep(1.0).await?;
                Ok(5)
            })
            .unwrap();
        assert_eq!(t.cancelling(), 0);
        t.cancel();
        t.cancel();
        assert_eq!(t.cancelling(), 2);
        assert_eq!(t.uncancel(), 1);
        assert_eq!(t.uncancel(), 0);
        assert_eq!(t.uncancel(), 0);
        let expected = if lp.python() >= Python::V3_13 {
            Ok(5)
        } else {
            Err(Error::Cancelled)
        };
        assert_eq!(lp.run_until_complete(&t), expected);
    });
}

#[test]
fn wait_returns_when_asked_and_a_timeout_is_not_an_error() {
    use loopsim::{wait, ReturnWhen};
    each_python(|lp| {
        let main = lp
            .create_task(async {
                let lp = current();
                let a = lp.create_task(ok(2.0, 1))?;
                let b = lp.create_task(ok(2.0, 2))?;
                let c = lp.create_task(ok(5.0, 3))?;
                let (done, pending) = wait(
                    vec![a, b, c.clone()],
                    None::<f64>,
                    ReturnWhen::FirstCompleted,
                )
                .await?;
                // Both tied tasks finished in the pass before the waiter's
                // task woke: both are done.
                let mut values: Vec<i64> = done.iter().map(|t| t.result().unwrap()).collect();
                values.sort();
                lp.log(format!("first {values:?} {}", pending.len()));
                let x = lp.create_task(bad(1.0))?;
                let y = lp.create_task(ok(4.0, 4))?;
                let (done, pending) = wait(
                    vec![x, y.clone(), c.clone()],
                    None::<f64>,
                    ReturnWhen::FirstException,
                )
                .await?;
                lp.log(format!("exc {} {}", done.len(), pending.len()));
                let (done, pending) = wait(
                    vec![y.clone(), c.clone()],
                    Some(1.0),
                    ReturnWhen::AllCompleted,
                )
                .await?;
                lp.log(format!("timeout {} {}", done.len(), pending.len()));
                let (done, pending) =
                    wait(vec![y, c], None::<f64>, ReturnWhen::AllCompleted).await?;
                lp.log(format!("all {} {}", done.len(), pending.len()));
                Ok(())
            })
            .unwrap();
        lp.run_until_complete(&main).unwrap();
        assert_eq!(
            logs(lp),
            [
                "t=2 ok 1",
                "t=2 ok 2",
                "t=2 first [1, 2] 1",
                "t=3 bad",
                "t=3 exc 1 2",
                "t=4 timeout 0 2",
                "t=5 ok 3",
                "t=6 ok 4",
                "t=6 all 2 0",
            ]
        );
    });
}

/// The README's retry-with-timeout example, as it shows it.
#[test]
fn the_readme_retry_with_timeout() {
    let lp = loopsim::new_event_loop();
    let client = lp
        .create_task(async {
            for (attempt, latency) in [(1i64, 3.0), (2, 1.5)] {
                let reply = timeout(2.0, async move {
                    sleep(latency).await?;
                    Ok(attempt)
                })
                .await;
                match reply {
                    Err(Error::Timeout) => continue,
                    other => return other,
                }
            }
            Err(Error::Timeout)
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&client), Ok(2));
    assert_eq!(lp.time(), 3.5);
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(readme.contains(
        "let reply = timeout(2.0, async move { sleep(latency).await?; Ok(attempt) }).await;"
    ));
}

/// The README's retry-with-timeout scenario is scenario 186, shown with
/// the trace loopsim gives it.
#[test]
fn the_readme_retry_with_timeout_scenario() {
    use loopsim::scenario::{self, RunOptions};
    use loopsim::trace::{render, Format};
    let path = "scenarios/186_retry_with_timeout.scn";
    let source = std::fs::read_to_string(path).unwrap();
    let parsed = scenario::parse(path, &source).unwrap();
    let trace = render(
        &scenario::run(&parsed, &RunOptions::default()).trace,
        Format::Text,
    );
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(readme.contains(&format!("```text\n{source}```")));
    assert!(readme.contains(&format!("```text\n{trace}```")));
}
