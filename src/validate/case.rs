//! One validation case: its schema (pure serde data, as `validation/README.md` documents it),
//! the reference it carries or computes from theory, how nitrosim's value is read from a
//! summary, and what the tolerance accepts.

use crate::scenario::Diagnostic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
    /// When the source was read (YYYY-MM-DD): documents change.
    pub read: String,
}

/// What the value must satisfy. `Relative` and `Absolute` are about the reference; `Range`,
/// `AtMost` and `AtLeast` are bounds in the case's unit, for references that are themselves a
/// range or a bound ("up to 50%").
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Tolerance {
    Relative(f64),
    Absolute(f64),
    Range(f64, f64),
    AtMost(f64),
    AtLeast(f64),
}

impl Tolerance {
    pub fn accepts(&self, value: f64, reference: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        match *self {
            Tolerance::Relative(r) => (value - reference).abs() <= r * reference.abs(),
            Tolerance::Absolute(a) => (value - reference).abs() <= a,
            Tolerance::Range(lo, hi) => (lo..=hi).contains(&value),
            Tolerance::AtMost(x) => value <= x,
            Tolerance::AtLeast(x) => value >= x,
        }
    }

    pub fn describe(&self, unit: &str) -> String {
        let n = super::num;
        match *self {
            Tolerance::Relative(r) => format!("±{}%", n(r * 100.0)),
            Tolerance::Absolute(a) => format!("±{} {unit}", n(a)),
            Tolerance::Range(lo, hi) => format!("{} to {} {unit}", n(lo), n(hi)),
            Tolerance::AtMost(x) => format!("at most {} {unit}", n(x)),
            Tolerance::AtLeast(x) => format!("at least {} {unit}", n(x)),
        }
    }
}

/// A second value the case's metric is compared with (the tail cut of one variant against
/// another, a mean against a minimum).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricRef {
    /// Default: the case's own variant.
    #[serde(default)]
    pub variant: Option<String>,
    pub metric: String,
    /// Multiply the value by this before comparing (e.g. 1e-6 for picoseconds into microseconds).
    #[serde(default = "one")]
    pub scale: f64,
}

fn one() -> f64 {
    1.0
}

fn one_seed() -> u32 {
    1
}

/// A limit on `seeds`: each is a full run of the case's scenario.
pub const MAX_SEEDS: u32 = 64;

/// How the metric and `relative_to` make nitrosim's value.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub enum Derive {
    /// value / base
    #[default]
    Ratio,
    /// 1 - value / base: the share by which value is below base (a tail cut).
    Reduction,
    /// value - base
    Difference,
}

/// A reference from theory, computed from its inputs (which the case copies from its scenario,
/// saying so in its comments).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Theory {
    /// M/D/1 mean waiting time in the queue, in microseconds (Pollaczek-Khinchine with
    /// deterministic service): Wq = rho s / (2 (1 - rho)), rho = s / mean interval.
    Md1Wait { service_us: f64, mean_interval_us: f64 },
    /// Mathis, Semke, Mahdavi, Ott (1997), TCP throughput under random loss, in Gbps:
    /// MSS / RTT x sqrt(3/2) / sqrt(p).
    Mathis { mss_bytes: f64, rtt_us: f64, loss: f64 },
    /// A window-limited transfer, in Gbps: window / RTT.
    WindowLimit { window_bytes: f64, rtt_us: f64 },
}

impl Theory {
    pub fn value(&self) -> f64 {
        match *self {
            Theory::Md1Wait { service_us, mean_interval_us } => {
                let rho = service_us / mean_interval_us;
                rho * service_us / (2.0 * (1.0 - rho))
            }
            Theory::Mathis { mss_bytes, rtt_us, loss } => {
                mss_bytes * 8.0 / (rtt_us * 1e-6) * (1.5f64).sqrt() / loss.sqrt() / 1e9
            }
            Theory::WindowLimit { window_bytes, rtt_us } => window_bytes * 8.0 / (rtt_us * 1e-6) / 1e9,
        }
    }

    pub fn describe(&self) -> String {
        let n = super::num;
        match *self {
            Theory::Md1Wait { service_us, mean_interval_us } => {
                format!("M/D/1, rho {}", n(service_us / mean_interval_us))
            }
            Theory::Mathis { mss_bytes, rtt_us, loss } => {
                format!("Mathis, MSS {} B, RTT {} us, p {loss:e}", n(mss_bytes), n(rtt_us))
            }
            Theory::WindowLimit { window_bytes, rtt_us } => {
                format!("window {} B / RTT {} us", n(window_bytes), n(rtt_us))
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        let ok = match *self {
            Theory::Md1Wait { service_us, mean_interval_us } => service_us > 0.0 && mean_interval_us > service_us,
            Theory::Mathis { mss_bytes, rtt_us, loss } => mss_bytes > 0.0 && rtt_us > 0.0 && loss > 0.0 && loss < 1.0,
            Theory::WindowLimit { window_bytes, rtt_us } => window_bytes > 0.0 && rtt_us > 0.0,
        };
        let why = match self {
            Theory::Md1Wait { .. } => "a service time above 0 and a stable queue: rho = service / interval below 1",
            Theory::Mathis { .. } => "an MSS and an RTT above 0 and a loss rate between 0 and 1",
            Theory::WindowLimit { .. } => "a window and an RTT above 0",
        };
        if ok { Ok(()) } else { Err(format!("theory inputs out of range: {self:?} (needs {why})")) }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub mechanism: String,
    pub source: Source,
    /// Relative to the repository root, or to the case's folder when it starts with `./`.
    pub scenario: String,
    #[serde(default)]
    pub set: Vec<String>,
    /// Override the scenario's seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Run this many consecutive seeds (the first is `seed`, or the scenario's) and take the mean
    /// of the per-seed values: for a figure that depends on one seed's draw (which ECMP paths a
    /// few connections hash onto), where the source measured many. At most `MAX_SEEDS`.
    #[serde(default = "one_seed")]
    pub seeds: u32,
    pub variant: String,
    /// JSON pointer into the variant's object in summary.json, e.g. `/throughput/goodput_gbps`.
    pub metric: String,
    #[serde(default)]
    pub relative_to: Option<MetricRef>,
    #[serde(default)]
    pub derive: Derive,
    /// Multiply the metric (after `derive`) by this, e.g. 1e-6 for microseconds into seconds.
    #[serde(default = "one")]
    pub scale: f64,
    /// A cited reference value; exactly one of `reference` and `theory`.
    #[serde(default)]
    pub reference: Option<f64>,
    #[serde(default)]
    pub theory: Option<Theory>,
    pub unit: String,
    pub tolerance: Tolerance,
    #[serde(default)]
    pub long: bool,
}

pub(super) fn parse(file: &str, text: &str) -> Result<Case, Diagnostic> {
    let case: Case = crate::scenario::ron_options().from_str(text).map_err(|e| {
        let d = crate::scenario::ron_diagnostic(file, text, &e);
        if d.hint.is_empty() || d.hint.contains("scenarios/README.md") {
            d.hint("see validation/README.md for the schema of a case")
        } else {
            d
        }
    })?;
    let at = |key: &str| {
        let (l, c) = crate::scenario::error::locate(text, key, "");
        Diagnostic::new(file, String::new()).at(text, l, c)
    };
    match (case.reference, case.theory) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(Diagnostic {
                message: "a case needs exactly one of `reference` (a cited value) and `theory` (a formula)".into(),
                expected: "reference: 25.0, or theory: Mathis(mss_bytes: ..., rtt_us: ..., loss: ...)".into(),
                ..at("reference")
            });
        }
        (None, Some(t)) => t.check().map_err(|m| Diagnostic { message: m, ..at("theory") })?,
        (Some(r), None) if !r.is_finite() => {
            return Err(Diagnostic {
                message: format!("reference {r} is not a number"),
                expected: "a finite number, the cited value in the case's unit".into(),
                ..at("reference")
            });
        }
        _ => {}
    }
    for (key, p) in
        [("metric", Some(case.metric.as_str())), ("relative_to", case.relative_to.as_ref().map(|r| r.metric.as_str()))]
    {
        if let Some(p) = p
            && !p.starts_with('/')
        {
            return Err(Diagnostic {
                message: format!("`{p}` is not a JSON pointer"),
                expected: "a pointer into the variant's object in summary.json, starting with /".into(),
                hint: "e.g. /throughput/goodput_gbps, /rpc/latency_us/p99, /flows/0/completed_us".into(),
                ..at(key)
            });
        }
    }
    if let Some(r) = &case.relative_to
        && !(r.scale.is_finite() && r.scale > 0.0)
    {
        return Err(Diagnostic {
            message: format!("relative_to's scale {} leaves nothing to compare with", r.scale),
            expected: "a finite number above 0 (1.0 by default)".into(),
            hint: "scale converts the second value's unit, e.g. 1e-6 for picoseconds into microseconds".into(),
            ..at("scale")
        });
    }
    let bounds_ok = match case.tolerance {
        Tolerance::Relative(x) | Tolerance::Absolute(x) => x.is_finite() && x >= 0.0,
        Tolerance::Range(lo, hi) => !lo.is_nan() && !hi.is_nan(),
        Tolerance::AtMost(x) | Tolerance::AtLeast(x) => !x.is_nan(),
    };
    if !bounds_ok {
        return Err(Diagnostic {
            message: format!("tolerance {:?} cannot be met or missed", case.tolerance),
            expected: "Relative and Absolute: a finite width of 0 or more; bounds: numbers, not NaN".into(),
            hint: "e.g. Relative(0.05) for within 5% of the reference".into(),
            ..at("tolerance")
        });
    }
    if let Tolerance::Range(lo, hi) = case.tolerance
        && lo > hi
    {
        return Err(Diagnostic { message: format!("empty range {lo} to {hi}"), ..at("tolerance") });
    }
    if !(1..=MAX_SEEDS).contains(&case.seeds) {
        return Err(Diagnostic {
            message: format!("seeds: {} is out of range", case.seeds),
            expected: format!("a number of consecutive seeds from 1 to {MAX_SEEDS}"),
            hint: "each seed is a full run of the scenario; 1 (the default) runs the scenario's own seed".into(),
            ..at("seeds")
        });
    }
    Ok(case)
}

impl Case {
    pub fn scenario_path(&self, root: &Path, dir: &Path) -> PathBuf {
        match self.scenario.strip_prefix("./") {
            Some(rel) => dir.join(rel),
            None => root.join(&self.scenario),
        }
    }

    pub fn variants_read(&self) -> Vec<String> {
        let mut v = vec![self.variant.clone()];
        if let Some(r) = &self.relative_to
            && let Some(other) = &r.variant
            && other != &self.variant
        {
            v.push(other.clone());
        }
        v
    }

    /// The reference and how it was obtained ("cited", or the formula).
    pub fn reference_value(&self) -> (f64, String) {
        match (self.reference, self.theory) {
            (Some(r), _) => (r, "cited".into()),
            (None, Some(t)) => (t.value(), t.describe()),
            (None, None) => (f64::NAN, "none".into()),
        }
    }

    /// nitrosim's value, read from a summary.json.
    pub fn value(&self, summary: &serde_json::Value) -> Result<f64, String> {
        let read = |variant: &str, pointer: &str| -> Result<f64, String> {
            let v = summary["variants"]
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["name"] == variant))
                .ok_or_else(|| format!("no variant \"{variant}\" in the summary"))?;
            let x = v.pointer(pointer).ok_or_else(|| format!("variant {variant}: no {pointer} in its summary"))?;
            x.as_f64().ok_or_else(|| format!("variant {variant}: {pointer} is {x}, not a number"))
        };
        let value = read(&self.variant, &self.metric)?;
        let derived = match &self.relative_to {
            None => value,
            Some(r) => {
                let base = read(r.variant.as_deref().unwrap_or(&self.variant), &r.metric)? * r.scale;
                match self.derive {
                    Derive::Ratio => value / base,
                    Derive::Reduction => 1.0 - value / base,
                    Derive::Difference => value - base,
                }
            }
        };
        Ok(derived * self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"
// comment
(
    mechanism: "m",
    source: (title: "t", url: "https://example.org", read: "2026-11-30"),
    scenario: "scenarios/single-flow-cap.ron",
    variant: "no-placement-group",
    metric: "/throughput/goodput_gbps",
    reference: 5.0,
    unit: "Gbps",
    tolerance: Relative(0.05),
)"#;

    #[test]
    fn parses_the_documented_format_and_reads_pointers() {
        let c = parse("c.ron", CASE).unwrap();
        assert_eq!((c.set.len(), c.long, c.reference), (0, false, Some(5.0)));
        let s = serde_json::json!({"variants": [{"name": "no-placement-group", "throughput": {"goodput_gbps": 4.9}}]});
        assert_eq!(c.value(&s), Ok(4.9));
        assert!(c.tolerance.accepts(4.9, 5.0) && !c.tolerance.accepts(4.7, 5.0));
        assert_eq!(c.seeds, 1);
        let many = parse("c.ron", &CASE.replace("unit:", "seeds: 0, unit:")).unwrap_err();
        assert!(many.line > 0 && many.message.contains("seeds: 0"), "{many}");
        let bad = parse("c.ron", &CASE.replace("reference: 5.0,", "")).unwrap_err();
        assert!(bad.message.contains("exactly one"), "{bad}");
        let typo = parse("c.ron", &CASE.replace("unit:", "units:")).unwrap_err();
        assert!(typo.line > 0 && typo.message.contains("units"), "{typo}");
    }

    #[test]
    fn theory_references_follow_their_formulas() {
        // M/D/1 at rho 0.5 with 2 us service: 0.5 x 2 / (2 x 0.5) = 1 us.
        assert!((Theory::Md1Wait { service_us: 2.0, mean_interval_us: 4.0 }.value() - 1.0).abs() < 1e-12);
        // 1448 B per 1 ms at p = 1%: 11.584 Mbps x sqrt(1.5) / 0.1.
        let m = Theory::Mathis { mss_bytes: 1448.0, rtt_us: 1000.0, loss: 0.01 }.value();
        assert!((m - 0.011584 * 1.5f64.sqrt() / 0.1).abs() < 1e-9);
        assert!((Theory::WindowLimit { window_bytes: 125_000.0, rtt_us: 1000.0 }.value() - 1.0).abs() < 1e-12);
        assert!(Theory::Md1Wait { service_us: 2.0, mean_interval_us: 1.0 }.check().is_err());
    }
}
