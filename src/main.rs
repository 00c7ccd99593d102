//! The command line: parsing and printing only. Exit codes: 0 success, 1 I/O or other failure,
//! 2 a mistake in the scenario or the arguments, 3 an internal invariant violated (a bug).

use clap::{Parser, Subcommand};
use nitrosim::scenario;
use std::path::PathBuf;
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
        /// (`report.capture`; every instance and gateway by default) into this folder (a folder
        /// inside --out becomes part of that output set; --out itself is refused).
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
        /// Refuse to start when the memory estimate exceeds this (default: half the machine's
        /// memory, or 4 GiB when it cannot be read).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
    /// Check a scenario without simulating: schema, references, limits, placement, flow limits.
    Check {
        /// Scenario file (RON).
        file: PathBuf,
        /// Override a field, as `run` would: --set duration=10ms (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// The memory budget `run` and `sweep` would use (default: half the machine's memory, or
        /// 4 GiB when it cannot be read).
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
        /// Scenario file (RON) with a `sweep` section.
        file: PathBuf,
        /// Output folder (default: output/<scenario name>-sweep/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs in parallel (default: all cores).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Skip runs already finished, in the output folder or by an interrupted sweep (without
        /// it, an interrupted sweep's finished runs are discarded and the sweep starts afresh).
        #[arg(long)]
        resume: bool,
        /// Run only runs K, K+N, K+2N, ... of the grid (0 <= K < N), e.g.
        /// --shard $SLURM_ARRAY_TASK_ID/16; `merge` combines the shards' folders.
        #[arg(long, value_name = "K/N")]
        shard: Option<nitrosim::sweep::Shard>,
        /// Override a field of the scenario (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Do not print the summary line or the progress bar.
        #[arg(long)]
        quiet: bool,
        /// Refuse to start when the memory estimate (per run x --jobs) exceeds this (default:
        /// half the machine's memory, or 4 GiB when it cannot be read).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
    /// Merge the output folders of a sharded sweep into one, as a single machine would write it.
    Merge {
        /// Output folder of the merged sweep.
        #[arg(long)]
        out: PathBuf,
        /// The shards' output folders (of one sweep definition: others are refused).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Write the merged result even when runs are missing (a shard absent or unfinished).
        #[arg(long)]
        allow_partial: bool,
    },
    /// Redraw a sweep folder's tables and plots from its run files.
    Plot {
        /// A sweep's output folder.
        dir: PathBuf,
    },
    /// Run the validation cases of --cases (long ones only with --long): the model against
    /// published figures and theory, one table; exit 0 when every case passes, 1 when one
    /// fails, 2 for an unreadable folder or case file or an --only that matches nothing.
    Validate {
        /// Output folder for validation.json and validation.md.
        #[arg(long, default_value = "output/validation")]
        out: PathBuf,
        /// Folder of the cases (scenario paths in them are relative to the current directory,
        /// the repository root, unless they start with ./, which are relative to this folder).
        #[arg(long, default_value = "validation")]
        cases: PathBuf,
        /// Also run the long cases.
        #[arg(long)]
        long: bool,
        /// Only the cases whose file name contains NAME (repeatable; a long case runs when NAME is
        /// its whole file name without .ron, or with --long).
        #[arg(long, value_name = "NAME")]
        only: Vec<String>,
        /// Do not print the table.
        #[arg(long)]
        quiet: bool,
    },
    /// Turn a description you already have into a scenario.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Measure the simulator: run each variant alone on one thread and print events/s,
    /// link crossings/s (one packet over one physical link; internal stage passes apart), events per
    /// crossing, wall and CPU seconds per simulated millisecond, the kernel's part of the CPU time
    /// and its page faults (mostly memory touched for the first time), and peak memory.
    Bench {
        /// Scenario file (RON).
        file: PathBuf,
        /// Override a field of the scenario (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Refuse to start when the memory estimate of the largest variant (they run one at a
        /// time) exceeds this (default: half the machine's memory, or 4 GiB when it cannot be read).
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
    /// Measure this machine's memory: nanoseconds per random dependent load over buffers of each
    /// size, so a benchmark's figures can be read against the machine they ran on (where the
    /// time steps up is the cache this process actually gets; on a shared VM it moves by the hour);
    /// then over one line in each 4 KiB page of the same buffer (what reaching a page costs apart
    /// from the cache: address translation); last at random lines each asked for ahead, as the
    /// simulator asks for what an event will touch (what a line costs when nothing waits for it).
    MemoryProbe {
        /// Buffer sizes in MiB, 1 to 4096 (repeatable; default 1 2 4 8 16 32 64 256).
        #[arg(long = "mib", value_name = "MIB")]
        sizes_mib: Vec<usize>,
        /// Loads per timing, 1 to 100 000 000 (best of three timings per size, after a warm-up
        /// lap of at most as many).
        #[arg(long, default_value_t = 500_000)]
        loads: usize,
        /// Chase buffers on small (4 KiB) pages only, not the huge pages the simulator's arrays
        /// get: run with and without, the difference in "a line per page" is what reaching a page
        /// the TLB does not hold costs (Linux; elsewhere the pages are whatever they are).
        #[arg(long)]
        small_pages: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A Terraform plan or state, as `terraform show -json` prints it, into a scenario.
    Terraform {
        /// The JSON `terraform show -json` printed.
        file: PathBuf,
        /// Write the scenario here (default: print it).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replay this VPC Flow Log as the workload: read now, from the current directory, and
        /// named in the scenario as given (a scenario looks for it next to itself first).
        #[arg(long, value_name = "FLOW_LOG")]
        flowlogs: Option<String>,
        /// Time compression of the flow log's replay (with --flowlogs; above 0).
        #[arg(long, default_value_t = 1.0)]
        speedup: f64,
        /// Add "ena" and "ena-express" variants.
        #[arg(long)]
        compare_ena_express: bool,
        /// Scenario name (default: the file's stem without .plan or .state, else "imported").
        #[arg(long)]
        name: Option<String>,
        /// Name of the instance standing for the internet (added when the VPC has an internet or
        /// NAT gateway).
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

mod cli;

use cli::{
    Failure, TypeFilter, cmd_bench, cmd_check, cmd_import_terraform, cmd_list, cmd_memory_probe, cmd_merge, cmd_run,
    cmd_sweep, cmd_validate,
};

fn main() -> ExitCode {
    // Before anything else runs or allocates much: huge pages for the simulation's memory.
    cli::restart_with_huge_pages();
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
        Command::Plot { dir } => nitrosim::sweep::replot(&dir).map_err(Failure::from).map(|(records, runs)| {
            // A missing or unreadable run file is left out of the tables; say so rather than
            // let the plot pass for the whole sweep.
            if records.len() < runs {
                eprintln!(
                    "warning: {} of the sweep's {runs} runs have no readable run file in {}; the tables and plots \
                     cover the other {}",
                    runs - records.len(),
                    dir.display(),
                    records.len()
                );
            }
        }),
        Command::Bench { file, sets, max_memory } => cmd_bench(file, sets, max_memory),
        Command::MemoryProbe { sizes_mib, loads, small_pages } => cmd_memory_probe(sizes_mib, loads, small_pages),
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
