//! Sweeps as a researcher runs them: the same files whatever the job count, the shards or an
//! interruption; errors before anything runs; the expected shape of the SRD path sweep.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/srd-path-sweep.ron")
}

/// A small version of the bundled sweep: 3 path counts x 2 loads x 2 seeds, 4 ms each.
const SMALL: [&str; 4] = [
    "--set=duration=4ms",
    "--set=sweep.seeds=2",
    r#"--set=sweep.parameters.0.values={"List": ["1", "4", "16"]}"#,
    r#"--set=sweep.parameters.1.values={"List": ["0.3", "0.6"]}"#,
];

fn sweep(out: &Path, extra: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .arg("sweep")
        .arg(scenario())
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(SMALL)
        .args(extra)
        .output()
        .unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["results.csv", "aggregate.csv", "sweep.json"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))))
        .collect()
}

#[test]
fn same_files_with_one_or_two_jobs_sharded_or_not() {
    let t = tempfile::tempdir().unwrap();
    let (one, two) = (t.path().join("one"), t.path().join("two"));
    assert_eq!(sweep(&one, &["--jobs", "1"]).0, 0);
    assert_eq!(sweep(&two, &["--jobs", "2"]).0, 0);
    assert_eq!(outputs(&one), outputs(&two));
    let results = String::from_utf8(std::fs::read(one.join("results.csv")).unwrap()).unwrap();
    let header = results.lines().next().unwrap();
    assert!(
        header.starts_with(
            "sweep_hash,version,point,srd.paths,workloads.cross-traffic.load,seed_index,seed,variant,metric,value"
        ),
        "{header}"
    );
    assert_eq!(results.lines().filter(|l| l.contains(",rpc.latency_us.p99,")).count(), 3 * 2 * 2);

    // Three shards, merged, give the single-machine files.
    let mut shards = Vec::new();
    for k in 0..3 {
        let d = t.path().join(format!("shard{k}"));
        assert_eq!(sweep(&d, &["--shard", &format!("{k}/3")]).0, 0);
        shards.push(d);
    }
    let merged = t.path().join("merged");
    let st = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .arg("merge")
        .arg("--out")
        .arg(&merged)
        .args(&shards)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(outputs(&merged), outputs(&one));

    // A shard of another sweep definition is refused.
    let other = t.path().join("other");
    assert_eq!(sweep(&other, &["--shard", "0/3", "--set=seed=99"]).0, 0);
    let o = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .arg("merge")
        .arg("--out")
        .arg(t.path().join("bad"))
        .arg(&shards[0])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a refusal the user can act on");
    assert!(String::from_utf8_lossy(&o.stderr).contains("different sweep definition"));
    assert!(!t.path().join("bad").exists(), "nothing is written when merge refuses");

    // So is a folder that is not a sweep's, by `merge` and by `plot`.
    let plain = t.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    for args in [
        vec!["merge", "--out", t.path().join("bad2").to_str().unwrap(), plain.to_str().unwrap()],
        vec!["plot", plain.to_str().unwrap()],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_nitrosim")).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("not a sweep output folder"), "{args:?}");
    }
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_files() {
    let t = tempfile::tempdir().unwrap();
    // Longer runs, so the kill lands mid-sweep.
    let longer = "--set=duration=20ms";
    let whole = t.path().join("whole");
    assert_eq!(sweep(&whole, &["--jobs", "2", longer]).0, 0);

    let cut = t.path().join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .arg("sweep")
        .arg(scenario())
        .arg("--out")
        .arg(&cut)
        .arg("--quiet")
        .args(["--jobs", "1"])
        .args(SMALL)
        .arg(longer)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few runs have finished (or when it is about to finish). Finished runs wait
    // beside the folder, which changes only when the sweep completes.
    let runs = t.path().join(".cut.partial/runs");
    for _ in 0..2000 {
        let n = std::fs::read_dir(&runs)
            .map(|d| d.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count())
            .unwrap_or(0);
        if n >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = std::fs::read_dir(&runs)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
        .count();
    assert!(finished < 12, "the sweep was not interrupted ({finished} runs done)");
    assert!(!cut.exists(), "an unfinished sweep leaves no result folder");
    // No half-written run file is ever read back: temporaries are hidden and ignored.
    let (code, err) = sweep(&cut, &["--resume", "--jobs", "2", longer]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(outputs(&cut), outputs(&whole));
}

#[test]
fn bad_sweeps_are_rejected_before_anything_runs() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("x");
    let (code, err) = sweep(&out, &["--set=sweep.parameters.0.path=srd.pathz"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("srd.pathz") && err.contains("did you mean `paths`"), "{err}");
    let (code, err) = sweep(&out, &[r#"--set=sweep.parameters.0.values={"List": []}"#]);
    assert_eq!(code, 2);
    assert!(err.contains("empty list"), "{err}");
    let (code, err) = sweep(&out, &["--set=sweep.seeds=100000"]);
    assert_eq!(code, 2);
    assert!(err.contains("at most 100000 runs"), "{err}");
    let (code, err) = sweep(&out, &[r#"--set=sweep.parameters.0.values={"List": ["0"]}"#]);
    assert_eq!(code, 2);
    assert!(err.contains("`paths` is 0"), "{err}");
    assert!(!out.join("runs").exists(), "nothing ran");
}

#[test]
fn more_paths_cut_the_tail_and_fill_the_reorder_buffer() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("shape");
    let (code, err) = sweep(&out, &["--set=sweep.seeds=3", r#"--set=sweep.parameters.1.values={"List": ["0.5"]}"#]);
    assert_eq!(code, 0, "{err}");
    let agg = std::fs::read_to_string(out.join("aggregate.csv")).unwrap();
    let mean = |paths: &str, metric: &str| -> f64 {
        let line = agg
            .lines()
            .find(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f.len() > 10 && f[3] == paths && f[6] == metric
            })
            .unwrap_or_else(|| panic!("{paths} {metric}"));
        line.split(',').nth(8).unwrap().parse().unwrap()
    };
    assert!(mean("16", "rpc.latency_us.p99") < mean("1", "rpc.latency_us.p99"), "{agg}");
    assert!(mean("16", "srd.reorder_max_occupancy") > mean("1", "srd.reorder_max_occupancy"));
    assert!(std::fs::metadata(out.join("sweep_rpc_latency_us_p99_base.svg")).unwrap().len() > 1000);
    // The sweep's report.html: the grid, the plots inline, a table row per point and plotted metric.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"grid\"") && html.contains("srd.paths"), "the grid");
    assert!(html.contains("id=\"plot-sweep_rpc_latency_us_p99_base\"") && html.contains("<svg"), "plots inline");
    let rows = html.matches("<td>rpc.latency_us.p99</td>").count();
    assert_eq!(
        rows,
        agg.lines().filter(|l| l.split(',').nth(6) == Some("rpc.latency_us.p99")).count(),
        "a row per point"
    );
}

#[test]
fn confidence_intervals_narrow_with_more_seeds() {
    let t = tempfile::tempdir().unwrap();
    let width = |seeds: &str| -> f64 {
        let out = t.path().join(format!("s{seeds}"));
        let (code, err) = sweep(&out, &[&format!("--set=sweep.seeds={seeds}")]);
        assert_eq!(code, 0, "{err}");
        let agg = std::fs::read_to_string(out.join("aggregate.csv")).unwrap();
        // Mean CI width of the wire throughput over all points.
        let widths: Vec<f64> = agg
            .lines()
            .filter(|l| l.split(',').nth(6) == Some("throughput.wire_gbps"))
            .map(|l| {
                let f: Vec<f64> = l.split(',').skip(10).map(|x| x.parse().unwrap()).collect();
                f[1] - f[0]
            })
            .collect();
        widths.iter().sum::<f64>() / widths.len() as f64
    };
    let (few, many) = (width("2"), width("8"));
    assert!(many < few / 2.0, "95% CI width {few} with 2 seeds, {many} with 8");
}
