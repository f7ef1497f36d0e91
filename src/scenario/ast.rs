//! The syntax tree of a scenario file.
//!
//! The tree is what the interpreter runs and what the printer prints, so it
//! keeps both the meaning (nanoseconds, unescaped strings) and what the
//! printer must not change: duration literals and check conditions exactly as
//! written (they appear in traces) and comments. Every node carries the
//! [`Span`] of the text it came from.
//!
//! Comments are the one part of the file kept as text of its own, and only
//! when the printer needs them ([`CommentPolicy`](super::CommentPolicy)):
//! their text is one string, [`Scenario::comment_text`], and the tree holds
//! [`Comments`], ranges of it. A comment costs its bytes, not an allocation
//! and a node each.
//!
//! Shape, top down:
//!
//! ```text
//! Scenario
//! ├── file_comments          comments at the top, ended by a blank line
//! ├── header: Header         python, seed, tie_break, jitter, start_time, the budgets, expect
//! ├── blocks: Vec<Block>     callback / task / future, in file order
//! ├── main: MainBlock        the `main:` line, its comments and body (the driver script)
//! ├── trailing_comments      comments after everything else
//! └── comment_text           the text of every comment, which the `Comments` above are ranges of
//! ```
//!
//! A [`Body`] is a list of [`Stmt`]s; a statement's [`StmtKind`] has one
//! variant per statement of the language.

use std::rc::Rc;

pub use super::lit_text::LitText;
use super::span::Span;
use crate::python::Python;
use crate::tie_break::TieBreak;
use crate::value::Value;

/// A whole `.scn` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Comment lines at the top of the file that a blank line separates from
    /// the first setting or block.
    pub file_comments: Comments,
    /// The optional settings before the first block.
    pub header: Header,
    /// `callback`, `task` and `future` blocks, in file order.
    pub blocks: Vec<Block>,
    /// The `main:` block: its header line's span and comments, and its body.
    pub main: MainBlock,
    /// Comments after the last statement that belong to no body.
    pub trailing_comments: Comments,
    /// The text of the file's comments, one a line: what the tree's
    /// [`Comments`] are ranges of (read them with
    /// [`comment_lines`](Scenario::comment_lines)). Empty when the file was
    /// parsed with [`CommentPolicy::Drop`](super::CommentPolicy::Drop).
    pub comment_text: String,
}

impl Scenario {
    /// The `callback`, `task` or `future` block named `name`.
    pub fn block(&self, name: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| &*b.name.text == name)
    }

    /// The comments of `comments`, one a line, each from its `#` to the end
    /// of its line (trailing whitespace removed).
    pub fn comment_lines(&self, comments: Comments) -> impl Iterator<Item = &str> {
        comments.lines(&self.comment_text)
    }

    /// Whether the header says `expect fail`: the scenario fails on purpose.
    pub fn expects_failure(&self) -> bool {
        self.header
            .expect
            .as_ref()
            .is_some_and(|e| e.value == Expect::Fail)
    }
}

/// The header settings; `None` means "not given" (the CLI or the default
/// decides).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    /// `python 3.11|3.12|3.13`: whose asyncio the run is.
    pub python: Option<Setting<Python>>,
    /// `seed N`.
    pub seed: Option<Setting<u64>>,
    /// `tie_break fifo|random|heapq`.
    pub tie_break: Option<Setting<TieBreak>>,
    /// `jitter DUR` (a literal, not negative).
    pub jitter: Option<Setting<DurLit>>,
    /// `start_time TIME` (a literal).
    pub start_time: Option<Setting<DurLit>>,
    /// `max_iterations N`.
    pub max_iterations: Option<Setting<u64>>,
    /// `max_events N`.
    pub max_events: Option<Setting<u64>>,
    /// `max_callbacks N`.
    pub max_callbacks: Option<Setting<u64>>,
    /// `max_pending N`.
    pub max_pending: Option<Setting<u64>>,
    /// `expect fail`: the scenario fails on purpose (`loopsim check`
    /// counts it as passing when it fails, and as failing when it passes).
    pub expect: Option<Setting<Expect>>,
}

/// What a scenario's `expect` line says its run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// `expect fail`: a check fails, an invariant is violated or the
    /// budget runs out.
    Fail,
}

impl Expect {
    /// The word after `expect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Fail => "fail",
        }
    }
}

/// One header line: its value, its span and its comments.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting<T> {
    /// The parsed value.
    pub value: T,
    /// The whole line, comment excluded.
    pub span: Span,
    /// Comments attached to the line.
    pub trivia: Trivia,
}

/// A `callback`, `task` or `future` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// What kind of block, with its body if it has one.
    pub kind: BlockKind,
    /// The block's name.
    pub name: Name,
    /// The block's header line, comment excluded.
    pub span: Span,
    /// Comments above the block line and at its end.
    pub trivia: Trivia,
}

/// The kinds of named block, and the one-line declarations.
#[derive(Clone, Debug, PartialEq)]
pub enum BlockKind {
    /// `callback NAME:` and its body: a plain callback.
    Callback(Body),
    /// `task NAME:` and its body: a coroutine.
    Task(Body),
    /// `future NAME`: a future, created on the `main` loop at the start.
    Future,
    /// `event NAME`, `lock NAME`, `queue NAME [MAXSIZE]`...: one of
    /// asyncio's primitives, made at the start, bound to a loop at its
    /// first use that must wait.
    Primitive(Primitive),
}

impl BlockKind {
    /// The keyword that introduces the block.
    pub fn keyword(&self) -> &'static str {
        match self {
            BlockKind::Callback(_) => "callback",
            BlockKind::Task(_) => "task",
            BlockKind::Future => "future",
            BlockKind::Primitive(p) => p.keyword(),
        }
    }

    /// The body, for callbacks and tasks.
    pub fn body(&self) -> Option<&Body> {
        match self {
            BlockKind::Callback(body) | BlockKind::Task(body) => Some(body),
            BlockKind::Future | BlockKind::Primitive(_) => None,
        }
    }

    /// Whether the block is one line with no body (a future or a primitive).
    pub fn is_declaration(&self) -> bool {
        self.body().is_none()
    }
}

/// A primitive's declaration; optional arguments are `None` when not
/// written (the printer keeps them as written).
#[derive(Clone, Debug, PartialEq)]
pub enum Primitive {
    /// `event NAME`.
    Event,
    /// `lock NAME`.
    Lock,
    /// `semaphore NAME [N]` (default 1).
    Semaphore(Option<u64>),
    /// `bounded_semaphore NAME [N]` (default 1).
    BoundedSemaphore(Option<u64>),
    /// `condition NAME [LOCK]`: over LOCK, or a lock of its own.
    Condition(Option<Name>),
    /// `barrier NAME N`.
    Barrier(u64),
    /// `queue NAME [MAXSIZE]` (default 0: unbounded).
    Queue(Option<u64>),
    /// `lifo_queue NAME [MAXSIZE]`.
    LifoQueue(Option<u64>),
    /// `priority_queue NAME [MAXSIZE]`.
    PriorityQueue(Option<u64>),
}

impl Primitive {
    /// Every declaration keyword.
    pub const KEYWORDS: [&'static str; 9] = [
        "event",
        "lock",
        "semaphore",
        "bounded_semaphore",
        "condition",
        "barrier",
        "queue",
        "lifo_queue",
        "priority_queue",
    ];

    /// The declaration's keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Primitive::Event => "event",
            Primitive::Lock => "lock",
            Primitive::Semaphore(_) => "semaphore",
            Primitive::BoundedSemaphore(_) => "bounded_semaphore",
            Primitive::Condition(_) => "condition",
            Primitive::Barrier(_) => "barrier",
            Primitive::Queue(_) => "queue",
            Primitive::LifoQueue(_) => "lifo_queue",
            Primitive::PriorityQueue(_) => "priority_queue",
        }
    }

    /// The argument after the name, as the printer writes it.
    pub fn argument(&self) -> Option<String> {
        match self {
            Primitive::Event | Primitive::Lock => None,
            Primitive::Semaphore(n)
            | Primitive::BoundedSemaphore(n)
            | Primitive::Queue(n)
            | Primitive::LifoQueue(n)
            | Primitive::PriorityQueue(n) => n.map(|n| n.to_string()),
            Primitive::Condition(lock) => lock.as_ref().map(|l| l.text.to_string()),
            Primitive::Barrier(n) => Some(n.to_string()),
        }
    }
}

/// The `main:` block.
#[derive(Clone, Debug, PartialEq)]
pub struct MainBlock {
    /// The `main:` line, comment excluded.
    pub span: Span,
    /// Comments above the `main:` line and at its end.
    pub trivia: Trivia,
    /// The driver script.
    pub body: Body,
}

/// The statements of a block, in order. May be empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// Comment lines inside the body after its last statement.
    pub trailing_comments: Comments,
}

/// One statement line.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What the statement does.
    pub kind: StmtKind,
    /// The statement's text, indentation and comment excluded.
    pub span: Span,
    /// Comments above the statement and at its end.
    pub trivia: Trivia,
}

/// Every statement of the language. Text arguments are stored unescaped.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `log TEXT`.
    Log(Rc<str>),
    /// `call_soon CB [as H]`.
    CallSoon {
        /// The callback block to call.
        cb: Name,
        /// `as H`: the name bound to the handle.
        handle: Option<Name>,
    },
    /// `call_later DUR CB [as H]`.
    CallLater {
        /// The delay, relative to now.
        delay: Dur,
        /// The callback block to call.
        cb: Name,
        /// `as H`: the name bound to the handle.
        handle: Option<Name>,
    },
    /// `call_at TIME CB [as H]`; `when` is absolute.
    CallAt {
        /// The absolute time.
        when: Dur,
        /// The callback block to call.
        cb: Name,
        /// `as H`: the name bound to the handle.
        handle: Option<Name>,
    },
    /// `create_task T [as N]`; `name` is `None` when the task is named `T`.
    CreateTask {
        /// The task block to run.
        task: Name,
        /// `as N`: the task's name, when it differs from the block's.
        name: Option<Name>,
    },
    /// `cancel X` for a handle, task or future.
    Cancel(Name),
    /// `set_result F [VALUE]`; `None` when no value was written.
    SetResult {
        /// The future.
        fut: Name,
        /// The value.
        value: Option<Value>,
    },
    /// `set_exception F TEXT`.
    SetException {
        /// The future.
        fut: Name,
        /// The exception's text.
        text: String,
    },
    /// `add_done_callback X CB`.
    AddDoneCallback {
        /// The task or future to watch.
        target: Name,
        /// The callback block to call.
        cb: Name,
    },
    /// `stop`.
    Stop,
    /// `close`.
    Close,
    /// `raise TEXT`.
    Raise(String),
    /// `check [not] COND`.
    Check {
        /// Whether `not` precedes the condition.
        negated: bool,
        /// The condition without the `not`.
        cond: Cond,
        /// The condition as written (with `not`), trimmed, runs of
        /// whitespace outside quotes collapsed to one space: the trace's
        /// `cond` field.
        text: String,
    },
    /// `sleep DUR` (task bodies only).
    Sleep(Dur),
    /// `yield` (task bodies only).
    Yield,
    /// `await X` (task bodies only).
    Await(Name),
    /// `wait_for X DUR` (task bodies only): `await asyncio.wait_for(x, dur)`.
    WaitFor {
        /// The task or future awaited.
        target: Name,
        /// How long to wait; zero or less gives up at once unless done.
        timeout: Dur,
    },
    /// `return VALUE` (task bodies only).
    Return(Value),
    /// `run_forever`.
    RunForever,
    /// `run_until_complete X`.
    RunUntilComplete(Name),
    /// `new_event_loop NAME`.
    NewEventLoop(Name),
    /// `set_event_loop NAME`.
    SetEventLoop(Name),
    /// `set E`: `e.set()`.
    Set(Name),
    /// `clear E`: `e.clear()`.
    Clear(Name),
    /// `release X`: `x.release()` (lock, semaphore, condition).
    Release(Name),
    /// `notify C [N]`: `c.notify(n)`; `None` when N was not written (1).
    Notify {
        /// The condition.
        cond: Name,
        /// How many to wake.
        n: Option<u64>,
    },
    /// `notify_all C`.
    NotifyAll(Name),
    /// `put_nowait Q VALUE`.
    PutNowait {
        /// The queue.
        queue: Name,
        /// The item.
        value: Value,
    },
    /// `get_nowait Q`: records `got`.
    GetNowait(Name),
    /// `task_done Q`.
    TaskDone(Name),
    /// `wait X` (task bodies only): `await x.wait()` for an event,
    /// condition or barrier.
    Wait(Name),
    /// `acquire X` (task bodies only).
    Acquire(Name),
    /// `put Q VALUE` (task bodies only).
    Put {
        /// The queue.
        queue: Name,
        /// The item.
        value: Value,
    },
    /// `get Q` (task bodies only): records `got`.
    Get(Name),
    /// `join Q` (task bodies only).
    Join(Name),
    /// `abort B` (task bodies only).
    Abort(Name),
    /// `reset B` (task bodies only).
    Reset(Name),
    /// `try STMT` (task bodies only): `try: STMT` `except Exception as e:`
    /// records `caught` and goes on.
    Try(Box<Stmt>),
    /// `timeout DUR STMT` (task bodies only): `async with
    /// asyncio.timeout(dur): STMT`.
    Timeout {
        /// The delay, relative to when the block is entered.
        delay: Dur,
        /// The one statement inside.
        body: Box<Stmt>,
    },
    /// `timeout_at TIME STMT` (task bodies only): `async with
    /// asyncio.timeout_at(time): STMT`.
    TimeoutAt {
        /// The absolute deadline.
        when: Dur,
        /// The one statement inside.
        body: Box<Stmt>,
    },
    /// `shield X` (task bodies only): `await asyncio.shield(x)`.
    Shield(Name),
    /// `gather X Y ... [return_exceptions]` (task bodies only):
    /// `await asyncio.gather(x, y, ...)`.
    Gather {
        /// The tasks or futures, in order (a name may repeat).
        targets: Vec<Name>,
        /// `return_exceptions`: failures are results, not raised.
        return_exceptions: bool,
    },
    /// `wait X Y ... [timeout DUR] [return_when W]` (task bodies only):
    /// `await asyncio.wait({x, y, ...}, timeout=..., return_when=...)`.
    /// `wait X` alone is [`StmtKind::Wait`], whose target may be a task or
    /// future too.
    WaitTasks {
        /// The tasks or futures.
        targets: Vec<Name>,
        /// `timeout DUR`, if written.
        timeout: Option<Dur>,
        /// `return_when W`, if written (`all_completed` when not).
        return_when: Option<ReturnWhen>,
    },
    /// `task_group T1 T2 ...` (task bodies only): `async with
    /// asyncio.TaskGroup() as tg:` with `tg.create_task(t())` for each body,
    /// each child named (and bound) after its body.
    TaskGroup(Vec<Name>),
}

/// `asyncio.wait`'s `return_when`, as the scenario language spells it.
pub use crate::combinators::ReturnWhen;

/// The word `return_when` takes for `w`.
pub fn return_when_keyword(w: ReturnWhen) -> &'static str {
    match w {
        ReturnWhen::FirstCompleted => "first_completed",
        ReturnWhen::FirstException => "first_exception",
        ReturnWhen::AllCompleted => "all_completed",
    }
}

impl StmtKind {
    /// The statement inside `try`, `timeout` or `timeout_at`.
    pub fn inner(&self) -> Option<&Stmt> {
        match self {
            StmtKind::Try(body)
            | StmtKind::Timeout { body, .. }
            | StmtKind::TimeoutAt { body, .. } => Some(body),
            _ => None,
        }
    }

    /// This statement and the ones nested in it, outermost first.
    pub fn nested(&self) -> impl Iterator<Item = &StmtKind> {
        std::iter::successors(Some(self), |k| k.inner().map(|s| &s.kind))
    }

    /// The keyword and the one name of a primitive statement written
    /// `KEYWORD NAME` (`set e`, `get q`, ...).
    pub fn keyword_and_target(&self) -> Option<(&'static str, &Name)> {
        Some(match self {
            StmtKind::Set(x) => ("set", x),
            StmtKind::Clear(x) => ("clear", x),
            StmtKind::Release(x) => ("release", x),
            StmtKind::NotifyAll(x) => ("notify_all", x),
            StmtKind::GetNowait(x) => ("get_nowait", x),
            StmtKind::TaskDone(x) => ("task_done", x),
            StmtKind::Wait(x) => ("wait", x),
            StmtKind::Acquire(x) => ("acquire", x),
            StmtKind::Get(x) => ("get", x),
            StmtKind::Join(x) => ("join", x),
            StmtKind::Abort(x) => ("abort", x),
            StmtKind::Reset(x) => ("reset", x),
            _ => return None,
        })
    }
}

/// The condition of a `check`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// `is_running`.
    IsRunning,
    /// `is_closed`.
    IsClosed,
    /// `done X`.
    Done(Name),
    /// `cancelled X`.
    Cancelled(Name),
    /// `result X == VALUE`.
    Result(Name, Value),
    /// `time == T`.
    Time(Dur),
    /// `is_set E`.
    IsSet(Name),
    /// `locked X` (lock, semaphore, condition).
    Locked(Name),
    /// `empty Q`.
    Empty(Name),
    /// `full Q`.
    Full(Name),
    /// `qsize Q == N`.
    Qsize(Name, u64),
    /// `broken B`.
    Broken(Name),
}

/// A duration or time argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Dur {
    /// A literal such as `1.5` or `250ms`.
    Literal(DurLit),
    /// `rand(A, B)`: drawn uniformly from `[A, B]` when the statement runs.
    /// Boxed: twice a literal's size, and rarer, it would make every
    /// statement that takes a duration bigger.
    Rand(Box<RandDur>),
}

/// `rand(A, B)`. The parser guarantees `low.nanos <= high.nanos`.
#[derive(Clone, Debug, PartialEq)]
pub struct RandDur {
    /// `A`.
    pub low: DurLit,
    /// `B`.
    pub high: DurLit,
    /// From `rand` to `)`.
    pub span: Span,
}

impl Dur {
    /// The canonical spelling: the literal as written, or
    /// `rand(A, B)` with `A` and `B` as written.
    pub fn text(&self) -> String {
        match self {
            Dur::Literal(lit) => lit.text.to_string(),
            Dur::Rand(rand) => format!("rand({}, {})", rand.low.text, rand.high.text),
        }
    }

    /// Where the duration was written.
    pub fn span(&self) -> Span {
        match self {
            Dur::Literal(lit) => lit.span,
            Dur::Rand(rand) => rand.span,
        }
    }
}

/// A duration literal: its value and its spelling.
#[derive(Clone, Debug, PartialEq)]
pub struct DurLit {
    /// The value in nanoseconds (see [`crate::time::parse_duration`]).
    pub nanos: i64,
    /// The literal exactly as written, e.g. `1.50`, `250ms` (held in
    /// place, without an allocation, when short: [`LitText`]).
    pub text: LitText,
    /// Where it was written.
    pub span: Span,
}

/// A name as written: `[A-Za-z_][A-Za-z0-9_]*`.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The name.
    pub text: Rc<str>,
    /// Where it was written.
    pub span: Span,
}

/// Comments attached to a line: full-line comments above it and the comment
/// at its end.
///
/// One word: most lines have no comment, so the comments of a line that
/// has some are boxed (a statement is held for each line of a body, and a
/// generated body has a hundred thousand).
///
/// ```
/// use loopsim::scenario::ast::{Comments, Trivia};
///
/// assert_eq!(Trivia::new(Comments::default(), Comments::default()), Trivia::default());
/// // `# why` at the end of a line, the first comment of its file's `comment_text`.
/// let why = Comments::new(0, "# why\n".len());
/// let trivia = Trivia::new(Comments::default(), why);
/// assert_eq!((trivia.leading(), trivia.trailing()), (Comments::default(), why));
/// assert_eq!(why.lines("# why\n").collect::<Vec<_>>(), ["# why"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trivia(Option<Box<Attached>>);

/// The comments of a line that has some.
#[derive(Clone, Debug, PartialEq)]
struct Attached {
    leading: Comments,
    trailing: Comments,
}

impl Trivia {
    /// `leading`: full-line comments directly above, in order;
    /// `trailing`: the `# ...` at the end of the line (one comment or none).
    pub fn new(leading: Comments, trailing: Comments) -> Trivia {
        if leading.is_empty() && trailing.is_empty() {
            return Trivia(None);
        }
        Trivia(Some(Box::new(Attached { leading, trailing })))
    }

    /// Whether the line has no comment, above it or at its end.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Full-line comments directly above, in order.
    pub fn leading(&self) -> Comments {
        self.0
            .as_ref()
            .map_or_else(Comments::default, |c| c.leading)
    }

    /// The `# ...` at the end of the line, if there is one.
    pub fn trailing(&self) -> Comments {
        self.0
            .as_ref()
            .map_or_else(Comments::default, |c| c.trailing)
    }
}

/// Consecutive comments of the file (blank lines between them do not
/// count), as a range of [`Scenario::comment_text`], which holds each
/// comment from its `#` to the end of its line, trailing whitespace
/// removed, followed by `\n`. The default is no comment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Comments {
    start: usize,
    end: usize,
}

impl Comments {
    /// The comments in `start..end` of the comment text (both on the start
    /// of a comment, or its end).
    pub fn new(start: usize, end: usize) -> Comments {
        Comments { start, end }
    }

    /// Whether there is no comment.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The comments, one a line, read from `comment_text` (their
    /// [`Scenario::comment_text`]). None if the range is not in it: a node
    /// moved from another tree into this one names the other's text.
    pub fn lines(self, comment_text: &str) -> impl Iterator<Item = &str> {
        comment_text
            .get(self.start..self.end)
            .unwrap_or_default()
            .split_terminator('\n')
    }
}
