//! Catching a test's panic with the place it happened.
//!
//! `catch_unwind` gives the panic's payload but not its location, and the
//! harness re-raising it would put the location inside the harness. So a
//! panic hook, installed once per process and passing every other panic on
//! to the hook that was there before, notes the message, the user's
//! `file:line:col` and (when `RUST_BACKTRACE` asks for one) a backtrace,
//! while this thread runs a test under [`catch`]. The note becomes part of
//! the [`HarnessFailure`](super::HarnessFailure): a value, not a line
//! printed from the hook.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A panic caught in a test: where it happened and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panic {
    /// The panicking source file, as the compiler names it (`tests/retry.rs`).
    pub file: String,
    /// Its line, from 1.
    pub line: u32,
    /// Its column, from 1.
    pub column: u32,
    /// The panic's message (`assertion failed: x == 2`).
    pub message: String,
    /// The backtrace, when `RUST_BACKTRACE` asked for one.
    pub backtrace: Option<String>,
}

impl fmt::Display for Panic {
    /// `panicked at tests/retry.rs:12:9: assertion failed: x == 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "panicked at {}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

thread_local! {
    /// `Some` while this thread runs a test under [`catch`]; then holds the
    /// first panic noted.
    static CAPTURE: RefCell<Option<Option<Panic>>> = const { RefCell::new(None) };
}

/// Runs `f`, returning its value or the panic it raised.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
    install_hook();
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(None));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    let noted = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    outcome.map_err(|payload| {
        noted.flatten().unwrap_or_else(|| Panic {
            // Another hook replaced ours: the message without a place.
            file: "<unknown>".into(),
            line: 0,
            column: 0,
            message: payload_text(&*payload),
            backtrace: None,
        })
    })
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let noted = CAPTURE.with(|c| match c.try_borrow_mut() {
                Ok(mut capture) => match capture.as_mut() {
                    Some(slot) => {
                        if slot.is_none() {
                            *slot = Some(note(info));
                        }
                        true
                    }
                    None => false,
                },
                Err(_) => false,
            });
            if !noted {
                previous(info);
            }
        }));
    });
}

fn note(info: &panic::PanicHookInfo<'_>) -> Panic {
    let (file, line, column) = info
        .location()
        .map_or(("<unknown>".to_string(), 0, 0), |l| {
            (l.file().to_string(), l.line(), l.column())
        });
    let backtrace = Backtrace::capture();
    Panic {
        file,
        line,
        column,
        message: payload_text(info.payload()),
        backtrace: (backtrace.status() == BacktraceStatus::Captured).then(|| backtrace.to_string()),
    }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}
