//! The primitives' invariants, checked on every run.
//!
//! Each primitive keeps a small shadow of what must hold (how many tasks
//! hold a lock, how many items were put into a queue) next to its real
//! state, and judges each change against it, apart from the code that
//! makes the change. A broken rule is recorded on the running loop as
//! `invariant_violated`, when the loop checks invariants:
//!
//! | invariant | meaning |
//! |---|---|
//! | `lock_owner` | a lock has at most one owner |
//! | `semaphore_value` | a semaphore's value is never negative, and a bounded one never above its start |
//! | `queue_maxsize` | a queue never holds more than its `maxsize` |
//! | `task_done` | `task_done` is never called more often than items were put |

use crate::event_loop::get_running_loop;
use crate::trace::EventKind;

/// Records a violation of `invariant` on the running loop, if it checks
/// invariants.
pub(crate) fn violated(invariant: &'static str, message: impl FnOnce() -> String) {
    if let Some(lp) = get_running_loop() {
        if lp.config().check_invariants {
            lp.record(EventKind::InvariantViolated {
                invariant: invariant.into(),
                message: message().into(),
            });
        }
    }
}

/// Whether the running loop was built with `mutant` (tests only).
#[cfg(feature = "mutants")]
pub(crate) fn mutant_on(mutant: crate::mutant::Mutant) -> bool {
    get_running_loop().is_some_and(|lp| lp.config().mutant == Some(mutant))
}

/// `mutant!(Name)`: whether that deliberate bug is on; always `false`
/// without the `mutants` feature.
macro_rules! mutant {
    ($name:ident) => {{
        #[cfg(feature = "mutants")]
        let on = $crate::sync::audit::mutant_on($crate::mutant::Mutant::$name);
        #[cfg(not(feature = "mutants"))]
        let on = false;
        on
    }};
}
pub(crate) use mutant;
