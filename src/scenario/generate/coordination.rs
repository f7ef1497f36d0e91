//! The generator's coordination statements (with [`GenConfig::sync`]):
//! one primitive of each kind, declared at the top, and statements and
//! conditions that use them from every body.
//!
//! Sizes and values are drawn so that the interesting cases come up:
//! queues of 1 or 2 fill, semaphores of 0 make tasks wait, a barrier of 2
//! or 3 trips or is aborted, and a priority queue sometimes mixes strings
//! with integers (Python's `TypeError`).
//!
//! [`GenConfig::sync`]: super::GenConfig::sync

use super::{Gen, Site};
use std::fmt::Write as _;

/// Values put into queues: mostly integers (a priority queue orders them),
/// sometimes a string or `none`, which a priority queue cannot compare
/// with an integer.
const ITEMS: &[&str] = &["1", "2", "3", "1", "0", "-4", "7", "\"s\"", "none"];

impl Gen<'_> {
    /// The declarations, in file order.
    pub(super) fn sync_declarations(&mut self) -> String {
        let mut out = String::new();
        let sem = self.pick(&["0", "1", "2"]);
        let bsem = self.pick(&["", " 1", " 2"]);
        let parties = self.pick(&["1", "2", "2", "3"]);
        let (q, lq, pq) = (
            self.pick(&["", " 1", " 2", " 0"]),
            self.pick(&["", " 1", " 2"]),
            self.pick(&["", " 2", " 1"]),
        );
        let cond = if self.chance(50) { " l0" } else { "" };
        let _ = writeln!(
            out,
            "event e0\nlock l0\nsemaphore s0 {sem}\nbounded_semaphore bs0{bsem}"
        );
        let _ = writeln!(out, "condition c0{cond}\nbarrier b0 {parties}");
        let _ = writeln!(
            out,
            "queue q0{q}\nlifo_queue lq0{lq}\npriority_queue pq0{pq}"
        );
        out
    }

    fn queue(&mut self) -> &'static str {
        self.pick(&["q0", "q0", "lq0", "pq0"])
    }

    fn lockable(&mut self) -> &'static str {
        self.pick(&["l0", "l0", "s0", "bs0", "c0"])
    }

    /// A coordination statement for `site`: an action anywhere, an
    /// awaiting one in tasks.
    pub(super) fn sync_action(&mut self, site: Site) -> Option<String> {
        let roll = self.below(if site.task { 22 } else { 11 });
        Some(match roll {
            0 => "set e0".into(),
            1 => "clear e0".into(),
            2 => format!("release {}", self.lockable()),
            3 => match self.below(3) {
                0 => "notify c0".into(),
                1 => "notify c0 2".into(),
                _ => "notify_all c0".into(),
            },
            4 | 5 => {
                let q = self.queue();
                format!("put_nowait {q} {}", self.pick(ITEMS))
            }
            6 | 7 => format!("get_nowait {}", self.queue()),
            8 => format!("task_done {}", self.queue()),
            9 => format!("check {}", self.sync_condition()),
            10 => format!("release {}", self.lockable()),
            // Task statements.
            11 | 12 => format!("acquire {}", self.lockable()),
            13 => format!("wait {}", self.pick(&["e0", "e0", "c0", "b0"])),
            14 => "wait b0".into(),
            15 | 16 => {
                let q = self.queue();
                format!("put {q} {}", self.pick(ITEMS))
            }
            17 | 18 => format!("get {}", self.queue()),
            19 => format!("join {}", self.queue()),
            20 => "abort b0".into(),
            _ => "reset b0".into(),
        })
    }

    /// A condition on a primitive, without `check`.
    pub(super) fn sync_condition(&mut self) -> String {
        let not = if self.chance(30) { "not " } else { "" };
        let cond = match self.below(6) {
            0 => "is_set e0".to_string(),
            1 => format!("locked {}", self.lockable()),
            2 => format!("empty {}", self.queue()),
            3 => format!("full {}", self.queue()),
            4 => format!("qsize {} == {}", self.queue(), self.pick(&["0", "1", "2"])),
            _ => "broken b0".to_string(),
        };
        format!("{not}{cond}")
    }
}
