//! The generator's combinator statements (with [`GenConfig::combinators`]),
//! in task bodies: `gather`, `wait` over tasks and futures and
//! `task_group`; `shield X`; and `try STMT`, `timeout DUR STMT`,
//! `timeout_at TIME STMT` around another drawn statement (nested at most
//! twice).
//!
//! Like `await`, they name only futures and instances of task bodies
//! ranked after the task (and a `task_group` creates children from such
//! bodies), so no task ever waits on itself through them: cancelling
//! around such a cycle recurses in CPython until `RecursionError`, which
//! loopsim does not reproduce.
//!
//! Timeouts are drawn from small pools that tie with the other delays and
//! times, so the pass where a timeout expires is often the pass where what
//! it guards finished, or where an outer cancel arrives (the `uncancel`
//! case).
//!
//! [`GenConfig::combinators`]: super::GenConfig::combinators

use super::{Gen, Kind, Site};

/// Timeouts for `wait`, `timeout`: zero and negative (due at once, through
/// `call_soon`), and values that tie with the sleeps' delays.
const TIMEOUTS: &[&str] = &["0", "-1", "1", "1", "2", "500ms", "1.5", "3"];

impl Gen<'_> {
    /// A combinator statement for a task at `site`, `depth` wrappers deep;
    /// `None` when nothing fits (draw again). The flag says whether it
    /// schedules or creates something (a wrapped statement does).
    pub(super) fn combinator(
        &mut self,
        site: Site,
        may_spawn: bool,
        depth: usize,
    ) -> Option<(String, bool)> {
        let roll = self.below(if depth < 2 { 11 } else { 5 });
        if roll < 3 {
            return Some((self.fan_in(site, roll)?, false));
        }
        if roll < 5 {
            return Some((format!("shield {}", self.awaitable_later(site)?), false));
        }
        let wrapper = match roll {
            5..=7 => "try".to_string(),
            8 | 9 => format!("timeout {}", self.pick(TIMEOUTS)),
            _ => format!("timeout_at {}", self.pick(super::TIMES)),
        };
        let (inner, spawn) = if self.chance(30) {
            self.combinator(site, may_spawn, depth + 1)?
        } else if wrapper != "try" && self.chance(60) {
            // Mostly something that waits, so that the timeout can expire.
            (self.waiting(site)?, false)
        } else {
            self.action(site, may_spawn)?
        };
        Some((format!("{wrapper} {inner}"), spawn))
    }

    /// A statement that waits: a sleep, an await or a yield.
    fn waiting(&mut self, site: Site) -> Option<String> {
        Some(match self.below(5) {
            0 | 1 => format!("sleep {}", self.delay()),
            2 | 3 => format!("await {}", self.awaitable_later(site)?),
            _ => "yield".into(),
        })
    }

    /// `gather` (`which` 0), `wait` (1) or `task_group` (2).
    fn fan_in(&mut self, site: Site, which: usize) -> Option<String> {
        Some(match which {
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
