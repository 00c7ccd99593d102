//! The command line: parsing and printing only. Exit codes: 0 success, 1 I/O or other failure,
//! 2 a mistake in the scenario or the arguments, 3 an internal invariant violated (a bug).

use clap::{Parser, Subcommand};
use nitrosim::ec2::CATALOG;
use nitrosim::progress::Progress;
use nitrosim::report::{self, summary::Summary, table};
use nitrosim::scenario::{self, Diagnostic};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "nitrosim", version, about = "Packet-level simulator of the AWS EC2 data plane")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (the embedded default when no file is given) and write its results.
    Run {
        /// Scenario file (RON). Without it, the embedded default scenario runs.
        file: Option<PathBuf>,
        /// Output folder (default: output/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a field: --set tcp.congestion=NewReno (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Do not print the table or the progress bar.
        #[arg(long)]
        quiet: bool,
        /// Also write pcap files of the packets seen at the scenario's capture points
        /// (`report.capture`; every instance and gateway by default) into this folder.
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
        /// Refuse to start when the memory estimate exceeds this (default: half the machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
    /// Check a scenario without simulating: schema, references, limits, placement, flow limits.
    Check {
        file: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// The memory budget `run` and `sweep` would use (default: half the machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
    /// List the bundled scenarios and the instance-type catalog (filters list types only).
    List {
        /// Only the instance-type catalog.
        #[arg(long)]
        types: bool,
        /// Only this family (`c7gn`) or families starting with it (`c7` lists c7a, c7g, c7gn ...).
        #[arg(long, value_name = "FAMILY")]
        family: Option<String>,
        /// Only types with at least this much bandwidth (burst figure), in Gbps.
        #[arg(long, value_name = "GBPS")]
        min_gbps: Option<f64>,
        /// Only types that support EFA.
        #[arg(long)]
        efa: bool,
        /// Only types that support ENA Express.
        #[arg(long)]
        ena_express: bool,
    },
    /// Run a scenario's parameter sweep (grid x seeds) in parallel; resumable and shardable.
    Sweep {
        file: PathBuf,
        /// Output folder (default: output/<scenario name>-sweep/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs in parallel (default: all cores).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Skip runs already finished in the output folder.
        #[arg(long)]
        resume: bool,
        /// Run only slice K of N (0-based), e.g. --shard $SLURM_ARRAY_TASK_ID/16.
        #[arg(long, value_name = "K/N")]
        shard: Option<nitrosim::sweep::Shard>,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        #[arg(long)]
        quiet: bool,
        /// Refuse to start when the memory estimate (per run x --jobs) exceeds this.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
    /// Merge the output folders of a sharded sweep into one, as a single machine would write it.
    Merge {
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Write the merged result even when runs are missing (a shard absent or unfinished).
        #[arg(long)]
        allow_partial: bool,
    },
    /// Redraw a sweep folder's tables and plots from its run files.
    Plot { dir: PathBuf },
    /// Run every validation case (validation/*.ron): the model against published figures and
    /// theory, one table; exit 0 only when every case passes, 1 otherwise.
    Validate {
        /// Output folder for validation.json and validation.md.
        #[arg(long, default_value = "output/validation")]
        out: PathBuf,
        /// Folder of the cases (paths in them are relative to the current directory, the
        /// repository root, unless they start with ./).
        #[arg(long, default_value = "validation")]
        cases: PathBuf,
        /// Also run the long cases.
        #[arg(long)]
        long: bool,
        /// Only the cases whose file name contains NAME (repeatable; naming a long case runs it).
        #[arg(long, value_name = "NAME")]
        only: Vec<String>,
        #[arg(long)]
        quiet: bool,
    },
    /// Turn a description you already have into a scenario.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Measure the simulator: run each variant alone on one thread and print events/s,
    /// link crossings/s (one packet over one physical link; internal stage passes apart), events per
    /// crossing, wall seconds per simulated millisecond and peak memory.
    Bench {
        file: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A Terraform plan or state, as `terraform show -json` prints it, into a scenario.
    Terraform {
        file: PathBuf,
        /// Write the scenario here (default: print it).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replay this VPC Flow Log as the workload (path as the scenario will name it).
        #[arg(long, value_name = "FLOW_LOG")]
        flowlogs: Option<String>,
        /// Time compression of the flow log's replay.
        #[arg(long, default_value_t = 1.0)]
        speedup: f64,
        /// Add "ena" and "ena-express" variants.
        #[arg(long)]
        compare_ena_express: bool,
        /// Scenario name (default: the file's stem).
        #[arg(long)]
        name: Option<String>,
        /// Name of the instance standing for the internet.
        #[arg(long, default_value = "internet")]
        internet: String,
    },
}

/// Print to stdout; a closed pipe (`nitrosim list | head`) ends the program quietly instead of
/// panicking as `println!` would.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}
macro_rules! outln {
    ($($arg:tt)*) => {{
        out!($($arg)*);
        out!("\n");
    }};
}

fn parse_size(s: &str) -> Result<u64, String> {
    scenario::budget::parse_bytes(s)
}

enum Failure {
    Scenario(Box<Diagnostic>),
    /// A mistake in the arguments or a refusal the user can act on (a busy or foreign output
    /// folder, an incomplete merge): exit 2.
    Usage(String),
    Invariant(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        use nitrosim::output_set::OutputError;
        if let Some(OutputError::Busy { .. } | OutputError::NotOurs { .. }) = e.downcast_ref::<OutputError>() {
            return Failure::Usage(e.to_string());
        }
        if e.downcast_ref::<nitrosim::sweep::MergeIncomplete>().is_some() {
            return Failure::Usage(e.to_string());
        }
        Failure::Other(e)
    }
}

impl From<nitrosim::output_set::OutputError> for Failure {
    fn from(e: nitrosim::output_set::OutputError) -> Self {
        anyhow::Error::new(e).into()
    }
}

fn read_scenario(file: Option<&Path>) -> Result<(String, String), Failure> {
    match file {
        None => Ok((format!("<embedded {}>", scenario::DEFAULT_SCENARIO_NAME), scenario::DEFAULT_SCENARIO.to_string())),
        Some(p) => {
            use std::io::Read;
            let name = p.display().to_string();
            let unreadable = |e: String| {
                Failure::Scenario(Box::new(
                    Diagnostic::new(&name, format!("cannot read the scenario file: {e}"))
                        .expected("a readable RON scenario file")
                        .hint("`nitrosim list` shows the bundled scenarios; they live in scenarios/"),
                ))
            };
            // Read at most one byte past the limit: `check /dev/zero` must not fill the memory.
            let limit = scenario::budget::MAX_SCENARIO_BYTES;
            let file = std::fs::File::open(p).map_err(|e| unreadable(e.to_string()))?;
            let mut bytes = Vec::new();
            file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| unreadable(e.to_string()))?;
            if bytes.len() as u64 > limit {
                return Err(Failure::Scenario(Box::new(
                    Diagnostic::new(&name, format!("the scenario file is larger than {} bytes", limit))
                        .expected(format!("a scenario file of at most {} MiB", limit >> 20))
                        .hint("scenarios are hand-written text; fleets (`count: N`) and sweeps describe large runs briefly"),
                )));
            }
            let text = String::from_utf8(bytes).map_err(|e| unreadable(format!("not UTF-8 text ({e})")))?;
            let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
            Ok((name, text))
        }
    }
}

/// A scenario name as one folder name: never empty, never `.` or `..`, never hidden.
fn safe_dir_name(s: &str) -> String {
    let name: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let trimmed = name.trim_start_matches('.');
    let name = format!("{}{trimmed}", "_".repeat(name.len() - trimmed.len()));
    if name.is_empty() { "_".into() } else { name }
}

fn budget(max_memory: Option<u64>) -> u64 {
    max_memory.unwrap_or_else(scenario::budget::default_budget)
}

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Refuse a run whose memory estimate exceeds the budget; returns the estimate.
fn check_memory(
    name: &str,
    variants: &[scenario::Variant],
    capture: bool,
    max_memory: Option<u64>,
) -> Result<u64, Failure> {
    let specs: Vec<&scenario::ScenarioSpec> = variants.iter().map(|v| &v.spec).collect();
    let (total, biggest) = scenario::budget::estimate_run(&specs, capture, threads().min(specs.len()));
    scenario::budget::check(name, total, &biggest, budget(max_memory)).map_err(|d| Failure::Scenario(Box::new(d)))?;
    Ok(total)
}

/// Warn when a variant overrides a path also given with `--set`: the variant's value wins.
fn warn_variant_overrides(file: &str, text: &str, sets: &[String]) {
    let Ok(spec) = scenario::parse(file, text) else { return };
    for s in sets {
        let path = s.split_once('=').map(|(p, _)| p.trim()).unwrap_or(s);
        for v in spec.variants.iter().filter(|v| v.set.iter().any(|(p, _)| p == path)) {
            eprintln!(
                "warning: variant `{}` sets `{path}` itself; in that variant its value replaces `--set {s}`",
                v.name
            );
        }
    }
}

fn run_manifest(
    command: &'static str,
    spec: &scenario::ScenarioSpec,
    file: &str,
    text: &str,
    sets: &[String],
) -> nitrosim::output_set::Manifest {
    nitrosim::output_set::Manifest {
        command,
        scenario: spec.name.clone(),
        scenario_file: file.to_string(),
        scenario_hash: nitrosim::output_set::scenario_hash(text, sets, spec.seed),
        seed: spec.seed,
        sets: sets.to_vec(),
    }
}

fn cmd_run(
    file: Option<PathBuf>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    sets: Vec<String>,
    quiet: bool,
    pcap: Option<PathBuf>,
    max_memory: Option<u64>,
) -> Result<(), Failure> {
    use nitrosim::output_set::{self, OutputSet};
    let (name, text) = read_scenario(file.as_deref())?;
    let variants = scenario::load(&name, &text, &sets, seed).map_err(|d| Failure::Scenario(Box::new(d)))?;
    warn_variant_overrides(&name, &text, &sets);
    check_memory(&name, &variants, pcap.is_some(), max_memory)?;
    let spec = &variants[0].spec;
    // The output folders are checked and locked before simulating: a typo must not cost a run.
    let dir = out.unwrap_or_else(|| Path::new("output").join(safe_dir_name(&spec.name)));
    let (abs, lock) = output_set::prepare(&dir)?;
    // A pcap folder inside the output folder is part of its set; elsewhere it is a set of its own.
    let pcap_inside = pcap.as_ref().and_then(|p| {
        let p = std::path::absolute(p).ok()?;
        p.strip_prefix(&abs).ok().map(Path::to_path_buf).filter(|r| !r.as_os_str().is_empty())
    });
    if pcap.as_ref().and_then(|p| std::path::absolute(p).ok()).is_some_and(|p| p.components().eq(abs.components())) {
        return Err(Failure::Usage(
            "--pcap names the --out folder itself; use a folder inside it, e.g. --pcap OUT/pcap".into(),
        ));
    }
    let pcap_set = match (&pcap, &pcap_inside) {
        (Some(p), None) => Some(output_set::prepare(p).map(|(a, l)| (p.clone(), a, l))?),
        _ => None,
    };
    let total_us: u64 = variants.iter().map(|v| v.spec.duration.ps() / 1_000_000).sum();
    let progress = Progress::new(total_us, !quiet);
    let results = nitrosim::run::run_variants_with(&variants, &progress, pcap.is_some()).map_err(Failure::Invariant)?;
    progress.finish();
    let summary = Summary::new(&spec.name, spec.seed, results)
        .with_context(report::ReportContext::new(&name, &text, &sets, &variants));
    let manifest = run_manifest("run", spec, &name, &text, &sets);
    let mut omitted = 0;
    if let Some((shown, abs, lock)) = pcap_set {
        let mut set = OutputSet::begin_locked(&shown, abs, lock)?;
        omitted = report::write_pcaps(&mut set, Path::new(""), &summary)?;
        set.commit(&manifest, serde_json::Value::Null)?;
    }
    let mut set = OutputSet::begin_locked(&dir, abs, lock)?;
    report::write_all(&mut set, &summary)?;
    if let Some(rel) = &pcap_inside {
        omitted = report::write_pcaps(&mut set, rel, &summary)?;
    }
    let written = set.commit(&manifest, serde_json::Value::Null)?;
    if omitted > 0 {
        eprintln!(
            "warning: {omitted} packet(s) not written to the pcap files: each capture point keeps at most {} \
             (`capture.omitted` in summary.json); raise report.capture_limit, narrow report.capture or shorten \
             the run",
            variants[0].spec.report.capture_limit
        );
    }
    if !quiet {
        out!("{}", table::render(&summary));
        let crossings: u64 = summary.variants.iter().map(|v| v.link_crossings).sum();
        let stages: u64 = summary.variants.iter().map(|v| v.stage_passes).sum();
        let events: u64 = summary.variants.iter().map(|v| v.events_processed).sum();
        let secs = progress.wall_seconds().max(1e-9);
        outln!(
            "\n{} events, {} link crossings ({:.2} events per crossing), {} internal stage passes in {:.2} s wall \
             ({:.2} M events/s, {:.2} M link crossings/s; variants run in parallel)",
            events,
            crossings,
            events as f64 / crossings.max(1) as f64,
            stages,
            secs,
            events as f64 / secs / 1e6,
            crossings as f64 / secs / 1e6
        );
        outln!("wrote {} files to {}", written.len(), dir.display());
        outln!("report: {}", dir.join("report.html").display());
    }
    Ok(())
}

fn cmd_check(file: PathBuf, sets: Vec<String>, max_memory: Option<u64>) -> Result<(), Failure> {
    use scenario::budget::human;
    let (name, text) = read_scenario(Some(&file))?;
    let variants = scenario::load(&name, &text, &sets, None).map_err(|d| Failure::Scenario(Box::new(d)))?;
    // What `sweep` would refuse: the grid's size, every value, the plot metrics.
    let sweep = match variants[0].spec.sweep.is_some() || scenario::parse(&name, &text).is_ok_and(|s| s.sweep.is_some())
    {
        true => Some(nitrosim::sweep::prepare(&name, &text, &sets).map_err(|d| Failure::Scenario(Box::new(d)))?),
        false => None,
    };
    let run_bytes = check_memory(&name, &variants, false, max_memory)?;
    let specs: Vec<&scenario::ScenarioSpec> = variants.iter().map(|v| &v.spec).collect();
    let (pcap_bytes, _) = scenario::budget::estimate_run(&specs, true, threads().min(specs.len()));
    outln!("{name}: OK ({} variant{})", variants.len(), if variants.len() == 1 { "" } else { "s" });
    outln!(
        "memory estimate: {} for `run` ({} with --pcap), budget {} (--max-memory)",
        human(run_bytes),
        human(pcap_bytes),
        human(budget(max_memory))
    );
    if pcap_bytes > budget(max_memory) {
        outln!(
            "  warning: `run --pcap` would be refused: lower report.capture_limit or list fewer report.capture points"
        );
    }
    if let Some((spec, grid)) = &sweep {
        let per_run = sweep_run_memory(&name, &text, spec, grid)?;
        let jobs = threads();
        let total = per_run.0.saturating_mul(jobs as u64);
        scenario::budget::check(&name, total, &per_run.1, budget(max_memory))
            .map_err(|d| Failure::Scenario(Box::new(d)))?;
        outln!(
            "sweep {}: {} points x {} seeds = {} runs; memory estimate {} per run, {} with {jobs} jobs",
            grid.hash,
            grid.points,
            grid.seeds,
            grid.runs.len(),
            human(per_run.0),
            human(total)
        );
    }
    for v in &variants {
        outln!("{}", nitrosim::scenario::validate::describe(&v.name, &v.spec));
    }
    Ok(())
}

/// The largest memory estimate of one sweep run (its variants run one after another), over the
/// grid's first and last points (all of them when there are few).
fn sweep_run_memory(
    name: &str,
    text: &str,
    spec: &scenario::ScenarioSpec,
    grid: &nitrosim::sweep::Grid,
) -> Result<(u64, scenario::budget::Estimate), Failure> {
    let seeds = grid.seeds.max(1) as usize;
    let points: Vec<usize> = if grid.points <= 256 { (0..grid.points).collect() } else { vec![0, grid.points - 1] };
    let mut worst = (0, scenario::budget::Estimate::default());
    for p in points {
        let point_spec = grid.spec_for(spec, &grid.runs[p * seeds]).map_err(|d| Failure::Scenario(Box::new(d)))?;
        let variants = scenario::expand_variants(name, text, point_spec).map_err(|d| Failure::Scenario(Box::new(d)))?;
        for v in &variants {
            let e = scenario::budget::estimate(&v.spec, false);
            if e.total() > worst.0 {
                worst = (e.total(), e);
            }
        }
    }
    Ok(worst)
}

/// `nitrosim list` filters on the instance-type catalog.
struct TypeFilter {
    family: Option<String>,
    min_gbps: Option<f64>,
    efa: bool,
    ena_express: bool,
}

impl TypeFilter {
    fn any(&self) -> bool {
        self.family.is_some() || self.min_gbps.is_some() || self.efa || self.ena_express
    }
    fn keeps(&self, t: &nitrosim::ec2::InstanceType) -> bool {
        self.family.as_deref().is_none_or(|f| t.family().starts_with(f))
            && self.min_gbps.is_none_or(|g| t.bandwidth_mbps as f64 >= g * 1000.0)
            && (!self.efa || t.efa)
            && (!self.ena_express || t.ena_express)
    }
}

fn cmd_list(types_only: bool, filter: &TypeFilter) -> Result<(), Failure> {
    if let Some(g) = filter.min_gbps
        && !(g.is_finite() && g >= 0.0)
    {
        return Err(Failure::Other(anyhow::anyhow!("--min-gbps {g}: expected a number of Gbps, 0 or more")));
    }
    if !types_only {
        outln!("Bundled scenarios (scenarios/):");
        for (file, text) in scenario::BUNDLED {
            let desc = scenario::parse(file, text).map(|s| s.description).unwrap_or_default();
            let default = if *file == scenario::DEFAULT_SCENARIO_NAME { " (default)" } else { "" };
            outln!("  {file}{default}\n      {}", desc.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        outln!("");
    }
    let picked: Vec<&nitrosim::ec2::InstanceType> = CATALOG.iter().filter(|t| filter.keeps(t)).collect();
    if picked.is_empty() {
        return Err(Failure::Other(anyhow::anyhow!(
            "no instance type matches these filters (see `nitrosim list --types`)"
        )));
    }
    // Mbit/s as Gbps without trailing zeros: 12500 -> "12.5", 64 -> "0.064".
    let gbps = |m: u64| format!("{:.3}", m as f64 / 1000.0).trim_end_matches('0').trim_end_matches('.').to_string();
    let yn = |b: bool| if b { "yes" } else { "no" };
    let head = ["type", "vCPU", "Gbps", "baseline", "cards", "ENIs", "IPv4/ENI", "queues", "ENA-X", "EFA"];
    let rows: Vec<[String; 10]> = picked
        .iter()
        .map(|t| {
            [
                t.name.to_string(),
                t.vcpus.to_string(),
                gbps(t.bandwidth_mbps),
                gbps(t.baseline_mbps),
                t.network_cards.to_string(),
                t.max_enis.to_string(),
                t.ipv4_per_eni.to_string(),
                t.ena_queues.to_string(),
                yn(t.ena_express).to_string(),
                yn(t.efa).to_string(),
            ]
        })
        .collect();
    // Each column as wide as its widest cell, so the table stays aligned whatever the values.
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::from("  ");
        for (k, (c, w)) in cells.iter().zip(width).enumerate() {
            if k == 0 { s += &format!("{c:<w$}") } else { s += &format!("  {c:>w$}") }
        }
        s
    };
    outln!("Instance types ({} of {}; source: src/ec2/catalog/instance_types.csv):", rows.len(), CATALOG.len());
    outln!("{}", line(&head));
    for r in &rows {
        outln!("{}", line(&r.each_ref().map(String::as_str)));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one per command-line option
fn cmd_sweep(
    file: PathBuf,
    out: Option<PathBuf>,
    jobs: Option<u16>,
    resume: bool,
    shard: Option<nitrosim::sweep::Shard>,
    sets: Vec<String>,
    quiet: bool,
    max_memory: Option<u64>,
) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let (spec, grid) = nitrosim::sweep::prepare(&name, &text, &sets).map_err(|d| Failure::Scenario(Box::new(d)))?;
    warn_variant_overrides(&name, &text, &sets);
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", safe_dir_name(&spec.name))));
    let jobs = jobs.map(usize::from).unwrap_or_else(threads);
    let per_run = sweep_run_memory(&name, &text, &spec, &grid)?;
    scenario::budget::check(&name, per_run.0.saturating_mul(jobs as u64), &per_run.1, budget(max_memory))
        .map_err(|d| Failure::Scenario(Box::new(d)))?;
    let opts = nitrosim::sweep::SweepOptions { jobs, resume, shard, quiet, sets: sets.clone() };
    let clock = nitrosim::progress::Stopwatch::start();
    let records = nitrosim::sweep::execute(&name, &text, &spec, &grid, &dir, &opts)?;
    if !quiet {
        outln!(
            "sweep {}: {} points x {} seeds = {} runs{}; {} finished in {}; {:.1} s wall, {} jobs",
            grid.hash,
            grid.points,
            grid.seeds,
            grid.runs.len(),
            shard.map(|s| format!(" (shard {}/{})", s.index, s.count)).unwrap_or_default(),
            records.len(),
            dir.display(),
            clock.seconds(),
            jobs
        );
    }
    Ok(())
}

fn cmd_merge(out: PathBuf, shards: Vec<PathBuf>, allow_partial: bool) -> Result<(), Failure> {
    let (spec, grid) = nitrosim::sweep::definition_of(&shards[0])?;
    let records = nitrosim::sweep::merge(&grid, &spec, &shards, &out, allow_partial)?;
    outln!("merged {} of {} runs into {}", records.len(), grid.runs.len(), out.display());
    Ok(())
}

/// Ok(true) when every case passed.
fn cmd_validate(out: PathBuf, cases: PathBuf, long: bool, only: Vec<String>, quiet: bool) -> Result<bool, Failure> {
    use nitrosim::validate;
    let all = validate::load_cases(&cases).map_err(|d| Failure::Scenario(Box::new(d)))?;
    let opts = validate::Options { long, only };
    let chosen = validate::select(&all, &opts);
    if chosen.is_empty() {
        return Err(Failure::Scenario(Box::new(
            Diagnostic::new(&cases.display().to_string(), format!("no case matches --only {}", opts.only.join(", ")))
                .hint("case names are the file names in the validation folder, without .ron"),
        )));
    }
    let clock = nitrosim::progress::Stopwatch::start();
    let progress = Progress::new(0, false);
    let report = validate::run(Path::new("."), &cases, &chosen, &progress);
    let written = validate::write(&out, &report).map_err(|e| Failure::Other(e.into()))?;
    if !quiet {
        out!("{}", validate::markdown(&report));
        outln!(
            "{:.1} s wall; wrote {}",
            clock.seconds(),
            written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(report.all_passed())
}

fn cmd_bench(file: PathBuf, sets: Vec<String>) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let variants = scenario::load(&name, &text, &sets, None).map_err(|d| Failure::Scenario(Box::new(d)))?;
    // A link crossing is one packet over one physical link (NIC <-> ToR, ToR <-> spine); internal
    // stages (vCPUs, shapers, card and SRD processing, gateways) are counted apart as stage passes.
    outln!(
        "{:<20} {:>12} {:>14} {:>10} {:>14} {:>12} {:>18} {:>16}",
        "variant",
        "events",
        "link crossings",
        "ev/cross",
        "stage passes",
        "events/s",
        "link crossings/s",
        "wall s / sim ms"
    );
    for v in &variants {
        let model = nitrosim::scenario::build::build(&v.name, &v.spec).map_err(Failure::Invariant)?;
        let clock = nitrosim::progress::Stopwatch::start();
        let r = model.run(&mut |_| {}).map_err(Failure::Invariant)?;
        let secs = clock.seconds().max(1e-9);
        outln!(
            "{:<20} {:>12} {:>14} {:>10.2} {:>14} {:>10.2} M {:>16.2} M {:>16.3}",
            v.name,
            r.events_processed,
            r.link_crossings,
            r.events_processed as f64 / r.link_crossings.max(1) as f64,
            r.stage_passes,
            r.events_processed as f64 / secs / 1e6,
            r.link_crossings as f64 / secs / 1e6,
            secs / (r.simulated_us / 1000.0).max(1e-9)
        );
    }
    match nitrosim::progress::peak_rss_kib() {
        Some(k) => outln!("peak RSS {:.1} MiB", k as f64 / 1024.0),
        None => outln!("peak RSS unknown on this platform"),
    }
    Ok(())
}

fn cmd_import_terraform(
    file: PathBuf,
    out: Option<PathBuf>,
    flowlogs: Option<String>,
    speedup: f64,
    compare_ena_express: bool,
    name: Option<String>,
    internet: String,
) -> Result<(), Failure> {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Failure::Scenario(Box::new(
            Diagnostic::new(&shown, format!("cannot read the Terraform JSON: {e}"))
                .expected("a file written by `terraform show -json PLAN_OR_STATE > plan.json`"),
        ))
    })?;
    if !(speedup.is_finite() && speedup > 0.0) {
        return Err(Failure::Scenario(Box::new(
            Diagnostic::new("--speedup", format!("--speedup {speedup}")).expected("a number above 0"),
        )));
    }
    let stem = file.file_stem().map(|s| s.to_string_lossy().replace(".plan", "").replace(".state", ""));
    let options = nitrosim::import::terraform::ImportOptions {
        flowlogs,
        flowlogs_path: None,
        speedup,
        compare_ena_express,
        internet,
        name: name.or(stem).unwrap_or_else(|| "imported".into()),
    };
    let imported = nitrosim::import::terraform::import(&shown, &text, &options)
        .map_err(|e| Failure::Scenario(Box::new(e.to_diagnostic(&text))))?;
    // The scenario must load and check like any other before it is written.
    let target = out.as_ref().map_or("<generated>".to_string(), |p| p.display().to_string());
    scenario::load(&target, &imported.text, &[], None).map_err(|mut d| {
        // Nothing is written: the plan describes something nitrosim cannot run as it stands.
        d.message = format!("the scenario imported from {shown} does not check: {}", d.message);
        d.hint = format!("{} (print it without --out to see and edit it)", d.hint);
        Failure::Scenario(Box::new(d))
    })?;
    match out {
        Some(p) => {
            let tmp = p.with_extension("ron.tmp");
            std::fs::write(&tmp, &imported.text)
                .and_then(|_| std::fs::rename(&tmp, &p))
                .map_err(|e| Failure::Other(anyhow::anyhow!("cannot write {}: {e}", p.display())))?;
            eprintln!(
                "imported {} resources ({} ignored, listed at the top), {} instances -> {}",
                imported.resources,
                imported.ignored,
                imported.instances,
                p.display()
            );
        }
        None => out!("{}", imported.text),
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run { file, out, seed, sets, quiet, pcap, max_memory } => {
            cmd_run(file, out, seed, sets, quiet, pcap, max_memory)
        }
        Command::Check { file, sets, max_memory } => cmd_check(file, sets, max_memory),
        Command::List { types, family, min_gbps, efa, ena_express } => {
            let filter = TypeFilter { family, min_gbps, efa, ena_express };
            cmd_list(types || filter.any(), &filter)
        }
        Command::Sweep { file, out, jobs, resume, shard, sets, quiet, max_memory } => {
            cmd_sweep(file, out, jobs, resume, shard, sets, quiet, max_memory)
        }
        Command::Merge { out, shards, allow_partial } => cmd_merge(out, shards, allow_partial),
        Command::Plot { dir } => nitrosim::sweep::replot(&dir).map(|_| ()).map_err(Failure::from),
        Command::Bench { file, sets } => cmd_bench(file, sets),
        Command::Validate { out, cases, long, only, quiet } => match cmd_validate(out, cases, long, only, quiet) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Import(ImportCommand::Terraform {
            file,
            out,
            flowlogs,
            speedup,
            compare_ena_express,
            name,
            internet,
        }) => cmd_import_terraform(file, out, flowlogs, speedup, compare_ena_express, name, internet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Scenario(d)) => {
            eprint!("{d}");
            ExitCode::from(2)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Invariant(msg)) => {
            eprintln!("internal error (a bug in nitrosim, please report it): {msg}");
            ExitCode::from(3)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
