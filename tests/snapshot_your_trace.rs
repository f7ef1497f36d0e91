//! Snapshotting your own trace with insta, from Rust: the README's example.
//! The snapshot is `tests/snapshots/snapshot_your_trace__*.snap`; after a
//! change, `cargo insta review` shows the trace's diff.

use loopsim::trace::{render, Format};
use loopsim::{create_task, sleep, wait_for, Error, LoopConfig, TieBreak};

#[test]
fn a_slow_reply_times_out() {
    let lp = LoopConfig {
        seed: 1,
        tie_break: TieBreak::Heapq,
        ..LoopConfig::default()
    }
    .build();
    let fetch = lp
        .create_task_named("fetch", async {
            let reply = create_task(async {
                sleep(5.0).await?;
                Ok("reply")
            })?;
            match wait_for(reply, 2.0).await {
                Err(Error::Timeout) => Ok("gave up"),
                other => other,
            }
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&fetch), Ok("gave up"));
    insta::assert_snapshot!(render(&lp.trace(), Format::Text));
}
