//! [`Writer`]: events to their text or JSON lines, fast, into one reused
//! buffer.
//!
//! `loopsim run` writes every event of a run as it is recorded, so for a
//! big run this is most of what the command does besides the loop. The
//! bytes are exactly [`Event::to_text`] and [`Event::to_json`] (those two
//! are written by this module too): only the way there is cheaper.
//!
//! * A JSON time is `serde_json`'s spelling of the seconds as an `f64`
//!   (shortest round trip). Consecutive events usually share their time
//!   (one pass, one clock), so the spelling is computed once per change.
//! * A JSON string is quoted as `serde_json` quotes it. Strings with
//!   nothing to escape (no `"`, `\` or control character below U+0020,
//!   which is nearly every name and text) are copied between quotes;
//!   others go through `serde_json` itself.
//! * Integers and the iteration are put together in a stack buffer
//!   (`crate::decimal`), never through `core::fmt`.

use crate::decimal::Backwards;
use crate::trace::{Event, EventKind, Field, Format};
use crate::value::{write_escaped, Value};
use std::fmt::Write;

/// Writes events in one [`Format`], one line each.
#[derive(Debug)]
pub struct Writer {
    format: Format,
    /// The iteration and time of the last event, and the start of its
    /// line up to its kind (`{"iteration":N,"time":T,"event":"` or
    /// `#N t=T `): consecutive events usually share both (one pass, one
    /// clock), so their spelling is reused, not written again.
    head_of: Option<(u64, i64)>,
    head: String,
    /// The time of the last head, and its spelling (reused, so a new
    /// time allocates nothing).
    time: Option<i64>,
    time_text: String,
}

impl Writer {
    /// A writer of `format` lines.
    pub fn new(format: Format) -> Writer {
        Writer {
            format,
            head_of: None,
            head: String::new(),
            time: None,
            time_text: String::new(),
        }
    }

    /// The form this writer writes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Appends `event`'s line, with its `\n`, to `out`.
    pub fn write_line(&mut self, event: &Event, out: &mut String) {
        match self.format {
            Format::Text => self.write_text(event, out),
            Format::Json => self.write_json(event, out),
        }
        out.push('\n');
    }

    /// Appends `event`'s text line (no newline) to `out`: what
    /// [`Event::write_text`] writes.
    fn write_text(&mut self, event: &Event, out: &mut String) {
        self.push_head(event, Format::Text, out);
        let _ = event.kind.write_text(out);
    }

    /// Appends `event`'s JSON object (no newline) to `out`.
    pub fn write_json(&mut self, event: &Event, out: &mut String) {
        self.push_head(event, Format::Json, out);
        out.push_str(event.kind.name());
        out.push('"');
        // The commonest kinds first, without the generic field walk.
        match &event.kind {
            EventKind::Call { name } => push_json_field(out, ",\"name\":", name),
            EventKind::Log { text } => push_json_field(out, ",\"text\":", text),
            EventKind::Step { task } => push_json_field(out, ",\"task\":", task),
            kind => {
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
            }
        }
        out.push('}');
    }

    /// Appends the start of `event`'s line in `format`, up to its kind.
    fn push_head(&mut self, event: &Event, format: Format, out: &mut String) {
        let key = (event.iteration, event.time);
        if self.head_of != Some(key) || self.format != format {
            self.head.clear();
            if self.time != Some(event.time) {
                self.time_text.clear();
                match format {
                    Format::Json => write_json_time(&mut self.time_text, event.time),
                    Format::Text => {
                        let _ = crate::time::write_secs(&mut self.time_text, event.time);
                    }
                }
                self.time = Some(event.time);
            }
            match format {
                Format::Json => {
                    self.head.push_str("{\"iteration\":");
                    push_u64(&mut self.head, event.iteration);
                    self.head.push_str(",\"time\":");
                    self.head.push_str(&self.time_text);
                    self.head.push_str(",\"event\":\"");
                }
                Format::Text => {
                    self.head.push('#');
                    push_u64(&mut self.head, event.iteration);
                    self.head.push_str(" t=");
                    self.head.push_str(&self.time_text);
                    self.head.push(' ');
                }
            }
            // A head of the other format (`Event::to_json` on a text
            // writer's events) is never reused: see the condition above.
            self.head_of = (self.format == format).then_some(key);
            if self.format != format {
                self.time = None;
            }
        }
        out.push_str(&self.head);
    }
}

/// `key` (`,"name":`) and `s` as a JSON string.
fn push_json_field(out: &mut String, key: &str, s: &str) {
    out.push_str(key);
    push_json_string(out, s);
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
///
/// Between 0.0001 s and 10^6 s it is the exact decimal, which
/// `crate::time::write_secs` writes without `f64` arithmetic: `nanos` has at
/// most 15 digits there, so it converts to `f64` exactly, the division
/// rounds to the double nearest the decimal, and a decimal of at most 15
/// significant digits is the only one that short which rounds to that
/// double, so it is the shortest round trip; and `serde_json` writes such
/// magnitudes without an exponent. Tested against `serde_json` below.
fn write_json_time(out: &mut String, nanos: i64) {
    if nanos == 0 || (100_000..1_000_000_000_000_000).contains(&nanos.unsigned_abs()) {
        let _ = crate::time::write_secs(out, nanos);
    } else {
        out.push_str(&serde_time(nanos));
    }
}

fn serde_time(nanos: i64) -> String {
    serde_json::Number::from_f64(nanos as f64 / 1e9).map_or("0.0".to_string(), |n| n.to_string())
}

fn push_u64(out: &mut String, n: u64) {
    let mut text = Backwards::new();
    text.push_decimal(n);
    let _ = text.write_to(out);
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
                    let mut text = String::new();
                    write_json_time(&mut text, nanos);
                    assert_eq!(text, serde_time(nanos), "{nanos}");
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
