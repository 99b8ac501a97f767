//! Packet time: the only clock the engine knows.
//!
//! A [`Timestamp`] is nanoseconds since the Unix epoch as read from the
//! capture. Windows, timeouts and durations are differences of timestamps.

use std::fmt;

/// Nanoseconds since the Unix epoch, taken from a packet record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A span of packet time in nanoseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub fn from_secs_nanos(secs: i64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(i64::from(nanos)),
        )
    }

    pub fn from_secs_f64(secs: f64) -> Self {
        Timestamp((secs * 1e9).round() as i64)
    }

    pub fn as_nanos(self) -> i64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// `self - earlier`, never negative (captures may hold out-of-order packets).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration(self.0.saturating_sub(earlier.0).max(0))
    }

    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_secs(secs: i64) -> Self {
        Duration(secs * 1_000_000_000)
    }

    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms * 1_000_000)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

/// Zeek prints times as seconds with six decimals.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_secs_micros(f, self.0)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_secs_micros(f, self.0)
    }
}

/// Writes `nanos` as `S.ffffff` rounded to the microsecond, exact in integers.
fn write_secs_micros(f: &mut fmt::Formatter<'_>, nanos: i64) -> fmt::Result {
    let micros = if nanos >= 0 {
        (nanos + 500) / 1000
    } else {
        (nanos - 500) / 1000
    };
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    write!(f, "{sign}{}.{:06}", m / 1_000_000, m % 1_000_000)
}

/// Timestamps in JSON and the store: seconds since the epoch as a number with
/// microsecond resolution (the CONTRACTS.md form).
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Divided once from whole microseconds so that x.25 prints as x.25.
        s.serialize_f64(self.0.div_euclid(1000) as f64 / 1e6)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(d)?;
        if !secs.is_finite() {
            return Err(serde::de::Error::custom("timestamp is not a finite number"));
        }
        Ok(Timestamp(
            ((secs * 1e6).round() as i64).saturating_mul(1000),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_zeek() {
        assert_eq!(
            Timestamp::from_secs_nanos(1_700_000_000, 1_500).to_string(),
            "1700000000.000002"
        );
        assert_eq!(Duration(2_000_000_499).to_string(), "2.000000");
        assert_eq!(Duration(0).to_string(), "0.000000");
    }

    #[test]
    fn since_never_negative() {
        let a = Timestamp(10);
        let b = Timestamp(5);
        assert_eq!(b.since(a), Duration::ZERO);
        assert_eq!(a.since(b), Duration(5));
    }
}
