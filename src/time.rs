//! Simulated time: integer nanoseconds, and the human units scenario files use.
//!
//! [`SimTime`] is an instant since the start of a run and [`SimDuration`] a
//! span, both `u64` nanoseconds (enough for 584 years). No float ever orders
//! events: floats appear only while sampling a distribution, and the sample is
//! rounded to whole nanoseconds before it reaches the event queue.
//!
//! Durations are written with a unit: `"150ms"`, `"2.5s"`, `"10m"`, `"1h"`,
//! `"1d"` (units `ns`, `us`, `ms`, `s`, `m` or `min`, `h`, `d`). A bare number
//! is rejected because it is ambiguous. Decimal fractions are converted
//! exactly, without going through a float, and rounded to the nearest
//! nanosecond.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NS: u64 = 1;
const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;
const MIN: u64 = 60 * S;
const H: u64 = 60 * MIN;
const D: u64 = 24 * H;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / S as f64
    }

    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * US)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * MS)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * S)
    }

    /// Rounds a float number of seconds to whole nanoseconds; negative and NaN
    /// become zero, values beyond the range saturate.
    pub fn from_secs_f64(secs: f64) -> Self {
        let ns = secs * S as f64;
        if ns.is_nan() || ns <= 0.0 {
            SimDuration(0)
        } else if ns >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            // Round half up; cheaper than f64::round (a libm call).
            SimDuration((ns + 0.5) as u64)
        }
    }

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / S as f64
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / MS as f64
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Parses a duration with a unit, such as `"150ms"` or `"2.5s"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = unit.trim();
        if num.is_empty() {
            return Err(format!(
                "expected a duration such as \"150ms\" or \"10m\", found \"{text}\""
            ));
        }
        if unit.is_empty() {
            return Err(format!(
                "\"{text}\" has no unit; write a duration such as \"{num}s\" or \"{num}ms\""
            ));
        }
        let scale = match unit {
            "ns" => NS,
            "us" | "µs" => US,
            "ms" => MS,
            "s" | "sec" => S,
            "m" | "min" => MIN,
            "h" => H,
            "d" => D,
            _ => {
                return Err(format!(
                    "unknown time unit \"{unit}\" in \"{text}\"; expected ns, us, ms, s, m, h or d"
                ));
            }
        };
        let ns = parse_decimal_scaled(num, scale)
            .ok_or_else(|| format!("\"{text}\" is not a valid duration"))?;
        Ok(SimDuration(ns))
    }
}

/// Parses a non-negative decimal `digits[.digits]` and multiplies it by
/// `scale` exactly, rounding to the nearest integer. None on bad syntax or
/// overflow.
pub(crate) fn parse_decimal_scaled(num: &str, scale: u64) -> Option<u64> {
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num.as_str(), ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int_v.checked_mul(scale as u128)?;
    if !frac.is_empty() {
        let frac = &frac[..frac.len().min(30)];
        let f: u128 = frac.parse().ok()?;
        let denom = 10u128.checked_pow(frac.len() as u32)?;
        let scaled = f.checked_mul(scale as u128)?;
        total = total.checked_add((scaled + denom / 2) / denom)?;
    }
    u64::try_from(total).ok()
}

impl fmt::Display for SimDuration {
    /// The largest unit that represents the value exactly, so that printing
    /// and parsing round-trip: `2.5s` prints as `2500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v == 0 {
            return write!(f, "0s");
        }
        for (scale, unit) in [
            (D, "d"),
            (H, "h"),
            (MIN, "m"),
            (S, "s"),
            (MS, "ms"),
            (US, "us"),
        ] {
            if v.is_multiple_of(scale) {
                return write!(f, "{}{}", v / scale, unit);
            }
        }
        write!(f, "{v}ns")
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", SimDuration(self.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, o: SimTime) -> SimDuration {
        self.since(o)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = SimDuration;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration with a unit, such as \"150ms\" or \"10m\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SimDuration, E> {
        SimDuration::parse(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SimDuration, E> {
        Err(E::custom(format!(
            "bare number {v} is ambiguous; write a duration with a unit such as \"{v}s\" or \"{v}ms\""
        )))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SimDuration, E> {
        self.visit_i64(v as i64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SimDuration, E> {
        Err(E::custom(format!(
            "bare number {v} is ambiguous; write a duration with a unit such as \"{v}s\""
        )))
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

/// An arrival rate, stored as events per second. Written `"0.9/s"`,
/// `"54/min"`, `"100/h"` or `"2000/d"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

impl Rate {
    pub fn per_sec(self) -> f64 {
        self.0
    }

    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || {
            format!("expected a rate such as \"0.9/s\", \"54/min\" or \"100/h\", found \"{text}\"")
        };
        let (num, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let v: f64 = num.trim().parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 {
            return Err(bad());
        }
        let per = match unit.trim() {
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        Ok(Rate(v / per))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as \"0.9/s\" or \"54/min\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                Rate::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "bare number {v} is ambiguous; write a rate such as \"{v}/s\" or \"{v}/min\""
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                self.visit_i64(v as i64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "bare number {v} is ambiguous; write a rate such as \"{v}/s\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A memory size in MB. In FaaS usage (Lambda's "128 MB") MB means MiB, and
/// coldsim follows it: `MB` and `MiB` are both 2^20 bytes, `GB` and `GiB` both
/// 2^30. A bare integer is accepted where the key name carries the unit
/// (`memory_mb = 512`); a string must carry one (`"512MiB"`, `"2GiB"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemoryMb(pub u64);

impl MemoryMb {
    pub fn parse(text: &str) -> Result<MemoryMb, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let scale = match unit.trim() {
            "MB" | "MiB" | "M" => 1,
            "GB" | "GiB" | "G" => 1024,
            "TB" | "TiB" | "T" => 1024 * 1024,
            "" => {
                return Err(format!(
                    "\"{text}\" has no unit; write \"{num}MiB\" or a bare integer number of MB"
                ));
            }
            u => {
                return Err(format!(
                    "unknown memory unit \"{u}\" in \"{text}\"; expected MiB, GiB or TiB"
                ));
            }
        };
        let mb = parse_decimal_scaled(num, scale)
            .ok_or_else(|| format!("\"{text}\" is not a valid memory size"))?;
        Ok(MemoryMb(mb))
    }
}

impl Serialize for MemoryMb {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for MemoryMb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MemoryMb;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a memory size in MB (an integer) or with a unit such as \"512MiB\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MemoryMb, E> {
                MemoryMb::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MemoryMb, E> {
                u64::try_from(v)
                    .map(MemoryMb)
                    .map_err(|_| E::custom(format!("expected a positive memory size, found {v}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MemoryMb, E> {
                Ok(MemoryMb(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A transfer rate, stored exactly as MB (2^20 bytes, as [`MemoryMb`]) per
/// second times 1,000 (so "0.5MB/s" is exact). Written `"125MB/s"`,
/// `"1.5GB/s"`, `"1GiB/s"`; a bare number is rejected.
///
/// The time to move `mb` at this rate is integer arithmetic
/// ([`Bandwidth::time_for`]), so no float ever reaches the event order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bandwidth {
    milli_mb_per_s: u64,
}

impl Bandwidth {
    /// `mb_per_s` MB per second.
    pub const fn mb_per_s(mb_per_s: u64) -> Bandwidth {
        Bandwidth {
            milli_mb_per_s: mb_per_s * 1000,
        }
    }

    pub fn as_mb_per_s(self) -> f64 {
        self.milli_mb_per_s as f64 / 1000.0
    }

    pub fn is_zero(self) -> bool {
        self.milli_mb_per_s == 0
    }

    /// The time to transfer `mb` MB, rounded up to a nanosecond (zero for
    /// a zero rate, which callers reject in validation).
    pub fn time_for(self, mb: u64) -> SimDuration {
        if self.milli_mb_per_s == 0 {
            return SimDuration::ZERO;
        }
        let num = mb as u128 * 1_000_000_000_000u128;
        let d = self.milli_mb_per_s as u128;
        SimDuration(num.div_ceil(d).min(u64::MAX as u128) as u64)
    }

    pub fn parse(text: &str) -> Result<Bandwidth, String> {
        let bad = || {
            format!("expected a transfer rate such as \"125MB/s\" or \"1.5GB/s\", found \"{text}\"")
        };
        let (size, per) = text.trim().split_once('/').ok_or_else(bad)?;
        if !matches!(per.trim(), "s" | "sec") {
            return Err(bad());
        }
        let t = size.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let scale = match unit.trim() {
            "MB" | "MiB" => 1000,
            "GB" | "GiB" => 1024 * 1000,
            _ => return Err(bad()),
        };
        let v = parse_decimal_scaled(num, scale).ok_or_else(bad)?;
        Ok(Bandwidth { milli_mb_per_s: v })
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.milli_mb_per_s / 1000;
        let frac = self.milli_mb_per_s % 1000;
        if frac == 0 {
            write!(f, "{whole}MB/s")
        } else {
            let s = format!("{frac:03}");
            write!(f, "{whole}.{}MB/s", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for Bandwidth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bandwidth;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a transfer rate such as \"125MB/s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bandwidth, E> {
                Bandwidth::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bandwidth, E> {
                Err(E::custom(format!(
                    "bare number {v} is ambiguous; write a rate such as \"{v}MB/s\""
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bandwidth, E> {
                self.visit_i64(v as i64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bandwidth, E> {
                Err(E::custom(format!(
                    "bare number {v} is ambiguous; write a rate such as \"{v}MB/s\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_parses_and_times_exactly() {
        let b = Bandwidth::parse("125MB/s").unwrap();
        assert_eq!(b, Bandwidth::mb_per_s(125));
        assert_eq!(b.time_for(250), SimDuration::from_secs(2));
        assert_eq!(
            Bandwidth::parse("1GB/s").unwrap(),
            Bandwidth::mb_per_s(1024)
        );
        assert_eq!(
            Bandwidth::parse("0.5MB/s").unwrap().time_for(1),
            SimDuration::from_secs(2)
        );
        // 1 MB at 3 MB/s: 333,333,333.3 ns, rounded up.
        assert_eq!(Bandwidth::mb_per_s(3).time_for(1), SimDuration(333_333_334));
        assert_eq!(Bandwidth::parse("1.5GB/s").unwrap().to_string(), "1536MB/s");
        assert_eq!(
            Bandwidth::parse("0.25MB/s").unwrap().to_string(),
            "0.25MB/s"
        );
        for bad in ["125", "125MB", "125MB/h", "fast/s", "1TB/s", "-1MB/s"] {
            assert!(Bandwidth::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_units_exactly() {
        assert_eq!(SimDuration::parse("150ms").unwrap(), SimDuration(150 * MS));
        assert_eq!(SimDuration::parse("2.5s").unwrap(), SimDuration(2_500 * MS));
        assert_eq!(SimDuration::parse("10m").unwrap(), SimDuration(600 * S));
        assert_eq!(SimDuration::parse("1h").unwrap(), SimDuration(3600 * S));
        assert_eq!(
            SimDuration::parse("1.991s").unwrap(),
            SimDuration(1_991 * MS)
        );
        assert_eq!(SimDuration::parse("0.1ns").unwrap(), SimDuration(0));
        assert_eq!(SimDuration::parse("1 d").unwrap(), SimDuration(D));
        assert_eq!(SimDuration::parse(".5s").unwrap(), SimDuration(500 * MS));
    }

    #[test]
    fn rejects_ambiguous_and_bad() {
        for bad in ["150", "", "ms", "1.2.3s", "5 parsecs", "-1s", "1e3s"] {
            assert!(SimDuration::parse(bad).is_err(), "{bad} should fail");
        }
        assert!(SimDuration::parse("99999999999999999999d").is_err());
    }

    #[test]
    fn display_round_trips() {
        for ns in [0, 1, 999, 1_000, 2_500_000_000, 600 * S, 3 * D, 123_456_789] {
            let d = SimDuration(ns);
            assert_eq!(SimDuration::parse(&d.to_string()).unwrap(), d);
        }
        assert_eq!(SimDuration(2_500 * MS).to_string(), "2500ms");
    }

    #[test]
    fn rates_and_memory() {
        assert_eq!(Rate::parse("0.9/s").unwrap().per_sec(), 0.9);
        assert_eq!(Rate::parse("60/min").unwrap().per_sec(), 1.0);
        assert!(Rate::parse("3").is_err());
        assert!(Rate::parse("3/fortnight").is_err());
        assert_eq!(MemoryMb::parse("2GiB").unwrap(), MemoryMb(2048));
        assert_eq!(MemoryMb::parse("512MB").unwrap(), MemoryMb(512));
        assert!(MemoryMb::parse("512").is_err());
        assert!(MemoryMb::parse("512kB").is_err());
    }
}
