//! Hostile inputs: scenarios built to exhaust memory or time, and files
//! that are not what they claim. Each runs the `loopsim` binary under an
//! address-space limit (`ulimit -v`) and a time limit, and must end with
//! the exit status a user relies on: 1 when a budget ends the run (never an
//! allocation abort), 2 with a message for bad input, quietly on a closed
//! pipe. The peak RSS of each child (`wait4`) must stay under the bound
//! the budgets state (DESIGN.md, "Budgets").

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The address space a child may map: 2 GiB (a run's memory is bounded by
/// 1 GiB; the rest is room for the allocator's and the loader's mappings).
const ADDRESS_SPACE_KB: u64 = 2 << 20;
/// The RSS every run must stay under, with the default budgets.
const RSS_BOUND_KB: u64 = 1 << 20;
/// A hang detector, not a speed test: far above any case's time.
const TIME_LIMIT: Duration = Duration::from_secs(240);

/// What a child did.
struct Ran {
    /// The exit status, `None` if killed by a signal.
    code: Option<i32>,
    /// The signal that killed it, if any.
    signal: Option<i32>,
    /// The last 4 KiB of standard output, and its length.
    stdout_tail: String,
    stdout_len: u64,
    /// The first 64 KiB of standard error, and its length.
    stderr_head: String,
    stderr_len: u64,
    /// Peak resident set, in KiB.
    max_rss_kb: u64,
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_loopsim")
}

/// A path `name` in a scratch directory of its own (one per file, so
/// that tests running at once never remove each other's), deleted with
/// that directory when dropped: the tests write tens of megabytes and
/// must leave nothing behind in the temporary directory.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "loopsim-hostile-{}-{}",
            std::process::id(),
            name.replace('.', "-")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir.join(name))
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn write(name: &str, text: &str) -> Scratch {
    let path = Scratch::new(name);
    std::fs::write(&*path, text).unwrap();
    path
}

/// Runs `loopsim ARGS` under the limits. `stdout`: where its standard
/// output goes (`None`: a pipe read to the end).
fn run_limited(args: &[&str], stdout: Option<Stdio>) -> Ran {
    let script = format!("ulimit -v {ADDRESS_SPACE_KB} && exec \"$0\" \"$@\"");
    let piped = stdout.is_none();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(stdout.unwrap_or_else(Stdio::piped))
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let pid = child.id() as libc::pid_t;
    let out = piped.then(|| {
        let mut pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || tail_of(&mut pipe))
    });
    let mut err_pipe = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || head_of(&mut err_pipe));
    let finished = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let finished = finished.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !finished.load(Ordering::Relaxed) {
                if start.elapsed() > TIME_LIMIT {
                    // SAFETY: a signal to our own child, not yet reaped.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        })
    };
    let mut status = 0;
    // SAFETY: plain structs for the kernel to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which std has not reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    finished.store(true, Ordering::Relaxed);
    let timed_out = watchdog.join().unwrap();
    assert!(
        !timed_out,
        "`loopsim {}` ran past {TIME_LIMIT:?}",
        args.join(" ")
    );
    std::mem::forget(child); // reaped above
    let (stdout_tail, stdout_len) = out.map_or((String::new(), 0), |t| t.join().unwrap());
    let (stderr_head, stderr_len) = err.join().unwrap();
    Ran {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stdout_tail,
        stdout_len,
        stderr_head,
        stderr_len,
        max_rss_kb: usage.ru_maxrss as u64,
    }
}

/// The last 4 KiB read from `pipe`, and how many bytes it gave.
fn tail_of(pipe: &mut impl Read) -> (String, u64) {
    let (mut tail, mut total, mut buf) = (Vec::new(), 0u64, vec![0; 1 << 16]);
    loop {
        let n = pipe.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        total += n as u64;
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > 8192 {
            tail.drain(..tail.len() - 4096);
        }
    }
    (String::from_utf8_lossy(&tail).into_owned(), total)
}

/// The first 64 KiB read from `pipe`, and how many bytes it gave.
fn head_of(pipe: &mut impl Read) -> (String, u64) {
    let (mut head, mut total, mut buf) = (Vec::new(), 0u64, vec![0; 1 << 16]);
    loop {
        let n = pipe.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        total += n as u64;
        let room = (1usize << 16).saturating_sub(head.len()).min(n);
        head.extend_from_slice(&buf[..room]);
    }
    (String::from_utf8_lossy(&head).into_owned(), total)
}

/// A run that a budget ends: exit 1, the trace's last line names the
/// budget, the replay command is printed, and memory stayed bounded.
fn assert_budget(ran: &Ran, reason: &str, rss_bound_kb: u64, what: &str) {
    assert_eq!(
        (ran.code, ran.signal),
        (Some(1), None),
        "{what}: {}",
        ran.stderr_head
    );
    assert!(
        ran.stdout_tail
            .ends_with(&format!("budget reason={reason}\n")),
        "{what}: the trace ends with `{}`",
        ran.stdout_tail.lines().last().unwrap_or("")
    );
    assert!(
        ran.stderr_head.contains("reproduce: loopsim replay"),
        "{what}"
    );
    assert!(
        ran.max_rss_kb < rss_bound_kb,
        "{what}: peak RSS {} KiB, bound {rss_bound_kb} KiB",
        ran.max_rss_kb
    );
    println!(
        "{what}: exit 1 by {reason}, peak RSS {} KiB",
        ran.max_rss_kb
    );
}

/// The six lines: each callback schedules two more, so each pass
/// doubles the work and no pass budget bounds it. Default budgets.
#[test]
fn a_forking_callback_ends_by_a_budget_under_the_memory_bound() {
    let file = write(
        "fork.scn",
        "callback fork:\n    call_soon fork\n    call_soon fork\n\nmain:\n    call_soon fork\n    run_forever\n",
    );
    let ran = run_limited(&["run", file.to_str().unwrap()], None);
    assert_budget(&ran, "pending", RSS_BOUND_KB, "fork");
}

/// Tasks that wait forever on a future, two more each pass: unfinished
/// tasks count as pending (default budgets).
#[test]
fn tasks_waiting_forever_end_by_the_pending_budget() {
    let file = write(
        "tasks.scn",
        "future never\n\ntask waiter:\n    await never\n\ncallback spawn:\n    create_task waiter\n    create_task waiter\n    call_soon spawn\n    call_soon spawn\n\nmain:\n    call_soon spawn\n    run_forever\n",
    );
    let ran = run_limited(&["run", file.to_str().unwrap()], None);
    assert_budget(&ran, "pending", RSS_BOUND_KB, "tasks waiting forever");
}

/// A thousand callbacks that each reschedule themselves forever: the
/// events budget ends it (default budgets).
#[test]
fn a_thousand_spinning_callbacks_end_by_a_budget() {
    let mut text = String::from("callback spin:\n    call_soon spin\n\nmain:\n");
    for _ in 0..1000 {
        text.push_str("    call_soon spin\n");
    }
    text.push_str("    run_forever\n");
    let file = write("spin1000.scn", &text);
    let ran = run_limited(&["run", file.to_str().unwrap()], None);
    assert_budget(&ran, "events", RSS_BOUND_KB, "1,000 spinning callbacks");
}

/// Doubling timers. The pending budget is lowered to keep the test's time
/// down (the debug build, with the invariant checker's model of every
/// timer); the bound is then lowered in proportion.
#[test]
fn doubling_timers_end_by_the_pending_budget() {
    let file = write(
        "timers.scn",
        "callback grow:\n    call_later 1 grow\n    call_later 1 grow\n\nmain:\n    call_soon grow\n    run_forever\n",
    );
    let ran = run_limited(
        &["run", file.to_str().unwrap(), "--max-pending", "100000"],
        None,
    );
    assert_budget(&ran, "pending", RSS_BOUND_KB / 4, "doubling timers");
}

/// One callback logging 10 KB per pass: the text is shared (an `Rc<str>`
/// of the statement), never copied per event, and the trace is written as it is rendered, so memory does
/// not grow with the output (100 MB of it here).
#[test]
fn a_big_log_does_not_grow_memory_with_the_output() {
    let text = "x".repeat(10_000);
    let file = write(
        "biglog.scn",
        &format!("callback chatter:\n    log {text}\n    call_soon chatter\n\nmain:\n    call_soon chatter\n    run_forever\n"),
    );
    let ran = run_limited(
        &["run", file.to_str().unwrap(), "--max-events", "20000"],
        None,
    );
    assert!(ran.stdout_len > 100_000_000, "{}", ran.stdout_len);
    assert_budget(&ran, "events", 64 << 10, "a big log");
}

/// Paths that are not regular files are refused at once, with a message,
/// exit 2: no hang on a FIFO, no endless read of a device.
#[test]
fn only_regular_files_are_read() {
    let fifo = Scratch::new("fifo.scn");
    let made = Command::new("mkfifo")
        .arg(&*fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let dir = Scratch::new("a_directory.scn");
    std::fs::create_dir_all(&*dir).unwrap();
    let cases = [
        (
            fifo.to_str().unwrap().to_string(),
            "a FIFO (named pipe), not a regular file",
        ),
        (
            "/dev/zero".to_string(),
            "a character device, not a regular file",
        ),
        (
            dir.to_str().unwrap().to_string(),
            "a directory, not a regular file",
        ),
    ];
    for (path, says) in &cases {
        for command in ["run", "check", "fmt", "explore", "decode"] {
            if path.ends_with("a_directory.scn") && matches!(command, "check" | "fmt") {
                continue; // these two take folders of scenarios
            }
            let ran = run_limited(&[command, path], None);
            assert_eq!(ran.code, Some(2), "{command} {path}: {}", ran.stderr_head);
            assert!(
                ran.stderr_head
                    .contains(&format!("cannot read `{path}`: it is {says}")),
                "{command} {path}: {}",
                ran.stderr_head
            );
        }
    }
}

/// A file over the documented limit (16 MiB) is refused with a message.
#[test]
fn a_file_over_the_size_limit_is_refused() {
    let limit = loopsim::scenario::source::MAX_SOURCE_BYTES;
    let mut text = String::from("main:\n");
    while (text.len() as u64) <= limit {
        text.push_str("    log padding padding padding padding padding padding\n");
    }
    let file = write("huge.scn", &text);
    let ran = run_limited(&["run", file.to_str().unwrap()], None);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr_head);
    assert!(
        ran.stderr_head
            .contains("over the limit of 16777216 bytes (16 MiB)"),
        "{}",
        ran.stderr_head
    );
}

/// A million bad lines: the first 100 errors and one that counts the rest,
/// not hundreds of megabytes of standard error; memory stays bounded too.
#[test]
fn a_million_bad_lines_give_a_hundred_errors_and_a_count() {
    let text = format!("main:\n{}", "    bogus x\n".repeat(1_000_000));
    let file = write("million.scn", &text);
    let ran = run_limited(&["run", file.to_str().unwrap()], None);
    assert_eq!(ran.code, Some(2), "{}", &ran.stderr_head[..200]);
    assert!(
        ran.stderr_len < 64 << 10,
        "{} bytes of errors",
        ran.stderr_len
    );
    assert_eq!(
        ran.stderr_head
            .matches("error: unknown statement `bogus`")
            .count(),
        100
    );
    assert!(
        ran.stderr_head.contains(
            "error: 999900 more errors from here on, not shown (the first 100 are above)"
        ),
        "{}",
        ran.stderr_head
    );
    assert!(
        ran.max_rss_kb < RSS_BOUND_KB,
        "peak RSS {} KiB",
        ran.max_rss_kb
    );
}

/// Standard output closed early: the command stops quietly (status 141,
/// as a tool killed by SIGPIPE), without a panic or a message.
#[test]
fn a_closed_pipe_ends_quietly() {
    let file = write(
        "long.scn",
        "max_iterations 200000\n\ncallback spin:\n    log spinning\n    call_soon spin\n\nmain:\n    call_soon spin\n    run_forever\n",
    );
    let mut child = Command::new(bin())
        .args(["run", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // `| head -c 16`
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(141),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "quietly");
}

/// Any other failed write is an error message and exit 2: never a panic
/// (101), never 0 with the trace lost.
#[test]
fn a_failed_write_is_an_error_and_exit_2() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    for args in [
        &["run", "scenarios/01_call_soon_fifo.scn"][..],
        &["check", "scenarios"][..],
        &["fmt", "scenarios/01_call_soon_fifo.scn"][..],
        &["explore", "scenarios/01_call_soon_fifo.scn", "--seeds", "3"][..],
        &["--help"][..],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let ran = run_limited(args, Some(Stdio::from(full)));
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr_head);
        assert!(
            ran.stderr_head
                .contains("error: cannot write to standard output: No space left on device"),
            "{args:?}: {}",
            ran.stderr_head
        );
    }
}

/// Ten million events (a callback that logs and schedules itself, until
/// the event budget): the trace is written as it is recorded and the
/// invariant checker keeps only what is pending, so the run stays under
/// 100 MiB however long its trace (300 MB of text here).
/// `benches/whole_run.sh` measures the same run in release, to a file.
#[test]
fn ten_million_events_stream_in_bounded_memory() {
    let file = write(
        "ten_million.scn",
        "max_events 10000000\nmax_iterations 100000000\n\ncallback tick:\n    log tick\n    call_soon tick\n\nmain:\n    call_soon tick\n    run_forever\n",
    );
    let ran = run_limited(&["run", file.to_str().unwrap()], None);
    assert!(ran.stdout_len > 10_000_000 * 25, "{}", ran.stdout_len);
    assert_budget(&ran, "events", 100 << 10, "ten million events");
}

/// A file `name` of each text in `parts` repeated its number of times,
/// written a piece at a time: the test process never holds the file, which
/// matters because a child's peak RSS counts what it shares with this
/// process when forked (tens of megabytes here would show in the peaks of
/// the tests running at the same time).
fn write_repeated(name: &str, parts: &[(&str, usize)]) -> Scratch {
    use std::io::Write;
    let path = Scratch::new(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&*path).unwrap());
    for (text, times) in parts {
        for _ in 0..*times {
            out.write_all(text.as_bytes()).unwrap();
        }
    }
    out.flush().unwrap();
    path
}

/// What a command that only runs a scenario may hold for a 16 MiB file
/// however many comment or blank lines it has: the file, and room for a
/// small program, not a node (or an index entry) a line.
const COMMENTED_RUN_RSS_KB: u64 = 64 << 10;

/// A 16 MiB file of 8 million comment lines and nothing else: `check` and
/// `run` drop comments as they read them, and the error (no statements, at
/// line 8388609) is rendered without an index of every line. It cost
/// 817 MB when every comment was a node.
#[test]
fn a_file_of_comment_lines_costs_what_its_text_does() {
    let limit = loopsim::scenario::source::MAX_SOURCE_BYTES as usize;
    let file = write_repeated("comments.scn", &[("#\n", limit / 2)]);
    assert_eq!(std::fs::metadata(&*file).unwrap().len() as usize, limit);
    for command in ["check", "run"] {
        let ran = run_limited(&[command, file.to_str().unwrap()], None);
        assert_eq!(ran.code, Some(2), "{command}: {}", ran.stderr_head);
        assert!(
            ran.stderr_head
                .contains("` has no statements: expected at least a `main:` block\n")
                && ran.stderr_head.contains("comments.scn:8388609:1\n"),
            "{command}: {}",
            ran.stderr_head
        );
        assert!(
            ran.max_rss_kb < COMMENTED_RUN_RSS_KB,
            "{command}: peak RSS {} KiB",
            ran.max_rss_kb
        );
        println!("{command}: peak RSS {} KiB", ran.max_rss_kb);
    }
}

/// A valid file of almost 16 MiB that is nearly all comments: above
/// `main:`, 2.4 million indented ones between and after its statements,
/// and after everything. `check` keeps none of them; `fmt --check` keeps
/// their text once (not a node and an allocation each) and finds the file
/// formatted.
#[test]
fn a_valid_file_of_comments_runs_and_formats_in_bounded_memory() {
    let body = ("    #\n", 600_000);
    let file = write_repeated(
        "commented.scn",
        &[
            ("# top\n", 100_000),
            ("\n# above main\n", 1),
            ("# above main\n", 999),
            ("main:\n    log a\n", 1),
            body,
            ("    log b\n", 1),
            body,
            ("    log c\n", 1),
            body,
            ("    stop\n", 1),
            body,
            ("\n", 1),
            ("# trailing\n", 40_000),
        ],
    );
    let size = std::fs::metadata(&*file).unwrap().len();
    assert!(
        size <= loopsim::scenario::source::MAX_SOURCE_BYTES,
        "{size}"
    );
    let path = file.to_str().unwrap();
    let ran = run_limited(&["check", path], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr_head);
    assert!(
        ran.max_rss_kb < COMMENTED_RUN_RSS_KB,
        "check: peak RSS {} KiB",
        ran.max_rss_kb
    );
    println!("check: peak RSS {} KiB", ran.max_rss_kb);
    let ran = run_limited(&["fmt", "--check", path], None);
    assert_eq!(
        (ran.code, ran.stdout_len),
        (Some(0), 0),
        "{}",
        ran.stderr_head
    );
    assert!(
        ran.max_rss_kb < 2 * COMMENTED_RUN_RSS_KB,
        "fmt --check: peak RSS {} KiB",
        ran.max_rss_kb
    );
    println!("fmt --check: peak RSS {} KiB", ran.max_rss_kb);
}
