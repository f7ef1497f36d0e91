//! Name resolution: every name used is defined, and of the right kind,
//! before anything runs.
//!
//! A scenario has one namespace. Blocks define callbacks, task bodies and
//! futures; statements anywhere in the file bind handles (`call_* ... as H`),
//! task instances (`create_task T [as N]`, and `run_until_complete T` for a
//! task body, which asyncio wraps in a task named `T`) and loops
//! (`new_event_loop N`; `main` is the first loop). A handle, task or loop
//! name may be bound by several statements (rebinding, as in Python), but
//! one name never denotes two kinds, except that a task instance may share
//! its task body's name (`create_task worker`). Whether a binding has run
//! before a use is a question for run time, not for this module.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem;
use std::rc::Rc;

use super::ast::{Block, BlockKind, Cond, Name, Primitive, Scenario, Stmt, StmtKind};
use super::diagnostic::Diagnostic;
use super::span::{line_col, Span};

/// The kinds of thing a name can denote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Callback,
    TaskBody,
    Future,
    Handle,
    Task,
    Loop,
    Event,
    Lock,
    Semaphore,
    BoundedSemaphore,
    Condition,
    Barrier,
    Queue,
}

impl Kind {
    /// Whether this is one of asyncio's synchronization primitives or queues.
    fn is_primitive(self) -> bool {
        matches!(
            self,
            Kind::Event
                | Kind::Lock
                | Kind::Semaphore
                | Kind::BoundedSemaphore
                | Kind::Condition
                | Kind::Barrier
                | Kind::Queue
        )
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Callback => "callback",
            Kind::TaskBody => "task",
            Kind::Future => "future",
            Kind::Handle => "handle",
            Kind::Task => "task instance",
            Kind::Loop => "loop",
            Kind::Event => "event",
            Kind::Lock => "lock",
            Kind::Semaphore => "semaphore",
            Kind::BoundedSemaphore => "bounded semaphore",
            Kind::Condition => "condition",
            Kind::Barrier => "barrier",
            Kind::Queue => "queue",
        }
    }
}

/// What a use of a name accepts, and how to say it.
struct Expect {
    kinds: &'static [Kind],
    noun: &'static str,
}

const CALLBACK: Expect = Expect {
    kinds: &[Kind::Callback],
    noun: "callback",
};
const TASK_BODY: Expect = Expect {
    kinds: &[Kind::TaskBody],
    noun: "task",
};
const FUTURE: Expect = Expect {
    kinds: &[Kind::Future],
    noun: "future",
};
const AWAITABLE: Expect = Expect {
    kinds: &[Kind::Task, Kind::Future],
    noun: "task or future",
};
const CANCELLABLE: Expect = Expect {
    kinds: &[Kind::Handle, Kind::Task, Kind::Future],
    noun: "handle, task or future",
};
const RUNNABLE: Expect = Expect {
    kinds: &[Kind::Task, Kind::Future, Kind::TaskBody],
    noun: "task or future",
};
const LOOP: Expect = Expect {
    kinds: &[Kind::Loop],
    noun: "loop",
};
const EVENT: Expect = Expect {
    kinds: &[Kind::Event],
    noun: "event",
};
const LOCK: Expect = Expect {
    kinds: &[Kind::Lock],
    noun: "lock",
};
const LOCKABLE: Expect = Expect {
    kinds: &[
        Kind::Lock,
        Kind::Semaphore,
        Kind::BoundedSemaphore,
        Kind::Condition,
    ],
    noun: "lock, semaphore or condition",
};
const CONDITION: Expect = Expect {
    kinds: &[Kind::Condition],
    noun: "condition",
};
const WAITABLE: Expect = Expect {
    kinds: &[Kind::Event, Kind::Condition, Kind::Barrier],
    noun: "event, condition or barrier",
};
const BARRIER: Expect = Expect {
    kinds: &[Kind::Barrier],
    noun: "barrier",
};
const QUEUE: Expect = Expect {
    kinds: &[Kind::Queue],
    noun: "queue",
};

/// Checks every name in `scenario`; returns all the problems found.
pub fn resolve(source: &str, scenario: &Scenario) -> Vec<Diagnostic> {
    let mut r = Resolver::new(source, &scenario.blocks);
    r.main_body(&scenario.main.body.stmts);
    r.finish(&scenario.blocks)
}

/// How messages name the body of `block` (`callback `tick``).
fn place(block: &Block) -> String {
    format!("{} `{}`", block.kind.keyword(), block.name.text)
}

impl<'a> Resolver<'a> {
    /// A resolver that has defined `blocks` and resolved their bodies;
    /// `main`'s body comes next ([`statement`](Resolver::statement) per
    /// statement, or [`main_body`](Resolver::main_body)), then
    /// [`finish`](Resolver::finish). The parser calls these as it reads
    /// the statements of `main` when `main` is the last block (the order
    /// this function resolves in), so a big body is resolved while its
    /// statements are in the cache instead of in a walk of its own.
    pub(super) fn new(source: &'a str, blocks: &[Block]) -> Resolver<'a> {
        let mut r = Resolver {
            source,
            names: Names::default(),
            last_right: None,
            trial: None,
            again: Vec::new(),
            diags: Vec::new(),
        };
        r.names.insert(Rc::from("main"), vec![(Kind::Loop, None)]);
        for block in blocks {
            let kind = match &block.kind {
                BlockKind::Callback(_) => Kind::Callback,
                BlockKind::Task(_) => Kind::TaskBody,
                BlockKind::Future => Kind::Future,
                BlockKind::Primitive(p) => primitive_kind(p),
            };
            r.define_block(&block.name, kind);
        }
        for block in blocks {
            if let Some(body) = block.kind.body() {
                let (place, in_task) = (place(block), matches!(block.kind, BlockKind::Task(_)));
                for stmt in &body.stmts {
                    r.statement(stmt, &place, in_task);
                }
            }
        }
        r
    }

    /// Resolves the statements of `main`.
    pub(super) fn main_body(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            self.statement(stmt, "`main`", false);
        }
    }

    /// One statement of a body named `place` in messages (a task body if
    /// `in_task`).
    ///
    /// One walk over the statements (a big file's bodies are far larger
    /// than the cache, and each walk reads them all from memory): each
    /// statement binds its names, then its uses are tried against the names
    /// bound so far, reporting nothing. Names only gain kinds, so a use
    /// right now is right at the end; the statements with a use not (yet)
    /// right, such as a handle used above the line that binds it, are
    /// checked again, for real, once everything is bound
    /// ([`finish`](Resolver::finish)). The diagnostics are sorted by place
    /// afterwards, so they read as if binding came first.
    pub(super) fn statement(&mut self, stmt: &Stmt, place: &str, in_task: bool) {
        for kind in stmt.kind.nested() {
            self.bind(kind);
        }
        self.trial = Some(true);
        for kind in stmt.kind.nested() {
            self.check_uses(kind);
        }
        if self.trial.take() == Some(false) {
            self.again.push(stmt.kind.clone());
        }
        if let Some(d) = task_only(&stmt.kind, stmt.span, place).filter(|_| !in_task) {
            self.diags.push(d);
        }
    }

    /// The checks left once every name is bound; all the problems found.
    pub(super) fn finish(mut self, blocks: &[Block]) -> Vec<Diagnostic> {
        for block in blocks {
            if let BlockKind::Primitive(Primitive::Condition(Some(lock))) = &block.kind {
                self.check_use(lock, &LOCK);
            }
        }
        for kind in mem::take(&mut self.again).iter().flat_map(StmtKind::nested) {
            self.check_uses(kind);
        }
        self.diags
    }
}

/// Each name's kinds, with where each was first defined (`None`: built in).
/// Looked up once per name a statement uses, so hashed cheaply (the keys
/// are the file's own names; nothing iterates the map).
type Names = HashMap<Rc<str>, Vec<(Kind, Option<Span>)>, BuildHasherDefault<NameHasher>>;

/// FxHash's step over the name's bytes, eight at a time: a few
/// instructions for a short name, where SipHash took about sixty.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            self.add(word);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl NameHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(super) struct Resolver<'a> {
    source: &'a str,
    names: Names,
    /// The last use found right, by its name's `Rc` (names are interned,
    /// so one `Rc` per name) and what it accepted: the names do not change
    /// while uses are checked, so the same use again is right too, without
    /// hashing (a generated file uses one callback line after line).
    last_right: Option<(Rc<str>, &'static [Kind])>,
    /// While a statement's uses are tried before every name is bound:
    /// `Some(true)`, and `Some(false)` once one is wrong, reporting
    /// nothing. `None`: uses are checked for real.
    trial: Option<bool>,
    /// The statements to check again at the end.
    again: Vec<StmtKind>,
    diags: Vec<Diagnostic>,
}

impl Resolver<'_> {
    /// Whether `name` denotes `kind`.
    fn has_kind(&self, name: &Name, kind: Kind) -> bool {
        self.names
            .get(&name.text)
            .is_some_and(|ks| ks.iter().any(|(k, _)| *k == kind))
    }

    fn at(&self, span: Span) -> String {
        let (line, col) = line_col(self.source, span.start);
        format!("{line}:{col}")
    }

    fn define_block(&mut self, name: &Name, kind: Kind) {
        if &*name.text == "main" {
            return self.diags.push(
                Diagnostic::error(
                    name.span,
                    format!("expected a name for the {}, found `main`", kind.noun()),
                )
                .with_label("reserved")
                .with_note("`main` names the driver block and the first loop"),
            );
        }
        if let Some(&(_, Some(first))) = self.names.get(&name.text).and_then(|ks| ks.first()) {
            let message = format!(
                "duplicate block name `{}` (first defined at {})",
                name.text,
                self.at(first)
            );
            return self.diags.push(
                Diagnostic::error(name.span, message)
                    .with_label("defined again here")
                    .with_related(first, "first defined here"),
            );
        }
        self.define(name, kind);
    }

    /// Records that `name` denotes `kind`, unless it already denotes a kind
    /// it cannot share a name with.
    fn define(&mut self, name: &Name, kind: Kind) {
        let entry = self.names.entry(name.text.clone()).or_default();
        let clash = entry.iter().find(|(k, _)| {
            *k != kind
                && !matches!(
                    (k, kind),
                    (Kind::TaskBody, Kind::Task) | (Kind::Task, Kind::TaskBody)
                )
        });
        match clash.copied() {
            None if entry.iter().any(|(k, _)| *k == kind) => {}
            None => entry.push((kind, Some(name.span))),
            Some((other, first)) => {
                let mut d = Diagnostic::error(
                    name.span,
                    format!(
                        "`{}` cannot name a {}: it already names a {}",
                        name.text,
                        kind.noun(),
                        other.noun()
                    ),
                )
                .with_label(format!("used as a {} here", kind.noun()));
                d = match first {
                    Some(first) => {
                        d.with_related(first, format!("the {} is defined here", other.noun()))
                    }
                    None => d.with_note("`main` is the first event loop"),
                };
                self.diags.push(d);
            }
        }
    }

    /// Records the names a statement binds.
    fn bind(&mut self, stmt: &StmtKind) {
        match stmt {
            StmtKind::CallSoon {
                handle: Some(h), ..
            }
            | StmtKind::CallLater {
                handle: Some(h), ..
            }
            | StmtKind::CallAt {
                handle: Some(h), ..
            } => self.define(h, Kind::Handle),
            StmtKind::CreateTask {
                name: Some(name), ..
            } => self.define(name, Kind::Task),
            // Unnamed, the task takes its body's name, if there is such a
            // body; if not, the use check reports the undefined task.
            StmtKind::CreateTask { task, name: None } if self.has_kind(task, Kind::TaskBody) => {
                self.define(task, Kind::Task)
            }
            // asyncio wraps a coroutine given to run_until_complete in a
            // task, here named after its body.
            StmtKind::RunUntilComplete(x) if self.has_kind(x, Kind::TaskBody) => {
                self.define(x, Kind::Task)
            }
            StmtKind::NewEventLoop(l) => self.define(l, Kind::Loop),
            // Each child is named after its body, as `create_task T` names it.
            StmtKind::TaskGroup(children) => {
                for child in children {
                    if self.has_kind(child, Kind::TaskBody) {
                        self.define(child, Kind::Task)
                    }
                }
            }
            _ => {}
        }
    }

    /// Checks the names a statement uses (allocating nothing unless one is
    /// wrong: this runs for every statement of the file).
    fn check_uses(&mut self, stmt: &StmtKind) {
        let (name, expect): (&Name, &Expect) = match stmt {
            StmtKind::CallSoon { cb, .. }
            | StmtKind::CallLater { cb, .. }
            | StmtKind::CallAt { cb, .. } => (cb, &CALLBACK),
            StmtKind::CreateTask { task, .. } => (task, &TASK_BODY),
            StmtKind::Cancel(x) => (x, &CANCELLABLE),
            StmtKind::SetResult { fut, .. } | StmtKind::SetException { fut, .. } => (fut, &FUTURE),
            StmtKind::AddDoneCallback { target, cb } => {
                self.check_use(target, &AWAITABLE);
                (cb, &CALLBACK)
            }
            StmtKind::Await(x) | StmtKind::WaitFor { target: x, .. } | StmtKind::Shield(x) => {
                (x, &AWAITABLE)
            }
            StmtKind::RunUntilComplete(x) => (x, &RUNNABLE),
            StmtKind::SetEventLoop(l) => (l, &LOOP),
            StmtKind::Set(x) | StmtKind::Clear(x) => (x, &EVENT),
            StmtKind::Release(x) | StmtKind::Acquire(x) => (x, &LOCKABLE),
            StmtKind::Notify { cond: x, .. } | StmtKind::NotifyAll(x) => (x, &CONDITION),
            StmtKind::PutNowait { queue: x, .. }
            | StmtKind::Put { queue: x, .. }
            | StmtKind::GetNowait(x)
            | StmtKind::Get(x)
            | StmtKind::TaskDone(x)
            | StmtKind::Join(x) => (x, &QUEUE),
            StmtKind::Abort(x) | StmtKind::Reset(x) => (x, &BARRIER),
            // One name: the primitive's own wait, or asyncio.wait of one
            // task or future.
            StmtKind::Wait(x) if AWAITABLE.kinds.iter().any(|&k| self.has_kind(x, k)) => {
                (x, &AWAITABLE)
            }
            StmtKind::Wait(x) => (x, &WAITABLE),
            StmtKind::WaitTasks { targets, .. } => {
                for x in targets {
                    if !self.check_not_primitive(x) {
                        self.check_use(x, &AWAITABLE);
                    }
                }
                return;
            }
            StmtKind::Gather { targets, .. } => {
                for x in targets {
                    self.check_use(x, &AWAITABLE);
                }
                return;
            }
            StmtKind::TaskGroup(children) => {
                for x in children {
                    self.check_use(x, &TASK_BODY);
                }
                return;
            }
            StmtKind::Check { cond, .. } => match cond {
                Cond::IsSet(x) => (x, &EVENT),
                Cond::Locked(x) => (x, &LOCKABLE),
                Cond::Empty(x) | Cond::Full(x) | Cond::Qsize(x, _) => (x, &QUEUE),
                Cond::Broken(x) => (x, &BARRIER),
                Cond::Done(x) | Cond::Result(x, _) => (x, &AWAITABLE),
                // Handles have `cancelled()` too.
                Cond::Cancelled(x) => (x, &CANCELLABLE),
                Cond::IsRunning | Cond::IsClosed | Cond::Time(_) => return,
            },
            _ => return,
        };
        self.check_use(name, expect);
    }

    /// `wait X Y ...` or `wait X timeout D ...` is `asyncio.wait`: a
    /// primitive there is an error of its own (and no second one from
    /// [`check_use`](Self::check_use)).
    fn check_not_primitive(&mut self, x: &Name) -> bool {
        let Some(&(kind, first)) = self.names.get(&x.text).and_then(|ks| {
            ks.iter()
                .find(|(k, _)| WAITABLE.kinds.contains(k) || k.is_primitive())
        }) else {
            return false;
        };
        if let Some(right) = &mut self.trial {
            *right = false;
            return true;
        }
        let mut d = Diagnostic::error(
            x.span,
            format!(
                "expected a task or future name, found {} `{}`",
                kind.noun(),
                x.text
            ),
        )
        .with_label("not a task or future")
        .with_note(
            "`wait` with several names or with `timeout`/`return_when` is asyncio.wait over tasks \
             or futures; an event, condition or barrier is waited on alone (`wait X`)",
        );
        if let Some(first) = first {
            d = d.with_related(first, format!("the {} is defined here", kind.noun()));
        }
        self.diags.push(d);
        true
    }

    fn check_use(&mut self, name: &Name, expect: &Expect) {
        if let Some((last, kinds)) = &self.last_right {
            if Rc::ptr_eq(last, &name.text) && std::ptr::eq(*kinds, expect.kinds) {
                return;
            }
        }
        let found = self.names.get(&name.text).map_or(&[][..], |ks| &ks[..]);
        if found.iter().any(|(k, _)| expect.kinds.contains(k)) {
            self.last_right = Some((name.text.clone(), expect.kinds));
            return;
        }
        if let Some(right) = &mut self.trial {
            *right = false;
            return;
        }
        let Some(&(kind, first)) = found.first() else {
            return self.diags.push(
                Diagnostic::error(
                    name.span,
                    format!("undefined {} `{}`", expect.noun, name.text),
                )
                .with_label(format!("no {} has this name", expect.noun)),
            );
        };
        let article = if expect.noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let mut d = Diagnostic::error(
            name.span,
            format!(
                "expected {article} {} name, found {} `{}`",
                expect.noun,
                kind.noun(),
                name.text
            ),
        )
        .with_label(format!("not a {}", expect.noun));
        if let Some(first) = first {
            d = d.with_related(first, format!("the {} is defined here", kind.noun()));
        }
        if kind == Kind::TaskBody && expect.kinds.contains(&Kind::Task) {
            d = d.with_note(format!(
                "no `create_task {0}` runs the task body `{0}`; add one first",
                name.text
            ));
        }
        self.diags.push(d);
    }
}

/// The declaration kind of a primitive.
fn primitive_kind(p: &Primitive) -> Kind {
    match p {
        Primitive::Event => Kind::Event,
        Primitive::Lock => Kind::Lock,
        Primitive::Semaphore(_) => Kind::Semaphore,
        Primitive::BoundedSemaphore(_) => Kind::BoundedSemaphore,
        Primitive::Condition(_) => Kind::Condition,
        Primitive::Barrier(_) => Kind::Barrier,
        Primitive::Queue(_) | Primitive::LifoQueue(_) | Primitive::PriorityQueue(_) => Kind::Queue,
    }
}

/// The error for a task-only statement (`sleep`, `yield`, `await`,
/// `wait_for`, `return`, and the primitives' awaiting statements) found in
/// `place`, a callback or `main`.
fn task_only(stmt: &StmtKind, span: Span, place: &str) -> Option<Diagnostic> {
    let keyword = match stmt {
        StmtKind::Sleep(_) => "sleep",
        StmtKind::Yield => "yield",
        StmtKind::Await(_) => "await",
        StmtKind::WaitFor { .. } => "wait_for",
        StmtKind::Return(_) => "return",
        StmtKind::Put { .. } => "put",
        StmtKind::Try(_) => "try",
        StmtKind::Timeout { .. } => "timeout",
        StmtKind::TimeoutAt { .. } => "timeout_at",
        StmtKind::Shield(_) => "shield",
        StmtKind::Gather { .. } => "gather",
        StmtKind::WaitTasks { .. } => "wait",
        StmtKind::TaskGroup(_) => "task_group",
        StmtKind::Wait(_)
        | StmtKind::Acquire(_)
        | StmtKind::Get(_)
        | StmtKind::Join(_)
        | StmtKind::Abort(_)
        | StmtKind::Reset(_) => stmt.keyword_and_target()?.0,
        _ => return None,
    };
    let note = match keyword {
        "sleep" | "yield" | "await" | "wait_for" | "return" => "`sleep`, `yield`, `await`, `wait_for` and `return` suspend or finish a coroutine: write them in a `task` block".to_string(),
        "try" | "timeout" | "timeout_at" => format!("`{keyword}` wraps a statement of a coroutine (asyncio's `try:`/`async with` in an `async def`): write it in a `task` block"),
        "shield" => "`shield` awaits (`await asyncio.shield(x)`): write it in a `task` block".to_string(),
        "gather" | "task_group" => format!("`{keyword}` awaits its tasks: write it in a `task` block"),
        "put" | "get" => format!("`{keyword}` awaits (`await q.{keyword}()`): write it in a `task` block, or use `{keyword}_nowait` here"),
        _ => format!("`{keyword}` awaits (`await x.{keyword}()`): write it in a `task` block"),
    };
    Some(
        Diagnostic::error(
            span,
            format!("`{keyword}` is only allowed in a task body, not in {place}"),
        )
        .with_label("task-only statement")
        .with_note(note),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{parse, parser};

    #[test]
    fn resolving_while_parsing_main_finds_what_resolving_afterwards_does() {
        let sources = [
            "callback c:\n    cancel h\n    cancel zz\n    set_result c\nevent e\ntask t:\n    \
             wait x\n    wait e x\n    check done y\nmain:\n    call_soon c as h\n    \
             create_task t as x\n    create_task t as e\n    call_soon c as t\n    sleep 1\n",
            "lock l\ncondition c l\ncondition d e\nmain:\n    cancel h\n    call_soon q as h\n",
            "task main_t:\n    yield\nmain:\n    run_until_complete main_t\n    await main_t\n",
        ];
        for source in sources {
            let (scenario, resolved) =
                parser::parse_source("t.scn", source, super::super::CommentPolicy::Keep).unwrap();
            let resolved = resolved.expect("main is the last block: resolved while parsed");
            assert!(!resolved.is_empty(), "{source}");
            assert_eq!(resolved, super::resolve(source, &scenario), "{source}");
        }
        // A block after `main` is resolved afterwards, in the same order.
        let late = "main:\n    call_soon c as h\ncallback c:\n    cancel h\n";
        let (_, resolved) =
            parser::parse_source("t.scn", late, super::super::CommentPolicy::Keep).unwrap();
        assert_eq!(resolved, None);
    }

    #[test]
    fn names_resolve_as_asyncio_would_bind_them() {
        for source in [
            // run_until_complete wraps a task body in a task of that name.
            "task w:\n    yield\nmain:\n    run_until_complete w\n    check done w\n",
            // Rebinding a task or a handle name is fine.
            "task w:\n    yield\nmain:\n    create_task w\n    create_task w\n    cancel w\n",
            "callback c:\n    log c\nmain:\n    call_soon c as h\n    call_later 1 c as h\n    cancel h\n",
            // A task instance may take any free name; blocks may follow main.
            "main:\n    create_task w as x\n    check result x == 1\ntask w:\n    return 1\n",
            "main:\n    set_event_loop main\n    new_event_loop l\n    set_event_loop l\n",
            "future f\ntask t:\n    await f\nmain:\n    add_done_callback f c\ncallback c:\n",
            // A use above the statement that binds the name (checked again
            // once everything is bound).
            "callback c:\n    cancel h\nmain:\n    call_soon c as h\n",
            "task t:\n    wait x\n    check done x\nmain:\n    create_task t as x\n",
        ] {
            if let Err(errors) = parse("ok.scn", source) {
                panic!("{source}\n{errors:#?}");
            }
        }
    }
}
