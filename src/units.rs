//! Units of the model: time in integer picoseconds, sizes in bytes, rates in bits per second.
//!
//! Human units ("25us", "100Gbps", "64KiB") are parsed exactly once, when a scenario loads; from
//! then on every quantity is an integer. Floating point never enters event ordering or model state:
//! serialisation delay is computed in `u128` and rounded *up*, so a packet never leaves a link
//! earlier than physics allows (9001 B at 100 Gb/s = 720 080 ps exactly).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

pub const PS_PER_NS: u64 = 1_000;
pub const PS_PER_US: u64 = 1_000_000;
pub const PS_PER_MS: u64 = 1_000_000_000;
pub const PS_PER_S: u64 = 1_000_000_000_000;

/// A point in simulated time, picoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time in picoseconds. `u64` covers 213 days, far beyond any run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);
    pub fn ps(self) -> u64 {
        self.0
    }
    pub fn as_us_f64(self) -> f64 {
        self.0 as f64 / PS_PER_US as f64
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / PS_PER_S as f64
    }
    /// Time elapsed since `earlier`; saturates at zero rather than wrapping.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const fn from_ps(ps: u64) -> Self {
        SimDuration(ps)
    }
    pub const fn from_ns(ns: u64) -> Self {
        SimDuration(ns * PS_PER_NS)
    }
    pub const fn from_us(us: u64) -> Self {
        SimDuration(us * PS_PER_US)
    }
    pub const fn from_ms(ms: u64) -> Self {
        SimDuration(ms * PS_PER_MS)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * PS_PER_S)
    }
    pub fn ps(self) -> u64 {
        self.0
    }
    pub fn as_us_f64(self) -> f64 {
        self.0 as f64 / PS_PER_US as f64
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / PS_PER_S as f64
    }
    pub fn saturating_mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
}

/// An `Option` of a time, a duration or a sequence number in 8 bytes instead of 16: the value
/// `u64::MAX` stands for none. No run reaches it (picoseconds in a `u64` are 213 days; sequence
/// numbers count bytes sent); a deadline that saturated there (`SimTime + SimDuration` does) is
/// kept a picosecond earlier, as far beyond any run. For state read by every packet, where a
/// connection's size is counted in cache lines (`model::EpSlot`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PackedOption<T>(u64, std::marker::PhantomData<T>);

/// A value a [`PackedOption`] can hold: a `u64` in a newtype, or the `u64` itself.
pub trait PackedValue: Copy {
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;
}

impl PackedValue for SimTime {
    fn to_bits(self) -> u64 {
        self.0
    }
    fn from_bits(bits: u64) -> Self {
        SimTime(bits)
    }
}
impl PackedValue for SimDuration {
    fn to_bits(self) -> u64 {
        self.0
    }
    fn from_bits(bits: u64) -> Self {
        SimDuration(bits)
    }
}
impl PackedValue for u64 {
    fn to_bits(self) -> u64 {
        self
    }
    fn from_bits(bits: u64) -> Self {
        bits
    }
}

impl<T: PackedValue> PackedOption<T> {
    pub const NONE: Self = PackedOption(u64::MAX, std::marker::PhantomData);
    #[inline]
    pub fn some(value: T) -> Self {
        PackedOption(value.to_bits().min(u64::MAX - 1), std::marker::PhantomData)
    }
    #[inline]
    pub fn get(self) -> Option<T> {
        (self.0 != u64::MAX).then(|| T::from_bits(self.0))
    }
    #[inline]
    pub fn is_some(self) -> bool {
        self.0 != u64::MAX
    }
    #[inline]
    pub fn is_none(self) -> bool {
        self.0 == u64::MAX
    }
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        std::mem::replace(self, Self::NONE).get()
    }
}

impl<T: PackedValue> From<Option<T>> for PackedOption<T> {
    #[inline]
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::NONE, Self::some)
    }
}

impl<T: PackedValue + fmt::Debug> fmt::Debug for PackedOption<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
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
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}
impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(d.0))
    }
}

/// A size in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// A rate in bits per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bandwidth(pub u64);

impl Bandwidth {
    pub const fn gbps(g: u64) -> Self {
        Bandwidth(g * 1_000_000_000)
    }
    pub const fn mbps(m: u64) -> Self {
        Bandwidth(m * 1_000_000)
    }
    pub fn bps(self) -> u64 {
        self.0
    }
    pub fn as_gbps_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Time to put `bytes` on a wire at this rate, rounded up to the next picosecond.
    /// A zero rate means "no serialisation" (an ideal stage) and costs no time.
    ///
    /// ```
    /// use nitrosim::units::{parse_bandwidth, SimDuration};
    /// // DESIGN.md's reference: 9001 B at 100 Gb/s = 720 080 ps.
    /// let link = parse_bandwidth("100Gbps").unwrap();
    /// assert_eq!(link.serialisation(9001), SimDuration(720_080));
    /// ```
    pub fn serialisation(self, bytes: u64) -> SimDuration {
        if self.0 == 0 {
            return SimDuration::ZERO;
        }
        // Packets take the 64-bit path (bytes x 8 x 10^12 fits below 2.3 MB); 128 bits otherwise.
        if bytes < 2_000_000 {
            return SimDuration((bytes * 8 * PS_PER_S).div_ceil(self.0));
        }
        let bits_ps = bytes as u128 * 8 * PS_PER_S as u128;
        SimDuration(bits_ps.div_ceil(self.0 as u128) as u64)
    }
}

/// Round a reported figure to `digits` decimals, for stable, readable JSON (dollars of a short
/// run, the kbit/s of a quiet link; `workload::results::round3` for most). Never fed back into
/// the model.
pub fn round_to(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    // + 0.0 turns -0.0 (an empty float sum, a tiny negative rounded) into 0.0.
    (x * k).round() / k + 0.0
}

/// Throughput in Gbit/s from a byte count over a duration (reporting only).
pub fn gbps(bytes: u64, over: SimDuration) -> f64 {
    if over.0 == 0 {
        return 0.0;
    }
    bytes as f64 * 8.0 / over.as_secs_f64() / 1e9
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    pub what: &'static str,
    pub input: String,
    pub hint: &'static str,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}; {}", self.what, self.input, self.hint)
    }
}
impl std::error::Error for UnitError {}

/// Split "25us" into (25.0-as-decimal-text, "us"). Keeps the number as text so integers stay exact.
fn split_number(s: &str) -> (&str, &str) {
    let s = s.trim();
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(s.len());
    (s[..end].trim(), s[end..].trim())
}

/// Exact decimal-times-scale: "1.5" x 1000 = 1500, with no floating point. Rejects precision finer
/// than one base unit (e.g. "0.5ps") so the user never gets a silently rounded value.
fn scale_decimal(num: &str, scale: u64) -> Option<u64> {
    let num: String = num.chars().filter(|&c| c != '_').collect();
    if num.is_empty() || num == "." {
        return None;
    }
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num.as_str(), ""),
    };
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int_v.checked_mul(scale as u128)?;
    if !frac.is_empty() {
        let frac_v: u128 = frac.parse().ok()?;
        let denom = 10u128.checked_pow(frac.len() as u32)?;
        let scaled = frac_v.checked_mul(scale as u128)?;
        if scaled % denom != 0 {
            return None;
        }
        total = total.checked_add(scaled / denom)?;
    }
    u64::try_from(total).ok()
}

/// Parse a duration such as `"25us"` or `"1.5ms"` exactly into picoseconds.
///
/// ```
/// use nitrosim::units::{parse_duration, SimDuration};
/// assert_eq!(parse_duration("1.5ms").unwrap(), SimDuration::from_us(1500));
/// assert!(parse_duration("25 parsecs").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<SimDuration, UnitError> {
    const HINT: &str = "write a number and a unit: ps, ns, us, ms, s (e.g. \"25us\", \"1.5ms\")";
    let err = || UnitError { what: "duration", input: s.to_string(), hint: HINT };
    let (num, unit) = split_number(s);
    let scale = match unit {
        "ps" => 1,
        "ns" => PS_PER_NS,
        "us" | "µs" => PS_PER_US,
        "ms" => PS_PER_MS,
        "s" => PS_PER_S,
        _ => return Err(err()),
    };
    scale_decimal(num, scale).map(SimDuration).ok_or_else(err)
}

pub fn parse_bandwidth(s: &str) -> Result<Bandwidth, UnitError> {
    const HINT: &str = "write a number and a unit: bps, Kbps, Mbps, Gbps, Tbps (e.g. \"100Gbps\", \"12.5Gbps\")";
    let err = || UnitError { what: "bandwidth", input: s.to_string(), hint: HINT };
    let (num, unit) = split_number(s);
    let scale = match unit {
        "bps" => 1,
        "Kbps" | "kbps" => 1_000,
        "Mbps" => 1_000_000,
        "Gbps" => 1_000_000_000,
        "Tbps" => 1_000_000_000_000,
        _ => return Err(err()),
    };
    scale_decimal(num, scale).map(Bandwidth).ok_or_else(err)
}

pub fn parse_bytes(s: &str) -> Result<Bytes, UnitError> {
    const HINT: &str = "write a number and a unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), e.g. \"9001B\", \"64KiB\"";
    let err = || UnitError { what: "size", input: s.to_string(), hint: HINT };
    let (num, unit) = split_number(s);
    let scale = match unit {
        "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(err()),
    };
    scale_decimal(num, scale).map(Bytes).ok_or_else(err)
}

fn fmt_scaled(f: &mut fmt::Formatter<'_>, v: u64, units: &[(u64, &str)]) -> fmt::Result {
    for &(scale, name) in units {
        if v >= scale && v.is_multiple_of(scale) {
            return write!(f, "{}{}", v / scale, name);
        }
    }
    let (scale, name) = units[units.len() - 1];
    write!(f, "{}{}", v / scale, name)
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0s");
        }
        fmt_scaled(f, self.0, &[(PS_PER_S, "s"), (PS_PER_MS, "ms"), (PS_PER_US, "us"), (PS_PER_NS, "ns"), (1, "ps")])
    }
}
impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0bps");
        }
        fmt_scaled(f, self.0, &[(1_000_000_000, "Gbps"), (1_000_000, "Mbps"), (1_000, "Kbps"), (1, "bps")])
    }
}
impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0B");
        }
        fmt_scaled(f, self.0, &[(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"), (1, "B")])
    }
}

macro_rules! serde_as_text {
    ($ty:ty, $parse:path, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        $parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
serde_as_text!(SimDuration, parse_duration, "a duration string such as \"25us\"");
serde_as_text!(Bandwidth, parse_bandwidth, "a bandwidth string such as \"100Gbps\"");
serde_as_text!(Bytes, parse_bytes, "a size string such as \"64KiB\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialisation_is_exact_and_rounds_up() {
        // DESIGN.md: 9001 B at 100 Gb/s = 720 080 ps.
        assert_eq!(Bandwidth::gbps(100).serialisation(9001), SimDuration(720_080));
        // 1500 B at 5 Gb/s = 2.4 us exactly.
        assert_eq!(Bandwidth::gbps(5).serialisation(1500), SimDuration(2_400_000));
        // 1 B at 3 bit/s = 2.666.. s -> rounded up to the next picosecond.
        assert_eq!(Bandwidth(3).serialisation(1), SimDuration(2_666_666_666_667));
        assert_eq!(Bandwidth(0).serialisation(9001), SimDuration::ZERO);
    }

    #[test]
    fn parses_human_units_exactly() {
        assert_eq!(parse_duration("25us").unwrap(), SimDuration::from_us(25));
        assert_eq!(parse_duration("1.5ms").unwrap(), SimDuration(1_500_000_000));
        assert_eq!(parse_duration("0.001ns").unwrap(), SimDuration(1));
        assert!(parse_duration("0.0005ns").is_err());
        assert!(parse_duration("25").is_err());
        assert!(parse_duration("25 parsecs").is_err());
        assert_eq!(parse_bandwidth("12.5Gbps").unwrap(), Bandwidth(12_500_000_000));
        assert_eq!(parse_bytes("64KiB").unwrap(), Bytes(65_536));
        assert_eq!(parse_bytes("9001B").unwrap(), Bytes(9001));
        assert!(parse_bytes("-1B").is_err());
        assert!(parse_bandwidth("99999999999999999999Tbps").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["25us", "1500ms", "3s", "7ps"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(parse_duration(&d.to_string()).unwrap(), d);
        }
        assert_eq!(Bandwidth::gbps(100).to_string(), "100Gbps");
        assert_eq!(Bytes(65536).to_string(), "64KiB");
    }

    #[test]
    fn a_packed_option_is_an_option_in_eight_bytes() {
        assert_eq!(std::mem::size_of::<PackedOption<SimTime>>(), 8);
        assert_eq!(std::mem::size_of::<Option<SimTime>>(), 16);
        let mut t: PackedOption<SimTime> = PackedOption::NONE;
        assert!(t.is_none() && t.get().is_none());
        t = PackedOption::some(SimTime::ZERO);
        assert_eq!(t.get(), Some(SimTime::ZERO));
        assert_eq!(t.take(), Some(SimTime::ZERO));
        assert!(t.is_none());
        // A deadline that saturated is kept, a picosecond earlier, not lost as none.
        let never = SimTime(u64::MAX - 5) + SimDuration::from_secs(1);
        assert_eq!(PackedOption::some(never).get(), Some(SimTime(u64::MAX - 1)));
        assert_eq!(PackedOption::from(Some(7u64)).get(), Some(7));
        assert_eq!(PackedOption::<SimDuration>::from(None), PackedOption::NONE);
        assert_eq!(format!("{:?}", PackedOption::some(3u64)), "Some(3)");
    }
}
