//! Random valid scenarios from a seed: shared by the fuzz targets, the
//! mutant tests and differential testing against CPython.
//!
//! [`generate`] writes the text of a scenario that [`parse`](super::parse)
//! accepts, drawn from [`SeededRng`] alone, so a seed and a [`GenConfig`]
//! name one scenario on every machine and for every version of `rand`.
//!
//! ```
//! use loopsim::scenario::generate::{generate, GenConfig};
//! use loopsim::scenario::{parse, run, RunOptions};
//!
//! let source = generate(7, &GenConfig::default());
//! let scenario = parse("gen.scn", &source).unwrap();
//! let outcome = run(&scenario, &RunOptions::default());
//! assert!(!outcome.trace.iter().any(|e| e.kind.name() == "invariant_violated"));
//! ```
//!
//! # Why every generated scenario ends
//! Callback and task blocks get a *rank* (their position in the file). A
//! body may only schedule (`call_soon`, `call_later`, `call_at`,
//! `add_done_callback`) callbacks and create tasks of a higher rank, and at
//! most two such statements per body, so the "schedules" graph is acyclic
//! and the total work is bounded (at most `2^blocks` runs of a body per
//! scheduling statement in `main`). A task only awaits tasks of a higher
//! rank too: cancelling a task in an await cycle makes CPython recurse until
//! `RecursionError`, which loopsim does not reproduce (it cuts the cycle),
//! so such scenarios would only show that known difference. The last callback,
//! `halt`, only calls `stop`: `main` schedules it before `run_forever` so
//! that most runs end with `returned` rather than `idle`.
//!
//! # What is covered
//! Equal deadlines (durations come from a small pool, with different
//! spellings of the same instant, plus an optional burst of
//! [`GenConfig::tie_burst`] timers at one deadline), `as H` handles and
//! `cancel` of handles, tasks and futures, tasks that sleep, yield, await
//! tasks (ranked after them: no await cycles) and futures, `wait_for` them
//! with timeouts that tie with the pool's delays, return and raise,
//! `set_result`/`set_exception` on pending and done futures (`invalid state`), `add_done_callback`, `stop`,
//! `close`, `check`, `log` with bare and quoted text, drivers in bodies
//! (which fail as asyncio's do) and several drivers in a row in `main`.
//! `rand(A, B)` only with [`GenConfig::allow_rand`]; a second loop only
//! with [`GenConfig::other_loop`]; a header only with [`GenConfig::header`];
//! a crowd of timers to thin out only with [`GenConfig::crowd`]; calls on
//! a closed loop (and, with a second loop, completions of `main`'s futures
//! while `l1` is current, and drivers in bodies) mostly with
//! [`GenConfig::closed_loop`].

mod combinators;
mod coordination;

use crate::python::Python;
use crate::rng::{SeededRng, Stream};
use std::fmt::Write as _;

/// What [`generate`] makes. The defaults give scenarios of about twenty
/// statements without `rand`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// About how many statements the scenario has, over every body
    /// (default 20; at least a driver is always written).
    pub statements: usize,
    /// Whether durations may be `rand(A, B)` (default `false`: the
    /// scenario's trace then does not depend on the seed except through
    /// the tie-break policy and jitter).
    pub allow_rand: bool,
    /// Timers `main` schedules at one deadline before its first driver,
    /// each calling its own callback `kN` that logs `kN` (default 0). Eight
    /// or more make the `random` policy's permutation visible.
    pub tie_burst: usize,
    /// At most this many drivers in `main` (default 3, at least 1).
    pub drivers: usize,
    /// A second loop, `l1` (default `false`): `main` makes it and switches
    /// between it and `main` before its rounds, and bodies switch too, so
    /// tasks and drivers meet futures and tasks of the other loop.
    pub other_loop: bool,
    /// A header (default `false`): sometimes a `start_time`, sometimes a
    /// small `max_iterations`, so that runs end by the budget.
    pub header: bool,
    /// Timers `main` schedules before its first driver, each a handle
    /// `hpN` calling its own `pN` that logs `pN`, at a few deadlines; a
    /// callback `thin` then cancels a random share of them (default 0).
    /// Over 100, with over half cancelled, CPython compacts its heap,
    /// which changes the orders of equal deadlines under `heapq`.
    pub crowd: usize,
    /// A `python` header line naming this version (default `None`: no
    /// line, so the run is the default version or the command line's).
    /// It draws nothing from the generator's stream: the same seed gives
    /// the same program under every version.
    pub python: Option<Python>,
    /// `main` closes a loop between its rounds and goes on calling it
    /// (default `false`): it completes and cancels futures and tasks, adds
    /// done callbacks, schedules and creates tasks on the closed loop, all
    /// of which fail as asyncio's do, sometimes from `l1` (with
    /// [`other_loop`](GenConfig::other_loop)), which then runs `main`'s
    /// futures' completions; bodies close loops and run drivers more often.
    pub closed_loop: bool,
    /// asyncio's primitives (default `false`): one of each declared, and
    /// their statements and conditions in every body
    /// (`generate/coordination.rs`). Off, nothing is drawn for them, so the
    /// other settings give the scenarios they always gave.
    pub sync: bool,
    /// The combinators (default `false`): `gather`, `wait` over tasks and
    /// futures, `task_group`, `shield`, and `try`, `timeout`, `timeout_at`
    /// around another statement, in task bodies
    /// (`generate/combinators.rs`). Off, nothing is drawn for them.
    pub combinators: bool,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            statements: 20,
            allow_rand: false,
            tie_burst: 0,
            drivers: 3,
            other_loop: false,
            header: false,
            crowd: 0,
            python: None,
            closed_loop: false,
            sync: false,
            combinators: false,
        }
    }
}

/// The text of a random valid scenario: the same `seed` and `config`
/// always give the same text.
pub fn generate(seed: u64, config: &GenConfig) -> String {
    Gen::new(seed, config).scenario()
}

/// Delays for `call_later` and `sleep`: few values, so deadlines often tie;
/// `1`, `1.0`, `1000ms` and `1s` are one instant written four ways.
const DELAYS: &[&str] = &[
    "0", "1", "1", "1", "1.0", "1000ms", "1s", "2", "2", "0.5", "250ms", "1.5", "-1", "3s", "10us",
    "7ns", "100",
];
/// Absolute times for `call_at` and `check time ==`.
const TIMES: &[&str] = &["0", "1", "1", "2", "2", "2000ms", "0.5", "5", "1.5", "100"];
/// `rand(A, B)` ranges, when allowed.
const RANDS: &[&str] = &[
    "rand(0, 2)",
    "rand(1ms, 5ms)",
    "rand(1, 1)",
    "rand(0, 250ms)",
    "rand(-1, 1)",
];
/// Texts for `log`, `raise` and `set_exception`: bare and quoted.
const TEXTS: &[&str] = &[
    "a",
    "b",
    "hello",
    "two words",
    "x1",
    "\"quoted text\"",
    "\"q\\\"uote\"",
    "\"back\\\\slash\"",
    "\"#not a comment\"",
    "\"line\\nbreak\"",
    "\"\"",
    "é ü",
];
/// Values for `return`, `set_result` and `check result`.
const VALUES: &[&str] = &["none", "0", "1", "42", "-7", "\"s\"", "\"two words\""];

/// What a block is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Callback,
    Task,
}

/// One callback or task block.
struct Node {
    kind: Kind,
    name: String,
    body: Vec<String>,
}

/// Where a statement is written: `main` (rank `None`) or a block's body.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Site {
    rank: Option<usize>,
    task: bool,
}

struct Gen<'c> {
    rng: SeededRng,
    config: &'c GenConfig,
    /// Callback and task blocks by rank, then `halt`, then `k0..`.
    nodes: Vec<Node>,
    futures: Vec<String>,
    /// Handle names bound by a statement written so far.
    handles: Vec<String>,
    /// Task instance names bound by a statement written so far.
    instances: Vec<String>,
    /// Statements left to write.
    budget: usize,
}

impl<'c> Gen<'c> {
    fn new(seed: u64, config: &'c GenConfig) -> Gen<'c> {
        let mut rng = SeededRng::new(seed, Stream::Program);
        let scale = (config.statements / 10).clamp(1, 3) as u64;
        let callbacks = 1 + rng.below(2 * scale + 1) as usize;
        let tasks = rng.below(2 * scale) as usize;
        let futures = rng.below(scale + 2) as usize;
        let mut nodes = Vec::new();
        let (mut c, mut t) = (0, 0);
        while c < callbacks || t < tasks {
            let task = c == callbacks || (t < tasks && rng.below(2) == 0);
            let (kind, name) = if task {
                (Kind::Task, format!("t{t}"))
            } else {
                (Kind::Callback, format!("cb{c}"))
            };
            if task {
                t += 1;
            } else {
                c += 1;
            }
            nodes.push(Node {
                kind,
                name,
                body: Vec::new(),
            });
        }
        nodes.push(Node {
            kind: Kind::Callback,
            name: "halt".into(),
            body: vec!["stop".into()],
        });
        for k in 0..config.tie_burst {
            nodes.push(Node {
                kind: Kind::Callback,
                name: format!("k{k}"),
                body: vec![format!("log k{k}")],
            });
        }
        if config.crowd > 0 {
            for k in 0..config.crowd {
                nodes.push(Node {
                    kind: Kind::Callback,
                    name: format!("p{k}"),
                    body: vec![format!("log p{k}")],
                });
            }
            nodes.push(Node {
                kind: Kind::Callback,
                name: "thin".into(),
                body: Vec::new(), // written with `main`
            });
        }
        Gen {
            rng,
            config,
            nodes,
            futures: (0..futures).map(|f| format!("f{f}")).collect(),
            handles: Vec::new(),
            instances: Vec::new(),
            budget: config.statements.max(1),
        }
    }

    fn scenario(mut self) -> String {
        // `main` first, so that bodies can cancel its handles and await its
        // tasks; then the bodies from the highest rank down, so that a body
        // sees the instances the bodies it may create were given.
        let main = self.main();
        let generated = self
            .nodes
            .iter()
            .position(|n| n.name == "halt")
            .unwrap_or(self.nodes.len());
        let share = self.budget / generated.max(1);
        for rank in (0..generated).rev() {
            let len = 1 + self.below(share.clamp(1, 4) + 1);
            let site = Site {
                rank: Some(rank),
                task: self.nodes[rank].kind == Kind::Task,
            };
            self.nodes[rank].body = self.body(site, len);
        }
        let mut out = String::new();
        if let Some(version) = self.config.python {
            let _ = writeln!(out, "python {version}");
        }
        if self.config.header {
            if self.chance(50) {
                let start = self.pick(&["1", "100", "0.5", "-2"]);
                let _ = writeln!(out, "start_time {start}");
            }
            if self.chance(50) {
                let budget = self.pick(&["1", "3", "5", "8", "13", "40"]);
                let _ = writeln!(out, "max_iterations {budget}");
            }
        }
        for f in &self.futures {
            let _ = writeln!(out, "future {f}");
        }
        if self.config.sync {
            let declarations = self.sync_declarations();
            out.push_str(&declarations);
        }
        for node in &self.nodes {
            if !out.is_empty() {
                out.push('\n');
            }
            let keyword = if node.kind == Kind::Task {
                "task"
            } else {
                "callback"
            };
            let _ = writeln!(out, "{keyword} {}:", node.name);
            for stmt in &node.body {
                let _ = writeln!(out, "    {stmt}");
            }
        }
        out.push_str("\nmain:\n");
        for stmt in main {
            let _ = writeln!(out, "    {stmt}");
        }
        out
    }

    // ----- draws ------------------------------------------------------

    fn below(&mut self, bound: usize) -> usize {
        self.rng.below(bound.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, from: &'a [&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn pick_owned(&mut self, from: &[String]) -> Option<String> {
        (!from.is_empty()).then(|| from[self.below(from.len())].clone())
    }

    fn delay(&mut self) -> String {
        if self.config.allow_rand && self.chance(25) {
            return self.pick(RANDS).into();
        }
        self.pick(DELAYS).into()
    }

    fn time(&mut self) -> String {
        if self.config.allow_rand && self.chance(20) {
            return self.pick(RANDS).into();
        }
        self.pick(TIMES).into()
    }

    fn text(&mut self) -> String {
        self.pick(TEXTS).into()
    }

    fn value(&mut self) -> String {
        self.pick(VALUES).into()
    }

    /// A block of `kind` with a rank above `site`'s.
    fn later(&mut self, site: Site, kind: Kind) -> Option<String> {
        let from = site.rank.map_or(0, |r| r + 1);
        let names: Vec<String> = self
            .nodes
            .iter()
            .skip(from)
            .filter(|n| n.kind == kind)
            .map(|n| n.name.clone())
            .collect();
        self.pick_owned(&names)
    }

    /// ` as hN` (a new handle) half of the time.
    fn maybe_handle(&mut self) -> String {
        if self.chance(50) {
            let name = format!("h{}", self.handles.len());
            self.handles.push(name.clone());
            format!(" as {name}")
        } else {
            String::new()
        }
    }

    /// A task instance or future, for `await`, `add_done_callback`, `check`.
    fn awaitable(&mut self) -> Option<String> {
        let use_instance =
            !self.instances.is_empty() && (self.futures.is_empty() || self.chance(50));
        if use_instance {
            let instances = self.instances.clone();
            self.pick_owned(&instances)
        } else {
            let futures = self.futures.clone();
            self.pick_owned(&futures)
        }
    }

    /// What a task at `site` may `await`: a future, or an instance of a
    /// task body ranked after it. Awaits never form a cycle: cancelling a
    /// task in one recurses in CPython until `RecursionError`, which
    /// loopsim does not reproduce.
    fn awaitable_later(&mut self, site: Site) -> Option<String> {
        let rank = site.rank.unwrap_or(0);
        let later: Vec<String> = self
            .instances
            .iter()
            .filter(|i| {
                let body = i.split('_').next().unwrap_or(i);
                self.nodes
                    .iter()
                    .position(|n| n.name == body)
                    .is_some_and(|r| r > rank)
            })
            .cloned()
            .collect();
        if !later.is_empty() && (self.futures.is_empty() || self.chance(50)) {
            self.pick_owned(&later)
        } else {
            let futures = self.futures.clone();
            self.pick_owned(&futures)
        }
    }

    fn cancellable(&mut self) -> Option<String> {
        if !self.handles.is_empty() && self.chance(50) {
            let handles = self.handles.clone();
            return self.pick_owned(&handles);
        }
        self.awaitable()
    }

    // ----- statements -------------------------------------------------

    fn body(&mut self, site: Site, len: usize) -> Vec<String> {
        let mut stmts = Vec::new();
        let mut spawns = 0;
        while stmts.len() < len {
            let Some((stmt, spawn)) = self.action(site, spawns < 2) else {
                continue;
            };
            self.budget = self.budget.saturating_sub(1);
            spawns += usize::from(spawn);
            let ends = stmt.starts_with("raise ") || stmt.starts_with("return ");
            stmts.push(stmt);
            if ends {
                break;
            }
        }
        if site.task && self.chance(30) {
            stmts.push(format!("return {}", self.value()));
        }
        stmts
    }

    /// One statement for `site`, and whether it schedules or creates
    /// something; `None` when the draw does not fit (draw again).
    fn action(&mut self, site: Site, may_spawn: bool) -> Option<(String, bool)> {
        let task_weight = if site.task { 12 } else { 0 };
        // `main` mostly schedules: the blocks run only if something does.
        let roll = if site.rank.is_none() && self.chance(60) {
            4 + self.below(12)
        } else {
            self.below(40 + task_weight)
        };
        let spawn = |s: String| Some((s, true));
        let plain = |s: String| Some((s, false));
        if self.config.other_loop && self.chance(5) {
            return plain(self.switch_loop());
        }
        if self.config.sync && self.chance(30) {
            return plain(self.sync_action(site)?);
        }
        if self.config.combinators && site.task && self.chance(25) {
            return self.combinator(site, may_spawn, 0);
        }
        match roll {
            0..=3 => plain(format!("log {}", self.text())),
            4..=6 if may_spawn => {
                let cb = self.later(site, Kind::Callback)?;
                spawn(format!("call_soon {cb}{}", self.maybe_handle()))
            }
            7..=10 if may_spawn => {
                let cb = self.later(site, Kind::Callback)?;
                let delay = self.delay();
                spawn(format!("call_later {delay} {cb}{}", self.maybe_handle()))
            }
            11..=12 if may_spawn => {
                let cb = self.later(site, Kind::Callback)?;
                let time = self.time();
                spawn(format!("call_at {time} {cb}{}", self.maybe_handle()))
            }
            13..=15 if may_spawn => {
                let task = self.later(site, Kind::Task)?;
                if self.chance(30) {
                    let name = format!("{task}_{}", self.instances.len());
                    self.instances.push(name.clone());
                    spawn(format!("create_task {task} as {name}"))
                } else {
                    if !self.instances.contains(&task) {
                        self.instances.push(task.clone());
                    }
                    spawn(format!("create_task {task}"))
                }
            }
            16..=18 => plain(format!("cancel {}", self.cancellable()?)),
            19..=21 => {
                let futures = self.futures.clone();
                let f = self.pick_owned(&futures)?;
                if self.chance(30) {
                    plain(format!("set_result {f}"))
                } else {
                    plain(format!("set_result {f} {}", self.value()))
                }
            }
            22..=23 => {
                let futures = self.futures.clone();
                let f = self.pick_owned(&futures)?;
                plain(format!("set_exception {f} {}", self.text()))
            }
            24..=25 if may_spawn => {
                let target = self.awaitable()?;
                let cb = self.later(site, Kind::Callback)?;
                spawn(format!("add_done_callback {target} {cb}"))
            }
            26..=27 if site.rank.is_some() => plain("stop".into()),
            28..=31 => plain(self.check()?),
            32 if site.rank.is_some() => plain(format!("raise {}", self.text())),
            33 if site.rank.is_some() && (self.config.closed_loop || self.chance(30)) => {
                plain("close".into())
            }
            34 if site.rank.is_some() && (self.config.closed_loop || self.chance(30)) => {
                // A driver inside a running loop fails, as in asyncio.
                if self.chance(50) {
                    plain("run_forever".into())
                } else {
                    plain(format!("run_until_complete {}", self.awaitable()?))
                }
            }
            35..=39 => plain(format!("log {}", self.text())),
            40..=42 => plain(format!("sleep {}", self.delay())),
            43..=44 => plain("yield".into()),
            45..=47 => plain(format!("await {}", self.awaitable_later(site)?)),
            48 => plain(format!(
                "wait_for {} {}",
                self.awaitable_later(site)?,
                self.pick(&["0", "-1", "1", "1", "2", "500ms", "1.5", "3"])
            )),
            49 => plain(format!("return {}", self.value())),
            50 => plain(format!("raise {}", self.text())),
            51 => plain(format!("sleep {}", self.pick(&["0", "-1", "1", "1"]))),
            _ => None,
        }
    }

    fn check(&mut self) -> Option<String> {
        let not = if self.chance(30) { "not " } else { "" };
        let cond = match self.below(6) {
            0 => "is_running".to_string(),
            1 => "is_closed".to_string(),
            2 => format!("done {}", self.awaitable()?),
            3 => format!("cancelled {}", self.awaitable()?),
            4 => {
                let x = self.awaitable()?;
                format!("result {x} == {}", self.value())
            }
            _ => format!("time == {}", self.pick(TIMES)),
        };
        Some(format!("check {not}{cond}"))
    }

    /// The crowd's timers, and `thin`'s body: the cancels.
    fn crowd(&mut self) -> Vec<String> {
        let mut stmts = Vec::new();
        for k in 0..self.config.crowd {
            let delay = self.pick(&["1", "1", "2", "0.5", "1.5", "3"]);
            stmts.push(format!("call_later {delay} p{k} as hp{k}"));
        }
        let share = self.pick(&["30", "50", "55", "70", "90"]);
        let share: usize = share.parse().unwrap_or(50);
        let cancels: Vec<String> = (0..self.config.crowd)
            .filter(|_| self.chance(share))
            .map(|k| format!("cancel hp{k}"))
            .collect();
        if let Some(thin) = self.nodes.iter_mut().find(|n| n.name == "thin") {
            thin.body = if cancels.is_empty() {
                vec!["log nothing_cancelled".into()]
            } else {
                cancels
            };
        }
        stmts.push(
            self.pick(&["call_soon thin", "call_later 1 thin", "call_later 0.5 thin"])
                .into(),
        );
        stmts
    }

    /// `set_event_loop` to `l1` or back to `main`.
    fn switch_loop(&mut self) -> String {
        format!("set_event_loop {}", self.pick(&["l1", "l1", "main"]))
    }

    /// `main`: a few rounds of setup statements, each ended by a driver.
    fn main(&mut self) -> Vec<String> {
        let mut stmts = Vec::new();
        let site = Site {
            rank: None,
            task: false,
        };
        let drivers = 1 + self.below(self.config.drivers.max(1));
        let per_round = (self.budget * 2 / 5 / drivers).max(1);
        for round in 0..drivers {
            if self.config.other_loop {
                if round == 0 {
                    stmts.push("new_event_loop l1".into());
                }
                if self.chance(50) {
                    stmts.push(self.switch_loop());
                }
            }
            if round == 0 && self.config.tie_burst > 0 {
                let delay = self.pick(&["1", "2", "0.5"]).to_string();
                for k in 0..self.config.tie_burst {
                    stmts.push(format!("call_later {delay} k{k}"));
                }
            }
            if round == 0 && self.config.crowd > 0 {
                stmts.extend(self.crowd());
            }
            let setup = self.below(per_round + 1);
            let mut written = 0;
            while written < setup {
                if let Some((stmt, _)) = self.action(site, true) {
                    self.budget = self.budget.saturating_sub(1);
                    stmts.push(stmt);
                    written += 1;
                }
            }
            stmts.extend(self.driver());
            if self.chance(20) {
                stmts.push(
                    self.check()
                        .unwrap_or_else(|| "check not is_running".into()),
                );
            }
            if self.config.closed_loop && round + 1 < drivers && self.chance(30) {
                stmts.extend(self.closing());
            }
        }
        if self.config.closed_loop && self.chance(40) {
            stmts.extend(self.closing());
        } else if self.chance(15) {
            stmts.push("close".into());
            if self.chance(50) {
                stmts.push("run_forever".into());
            }
        }
        stmts
    }

    /// `close`, then calls on the closed loop, each failing as asyncio's
    /// does: completing a future (its done callbacks refused), cancelling
    /// a future or a task (a sleeping one, one awaiting, one in
    /// `wait_for`), adding a done callback, scheduling, creating a task,
    /// driving. With a second loop, half of the time from `l1`: `main`'s
    /// futures are then completed while another loop is current.
    fn closing(&mut self) -> Vec<String> {
        let mut stmts = vec!["close".to_string()];
        if self.config.other_loop && self.chance(50) {
            stmts.push(self.switch_loop());
        }
        let site = Site {
            rank: None,
            task: false,
        };
        let calls = 1 + self.below(4);
        while stmts.len() < calls + 1 {
            let stmt = match self.below(10) {
                0 | 1 => self.pick_owned(&self.futures.clone()).map(|f| {
                    if self.chance(50) {
                        format!("set_result {f} {}", self.value())
                    } else {
                        format!("set_exception {f} {}", self.text())
                    }
                }),
                2..=4 => self.cancellable().map(|x| format!("cancel {x}")),
                5 => self.awaitable().and_then(|x| {
                    let cb = self.later(site, Kind::Callback)?;
                    Some(format!("add_done_callback {x} {cb}"))
                }),
                6 | 7 => self.action(site, true).map(|(stmt, _)| stmt),
                8 => self.check(),
                _ => Some(
                    self.pick(&["run_forever", "stop", "log closed"])
                        .to_string(),
                ),
            };
            if let Some(stmt) = stmt {
                self.budget = self.budget.saturating_sub(1);
                stmts.push(stmt);
            }
        }
        stmts
    }

    /// A driver for `main`, with what makes it end.
    fn driver(&mut self) -> Vec<String> {
        let mut stmts = Vec::new();
        let runnable = self.instances.len() + self.futures.len();
        let task_bodies: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.kind == Kind::Task)
            .map(|n| n.name.clone())
            .collect();
        if self.chance(50) && (runnable > 0 || !task_bodies.is_empty()) {
            let target = if !task_bodies.is_empty() && (runnable == 0 || self.chance(30)) {
                let body = self.pick_owned(&task_bodies);
                if let Some(body) = &body {
                    if !self.instances.contains(body) {
                        self.instances.push(body.clone());
                    }
                }
                body
            } else {
                self.awaitable()
            };
            if let Some(target) = target {
                if self.chance(15) {
                    // Stopped before the future is done.
                    stmts.push(format!("call_later {} halt", self.pick(&["0", "1", "2"])));
                }
                stmts.push(format!("run_until_complete {target}"));
                return stmts;
            }
        }
        match self.below(4) {
            0 => stmts.push("stop".into()),
            1 => stmts.push("call_soon halt".into()),
            2 => {
                let delay = self.delay();
                stmts.push(format!("call_later {delay} halt{}", self.maybe_handle()));
            }
            _ => {} // ends idle, or by a `stop` in some body
        }
        stmts.push("run_forever".into());
        stmts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, print, run, RunOptions};

    #[test]
    fn thousands_of_seeds_parse_and_print_back() {
        let configs = [
            GenConfig::default(),
            GenConfig {
                statements: 5,
                drivers: 1,
                ..GenConfig::default()
            },
            GenConfig {
                statements: 40,
                allow_rand: true,
                tie_burst: 8,
                drivers: 4,
                other_loop: true,
                header: true,
                crowd: 0,
                python: Some(Python::V3_11),
                closed_loop: true,
                sync: true,
                combinators: true,
            },
            GenConfig {
                crowd: 120,
                ..GenConfig::default()
            },
        ];
        for config in &configs {
            for seed in 0..3000 {
                let source = generate(seed, config);
                let scenario = match parse("gen.scn", &source) {
                    Ok(s) => s,
                    Err(e) => panic!("seed {seed}, {config:?}: {e:?}\n{source}"),
                };
                let printed = print(&scenario);
                let again = parse("printed.scn", &printed).expect("printed text parses");
                assert_eq!(
                    print(&again),
                    printed,
                    "seed {seed}: print is not idempotent"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_text_and_no_rand_unless_allowed() {
        let config = GenConfig::default();
        assert_eq!(generate(3, &config), generate(3, &config));
        assert_ne!(generate(3, &config), generate(4, &config));
        for seed in 0..500 {
            assert!(!generate(seed, &config).contains("rand("));
        }
        let rand = GenConfig {
            allow_rand: true,
            ..config
        };
        assert!((0..200).any(|seed| generate(seed, &rand).contains("rand(")));
    }

    /// `closed_loop` writes the classes of calls a differential run needs
    /// to see: calls on a closed loop, completions of `main`'s futures
    /// from `main` while `l1` is current, and drivers in bodies.
    #[test]
    fn closed_loop_scenarios_call_closed_loops() {
        let config = GenConfig {
            other_loop: true,
            closed_loop: true,
            ..GenConfig::default()
        };
        let (mut after_close, mut cross_loop, mut body_drivers, mut refused) = (0, 0, 0, 0);
        for seed in 0..200 {
            let source = generate(seed, &config);
            let (bodies, main) = source.split_at(source.find("\nmain:\n").unwrap());
            let main: Vec<&str> = main.lines().map(str::trim).collect();
            let completes = |l: &&str| {
                ["set_result", "set_exception", "cancel", "add_done_callback"]
                    .iter()
                    .any(|call| l.starts_with(call))
            };
            if let Some(close) = main.iter().position(|l| *l == "close") {
                after_close += usize::from(main[close..].iter().any(completes));
            }
            let mut on_l1 = false;
            for line in &main {
                match *line {
                    "set_event_loop l1" => on_l1 = true,
                    "set_event_loop main" => on_l1 = false,
                    l if on_l1
                        && (l.starts_with("set_result") || l.starts_with("set_exception")) =>
                    {
                        cross_loop += 1;
                        break;
                    }
                    _ => {}
                }
            }
            body_drivers += usize::from(
                bodies.contains("    run_forever") || bodies.contains("    run_until_complete"),
            );
            let outcome = run(&parse("gen.scn", &source).unwrap(), &RunOptions::default());
            refused += usize::from(outcome.trace.iter().any(|e| {
                matches!(&e.kind, crate::trace::EventKind::Error { message } if &**message == "Event loop is closed")
            }));
        }
        for (class, count) in [
            ("calls after close in main", after_close),
            ("completions while l1 is current", cross_loop),
            ("drivers in bodies", body_drivers),
            ("refusals of a closed loop", refused),
        ] {
            assert!(count >= 20, "{class}: {count} of 200 scenarios");
        }
    }

    #[test]
    fn generated_scenarios_run_and_end() {
        for seed in 0..300 {
            let source = generate(
                seed,
                &GenConfig {
                    allow_rand: true,
                    tie_burst: 3,
                    other_loop: seed % 3 == 0,
                    closed_loop: seed % 2 == 0,
                    combinators: seed % 2 == 1,
                    ..GenConfig::default()
                },
            );
            let scenario = parse("gen.scn", &source).unwrap();
            let outcome = run(&scenario, &RunOptions::default());
            assert!(
                !outcome
                    .trace
                    .iter()
                    .any(|e| matches!(e.kind.name(), "invariant_violated" | "budget")),
                "seed {seed}:\n{source}\n{}",
                crate::trace::render(&outcome.trace, crate::trace::Format::Text)
            );
        }
    }
}
