//! asyncio's primitives through the Rust API: hand-offs as CPython makes
//! them, and each primitive's invariant caught when its mutant breaks it.

use loopsim::sync::{Lock, Queue, Semaphore};
use loopsim::trace::EventKind;
use loopsim::{sleep, yield_now, Error, EventLoop, LoopConfig, Python};

fn logs(lp: &EventLoop) -> Vec<String> {
    lp.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { text } => Some(format!("t={} {text}", e.time / 1_000_000_000)),
            _ => None,
        })
        .collect()
}

/// Three tasks queue on a held semaphore; the first is woken by a release
/// and cancelled before it runs: it must hand its count on, not swallow it
/// (checked against CPython 3.11, 3.12 and 3.13, which agree here).
#[test]
fn a_woken_semaphore_waiter_cancelled_passes_the_count_on() {
    for python in Python::ALL {
        let lp = LoopConfig {
            python,
            ..LoopConfig::default()
        }
        .build();
        let sem = Semaphore::new(1);
        let main = {
            let sem = sem.clone();
            lp.create_task(async move {
                let lp = loopsim::get_running_loop().unwrap();
                sem.acquire().await?;
                let mut tasks = Vec::new();
                for name in ["a", "b", "c"] {
                    let sem = sem.clone();
                    tasks.push(lp.create_task_named(name, async move {
                        sem.acquire().await?;
                        loopsim::get_running_loop().unwrap().log(name);
                        sleep(1.0).await?;
                        sem.release()
                    })?);
                }
                yield_now().await?;
                sem.release()?;
                tasks[0].cancel();
                yield_now().await?;
                lp.log(format!(
                    "after {} {} {}",
                    sem.value(),
                    sem.locked(),
                    sem.waiting()
                ));
                sleep(3.0).await?;
                Ok(())
            })
            .unwrap()
        };
        lp.run_until_complete(&main).unwrap();
        assert_eq!(
            logs(&lp),
            ["t=0 after 0 true 2", "t=0 b", "t=1 c"],
            "{python}"
        );
    }
}

#[test]
fn misuse_fails_with_asyncios_messages() {
    assert_eq!(Lock::new().release(), Err(Error::LockNotAcquired));
    assert_eq!(Error::LockNotAcquired.to_string(), "Lock is not acquired.");
    let q: Queue<i64> = Queue::new(1);
    assert_eq!(q.get_nowait(), Err(Error::QueueEmpty));
    q.put_nowait(1).unwrap();
    assert_eq!(q.put_nowait(2), Err(Error::QueueFull));
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(Error::TaskDoneTooMany));
    assert_eq!(
        Error::TaskDoneTooMany.to_string(),
        "task_done() called too many times"
    );
}

#[test]
fn a_primitive_bound_to_one_loop_refuses_to_wait_on_another() {
    let lock = Lock::new();
    let first = EventLoop::new();
    let second = first.new_event_loop();
    let hold = lock.clone();
    first
        .block_on(async move {
            hold.acquire().await?;
            let wait = hold.clone();
            let lp = loopsim::get_running_loop().unwrap();
            let waiter = lp.create_task(async move { wait.acquire().await })?;
            yield_now().await?;
            hold.release()?;
            waiter.await
        })
        .unwrap();
    let other = lock.clone();
    let outcome = second.block_on(async move {
        other.acquire().await?; // free: no wait, no binding needed
        let wait = other.clone();
        let lp = loopsim::get_running_loop().unwrap();
        let waiter = lp.create_task(async move { wait.acquire().await })?;
        waiter.await
    });
    assert_eq!(outcome, Err(Error::BoundToDifferentLoop));
}

#[cfg(feature = "mutants")]
mod mutants {
    use super::*;
    use loopsim::mutant::Mutant;
    use loopsim::sync::BoundedSemaphore;

    fn violations(mutant: Option<Mutant>, body: impl FnOnce(&EventLoop)) -> Vec<String> {
        let lp = LoopConfig {
            mutant,
            ..LoopConfig::default()
        }
        .build();
        body(&lp);
        lp.trace()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::InvariantViolated { invariant, .. } => Some(invariant.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Two tasks take one lock, each holding it across a sleep.
    fn contend(lp: &EventLoop) {
        let lock = Lock::new();
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let lock = lock.clone();
                lp.create_task(async move {
                    let _held = lock.lock().await?;
                    sleep(1.0).await
                })
                .unwrap()
            })
            .collect();
        lp.run_until_complete(&tasks[1]).unwrap();
    }

    /// Three tasks share a semaphore of 1; then one release too many.
    fn semaphores(lp: &EventLoop) {
        let sem = Semaphore::new(1);
        let bounded = BoundedSemaphore::new(1);
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (sem, bounded) = (sem.clone(), bounded.clone());
                lp.create_task(async move {
                    sem.acquire().await?;
                    sleep(1.0).await?;
                    sem.release()?;
                    let _ = bounded.release();
                    Ok(())
                })
                .unwrap()
            })
            .collect();
        lp.run_until_complete(&tasks[2]).unwrap();
    }

    /// A producer fills a queue of 2 with puts_nowait, a consumer drains
    /// it and calls task_done once too often.
    fn queues(lp: &EventLoop) {
        let q = Queue::new(2);
        let task = {
            let q = q.clone();
            lp.create_task(async move {
                for i in 0..3 {
                    let _ = q.put_nowait(i);
                }
                while !q.empty() {
                    q.get().await?;
                    q.task_done()?;
                }
                let _ = q.task_done();
                Ok(())
            })
            .unwrap()
        };
        lp.run_until_complete(&task).unwrap();
    }

    #[test]
    fn each_primitive_mutant_is_caught_and_the_real_code_passes() {
        type Case = (Mutant, fn(&EventLoop), &'static str);
        let cases: [Case; 5] = [
            (Mutant::LockDoubleOwner, contend, "lock_owner"),
            (Mutant::SemaphoreNegative, semaphores, "semaphore_value"),
            (Mutant::SemaphoreUnbounded, semaphores, "semaphore_value"),
            (Mutant::QueueOverfull, queues, "queue_maxsize"),
            (Mutant::TaskDoneUnchecked, queues, "task_done"),
        ];
        assert_eq!(cases.map(|c| c.0), Mutant::SYNC);
        for (mutant, body, invariant) in cases {
            assert_eq!(violations(None, body), Vec::<String>::new(), "{mutant:?}");
            let caught = violations(Some(mutant), body);
            assert!(
                caught.iter().any(|v| v == invariant),
                "{mutant:?}: {caught:?}"
            );
        }
    }
}
