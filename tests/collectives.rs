//! Validation cases for EFA and collectives (`validation/efa-osu-latency-*`,
//! `validation/nccl-p5-allreduce-*`), run through the library's `nitrosim validate` machinery:
//! every case that is not a known gap holds, and every known gap still fails (so closing one makes
//! the list shrink instead of hiding it). Long cases run with NITROSIM_LONG=1.

mod common;
use common::*;

use nitrosim::report::summary::Summary;
use nitrosim::validate::{self, Verdict};
use std::path::Path;

/// Cases the model does not yet bring within their tolerance: reported as FAIL by
/// `nitrosim validate` (see README, "Validation against the outside"). None at present: the p5
/// all-reduce cases run `algorithm: Auto`, NCCL's cost model restricted to Ring and Tree with
/// Simple (see the case files for what that leaves open).
const KNOWN_GAPS: &[&str] = &[];

fn check_cases(prefix: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("validation");
    let cases = validate::load_cases(&dir).unwrap_or_else(|d| panic!("{d}"));
    let long = std::env::var_os("NITROSIM_LONG").is_some();
    let chosen: Vec<_> = cases.cases.iter().filter(|(n, c)| n.starts_with(prefix) && (long || !c.long)).collect();
    for (n, c) in &cases.cases {
        if n.starts_with(prefix) && c.long && !long {
            println!("SKIPPED: {n} is a long case (set NITROSIM_LONG=1 to run it)");
        }
    }
    assert!(!chosen.is_empty(), "no validation/{prefix}*.ron");
    let report = validate::run(root, &dir, &chosen, &nitrosim::progress::Progress::new(1, false));
    let mut failures = Vec::new();
    for r in &report.rows {
        assert!(r.source.url.starts_with("https://"), "{}: source needs a link", r.name);
        println!(
            "{}: {} = {:?} {} (reference {}, {}) {:?}",
            r.name, r.metric, r.value, r.unit, r.reference, r.tolerance, r.verdict
        );
        if KNOWN_GAPS.contains(&r.name.as_str()) {
            assert_eq!(r.verdict, Verdict::Fail, "{} now passes (or errs): update KNOWN_GAPS", r.name);
        } else if r.verdict != Verdict::Pass {
            failures.push(format!("{}: {:?} vs {} {}", r.name, r.value, r.reference, r.tolerance));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn efa_osu_latency_cases_hold() {
    check_cases("efa-osu-latency-");
}

#[test]
fn nccl_p5_allreduce_cases_hold() {
    check_cases("nccl-p5-allreduce-");
}

/// NCCL's bus bandwidth rises with the message size on a non-blocking fabric, and SRD neither
/// drops nor times out (issue 13: it fell from 32 MiB to 512 MiB with 2322 SRD timeouts), with
/// the algorithm NCCL's cost model picks (`Auto`, the default: the tree at all three sizes, as
/// `workload::nccl_tune`'s hand-worked test has it up to ~1.6 GiB); the forced ring is held to
/// the same below.
#[test]
fn nccl_bus_bandwidth_rises_with_size_without_srd_timeouts() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nccl-allreduce-p5.ron")).unwrap();
    let auto = run_text("nccl-allreduce-p5.ron", &text, &[]);
    for v in &auto.variants {
        let c = &v.workloads.collectives[0];
        let choice = c.nccl_choice.as_ref().expect("NCCL's choice reported");
        assert_eq!((choice.requested, choice.algorithm, choice.protocol), ("Auto", "Tree", "Simple"), "{}", v.name);
        assert_eq!(c.algorithm, "nccl tree all-reduce", "{}: the choice is what ran", v.name);
        assert!(choice.tree_simple_us < choice.ring_simple_us);
    }
    check_rising(&auto);
}

/// The tree at the sizes where NCCL's model runs it and where, before the fix, SRD dropped at the
/// receiving host's downlink and timed out (256 MiB: 21, 512 MiB: 2071, 1 GiB: 2269): an
/// interior node takes a channel's chunks from two children and its parent at once. SRD's window
/// now judges queueing against the paths' unloaded RTT and aims below the port buffer's drain
/// time, so the fan-in queue stays within the buffer: no drop, no timeout, and bus bandwidth
/// still rises.
#[test]
fn nccl_tree_fan_in_at_large_sizes_does_not_overflow_srd() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nccl-allreduce-p5.ron")).unwrap();
    let mut last = 0.0;
    for size in ["256MiB", "512MiB", "1GiB"] {
        let bytes = format!("workloads.allreduce.bytes={size}");
        let s = run_text("nccl-allreduce-p5.ron", &text, &[bytes.as_str(), "variants=[]"]);
        let v = &s.variants[0];
        assert_conserved(v);
        let c = &v.workloads.collectives[0];
        assert_eq!(c.algorithm, "nccl tree all-reduce", "{size}: NCCL's model runs the tree here");
        let srd = v.srd.as_ref().unwrap();
        assert_eq!((srd.timeouts, srd.retransmits), (0, 0), "{size}: SRD timeouts");
        assert!(v.drops.is_empty(), "{size}: drops {:?}", v.drops);
        println!("{size}: tree busbw {} GB/s", c.bus_gbyte_s);
        assert!(c.bus_gbyte_s > last, "{size}: busbw {} after {}", c.bus_gbyte_s, last);
        last = c.bus_gbyte_s;
    }
}

fn check_rising(s: &Summary) {
    let mut last = 0.0;
    for v in &s.variants {
        assert_conserved(v);
        let srd = v.srd.as_ref().unwrap();
        assert_eq!((srd.timeouts, srd.retransmits), (0, 0), "{}: SRD timeouts", v.name);
        assert!(v.drops.is_empty(), "{}: drops {:?}", v.name, v.drops);
        let c = &v.workloads.collectives[0];
        assert_eq!((c.members, c.ranks, c.channels), (8, 64, 32));
        println!("{}: {} B busbw {} GB/s", v.name, c.bytes, c.bus_gbyte_s);
        assert!(c.bus_gbyte_s > last, "{}: busbw {} after {}", v.name, c.bus_gbyte_s, last);
        last = c.bus_gbyte_s;
    }
}

/// NCCL's tree (`algorithm: Tree`) against its ring (`algorithm: Ring`) on the same fleet: the tree's serial path is
/// 2 x (GPUs per node - 1 + log2 nodes) steps, the ring's 2 x (ranks - 1), so the tree is faster
/// for a small buffer; an interior node of a channel's tree sends each chunk up once and down
/// twice over the channel's card (3x the channel's bytes, a ring edge about 2x), so the ring's
/// bus bandwidth is higher for a large one. Both rise with size and neither makes SRD drop or time out.
#[test]
fn nccl_tree_is_faster_small_and_the_ring_wider_large() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nccl-allreduce-p5.ron")).unwrap();
    let ring = run_text("nccl-allreduce-p5.ron", &text, &["workloads.allreduce.algorithm=Ring"]);
    let tree = run_text("nccl-allreduce-p5.ron", &text, &["workloads.allreduce.algorithm=Tree"]);
    check_rising(&ring);
    let mut last = 0.0;
    for (r, t) in ring.variants.iter().zip(&tree.variants) {
        assert_conserved(t);
        let srd = t.srd.as_ref().unwrap();
        assert_eq!((srd.timeouts, srd.retransmits), (0, 0), "{}: SRD timeouts", t.name);
        assert!(t.drops.is_empty(), "{}: drops {:?}", t.name, t.drops);
        let (rc, tc) = (&r.workloads.collectives[0], &t.workloads.collectives[0]);
        assert_eq!((tc.algorithm, tc.ranks, tc.channels), ("nccl tree all-reduce", 64, 32));
        println!(
            "{}: ring {} us {} GB/s, tree {} us {} GB/s",
            t.name, rc.time_us, rc.bus_gbyte_s, tc.time_us, tc.bus_gbyte_s
        );
        assert!(tc.bus_gbyte_s > last, "{}: tree busbw {} after {}", t.name, tc.bus_gbyte_s, last);
        last = tc.bus_gbyte_s;
    }
    let (first, big) = (ring.variants.first().unwrap(), ring.variants.last().unwrap());
    let (tfirst, tbig) = (tree.variants.first().unwrap(), tree.variants.last().unwrap());
    assert!(
        tfirst.workloads.collectives[0].time_us < first.workloads.collectives[0].time_us,
        "tree not faster at 8 MiB"
    );
    assert!(
        tbig.workloads.collectives[0].bus_gbyte_s < big.workloads.collectives[0].bus_gbyte_s,
        "ring not wider at 128 MiB"
    );
}

/// NCCL's tree is an all-reduce over EFA: over TCP it is a positioned mistake, not a silent ring.
#[test]
fn nccl_tree_over_tcp_is_refused_with_a_hint() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nccl-allreduce-p5.ron")).unwrap();
    let sets = [
        "workloads.allreduce.algorithm=Tree".to_string(),
        "workloads.allreduce.gpus_per_node=1".to_string(),
        "workloads.allreduce.transport=Tcp".to_string(),
    ];
    let Err(d) = nitrosim::scenario::load("nccl-allreduce-p5.ron", &text, &sets, None) else {
        panic!("a tree over TCP was accepted")
    };
    assert!(d.message.contains("tree") && d.expected.contains("EFA") && !d.hint.is_empty(), "{d}");
}

/// `Auto` needs NCCL's facts about the GPU node (compute capability, CPU, the plugin's network
/// latency): on an instance type nitrosim has none for it is a positioned mistake with a hint,
/// not a silent ring; forcing the algorithm runs.
#[test]
fn nccl_auto_on_an_unknown_gpu_node_is_refused_with_a_hint() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nccl-allreduce-p5.ron")).unwrap();
    let mut sets = vec!["instances.gpu.instance_type=c6in.32xlarge".to_string()];
    let Err(d) = nitrosim::scenario::load("nccl-allreduce-p5.ron", &text, &sets, None) else {
        panic!("Auto on a node without GPU facts was accepted")
    };
    assert!(d.message.contains("c6in.32xlarge") && d.hint.contains("algorithm: Ring"), "{d}");
    sets.push("workloads.allreduce.algorithm=Ring".to_string());
    assert!(nitrosim::scenario::load("nccl-allreduce-p5.ron", &text, &sets, None).is_ok());
}
