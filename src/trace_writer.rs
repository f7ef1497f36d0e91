//! [`Writer`]: events to their text or JSON lines, fast, into one reused
//! buffer.
//!
//! `loopsim run` writes every event of a run as it is recorded, so for a
//! big run this is most of what the command does besides the loop. The
//! bytes are exactly [`Event::to_text`] and [`Event::to_json`] (those two
//! are written by this module too): only the way there is cheaper.
//!
//! * A line is its head (`{"iteration":N,"time":T,"event":"` or
//!   `#N t=T `) and its rest. Consecutive events usually share the head
//!   (one pass, one clock), so it is written once per change and copied.
//!   The rest of a `call`, `log` or `step` line is kept for the last name
//!   or text of each (held, and compared by pointer: a scenario's names
//!   and texts are one `Rc` each), so a callback that runs again costs
//!   two copies and no formatting.
//! * A JSON time is `serde_json`'s spelling of the seconds as an `f64`
//!   (shortest round trip).
//! * A JSON string is quoted as `serde_json` quotes it. Strings with
//!   nothing to escape (no `"`, `\` or control character below U+0020,
//!   which is nearly every name and text) are copied between quotes;
//!   others go through `serde_json` itself.
//! * Integers and the iteration are put together in a stack buffer
//!   (`crate::decimal`), never through `core::fmt`.
//! * [`Writer::write_line_bytes`] writes bytes (what a sink sends to a
//!   file); the `String` forms go through it and one UTF-8 check.

use crate::decimal::Backwards;
use crate::trace::{Event, EventKind, Field, Format};
use crate::value::{write_escaped, Value};
use std::fmt::Write;
use std::rc::Rc;

/// Writes events in one [`Format`], one line each.
#[derive(Debug)]
pub struct Writer {
    format: Format,
    /// The iteration and time of the last event, and its line's head.
    head_of: Option<(u64, i64)>,
    head: Vec<u8>,
    /// For `call`, `log` and `step`: the last name or text, and the rest
    /// of its line after the head (no newline).
    rests: [Option<(Rc<str>, Vec<u8>)>; 3],
    /// Reused for the other kinds' rests and the `String` forms.
    scratch: String,
    bytes: Vec<u8>,
}

impl Writer {
    /// A writer of `format` lines.
    pub fn new(format: Format) -> Writer {
        Writer {
            format,
            head_of: None,
            head: Vec::new(),
            rests: [None, None, None],
            scratch: String::new(),
            bytes: Vec::new(),
        }
    }

    /// The form this writer writes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Appends `event`'s line, with its `\n`, to `out`.
    pub fn write_line(&mut self, event: &Event, out: &mut String) {
        self.push_as_str(out, |writer, bytes| writer.write_line_bytes(event, bytes));
    }

    /// Appends `event`'s JSON object (no newline) to `out`.
    pub fn write_json(&mut self, event: &Event, out: &mut String) {
        if self.format != Format::Json {
            return Writer::new(Format::Json).write_json(event, out);
        }
        self.push_as_str(out, |writer, bytes| {
            writer.push_head(event, bytes);
            writer.push_rest(event, bytes);
        });
    }

    /// Appends to `out` what `write` puts in the reused byte buffer.
    fn push_as_str(&mut self, out: &mut String, write: impl FnOnce(&mut Writer, &mut Vec<u8>)) {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        write(self, &mut bytes);
        // Only `str`s and ASCII went in: borrowed, never replaced.
        out.push_str(&String::from_utf8_lossy(&bytes));
        self.bytes = bytes;
    }

    /// Appends `event`'s line, with its `\n`, to `out`, as bytes (UTF-8).
    pub fn write_line_bytes(&mut self, event: &Event, out: &mut Vec<u8>) {
        self.push_head(event, out);
        self.push_rest(event, out);
        out.push(b'\n');
    }

    /// Appends the head of `event`'s line, up to its kind.
    fn push_head(&mut self, event: &Event, out: &mut Vec<u8>) {
        let key = (event.iteration, event.time);
        if self.head_of != Some(key) {
            let head = &mut self.head;
            head.clear();
            let mut iteration = Backwards::new();
            iteration.push_decimal(event.iteration);
            match self.format {
                Format::Json => {
                    head.extend_from_slice(b"{\"iteration\":");
                    head.extend_from_slice(iteration.as_bytes());
                    head.extend_from_slice(b",\"time\":");
                    push_json_time(head, event.time);
                    head.extend_from_slice(b",\"event\":\"");
                }
                Format::Text => {
                    head.push(b'#');
                    head.extend_from_slice(iteration.as_bytes());
                    head.extend_from_slice(b" t=");
                    head.extend_from_slice(crate::time::secs_text(event.time).as_bytes());
                    head.push(b' ');
                }
            }
            self.head_of = Some(key);
        }
        out.extend_from_slice(&self.head);
    }

    /// Appends the rest of `event`'s line after its head (no newline).
    fn push_rest(&mut self, event: &Event, out: &mut Vec<u8>) {
        let (slot, text) = match &event.kind {
            EventKind::Call { name } => (0, name),
            EventKind::Log { text } => (1, text),
            EventKind::Step { task } => (2, task),
            kind => {
                self.scratch.clear();
                write_rest(self.format, kind, &mut self.scratch);
                out.extend_from_slice(self.scratch.as_bytes());
                return;
            }
        };
        match &self.rests[slot] {
            Some((last, rest)) if Rc::ptr_eq(last, text) => out.extend_from_slice(rest),
            _ => {
                let mut rest = String::new();
                write_rest(self.format, &event.kind, &mut rest);
                out.extend_from_slice(rest.as_bytes());
                self.rests[slot] = Some((text.clone(), rest.into_bytes()));
            }
        }
    }
}

/// The rest of a line of `kind` after its head, in `format`: the kind and
/// its fields (and, in JSON, the closing brace).
fn write_rest(format: Format, kind: &EventKind, out: &mut String) {
    if format == Format::Text {
        let _ = kind.write_text(out);
        return;
    }
    out.push_str(kind.name());
    out.push('"');
    for (key, field) in kind.each_field() {
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":");
        match field {
            Field::Name(s) | Field::Text(s) => push_json_string(out, s),
            Field::Val(Value::None) => out.push_str("null"),
            Field::Val(Value::Int(i)) => push_i64(out, *i),
            Field::Val(Value::Str(s)) => push_json_string(out, s),
            Field::Val(Value::Debug(s)) => {
                out.push_str("{\"debug\":");
                push_json_string(out, s);
                out.push('}');
            }
        }
    }
    out.push('}');
}

/// The text form's field values, shared with [`Event::write_text`].
pub(crate) fn write_text_field(out: &mut impl Write, field: Field<'_>) -> std::fmt::Result {
    match field {
        Field::Name(s) => out.write_str(s),
        Field::Text(s) => write_escaped(out, s),
        Field::Val(Value::Str(s)) => write_escaped(out, s),
        Field::Val(Value::Int(i)) => {
            let mut text = Backwards::new();
            text.push_decimal(i.unsigned_abs());
            if *i < 0 {
                text.push(b'-');
            }
            text.write_to(out)
        }
        Field::Val(v) => write!(out, "{v}"),
    }
}

/// `serde_json`'s spelling of `nanos` as seconds (`1.5`, `0.0`, `1e-9`).
fn push_json_time(out: &mut Vec<u8>, nanos: i64) {
    if json_time_is_exact(nanos) {
        out.extend_from_slice(crate::time::secs_text(nanos).as_bytes());
    } else {
        out.extend_from_slice(serde_time(nanos).as_bytes());
    }
}

/// Whether `serde_json`'s spelling of `nanos` as seconds is
/// [`crate::time::format_secs`]'s exact decimal.
///
/// Between 0.0001 s and 10^6 s it is: `nanos` has at most 15 digits
/// there, so it converts to `f64` exactly, the division rounds to the
/// double nearest the decimal, and a decimal of at most 15 significant
/// digits is the only one that short which rounds to that double, so it is
/// the shortest round trip; and `serde_json` writes such magnitudes without
/// an exponent. Tested against `serde_json` below.
fn json_time_is_exact(nanos: i64) -> bool {
    nanos == 0 || (100_000..1_000_000_000_000_000).contains(&nanos.unsigned_abs())
}

fn serde_time(nanos: i64) -> String {
    serde_json::Number::from_f64(nanos as f64 / 1e9).map_or("0.0".to_string(), |n| n.to_string())
}

fn push_i64(out: &mut String, n: i64) {
    let mut text = Backwards::new();
    text.push_decimal(n.unsigned_abs());
    if n < 0 {
        text.push(b'-');
    }
    let _ = text.write_to(out);
}

/// `s` as `serde_json` writes a string.
fn push_json_string(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{DoneState, EventKind};

    fn reference_json(event: &Event) -> String {
        // The form as it was first written, through serde_json alone.
        let mut object = serde_json::Map::new();
        object.insert("iteration".into(), event.iteration.into());
        let time = serde_json::Number::from_f64(event.time as f64 / 1e9).unwrap();
        object.insert("time".into(), serde_json::Value::Number(time));
        object.insert("event".into(), event.kind.name().into());
        for (key, field) in event.kind.fields() {
            let value = match field {
                Field::Name(s) | Field::Text(s) => serde_json::Value::from(s),
                Field::Val(Value::None) => serde_json::Value::Null,
                Field::Val(Value::Int(i)) => (*i).into(),
                Field::Val(Value::Str(s)) => serde_json::Value::from(&**s),
                Field::Val(Value::Debug(s)) => serde_json::json!({ "debug": &**s }),
            };
            object.insert(key.into(), value);
        }
        // serde_json's map keeps insertion order only with a feature we do
        // not use: write the object by hand in field order.
        let mut out = String::from("{");
        let mut first = true;
        let mut put = |k: &str, v: &serde_json::Value| {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&serde_json::to_string(k).unwrap());
            out.push(':');
            out.push_str(&serde_json::to_string(v).unwrap());
        };
        put("iteration", &object["iteration"]);
        put("time", &object["time"]);
        put("event", &object["event"]);
        for (key, _) in event.kind.fields() {
            put(key, &object[key]);
        }
        out.push('}');
        out
    }

    /// A name or text seen again (the same `Rc`, as a scenario's are)
    /// reuses its line's rest; under new heads, between other kinds and
    /// after other names, every line is still the event's own.
    #[test]
    fn reused_rests_are_the_events_own() {
        let tick: Rc<str> = "tick".into();
        let tock: Rc<str> = "to\"ck".into();
        let kinds = [
            EventKind::Call { name: tick.clone() },
            EventKind::Log { text: tick.clone() },
            EventKind::Call { name: tock.clone() },
            EventKind::Step { task: tick.clone() },
            EventKind::Log { text: tock.clone() },
            EventKind::Idle,
            EventKind::Step { task: tock.clone() },
        ];
        let mut json = Writer::new(Format::Json);
        let mut text = Writer::new(Format::Text);
        for n in 0..60u64 {
            let event = Event {
                iteration: n / 3,
                time: (n as i64 / 2) * 1_500_000 - 7,
                kind: kinds[(n * 5 % 7) as usize].clone(),
            };
            let mut line = Vec::new();
            json.write_line_bytes(&event, &mut line);
            assert_eq!(line, format!("{}\n", reference_json(&event)).into_bytes());
            let mut line = String::new();
            text.write_line(&event, &mut line);
            assert_eq!(line, format!("{}\n", event.to_text()));
        }
    }

    #[test]
    fn json_times_are_serde_json_s() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for digits in 0..19u32 {
            let scale = 10i64.pow(digits);
            for _ in 0..2_000 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let n = ((state >> 1) as i64) % scale.max(1) + scale / 10;
                for nanos in [n, -n, scale, scale - 1, scale + 1] {
                    let mut text = Vec::new();
                    push_json_time(&mut text, nanos);
                    assert_eq!(text, serde_time(nanos).into_bytes(), "{nanos}");
                }
            }
        }
    }

    #[test]
    fn lines_are_serde_json_s_and_to_text_s_bytes() {
        let texts = [
            "tick",
            "",
            "a \"b\" \\ c",
            "tab\tnew\nline\u{1b}",
            "é ✓ \u{7f}",
        ];
        let times = [
            0,
            1,
            -1,
            1_500_000_000,
            999_991_000_000,
            i64::MAX,
            i64::MIN,
            123_456_789_012_345_678,
        ];
        let mut writer = Writer::new(Format::Json);
        let mut text_writer = Writer::new(Format::Text);
        for (i, &time) in times.iter().enumerate() {
            for text in texts {
                let kinds = [
                    EventKind::Log { text: text.into() },
                    EventKind::Call { name: text.into() },
                    EventKind::Done {
                        name: "f".into(),
                        state: DoneState::Result,
                        value: Some(Value::Str(text.into())),
                    },
                    EventKind::Done {
                        name: "f".into(),
                        state: DoneState::Result,
                        value: Some(Value::Int(-(i as i64) * 1_000_000_007)),
                    },
                    EventKind::Got {
                        queue: "q".into(),
                        value: Value::Debug(text.into()),
                    },
                    EventKind::Got {
                        queue: "q".into(),
                        value: Value::None,
                    },
                    EventKind::Idle,
                    EventKind::Step { task: text.into() },
                    EventKind::Exception {
                        name: "main".into(),
                        message: text.into(),
                    },
                ];
                for kind in kinds {
                    let event = Event {
                        iteration: i as u64 * 977,
                        time,
                        kind,
                    };
                    let mut line = String::new();
                    writer.write_line(&event, &mut line);
                    assert_eq!(line, format!("{}\n", reference_json(&event)));
                    assert_eq!(event.to_json(), reference_json(&event));
                    let mut line = String::new();
                    text_writer.write_line(&event, &mut line);
                    assert_eq!(line, format!("{}\n", event.to_text()));
                }
            }
        }
    }
}
