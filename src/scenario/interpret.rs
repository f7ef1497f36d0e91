//! Runs a scenario on the library's loop: no second engine.
//!
//! Callback blocks become closures, task blocks become Rust `async` blocks
//! driven by [`Task`], and `main` calls the drivers, so a scenario and the
//! same program written against the Rust API produce the same trace.
//!
//! Names behave like Python variables: `as H` binds a handle when the
//! statement runs, `create_task T as N` binds a task. Using a name before
//! anything bound it records Python's `name 'X' is not defined` and goes on.

use super::ast::{BlockKind, Body, Cond, Dur, Name, ReturnWhen, Scenario, Stmt, StmtKind};
use super::primitives::{self, Prim};
use super::settings::{Overrides, Settings};
use crate::combinators::{
    gather, gather_return_exceptions, shield, timeout, timeout_at, wait, TaskGroup,
};
use crate::error::Error;
use crate::event_loop::callback::{self, Callback, Label, Scheduled, Shows};
use crate::event_loop::{Budget, EventLoop, EventSink, Handle, LoopConfig};
use crate::future::{Awaitable, Future, Wait, Waitable};
use crate::loop_state::PassState;
use crate::task::{sleep, wait_for, yield_now, Task};
use crate::tie_break::TieDecision;
use crate::time::{Instant, Nanos};
use crate::trace::{Event, EventKind};
use crate::value::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// How to run a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Flags that override the header.
    pub overrides: Overrides,
    /// Record the trace (off: only failures are counted).
    pub record_trace: bool,
    /// Check the loop's invariants.
    pub check_invariants: bool,
    /// Record the loop's state at each pass and each event's statement
    /// ([`Outcome::states`], [`Outcome::sources`]).
    pub record_state: bool,
    /// A deliberate bug in the loop (test builds only).
    #[cfg(feature = "mutants")]
    pub mutant: Option<crate::mutant::Mutant>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            overrides: Overrides::default(),
            record_trace: true,
            check_invariants: true,
            record_state: false,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The settings it ran with (to replay it).
    pub settings: Settings,
    /// Every event, in order (empty when streamed or not recorded).
    pub trace: Vec<Event>,
    /// How many events the run recorded, kept or not.
    pub events: u64,
    /// The first failure (a failed check, a violated invariant or the
    /// budget), if any: the run's exit status is 1.
    pub failure: Option<Event>,
    /// The choices the tie-order script made (empty without
    /// [`Overrides::tie_order`]).
    pub tie_decisions: Vec<TieDecision>,
    /// The loops' states at the start of each pass (empty without
    /// [`RunOptions::record_state`]).
    pub states: Vec<PassState>,
    /// For each event of `trace`, the byte offset of the statement that
    /// recorded it plus one, or 0 for the loop's own (a callback's `call`,
    /// a task's `step`); empty without [`RunOptions::record_state`].
    pub sources: Vec<u32>,
}

impl Outcome {
    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }
}

/// Runs `scenario` with `options`.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Outcome {
    Prepared::new(scenario).run(options)
}

/// Runs `scenario` with `options`, handing each event to `sink` as it is
/// recorded rather than keeping it ([`EventLoop::stream_trace`]): the
/// outcome's `trace` is empty, its `events` and `failure` are those of
/// the run, and memory does not grow with the trace.
pub fn run_streamed(scenario: &Scenario, options: &RunOptions, sink: EventSink) -> Outcome {
    Prepared::new(scenario).run_streamed(options, sink)
}

/// [`run_streamed`], handing back what the run leaves (its loops, their
/// queues and invariant checker, the interpreter) instead of freeing it
/// before returning. Dropping the [`Remains`] frees all of it, as
/// `run_streamed` does; a command about to exit may forget them instead
/// (`std::mem::forget`), as `loopsim run` does: the process ends anyway,
/// and freeing a big run's memory piece by piece (and giving it back to
/// the system) takes a few percent of the run.
pub fn run_streamed_keeping(
    scenario: &Scenario,
    options: &RunOptions,
    sink: EventSink,
) -> (Outcome, Remains) {
    let (outcome, interp) = Prepared::new(scenario).run_kept(options, Some(sink));
    (outcome, Remains { interp })
}

/// What a run leaves: see [`run_streamed_keeping`]. Dropping it breaks
/// the cycles between the loops' queues and the interpreter and frees
/// them.
pub struct Remains {
    interp: Rc<Interp>,
}

impl Drop for Remains {
    fn drop(&mut self) {
        self.interp.tear_down();
    }
}

/// A scenario made ready to run many times, as `explore` runs it once or
/// twice per seed: its callback and task bodies are built once and shared
/// by every run, rather than copied into each. Not `Send` (bodies are
/// `Rc`s): each thread prepares its own.
pub struct Prepared<'a> {
    scenario: &'a Scenario,
    bodies: Rc<Bodies>,
}

/// The callback and task blocks' bodies, by name.
#[derive(Default)]
struct Bodies {
    callbacks: BTreeMap<Rc<str>, SharedBody>,
    tasks: BTreeMap<Rc<str>, SharedBody>,
}

impl<'a> Prepared<'a> {
    /// `scenario`, ready to run.
    pub fn new(scenario: &'a Scenario) -> Prepared<'a> {
        let mut bodies = Bodies::default();
        for block in &scenario.blocks {
            let name = block.name.text.clone();
            match &block.kind {
                BlockKind::Callback(body) => {
                    drop(bodies.callbacks.insert(name, Rc::new(body.clone())))
                }
                BlockKind::Task(body) => drop(bodies.tasks.insert(name, Rc::new(body.clone()))),
                BlockKind::Future | BlockKind::Primitive(_) => {}
            }
        }
        Prepared {
            scenario,
            bodies: Rc::new(bodies),
        }
    }

    /// Runs the scenario with `options`: what [`run`] gives.
    pub fn run(&self, options: &RunOptions) -> Outcome {
        self.run_to(options, None)
    }

    /// Runs the scenario with `options`, streaming its events to `sink`:
    /// what [`run_streamed`] gives.
    pub fn run_streamed(&self, options: &RunOptions, sink: EventSink) -> Outcome {
        self.run_to(options, Some(sink))
    }

    fn run_to(&self, options: &RunOptions, sink: Option<EventSink>) -> Outcome {
        let (outcome, interp) = self.run_kept(options, sink);
        interp.tear_down();
        outcome
    }

    /// The run, and its interpreter not yet torn down.
    fn run_kept(&self, options: &RunOptions, sink: Option<EventSink>) -> (Outcome, Rc<Interp>) {
        let scenario = self.scenario;
        let settings = Settings::resolve(scenario, &options.overrides);
        let config = LoopConfig {
            #[cfg(feature = "mutants")]
            mutant: options.mutant,
            ..settings.loop_config(true, options.check_invariants)
        };
        let config = LoopConfig {
            record_trace: options.record_trace || config.check_invariants,
            record_state: options.record_state,
            ..config
        };
        let interp = Interp::new(scenario, self.bodies.clone(), config);
        match sink {
            Some(sink) => interp.main_loop.stream_trace(sink),
            // Recorded only for its failures: nothing is kept.
            None if !options.record_trace => interp.main_loop.stream_trace(|_| {}),
            None => {}
        }
        interp.run_main(&scenario.main.body);
        let trace = interp.main_loop.take_trace();
        let events = interp.main_loop.events_recorded();
        let failure = interp.main_loop.first_failure();
        let tie_decisions = interp.main_loop.tie_decisions();
        let states = interp.main_loop.take_states();
        let sources = interp.main_loop.take_sources();
        let outcome = Outcome {
            settings,
            trace,
            events,
            failure,
            tie_decisions,
            states,
            sources,
        };
        (outcome, interp)
    }
}

/// A callback or task body, shared by every run of it.
type SharedBody = Rc<Body>;

/// A callback block bound to a run's interpreter: what its scheduled
/// callbacks hold. The interpreter is held weakly (it holds these), so
/// nothing here needs breaking at the end.
struct Bound {
    name: Rc<str>,
    interp: std::rc::Weak<Interp>,
    body: SharedBody,
}

/// The callback blocks bound to an interpreter: the last one asked for
/// (most statements repeat it), and all by name.
#[derive(Default)]
struct BoundBlocks {
    last: Option<Rc<Bound>>,
    by_name: BTreeMap<Rc<str>, Rc<Bound>>,
}

/// A scheduled run of a callback block.
struct BoundCallback(Rc<Bound>);

impl Scheduled for BoundCallback {
    const SHOWS: Shows = Shows::Named;

    fn label(&self) -> Label<'_> {
        Label::User(&self.0.name)
    }

    fn run(self, _: &EventLoop) -> Result<(), Error> {
        match self.0.interp.upgrade() {
            Some(interp) => interp.run_callback(&self.0.body),
            // Torn down: nothing runs any more.
            None => Ok(()),
        }
    }
}

struct Interp {
    bodies: Rc<Bodies>,
    futures: BTreeMap<Rc<str>, Future<Value>>,
    /// The declared primitives, made at the start.
    prims: BTreeMap<Rc<str>, Prim>,
    handles: RefCell<BTreeMap<Rc<str>, Handle>>,
    /// The callback blocks bound so far.
    bound: RefCell<BoundBlocks>,
    tasks: RefCell<BTreeMap<Rc<str>, Task<Value>>>,
    /// Every task created, including those whose name was rebound.
    all_tasks: RefCell<Vec<Task<Value>>>,
    loops: RefCell<BTreeMap<Rc<str>, EventLoop>>,
    main_loop: EventLoop,
    current: RefCell<EventLoop>,
    /// The budget ran out: the scenario is over.
    over: Cell<bool>,
}

/// Where a body runs, which decides what `raise` does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Site {
    Main,
    Body,
}

/// How a statement ended.
enum Flow {
    Next,
    Raise(Error),
    Over,
}

impl Interp {
    fn new(scenario: &Scenario, bodies: Rc<Bodies>, config: LoopConfig) -> Rc<Interp> {
        let main_loop = config.build();
        let mut futures = BTreeMap::new();
        for block in &scenario.blocks {
            if let BlockKind::Future = block.kind {
                let name = block.name.text.clone();
                futures.insert(name.clone(), main_loop.create_future_named(name));
            }
        }
        let prims = primitives::make_all(scenario.blocks.iter().filter_map(|b| match &b.kind {
            BlockKind::Primitive(p) => Some((&b.name.text, p)),
            _ => None,
        }));
        let loops = BTreeMap::from([(Rc::from("main"), main_loop.clone())]);
        Rc::new(Interp {
            bodies,
            futures,
            prims,
            handles: RefCell::new(BTreeMap::new()),
            bound: RefCell::default(),
            tasks: RefCell::new(BTreeMap::new()),
            all_tasks: RefCell::new(Vec::new()),
            loops: RefCell::new(loops),
            current: RefCell::new(main_loop.clone()),
            main_loop,
            over: Cell::new(false),
        })
    }

    /// Breaks the reference cycles between the loops' queues and this
    /// interpreter, so a run leaves nothing behind.
    fn tear_down(&self) {
        for lp in self.loops.borrow().values() {
            let _ = lp.close();
        }
        self.handles.borrow_mut().clear();
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        drop(tasks);
        // A task still pending holds its body, which holds this interpreter
        // and what it awaits, whose done callbacks hold the task.
        let all_tasks = std::mem::take(&mut *self.all_tasks.borrow_mut());
        for task in &all_tasks {
            task.clear_for_teardown();
        }
        drop(all_tasks);
        for future in self.futures.values() {
            future.0.clear_callbacks();
        }
        self.loops.borrow_mut().clear();
    }

    /// The loop statements act on: the current loop (`main` until a
    /// `set_event_loop`), in `main` and in bodies alike (DESIGN.md, decision 8).
    fn acting_loop(&self) -> EventLoop {
        self.current.borrow().clone()
    }

    fn run_main(self: &Rc<Self>, body: &Body) {
        for stmt in &body.stmts {
            let lp = self.acting_loop();
            at(&lp, stmt);
            let flow = lp.run_statement(|| self.exec(&lp, stmt, Site::Main));
            if !self.over.get() && lp.trace_overflowed() {
                // Events past the budget were dropped: say so, and stop.
                lp.out_of_budget(Budget::Events);
                return;
            }
            match flow {
                Flow::Next => {}
                Flow::Over => return,
                Flow::Raise(error) => {
                    lp.record(EventKind::Exception {
                        name: "main".into(),
                        message: error.to_string().into(),
                    });
                    return;
                }
            }
        }
    }

    /// A callback block's body, run to the end or to `raise`.
    fn run_callback(self: &Rc<Self>, body: &Body) -> Result<(), Error> {
        for stmt in &body.stmts {
            let lp = self.acting_loop();
            at(&lp, stmt);
            match self.exec(&lp, stmt, Site::Body) {
                Flow::Next => {}
                Flow::Over => return Ok(()),
                Flow::Raise(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// A task block's body as a Rust `async` block.
    async fn run_task(self: Rc<Self>, body: SharedBody) -> Result<Value, Error> {
        for stmt in &body.stmts {
            if let Some(value) = self.task_stmt(stmt, false).await? {
                return Ok(value);
            }
        }
        Ok(Value::None)
    }

    /// One statement of a task body: `Some` for `return`. `catching` is
    /// whether a `try` encloses it: a failing call that does not await is
    /// then raised (for the `try` to catch) instead of recorded as an
    /// `error` event with the body going on.
    async fn task_stmt(
        self: &Rc<Self>,
        stmt: &Stmt,
        catching: bool,
    ) -> Result<Option<Value>, Error> {
        let lp = self.acting_loop();
        at(&lp, stmt);
        match &stmt.kind {
            StmtKind::Sleep(dur) => sleep(Nanos(self.nanos(&lp, dur))).await?,
            StmtKind::Yield => yield_now().await?,
            StmtKind::Return(value) => return Ok(Some(value.clone())),
            StmtKind::Await(name) => match self.awaited(name) {
                Some(awaited) => drop(Wait::new(awaited).await?),
                None => unbound_in(&lp, name, catching)?,
            },
            // The name is looked up before the timeout is drawn, as
            // Python evaluates the arguments left to right.
            StmtKind::WaitFor { target, timeout } => match self.awaited(target) {
                Some(awaited) => {
                    let timeout = Nanos(self.nanos(&lp, timeout));
                    drop(wait_for(awaited, timeout).await?);
                }
                None => unbound_in(&lp, target, catching)?,
            },
            StmtKind::Shield(target) => match self.awaited(target) {
                Some(awaited) => drop(shield(awaited).await?),
                None => unbound_in(&lp, target, catching)?,
            },
            StmtKind::Wait(x) if !self.prims.contains_key(&x.text) => {
                self.wait_tasks(&lp, std::slice::from_ref(x), &None, None, catching)
                    .await?
            }
            StmtKind::WaitTasks {
                targets,
                timeout,
                return_when,
            } => {
                self.wait_tasks(&lp, targets, timeout, *return_when, catching)
                    .await?
            }
            StmtKind::Gather {
                targets,
                return_exceptions,
            } => {
                if let Some(aws) = self.all_awaited(&lp, targets, catching)? {
                    if *return_exceptions {
                        drop(gather_return_exceptions(aws).await?);
                    } else {
                        drop(gather(aws).await?);
                    }
                }
            }
            StmtKind::TaskGroup(children) => self.task_group(children).await?,
            StmtKind::Wait(_)
            | StmtKind::Acquire(_)
            | StmtKind::Put { .. }
            | StmtKind::Get(_)
            | StmtKind::Join(_)
            | StmtKind::Abort(_)
            | StmtKind::Reset(_) => {
                let outcome = primitives::exec_await(&self.prims, &stmt.kind).await;
                if let (Some(value), StmtKind::Get(queue)) =
                    (outcome.transpose()?.flatten(), &stmt.kind)
                {
                    primitives::got(&self.acting_loop(), queue, value);
                }
            }
            StmtKind::Try(body) => {
                return match Box::pin(self.task_stmt(body, true)).await {
                    Err(error) if !error.is_cancelled() => {
                        self.acting_loop().record(EventKind::Caught {
                            message: caught_message(&error).into(),
                        });
                        Ok(None)
                    }
                    other => other,
                };
            }
            StmtKind::Timeout { delay, body } => {
                let delay = Nanos(self.nanos(&lp, delay));
                return timeout(delay, Box::pin(self.task_stmt(body, catching))).await;
            }
            StmtKind::TimeoutAt { when, body } => {
                let when = Instant(self.nanos(&lp, when));
                return timeout_at(when, Box::pin(self.task_stmt(body, catching))).await;
            }
            _ if catching => match lp.catching(|| self.exec(&lp, stmt, Site::Body)) {
                (Flow::Raise(error), _) | (_, Some(error)) => return Err(error),
                (Flow::Next | Flow::Over, None) => {}
            },
            _ => match self.exec(&lp, stmt, Site::Body) {
                Flow::Next | Flow::Over => {}
                Flow::Raise(error) => return Err(error),
            },
        }
        Ok(None)
    }

    /// `await asyncio.wait({x, ...}, timeout=..., return_when=...)`; the
    /// names are looked up (left to right) before the timeout is drawn.
    async fn wait_tasks(
        &self,
        lp: &EventLoop,
        targets: &[Name],
        timeout: &Option<Dur>,
        return_when: Option<ReturnWhen>,
        catching: bool,
    ) -> Result<(), Error> {
        let Some(aws) = self.all_awaited(lp, targets, catching)? else {
            return Ok(());
        };
        let timeout = timeout.as_ref().map(|d| Nanos(self.nanos(lp, d)));
        wait(aws, timeout, return_when.unwrap_or_default()).await?;
        Ok(())
    }

    /// `async with asyncio.TaskGroup() as tg:` creating one child per
    /// body, named and bound after it.
    async fn task_group(self: &Rc<Self>, children: &[Name]) -> Result<(), Error> {
        let tg = TaskGroup::new()?;
        for child in children {
            let body = self
                .bodies
                .tasks
                .get(&child.text)
                .cloned()
                .unwrap_or_default();
            match tg.create_task_named(child.text.clone(), self.clone().run_task(body)) {
                Ok(task) => self.bind_task(&child.text, &task),
                Err(error) => return tg.exit(Err(error)).await,
            }
        }
        tg.join().await
    }

    /// The tasks or futures named, or `None` after recording Python's
    /// `NameError` for the first one nothing has bound (raising it, inside
    /// a `try`).
    fn all_awaited(
        &self,
        lp: &EventLoop,
        names: &[Name],
        catching: bool,
    ) -> Result<Option<Vec<Awaited>>, Error> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            match self.awaited(name) {
                Some(awaited) => out.push(awaited),
                None => {
                    unbound_in(lp, name, catching)?;
                    return Ok(None);
                }
            }
        }
        Ok(Some(out))
    }

    fn bind_task(&self, name: &Rc<str>, task: &Task<Value>) {
        self.tasks.borrow_mut().insert(name.clone(), task.clone());
        self.all_tasks.borrow_mut().push(task.clone());
    }

    fn task(&self, name: &Name) -> Option<Task<Value>> {
        self.tasks.borrow().get(&name.text).cloned()
    }

    /// `set_result`/`set_exception` on the future named `fut`; a future
    /// already done is `invalid state`, and a closed loop refusing its done
    /// callbacks `Event loop is closed`, recorded by `lp`.
    fn finish_future(&self, lp: &EventLoop, fut: &Name, outcome: Result<Value, Error>) {
        if let Some(f) = self.futures.get(&fut.text) {
            if let Err(error) = f.0.finish(outcome) {
                let _ = lp.fail::<()>(error);
            }
        }
    }

    /// What `await X` and `wait_for X` wait on: the task or future named X.
    fn awaited(&self, name: &Name) -> Option<Awaited> {
        match self.task(name) {
            Some(task) => Some(Awaited::Task(task)),
            None => self.futures.get(&name.text).cloned().map(Awaited::Future),
        }
    }

    fn nanos(&self, lp: &EventLoop, dur: &Dur) -> i64 {
        match dur {
            Dur::Literal(lit) => lit.nanos,
            Dur::Rand(rand) => lp.random_nanos(rand.low.nanos, rand.high.nanos),
        }
    }

    /// A callback that runs callback block `cb`, recorded as `call
    /// name=CB`. It is one pointer (to the block's [`Bound`], made once per
    /// name), so the loop keeps it in its slot without a box.
    fn callback(self: &Rc<Self>, cb: &Name) -> Callback {
        callback::user(BoundCallback(self.bound(cb)))
    }

    /// Callback block `cb` bound to this interpreter: the last one asked
    /// for (by the name's pointer: a parse makes one `Rc` per name), else
    /// by name.
    fn bound(self: &Rc<Self>, cb: &Name) -> Rc<Bound> {
        let mut bound = self.bound.borrow_mut();
        let BoundBlocks { last, by_name } = &mut *bound;
        if let Some(callback) = last {
            if Rc::ptr_eq(&callback.name, &cb.text) {
                return callback.clone();
            }
        }
        let callback = by_name
            .entry(cb.text.clone())
            .or_insert_with(|| {
                let body = self.bodies.callbacks.get(&cb.text).cloned();
                Rc::new(Bound {
                    name: cb.text.clone(),
                    interp: Rc::downgrade(self),
                    body: body.unwrap_or_default(),
                })
            })
            .clone();
        *last = Some(callback.clone());
        callback
    }

    /// Binds `handle` to `name` (`as H`); without a name the handle is
    /// dropped here, where the compiler sees it was never needed.
    #[inline(always)]
    fn bind_handle(&self, name: &Option<Name>, handle: Result<Handle, Error>) {
        if let Some(name) = name {
            self.bind_named_handle(name, handle);
        }
    }

    fn bind_named_handle(&self, name: &Name, handle: Result<Handle, Error>) {
        if let Ok(handle) = handle {
            self.handles.borrow_mut().insert(name.text.clone(), handle);
        }
    }

    fn create_task(
        self: &Rc<Self>,
        lp: &EventLoop,
        block: &Name,
        name: &Name,
    ) -> Option<Task<Value>> {
        let body = self
            .bodies
            .tasks
            .get(&block.text)
            .cloned()
            .unwrap_or_default();
        let task = lp
            .create_task_named(name.text.clone(), self.clone().run_task(body))
            .ok()?;
        self.bind_task(&name.text, &task);
        Some(task)
    }

    /// One statement that is not a task-only one.
    fn exec(self: &Rc<Self>, lp: &EventLoop, stmt: &Stmt, site: Site) -> Flow {
        match &stmt.kind {
            StmtKind::Log(text) => lp.log(text.clone()),
            StmtKind::CallSoon { cb, handle } => {
                self.bind_handle(handle, lp.schedule(None, self.callback(cb)))
            }
            StmtKind::CallLater { delay, cb, handle } => {
                let when = lp.deadline_after(Nanos(self.nanos(lp, delay)));
                self.bind_handle(handle, lp.schedule(Some(when), self.callback(cb)))
            }
            StmtKind::CallAt { when, cb, handle } => {
                let when = self.nanos(lp, when);
                self.bind_handle(handle, lp.schedule(Some(when), self.callback(cb)))
            }
            StmtKind::CreateTask { task, name } => {
                drop(self.create_task(lp, task, name.as_ref().unwrap_or(task)))
            }
            StmtKind::Cancel(name) => self.cancel(lp, name),
            // `invalid state` is recorded by the loop the statement acts on,
            // like every error of a statement, not by the future's own.
            StmtKind::SetResult { fut, value } => {
                self.finish_future(lp, fut, Ok(value.clone().unwrap_or_default()))
            }
            StmtKind::SetException { fut, text } => {
                self.finish_future(lp, fut, Err(Error::raised(text.as_str())))
            }
            StmtKind::AddDoneCallback { target, cb } => match self.awaited(target) {
                Some(awaited) => {
                    let cb = self.callback(cb);
                    if let Err(error) = awaited.waitable().add_done_callback(cb) {
                        let _ = lp.fail::<()>(error);
                    }
                }
                None => unbound(lp, target),
            },
            StmtKind::Stop => lp.stop(),
            StmtKind::Close => drop(lp.close()),
            StmtKind::Raise(text) => return Flow::Raise(Error::raised(text.as_str())),
            StmtKind::Check {
                negated,
                cond,
                text,
            } => match self.holds(lp, cond) {
                Err(name) => unbound(lp, name),
                Ok(holds) if holds == *negated => lp.record(EventKind::CheckFailed {
                    cond: text.as_str().into(),
                }),
                Ok(_) => {}
            },
            StmtKind::RunForever => return self.driven(lp.run_forever()),
            StmtKind::RunUntilComplete(name) => return self.run_until_complete(lp, name),
            StmtKind::NewEventLoop(name) => {
                let new = self.main_loop.new_event_loop();
                self.loops.borrow_mut().insert(name.text.clone(), new);
            }
            StmtKind::SetEventLoop(name) => match self.loops.borrow().get(&name.text) {
                Some(target) => *self.current.borrow_mut() = target.clone(),
                None => unbound(lp, name),
            },
            StmtKind::Set(_)
            | StmtKind::Clear(_)
            | StmtKind::Release(_)
            | StmtKind::Notify { .. }
            | StmtKind::NotifyAll(_)
            | StmtKind::PutNowait { .. }
            | StmtKind::GetNowait(_)
            | StmtKind::TaskDone(_) => {
                primitives::exec_action(&self.prims, lp, &stmt.kind);
            }
            StmtKind::Sleep(_)
            | StmtKind::Yield
            | StmtKind::Await(_)
            | StmtKind::WaitFor { .. }
            | StmtKind::Return(_)
            | StmtKind::Wait(_)
            | StmtKind::Acquire(_)
            | StmtKind::Put { .. }
            | StmtKind::Get(_)
            | StmtKind::Join(_)
            | StmtKind::Abort(_)
            | StmtKind::Reset(_)
            | StmtKind::Try(_)
            | StmtKind::Timeout { .. }
            | StmtKind::TimeoutAt { .. }
            | StmtKind::Shield(_)
            | StmtKind::Gather { .. }
            | StmtKind::WaitTasks { .. }
            | StmtKind::TaskGroup(_) => {
                // The resolver keeps these in task bodies, which run_task handles.
                debug_assert!(site == Site::Body, "task statement outside a task");
            }
        }
        Flow::Next
    }

    /// `X.cancel()`; what it raises (a closed loop refusing a done
    /// callback) is recorded by `lp`, like every error of a statement.
    fn cancel(&self, lp: &EventLoop, name: &Name) {
        if let Some(handle) = self.handles.borrow().get(&name.text) {
            handle.cancel();
        } else if let Some(awaited) = self.awaited(name) {
            if let Err(error) = awaited.waitable().cancel() {
                let _ = lp.fail::<()>(error);
            }
        } else {
            unbound(lp, name);
        }
    }

    fn run_until_complete(self: &Rc<Self>, lp: &EventLoop, name: &Name) -> Flow {
        if let Some(future) = self.futures.get(&name.text) {
            return self.driven(lp.run_until_complete(future));
        }
        if let Some(task) = self.task(name) {
            return self.driven(lp.run_until_complete(&task));
        }
        // A name no block has: Python's `NameError`, raised while the
        // arguments are evaluated, before the loop is looked at.
        if !self.bodies.tasks.contains_key(&name.text) {
            unbound(lp, name);
            return Flow::Next;
        }
        // A task block never created: asyncio checks the loop, then wraps
        // the coroutine in a task.
        if lp.check_can_run().is_err() {
            return Flow::Next;
        }
        match self.create_task(lp, name, name) {
            Some(task) => self.driven(lp.run_until_complete(&task)),
            None => Flow::Next,
        }
    }

    /// A driver's end: the budget ends the scenario.
    fn driven<T>(&self, result: Result<T, Error>) -> Flow {
        if result.as_ref().err() == Some(&Error::BudgetExhausted) {
            self.over.set(true);
            return Flow::Over;
        }
        Flow::Next
    }

    /// Whether `cond` holds; `Err` names a name nothing has bound yet.
    fn holds<'a>(&self, lp: &EventLoop, cond: &'a Cond) -> Result<bool, &'a Name> {
        Ok(match cond {
            Cond::IsRunning => lp.is_running(),
            Cond::IsClosed => lp.is_closed(),
            Cond::Done(x) => !matches!(self.result_of(x)?, Err(Error::ResultNotSet)),
            Cond::Cancelled(x) => match self.handles.borrow().get(&x.text) {
                Some(handle) => handle.cancelled(),
                None => matches!(self.result_of(x)?, Err(Error::Cancelled)),
            },
            Cond::Result(x, value) => matches!(self.result_of(x)?, Ok(v) if v == *value),
            Cond::Time(dur) => lp.now().as_nanos() == self.nanos(lp, dur),
            primitive => primitives::holds(&self.prims, primitive).unwrap_or(false),
        })
    }

    fn result_of<'a>(&self, name: &'a Name) -> Result<Result<Value, Error>, &'a Name> {
        if let Some(task) = self.task(name) {
            return Ok(task.result());
        }
        self.futures.get(&name.text).map(Future::result).ok_or(name)
    }
}

/// A scenario's task or future, awaited by name.
#[derive(Clone)]
enum Awaited {
    Task(Task<Value>),
    Future(Future<Value>),
}

impl Awaitable<Value> for Awaited {
    fn waitable(&self) -> Rc<dyn Waitable> {
        match self {
            Awaited::Task(task) => task.waitable(),
            Awaited::Future(future) => future.waitable(),
        }
    }

    fn try_result(&self) -> Result<Value, Error> {
        match self {
            Awaited::Task(task) => task.try_result(),
            Awaited::Future(future) => future.try_result(),
        }
    }
}

/// The events `stmt` records are tagged with it (its byte offset plus one:
/// see [`Outcome::sources`]).
fn at(lp: &EventLoop, stmt: &Stmt) {
    lp.set_source(u32::try_from(stmt.span.start + 1).unwrap_or(u32::MAX));
}

/// Python's `NameError`, recorded as an `error` event (or kept for the
/// enclosing `try`, see [`EventLoop::catching`]).
fn unbound(lp: &EventLoop, name: &Name) {
    let _ = lp.fail::<()>(name_error(name));
}

/// Python's `NameError` for `name`.
fn name_error(name: &Name) -> Error {
    Error::raised(format!("name '{}' is not defined", name.text))
}

/// [`unbound`] in a task statement: raised when a `try` encloses it.
fn unbound_in(lp: &EventLoop, name: &Name, catching: bool) -> Result<(), Error> {
    if catching {
        return Err(name_error(name));
    }
    unbound(lp, name);
    Ok(())
}

/// What `caught` says of `error`: its text, or its class name when the
/// text is empty (`str(e) or type(e).__name__`).
fn caught_message(error: &Error) -> String {
    match error.to_string() {
        text if !text.is_empty() => text,
        _ => match error {
            Error::Type(_) => "TypeError".into(),
            _ => "Exception".into(),
        },
    }
}
