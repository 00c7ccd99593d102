//! A real Slurm job array runs a sharded sweep on a single-node cluster on localhost
//! (tests/slurm/cluster.sh starts munged, slurmctld and slurmd and stops them by PID), and the
//! merged result equals the single-machine sweep. `.ci/run` installs Debian's slurm-wlm and munge.

mod common;

use std::path::Path;
use std::process::Command;

const ARGS: [&str; 4] = [
    "--set=duration=4ms",
    "--set=sweep.seeds=2",
    r#"--set=sweep.parameters.0.values={"List": ["1", "8"]}"#,
    r#"--set=sweep.parameters.1.values={"List": ["0.3", "0.6"]}"#,
];

fn installed(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().is_ok_and(|o| o.status.success())
}

#[test]
fn a_slurm_job_array_of_shards_merges_to_the_single_machine_result() {
    if !["sbatch", "slurmctld", "slurmd", "munged"].iter().all(|c| installed(c)) {
        // CI installs Slurm (see .ci/run), so there this is a failure, not a skip.
        common::skip_or_fail("Slurm not installed", "apt-get install slurm-wlm munge, as .ci/run does");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/srd-path-sweep.ron");
    let bin = env!("CARGO_BIN_EXE_nitrosim");
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("cluster");
    let out = Command::new("timeout")
        .arg("600")
        .arg("bash")
        .arg(root.join("tests/slurm/cluster.sh"))
        .arg(bin)
        .arg(&scenario)
        .arg(&work)
        .arg("3")
        .args(ARGS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cluster script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for k in 0..3 {
        assert!(work.join(format!("shard-{k}/runs")).exists(), "shard {k} ran as array task {k}");
    }
    let single = t.path().join("single");
    let st = Command::new(bin)
        .arg("sweep")
        .arg(&scenario)
        .arg("--out")
        .arg(&single)
        .arg("--quiet")
        .args(ARGS)
        .status()
        .unwrap();
    assert!(st.success());
    for f in ["results.csv", "aggregate.csv", "sweep.json"] {
        let a = std::fs::read(work.join("merged").join(f)).unwrap();
        let b = std::fs::read(single.join(f)).unwrap();
        assert!(a == b, "{f} differs between the Slurm-merged and the single-machine sweep");
    }
}
