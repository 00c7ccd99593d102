//! The wire and the host as they really behave: Ethernet framing on physical links (IEEE 802.3
//! arithmetic) and timing noise that keeps drop-tail phase effects from picking winners.

mod common;
use common::*;
use nitrosim::net::ETHERNET_FRAMING_BYTES;

const FRAMING: &str = include_str!("../scenarios/ethernet-framing.ron");
const FAIRNESS: &str = include_str!("../scenarios/rtt-fairness.ron");

#[test]
fn a_saturated_1gbps_link_carries_ip_bytes_at_the_framed_rate() {
    let s = run_text("ethernet-framing.ron", FRAMING, &[]);
    // IEEE 802.3: each IP packet takes its own bytes + 38 B of line time on the 1 Gbps link.
    for (name, ip_bytes, published) in [("ip-64b", 64.0, 0.627), ("ip-1500b", 1500.0, 0.975)] {
        let v = variant(&s, name);
        let arithmetic = ip_bytes / (ip_bytes + ETHERNET_FRAMING_BYTES as f64);
        assert!((arithmetic - published).abs() < 0.001, "{name}: {arithmetic} vs the published {published}");
        let gbps = v.flows[0].wire_gbps;
        assert!((gbps / published - 1.0).abs() < 0.02, "{name}: {gbps} Gbps of IP packets, expected {published}");
        assert!(v.drops.get("queue_full").copied().unwrap_or(0) > 0, "{name}: the link was not saturated");
    }
}

/// Goodputs of the two reported flows (a = the near flow, b = the other) and their RTOs.
fn pair(s: &nitrosim::report::summary::Summary, name: &str) -> (f64, f64, u64) {
    let v = variant(s, name);
    assert_eq!(v.flows.len(), 2);
    (v.flows[0].goodput_gbps, v.flows[1].goodput_gbps, v.flows.iter().map(|f| f.rtos).sum())
}

/// For each flow, in ms: the longest stretch in which it delivered nothing (its goodput series),
/// and the stretch of nothing that ends the run.
fn silences_ms(v: &nitrosim::model::results::VariantResult) -> Vec<(f64, f64)> {
    v.flows
        .iter()
        .map(|f| {
            let bins = &v.series.iter().find(|(name, _)| *name == f.name).expect("a series per flow").1;
            let (mut longest, mut run) = (0, 0);
            for &gbps in bins {
                run = if gbps == 0.0 { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            (longest as f64 * v.bin_us / 1e3, run as f64 * v.bin_us / 1e3)
        })
        .collect()
}

/// A bulk flow silent this long is waiting on a timer, not sharing: 10 ms is some 200 of this
/// path's round trips (~52 us), and 50 of the long path's.
const STALL_MS: f64 = 10.0;

/// The flow of a pair that stalled, if one did: its longest silence, `STALL_MS` or more, is the
/// one that ends the run (its 200 ms RTO falls beyond the 150 ms run).
fn stalled_flow(v: &nitrosim::model::results::VariantResult, seed: u64) -> Option<usize> {
    let silences = silences_ms(v);
    let stalled: Vec<usize> = (0..silences.len()).filter(|&i| silences[i].0 >= STALL_MS).collect();
    assert!(stalled.len() <= 1, "seed {seed}, {}: both flows stalled: {silences:?}", v.name);
    let i = *stalled.first()?;
    assert!(
        silences[i].1 == silences[i].0,
        "seed {seed}, {}: a silence ended before any RTO could fire: {silences:?}",
        v.name
    );
    Some(i)
}

#[test]
fn with_default_noise_equal_rtts_share_and_the_short_rtt_wins() {
    // Equal RTTs share the drop-tail port unless one flow stalls: it loses a retransmission with
    // nothing sent after it to reveal the loss (RACK), so it waits for the 200 ms RTO (as Linux's
    // rules would have it; not measured against the kernel), and here that falls beyond the
    // 150 ms run. So every run either shares as it should
    // (same RTT: within 1.5x, Jain's index above 0.96; 4x RTT: the short flow at least twice the
    // long one) or has one flow silent from some point to the end, and that flow is the one
    // behind; and sharing is the rule (seeds 1-30, 60 runs: 1 to 4 stalled in the builds of
    // 2026-12-05).
    let mut stalled = Vec::new();
    for seed in 1..=30 {
        let s = run_text("rtt-fairness.ron", FAIRNESS, &[&format!("seed={seed}")]);
        for (name, at_least) in [("same-rtt", None), ("4x-rtt", Some(2.0))] {
            let v = variant(&s, name);
            let (a, b, rtos) = pair(&s, name);
            let ratio = a.max(b) / a.min(b);
            if let Some(i) = stalled_flow(v, seed) {
                assert_eq!(
                    i,
                    if a < b { 0 } else { 1 },
                    "seed {seed}, {name}: goodputs {a} and {b}, but the stalled flow is not the one behind"
                );
                stalled.push((seed, name, ratio));
            } else if let Some(least) = at_least {
                assert!(a / b >= least, "seed {seed}, {name}: short {a} vs long {b} Gbps");
            } else {
                assert!(ratio <= 1.5, "seed {seed}, {name}: goodputs {a} and {b} (ratio {ratio:.2})");
                assert_eq!(rtos, 0, "seed {seed}, {name}: no RTOs");
                let f = v.fairness.as_ref().expect("two flows");
                assert!((f.max_min_ratio - ratio).abs() < 0.01 && f.jain_index > 0.96, "seed {seed}: {f:?}");
            }
        }
    }
    println!("stalls (seed, variant, ratio): {stalled:?}");
    assert!(stalled.len() <= 5, "more than 5 of the 60 runs stalled: {stalled:?}");
}

#[test]
fn noise_is_seeded_and_switchable() {
    let a = json(&run_text("rtt-fairness.ron", FAIRNESS, &[]));
    let b = json(&run_text("rtt-fairness.ron", FAIRNESS, &[]));
    assert_eq!(a, b, "same seed, same noise, same bytes");
    let c = json(&run_text("rtt-fairness.ron", FAIRNESS, &["seed=2"]));
    assert_ne!(a, c, "another seed draws other noise");
    // Off, every stage is exactly periodic: the seed no longer matters (nothing else is random here).
    let off1 = json(&run_text("rtt-fairness.ron", FAIRNESS, &["noise.enabled=false", "seed=1"]));
    let off2 = json(&run_text("rtt-fairness.ron", FAIRNESS, &["noise.enabled=false", "seed=2"]));
    let strip = |j: &str| j.lines().filter(|l| !l.contains("\"seed\"")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&off1), strip(&off2));
    // And per parameter: zero spreads are the same as off.
    let zero = json(&run_text(
        "rtt-fairness.ron",
        FAIRNESS,
        &["noise.host_cost_spread=0", "noise.card_delay_spread=0", "seed=1"],
    ));
    assert_eq!(zero, off1);
}

#[test]
fn a_spread_out_of_range_is_a_scenario_error() {
    let e = load_error("rtt-fairness.ron", FAIRNESS, &["noise.card_delay_spread=1.5"]);
    assert!(e.contains("card_delay_spread") && e.contains("0 ..= 1"), "{e}");
}

#[test]
fn a_receive_window_beyond_linuxs_int_is_a_scenario_error() {
    // Linux's tcp_rmem is an int; a larger buffer would also let SACK blocks lie beyond the 32-bit
    // offsets a segment keeps them in.
    for too_big in ["2GiB", "4GiB"] {
        let e = load_error("rtt-fairness.ron", FAIRNESS, &[&format!("tcp.receive_window={too_big}")]);
        assert!(e.contains("receive_window") && e.contains("2147483647B"), "{too_big}: {e}");
    }
    let e = load_error("rtt-fairness.ron", FAIRNESS, &["tcp.receive_window=1GiB"]);
    assert!(e.is_empty(), "{e}");
}
