//! Virtual time: integer nanoseconds, and how literals become nanoseconds.
//!
//! The loop's clock is an `i64` count of nanoseconds. Integers make every
//! deadline comparison exact: CPython compares float seconds, so there
//! `0.1 + 0.2 > 0.3`, and two timers meant to tie may not. loopsim does not
//! reproduce that rounding on purpose (see DESIGN.md); with times that are
//! exact in both, the orders agree.
//!
//! # Rounding rule
//! A literal such as `1.5`, `250ms` or `0.0000000015` is read as an exact
//! decimal and rounded once, to the nearest nanosecond, ties to even
//! (`0.0000000015` → 2 ns, `0.0000000025` → 2 ns). A float given to the Rust
//! API (`call_later(0.1, ..)`) is rounded the same way from its exact binary
//! value.

use crate::decimal::Backwards;
use std::fmt;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// CPython's `MAXIMUM_SELECT_TIMEOUT`: one wait of the loop is at most a day.
pub const MAXIMUM_SELECT_TIMEOUT: i64 = 86_400 * NANOS_PER_SEC;

/// A point on the virtual clock, in nanoseconds since its origin.
///
/// Signed, because `call_at` with a time before the start is legal asyncio:
/// the timer is simply due at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i64);

impl Instant {
    /// The origin of the clock.
    pub const ZERO: Instant = Instant(0);

    /// Nanoseconds since the origin.
    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds as a float, the value asyncio's `loop.time()` would return.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// This instant moved by `delta` nanoseconds, saturating at the ends of
    /// the clock instead of wrapping.
    pub fn saturating_add(self, delta: i64) -> Instant {
        Instant(self.0.saturating_add(delta))
    }
}

impl fmt::Display for Instant {
    /// Exact decimal seconds, e.g. `0.0`, `1.5`, `0.000000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_secs(self.0))
    }
}

/// Anything the Rust API accepts as a delay or an absolute time.
///
/// * `f64`: seconds, as in asyncio (`call_later(0.25, ..)`), rounded to the
///   nearest nanosecond, ties to even; NaN is 0, infinities saturate.
/// * [`std::time::Duration`]: exact, saturating.
/// * A [`Nanos`]: exact.
pub trait IntoNanos {
    /// The value in nanoseconds.
    fn into_nanos(self) -> i64;
}

/// A signed span of virtual time in nanoseconds, for exact delays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub i64);

impl IntoNanos for Nanos {
    fn into_nanos(self) -> i64 {
        self.0
    }
}

impl IntoNanos for Instant {
    fn into_nanos(self) -> i64 {
        self.0
    }
}

impl IntoNanos for std::time::Duration {
    fn into_nanos(self) -> i64 {
        i64::try_from(self.as_nanos()).unwrap_or(i64::MAX)
    }
}

impl IntoNanos for f64 {
    fn into_nanos(self) -> i64 {
        secs_f64_to_nanos(self)
    }
}

impl IntoNanos for i64 {
    /// Whole seconds.
    fn into_nanos(self) -> i64 {
        self.saturating_mul(NANOS_PER_SEC)
    }
}

/// Float seconds to nanoseconds, nearest, ties to even, saturating.
pub fn secs_f64_to_nanos(secs: f64) -> i64 {
    if secs.is_nan() {
        return 0;
    }
    let ns = (secs * NANOS_PER_SEC as f64).round_ties_even();
    if ns >= i64::MAX as f64 {
        i64::MAX
    } else if ns <= i64::MIN as f64 {
        i64::MIN
    } else {
        ns as i64
    }
}

/// Why a duration literal was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationError {
    /// Not of the form `[-]DIGITS[.DIGITS][s|ms|us|ns]`.
    Malformed,
    /// Outside the clock's range (about ±292 years).
    Overflow,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Malformed => {
                f.write_str("expected a duration such as `2`, `1.5`, `250ms`, `10us` or `7ns`")
            }
            DurationError::Overflow => f.write_str("duration overflows the clock"),
        }
    }
}

/// The units a literal may carry, with their size in nanoseconds.
const UNITS: [(&str, i128); 4] = [
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
    ("s", 1_000_000_000),
];

/// Parses `2`, `1.5`, `-0.25`, `3s`, `250ms`, `10us`, `7ns` to nanoseconds.
///
/// A bare number is seconds. The decimal is read exactly and rounded once,
/// half to even.
#[inline]
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    match parse_whole_duration(text) {
        Some(nanos) => Ok(nanos),
        None => parse_exact_duration(text),
    }
}

/// [`parse_duration`] for any literal, in 128-bit arithmetic.
fn parse_exact_duration(text: &str) -> Result<i64, DurationError> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (number, unit) = UNITS
        .iter()
        .find_map(|(suffix, size)| body.strip_suffix(suffix).map(|n| (n, *size)))
        .unwrap_or((body, 1_000_000_000));
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !is_digits(whole)
        || !is_digits(frac)
        || (number.contains('.') && frac.is_empty())
    {
        return Err(DurationError::Malformed);
    }
    // Leading zeros do not matter and trailing fractional zeros do not
    // change the value; dropping them keeps the arithmetic in range.
    let whole = whole.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    if whole.len() > 20 {
        return Err(DurationError::Overflow);
    }
    // The unit is 10^digits nanoseconds: the first `digits` digits of the
    // fraction are whole nanoseconds, the rest only decide the rounding
    // (half to even). So a fraction of any length is exact.
    let digits = unit.ilog10() as usize;
    let number = |s: &str| s.bytes().fold(0i128, |n, b| n * 10 + i128::from(b - b'0'));
    let (head, tail) = frac.split_at(frac.len().min(digits));
    let mut nanos = number(whole) * unit + number(head) * 10i128.pow((digits - head.len()) as u32);
    let tail = tail.as_bytes();
    let round_up = match tail.first() {
        None => false,
        Some(b'5') if tail[1..].iter().all(|&b| b == b'0') => nanos & 1 == 1,
        Some(&first) => first >= b'5',
    };
    nanos += i128::from(round_up);
    let nanos = if negative { -nanos } else { nanos };
    i64::try_from(nanos).map_err(|_| DurationError::Overflow)
}

/// The common literal, `DIGITS[s|ms|us|ns]` with at most 18 digits and a
/// value in range, read in 64-bit arithmetic; `None` sends everything else
/// (signs, fractions, long or overflowing numbers, malformed text) to
/// [`parse_duration`]'s exact path, which gives the same value for what this
/// accepts. A scenario of 100,000 `call_later 250ms` lines reads each delay
/// here in a few dozen instructions instead of several hundred.
fn parse_whole_duration(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let (mut number, mut digits) = (0i64, 0);
    for &byte in bytes {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        if digits == 18 {
            return None;
        }
        number = number * 10 + i64::from(digit);
        digits += 1;
    }
    let unit: i64 = match bytes.get(digits..).unwrap_or_default() {
        _ if digits == 0 => return None,
        b"" | b"s" => 1_000_000_000,
        b"ms" => 1_000_000,
        b"us" => 1_000,
        b"ns" => 1,
        _ => return None,
    };
    number.checked_mul(unit)
}

/// Nanoseconds as exact decimal seconds: `0.0`, `1.5`, `-0.000000001`.
pub fn format_secs(nanos: i64) -> String {
    let mut out = String::new();
    let _ = write_secs(&mut out, nanos);
    out
}

/// [`format_secs`] into `out`, without allocating.
pub fn write_secs(out: &mut impl std::fmt::Write, nanos: i64) -> std::fmt::Result {
    secs_text(nanos).write_to(out)
}

/// [`format_secs`]'s text, in a stack buffer.
pub(crate) fn secs_text(nanos: i64) -> Backwards {
    let abs = nanos.unsigned_abs();
    let whole = abs / NANOS_PER_SEC as u64;
    let mut frac = abs % NANOS_PER_SEC as u64;
    let mut text = Backwards::new();
    if frac == 0 {
        text.push(b'0');
    } else {
        // The nine digits of the fraction without its trailing zeros,
        // three at a time first (times are mostly whole milliseconds or
        // microseconds).
        let mut digits = 9;
        while frac % 1000 == 0 {
            frac /= 1000;
            digits -= 3;
        }
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        text.push_digits(frac, digits);
    }
    text.push(b'.');
    text.push_decimal(whole);
    if nanos < 0 {
        text.push(b'-');
    }
    text
}

/// Nanoseconds as the shortest exact literal with a unit: `2s`, `1500ms`,
/// `10us`, `7ns`. [`parse_duration`] reads it back to the same value.
pub fn format_duration(nanos: i64) -> String {
    for (suffix, size) in [("s", 1_000_000_000i64), ("ms", 1_000_000), ("us", 1_000)] {
        if nanos % size == 0 {
            return format!("{}{suffix}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_whole_number_path_agrees_with_the_exact_one() {
        let mut checked = 0;
        for number in [
            "0",
            "7",
            "000250",
            "999999999",
            "9223372036",
            "9223372037",
            "999999999999999999",
            "1000000000000000000",
        ] {
            for unit in ["", "s", "ms", "us", "ns", "m", "sec", "ms "] {
                let text = format!("{number}{unit}");
                if let Some(fast) = super::parse_whole_duration(&text) {
                    assert_eq!(Ok(fast), super::parse_exact_duration(&text), "{text}");
                    checked += 1;
                } else {
                    assert_eq!(
                        parse_duration(&text),
                        super::parse_exact_duration(&text),
                        "{text}"
                    );
                }
            }
        }
        assert!(checked > 20, "{checked}");
    }

    #[test]
    fn fractions_of_any_length_are_exact() {
        let long = format!("1.{}1", "0".repeat(29));
        assert_eq!(parse_duration(&long), Ok(1_000_000_000));
        let longer = format!("0.{}", "3".repeat(100));
        assert_eq!(parse_duration(&longer), Ok(333_333_333));
        // Half to even, decided by every digit after the nanoseconds.
        assert_eq!(parse_duration("0.0000000005"), Ok(0));
        assert_eq!(parse_duration("0.0000000015"), Ok(2));
        assert_eq!(parse_duration("0.0000000025"), Ok(2));
        let above = format!("0.0000000025{}1", "0".repeat(40));
        assert_eq!(parse_duration(&above), Ok(3));
        assert_eq!(parse_duration("2.5ns"), Ok(2));
        assert_eq!(parse_duration("3.5ns"), Ok(4));
        assert_eq!(parse_duration("-1.0000000015"), Ok(-1_000_000_002));
        assert_eq!(parse_duration("1.5ms"), Ok(1_500_000));
        // Too large is still an overflow, and says so.
        assert_eq!(parse_duration("10000000000"), Err(DurationError::Overflow));
    }

    use super::*;

    #[test]
    fn literals_round_half_to_even() {
        assert_eq!(parse_duration("2"), Ok(2_000_000_000));
        assert_eq!(parse_duration("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration("10us"), Ok(10_000));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("3s"), Ok(3_000_000_000));
        assert_eq!(parse_duration("-0.25"), Ok(-250_000_000));
        assert_eq!(parse_duration("0.0000000015"), Ok(2));
        assert_eq!(parse_duration("0.0000000025"), Ok(2));
        assert_eq!(parse_duration("0.0000000035"), Ok(4));
        assert_eq!(parse_duration("1.5ns"), Ok(2));
        assert_eq!(
            parse_duration("00010.500000000000000000000000000000000"),
            Ok(10_500_000_000)
        );
    }

    #[test]
    fn bad_literals_are_rejected() {
        for bad in [
            "", "s", "1.", ".5", "1..2", "1e9", "abc", "1 s", "--1", "1h",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(DurationError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_duration("9999999999999"),
            Err(DurationError::Overflow)
        );
        assert_eq!(
            parse_duration("100000000000000000000000"),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn formatting_is_exact_and_reparses() {
        assert_eq!(format_secs(0), "0.0");
        assert_eq!(format_secs(1_500_000_000), "1.5");
        assert_eq!(format_secs(-1), "-0.000000001");
        assert_eq!(format_secs(-2_000_000_000), "-2.0");
        assert_eq!(format_secs(10_000_000_010), "10.00000001");
        assert_eq!(format_secs(i64::MIN), "-9223372036.854775808");
        assert_eq!(format_secs(i64::MAX), "9223372036.854775807");
        for ns in [
            0,
            7,
            10_000,
            250_000_000,
            1_500_000_000,
            -3_000_000_000,
            i64::MAX,
            i64::MIN + 1,
        ] {
            assert_eq!(parse_duration(&format_duration(ns)), Ok(ns));
        }
    }

    #[test]
    fn floats_round_to_nearest_nanosecond() {
        assert_eq!(0.1f64.into_nanos(), 100_000_000);
        assert_eq!(f64::NAN.into_nanos(), 0);
        assert_eq!(f64::INFINITY.into_nanos(), i64::MAX);
    }
}
