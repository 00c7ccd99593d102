//! Output folders as sets: `kill -9` at any stage of writing (injected with
//! `NITROSIM_TEST_KILL_AT`) leaves the previous complete result or the new complete result,
//! never a mix, and the next run leaves no temporaries; so does a disk that fills midway (a
//! file-size limit); a second writer is refused.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

fn nitrosim(args: &[&str], kill_at: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nitrosim"));
    c.args(args);
    match kill_at {
        Some(stage) => c.env("NITROSIM_TEST_KILL_AT", stage),
        None => c.env_remove("NITROSIM_TEST_KILL_AT"),
    };
    c.output().unwrap()
}

/// Every file under `dir`, relative, with its size.
fn tree(dir: &Path) -> BTreeMap<String, u64> {
    common::files_under(dir).into_iter().map(|(name, p)| (name, p.metadata().unwrap().len())).collect()
}

/// The folder is one complete set: exactly the files its manifest lists (plus the manifest and,
/// for sweeps, `run_records` run files), each of the listed size. Returns the manifest.
fn assert_complete_set(dir: &Path) -> serde_json::Value {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let listed: BTreeMap<String, u64> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f["bytes"].as_u64().unwrap()))
        .collect();
    let mut present = tree(dir);
    present.remove("run.json");
    let runs: Vec<String> = present.keys().filter(|k| k.starts_with("runs/")).cloned().collect();
    assert_eq!(runs.len() as u64, manifest["extra"]["run_records"].as_u64().unwrap_or(0), "run records");
    for r in &runs {
        let rec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(r)).unwrap()).unwrap();
        assert_eq!(rec["sweep_hash"], manifest["manifest"]["scenario_hash"], "{r} belongs to this set");
        present.remove(r);
    }
    assert_eq!(present, listed, "the folder holds exactly its manifest's files");
    manifest
}

/// No `.NAME.tmp-*`, `.NAME.old-*` or `.NAME.partial` beside the folder.
fn assert_no_temporaries(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    for e in std::fs::read_dir(dir.parent().unwrap()).unwrap() {
        let f = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            f == name || f == format!(".{name}.lock") || !f.starts_with(&format!(".{name}.")),
            "temporary left behind: {f}"
        );
    }
}

fn seed_of(dir: &Path) -> u64 {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    s["seed"].as_u64().unwrap()
}

#[test]
fn kill_9_while_a_run_writes_leaves_the_old_or_the_new_complete_result() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let file = scenario("single-flow-cap.ron");
    let run = |seed: &str, kill: Option<&str>| {
        let args = ["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--seed", seed];
        nitrosim(&[&args[..], &["--set", "duration=2ms"]].concat(), kill)
    };
    let first = run("1", None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(assert_complete_set(&out)["manifest"]["seed"], 1);
    let mut current = 1;
    for (stage, new_wins) in [("output-first-file", false), ("output-before-swap", false), ("output-after-swap", true)]
    {
        let new = current + 1;
        let killed = run(&new.to_string(), Some(stage));
        assert_eq!(killed.status.code(), None, "{stage}: killed by a signal");
        let m = assert_complete_set(&out);
        let expect = if new_wins { new } else { current };
        assert_eq!(m["manifest"]["seed"], expect, "{stage}");
        assert_eq!(seed_of(&out), expect, "{stage}: summary.json from the same run as the manifest");
        // The next writer cleans up what the killed one left.
        current = new + 1;
        let next = run(&current.to_string(), None);
        assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
        assert_eq!(assert_complete_set(&out)["manifest"]["seed"], current);
        assert_no_temporaries(&out);
    }
}

#[test]
fn kill_9_during_a_sweep_leaves_a_complete_sweep_and_resume_finishes_it() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("sweep");
    let file = scenario("srd-path-sweep.ron");
    let sweep = |seeds: &str, extra: &[&str], kill: Option<&str>| {
        let seeds = format!("sweep.seeds={seeds}");
        let args = [
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--jobs",
            "1",
            "--set",
            "duration=2ms",
            "--set",
            r#"sweep.parameters.0.values={"List": ["1", "8"]}"#,
            "--set",
            r#"sweep.parameters.1.values={"List": ["0.3"]}"#,
            "--set",
            &seeds,
        ];
        nitrosim(&[&args[..], extra].concat(), kill)
    };
    let first = sweep("1", &[], None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let old_hash = assert_complete_set(&out)["manifest"]["scenario_hash"].clone();
    for stage in ["sweep-after-record", "output-first-file", "output-before-swap"] {
        let killed = sweep("2", &[], Some(stage));
        assert_eq!(killed.status.code(), None, "{stage}: killed by a signal");
        assert_eq!(assert_complete_set(&out)["manifest"]["scenario_hash"], old_hash, "{stage}: the old sweep");
    }
    // A killed sweep resumes from the runs it finished; the result is complete and only it remains.
    let killed = sweep("2", &[], Some("sweep-after-record"));
    assert_eq!(killed.status.code(), None);
    let resumed = sweep("2", &["--resume"], None);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let m = assert_complete_set(&out);
    assert_ne!(m["manifest"]["scenario_hash"], old_hash);
    assert_eq!(m["extra"]["run_records"], 4);
    assert_no_temporaries(&out);
    let killed = sweep("3", &[], Some("output-after-swap"));
    assert_eq!(killed.status.code(), None);
    assert_eq!(assert_complete_set(&out)["extra"]["run_records"], 6, "after the swap: the new sweep");
    let again = sweep("1", &[], None);
    assert!(again.status.success());
    assert_eq!(assert_complete_set(&out)["manifest"]["scenario_hash"], old_hash);
    assert_no_temporaries(&out);
    // `plot` rewrites the folder as a set too, from the same run files.
    let results = std::fs::read(out.join("results.csv")).unwrap();
    assert!(nitrosim(&["plot", out.to_str().unwrap()], None).status.success());
    let m = assert_complete_set(&out);
    assert_eq!(m["manifest"]["command"], "plot");
    assert_eq!(m["extra"]["run_records"], 2);
    assert_eq!(std::fs::read(out.join("results.csv")).unwrap(), results);
    assert_no_temporaries(&out);
}

#[test]
fn resume_reruns_a_record_stored_under_another_runs_name() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("sweep");
    let file = scenario("srd-path-sweep.ron");
    let args = [
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "duration=2ms",
        "--set",
        r#"sweep.parameters.0.values={"List": ["1"]}"#,
        "--set",
        r#"sweep.parameters.1.values={"List": ["0.3"]}"#,
        "--set",
        "sweep.seeds=2",
    ];
    assert!(nitrosim(&args, None).status.success());
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    // Seed 0's record copied over seed 1's: one seed duplicated, the other missing.
    std::fs::copy(out.join("runs/p00000-s0000.json"), out.join("runs/p00000-s0001.json")).unwrap();
    let resumed = nitrosim(&[&args[..], &["--resume"]].concat(), None);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("runs/p00000-s0001.json")).unwrap()).unwrap();
    assert_eq!(rec["seed_index"], 1, "the misnamed record was run again");
    assert_eq!(std::fs::read_to_string(out.join("results.csv")).unwrap(), results);
}

#[test]
fn a_second_writer_is_refused_and_the_first_completes() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let file = scenario("single-flow-cap.ron");
    // A held lock (as a running writer holds it) refuses a run and a sweep at once.
    let abs = std::path::absolute(&out).unwrap();
    {
        let _held = nitrosim::output_set::lock(&abs).unwrap();
        let sweep_file = scenario("srd-path-sweep.ron");
        for args in [
            vec!["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
            vec!["sweep", sweep_file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
        ] {
            let o = nitrosim(&args, None);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("is being written by another nitrosim"), "{err}");
        }
        assert!(!out.exists(), "nothing written by a refused writer");
    }
    // Two real processes: the first holds the folder while it simulates (about 1.5 s alone on
    // this machine, so that a second process slow to start on a loaded CI machine still finds
    // it running).
    let args = ["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--set", "duration=1s"];
    let mut first = Command::new(env!("CARGO_BIN_EXE_nitrosim")).args(args).spawn().unwrap();
    let lock_file = t.path().join(".out.lock");
    let mine = format!("pid {}", first.id());
    let mut refused = false;
    while first.try_wait().unwrap().is_none() {
        if std::fs::read_to_string(&lock_file).is_ok_and(|s| s.contains(&mine)) {
            let second = nitrosim(&[&args[..4], &["--quiet", "--seed", "9", "--set", "duration=2ms"]].concat(), None);
            let err = String::from_utf8_lossy(&second.stderr);
            assert_eq!(second.status.code(), Some(2), "{err}");
            assert!(err.contains("is being written by another nitrosim") && err.contains(&mine), "{err}");
            refused = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(first.wait().unwrap().success());
    assert!(refused, "the first run ended before the second could try");
    assert!(!lock_file.exists(), "the finished writer removed its lock file; the refused one left it alone");
    let m = assert_complete_set(&out);
    assert_eq!(m["manifest"]["seed"], 1, "the first run's result, whole");
}

/// A disk that fills while the result is written: the previous result and its separate pcap
/// folder stay whole, the run names the file it could not write and why, exits 1, and leaves
/// nothing beside either folder. Two limits: one the first file written (a pcap) passes no further
/// than, and one only the result's largest file reaches, after every pcap was written (they must
/// not be swapped in beside the old result).
#[test]
fn a_write_that_fails_midway_leaves_the_previous_result_whole() {
    let t = tempfile::tempdir().unwrap();
    let (out, pcap) = (t.path().join("out"), t.path().join("pcap"));
    let file = scenario("single-flow-cap.ron");
    let run = |seed: &str, out: &Path, pcap: &Path, limit: Option<u64>| {
        let (f, o, p) = (file.to_str().unwrap(), out.to_str().unwrap(), pcap.to_str().unwrap());
        let mut c = Command::new(env!("CARGO_BIN_EXE_nitrosim"));
        c.args(["run", f, "--out", o, "--pcap", p, "--quiet", "--seed", seed, "--set", "duration=2ms"]);
        c.env_remove("NITROSIM_TEST_KILL_AT");
        if let Some(limit) = limit {
            common::limit_file_size(&mut c, limit);
        }
        c.output().unwrap()
    };
    let first = run("1", &out, &pcap, None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let before = (tree(&out), tree(&pcap));
    // What seed 2 writes (the same every time): its largest result file, and its pcap files,
    // written first and all smaller.
    let (scratch, scratch_pcap) = (t.path().join("scratch"), t.path().join("scratch-pcap"));
    assert!(run("2", &scratch, &scratch_pcap, None).status.success());
    let largest = *tree(&scratch).values().max().unwrap();
    let largest_pcap = *tree(&scratch_pcap).values().max().unwrap();
    assert!(4096 < largest_pcap && largest_pcap < largest, "pcap files between 4 KiB and the largest result file");
    for limit in [4096, largest - 1] {
        let o = run("2", &out, &pcap, Some(limit));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "limit {limit}: {err}");
        assert!(
            err.contains("cannot write") && err.contains("File too large"),
            "limit {limit}: the cause is said: {err}"
        );
        assert!(!err.contains("Error reading bytes"), "limit {limit}: pcap-file's wording hid the cause: {err}");
        assert_eq!((tree(&out), tree(&pcap)), before, "limit {limit}: the previous folders, untouched");
        assert_eq!(assert_complete_set(&out)["manifest"]["seed"], 1);
        assert_eq!(assert_complete_set(&pcap)["manifest"]["seed"], 1);
        assert_no_temporaries(&out);
        assert_no_temporaries(&pcap);
        for lock in [".out.lock", ".pcap.lock"] {
            assert!(!t.path().join(lock).exists(), "limit {limit}: the failed writer removed {lock}");
        }
    }
    // The next writer, with room, replaces both whole.
    let third = run("3", &out, &pcap, None);
    assert!(third.status.success(), "{}", String::from_utf8_lossy(&third.stderr));
    assert_eq!(assert_complete_set(&out)["manifest"]["seed"], 3);
    assert_eq!(assert_complete_set(&pcap)["manifest"]["seed"], 3);
    assert_no_temporaries(&out);
}

/// `run --pcap P` apart from `--out O` swaps in two folders, one after the other. A kill between
/// the two swaps leaves each folder complete: the new captures beside the old result, each
/// `run.json` naming the run that wrote it, so a reader can tell them apart. The next run puts
/// both back together and leaves nothing beside either.
#[test]
fn kill_9_between_the_two_swaps_leaves_each_folder_whole_and_named() {
    let t = tempfile::tempdir().unwrap();
    let (out, pcap) = (t.path().join("out"), t.path().join("pcap"));
    let file = scenario("single-flow-cap.ron");
    let run = |seed: &str, kill: Option<&str>| {
        let (f, o, p) = (file.to_str().unwrap(), out.to_str().unwrap(), pcap.to_str().unwrap());
        nitrosim(&["run", f, "--out", o, "--pcap", p, "--quiet", "--seed", seed, "--set", "duration=2ms"], kill)
    };
    let first = run("1", None);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let killed = run("2", Some("output-between-swaps"));
    assert_eq!(killed.status.code(), None, "killed by a signal");
    let (result, captures) = (assert_complete_set(&out), assert_complete_set(&pcap));
    assert_eq!(result["manifest"]["seed"], 1, "the old result");
    assert_eq!(seed_of(&out), 1, "summary.json from the same run as the manifest");
    assert_eq!(captures["manifest"]["seed"], 2, "the new captures");
    assert_ne!(
        result["manifest"]["scenario_hash"], captures["manifest"]["scenario_hash"],
        "the two manifests tell the runs apart"
    );
    let next = run("3", None);
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    let (result, captures) = (assert_complete_set(&out), assert_complete_set(&pcap));
    assert_eq!((&result["manifest"]["seed"], &captures["manifest"]["seed"]), (&3.into(), &3.into()));
    assert_eq!(result["manifest"]["scenario_hash"], captures["manifest"]["scenario_hash"]);
    assert_no_temporaries(&out);
    assert_no_temporaries(&pcap);
}

#[test]
fn a_folder_that_is_not_a_result_is_never_replaced() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("notes.txt"), "mine").unwrap();
    let file = scenario("single-flow-cap.ron");
    let o = nitrosim(&["run", file.to_str().unwrap(), "--out", t.path().to_str().unwrap(), "--quiet"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds no nitrosim result"));
    assert_eq!(std::fs::read_to_string(t.path().join("notes.txt")).unwrap(), "mine");
}
