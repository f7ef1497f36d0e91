//! `TaskGroup` through the Rust API, against what real CPython 3.11, 3.12
//! and 3.13 print for the same program (`asyncio.run` of it; the
//! interpreters' output is quoted beside each assertion).

use loopsim::{sleep, yield_now, Error, LoopConfig, Python, Task, TaskGroup};
use std::cell::RefCell;
use std::rc::Rc;

/// Runs `body` as a task of a loop of `python`, giving it its own task.
fn run_as_task<F, Fut>(python: Python, body: F) -> Result<(), Error>
where
    F: FnOnce(Rc<RefCell<Option<Task<()>>>>) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>> + 'static,
{
    let lp = LoopConfig {
        python,
        ..LoopConfig::default()
    }
    .build();
    let me = Rc::new(RefCell::new(None));
    let task = lp.create_task(body(me.clone())).unwrap();
    *me.borrow_mut() = Some(task.clone());
    lp.run_until_complete(&task)
}

fn this(me: &Rc<RefCell<Option<Task<()>>>>) -> Task<()> {
    me.borrow().clone().expect("set before the first step")
}

#[test]
fn a_failing_child_cancels_its_sibling_and_the_group_raises_the_exception_group() {
    // 3.11: `ExceptionGroup unhandled errors in a TaskGroup (1 sub-exception) cancelling 1`
    // 3.12: the same; 3.13: `... cancelling 0`. Up to 3.12 the group takes
    // its own cancel of the parent back at the start of its exit, before
    // the child failed; 3.13 after waiting.
    for (python, left) in [(Python::V3_11, 1), (Python::V3_12, 1), (Python::V3_13, 0)] {
        let outcome = run_as_task(python, |me| async move {
            let tg = TaskGroup::new()?;
            tg.create_task(async {
                sleep(1.0).await?;
                Err::<(), _>(Error::raised("boom"))
            })?;
            let slow = tg.create_task(async { sleep(5.0).await })?;
            let error = tg.join().await.unwrap_err();
            assert_eq!(
                error.to_string(),
                "unhandled errors in a TaskGroup (1 sub-exception)"
            );
            assert_eq!(error, Error::TaskGroup(vec![Error::raised("boom")].into()));
            assert!(slow.cancelled());
            assert_eq!(this(&me).cancelling(), left, "{python}");
            Ok(())
        });
        assert_eq!(outcome, Ok(()), "{python}");
    }
}

#[test]
fn an_error_of_the_block_aborts_the_group_and_joins_its_error() {
    // Every version: `ExceptionGroup ... ['KeyError'] child cancelled True`.
    for python in Python::ALL {
        let outcome = run_as_task(python, |_| async move {
            let tg = TaskGroup::new()?;
            let child = tg.create_task(async { sleep(5.0).await })?;
            yield_now().await?;
            let error = tg.exit(Err(Error::raised("body"))).await.unwrap_err();
            assert_eq!(error, Error::TaskGroup(vec![Error::raised("body")].into()));
            assert!(child.cancelled());
            Ok(())
        });
        assert_eq!(outcome, Ok(()), "{python}");
    }
}

#[test]
fn a_cancel_from_outside_cancels_the_children_and_is_raised() {
    for python in Python::ALL {
        let lp = LoopConfig {
            python,
            ..LoopConfig::default()
        }
        .build();
        let children = Rc::new(RefCell::new(Vec::new()));
        let seen = children.clone();
        let parent = lp
            .create_task(async move {
                let tg = TaskGroup::new()?;
                seen.borrow_mut()
                    .push(tg.create_task(async { sleep(5.0).await })?);
                seen.borrow_mut()
                    .push(tg.create_task(async { sleep(7.0).await })?);
                tg.join().await
            })
            .unwrap();
        let p = parent.clone();
        lp.call_later(1.0, move |_: &loopsim::EventLoop| {
            p.cancel();
        })
        .unwrap();
        assert_eq!(lp.run_until_complete(&parent), Err(Error::Cancelled));
        assert!(children.borrow().iter().all(Task::cancelled));
        assert_eq!(lp.time(), 1.0);
    }
}

#[test]
fn a_group_outside_a_task_is_an_error_not_a_panic() {
    assert_eq!(
        TaskGroup::<()>::new().err(),
        Some(Error::NoRunningLoop),
        "no running loop"
    );
}
