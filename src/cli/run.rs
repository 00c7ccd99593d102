//! `nitrosim run`, `check` and `bench`: one scenario, simulated, checked or timed; and
//! `memory-probe`, the machine the timing ran on.

use super::sweep::sweep_run_memory;
use super::*;
use nitrosim::model::results::events_per_crossing_text;

pub(crate) fn cmd_run(
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
    warn_variant_overrides(&name, &text, &sets, &running_names(&variants));
    check_memory(&name, &variants, pcap.is_some(), threads(), max_memory)?;
    let spec = &variants[0].spec;
    // The output folders are checked and locked before simulating: a typo must not cost a run.
    let dir = out.unwrap_or_else(|| Path::new("output").join(safe_dir_name(&spec.name)));
    // How the two folders lie, refused before either is prepared (which creates their parents
    // and locks): nothing is left behind by a refusal.
    let pcap_abs = pcap.as_ref().and_then(|p| output_set::absolute_lexical(p).ok());
    if let (Some(p), Ok(o)) = (&pcap_abs, output_set::absolute_lexical(&dir)) {
        if p.components().eq(o.components()) {
            return Err(Failure::Usage(
                "--pcap names the --out folder itself; use a folder inside it, e.g. --pcap OUT/pcap".into(),
            ));
        }
        if o.starts_with(p) {
            return Err(Failure::Usage(format!(
                "--pcap {} holds the --out folder {}; use a folder inside --out (e.g. --pcap OUT/pcap) or apart from it",
                p.display(),
                o.display()
            )));
        }
    }
    let (abs, lock) = output_set::prepare(&dir)?;
    // A pcap folder inside the output folder is part of its set; elsewhere it is a set of its own.
    let pcap_inside = pcap_abs
        .as_ref()
        .and_then(|p| p.strip_prefix(&abs).ok().map(Path::to_path_buf).filter(|r| !r.as_os_str().is_empty()));
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
    // A pcap folder of its own and the result are both written whole (sealed) before either is
    // swapped in: a failure while writing either (a full disk) leaves both previous folders as
    // they were. The two swaps are still two steps: a kill between them leaves new captures
    // beside the old result, each folder complete and its `run.json` naming the run (seed and
    // scenario hash) that wrote it (tested with the kill point `output-between-swaps`).
    let pcaps_sealed = match pcap_set {
        Some((shown, abs, lock)) => {
            let mut set = OutputSet::begin_locked(&shown, abs, lock)?;
            omitted = report::write_pcaps(&mut set, Path::new(""), &summary)?;
            Some(set.seal(&manifest, serde_json::Value::Null)?)
        }
        None => None,
    };
    let mut set = OutputSet::begin_locked(&dir, abs, lock)?;
    report::write_all(&mut set, &summary)?;
    if let Some(rel) = &pcap_inside {
        omitted = report::write_pcaps(&mut set, rel, &summary)?;
    }
    let result_sealed = set.seal(&manifest, serde_json::Value::Null)?;
    if let Some(pcaps) = pcaps_sealed {
        pcaps.swap()?;
        output_set::kill_point("output-between-swaps");
    }
    let written = result_sealed.swap()?;
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
            "\n{} events, {} link crossings ({} events per crossing), {} internal stage passes in {:.2} s wall \
             ({:.2} M events/s, {:.2} M link crossings/s; variants run in parallel)",
            events,
            crossings,
            events_per_crossing_text(events, crossings),
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

pub(crate) fn cmd_check(file: PathBuf, sets: Vec<String>, max_memory: Option<u64>) -> Result<(), Failure> {
    use scenario::budget::human;
    let (name, text) = read_scenario(Some(&file))?;
    let variants = scenario::load(&name, &text, &sets, None).map_err(|d| Failure::Scenario(Box::new(d)))?;
    warn_variant_overrides(&name, &text, &sets, &running_names(&variants));
    // What `sweep` would refuse: the grid's size, every value, the plot metrics.
    let sweep = match variants[0].spec.sweep.is_some() || scenario::parse(&name, &text).is_ok_and(|s| s.sweep.is_some())
    {
        true => Some(nitrosim::sweep::prepare(&name, &text, &sets).map_err(|d| Failure::Scenario(Box::new(d)))?),
        false => None,
    };
    let run_bytes = check_memory(&name, &variants, false, threads(), max_memory)?;
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

pub(crate) fn cmd_bench(file: PathBuf, sets: Vec<String>, max_memory: Option<u64>) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let variants = scenario::load(&name, &text, &sets, None).map_err(|d| Failure::Scenario(Box::new(d)))?;
    warn_variant_overrides(&name, &text, &sets, &running_names(&variants));
    // Variants are timed one after another, each alone on a core.
    check_memory(&name, &variants, false, 1, max_memory)?;
    // A link crossing is one packet over one physical link (NIC <-> ToR, ToR <-> spine); internal
    // stages (vCPUs, shapers, card and SRD processing, gateways) are counted apart as stage passes.
    // The kernel's share of the run's CPU time and its page faults tell a slow run from slow code:
    // a run's first touch of new memory is kernel time, and it varies with the machine's state.
    outln!(
        "{:<20} {:>12} {:>14} {:>10} {:>14} {:>12} {:>18} {:>16} {:>15} {:>18} {:>12} {:>15}",
        "variant",
        "events",
        "link crossings",
        "ev/cross",
        "stage passes",
        "events/s",
        "link crossings/s",
        "wall s / sim ms",
        "cpu s / sim ms",
        "kernel s / sim ms",
        "page faults",
        "Gbps/host link"
    );
    // Wall and CPU time per simulated ms to four decimals: scripts work out ns per crossing from
    // them (`benches/scale_curve.sh`), and at three a 128-host run's 0.12 s moved in steps of 0.8%.
    for v in &variants {
        let model = nitrosim::scenario::build::build(&v.name, &v.spec).map_err(Failure::Invariant)?;
        let clock = nitrosim::progress::Stopwatch::start();
        let cpu_start = nitrosim::progress::thread_cpu_seconds();
        let kernel_start = nitrosim::progress::thread_kernel_work();
        let r = model.run(&mut |_| {}).map_err(Failure::Invariant)?;
        let secs = clock.seconds().max(1e-9);
        let sim_ms = (r.simulated_us / 1000.0).max(1e-9);
        // The run's own time on a CPU: what wall time would be on a core of its own.
        let cpu = match (cpu_start, nitrosim::progress::thread_cpu_seconds()) {
            (Some(a), Some(b)) => format!("{:.4}", (b - a) / sim_ms),
            _ => "unknown".to_string(),
        };
        let (kernel, faults) = match (kernel_start, nitrosim::progress::thread_kernel_work()) {
            (Some(a), Some(b)) => {
                let run = a.until(b);
                (format!("{:.3}", run.system_seconds / sim_ms), run.page_faults.to_string())
            }
            _ => ("unknown".to_string(), "unknown".to_string()),
        };
        outln!(
            "{:<20} {:>12} {:>14} {:>10} {:>14} {:>10.2} M {:>16.2} M {:>16.4} {:>15} {:>18} {:>12} {:>15.1}",
            v.name,
            r.events_processed,
            r.link_crossings,
            events_per_crossing_text(r.events_processed, r.link_crossings),
            r.stage_passes,
            r.events_processed as f64 / secs / 1e6,
            r.link_crossings as f64 / secs / 1e6,
            secs / sim_ms,
            cpu,
            kernel,
            faults,
            r.fabric.host_uplink_gbps_mean
        );
    }
    match nitrosim::progress::peak_rss_kib() {
        Some(k) => outln!("peak RSS {:.1} MiB", k as f64 / 1024.0),
        None => outln!("peak RSS unknown on this platform"),
    }
    Ok(())
}

pub(crate) fn cmd_memory_probe(sizes_mib: Vec<usize>, loads: usize, small_pages: bool) -> Result<(), Failure> {
    use nitrosim::memory_probe::{DEFAULT_SIZES_MIB, MAX_LOADS, MAX_SIZE_MIB, Pages, probe};
    if let Some(&bad) = sizes_mib.iter().find(|&&m| m == 0 || m > MAX_SIZE_MIB) {
        return Err(Failure::Usage(format!(
            "--mib {bad}: a buffer of 1 to {MAX_SIZE_MIB} MiB (hint: the 8192-host bench touches about 360)"
        )));
    }
    if loads == 0 || loads > MAX_LOADS {
        return Err(Failure::Usage(format!(
            "--loads {loads}: 1 to {MAX_LOADS} loads per timing (hint: the default, 500000, takes about 0.1 s per timing)"
        )));
    }
    let sizes = if sizes_mib.is_empty() { DEFAULT_SIZES_MIB.to_vec() } else { sizes_mib };
    // Which machine: times from two CPUs cannot be compared, and a VM may move between them.
    let machine =
        nitrosim::memory_probe::describe_machine().unwrap_or_else(|| "not reported by this system".to_string());
    outln!("machine: {machine}");
    let pages = if small_pages { Pages::Small } else { Pages::AsTheSimulator };
    if small_pages {
        outln!("small pages only (the simulator's arrays get huge pages where the kernel grants them)");
    }
    // Then the same buffer with a line in each 4 KiB page: the cost of reaching a page apart from
    // the cache (`memory_probe::Chase::spread`).
    // Last, the dense buffer again at random lines each asked for ahead, as the run loop asks for
    // what an event will touch: what a line costs when nothing waits for its arrival
    // (`memory_probe::Chase::ns_per_load_asked_ahead`).
    outln!(
        "{:>8} {:>12} {:>12} {:>16} {:>12} {:>12}",
        "MiB",
        "ns per load",
        "huge pages",
        "a line per page",
        "huge pages",
        "asked ahead"
    );
    let huge = |share: Option<f64>| share.map_or("unknown".to_string(), |h| format!("{:.0}%", 100.0 * h));
    // Each size printed as it is measured.
    for mib in sizes {
        let p = probe(mib, loads, pages).map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
        outln!(
            "{:>8} {:>12.1} {:>12} {:>16.1} {:>12} {:>12.1}",
            p.size_mib,
            p.ns_per_load,
            huge(p.huge_page_share),
            p.ns_per_load_spread,
            huge(p.huge_page_share_spread),
            p.ns_per_load_asked_ahead
        );
    }
    Ok(())
}
