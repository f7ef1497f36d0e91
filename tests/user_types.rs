//! Task and future results of the user's own types: tuples, `Vec`s,
//! floats and structs work without wrappers, and the trace shows them;
//! integers, strings and `none` keep the exact form scenarios have.

use loopsim::trace::{render, Format};
use loopsim::{new_event_loop, sleep, Error, EventLoop};

#[derive(Clone, Debug, PartialEq)]
struct Reading {
    sensor: &'static str,
    celsius: f64,
}

#[test]
fn tasks_return_tuples_vecs_floats_and_structs() {
    let lp = new_event_loop();
    let pair = lp
        .create_task_named("pair", async { Ok((7u32, String::from("seven"))) })
        .unwrap();
    let list = lp
        .create_task_named("list", async { Ok(vec![1.5, 2.0]) })
        .unwrap();
    let reading = lp
        .create_task_named("reading", async {
            sleep(1.0).await?;
            Ok(Reading {
                sensor: "hall",
                celsius: 21.5,
            })
        })
        .unwrap();
    let total = lp
        .create_task_named("total", async move {
            let (n, _) = pair.await?;
            let sum: f64 = list.await?.iter().sum();
            let reading = reading.await?;
            Ok(f64::from(n) + sum + reading.celsius)
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&total), Ok(32.0));

    let done: Vec<String> = lp
        .trace()
        .iter()
        .map(|e| e.to_text())
        .filter(|line| line.contains(" done ") || line.contains(" returned "))
        .collect();
    assert_eq!(
        done,
        [
            "#1 t=0.0 done name=pair state=result value=(7, \"seven\")",
            "#1 t=0.0 done name=list state=result value=[1.5, 2.0]",
            "#3 t=1.0 done name=reading state=result value=Reading { sensor: \"hall\", celsius: 21.5 }",
            "#4 t=1.0 done name=total state=result value=32.0",
            "#5 t=1.0 returned driver=run_until_complete value=32.0",
        ]
    );
    let json = render(&lp.trace(), Format::Json);
    assert!(
        json.contains(
            r#""event":"done","name":"pair","state":"result","value":{"debug":"(7, \"seven\")"}"#
        ),
        "{json}"
    );
}

#[test]
fn integers_strings_and_none_keep_their_scenario_form() {
    let lp = new_event_loop();
    let small = lp.create_task_named("small", async { Ok(5u8) }).unwrap();
    let text = lp.create_task_named("text", async { Ok("hi") }).unwrap();
    let nothing = lp
        .create_task_named("nothing", async { Ok(None::<String>) })
        .unwrap();
    let unit = lp.create_task_named("unit", async { Ok(()) }).unwrap();
    let future = lp.create_future_named::<Reading>("reading");
    future
        .set_result(Reading {
            sensor: "roof",
            celsius: -3.0,
        })
        .unwrap();
    lp.run_forever().unwrap();
    let json = render(&lp.trace(), Format::Json);
    for expected in [
        r#""name":"small","state":"result","value":5}"#,
        r#""name":"text","state":"result","value":"hi"}"#,
        r#""name":"nothing","state":"result","value":null}"#,
        r#""name":"unit","state":"result","value":null}"#,
        r#""name":"reading","state":"result","value":{"debug":"Reading { sensor: \"roof\", celsius: -3.0 }"}}"#,
    ] {
        assert!(json.contains(expected), "{expected} in\n{json}");
    }
    drop((small, text, nothing, unit));
}

/// `loopsim::Error` goes where errors go: `?` into boxed `Send + Sync`
/// errors (and so into `anyhow::Error`), across threads.
#[test]
fn loopsim_errors_box_and_cross_threads() {
    fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let lp = new_event_loop();
        lp.close()?;
        lp.call_soon(|_: &EventLoop| ())?;
        Ok(())
    }
    let error = run().unwrap_err();
    assert_eq!(error.to_string(), "Event loop is closed");
    let error = Error::raised("boom");
    let text = std::thread::spawn(move || error.to_string())
        .join()
        .unwrap();
    assert_eq!(text, "boom");
}
