//! The generator's combinator statements (with [`GenConfig::combinators`]):
//! `gather`, `wait` over tasks and futures, and `task_group`, in task
//! bodies.
//!
//! Like `await`, they name only futures and instances of task bodies
//! ranked after the task (and a `task_group` creates children from such
//! bodies), so no task ever waits on itself through them: cancelling
//! around such a cycle recurses in CPython until `RecursionError`, which
//! loopsim does not reproduce.
//!
//! [`GenConfig::combinators`]: super::GenConfig::combinators

use super::{Gen, Kind, Site};

/// Timeouts for `wait`: ties with the sleeps' delays are the point.
const TIMEOUTS: &[&str] = &["0", "-1", "1", "1", "2", "500ms", "1.5", "3"];

impl Gen<'_> {
    /// A combinator statement for a task at `site`; `None` when nothing
    /// fits (draw again).
    pub(super) fn combinator(&mut self, site: Site) -> Option<String> {
        Some(match self.below(3) {
            0 => {
                let names = self.several(site)?;
                let flag = if self.chance(40) {
                    " return_exceptions"
                } else {
                    ""
                };
                format!("gather {names}{flag}")
            }
            1 => {
                let mut line = format!("wait {}", self.several(site)?);
                if self.chance(40) {
                    line += &format!(" timeout {}", self.pick(TIMEOUTS));
                }
                if self.chance(60) {
                    let when = self.pick(&["first_completed", "first_exception", "all_completed"]);
                    line += &format!(" return_when {when}");
                }
                line
            }
            _ => {
                let mut children = vec![self.later(site, Kind::Task)?];
                for _ in 0..self.below(3) {
                    children.extend(self.later(site, Kind::Task));
                }
                for child in &children {
                    if !self.instances.contains(child) {
                        self.instances.push(child.clone());
                    }
                }
                format!("task_group {}", children.join(" "))
            }
        })
    }

    /// One to three tasks or futures a task at `site` may wait on (a name
    /// may repeat).
    fn several(&mut self, site: Site) -> Option<String> {
        let mut names = vec![self.awaitable_later(site)?];
        for _ in 0..self.below(3) {
            names.extend(self.awaitable_later(site));
        }
        Some(names.join(" "))
    }
}
