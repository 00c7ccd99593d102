//! Scenario files: RON text -> `ScenarioSpec` (serde, with positions on syntax and type errors)
//! -> overrides (`--set`, variants) -> `validate` (references, limits, EC2 rules) -> a list of
//! `Variant`s, each a complete, checked spec ready for `build`, which lowers it (`lower`: the
//! plain configuration types `ec2`, `workload` and `model` own) and assembles the runtime model.
//! This module is the only one that knows the file's shape.

pub mod budget;
pub mod build;
pub mod error;
pub mod lower;
pub mod overrides;
pub mod placement;
pub mod spec;
pub mod validate;

pub use error::Diagnostic;
pub use spec::ScenarioSpec;

use ron::error::{Error as RonError, SpannedError};

/// The embedded default scenario, run by `nitrosim run` with no file.
pub const DEFAULT_SCENARIO_NAME: &str = "ena-vs-express.ron";
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/ena-vs-express.ron");

/// Every bundled scenario, by file name (for `nitrosim list` and the tests).
pub const BUNDLED: &[(&str, &str)] = &[
    ("ena-vs-express.ron", include_str!("../../scenarios/ena-vs-express.ron")),
    ("efa-allreduce.ron", include_str!("../../scenarios/efa-allreduce.ron")),
    ("efa-latency.ron", include_str!("../../scenarios/efa-latency.ron")),
    ("single-flow-cap.ron", include_str!("../../scenarios/single-flow-cap.ron")),
    ("rpc-under-load.ron", include_str!("../../scenarios/rpc-under-load.ron")),
    ("srd-path-sweep.ron", include_str!("../../scenarios/srd-path-sweep.ron")),
    ("pmtud-blackhole.ron", include_str!("../../scenarios/pmtud-blackhole.ron")),
    ("jumbo-frames.ron", include_str!("../../scenarios/jumbo-frames.ron")),
    ("burst-credits.ron", include_str!("../../scenarios/burst-credits.ron")),
    ("enhanced-networking.ron", include_str!("../../scenarios/enhanced-networking.ron")),
    ("nat-instance.ron", include_str!("../../scenarios/nat-instance.ron")),
    ("eni-failover.ron", include_str!("../../scenarios/eni-failover.ron")),
    ("srd-outage.ron", include_str!("../../scenarios/srd-outage.ron")),
    ("efa-latency-hpc6a.ron", include_str!("../../scenarios/efa-latency-hpc6a.ron")),
    ("nccl-allreduce-p5.ron", include_str!("../../scenarios/nccl-allreduce-p5.ron")),
    ("ethernet-framing.ron", include_str!("../../scenarios/ethernet-framing.ron")),
    ("rtt-fairness.ron", include_str!("../../scenarios/rtt-fairness.ron")),
    ("nat-gateway.ron", include_str!("../../scenarios/nat-gateway.ron")),
    ("cross-az.ron", include_str!("../../scenarios/cross-az.ron")),
    ("imported-web-tier.ron", include_str!("../../scenarios/imported-web-tier.ron")),
];

/// A checked, fully overridden scenario for one variant.
#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    pub spec: ScenarioSpec,
}

pub(crate) fn ron_options() -> ron::Options {
    // Let users write `spine_link: "100Gbps"` as well as `Some("100Gbps")`.
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// Parse RON text into a spec, mapping every error to a positioned diagnostic.
pub fn parse(file: &str, src: &str) -> Result<ScenarioSpec, Diagnostic> {
    let src = strip_bom(src);
    ron_options().from_str::<ScenarioSpec>(src).map_err(|e| ron_diagnostic(file, src, &e))
}

/// Text saved by some Windows editors starts with a byte-order mark; it is not part of the RON.
fn strip_bom(src: &str) -> &str {
    src.strip_prefix('\u{feff}').unwrap_or(src)
}

/// The hint for a value of the wrong type, by what the parser expected.
fn type_hint(e: &RonError) -> Option<(&'static str, &'static str)> {
    Some(match e {
        RonError::ExpectedInteger | RonError::ExpectedFloat => {
            ("a number", "counts are bare numbers (flows: 4); quantities with units are quoted strings (\"25us\")")
        }
        RonError::ExpectedString | RonError::ExpectedStringEnd => {
            ("a quoted string", "names, units and types are quoted: \"100Gbps\", \"c6in.16xlarge\"")
        }
        RonError::ExpectedBoolean => ("true or false", "flags are bare true/false, without quotes"),
        RonError::ExpectedArray | RonError::ExpectedArrayEnd => {
            ("a list in square brackets", "lists are written [a, b, c]; check for a missing `]` or `,`")
        }
        RonError::ExpectedMap | RonError::ExpectedMapEnd | RonError::ExpectedMapColon => {
            ("a map in braces", "maps are written {\"key\": \"value\", ...}, e.g. a variant's `set`")
        }
        RonError::ExpectedStructLike | RonError::ExpectedNamedStructLike(_) | RonError::ExpectedStructLikeEnd => {
            ("a structure in parentheses", "structures are written (field: value, ...); check for a missing `)`")
        }
        RonError::ExpectedOption | RonError::ExpectedOptionEnd => {
            ("an optional value", "write the value itself, Some(value), or None")
        }
        _ => return None,
    })
}

pub(crate) fn ron_diagnostic(file: &str, src: &str, e: &SpannedError) -> Diagnostic {
    let (line, col) = (e.span.start.line, e.span.start.col);
    let d = Diagnostic::new(file, String::new()).at(src, line, col);
    match &e.code {
        RonError::NoSuchStructField { expected, found, outer } => {
            let mut d = Diagnostic {
                message: format!(
                    "unknown field `{found}`{}",
                    outer.as_ref().map(|o| format!(" in `{o}`")).unwrap_or_default()
                ),
                expected: format!("one of: {}", expected.join(", ")),
                ..d
            };
            d.hint = match error::did_you_mean(found, expected.iter().copied()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => "remove the field, or see scenarios/README.md for the schema".into(),
            };
            d
        }
        RonError::MissingStructField { field, outer } => Diagnostic {
            message: format!(
                "missing field `{field}`{}",
                outer.as_ref().map(|o| format!(" in `{o}`")).unwrap_or_default()
            ),
            expected: format!("a `{field}: ...` entry"),
            hint: "add the field; scenarios/README.md lists every field with its default".into(),
            ..d
        },
        RonError::NoSuchEnumVariant { expected, found, outer } => {
            let hint = match error::did_you_mean(found, expected.iter().copied()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => "variant names are case-sensitive".into(),
            };
            Diagnostic {
                message: format!(
                    "unknown variant `{found}`{}",
                    outer.as_ref().map(|o| format!(" of `{o}`")).unwrap_or_default()
                ),
                expected: format!("one of: {}", expected.join(", ")),
                hint,
                ..d
            }
        }
        RonError::DuplicateStructField { field, .. } => Diagnostic {
            message: format!("field `{field}` appears twice"),
            expected: "each field at most once".into(),
            hint: "remove one of them".into(),
            ..d
        },
        RonError::Message(m) => {
            // Unit parse errors arrive as "invalid duration \"x\"; write a number and ...".
            let (msg, hint) = m.split_once("; ").unwrap_or((m.as_str(), ""));
            let expected = if msg.starts_with("invalid") {
                "a quoted number with a unit".to_string()
            } else {
                "a value of the field's type".into()
            };
            Diagnostic { message: msg.to_string(), expected, hint: hint.to_string(), ..d }
        }
        RonError::InvalidValueForType { expected, found } => Diagnostic {
            message: format!("wrong type: found {found}"),
            expected: expected.clone(),
            hint: "units are strings (\"25us\", \"100Gbps\"); counts are bare numbers".into(),
            ..d
        },
        other if type_hint(other).is_some() => {
            let (expected, hint) = type_hint(other).expect("checked");
            Diagnostic { message: other.to_string(), expected: expected.into(), hint: hint.into(), ..d }
        }
        other => Diagnostic {
            message: other.to_string(),
            expected: "valid RON (Rust Object Notation)".into(),
            hint: "check brackets, commas, quotes and field names near this point".into(),
            ..d
        },
    }
}

/// Apply `--set` overrides to a parsed spec (they come from the command line: no file position).
pub fn apply_sets(file: &str, mut spec: ScenarioSpec, sets: &[String]) -> Result<ScenarioSpec, Diagnostic> {
    for s in sets {
        let Some((path, value)) = s.split_once('=') else {
            return Err(Diagnostic::new("--set", format!("`--set {s}` has no `=`"))
                .expected("--set path=value, e.g. --set tcp.congestion=NewReno")
                .hint(format!("while loading {file}")));
        };
        spec = overrides::apply(&spec, path.trim(), value).map_err(|(msg, keys)| {
            Diagnostic::new("--set", format!("--set {s}: {msg}"))
                .expected(if keys.is_empty() { "a valid path".into() } else { format!("one of: {keys}") })
                .hint("paths use field names, and list entries by their name, e.g. instances.b.placement_group")
        })?;
    }
    Ok(spec)
}

/// Why [`read_bounded`] gave up.
#[derive(Debug)]
pub enum ReadFailure {
    /// Not readable, or not UTF-8 text: the reason.
    Unreadable(String),
    /// More than this many bytes (the limit).
    TooLarge(u64),
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadFailure::Unreadable(e) => f.write_str(e),
            ReadFailure::TooLarge(limit) => write!(f, "larger than {} MiB", limit >> 20),
        }
    }
}

/// A text file read whole: at most `limit` bytes, one byte more read to tell (`/dev/zero` must
/// not fill the memory), UTF-8, a leading byte-order mark dropped (Windows tools write one).
pub fn read_bounded(path: &std::path::Path, limit: u64) -> Result<String, ReadFailure> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| ReadFailure::Unreadable(e.to_string());
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(ReadFailure::TooLarge(limit));
    }
    let text = String::from_utf8(bytes).map_err(|e| ReadFailure::Unreadable(format!("not UTF-8 text ({e})")))?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text))
}

/// A scenario (or case) file's text, at most [`budget::MAX_SCENARIO_BYTES`] ([`read_bounded`]).
pub fn read_text(path: &std::path::Path) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let limit = budget::MAX_SCENARIO_BYTES;
    read_bounded(path, limit).map_err(|f| match f {
        ReadFailure::Unreadable(e) => Diagnostic::new(&name, format!("cannot read the file: {e}"))
            .expected("a readable RON file")
            .hint("`nitrosim list` shows the bundled scenarios; they live in scenarios/"),
        ReadFailure::TooLarge(_) => Diagnostic::new(&name, format!("the file is larger than {limit} bytes"))
            .expected(format!("a scenario or case file of at most {} MiB", limit >> 20))
            .hint("scenarios are hand-written text; fleets (`count: N`) and sweeps describe large runs briefly"),
    })
}

/// Parse, override, expand variants and validate each. The errors name the file.
pub fn load(file: &str, src: &str, sets: &[String], seed: Option<u64>) -> Result<Vec<Variant>, Diagnostic> {
    let src = strip_bom(src);
    let spec = load_spec(file, src, sets, seed)?;
    expand_variants(file, src, spec)
}

/// Parse, apply the seed and `--set` overrides, and check the result. The spec returned keeps
/// its fleets (`count`) unexpanded, so variants and sweeps can still address a fleet by its name;
/// `expand_variants` expands them.
pub fn load_spec(file: &str, src: &str, sets: &[String], seed: Option<u64>) -> Result<ScenarioSpec, Diagnostic> {
    let src = strip_bom(src);
    let mut spec = parse(file, src)?;
    if let Some(s) = seed {
        spec.seed = s;
    }
    let base = (!sets.is_empty()).then(|| spec.clone());
    let mut spec = apply_sets(file, spec, sets)?;
    if let Err(d) = check(file, src, &spec) {
        // The file alone is valid: the override made it wrong, so blame the override, not the
        // line of the value it replaced.
        if let Some(base) = base
            && check(file, src, &base).is_ok()
        {
            return Err(d.blamed_on_sets(sets));
        }
        return Err(d);
    }
    check_flow_logs(file, &mut spec)?;
    Ok(spec)
}

/// Resolve each `FlowLogs` file next to the scenario file (else the working directory) and read
/// it once, streaming: a malformed record is an error at its file, line and field.
pub fn check_flow_logs(file: &str, spec: &mut ScenarioSpec) -> Result<(), Diagnostic> {
    let vpc = spec.vpc_cidr.clone();
    for w in &mut spec.workloads {
        let spec::WorkloadSpec::FlowLogs(f) = w else { continue };
        f.file = crate::workload::flowlogs::resolve(file, &f.file).to_string_lossy().into_owned();
        if let Err(e) = crate::workload::flowlogs::read_config(&lower::flow_logs(f), &vpc) {
            return Err(flow_log_diagnostic(&e, &format!("workload `{}`", f.name)));
        }
    }
    Ok(())
}

/// A flow log's located error as a diagnostic, prefixed by `what` (e.g. "workload `replay`").
/// The caret line is left out: the snippet would have to come from the log, which is streamed.
pub fn flow_log_diagnostic(e: &crate::workload::flowlogs::FlowLogError, what: &str) -> Diagnostic {
    let mut d = Diagnostic::new(&e.file, format!("{what}: {}", e.message))
        .expected(if e.field.is_empty() {
            "VPC Flow Log records".to_string()
        } else {
            format!("a valid `{}` field", e.field)
        })
        .hint(e.hint.clone());
    if e.line > 0 {
        d.line = e.line;
        d.col = 1;
        if !e.field.is_empty() {
            d.message = format!("{what}: field `{}`: {}", e.field, e.message);
        }
    }
    d
}

/// Validate a spec as it will run: fleets expanded.
pub fn check(file: &str, src: &str, spec: &ScenarioSpec) -> Result<(), Diagnostic> {
    validate::validate(file, src, &expand_fleets(file, src, spec.clone())?)
}

/// Instances with `count: N` become N instances named NAME-0 ... NAME-(N-1). Overrides (`--set`,
/// variants, sweeps) apply before, so `instances.h.count=64` and `instances.h.rack=3` address the
/// whole fleet.
pub fn expand_fleets(file: &str, src: &str, mut spec: ScenarioSpec) -> Result<ScenarioSpec, Diagnostic> {
    if spec.instances.iter().all(|i| i.count.is_none()) {
        return Ok(spec);
    }
    let mut out = Vec::new();
    for i in spec.instances.drain(..) {
        match i.count {
            None => out.push(i),
            Some(n) => {
                let max = validate::limits::MAX_INSTANCES as u32;
                if n == 0 || n > max {
                    let (l, c) = error::locate(src, "count", &n.to_string());
                    return Err(Diagnostic::new(file, format!("instance {:?}: count {n}", i.name))
                        .at(src, l, c)
                        .expected(format!("1 ..= {max}"))
                        .hint("a fleet of instances named NAME-0, NAME-1 ..."));
                }
                for k in 0..n {
                    out.push(spec::InstanceSpec { name: format!("{}-{k}", i.name), count: None, ..i.clone() });
                }
            }
        }
    }
    spec.instances = out;
    Ok(spec)
}

/// One checked spec per variant (the spec itself, named "base", when there are none), with its
/// fleets expanded.
pub fn expand_variants(file: &str, src: &str, spec: ScenarioSpec) -> Result<Vec<Variant>, Diagnostic> {
    if spec.variants.is_empty() {
        let spec = expand_fleets(file, src, spec)?;
        return Ok(vec![Variant { name: "base".into(), spec }]);
    }
    let mut out = Vec::with_capacity(spec.variants.len());
    for v in &spec.variants {
        let mut vs = spec.clone();
        for (path, value) in &v.set {
            vs = overrides::apply(&vs, path, value).map_err(|(msg, keys)| {
                let (l, c) = error::locate(src, &format!("\"{path}\""), "");
                Diagnostic::new(file, format!("variant `{}`: {msg}", v.name))
                    .at(src, l, c)
                    .expected(if keys.is_empty() { "a valid path".into() } else { format!("one of: {keys}") })
                    .hint("override paths are the same as --set paths")
            })?;
        }
        vs.variants.clear();
        let vs = expand_fleets(file, src, vs)?;
        validate::validate(file, src, &vs).map_err(|mut d| {
            d.message = format!("in variant `{}`: {}", v.name, d.message);
            d
        })?;
        out.push(Variant { name: v.name.clone(), spec: vs });
    }
    Ok(out)
}
