//! Which CPython's asyncio a loop is exactly.
//!
//! asyncio is not the same in every version: 3.12 rebuilt `wait_for` on
//! `asyncio.timeout`, and locks, queues, task groups and timeouts changed
//! between 3.11, 3.12 and 3.13. A loop is built for one version
//! ([`LoopConfig::python`](crate::LoopConfig::python)); code whose behaviour
//! differs between versions asks the loop which one it is
//! ([`EventLoop::python`](crate::EventLoop::python)) and branches on this
//! enum, so each difference is one `match` at the place it happens.

use std::fmt;
use std::str::FromStr;

/// A supported CPython version (the contract's section "Python versions").
/// The default is 3.12.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Python {
    /// CPython 3.11 (checked against 3.11.7).
    V3_11,
    /// CPython 3.12 (checked against 3.12.1), the default.
    #[default]
    V3_12,
    /// CPython 3.13 (checked against 3.13.0).
    V3_13,
}

impl Python {
    /// Every supported version, oldest first.
    pub const ALL: [Python; 3] = [Python::V3_11, Python::V3_12, Python::V3_13];

    /// The spelling used in scenario headers and on the command line: `3.12`.
    pub fn as_str(self) -> &'static str {
        match self {
            Python::V3_11 => "3.11",
            Python::V3_12 => "3.12",
            Python::V3_13 => "3.13",
        }
    }

    /// True from version `other` on: `lp.python().at_least(Python::V3_12)`.
    pub fn at_least(self, other: Python) -> bool {
        self >= other
    }
}

impl fmt::Display for Python {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Python {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Python::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("expected `3.11`, `3.12` or `3.13`, found `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::Python;

    #[test]
    fn spellings_round_trip_and_order_by_age() {
        for v in Python::ALL {
            assert_eq!(v.as_str().parse::<Python>(), Ok(v));
        }
        assert_eq!(Python::default(), Python::V3_12);
        assert!(Python::V3_13.at_least(Python::V3_12));
        assert!(!Python::V3_11.at_least(Python::V3_12));
        assert!("3.10".parse::<Python>().is_err());
    }
}
