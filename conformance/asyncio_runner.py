#!/usr/bin/env python3
"""CPython reference runner for loopsim scenarios.

Runs a `.scn` scenario (see docs/scenario-language.md and the
"Decisions where the contract is silent" of DESIGN.md) on a stock CPython
asyncio event loop whose clock is virtual, and prints the trace as JSON
lines, byte-compatible with loopsim's `--format json`.

    python3.12 conformance/asyncio_runner.py FILE [--python V] [--seed N]
                                                  [--max-iterations N] [--max-events N]
                                                  [--max-callbacks N] [--max-pending N]
                                                  [--format json|text] [--tie-break P]
                                                  [--jitter D]

The run is the asyncio of the interpreter running this file (3.11, 3.12 or
3.13): a `python` header or `--python V` naming another version is exit 4.

--seed and --tie-break are accepted and ignored (CPython's ties are heapq's);
a nonzero --jitter, like a nonzero `jitter` header or rand(A, B) with A < B,
makes the run not reproducible: exit 3.

Exit status: 0 ran and every check held; 1 a check failed or the budget ran
out; 2 the file or the command line is invalid; 3 the file uses rand()/jitter,
which CPython cannot reproduce.

What is stock and what is not:
* The loop is `asyncio.BaseEventLoop` itself. `_run_once`, `run_forever`,
  `run_until_complete`, `stop`, `close`, `call_at`, `call_soon` and the heapq
  timer queue are CPython's own, untouched. Overridden: `time()` (virtual
  clock), `_run_once` (a wrapper that only counts passes and enforces the
  budgets before and after calling CPython's), `stop()` (a wrapper that records `stop`),
  `call_later()` (computes the deadline from integer nanoseconds instead of
  `time() + delay` in floats, so deadlines are exact, as the contract
  requires), `_clock_resolution` (see below), `_process_events` (no I/O).
* The selector is a fake whose `select(timeout)` advances the virtual clock
  to the head timer's exact nanosecond deadline (capped at 86,400 s, which is
  what CPython's float timeout then is), and raises `_Idle` for
  `select(None)` (nothing ready, no timers: a real loop would block forever).
* Tasks are `asyncio.tasks._PyTask` (the pure-Python Task, identical in
  behaviour to the C one) with `__step` wrapped to record `step`; scenario
  futures are `asyncio.futures._PyFuture`. Both record `done` from
  `Future.__schedule_callbacks`, which CPython calls exactly when a future
  becomes done (set_result, set_exception, cancel).
* The budgets (DESIGN.md, "Budgets"): `_ready` is a deque whose `popleft`
  (CPython's `_run_once` takes each callback of a batch with it) first
  checks the event, callback and pending budgets, exactly where loopsim
  checks them; events past `max_events` are not kept.
* `_clock_resolution` is the distance from `time()` to the next float, so
  CPython's test `handle._when < time() + _clock_resolution` is exactly
  `deadline <= now`, as the contract says.
"""

import asyncio
import asyncio.events as aio_events
import asyncio.futures as aio_futures
import asyncio.tasks as aio_tasks
import collections
import json
import logging
import math
import re
import sys
import traceback
import unicodedata
import warnings

NANOS_PER_SEC = 1_000_000_000
MAX_SELECT_NS = 86_400 * NANOS_PER_SEC  # CPython's MAXIMUM_SELECT_TIMEOUT
I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1
BUDGET_FLAGS = ("--max-iterations", "--max-events", "--max-callbacks", "--max-pending")


# --------------------------------------------------------------------------
# Durations (a port of src/time.rs parse_duration) and number formatting
# --------------------------------------------------------------------------

_UNITS = (("ms", 1_000_000), ("us", 1_000), ("ns", 1), ("s", 1_000_000_000))


def parse_duration(text):
    """`2`, `1.5`, `-0.25`, `3s`, `250ms`, `10us`, `7ns` -> integer ns.

    Exact decimal, rounded once to the nearest ns, ties to even. Returns None
    for a malformed or out-of-range literal."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    unit = NANOS_PER_SEC
    for suffix, size in _UNITS:
        if body.endswith(suffix):
            body, unit = body[: -len(suffix)], size
            break
    whole, dot, frac = body.partition(".")
    if not whole or not whole.isascii() or not whole.isdigit():
        return None
    if dot and (not frac or not frac.isascii() or not frac.isdigit()):
        return None
    mantissa = int(whole + frac)
    scale = 10 ** len(frac)
    q, r = divmod(mantissa * unit, scale)
    if 2 * r > scale or (2 * r == scale and q % 2 == 1):
        q += 1
    ns = -q if negative else q
    if not I64_MIN <= ns <= I64_MAX:
        return None
    return ns


def format_secs(ns):
    """Exact decimal seconds, as loopsim's text form: `0.0`, `1.5`."""
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), NANOS_PER_SEC)
    if frac == 0:
        return f"{sign}{whole}.0"
    return f"{sign}{whole}." + f"{frac:09d}".rstrip("0")


def json_float(x):
    """A float spelled exactly as serde_json 1.0.154 (zmij) spells it.

    Shortest round-trip digits (the same digits as Python's repr); fixed
    notation when the decimal exponent is in -5..=15, else `1.5e-6`, `1e+16`
    (no exponent padding, explicit sign, no `.0` for one digit)."""
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))
    mant, _, exp = r.partition("e")
    exp = int(exp) if exp else 0
    int_part, _, frac_part = mant.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # value = 0.<int_part frac_part> style: compute exponent of first digit.
    lead_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    dec_exp = len(int_part) - 1 - lead_zeros + exp
    digits = digits.rstrip("0") or "0"
    if -5 <= dec_exp <= 15:
        if len(digits) - 1 <= dec_exp:
            return sign + digits + "0" * (dec_exp + 1 - len(digits)) + ".0"
        if dec_exp >= 0:
            return sign + digits[: dec_exp + 1] + "." + digits[dec_exp + 1:]
        return sign + "0." + "0" * (-dec_exp - 1) + digits
    out = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{out}e{'+' if dec_exp >= 0 else '-'}{abs(dec_exp)}"


def json_string(s):
    return json.dumps(s, ensure_ascii=False)


_TRACE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote(s):
    """A text field of the text trace: loopsim's escapes, control
    characters (category Cc) as \\u00XX, as JSON writes them."""
    out = []
    for c in s:
        if c in _TRACE_ESCAPES:
            out.append(_TRACE_ESCAPES[c])
        elif unicodedata.category(c) == "Cc":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------

class ParseError(Exception):
    def __init__(self, line, col, msg):
        super().__init__(msg)
        self.line, self.col, self.msg = line, col, msg


class Rand:
    """A `rand(A, B)` duration: not reproducible on CPython."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi


class Stmt:
    def __init__(self, kind, line, **kw):
        self.kind = kind
        self.line = line
        self.__dict__.update(kw)

    def __repr__(self):
        return f"Stmt({self.__dict__})"


NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INT_RE = re.compile(r"-?[0-9]+")

ACTIONS = {"log", "call_soon", "call_later", "call_at", "create_task", "cancel",
           "set_result", "set_exception", "add_done_callback", "stop", "close",
           "raise", "check"}
TASK_STMTS = {"sleep", "yield", "await", "wait_for", "return"}
# The combinators (the contract's "Coordination"): `try STMT`, `timeout DUR
# STMT`, `timeout_at TIME STMT` wrap one statement; `shield X` awaits.
WRAPPERS = {"try", "timeout", "timeout_at"}
TASK_STMTS |= WRAPPERS | {"shield"}
# asyncio's primitives (the contract's "Coordination"): declarations,
# non-awaiting actions, awaiting task statements, and check conditions.
PRIM_DECLS = {"event", "lock", "semaphore", "bounded_semaphore", "condition", "barrier",
              "queue", "lifo_queue", "priority_queue"}
PRIM_ACTIONS = {"set", "clear", "release", "notify", "notify_all", "put_nowait",
                "get_nowait", "task_done"}
PRIM_AWAITS = {"wait", "acquire", "put", "get", "join", "abort", "reset"}
# The combinators over tasks and futures (`wait X Y ...` is `asyncio.wait`).
COMBINATORS = {"gather", "task_group"}
RETURN_WHEN = {"first_completed": asyncio.FIRST_COMPLETED,
               "first_exception": asyncio.FIRST_EXCEPTION,
               "all_completed": asyncio.ALL_COMPLETED}
ACTIONS |= PRIM_ACTIONS
TASK_STMTS |= PRIM_AWAITS | COMBINATORS
DRIVERS = {"run_forever", "run_until_complete", "new_event_loop", "set_event_loop"}
BUDGETS = ("iterations", "events", "callbacks", "pending")
DEFAULT_BUDGETS = {"iterations": 1_000_000, "events": 2_000_000,
                   "callbacks": 10_000_000, "pending": 1_000_000}
HEADER_KEYS = {"python", "seed", "tie_break", "jitter", "start_time", "expect"} | {f"max_{b}" for b in BUDGETS}
PYTHONS = ("3.11", "3.12", "3.13")
# The interpreter running this file, spelled as a scenario's `python` header.
THIS_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


class Cursor:
    """Scans one statement line (comment already removed)."""

    def __init__(self, text, lineno, col0):
        self.text, self.lineno, self.col0, self.pos = text, lineno, col0, 0

    def err(self, msg, pos=None):
        return ParseError(self.lineno, self.col0 + (self.pos if pos is None else pos) + 1, msg)

    def skip_ws(self):
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def at_end(self):
        self.skip_ws()
        return self.pos >= len(self.text)

    def peek_word(self):
        self.skip_ws()
        m = NAME_RE.match(self.text, self.pos)
        return m.group(0) if m else None

    def name(self, what="a name"):
        self.skip_ws()
        m = NAME_RE.match(self.text, self.pos)
        end = m.end() if m else self.pos
        if not m or (end < len(self.text) and self.text[end] not in " "):
            raise self.err(f"expected {what}")
        self.pos = end
        return m.group(0)

    def token(self, what):
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] != " ":
            self.pos += 1
        if start == self.pos:
            raise self.err(f"expected {what}")
        return self.text[start:self.pos], start

    def duration(self, what="a duration such as `2`, `1.5`, `250ms`, `10us` or `7ns`"):
        self.skip_ws()
        if self.text.startswith("rand", self.pos) and self.text[self.pos + 4:].lstrip(" ").startswith("("):
            start = self.pos
            close = self.text.find(")", self.pos)
            if close < 0:
                raise self.err("expected `)` closing rand(A, B)")
            inner = self.text[self.text.index("(", self.pos) + 1:close]
            parts = [p.strip() for p in inner.split(",")]
            if len(parts) != 2:
                raise self.err("expected rand(A, B)", start)
            lo, hi = parse_duration(parts[0]), parse_duration(parts[1])
            if lo is None or hi is None:
                raise self.err("expected durations in rand(A, B)", start)
            if lo > hi:
                raise self.err("rand(A, B) needs A <= B", start)
            self.pos = close + 1
            return Rand(lo, hi)
        tok, start = self.token(what)
        ns = parse_duration(tok)
        if ns is None:
            raise self.err(f"expected {what}", start)
        return ns

    def quoted(self):
        # at a '"'
        assert self.text[self.pos] == '"'
        out = []
        i = self.pos + 1
        while i < len(self.text):
            c = self.text[i]
            if c == "\\":
                nxt = self.text[i + 1] if i + 1 < len(self.text) else ""
                if nxt == '"':
                    out.append('"')
                elif nxt == "\\":
                    out.append("\\")
                elif nxt == "n":
                    out.append("\n")
                else:
                    raise self.err("expected one of the escapes \\\" \\\\ \\n", i)
                i += 2
                continue
            if c == '"':
                self.pos = i + 1
                return "".join(out)
            out.append(c)
            i += 1
        raise self.err("unterminated string")

    def text_arg(self, what="a text"):
        self.skip_ws()
        if self.pos >= len(self.text):
            raise self.err(f"expected {what}")
        if self.text[self.pos] == '"':
            s = self.quoted()
            if not self.at_end():
                raise self.err("expected the end of the line after the string")
            return s
        s = self.text[self.pos:].strip(" ")
        self.pos = len(self.text)
        return s

    def value(self):
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return self.quoted()
        tok, start = self.token("a value (an integer, a quoted string or `none`)")
        if tok == "none":
            return None
        if INT_RE.fullmatch(tok):
            v = int(tok)
            if not I64_MIN <= v <= I64_MAX:
                raise self.err("integer out of range", start)
            return v
        raise self.err("expected a value (an integer, a quoted string or `none`)", start)

    def end(self):
        if not self.at_end():
            raise self.err("expected the end of the line")


def strip_comment(raw, lineno):
    """Removes a `#` comment outside quotes; rejects tabs outside quotes."""
    in_str = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        else:
            if c == "#":
                return raw[:i]
            if c == '"':
                in_str = True
            elif c == "\t":
                raise ParseError(lineno, i + 1, "tabs are not allowed; indent with spaces")
        i += 1
    return raw


def collapse_cond(text):
    """The condition as written: trimmed, runs of whitespace outside quoted
    strings collapsed to one space."""
    out = []
    in_str = False
    i = 0
    pending_space = False
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == " ":
            pending_space = True
        else:
            if pending_space and out:
                out.append(" ")
            pending_space = False
            out.append(c)
            if c == '"':
                in_str = True
        i += 1
    return "".join(out)


class Scenario:
    def __init__(self):
        self.header = {}
        self.callbacks = {}
        self.tasks = {}
        self.futures = []
        self.prims = {}       # name -> (keyword, argument or None)
        self.main = None
        self.uses_rand = False


def parse_stmt(cur, ctx, sc):
    """One statement of a body. ctx: 'callback', 'task' or 'main'."""
    kw, kw_start = cur.token("a statement")
    line = cur.lineno
    if kw in TASK_STMTS and ctx != "task":
        raise cur.err(f"`{kw}` is allowed in task bodies only", kw_start)
    if kw not in ACTIONS and kw not in TASK_STMTS and kw not in DRIVERS:
        raise cur.err("expected a statement (log, call_soon, call_later, call_at, create_task, "
                      "cancel, set_result, set_exception, add_done_callback, stop, close, raise, "
                      "check, sleep, yield, await, wait_for, return, run_forever, run_until_complete, "
                      "new_event_loop, set_event_loop, try, timeout, timeout_at, shield)", kw_start)

    def opt_as():
        if cur.at_end():
            return None
        w, s = cur.token("`as NAME` or the end of the line")
        if w != "as":
            raise cur.err("expected `as NAME` or the end of the line", s)
        n = cur.name("a name after `as`")
        cur.end()
        return n

    def dur():
        d = cur.duration()
        if isinstance(d, Rand):
            if d.lo != d.hi:
                sc.uses_rand = True
            d = d.lo       # rand(A, A) is A: reproducible
        return d

    if kw in WRAPPERS:
        d = None if kw == "try" else dur()
        if cur.at_end():
            raise cur.err(f"expected a statement after `{kw}`")
        return Stmt(kw, line, dur=d, inner=parse_stmt(cur, ctx, sc))
    if kw == "shield":
        x = cur.name("a task or future name")
        cur.end()
        return Stmt(kw, line, x=x)
    if kw == "log":
        return Stmt("log", line, text=cur.text_arg("a text to log"))
    if kw == "raise":
        return Stmt("raise", line, text=cur.text_arg("a text to raise"))
    if kw == "call_soon":
        cb = cur.name("a callback name")
        return Stmt("call_soon", line, cb=cb, as_=opt_as(), col=cur.col0)
    if kw in ("call_later", "call_at"):
        d = dur()
        cb = cur.name("a callback name")
        return Stmt(kw, line, dur=d, cb=cb, as_=opt_as())
    if kw == "create_task":
        t = cur.name("a task name")
        return Stmt("create_task", line, task=t, as_=opt_as())
    if kw in ("cancel", "await", "run_until_complete", "new_event_loop", "set_event_loop"):
        x = cur.name("a name")
        cur.end()
        return Stmt(kw, line, x=x)
    if kw == "set_result":
        f = cur.name("a future name")
        v = None if cur.at_end() else cur.value()
        cur.end()
        return Stmt("set_result", line, x=f, value=v)
    if kw == "set_exception":
        f = cur.name("a future name")
        return Stmt("set_exception", line, x=f, text=cur.text_arg("an exception text"))
    if kw == "add_done_callback":
        x = cur.name("a task or future name")
        cb = cur.name("a callback name")
        cur.end()
        return Stmt("add_done_callback", line, x=x, cb=cb)
    if kw in ("stop", "close", "yield", "run_forever"):
        cur.end()
        return Stmt(kw, line)
    if kw == "sleep":
        d = dur()
        cur.end()
        return Stmt("sleep", line, dur=d)
    if kw == "wait_for":
        x = cur.name("a name")
        d = dur()
        cur.end()
        return Stmt("wait_for", line, x=x, dur=d)
    if kw == "return":
        v = None if cur.at_end() else cur.value()
        cur.end()
        return Stmt("return", line, value=v)
    if kw == "gather":
        xs = [cur.name("a task or future name")]
        while not cur.at_end() and cur.peek_word() != "return_exceptions":
            xs.append(cur.name("a task or future name"))
        flag = False
        if not cur.at_end():
            cur.token("return_exceptions")
            flag = True
        cur.end()
        return Stmt("gather", line, xs=xs, return_exceptions=flag)
    if kw == "task_group":
        xs = [cur.name("a task name")]
        while not cur.at_end():
            xs.append(cur.name("a task name"))
        return Stmt("task_group", line, xs=xs)
    if kw == "wait":
        xs = [cur.name("a name")]
        while not cur.at_end() and cur.peek_word() not in ("timeout", "return_when"):
            xs.append(cur.name("a name"))
        timeout = when = None
        while not cur.at_end():
            w, s = cur.token("`timeout` or `return_when`")
            if w == "timeout" and timeout is None:
                timeout = dur()
            elif w == "return_when" and when is None:
                v, s2 = cur.token("a return_when")
                if v not in RETURN_WHEN:
                    raise cur.err("expected first_completed, first_exception or all_completed", s2)
                when = v
            else:
                raise cur.err("expected `timeout` or `return_when`", s)
        if len(xs) == 1 and timeout is None and when is None:
            return Stmt("wait", line, x=xs[0], value=None)
        return Stmt("wait_tasks", line, xs=xs, timeout=timeout, when=when)
    if kw in PRIM_ACTIONS or kw in PRIM_AWAITS:
        x = cur.name("a name")
        v = None
        if kw in ("put", "put_nowait"):
            v = cur.value()
        elif kw == "notify" and not cur.at_end():
            tok, s = cur.token("an integer")
            if not re.fullmatch(r"[0-9]+", tok):
                raise cur.err("expected an integer", s)
            v = int(tok)
        cur.end()
        return Stmt(kw, line, x=x, value=v)
    if kw == "check":
        start = cur.pos
        negate = False
        w, s = cur.token("a condition")
        if w == "not":
            negate = True
            w, s = cur.token("a condition")
        cond = None
        if w in ("is_running", "is_closed"):
            cur.end()
            cond = (w,)
        elif w in ("done", "cancelled"):
            x = cur.name("a name")
            cur.end()
            cond = (w, x)
        elif w == "result":
            x = cur.name("a name")
            eq, s2 = cur.token("`==`")
            if eq != "==":
                raise cur.err("expected `==`", s2)
            v = cur.value()
            cur.end()
            cond = ("result", x, v)
        elif w in ("is_set", "locked", "empty", "full", "broken"):
            x = cur.name("a name")
            cur.end()
            cond = (w, x)
        elif w == "qsize":
            x = cur.name("a name")
            eq, s2 = cur.token("`==`")
            if eq != "==":
                raise cur.err("expected `==`", s2)
            tok, s3 = cur.token("an integer")
            if not re.fullmatch(r"[0-9]+", tok):
                raise cur.err("expected an integer", s3)
            cur.end()
            cond = ("qsize", x, int(tok))
        elif w == "time":
            eq, s2 = cur.token("`==`")
            if eq != "==":
                raise cur.err("expected `==`", s2)
            t = cur.duration("a time")
            if isinstance(t, Rand):
                raise cur.err("expected a time, not rand()", s2)
            cur.end()
            cond = ("time", t)
        else:
            raise cur.err("expected a condition: is_running, is_closed, done X, cancelled X, "
                          "result X == VALUE or time == T", s)
        return Stmt("check", line, cond=cond, negate=negate, text=collapse_cond(cur.text[start:]))
    raise AssertionError(kw)


def parse(src):
    sc = Scenario()
    lines = src.split("\n")
    block = None          # (kind, name, stmts, header_indent)
    body_indent = None
    saw_block = False
    main_count = 0
    for idx, raw in enumerate(lines):
        lineno = idx + 1
        if raw.endswith("\r"):
            raw = raw[:-1]
        content = strip_comment(raw, lineno).rstrip(" ")
        if not content.strip(" "):
            continue
        indent = len(content) - len(content.lstrip(" "))
        body = content[indent:]
        if indent > 0:
            if block is None or block[0] == "future":
                raise ParseError(lineno, indent + 1, "unexpected indented line outside a block")
            if body_indent is None:
                body_indent = indent
            elif indent != body_indent:
                raise ParseError(lineno, indent + 1,
                                 f"inconsistent indentation: expected {body_indent} spaces")
            cur = Cursor(body, lineno, indent)
            block[2].append(parse_stmt(cur, block[0], sc))
            continue
        # top level
        block = None
        body_indent = None
        cur = Cursor(body, lineno, 0)
        kw, _ = cur.token("a header or a block")
        if kw.endswith(":") and kw[:-1] == "main" and cur.at_end():
            main_count += 1
            if main_count > 1:
                raise ParseError(lineno, 1, "expected exactly one `main:` block")
            sc.main = []
            block = ("main", "main", sc.main)
            saw_block = True
            continue
        if kw in ("callback", "task"):
            rest = body[len(kw):].strip(" ")
            if not rest.endswith(":"):
                raise ParseError(lineno, len(body) + 1, f"expected `:` after `{kw} NAME`")
            name = rest[:-1].strip(" ")
            if not NAME_RE.fullmatch(name):
                raise ParseError(lineno, len(kw) + 2, "expected a name")
            if name in sc.callbacks or name in sc.tasks or name in sc.futures:
                raise ParseError(lineno, len(kw) + 2, f"`{name}` is already declared")
            stmts = []
            (sc.callbacks if kw == "callback" else sc.tasks)[name] = stmts
            block = (kw, name, stmts)
            saw_block = True
            continue
        if kw == "future":
            name = cur.name("a future name")
            cur.end()
            if name in sc.callbacks or name in sc.tasks or name in sc.futures:
                raise ParseError(lineno, 8, f"`{name}` is already declared")
            sc.futures.append(name)
            block = ("future", name, None)
            saw_block = True
            continue
        if kw in PRIM_DECLS:
            name = cur.name("a name")
            arg = None
            if kw == "condition":
                if not cur.at_end():
                    arg = cur.name("a lock name")
            elif kw != "event" and kw != "lock":
                if not cur.at_end():
                    tok, s = cur.token("an integer")
                    if not re.fullmatch(r"[0-9]+", tok):
                        raise cur.err("expected an integer", s)
                    arg = int(tok)
                elif kw == "barrier":
                    raise cur.err("expected the number of parties")
                if kw == "barrier" and arg == 0:
                    raise cur.err("a barrier needs at least one party")
            cur.end()
            if name in sc.callbacks or name in sc.tasks or name in sc.futures or name in sc.prims:
                raise ParseError(lineno, 1, f"`{name}` is already declared")
            sc.prims[name] = (kw, arg)
            block = ("future", name, None)
            saw_block = True
            continue
        if kw in HEADER_KEYS:
            if saw_block:
                raise ParseError(lineno, 1, "header lines must come before any block")
            if kw == "seed" or kw.startswith("max_"):
                tok, s = cur.token("an integer")
                if not re.fullmatch(r"[0-9]+", tok) or int(tok) > 2 ** 64 - 1:
                    raise cur.err("expected a non-negative integer", s)
                sc.header[kw] = int(tok)
            elif kw == "python":
                tok, s = cur.token("3.11, 3.12 or 3.13")
                if tok not in PYTHONS:
                    raise cur.err("expected 3.11, 3.12 or 3.13", s)
                sc.header[kw] = tok
            elif kw == "tie_break":
                tok, s = cur.token("fifo, random or heapq")
                if tok not in ("fifo", "random", "heapq"):
                    raise cur.err("expected fifo, random or heapq", s)
                sc.header[kw] = tok
            elif kw == "expect":
                # `expect fail` only tells `loopsim check` the run fails on
                # purpose; it changes nothing in the run.
                tok, s = cur.token("fail")
                if tok != "fail":
                    raise cur.err("expected fail", s)
            else:
                d = cur.duration()
                if isinstance(d, Rand):
                    raise cur.err("expected a duration, not rand()")
                sc.header[kw] = d
            cur.end()
            continue
        raise ParseError(lineno, 1, "expected a header line (python, seed, tie_break, jitter, start_time, "
                         "max_iterations, expect) or a block (callback NAME:, task NAME:, future NAME, main:)")
    if main_count != 1:
        raise ParseError(len(lines), 1, "expected exactly one `main:` block")
    resolve(sc)
    return sc


LOCKABLE = {"lock", "semaphore", "bounded_semaphore", "condition"}


def flat(body):
    """The statements of a body and those nested in them (`try STMT`...)."""
    for st in body:
        while st is not None:
            yield st
            st = getattr(st, "inner", None)


def resolve(sc):
    """Static name checks, mirroring loopsim's resolver (src/scenario/resolve.rs):
    one namespace; blocks define callbacks, task bodies and futures;
    `call_* ... as H` binds handles, `create_task T as N` (or `create_task T`,
    or `run_until_complete T` of a task body) binds task instances,
    `new_event_loop L` binds loops (`main` is the first). A name never denotes
    two kinds, except a task instance sharing its body's name. Whether a
    binding ran before a use is decided at run time."""
    kinds = {"main": {"loop"}}

    def define(name, kind, line):
        have = kinds.setdefault(name, set())
        for k in have:
            if k != kind and {k, kind} != {"task_body", "task"}:
                raise ParseError(line, 1, f"`{name}` cannot name a {kind.replace('_', ' ')}: "
                                          f"it already names a {k.replace('_', ' ')}")
        have.add(kind)

    prim_kind = {"lifo_queue": "queue", "priority_queue": "queue"}
    for name, kind in ([(n, "callback") for n in sc.callbacks] + [(n, "task_body") for n in sc.tasks]
                       + [(n, "future") for n in sc.futures]
                       + [(n, prim_kind.get(k, k)) for n, (k, _) in sc.prims.items()]):
        if name == "main":
            raise ParseError(1, 1, f"expected a name for the {kind.replace('_', ' ')}, found `main`")
        define(name, kind, 1)
    bodies = [("callback", b) for b in sc.callbacks.values()] + \
             [("task", b) for b in sc.tasks.values()] + [("main", sc.main)]
    for _, body in bodies:
        for st in flat(body):
            if st.kind in ("call_soon", "call_later", "call_at") and st.as_:
                define(st.as_, "handle", st.line)
            elif st.kind == "create_task":
                if st.as_:
                    define(st.as_, "task", st.line)
                elif "task_body" in kinds.get(st.task, ()):
                    define(st.task, "task", st.line)
            elif st.kind == "new_event_loop":
                define(st.x, "loop", st.line)
            elif st.kind == "task_group":
                for x in st.xs:
                    if "task_body" in kinds.get(x, ()):
                        define(x, "task", st.line)
    for _, body in bodies:
        for st in flat(body):
            if st.kind == "run_until_complete" and "task_body" in kinds.get(st.x, ()):
                define(st.x, "task", st.line)
    uses = {
        "call_soon": [("cb", {"callback"})], "call_later": [("cb", {"callback"})],
        "call_at": [("cb", {"callback"})], "create_task": [("task", {"task_body"})],
        "cancel": [("x", {"handle", "task", "future"})],
        "set_result": [("x", {"future"})], "set_exception": [("x", {"future"})],
        "add_done_callback": [("x", {"task", "future"}), ("cb", {"callback"})],
        "await": [("x", {"task", "future"})],
        "wait_for": [("x", {"task", "future"})],
        "shield": [("x", {"task", "future"})],
        "run_until_complete": [("x", {"task", "future", "task_body"})],
        "set_event_loop": [("x", {"loop"})],
        "set": [("x", {"event"})], "clear": [("x", {"event"})],
        "release": [("x", LOCKABLE)], "acquire": [("x", LOCKABLE)],
        "notify": [("x", {"condition"})], "notify_all": [("x", {"condition"})],
        "put_nowait": [("x", {"queue"})], "get_nowait": [("x", {"queue"})],
        "task_done": [("x", {"queue"})], "put": [("x", {"queue"})],
        "get": [("x", {"queue"})], "join": [("x", {"queue"})],
        "wait": [("x", {"event", "condition", "barrier"})],
        "abort": [("x", {"barrier"})], "reset": [("x", {"barrier"})],
    }
    cond_kinds = {"done": {"task", "future"}, "result": {"task", "future"},
                  "cancelled": {"handle", "task", "future"}, "is_set": {"event"},
                  "locked": LOCKABLE, "empty": {"queue"}, "full": {"queue"},
                  "qsize": {"queue"}, "broken": {"barrier"}}
    for name, (kw, arg) in sc.prims.items():
        if kw == "condition" and arg is not None and "lock" not in kinds.get(arg, ()):
            raise ParseError(1, 1, f"`{arg}` is not a lock name")
    for ctx, body in bodies:
        for st in flat(body):
            need = list(uses.get(st.kind, []))
            if st.kind == "wait_tasks" and ctx != "task":
                raise ParseError(st.line, 1, "`wait` is allowed in task bodies only")
            if st.kind in ("gather", "wait_tasks"):
                need = [(x, {"task", "future"}) for x in st.xs]
            elif st.kind == "task_group":
                need = [(x, {"task_body"}) for x in st.xs]
            elif st.kind == "wait" and kinds.get(st.x, set()) & {"task", "future"}:
                need = [(st.x, {"task", "future"})]
            elif st.kind == "check" and st.cond[0] in cond_kinds:
                need = [(st.cond[1], cond_kinds[st.cond[0]])]
            else:
                need = [(getattr(st, attr), ok) for attr, ok in need]
            for name, ok in need:
                if not kinds.get(name, set()) & ok:
                    raise ParseError(st.line, 1, f"`{name}` is not a {' or '.join(sorted(ok))} name")


# --------------------------------------------------------------------------
# The virtual-clock loop
# --------------------------------------------------------------------------

class _Idle(BaseException):
    """select(None): nothing ready, no timers."""


class _Budget(SystemExit):
    """A budget ran out (the `budget` event is recorded): the whole scenario
    ends. A `SystemExit`, because asyncio lets only that and
    `KeyboardInterrupt` through a callback (`Handle._run`) and a task step
    (`Task.__step`): a budget spent in a loop run from inside a callback or
    a task (3.13.0's failed nested `run_forever`) must end the outer runs
    too, not become that callback's `exception`."""


class BudgetDeque(collections.deque):
    """The loop's `_ready`. CPython's `_run_once` takes each callback of a
    batch with `popleft`: before it does, the budgets are checked, in
    loopsim's order (events, callbacks, pending), and the callback is
    counted if it will run."""

    def popleft(self):
        loop = self._scn_loop
        runner = loop._runner
        reason = None
        if runner.events_overflowed:
            reason = "events"
        elif loop._callbacks_run >= runner.budgets["callbacks"]:
            reason = "callbacks"
        elif len(self) + len(loop._scheduled) + loop._live_tasks > runner.budgets["pending"]:
            reason = "pending"
        if reason is not None:
            runner.emit(loop, "budget", reason=reason)
            raise _Budget()
        handle = super().popleft()
        if not handle._cancelled:
            loop._callbacks_run += 1
        return handle


class _Unbound(Exception):
    pass


def message_of(e):
    """What `caught` says of an exception: its text (without object reprs),
    or its class name when the text is empty; loop calls' errors read as
    their `error` events do."""
    if isinstance(e, _Unbound):
        return f"name '{e.args[0]}' is not defined"
    if isinstance(e, asyncio.InvalidStateError):
        return "invalid state"
    if isinstance(e, ScenarioError):
        return str(e) or "Exception"
    return without_reprs(str(e)) or type(e).__name__


def without_reprs(message):
    """A RuntimeError's text without the reprs of tasks and futures that
    CPython puts in some (they name source files and addresses): loopsim
    writes these messages without them."""
    if message.startswith("Task cannot await on itself: "):
        return "Task cannot await on itself"
    if message.startswith("Task <") and message.endswith(" attached to a different loop"):
        return "Task got Future attached to a different loop"
    if message.endswith(" is bound to a different event loop"):
        return "is bound to a different event loop"
    return message


def make_prims(decls):
    """The declared primitives: real asyncio objects, made before any loop
    runs (bound to a loop by asyncio at their first use that must wait)."""
    prims = {}
    for name, (kw, arg) in decls.items():
        if kw == "lock":
            prims[name] = asyncio.Lock()
    for name, (kw, arg) in decls.items():
        if kw == "event":
            prims[name] = asyncio.Event()
        elif kw == "semaphore":
            prims[name] = asyncio.Semaphore(1 if arg is None else arg)
        elif kw == "bounded_semaphore":
            prims[name] = asyncio.BoundedSemaphore(1 if arg is None else arg)
        elif kw == "condition":
            prims[name] = asyncio.Condition(None if arg is None else prims[arg])
        elif kw == "barrier":
            prims[name] = asyncio.Barrier(arg)
        elif kw == "queue":
            prims[name] = asyncio.Queue(arg or 0)
        elif kw == "lifo_queue":
            prims[name] = asyncio.LifoQueue(arg or 0)
        elif kw == "priority_queue":
            prims[name] = asyncio.PriorityQueue(arg or 0)
    return prims


class Clock:
    def __init__(self, ns):
        self.ns = ns


class NsTime(float):
    """A float deadline (what TimerHandle._when holds) that remembers its
    exact integer nanoseconds."""

    __slots__ = ("ns",)

    def __new__(cls, ns):
        self = float.__new__(cls, ns / 1e9)
        self.ns = ns
        return self


class NsDur(float):
    """A float delay (what asyncio.sleep/call_later receive) that remembers
    its exact integer nanoseconds."""

    __slots__ = ("ns",)

    def __new__(cls, ns):
        self = float.__new__(cls, ns / 1e9)
        self.ns = ns
        return self


def _exact_ns(when):
    return when.ns if isinstance(when, NsTime) else round(when * 1e9)


class FakeSelector:
    def __init__(self, loop):
        self.loop = loop

    def select(self, timeout):
        loop = self.loop
        if timeout is None:
            raise _Idle()
        if timeout > 0:
            head = loop._scheduled[0]
            wait = min(_exact_ns(head._when) - loop._clock.ns, MAX_SELECT_NS)
            if wait > 0:
                loop._clock.ns += wait
        return []

    def close(self):
        pass


class VirtualLoop(asyncio.BaseEventLoop):
    def __init__(self, runner, name):
        self._clock = runner.clock
        self._runner = runner
        self._loopname = name
        self._iteration = 0
        self._callbacks_run = 0
        self._live_tasks = 0
        super().__init__()
        self._ready = BudgetDeque()
        self._ready._scn_loop = self
        self._selector = FakeSelector(self)
        self.set_debug(False)

    # -- virtual clock
    def time(self):
        return self._clock.ns / 1e9

    @property
    def _clock_resolution(self):
        t = self.time()
        return math.nextafter(t, math.inf) - t

    @_clock_resolution.setter
    def _clock_resolution(self, value):
        pass

    def call_later(self, delay, callback, *args, context=None):
        if delay is None:
            raise TypeError('delay must not be None')
        ns = delay.ns if isinstance(delay, NsDur) else round(delay * 1e9)
        return self.call_at(NsTime(self._clock.ns + ns), callback, *args, context=context)

    # -- counting and budget around CPython's own _run_once
    def _run_once(self):
        runner = self._runner
        if self._iteration >= runner.budgets["iterations"]:
            runner.emit(self, "budget", reason="iterations")
            raise _Budget()
        self._iteration += 1
        # The loops whose passes are under way, innermost last: the loop
        # running a callback, known without `get_running_loop()`, which
        # CPython 3.13.0 clears in a failed nested `run_forever`.
        runner.passes.append(self)
        try:
            super()._run_once()
        except _Idle:
            runner.emit(self, "idle")
            if runner.events_overflowed:
                runner.emit(self, "budget", reason="events")
                raise _Budget()
            raise
        finally:
            runner.passes.pop()
        if runner.events_overflowed:
            runner.emit(self, "budget", reason="events")
            raise _Budget()

    def stop(self):
        self._runner.emit(self, "stop")
        super().stop()

    # -- no I/O
    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass


class RecordingMixin:
    """Records `done` when CPython schedules a future's done callbacks,
    which it does exactly when the future becomes done."""

    def _Future__schedule_callbacks(self):
        if isinstance(self, RecTask):
            self._loop._live_tasks -= 1
        name = getattr(self, "_scn_name", None)
        if name is not None:
            if self._state == aio_futures._CANCELLED:
                self._scn_runner.emit(self._loop, "done", name=name, state="cancelled")
            elif self._exception is not None:
                self._scn_runner.emit(self._loop, "done", name=name, state="exception")
            else:
                self._scn_runner.emit(self._loop, "done", name=name, state="result",
                                      value=("v", self._result))
        super()._Future__schedule_callbacks()


class RecFuture(RecordingMixin, aio_futures._PyFuture):
    pass


class RecTask(RecordingMixin, aio_tasks._PyTask):
    def _Task__step(self, exc=None):
        self._scn_runner.emit(self._loop, "step", task=self._scn_name)
        return super()._Task__step(exc)


class _InsertionOrderSet:
    """The set of a TaskGroup's children, iterated in insertion order.

    CPython's TaskGroup keeps its children in a `set`, and `_abort` cancels
    them in its iteration order: the order of their hashes, which are their
    addresses, so it changes from run to run. loopsim cancels them in the
    order they were created; this gives CPython's group that same order.
    Only `add`, `discard`, iteration and `len` are used (`taskgroups.py`)."""

    def __init__(self):
        self._items = {}

    def add(self, x):
        self._items[x] = None

    def discard(self, x):
        self._items.pop(x, None)

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)


class OrderedTaskGroup(asyncio.TaskGroup):
    """asyncio.TaskGroup, untouched but for the order `_abort` cancels in."""

    def __init__(self):
        super().__init__()
        self._tasks = _InsertionOrderSet()


class ScenarioError(Exception):
    """`raise TEXT` in a scenario: Exception(text)."""


# --------------------------------------------------------------------------
# The interpreter
# --------------------------------------------------------------------------

class Runner:
    def __init__(self, sc, budgets, out, fmt):
        self.sc = sc
        self.clock = Clock(sc.header.get("start_time", 0))
        self.budgets = budgets
        self.events_overflowed = False
        self.budget_spent = False     # a `budget` was recorded: the scenario is over
        self.out = out
        self.fmt = fmt
        self.failed = False
        self.statement_loop = None
        self.all_tasks = []
        self.passes = []
        self.env = {}
        self.loops = {}
        self.coro_names = {}
        self.cb_funcs = {}
        self.loops["main"] = self.new_loop("main")
        self.current = self.loops["main"]
        for fname in sc.futures:
            f = RecFuture(loop=self.loops["main"])
            f._scn_name = fname
            f._scn_runner = self
            self.env[fname] = f
        self.prims = make_prims(sc.prims)

    # -- trace
    def emit(self, loop, kind, **fields):
        # The contract: every event of a statement run in `main` (outside
        # the passes of a loop it runs) carries the count of the loop the
        # statement acts on, a `done` of another loop's future included.
        if self.statement_loop is not None and not self.passes:
            loop = self.statement_loop
        if self.budget_spent:
            return      # the first `budget` ended the scenario: nothing after it
        if kind == "budget":
            self.budget_spent = True
        it = loop._iteration
        t = self.clock.ns
        if kind in ("budget", "check_failed"):
            self.failed = True
        if kind != "budget" and len(self.out) >= self.budgets["events"]:
            self.events_overflowed = True   # not kept; the run ends at the next check
            return
        if self.fmt == "json":
            parts = [f'{{"iteration":{it},"time":{json_float(t / 1e9)},"event":"{kind}"']
            for k, v in fields.items():
                if isinstance(v, tuple):      # a value
                    v = v[1]
                    if v is None:
                        parts.append(f',"{k}":null')
                    elif isinstance(v, int):
                        parts.append(f',"{k}":{v}')
                    else:
                        parts.append(f',"{k}":{json_string(v)}')
                else:
                    parts.append(f',"{k}":{json_string(v)}')
            line = "".join(parts) + "}"
        else:
            parts = [f"#{it} t={format_secs(t)} {kind}"]
            for k, v in fields.items():
                if isinstance(v, tuple):
                    v = v[1]
                    s = "none" if v is None else (str(v) if isinstance(v, int) else quote(v))
                elif k in ("text", "message", "cond"):
                    s = quote(v)
                else:
                    s = v
                parts.append(f" {k}={s}")
            line = "".join(parts)
        self.out.append(line)

    # -- loops
    def new_loop(self, name):
        loop = VirtualLoop(self, name)
        loop.set_exception_handler(self.exception_handler)
        loop.set_task_factory(self.task_factory)
        return loop

    def acting(self):
        # DESIGN.md decision 8: every statement acts on the current loop.
        return self.current

    def exception_handler(self, loop, context):
        handle = context.get("handle")
        cb = getattr(handle, "_callback", None) if handle is not None else None
        exc = context.get("exception")
        name = getattr(cb, "_scn_name", None) or getattr(exc, "_scn_callback", None)
        if name is None or exc is None:
            return  # GC-time reports ("Task exception was never retrieved"...): not scenario events
        if not isinstance(exc, ScenarioError):
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        self.emit(loop, "exception", name=name, message=str(exc))

    def task_factory(self, loop, coro, context=None):
        name = self.coro_names.pop(coro)
        task = RecTask.__new__(RecTask)
        task._scn_name = name
        task._scn_runner = self
        RecTask.__init__(task, coro, loop=loop, name=name, context=context)
        loop._live_tasks += 1
        self.env[name] = task
        # Every task lives to the end of the run, as in loopsim: a task no
        # name refers to any more and no loop will wake (`close` dropped its
        # wake-up) would otherwise be collected mid-run, and the collector
        # closing its coroutine runs its `finally` blocks (a barrier's
        # `_exit` notifying its condition, say) at a moment chosen by
        # CPython's garbage collection, not by the program.
        self.all_tasks.append(task)
        return task

    def callback_func(self, name):
        f = self.cb_funcs.get(name)
        if f is None:
            stmts = self.sc.callbacks[name]

            def f(*_ignored):
                # Stamped by the loop running the callback, which a
                # `set_event_loop` in an earlier callback does not change.
                self.emit(self.passes[-1], "call", name=name)
                try:
                    self.exec_block(stmts)
                except ScenarioError as exc:
                    # The handler finds the callback's name here: a callback
                    # that cancelled its own handle left `handle._callback`
                    # None (Handle.cancel clears it), yet CPython still calls
                    # the exception handler for it.
                    exc._scn_callback = name
                    raise
            f._scn_name = name
            f.__qualname__ = f.__name__ = name
            self.cb_funcs[name] = f
        return f

    def make_coro(self, body_name, bind_as):
        coro = self.task_body(self.sc.tasks[body_name])
        self.coro_names[coro] = bind_as
        return coro

    async def task_body(self, stmts):
        for st in stmts:
            ret = await self.task_stmt(st, False)
            if ret is not None:
                return ret[0]
        return None

    async def task_stmt(self, st, catching):
        """One statement of a task body: `(value,)` for `return`, else None.
        `catching`: a `try` encloses it, so a failing call that does not
        await raises (for the `try`) instead of becoming an `error` event."""
        k = st.kind
        if k == "sleep":
            await asyncio.sleep(NsDur(st.dur))
        elif k == "yield":
            await asyncio.sleep(0)
        elif k in ("await", "wait_for", "shield"):
            obj = self.env.get(st.x)
            if obj is None:
                if catching:
                    raise _Unbound(st.x)
                self.emit(self.acting(), "error", message=f"name '{st.x}' is not defined")
                return None
            if k == "await":
                await obj
            elif k == "wait_for":
                await asyncio.wait_for(obj, NsDur(st.dur))
            else:
                await asyncio.shield(obj)
        elif k == "wait" and st.x not in self.prims:
            await self.wait_tasks([st.x], None, None, catching)
        elif k == "wait_tasks":
            await self.wait_tasks(st.xs, st.timeout, st.when, catching)
        elif k == "gather":
            objs = self.all_bound(st.xs, catching)
            if objs is not None:
                await asyncio.gather(*objs, return_exceptions=st.return_exceptions)
        elif k == "task_group":
            await self.task_group(st.xs)
        elif k in PRIM_AWAITS:
            await self.prim_await(st)
        elif k == "return":
            return (st.value,)
        elif k == "raise":
            raise ScenarioError(st.text)
        elif k == "try":
            try:
                return await self.task_stmt(st.inner, True)
            except Exception as e:
                self.emit(self.acting(), "caught", message=message_of(e))
        elif k == "timeout":
            # asyncio.timeout(delay) is timeout_at(loop.time() + delay): the
            # deadline is computed in integer nanoseconds (as call_later's).
            when = NsTime(self.clock.ns + st.dur)
            async with asyncio.timeout_at(when):
                return await self.task_stmt(st.inner, catching)
        elif k == "timeout_at":
            async with asyncio.timeout_at(NsTime(st.dur)):
                return await self.task_stmt(st.inner, catching)
        elif catching:
            self._exec(st, self.acting(), catching=True)
        else:
            self.exec_action(st)
        return None

    def all_bound(self, names, catching):
        """The objects named, or None after recording the NameError of the
        first unbound one (Python evaluates the arguments left to right);
        inside a `try`, the NameError is raised for it."""
        objs = []
        for x in names:
            obj = self.env.get(x)
            if obj is None:
                if catching:
                    raise _Unbound(x)
                self.emit(self.acting(), "error", message=f"name '{x}' is not defined")
                return None
            objs.append(obj)
        return objs

    async def wait_tasks(self, names, timeout, when, catching):
        objs = self.all_bound(names, catching)
        if objs is None:
            return
        await asyncio.wait(set(objs), timeout=None if timeout is None else NsDur(timeout),
                           return_when=RETURN_WHEN[when or "all_completed"])

    async def task_group(self, names):
        async with OrderedTaskGroup() as tg:
            for x in names:
                tg.create_task(self.make_coro(x, x))

    def exec_block(self, stmts):
        """A callback body. `raise` propagates to Handle._run."""
        for st in stmts:
            if st.kind == "raise":
                raise ScenarioError(st.text)
            self.exec_action(st)

    def lookup(self, name):
        obj = self.env.get(name)
        if obj is None:
            raise _Unbound(name)
        return obj

    def exec_action(self, st):
        """Runs one action or driver. Errors of loop calls (RuntimeError,
        InvalidStateError, ValueError, unbound names) become `error` events
        and the body goes on; `_Budget` propagates and ends the scenario. They
        are stamped by the loop the statement acted on, even if a callback
        made another loop current meanwhile (a driver runs callbacks)."""
        loop = self.acting()
        try:
            self._exec(st, loop)
        except _Unbound as e:
            self.emit(loop, "error", message=f"name '{e.args[0]}' is not defined")
        except asyncio.InvalidStateError:
            self.emit(loop, "error", message="invalid state")
        except (RuntimeError, ValueError) as e:
            self.emit(loop, "error", message=without_reprs(str(e)))
        except IndexError as e:
            # CPython 3.13.0: a failed nested `run_forever` still runs its
            # cleanup, so a driver after it in the same callback really runs
            # and empties the ready queue under the outer `_run_once`, whose
            # `popleft` then raises `pop from an empty deque` out of the
            # outer driver (DESIGN.md, "Python versions").
            self.emit(loop, "error", message=str(e))
        except (asyncio.QueueEmpty, asyncio.QueueFull, TypeError) as e:
            self.emit(loop, "error", message=str(e) or type(e).__name__)

    async def prim_await(self, st):
        """An awaiting primitive statement: what it raises goes into the task."""
        p = self.prims[st.x]
        k = st.kind
        if k == "wait":
            await p.wait()
        elif k == "acquire":
            await p.acquire()
        elif k == "put":
            await p.put(st.value)
        elif k == "get":
            value = await p.get()
            self.emit(self.acting(), "got", queue=st.x, value=("v", value))
        elif k == "join":
            await p.join()
        elif k == "abort":
            await p.abort()
        elif k == "reset":
            await p.reset()
        else:
            raise AssertionError(k)

    def prim_action(self, st, loop):
        p = self.prims[st.x]
        k = st.kind
        if k == "set":
            p.set()
        elif k == "clear":
            p.clear()
        elif k == "release":
            p.release()
        elif k == "notify":
            p.notify(1 if st.value is None else st.value)
        elif k == "notify_all":
            p.notify_all()
        elif k == "put_nowait":
            p.put_nowait(st.value)
        elif k == "get_nowait":
            value = p.get_nowait()
            self.emit(loop, "got", queue=st.x, value=("v", value))
        elif k == "task_done":
            p.task_done()
        else:
            raise AssertionError(k)

    def _exec(self, st, loop, catching=False):
        """One action or driver; what it raises propagates. `catching`: a
        `try` encloses it, so a driver's failure propagates too, instead of
        becoming its `error` event."""
        k = st.kind
        if k == "log":
            self.emit(loop, "log", text=st.text)
        elif k == "call_soon":
            h = loop.call_soon(self.callback_func(st.cb))
            if st.as_:
                self.env[st.as_] = h
        elif k == "call_later":
            h = loop.call_later(NsDur(st.dur), self.callback_func(st.cb))
            if st.as_:
                self.env[st.as_] = h
        elif k == "call_at":
            h = loop.call_at(NsTime(st.dur), self.callback_func(st.cb))
            if st.as_:
                self.env[st.as_] = h
        elif k == "create_task":
            coro = self.make_coro(st.task, st.as_ or st.task)
            try:
                loop.create_task(coro)
            except BaseException:
                self.coro_names.pop(coro, None)
                coro.close()
                raise
        elif k == "cancel":
            self.lookup(st.x).cancel()
        elif k == "set_result":
            self.lookup(st.x).set_result(st.value)
        elif k == "set_exception":
            self.lookup(st.x).set_exception(ScenarioError(st.text))
        elif k == "add_done_callback":
            self.lookup(st.x).add_done_callback(self.callback_func(st.cb))
        elif k == "stop":
            loop.stop()
        elif k == "close":
            loop.close()
        elif k == "check":
            self.check(st, loop)
        elif k == "new_event_loop":
            self.loops[st.x] = self.new_loop(st.x)
        elif k == "set_event_loop":
            self.current = self.loops[st.x] if st.x in self.loops else self.lookup_loop(st.x)
        elif k == "run_forever":
            try:
                loop.run_forever()
            except _Idle:
                return      # `idle` was recorded; the driver ends, the script goes on
            self.emit(loop, "returned", driver="run_forever")
        elif k == "run_until_complete":
            self.run_until_complete(st, loop, catching)
        elif k in PRIM_ACTIONS:
            self.prim_action(st, loop)
        else:
            raise AssertionError(k)

    def lookup_loop(self, name):
        raise _Unbound(name)

    def run_until_complete(self, st, loop, catching=False):
        obj = self.env.get(st.x)
        coro = None
        if obj is None:
            if st.x not in self.sc.tasks:
                raise _Unbound(st.x)
            coro = obj = self.make_coro(st.x, st.x)
        try:
            value = loop.run_until_complete(obj)
        except _Idle:
            return      # `idle` was recorded; the driver ends, the script goes on
        except asyncio.CancelledError:
            if catching:
                raise
            self.emit(loop, "error", message="CancelledError")
            return
        except asyncio.TimeoutError:
            if catching:
                raise
            # str(TimeoutError()) is empty: named like CancelledError.
            self.emit(loop, "error", message="TimeoutError")
            return
        except ScenarioError as e:
            if catching:
                raise
            self.emit(loop, "error", message=str(e))
            return
        except Exception as e:
            if catching:
                raise
            # What a task raised from a primitive (TypeError, BrokenBarrierError,
            # RuntimeError...), re-raised by run_until_complete.
            self.emit(loop, "error", message=without_reprs(str(e)) or type(e).__name__)
            return
        finally:
            if coro is not None and coro in self.coro_names:   # never wrapped
                self.coro_names.pop(coro, None)
                coro.close()
        self.emit(loop, "returned", driver="run_until_complete", value=("v", value))

    def check(self, st, loop):
        c = st.cond
        if c[0] == "is_running":
            ok = loop.is_running()
        elif c[0] == "is_closed":
            ok = loop.is_closed()
        elif c[0] == "done":
            ok = self.lookup(c[1]).done()
        elif c[0] == "cancelled":
            ok = self.lookup(c[1]).cancelled()
        elif c[0] == "result":
            f = self.lookup(c[1])
            ok = (f.done() and not f.cancelled() and f.exception() is None
                  and type(f.result()) is type(c[2]) and f.result() == c[2])
        elif c[0] == "time":
            ok = self.clock.ns == c[1]
        elif c[0] == "is_set":
            ok = self.prims[c[1]].is_set()
        elif c[0] == "locked":
            ok = self.prims[c[1]].locked()
        elif c[0] == "empty":
            ok = self.prims[c[1]].empty()
        elif c[0] == "full":
            ok = self.prims[c[1]].full()
        elif c[0] == "qsize":
            ok = self.prims[c[1]].qsize() == c[2]
        elif c[0] == "broken":
            ok = self.prims[c[1]].broken
        else:
            raise AssertionError(c)
        if st.negate:
            ok = not ok
        if not ok:
            self.emit(loop, "check_failed", cond=st.text)

    def run_main(self):
        try:
            for st in self.sc.main:
                if st.kind == "raise":
                    self.emit(self.current, "exception", name="main", message=st.text)
                    return
                acting = self.statement_loop = self.acting()
                try:
                    self.exec_action(st)
                finally:
                    self.statement_loop = None
                if self.events_overflowed:
                    # Events past the budget were dropped: say so, and stop.
                    self.emit(acting, "budget", reason="events")
                    return
        except _Budget:
            return      # `budget` was recorded; the whole scenario ends


def main(argv):
    args = argv[1:]
    path = None
    budgets = {}
    jitter = None
    python = None
    fmt = "json"
    i = 0
    try:
        while i < len(args):
            a = args[i]
            if a in ("--python", "--seed", "--format", "--tie-break", "--jitter") or a in BUDGET_FLAGS:
                if i + 1 >= len(args):
                    raise ValueError(f"{a} needs a value")
                v = args[i + 1]
                if a == "--python":
                    if v not in PYTHONS:
                        raise ValueError("--python is 3.11, 3.12 or 3.13")
                    python = v
                elif a == "--seed":
                    int(v)
                elif a == "--tie-break":
                    if v not in ("fifo", "random", "heapq"):
                        raise ValueError("--tie-break is fifo, random or heapq")
                    # ignored: CPython always breaks ties with its heapq
                elif a == "--jitter":
                    jitter = parse_duration(v)
                    if jitter is None or jitter < 0:
                        raise ValueError("--jitter needs a duration >= 0")
                elif a in BUDGET_FLAGS:
                    n = int(v)
                    if n < 0:
                        raise ValueError(f"{a} must be >= 0")
                    budgets[a[len("--max-"):]] = n
                else:
                    if v not in ("json", "text"):
                        raise ValueError("--format is json or text")
                    fmt = v
                i += 2
            elif a.split("=", 1)[0] in ("--python", "--seed", "--format", "--tie-break", "--jitter") + BUDGET_FLAGS and "=" in a:
                k, v = a.split("=", 1)
                args[i:i + 1] = [k, v]
            elif a == "--batch":
                if path is not None:
                    raise ValueError("--batch takes no FILE")
                path = a
                i += 1
            elif a.startswith("-") and a != "-":
                raise ValueError(f"unknown option {a}")
            else:
                if path is not None:
                    raise ValueError("expected one FILE")
                path = a
                i += 1
        if path is None:
            raise ValueError("expected a FILE")
    except ValueError as e:
        print(f"usage: asyncio_runner.py FILE [--python V] [--seed N] [--max-iterations N] [--max-events N]"
              f" [--max-callbacks N] [--max-pending N] [--format json|text]"
              f" [--tie-break P (ignored)] [--jitter D (nonzero: exit 3)]\nerror: {e}",
              file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    # A task still waiting on a queue when its scenario ends is closed at
    # garbage collection; its `except:` then cancels its waiter on a closed
    # loop, which Python reports as "Exception ignored". Not scenario events.
    sys.unraisablehook = lambda unraisable: None
    logging.getLogger("asyncio").disabled = True
    try:
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    except AttributeError:
        pass
    if path == "--batch":
        return run_batch(budgets, jitter, fmt, python)
    code, lines = run_file(path, budgets, jitter, fmt, python)
    try:
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()
    return code


def run_batch(budgets, jitter, fmt, python):
    """`--batch`: one file path per line on stdin; for each, its trace, then
    a line `# exit N` with the exit status a single run would have. Saves
    the interpreter's start-up (most of a small run's time) per file."""
    for raw in sys.stdin:
        path = raw.rstrip("\n")
        if not path:
            continue
        code, lines = run_file(path, budgets, jitter, fmt, python)
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.write(f"# exit {code}\n")
        sys.stdout.flush()
    return 0


def run_file(path, flag_budgets, jitter, fmt, python=None):
    """Runs one scenario file: (exit status, trace lines). `python` is
    `--python`; with it or a `python` header naming another version than
    this interpreter's, exit 4 (this interpreter is not the reference)."""
    try:
        with open(path, "rb") as fh:
            src = fh.read().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        print(f"{path}: cannot read: {e}", file=sys.stderr)
        return 2, []
    try:
        sc = parse(src)
    except ParseError as e:
        print(f"{path}:{e.line}:{e.col}: {e.msg}", file=sys.stderr)
        return 2, []
    if jitter is not None:
        sc.header["jitter"] = jitter
    if sc.uses_rand or sc.header.get("jitter", 0) != 0:
        print(f"{path}: uses rand()/jitter: not reproducible on CPython", file=sys.stderr)
        return 3, []
    wanted = python or sc.header.get("python")
    if wanted is not None and wanted != THIS_PYTHON:
        print(f"{path}: the run is CPython {wanted}'s asyncio, but this is CPython {THIS_PYTHON}: "
              f"run this file with python{wanted}", file=sys.stderr)
        return 4, []
    budgets = {b: flag_budgets.get(b, sc.header.get(f"max_{b}", DEFAULT_BUDGETS[b]))
               for b in BUDGETS}
    lines = []
    runner = Runner(sc, budgets, lines, fmt)
    runner.run_main()
    return (1 if runner.failed else 0), lines


if __name__ == "__main__":
    sys.exit(main(sys.argv))
