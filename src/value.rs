//! The values a trace can show: the results of futures and tasks.

use std::any::Any;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// A result value as a trace records it: an integer, a string or `none`
/// (all a scenario has), or the `Debug` text of another Rust value.
///
/// Scenarios compute with these directly. Rust tasks and futures may carry
/// any `T: Debug + 'static`; the trace records [`Value::of`] it (see
/// [`TraceValue`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Value {
    /// `none` in a scenario, `null` in JSON, `None` in Python.
    #[default]
    None,
    /// A 64-bit integer.
    Int(i64),
    /// A string.
    Str(Rc<str>),
    /// Any other Rust value, by its `Debug` text: `(1, "a")`, `[0.5]`,
    /// `Point { x: 1 }`. Written as is in the text form and as
    /// `{"debug":TEXT}` in JSON. Scenarios never make one.
    Debug(Rc<str>),
}

impl fmt::Display for Value {
    /// The scenario spelling: `none`, `42`, `"text"` (quoted, escaped); a
    /// [`Value::Debug`] as its text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write_quoted(f, s),
            Value::Debug(text) => f.write_str(text),
        }
    }
}

/// `text` in double quotes with the scenario escapes `\"`, `\\` and `\n`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let _ = write_quoted(&mut out, text);
    out
}

/// [`quote`] into `out`, without allocating.
pub fn write_quoted(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    // Runs without an escape are written whole.
    let mut rest = text;
    while let Some(at) = rest.find(['"', '\\', '\n']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            _ => "\\n",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)?;
    out.write_char('"')
}

/// [`write_quoted`] for a trace's text form: control characters are
/// escaped too, as JSON escapes them (`\t`, `\r`, `\u001b`; DEL and C1
/// as well), so that a trace never drives a terminal. (The scenario
/// language's own quoting, for the printer, stays [`write_quoted`]: a
/// scenario reads such characters back as written.)
pub fn write_escaped(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c.is_control()) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or('\0');
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\t' => out.write_str("\\t")?,
            '\r' => out.write_str("\\r")?,
            c => write!(out, "\\u{:04x}", c as u32)?,
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)?;
    out.write_char('"')
}

/// How a Rust value appears in the trace when a task or future finishes
/// with it: implemented for every `T: Debug + 'static`, which is all that
/// tasks and futures ask of their results (with `Clone`), so a task may
/// return a tuple, a `Vec`, an `f64` or a struct of yours with
/// `#[derive(Debug, Clone)]`, without a wrapper. You never implement it.
///
/// Integers, `bool` (as 0 or 1), strings, `()` and `Option`s of these keep
/// the exact forms a scenario's values have (`42`, `"text"`, `none`);
/// anything else is recorded by its `Debug` text ([`Value::Debug`]):
///
/// ```
/// use loopsim::{TraceValue, Value};
///
/// assert_eq!(7u8.trace_value(), Value::Int(7));
/// assert_eq!(Some("hi").trace_value().to_string(), "\"hi\"");
/// assert_eq!(None::<i64>.trace_value(), Value::None);
/// assert_eq!((1, "a").trace_value().to_string(), "(1, \"a\")");
/// assert_eq!(vec![0.5, 2.0].trace_value().to_string(), "[0.5, 2.0]");
/// ```
pub trait TraceValue {
    /// The value the trace records.
    fn trace_value(&self) -> Value;
}

impl<T: fmt::Debug + 'static> TraceValue for T {
    fn trace_value(&self) -> Value {
        Value::of(self)
    }
}

impl Value {
    /// How the trace records `value`: see [`TraceValue`].
    pub fn of<T: fmt::Debug + 'static>(value: &T) -> Value {
        // Decided when `T` is known (most tasks return `()`): no look-up
        // by type at run time.
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<()>() {
            return Value::None;
        }
        let any = value as &dyn Any;
        exact(any)
            .or_else(|| exact_option(any))
            .unwrap_or_else(|| Value::Debug(format!("{value:?}").into()))
    }
}

/// The exact form of a scenario-like value: `Value` itself, `()`, `bool`,
/// an integer or a string.
fn exact(any: &dyn Any) -> Option<Value> {
    macro_rules! ints {
        ($($t:ty),*) => {$(
            if let Some(i) = any.downcast_ref::<$t>() {
                return Some(Value::Int(i64::try_from(*i).unwrap_or(i64::MAX)));
            }
        )*};
    }
    macro_rules! strs {
        ($($t:ty),*) => {$(
            if let Some(text) = any.downcast_ref::<$t>() {
                let text: &str = text;
                return Some(Value::Str(text.into()));
            }
        )*};
    }
    if let Some(value) = any.downcast_ref::<Value>() {
        return Some(value.clone());
    }
    if any.is::<()>() {
        return Some(Value::None);
    }
    if let Some(b) = any.downcast_ref::<bool>() {
        return Some(Value::Int(i64::from(*b)));
    }
    ints!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
    strs!(String, &'static str, Rc<str>, Arc<str>, Box<str>);
    None
}

/// `None` as `none`, `Some(x)` as `x`, for `Option`s of the types [`exact`]
/// knows.
fn exact_option(any: &dyn Any) -> Option<Value> {
    macro_rules! options {
        ($($t:ty),*) => {$(
            if let Some(option) = any.downcast_ref::<Option<$t>>() {
                return Some(option.as_ref().map_or(Value::None, |v| exact(v).unwrap_or_default()));
            }
        )*};
    }
    options!(
        Value,
        (),
        bool,
        i8,
        i16,
        i32,
        i64,
        i128,
        isize,
        u8,
        u16,
        u32,
        u64,
        u128,
        usize
    );
    options!(String, &'static str, Rc<str>, Arc<str>, Box<str>);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_text_escapes_control_characters_as_json_does() {
        let cases = [
            ("plain é ✓", r#""plain é ✓""#),
            ("a\"b\\c\nd", r#""a\"b\\c\nd""#),
            ("tab\tcr\r", r#""tab\tcr\r""#),
            (
                "\u{1b}[31mred\u{7f}\u{9b}",
                r#""\u001b[31mred\u007f\u009b""#,
            ),
        ];
        for (text, escaped) in cases {
            let mut out = String::new();
            write_escaped(&mut out, text).unwrap();
            assert_eq!(out, escaped, "{text:?}");
        }
    }

    #[test]
    fn quoting_escapes_quotes_backslashes_and_newlines_only() {
        let cases = [
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("\"", r#""\"""#),
            ("a\\b", r#""a\\b""#),
            ("\n\n", r#""\n\n""#),
            ("\"é\"\\\nx ✓", r#""\"é\"\\\nx ✓""#),
            ("tab\tstays", "\"tab\tstays\""),
        ];
        for (text, quoted) in cases {
            assert_eq!(quote(text), quoted, "{text:?}");
            assert_eq!(Value::Str(text.into()).to_string(), quoted);
        }
    }
}
