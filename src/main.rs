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
    /// List the bundled scenarios and the instance-type catalog.
    List,
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
    /// Turn a description you already have into a scenario.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Measure the simulator: run each variant alone on one thread and print events/s,
    /// packet-hops/s, wall seconds per simulated millisecond and peak memory.
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

fn cmd_list() {
    outln!("Bundled scenarios (scenarios/):");
    for (file, text) in scenario::BUNDLED {
        let desc = scenario::parse(file, text).map(|s| s.description).unwrap_or_default();
        let default = if *file == scenario::DEFAULT_SCENARIO_NAME { " (default)" } else { "" };
        outln!("  {file}{default}\n      {}", desc.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    outln!("\nInstance types:");
    outln!(
        "  {:<16} {:>5} {:>12} {:>10} {:>5} {:>5} {:>7} {:>5} {:>4}",
        "type",
        "vCPU",
        "bandwidth",
        "baseline",
        "cards",
        "ENIs",
        "IPv4/ENI",
        "ENA-X",
        "EFA"
    );
    for t in CATALOG {
        let yn = |b: bool| if b { "yes" } else { "no" };
        outln!(
            "  {:<16} {:>5} {:>7.1} Gbps {:>5.3} Gbps {:>5} {:>5} {:>7} {:>5} {:>4}",
            t.name,
            t.vcpus,
            t.bandwidth_mbps as f64 / 1000.0,
            t.baseline_mbps as f64 / 1000.0,
            t.network_cards,
            t.max_enis,
            t.ipv4_per_eni,
            yn(t.ena_express),
            yn(t.efa)
        );
    }
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
        Command::Run { file, out, seed, sets, quiet, pcap } => cmd_run(file, out, seed, sets, quiet, pcap),
        Command::Check { file, sets } => cmd_check(file, sets),
        Command::List => {
            cmd_list();
            Ok(())
        }
        Command::Sweep { file, out, jobs, resume, shard, sets, quiet } => {
            cmd_sweep(file, out, jobs, resume, shard, sets, quiet)
        }
        Command::Merge { out, shards } => cmd_merge(out, shards),
        Command::Plot { dir } => nitrosim::sweep::replot(&dir).map(|_| ()).map_err(Failure::Other),
        Command::Bench { file, sets } => cmd_bench(file, sets),
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
