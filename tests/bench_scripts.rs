//! The benchmark scripts under `benches/` still run against this binary and print what their
//! headers promise, on a fabric small and short enough to take a second. (Their figures are
//! measurements, never asserted: only their shape, the order of the runs, what the figures must
//! satisfy whatever the machine, and the exact counts both sides must share.)

mod common;

use std::path::Path;
use std::process::Command;

fn script(name: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("benches").join(name))
        .args(args)
        .env("BIN", env!("CARGO_BIN_EXE_nitrosim"))
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn number(s: &str) -> f64 {
    let v: f64 = s.trim_end_matches(['x', ',']).parse().unwrap_or_else(|_| panic!("not a number: {s:?}"));
    assert!(v.is_finite() && v > 0.0, "{s}");
    v
}

/// The figure after `label` in `text`, e.g. "mean 1.01, median 1.00".
fn after(text: &str, label: &str) -> f64 {
    number(word_after(text, label))
}

/// The word after `label` in `text`.
fn word_after<'a>(text: &'a str, label: &str) -> &'a str {
    let rest = &text[text.find(label).unwrap_or_else(|| panic!("no {label:?} in:\n{text}")) + label.len()..];
    rest.split_whitespace().next().expect("a figure")
}

#[test]
fn scale_curve_interleaves_rounds_and_reports_each_point_and_the_growth() {
    let dir = tempfile::tempdir().unwrap();
    // A BIN that logs each bench's fabric size, and its whole command line, before running the
    // real binary.
    let log = dir.path().join("calls");
    let commands = dir.path().join("commands");
    let wrapper = dir.path().join("nitrosim");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nfor a in \"$@\"; do case $a in instances.h.count=*) echo \"${{a#*=}}\" >> '{}';; esac; done\nexec '{}' \"$@\"\n",
            commands.display(),
            log.display(),
            env!("CARGO_BIN_EXE_nitrosim")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let bin = wrapper.to_str().unwrap();
    let (ok, out, err) = script(
        "scale_curve.sh",
        &[],
        &[("BIN", bin), ("HOSTS", "256 128"), ("DURATION", "5us"), ("RUNS", "3"), ("PROBE_MIB", "1 2")],
    );
    assert!(ok, "{err}");
    // The machine the curve ran on, named once, and one probe line per round, each size with a
    // time. The size rows are told from the machine line by their leading number: a model name
    // with a digit in it must not end up in a round's line.
    let machine = out.lines().find(|l| l.starts_with("machine: ")).unwrap_or_else(|| panic!("{out}"));
    if cfg!(target_os = "linux") {
        assert!(machine.contains(" CPU"), "{machine}");
    }
    assert_eq!(out.matches("machine: ").count(), 1, "{out}");
    let probes: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("memory probe")).skip(1).collect();
    assert_eq!(probes.len(), 3, "one probe per round:\n{out}");
    for (k, line) in probes.iter().enumerate() {
        assert!(line.starts_with(&format!("round {}:", k + 1)), "{line}");
        for mib in ["1", "2"] {
            after(line, &format!(" {mib} MiB "));
        }
        assert_eq!(line.matches("(huge ").count(), 2, "{line}");
    }
    // Every size once per round, two runs each: ascending in odd rounds, descending in even ones.
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls, ["128", "128", "256", "256", "256", "256", "128", "128", "128", "128", "256", "256"]);

    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("128 ") || l.starts_with("256 "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 4, "one row per size and run, smallest first:\n{out}");
    assert!(rows[0][0] == "128" && rows[2][0] == "256", "{out}");
    for row in &rows {
        // hosts run duration Gbps/host wall crossings/s M ev/cross ns RSS median kernel
        assert_eq!(row.len(), 12, "{row:?}");
        // The load on a host's link: every host sends, within its link's 100 Gbps.
        let load_gbps = number(row[3]);
        assert!(load_gbps > 0.0 && load_gbps <= 100.0, "{row:?}");
        let row = [&row[..3], &row[4..]].concat();
        // The kernel's CPU time: a measurement (so short a run may touch no new memory at all),
        // so only its form: a time, not negative, no more than the run's wall time plus one
        // scheduler tick. Linux updates the CPU time `getrusage` reads at ticks and switches, so
        // the reading before the run may lag by up to a tick (10 ms at the lowest rate, 100 Hz):
        // a 5 us run's 11 ms of wall showed 11.9 ms of kernel time in CI on 2026-12-02.
        let kernel: f64 = row[10].parse().unwrap_or_else(|_| panic!("kernel s/sim ms: {row:?}"));
        let tick_s_per_sim_ms = 0.010 / 0.005; // DURATION 5us: 0.005 simulated ms
        assert!(kernel >= 0.0 && kernel <= number(row[3]) + tick_s_per_sim_ms, "{row:?}");
        let (wall, crossings_m, ns, median) = (number(row[3]), number(row[4]), number(row[7]), number(row[9]));
        number(row[6]);
        number(row[8]);
        assert!(median >= ns, "the best round costs least, the median no less: {row:?}");
        // ns per crossing and crossings per second are one figure two ways, each rounded: the
        // latter to 0.0005 M, the former to 0.05 ns, which moves 1000 / ns by up to 50 / ns^2.
        let ns_rounding = 1000.0 * 0.05 / ((ns - 0.05) * (ns - 0.05));
        assert!((1000.0 / ns - crossings_m).abs() <= 0.0005 + ns_rounding + 1e-9, "{row:?}");
        assert!(wall > 0.0);
    }
    for (k, run) in ["srd-1-flow", "tcp-20-flows"].into_iter().enumerate() {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("growth 128 -> 256 hosts, {run}: ")))
            .unwrap_or_else(|| panic!("no growth line for {run}:\n{out}"));
        let best = after(line, ": ");
        // The ns behind the ratio are the table's best rows for the two sizes, as printed.
        let ns = line.split(" (").nth(1).and_then(|s| s.split(" ns per crossing, ").next()).expect("(small -> large");
        assert_eq!(ns, format!("{} -> {}", rows[k][8], rows[2 + k][8]), "{line}");
        let (small, large) = (number(rows[k][8]), number(rows[2 + k][8]));
        let more: f64 = word_after(line, "ns per crossing, ").parse().unwrap_or_else(|_| panic!("{line}"));
        assert!((more - (large - small)).abs() <= 0.1 + 1e-9, "{line}");
        // 1 decimal printed for each ns, 2 for the ratio.
        assert!((best - large / small).abs() <= 0.005 + 0.05 * (large + small) / (small * small), "{line}");
        let range = line.rsplit("; ").next().unwrap().split_whitespace().next().unwrap();
        let (lo, hi) = range.trim_end_matches('x').split_once('-').expect("lo-hi");
        let (lo, hi) = (number(lo), number(hi));
        // Best against best lies within the rounds' range: the round of the large size's best
        // gives no more than it, the round of the small size's best no less (2 decimals printed).
        assert!(lo <= hi && lo <= best + 0.005 && best <= hi + 0.005, "{line}");
    }
    // WARMUP=1: every measured bench right after an unmeasured one of the same size and run.
    std::fs::remove_file(&commands).unwrap();
    let (ok, out, err) = script(
        "scale_curve.sh",
        &[],
        &[("BIN", bin), ("HOSTS", "128"), ("DURATION", "5us"), ("WARMUP", "1"), ("PROBE_MIB", "1")],
    );
    assert!(ok, "{err}");
    let calls = std::fs::read_to_string(&commands).unwrap();
    let calls: Vec<&str> = calls.lines().filter(|c| c.starts_with("bench ")).collect();
    assert_eq!(calls.len(), 4, "two runs, each twice: {calls:#?}");
    assert!(calls[0] == calls[1] && calls[2] == calls[3] && calls[0] != calls[2], "{calls:#?}");
    assert_eq!(out.lines().filter(|l| l.starts_with("128 ")).count(), 2, "{out}");
    // A BIN without the probe: the curve still runs and says why each round has none.
    let (ok, out, err) = script(
        "scale_curve.sh",
        &[],
        &[("HOSTS", "128"), ("DURATION", "5us"), ("PROBE_BIN", "/bin/false"), ("PROBE_MIB", "1")],
    );
    assert!(ok, "{err}");
    let none = out.lines().find(|l| l.starts_with("round 1: no memory probe (")).unwrap_or_else(|| panic!("{out}"));
    assert!(none.contains("false memory-probe"), "{none}");
    for bad in [
        ("PROBE_MIB", "5000"),
        ("HOSTS", "100"),
        ("HOSTS", "12x"),
        ("RUNS", "0"),
        ("DURATION", "5 parsecs"),
        ("WARMUP", "yes"),
        ("PROBE_MIB", "1 two"),
    ] {
        let (ok, _, err) = script("scale_curve.sh", &[], &[("HOSTS", "128"), bad]);
        assert!(!ok && !err.is_empty(), "{bad:?} accepted");
    }
}

/// What the scripts print of a probe: each size's row on the round's line, with the columns the
/// probe had (older probes lack the last ones), the header and the machine line left out.
#[test]
fn probe_rows_are_printed_with_the_columns_the_probe_had() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let format = |probe: &str| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("source '{}'; probe_sizes", root.join("benches/probe_format.sh").display()))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().expect("piped").write_all(probe.as_bytes())?;
                child.wait_with_output()
            })
            .expect("bash runs");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let machine = "machine: Some CPU; 2 CPUs\n";
    let now = format!(
        "{machine}     MiB  ns per load   huge pages  a line per page   huge pages  asked ahead\n\
         \x20      1          5.4           0%              3.3           0%          1.3\n\
         \x20    256        172.6          99%             50.4          99%         11.9\n"
    );
    assert_eq!(
        format(&now),
        "  1 MiB 5.4 (huge 0%; a line per page 3.3, huge 0%; asked ahead 1.3)  256 MiB 172.6 (huge 99%; a line per \
         page 50.4, huge 99%; asked ahead 11.9)"
    );
    let older = format!("{machine}     MiB  ns per load   huge pages\n       8         37.7          75%\n");
    assert_eq!(format(&older), "  8 MiB 37.7 (huge 75%)");
}

/// `--tally` recounts saved curves against issue 17's targets: exact counts from known lines.
#[test]
fn scale_curve_tallies_saved_curves_against_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    // round hosts run crossings ev/cross ns wall-s-per-sim-ms rss kernel gbps, as a curve prints
    // them (rounds interleaved, noise lines between).
    let missed = "memory probe, ns per random load: round 1: 1 MiB 17.0\n\
        round 1/2: 1 128 srd-1-flow 1000 1.99 400 0.2 12 0.0 24.9\n\
        round 1/2: 1 128 tcp-20-flows 1000 2.38 450 0.3 30 0.0 73.8\n\
        round 1/2: 1 1024 srd-1-flow 1000 1.90 500 2.0 50 0.0 24.9\n\
        round 1/2: 1 1024 tcp-20-flows 1000 2.24 800 3.0 160 0.0 72.9\n\
        round 1/2: 1 8192 srd-1-flow 1000 1.89 700 25.0 300 0.1 24.9\n\
        round 1/2: 1 8192 tcp-20-flows 1000 2.22 1000 40.0 1200 0.6 72.7\n\
        round 2/2: 2 8192 srd-1-flow 1000 1.89 900 31.0 300 0.1 24.9\n\
        round 2/2: 2 8192 tcp-20-flows 1000 2.22 850 38.0 1200 0.6 72.7\n\
        round 2/2: 2 1024 srd-1-flow 1000 1.90 520 2.1 50 0.0 24.9\n\
        round 2/2: 2 1024 tcp-20-flows 1000 2.24 700 2.9 160 0.0 72.9\n\
        round 2/2: 2 128 srd-1-flow 1000 1.99 380 0.19 12 0.0 24.9\n\
        round 2/2: 2 128 tcp-20-flows 1000 2.38 420 0.29 30 0.0 73.8\n\
        machine: a test\n";
    let met = "round 1/1: 1 128 srd-1-flow 1000 1.99 400 0.2 12 0.0 24.9\n\
        round 1/1: 1 1024 srd-1-flow 1000 1.90 500 2.0 50 0.0 24.9\n\
        round 1/1: 1 8192 srd-1-flow 1000 1.89 790 29.9 300 0.1 24.9\n";
    let (a, b) = (dir.path().join("missed.log"), dir.path().join("met.log"));
    std::fs::write(&a, missed).unwrap();
    std::fs::write(&b, met).unwrap();
    let (ok, out, err) = script("scale_curve.sh", &["--tally", a.to_str().unwrap(), b.to_str().unwrap()], &[]);
    assert!(ok, "{err}");
    for line in [
        "growth 128 -> 8192 hosts, srd-1-flow: 1.84x best against best (380.0 -> 700.0 ns per crossing, 320.0 more); 1.75-2.37x round by round",
        "growth 128 -> 8192 hosts, tcp-20-flows: 2.02x best against best (420.0 -> 850.0 ns per crossing, 430.0 more); 2.02-2.22x round by round",
        "  at least 1.3 M link crossings/s at 1024 hosts, srd-1-flow: 2.000 M, met; 0 of 2 rounds under",
        "  at least 1.3 M link crossings/s at 1024 hosts, tcp-20-flows: 1.429 M, met; 1 of 2 rounds under",
        "  at most 2.5 events per crossing at 1024 hosts, tcp-20-flows: 2.24, met",
        "  growth 128 -> 8192 hosts at most 2x, srd-1-flow: 1.84x, met; 1 of 2 rounds over",
        "  growth 128 -> 8192 hosts at most 2x, tcp-20-flows: 2.02x, MISSED; 2 of 2 rounds over",
        // The best round's wall time, though another round's was over.
        "  8192-host srd-1-flow under 30 s per simulated ms: 25.000 s, met; 1 of 2 rounds over",
        "  every target here met best against best: NO; in every round: NO (7 of the 7 targets evaluated)",
        "machine: a test",
        "  8192-host srd-1-flow under 30 s per simulated ms: 29.900 s, met; 0 of 1 rounds over",
        // A curve without TCP runs: what it has is met, and it is not counted as complete.
        "  every target here met best against best: yes; in every round: yes (4 of the 7 targets evaluated: the curve lacks sizes or runs)",
        "== over 2 curves (1 with all 7 targets evaluated; the rounds below count every curve)",
        "every target met best against best in 0 of 1 complete curves; in every round in 0 of 1",
        "rounds: 1 of 5 at 1024 hosts under 1.3 M link crossings/s; 3 of 5 growth ratios over 2x; 1 of 3 8192-host SRD runs at 30 s per simulated ms or more",
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?} in:\n{out}");
    }
    // The table's rows come back from the lines: the best round of each point, its median.
    let row: Vec<&str> = out.lines().find(|l| l.starts_with("8192   srd-1-flow")).unwrap().split_whitespace().collect();
    assert_eq!(row[4..], ["25.000", "1.429", "M", "1.89", "700.0", "300", "800.0", "0.1"], "{out}");
    for (args, why) in [
        (vec!["--tally"], "name the saved output"),
        (vec!["--tally", "/nonexistent/curve.log"], "cannot read"),
        (vec!["--tally", "/dev/null"], "holds no"),
    ] {
        let (ok, _, err) = script("scale_curve.sh", &args, &[]);
        assert!(!ok && err.contains(why), "{args:?}: {err}");
    }
}

#[test]
fn ab_pairs_two_binaries_on_one_workload() {
    let bin = env!("CARGO_BIN_EXE_nitrosim");
    let (ok, out, err) = script(
        "ab.sh",
        &[bin, bin],
        &[("HOSTS", "128"), ("DURATION", "5us"), ("ROUNDS", "2"), ("RUN", "tcp-20-flows")],
    );
    assert!(ok, "{err}");
    let rounds: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && !l.contains("hosts"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rounds.len(), 2, "{out}");
    for r in &rounds {
        assert_eq!(r.len(), 6, "{r:?}");
        let (a, b, ratio) = (number(r[1]), number(r[2]), number(r[3]));
        assert!((b / a - ratio).abs() < 0.001, "{r:?}");
        assert!(r[4].parse::<u64>().unwrap() > 0);
        assert_eq!(r[4], r[5], "one binary, one scenario: the same link crossings");
    }
    let summary = out.lines().find(|l| l.starts_with("B/A over 2 rounds: ")).unwrap_or_else(|| panic!("{out}"));
    let (mean, median, min, max) =
        (after(summary, "mean "), after(summary, "median "), after(summary, "min "), after(summary, "max "));
    assert!(min <= mean && mean <= max && min <= median && median <= max, "{summary}");
    assert!(out.contains("rounds; too few rounds for a 95% interval of the median ratio"), "{out}");
    for (args, env) in
        [(vec![bin], vec![]), (vec![bin, bin], vec![("ROUNDS", "0")]), (vec![bin, bin], vec![("RUN", "udp")])]
    {
        let (ok, _, err) = script("ab.sh", &args, &env);
        assert!(!ok && !err.is_empty(), "{args:?} {env:?} accepted");
    }
}

/// `benches/ratio_summary.sh` on `ratios`, one per line.
fn ratio_summary(ratios: &[f64]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input: String = ratios.iter().map(|r| format!("{r}\n")).collect();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(". '{}'; printf '{input}' | ratio_summary", root.join("benches/ratio_summary.sh").display()))
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into()
}

#[test]
fn ab_bounds_the_median_ratio_by_ranks_the_binomial_law_picks() {
    // Twelve rounds: P(Bin(12, 1/2) <= 2) = 79/4096 <= 2.5% < P(<= 3) = 299/4096, so the 3rd
    // smallest and the 3rd largest ratio, which miss the median with probability 2 x 79/4096.
    let twelve: Vec<f64> = [1.2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1].into();
    assert_eq!(
        ratio_summary(&twelve),
        "B/A over 12 rounds: mean 0.650, median 0.650, min 0.100, max 1.200\n\
         B faster in 9 of 12 rounds; median ratio between 0.300 and 1.000 (96.1% interval, \
         distribution-free: the ratios ranked 3 and 10)\n"
    );
    // Six: only the whole range (1 - 2/64); five: no interval reaches 95% (1 - 2/32).
    assert!(ratio_summary(&[0.9, 1.2, 0.95, 1.0, 1.05, 1.1]).ends_with(
        "B faster in 2 of 6 rounds; median ratio between 0.900 and 1.200 (96.9% interval, \
         distribution-free: the ratios ranked 1 and 6)\n"
    ));
    assert!(
        ratio_summary(&[0.9, 0.8, 0.95, 0.7, 0.85]).ends_with(
            "B faster in 5 of 5 rounds; too few rounds for a 95% interval of the median ratio (6 at least)\n"
        )
    );
    // Twenty: ranks 6 and 15 (1 - 2 x 21700/2^20 = 95.9%).
    let twenty: Vec<f64> = (1..=20).map(|i| i as f64 / 10.0).collect();
    assert!(ratio_summary(&twenty).contains("between 0.600 and 1.500 (95.9% interval"));
}

#[test]
fn instructions_counts_two_runs_and_divides_their_difference() {
    let (ok, _, err) = script("instructions.sh", &[], &[("BIN", "/nonexistent/nitrosim")]);
    assert!(!ok && err.contains("not an executable"), "{err}");
    if Command::new("valgrind").arg("--version").output().is_err() {
        common::skip_or_fail("valgrind is not installed", "apt-get install valgrind");
        return;
    }
    let (ok, out, err) = script("instructions.sh", &[], &[("HOSTS", "128"), ("SHORT", "5us"), ("LONG", "10us")]);
    assert!(ok, "{err}");
    let rows: Vec<Vec<f64>> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().skip(1).map(number).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    let (short, long) = (&rows[0], &rows[1]);
    assert!(long.iter().zip(short).all(|(l, s)| l > s), "the longer run counts more of each: {out}");
    // The figures printed are the differences divided, as the header says.
    let per_crossing = after(&out, "instructions per link crossing ");
    let per_event = after(&out, "per event ");
    assert!(((long[0] - short[0]) / (long[2] - short[2]) - per_crossing).abs() <= 0.5, "{out}");
    assert!(((long[0] - short[0]) / (long[1] - short[1]) - per_event).abs() <= 0.5, "{out}");
    assert!(!out.contains("page walks"), "page walks only when asked for: {out}");

    // PAGES=yes (page walks) and LINES=N (lines from beyond N MiB): a fourth column, and misses
    // per crossing worked out from it the same way.
    for (env, refused) in [
        (&[("PAGES", "maybe")][..], "PAGES is yes or no, not maybe"),
        (&[("LINES", "0")], "LINES is a cache's size in MiB (1 to 9999), not 0"),
        (&[("LINES", "2M")], "LINES is a cache's size in MiB (1 to 9999), not 2M"),
        (&[("LINES", "2"), ("PAGES", "yes")], "PAGES=yes and LINES count different things: one at a time"),
    ] {
        let (ok, _, err) = script("instructions.sh", &[], env);
        assert!(!ok && err.contains(refused), "{env:?}: {err}");
    }
    for (mode, column, figure) in [
        (("PAGES", "yes"), "page walks", "page walks per link crossing "),
        (("LINES", "2"), "lines beyond 2 MiB", "lines from beyond 2 MiB per link crossing "),
    ] {
        let env = [("HOSTS", "128"), ("SHORT", "5us"), ("LONG", "10us"), mode];
        let (ok, out, err) = script("instructions.sh", &[], &env);
        assert!(ok, "{err}");
        assert!(out.lines().next().unwrap_or_default().ends_with(column), "{out}");
        // (Misses may be zero: parsed here, not by `number`.)
        let rows: Vec<Vec<f64>> = out
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| l.split_whitespace().skip(1).map(|w| w.parse().expect("a count")).collect())
            .collect();
        assert!(rows.len() == 2 && rows.iter().all(|r| r.len() == 4), "{out}");
        let (short, long) = (&rows[0], &rows[1]);
        // The simulated cache changes no count: the instructions as without it, within the few
        // thousand that differ from one run to the next (the timings it reads and prints), which a
        // difference of 538 crossings shows.
        let relative = after(&out, "instructions per link crossing ") / per_crossing;
        assert!((0.98..=1.02).contains(&relative), "{out}");
        // A run misses (building the model alone touches thousands of pages and lines), the
        // longer one more.
        assert!(short[3] > 0.0 && long[3] >= short[3], "{out}");
        let misses: f64 = word_after(&out, figure).parse().expect("a figure");
        assert!(((long[3] - short[3]) / (long[2] - short[2]) - misses).abs() <= 0.0005, "{out}");
    }

    // BY_CODE=N: where the lines go, the N largest pieces of code, largest first, within the
    // lines of data in all, which are within the misses counted (those add the code's own).
    for (env, refused) in [
        (&[("BY_CODE", "5")][..], "BY_CODE lists where the lines of LINES=N go: set LINES too"),
        (&[("BY_CODE", "0"), ("LINES", "2")], "BY_CODE is how many pieces of code to list (1 to 999), not 0"),
    ] {
        let (ok, _, err) = script("instructions.sh", &[], env);
        assert!(!ok && err.contains(refused), "{env:?}: {err}");
    }
    let env = [("HOSTS", "128"), ("SHORT", "5us"), ("LONG", "10us"), ("LINES", "2"), ("BY_CODE", "5")];
    let (ok, out, err) = script("instructions.sh", &[], &env);
    assert!(ok, "{err}");
    let listed = &out[out.find("where the lines from beyond 2 MiB go, per link crossing").expect("the listing")..];
    let rows: Vec<(f64, f64, &str)> = listed
        .lines()
        .skip(1)
        .take_while(|l| !l.contains(" in all, "))
        .map(|l| {
            let mut w = l.split_whitespace();
            let lines: f64 = w.next().and_then(|x| x.parse().ok()).expect("lines per crossing");
            let share: f64 = w.next().and_then(|x| x.trim_end_matches('%').parse().ok()).expect("a share");
            (lines, share, l.rsplit("  ").next().unwrap_or_default())
        })
        .collect();
    assert_eq!(rows.len(), 5, "{out}");
    assert!(rows.windows(2).all(|w| w[0].0 >= w[1].0), "largest first: {out}");
    assert!(rows.iter().all(|r| r.2.contains(": ") && !r.2.contains("nitrosim::")), "file: function, shortened: {out}");
    // "NET in all, ...: MORE from the pieces that fetched more ..., less FEWER from those ...":
    // the shares are of MORE (a piece may fetch fewer in the longer run: start-ups differ).
    let total = listed.lines().find(|l| l.contains(" in all, ")).expect("a total");
    let in_all: f64 = total.split_whitespace().next().and_then(|x| x.parse().ok()).expect("lines in all");
    let more = after(total, "): ");
    let fewer: f64 = word_after(total, ", less ").parse().expect("a figure");
    assert!((more - fewer - in_all).abs() <= 0.002, "{out}");
    let listed_sum: f64 = rows.iter().map(|r| r.0).sum();
    let shares: f64 = rows.iter().map(|r| r.1).sum();
    assert!(listed_sum <= more + 0.005 && shares <= 100.05, "{out}");
    assert!((listed_sum / more * 100.0 - shares).abs() <= 0.5, "shares of what the pieces fetched: {out}");
    let misses: f64 = word_after(&out, "lines from beyond 2 MiB per link crossing ").parse().expect("a figure");
    assert!(in_all > 0.0 && in_all <= misses + 0.01, "the data's lines are within the misses counted: {out}");
}

#[test]
fn pgo_refuses_an_unknown_training_before_building() {
    // The build itself takes minutes and needs rustup's llvm-tools: measured by hand
    // (docs/performance.md), not here. A wrong TRAIN must stop it before any of that.
    let (ok, out, err) = script("pgo.sh", &[], &[("TRAIN", "everything")]);
    assert!(!ok, "{out}");
    assert!(err.contains("TRAIN is default or permutation, not everything"), "{err}");
    assert!(!err.contains("building"), "refused only after starting to build:\n{err}");
}

/// `benches/lackey/visit_lines.sh` is too slow to run here (a build of its own, then Valgrind's
/// lackey): its patch must still apply to this tree, and its filter must count a made-up trace
/// as the script's header says.
#[test]
fn lackey_visit_marks_apply_and_the_filter_counts_a_made_up_trace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lackey = root.join("benches").join("lackey");
    if Command::new("git").arg("--version").output().is_err() {
        common::skip_or_fail("git is not installed", "apt-get install git");
        return;
    }
    let apply = Command::new("git")
        .current_dir(root)
        .args(["apply", "--check"])
        .arg(lackey.join("visit-marks.patch"))
        .output()
        .expect("git runs");
    assert!(apply.status.success(), "the markers' patch no longer applies: {}", String::from_utf8_lossy(&apply.stderr));

    let dir = std::env::temp_dir().join(format!("nitrosim-visit-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let filter = dir.join("visit_lines");
    let cc = Command::new("cc").arg("-O2").arg("-o").arg(&filter).arg(lackey.join("visit_lines.c")).output();
    let cc = cc.expect("cc runs (Rust links with it)");
    assert!(cc.status.success(), "{}", String::from_utf8_lossy(&cc.stderr));
    // Markers at 0x1000 (kind k at 0x1000 + 8k, the end at 0x1018); a 256-byte slot. An ACK's visit
    // at 0x2000 reads 8 bytes of line 0 and writes 4 of line 1, with an instruction fetch and an
    // access outside the slot between; a data visit at 0x3000 reads 2 bytes across its end, and a
    // read of its slot after it ended is not its.
    let trace = " S 00001008,8\n L 00002000,1\n L 00002000,8\nI  00400000,4\n L 00009000,8\n S 00002041,4\n \
                 S 00001018,8\n S 00001000,8\n L 00003000,1\n L 000030ff,2\n S 00001018,8\n L 00003010,8\n";
    let mut run = Command::new(&filter)
        .args(["1000", "256"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the filter runs");
    use std::io::Write;
    run.stdin.take().unwrap().write_all(trace.as_bytes()).unwrap();
    let out = run.wait_with_output().unwrap();
    let usage = Command::new(&filter).arg("1000").output().expect("the filter runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(usage.status.code(), Some(2), "a missing argument is refused");
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("data visits 1, lines touched 1.00, bytes touched 1\n"), "{out}");
    assert!(out.contains(" 3:1.00 4:0.00\n  bytes touched (first-last share): 255-255 1.00\n"), "{out}");
    assert!(out.contains("ack visits 1, lines touched 2.00, bytes touched 12\n"), "{out}");
    assert!(
        out.contains(" 0:1.00 1:1.00 2:0.00 3:0.00 4:0.00\n  bytes touched (first-last share): 0-7 1.00 65-68 1.00\n"),
        "{out}"
    );
    // An access after a visit ended counts for nothing; no timer came.
    assert!(out.contains("timer visits 0, lines touched 0.00, bytes touched 0\n"), "{out}");
}
