//! The grid: parameter values crossed (first parameter outermost), times `seeds` runs per point.

use super::MAX_RUNS;

/// Values one sweep parameter may take: each is checked as a whole scenario before running.
pub const MAX_VALUES_PER_PARAMETER: u64 = 10_000;

/// The first segment of every metric path a run's results have (`VariantResult`'s JSON fields),
/// so a misspelt `sweep.plot` metric is refused by `check` instead of silently not plotted.
pub const METRIC_ROOTS: &[&str] = &[
    "flows",
    "rpc",
    "datagrams",
    "background",
    "permutation",
    "pingpong",
    "collectives",
    "service_clients",
    "service_outages",
    "drops",
    "packets",
    "counters",
    "fabric",
    "srd",
    "ip",
    "filter_drops",
    "event_log",
    "capture",
    "throughput",
    "memory",
    "events_processed",
    "link_crossings",
    "stage_passes",
    "events_per_crossing",
    "packet_hops",
    "simulated_us",
];

/// How many values a parameter expands to, computed without expanding it.
fn value_count(values: &SweepValues) -> u64 {
    match values {
        SweepValues::List(v) => v.len() as u64,
        SweepValues::Linear { steps, .. } | SweepValues::Log { steps, .. } => *steps as u64,
    }
}
use crate::engine::rng::{fnv1a, mix64};
use crate::scenario::error::{Diagnostic, locate};
use crate::scenario::overrides;
use crate::scenario::spec::{ScenarioSpec, SweepValues};

#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub point: usize,
    /// "path=value,path=value": the point's identity, also what its seed derives from.
    pub label: String,
    pub values: Vec<String>,
    pub seed_index: u32,
    pub seed: u64,
}

#[derive(Clone, Debug)]
pub struct Grid {
    pub paths: Vec<String>,
    pub values: Vec<Vec<String>>,
    /// Whether each parameter is geometric (plotted on a log axis).
    pub log_scale: Vec<bool>,
    pub points: usize,
    pub seeds: u32,
    pub runs: Vec<Run>,
    /// Identifies the sweep definition: scenario (after overrides), grid and version.
    pub hash: String,
}

/// A number as a `--set` value: integers without a decimal point.
fn format_number(x: f64, integral: bool) -> String {
    if integral || (x.fract() == 0.0 && x.abs() < 1e15) {
        format!("{}", x.round() as i64)
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn expand(values: &SweepValues) -> Result<(Vec<String>, bool), String> {
    let integral = |a: f64, b: f64| a.fract() == 0.0 && b.fract() == 0.0;
    match values {
        SweepValues::List(v) if v.is_empty() => Err("an empty list of values".into()),
        SweepValues::List(v) => Ok((v.clone(), false)),
        SweepValues::Linear { steps: 0, .. } | SweepValues::Log { steps: 0, .. } => Err("zero steps".into()),
        SweepValues::Linear { from, to, steps } => {
            if !(from.is_finite() && to.is_finite()) {
                return Err("a range with a non-finite end".into());
            }
            let n = *steps as usize;
            let step = if n == 1 { 0.0 } else { (to - from) / (n - 1) as f64 };
            let ints = integral(*from, *to) && step.fract() == 0.0;
            Ok(((0..n).map(|i| format_number(from + step * i as f64, ints)).collect(), false))
        }
        SweepValues::Log { from, to, steps } => {
            if !(*from > 0.0 && *to > 0.0 && from.is_finite() && to.is_finite()) {
                return Err("a log range needs positive, finite ends".into());
            }
            let n = *steps as usize;
            let ratio = if n == 1 { 1.0 } else { (to / from).powf(1.0 / (n - 1) as f64) };
            let ints = integral(*from, *to);
            let vals: Vec<String> = (0..n)
                .map(|i| {
                    let x = from * ratio.powi(i as i32);
                    // 1, 2, 4 ... 64 must come out exact, not 3.9999999.
                    let near = x.round();
                    let x = if ints && (x - near).abs() <= 1e-6 * x { near } else { x };
                    format_number(x, ints && x.fract() == 0.0)
                })
                .collect();
            Ok((vals, true))
        }
    }
}

impl Grid {
    pub fn build(file: &str, src: &str, spec: &ScenarioSpec) -> Result<Grid, Diagnostic> {
        let Some(sweep) = &spec.sweep else {
            return Err(Diagnostic::new(file, "this scenario has no sweep definition")
                .expected("a `sweep: (parameters: [...], seeds: N)` entry")
                .hint("see scenarios/README.md, section `sweep`; `nitrosim run` runs a scenario once"));
        };
        let at = |key: &str, value: &str| locate(src, key, value);
        if sweep.parameters.is_empty() {
            let (l, c) = at("parameters", "");
            return Err(Diagnostic::new(file, "a sweep with no parameters")
                .at(src, l, c)
                .expected("at least one (path: ..., values: ...)")
                .hint("e.g. (path: \"srd.paths\", values: Log(from: 1, to: 64, steps: 7))"));
        }
        if sweep.seeds == 0 {
            let (l, c) = at("seeds", "0");
            return Err(Diagnostic::new(file, "a sweep with zero seeds")
                .at(src, l, c)
                .expected("seeds >= 1")
                .hint("10 seeds give usable confidence intervals"));
        }
        // Paths that shape the sweep itself or its output, not a run: every point would be the same.
        for p in &sweep.parameters {
            let first = p.path.split('.').next().unwrap_or("");
            if ["sweep", "name", "seed"].contains(&first) {
                let (l, c) = at("path", &p.path);
                return Err(Diagnostic::new(file, format!("sweep parameter `{}` changes no run", p.path))
                    .at(src, l, c)
                    .expected("a path into the scenario a run simulates (srd.paths, workloads.NAME.load, ...)")
                    .hint(match first {
                        "seed" => "each run gets its own seed; `seeds: N` runs N of them per point",
                        "name" => "the sweep writes one folder, named by --out",
                        _ => "the sweep's own settings are not swept; set them in `sweep: (...)`",
                    }));
            }
        }
        // A path swept twice: the later values would silently override the earlier ones.
        for (k, p) in sweep.parameters.iter().enumerate() {
            if sweep.parameters[..k].iter().any(|q| q.path == p.path) {
                let (l, c) = crate::scenario::error::locate_nth(src, "path", &p.path, 1);
                return Err(Diagnostic::new(file, format!("sweep parameter `{}` is given twice", p.path))
                    .at(src, l, c)
                    .expected("each path once in `parameters`")
                    .hint("list every value of a path in one `values: List([...])`"));
            }
        }
        // A variant that sets a swept path would run its own value at every point.
        for p in &sweep.parameters {
            // The same path, or one that holds it or lies within it (`workloads` over
            // `workloads.bulk.flows`).
            let overlaps = |q: &str| {
                let (short, long) = if q.len() <= p.path.len() { (q, p.path.as_str()) } else { (p.path.as_str(), q) };
                long == short || long.strip_prefix(short).is_some_and(|rest| rest.starts_with('.'))
            };
            let found = spec.variants.iter().find_map(|v| v.set.keys().find(|q| overlaps(q)).map(|q| (v, q)));
            if let Some((v, q)) = found {
                let (l, c) = at("path", &p.path);
                return Err(Diagnostic::new(
                    file,
                    format!("variant {:?} sets `{q}`, which the sweep varies (`{}`)", v.name, p.path),
                )
                .at(src, l, c)
                .expected("swept paths that no variant sets")
                .hint("every point would run the variant's value; drop the path from the variant's `set`"));
            }
        }
        // Sizes first, from the definition alone: a typo in `steps` must not allocate anything.
        let mut total: u64 = sweep.seeds as u64;
        for p in &sweep.parameters {
            let n = value_count(&p.values);
            if n > MAX_VALUES_PER_PARAMETER {
                let (l, c) = at("path", &p.path);
                return Err(Diagnostic::new(file, format!("sweep parameter `{}` has {n} values", p.path))
                    .at(src, l, c)
                    .expected(format!("at most {MAX_VALUES_PER_PARAMETER} values per parameter (`steps`)"))
                    .hint("use fewer steps; a sweep runs every combination of values times `seeds`"));
            }
            total = total.saturating_mul(n);
        }
        if total > MAX_RUNS as u64 {
            let (l, c) = at("seeds", &sweep.seeds.to_string());
            return Err(Diagnostic::new(file, format!("the sweep has {total} runs (points x {} seeds)", sweep.seeds))
                .at(src, l, c)
                .expected(format!("at most {MAX_RUNS} runs"))
                .hint("use fewer values (`steps`, lists) or seeds, or split the sweep"));
        }
        for m in &sweep.plot {
            let root = m.split('.').next().unwrap_or("");
            if !METRIC_ROOTS.contains(&root) {
                let (l, c) = at("plot", "");
                let near = crate::scenario::error::did_you_mean(root, METRIC_ROOTS.iter().copied());
                return Err(Diagnostic::new(file, format!("unknown sweep plot metric `{m}`"))
                    .at(src, l, c)
                    .expected(format!(
                        "a path into a variant's results starting with one of: {}",
                        METRIC_ROOTS.join(", ")
                    ))
                    .hint(match near {
                        Some(n) => format!("did you mean `{n}.…`? results.csv lists every metric path"),
                        None => "e.g. rpc.latency_us.p99 or throughput.wire_gbps; results.csv lists every metric path"
                            .into(),
                    }));
            }
        }
        let mut paths = Vec::new();
        let mut values = Vec::new();
        let mut log_scale = Vec::new();
        for p in &sweep.parameters {
            let (l, c) = at("path", &p.path);
            let (vals, log) = expand(&p.values).map_err(|why| {
                Diagnostic::new(file, format!("sweep parameter `{}`: {why}", p.path))
                    .at(src, l, c)
                    .expected("List([...]) with values, or Linear/Log(from, to, steps >= 1)")
                    .hint("Log(from: 1, to: 64, steps: 7) gives 1, 2, 4 ... 64")
            })?;
            // A value given twice makes two points of one: the same runs, with the same seeds.
            if let Some(v) = vals.iter().enumerate().find_map(|(k, v)| vals[..k].contains(v).then_some(v)) {
                return Err(Diagnostic::new(file, format!("sweep parameter `{}` gives the value {v} twice", p.path))
                    .at(src, l, c)
                    .expected("each value once")
                    .hint(
                        "a repeated point adds runs with the same seeds, not more samples: raise `seeds` for those",
                    ));
            }
            // Every value must make a valid scenario: checked now, not after hours of running.
            for v in &vals {
                let applied = overrides::apply(spec, &p.path, v).map_err(|(msg, keys)| {
                    let nearest = crate::scenario::error::did_you_mean(
                        p.path.rsplit('.').next().unwrap_or(&p.path),
                        keys.split(", ").filter(|k| !k.is_empty()),
                    );
                    Diagnostic::new(file, format!("sweep parameter `{}`: {msg}", p.path))
                        .at(src, l, c)
                        .expected(if keys.is_empty() { "a valid path".into() } else { format!("one of: {keys}") })
                        .hint(match nearest {
                            Some(n) => format!("did you mean `{n}` at that level?"),
                            None => "paths are the ones --set takes, e.g. srd.paths, workloads.NAME.load".into(),
                        })
                })?;
                crate::scenario::check(file, src, &applied).map_err(|mut d| {
                    d.message = format!("sweep parameter `{}` = {v}: {}", p.path, d.message);
                    d
                })?;
            }
            paths.push(p.path.clone());
            values.push(vals);
            log_scale.push(log);
        }
        let points: usize = values.iter().map(Vec::len).product();
        let total = points.saturating_mul(sweep.seeds as usize);
        if total > MAX_RUNS {
            let (l, c) = at("seeds", &sweep.seeds.to_string());
            return Err(Diagnostic::new(
                file,
                format!("the sweep has {total} runs ({points} points x {} seeds)", sweep.seeds),
            )
            .at(src, l, c)
            .expected(format!("at most {MAX_RUNS} runs"))
            .hint("use fewer values or seeds, or split the sweep"));
        }
        let hash_input =
            format!("{}|{}", env!("CARGO_PKG_VERSION"), serde_json::to_string(spec).expect("a spec serialises"));
        let hash = format!("{:016x}", mix64(fnv1a(hash_input.as_bytes())));
        let mut runs = Vec::with_capacity(total);
        for point in 0..points {
            // Mixed radix, first parameter outermost.
            let mut rest = point;
            let mut idx = vec![0; values.len()];
            for k in (0..values.len()).rev() {
                idx[k] = rest % values[k].len();
                rest /= values[k].len();
            }
            let vals: Vec<String> = idx.iter().enumerate().map(|(k, &i)| values[k][i].clone()).collect();
            let label = paths.iter().zip(&vals).map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(",");
            for s in 0..sweep.seeds {
                let seed = mix64(spec.seed ^ mix64(fnv1a(label.as_bytes())) ^ mix64(s as u64 + 1));
                runs.push(Run { point, label: label.clone(), values: vals.clone(), seed_index: s, seed });
            }
        }
        Ok(Grid { paths, values, log_scale, points, seeds: sweep.seeds, runs, hash })
    }

    /// Parameter values of a point (runs are stored point-major).
    pub fn point_values(&self, point: usize) -> &[String] {
        &self.runs[point * self.seeds as usize].values
    }

    /// The scenario of one run: its parameter values applied and its own seed.
    pub fn spec_for(&self, spec: &ScenarioSpec, run: &Run) -> Result<ScenarioSpec, Diagnostic> {
        let mut s = spec.clone();
        for (p, v) in self.paths.iter().zip(&run.values) {
            s = overrides::apply(&s, p, v).map_err(|(msg, _)| Diagnostic::new("sweep", msg))?;
        }
        s.seed = run.seed;
        s.sweep = None;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand_exactly() {
        let log = expand(&SweepValues::Log { from: 1.0, to: 64.0, steps: 7 }).unwrap();
        assert_eq!(log.0, vec!["1", "2", "4", "8", "16", "32", "64"]);
        assert!(log.1);
        let lin = expand(&SweepValues::Linear { from: 0.3, to: 0.7, steps: 3 }).unwrap();
        assert_eq!(lin.0, vec!["0.3", "0.5", "0.7"]);
        assert!(expand(&SweepValues::List(vec![])).is_err());
        assert!(expand(&SweepValues::Log { from: 0.0, to: 1.0, steps: 2 }).is_err());
        assert!(expand(&SweepValues::Linear { from: 1.0, to: 2.0, steps: 0 }).is_err());
    }
}
