//! The values a trace can show: the results of futures and tasks.

use std::fmt;
use std::rc::Rc;

/// A result value as a trace records it: an integer, a string or `none`.
///
/// Scenarios compute with these directly. Rust tasks and futures may carry
/// any `T: TraceValue`; the trace records `T`'s [`TraceValue::trace_value`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Value {
    /// `none` in a scenario, `null` in JSON, `None` in Python.
    #[default]
    None,
    /// A 64-bit integer.
    Int(i64),
    /// A string.
    Str(Rc<str>),
}

impl fmt::Display for Value {
    /// The scenario spelling: `none`, `42`, `"text"` (quoted, escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("none"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write_quoted(f, s),
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

/// How a Rust value appears in the trace when a task or future finishes
/// with it.
pub trait TraceValue {
    /// The value the trace records.
    fn trace_value(&self) -> Value;
}

impl TraceValue for Value {
    fn trace_value(&self) -> Value {
        self.clone()
    }
}

impl TraceValue for () {
    fn trace_value(&self) -> Value {
        Value::None
    }
}

impl TraceValue for bool {
    fn trace_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl TraceValue for String {
    fn trace_value(&self) -> Value {
        Value::Str(self.as_str().into())
    }
}

impl TraceValue for &'static str {
    fn trace_value(&self) -> Value {
        Value::Str((*self).into())
    }
}

impl TraceValue for Rc<str> {
    fn trace_value(&self) -> Value {
        Value::Str(self.clone())
    }
}

impl<T: TraceValue> TraceValue for Option<T> {
    fn trace_value(&self) -> Value {
        self.as_ref().map_or(Value::None, T::trace_value)
    }
}

macro_rules! int_trace_value {
    ($($t:ty),*) => {$(
        impl TraceValue for $t {
            fn trace_value(&self) -> Value {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_trace_value!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

#[cfg(test)]
mod tests {
    use super::*;

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
