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
    },
    /// Check a scenario without simulating: schema, references, limits, placement, flow limits.
    Check {
        file: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
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
        #[arg(long)]
        jobs: Option<usize>,
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
    },
    /// Merge the output folders of a sharded sweep into one, as a single machine would write it.
    Merge {
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        shards: Vec<PathBuf>,
    },
    /// Redraw a sweep folder's tables and plots from its run files.
    Plot { dir: PathBuf },
    /// Measure the simulator: run each variant alone on one thread and print events/s,
    /// packet-hops/s, wall seconds per simulated millisecond and peak memory.
    Bench {
        file: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
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

enum Failure {
    Scenario(Box<Diagnostic>),
    Invariant(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

fn read_scenario(file: Option<&Path>) -> Result<(String, String), Failure> {
    match file {
        None => Ok((format!("<embedded {}>", scenario::DEFAULT_SCENARIO_NAME), scenario::DEFAULT_SCENARIO.to_string())),
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| {
                Failure::Scenario(Box::new(
                    Diagnostic::new(&name, format!("cannot read the scenario file: {e}"))
                        .expected("a readable RON scenario file")
                        .hint("`nitrosim list` shows the bundled scenarios; they live in scenarios/"),
                ))
            })?;
            Ok((name, text))
        }
    }
}

fn safe_dir_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

fn cmd_run(
    file: Option<PathBuf>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    sets: Vec<String>,
    quiet: bool,
    pcap: Option<PathBuf>,
) -> Result<(), Failure> {
    let (name, text) = read_scenario(file.as_deref())?;
    let variants = scenario::load(&name, &text, &sets, seed).map_err(|d| Failure::Scenario(Box::new(d)))?;
    let spec = &variants[0].spec;
    let total_us: u64 = variants.iter().map(|v| v.spec.duration.ps() / 1_000_000).sum();
    let progress = Progress::new(total_us, !quiet);
    let results = nitrosim::run::run_variants_with(&variants, &progress, pcap.is_some()).map_err(Failure::Invariant)?;
    progress.finish();
    let summary = Summary::new(&spec.name, spec.seed, results);
    let dir = out.unwrap_or_else(|| Path::new("output").join(safe_dir_name(&spec.name)));
    let mut written = report::write_all(&dir, &summary)?;
    if let Some(p) = &pcap {
        written.extend(report::write_pcaps(p, &summary)?);
    }
    if !quiet {
        out!("{}", table::render(&summary));
        let hops: u64 = summary.variants.iter().map(|v| v.packet_hops).sum();
        let events: u64 = summary.variants.iter().map(|v| v.events_processed).sum();
        let secs = progress.wall_seconds().max(1e-9);
        outln!(
            "\n{} events, {} packet-hops in {:.2} s wall ({:.2} M events/s, {:.2} M packet-hops/s)",
            events,
            hops,
            secs,
            events as f64 / secs / 1e6,
            hops as f64 / secs / 1e6
        );
        outln!("wrote {} files to {}", written.len(), dir.display());
    }
    Ok(())
}

fn cmd_check(file: PathBuf, sets: Vec<String>) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let variants = scenario::load(&name, &text, &sets, None).map_err(|d| Failure::Scenario(Box::new(d)))?;
    outln!("{name}: OK ({} variant{})", variants.len(), if variants.len() == 1 { "" } else { "s" });
    for v in &variants {
        outln!("{}", nitrosim::scenario::validate::describe(&v.name, &v.spec));
    }
    Ok(())
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

fn cmd_sweep(
    file: PathBuf,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    resume: bool,
    shard: Option<nitrosim::sweep::Shard>,
    sets: Vec<String>,
    quiet: bool,
) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let (spec, grid) = nitrosim::sweep::prepare(&name, &text, &sets).map_err(|d| Failure::Scenario(Box::new(d)))?;
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", safe_dir_name(&spec.name))));
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let opts = nitrosim::sweep::SweepOptions { jobs, resume, shard, quiet };
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

fn cmd_merge(out: PathBuf, shards: Vec<PathBuf>) -> Result<(), Failure> {
    let (spec, grid) = nitrosim::sweep::definition_of(&shards[0])?;
    let records = nitrosim::sweep::merge(&grid, &spec, &shards, &out)?;
    outln!("merged {} of {} runs into {}", records.len(), grid.runs.len(), out.display());
    Ok(())
}

fn cmd_bench(file: PathBuf, sets: Vec<String>) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let variants = scenario::load(&name, &text, &sets, None).map_err(|d| Failure::Scenario(Box::new(d)))?;
    outln!(
        "{:<20} {:>12} {:>12} {:>14} {:>16} {:>16}",
        "variant",
        "events",
        "packet-hops",
        "events/s",
        "packet-hops/s",
        "wall s / sim ms"
    );
    for v in &variants {
        let model = nitrosim::model::build::build(&v.name, &v.spec).map_err(Failure::Invariant)?;
        let clock = nitrosim::progress::Stopwatch::start();
        let r = model.run(&mut |_| {}).map_err(Failure::Invariant)?;
        let secs = clock.seconds().max(1e-9);
        outln!(
            "{:<20} {:>12} {:>12} {:>12.2} M {:>14.2} M {:>16.3}",
            v.name,
            r.events_processed,
            r.packet_hops,
            r.events_processed as f64 / secs / 1e6,
            r.packet_hops as f64 / secs / 1e6,
            secs / (r.simulated_us / 1000.0).max(1e-9)
        );
    }
    match nitrosim::progress::peak_rss_kib() {
        Some(k) => outln!("peak RSS {:.1} MiB", k as f64 / 1024.0),
        None => outln!("peak RSS unknown on this platform"),
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
        Command::Run { file, out, seed, sets, quiet, pcap } => cmd_run(file, out, seed, sets, quiet, pcap),
        Command::Check { file, sets } => cmd_check(file, sets),
        Command::List { types, family, min_gbps, efa, ena_express } => {
            let filter = TypeFilter { family, min_gbps, efa, ena_express };
            cmd_list(types || filter.any(), &filter)
        }
        Command::Sweep { file, out, jobs, resume, shard, sets, quiet } => {
            cmd_sweep(file, out, jobs, resume, shard, sets, quiet)
        }
        Command::Merge { out, shards } => cmd_merge(out, shards),
        Command::Plot { dir } => nitrosim::sweep::replot(&dir).map(|_| ()).map_err(Failure::Other),
        Command::Bench { file, sets } => cmd_bench(file, sets),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Scenario(d)) => {
            eprint!("{d}");
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
