//! Every byte the command writes goes through here, and every write is
//! checked.
//!
//! * Standard output closed early (`loopsim check scenarios | head -1`):
//!   the reader has what it wanted, so the command stops at once and
//!   quietly, with status 141 (128 + SIGPIPE), as a Unix tool killed by
//!   SIGPIPE reports in a shell.
//! * Any other failed write (`> /dev/full`, a full disk): a message on
//!   standard error if it can still be written, and status 2. The run's
//!   output is not all there, so it must not look like a success.
//!
//! Both end the process from the failed write: nothing after it could be
//! shown anyway. Standard output is buffered (a trace of millions of events
//! is written as it is rendered, never built whole in memory) and flushed,
//! and checked, by [`finish`] before the process exits.

use loopsim::event_loop::EventSink;
use loopsim::explore::Fnv1a;
use loopsim::trace::Format;
use loopsim::trace_writer::Writer;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, BufWriter, Stdout, Write};
use std::rc::Rc;

/// The status of a command whose standard output was closed early.
pub(crate) const EXIT_CLOSED_PIPE: u8 = 141;

thread_local! {
    /// The buffered standard output: the CLI is single-threaded.
    static STDOUT: RefCell<BufWriter<Stdout>> =
        RefCell::new(BufWriter::with_capacity(64 * 1024, io::stdout()));
}

/// Writes to standard output (buffered); ends the process if that fails.
pub(crate) fn write_out(args: fmt::Arguments<'_>) {
    let result = STDOUT.with(|out| out.borrow_mut().write_fmt(args));
    check(result, "standard output");
}

/// Writes to standard error, after flushing standard output so that the
/// two interleave as they were written; ends the process if either fails.
pub(crate) fn write_err(args: fmt::Arguments<'_>) {
    flush();
    check(io::stderr().lock().write_fmt(args), "standard error");
}

/// Flushes standard output; ends the process if that fails.
pub(crate) fn flush() {
    let result = STDOUT.with(|out| out.borrow_mut().flush());
    check(result, "standard output");
}

/// The command's status once all its output is written: `code`, unless
/// flushing standard output fails (which ends the process as any failed
/// write does).
pub(crate) fn finish(code: u8) -> u8 {
    flush();
    code
}

/// Writes bytes to standard output (buffered); ends the process if that
/// fails.
pub(crate) fn write_bytes(bytes: &[u8]) {
    let result = STDOUT.with(|out| out.borrow_mut().write_all(bytes));
    check(result, "standard output");
}

/// A sink for [`loopsim::scenario::run_streamed`]: each event is written
/// to standard output as it is recorded, one line in `format`, and its
/// line's bytes are added to `hash` (the determinism check's).
pub(crate) fn stdout_sink(format: Format, hash: Option<Rc<Cell<Fnv1a>>>) -> EventSink {
    let mut writer = Writer::new(format);
    let mut line = Vec::with_capacity(256);
    Box::new(move |event| {
        line.clear();
        writer.write_line_bytes(event, &mut line);
        write_bytes(&line);
        if let Some(hash) = &hash {
            let mut h = hash.get();
            h.write(&line);
            hash.set(h);
        }
    })
}

/// A sink that only hashes each event's line, as [`stdout_sink`] would
/// write it.
pub(crate) fn hash_sink(format: Format, hash: Rc<Cell<Fnv1a>>) -> EventSink {
    let mut writer = Writer::new(format);
    let mut line = Vec::with_capacity(256);
    Box::new(move |event| {
        line.clear();
        writer.write_line_bytes(event, &mut line);
        let mut h = hash.get();
        h.write(&line);
        hash.set(h);
    })
}

fn check(result: io::Result<()>, stream: &str) {
    let Err(error) = result else {
        return;
    };
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(EXIT_CLOSED_PIPE.into());
    }
    // `exit` runs no destructors: what is still buffered is not retried.
    let _ = writeln!(io::stderr(), "error: cannot write to {stream}: {error}");
    std::process::exit(super::EXIT_INVALID.into());
}

/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_out(format_args!($($arg)*)) };
}

/// `println!` through [`write_out`].
macro_rules! outln {
    () => { $crate::cli::output::write_out(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::output::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` through [`write_err`].
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::write_err(format_args!($($arg)*)) };
}

/// `eprintln!` through [`write_err`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {err, out};
