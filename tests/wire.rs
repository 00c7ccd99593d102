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

/// The longest stretch, in ms, in which each flow delivered nothing (its goodput series), and
/// whether that stretch reached the end of the run.
fn silences_ms(v: &nitrosim::model::results::VariantResult) -> Vec<(f64, bool)> {
    v.flows
        .iter()
        .map(|f| {
            let bins = &v.series.iter().find(|(name, _)| *name == f.name).expect("a series per flow").1;
            let (mut longest, mut run, mut to_end) = (0, 0, false);
            for (i, &gbps) in bins.iter().enumerate() {
                run = if gbps == 0.0 { run + 1 } else { 0 };
                if run > longest {
                    (longest, to_end) = (run, i + 1 == bins.len());
                }
            }
            (longest as f64 * v.bin_us / 1e3, to_end)
        })
        .collect()
}

/// A bulk flow silent this long is waiting on a timer, not sharing: 10 ms is some 200 of this
/// path's round trips (~52 us).
const STALL_MS: f64 = 10.0;

#[test]
fn with_default_noise_equal_rtts_share_and_the_short_rtt_wins() {
    // Equal RTTs share the drop-tail port unless one flow stalls: a retransmission of its lost
    // with nothing sent after it to reveal the loss (RACK), it waits for the 200 ms RTO, as
    // Linux's would, and here that falls beyond the 150 ms run. So: every seed either shares
    // (within 1.5x, Jain's index above 0.96) or has exactly one flow silent from some point to
    // the end, and that flow is the one behind; and sharing is the rule (over seeds 1-30, 2 or 3
    // stalled in the builds of 2026-12-05).
    let mut stalled = Vec::new();
    for seed in 1..=30 {
        let s = run_text("rtt-fairness.ron", FAIRNESS, &[&format!("seed={seed}")]);
        let same = variant(&s, "same-rtt");
        let (a, b, rtos) = pair(&s, "same-rtt");
        let ratio = a.max(b) / a.min(b);
        let silences = silences_ms(same);
        let stalls: Vec<usize> = (0..2).filter(|&i| silences[i].0 >= STALL_MS).collect();
        if stalls.is_empty() {
            assert!(ratio <= 1.5, "seed {seed}: same RTT, goodputs {a} and {b} (ratio {ratio:.2})");
            assert_eq!(rtos, 0, "seed {seed}: same RTT, no RTOs");
            let f = same.fairness.as_ref().expect("two flows");
            assert!((f.max_min_ratio - ratio).abs() < 0.01 && f.jain_index > 0.96, "seed {seed}: {f:?}");
        } else {
            assert_eq!(stalls.len(), 1, "seed {seed}: both flows stalled: {silences:?}");
            let behind = if a < b { 0 } else { 1 };
            assert_eq!(stalls[0], behind, "seed {seed}: goodputs {a} and {b}, silences {silences:?}");
            assert!(silences[behind].1, "seed {seed}: a stall ended before its RTO could fire: {silences:?}");
            stalled.push((seed, ratio));
        }
        let long_stalled = silences_ms(variant(&s, "4x-rtt")).iter().any(|&(ms, _)| ms >= STALL_MS);
        let (short, long, _) = pair(&s, "4x-rtt");
        assert!(long_stalled || short / long >= 2.0, "seed {seed}: 4x RTT, short {short} vs long {long} Gbps");
    }
    println!("same-RTT stalls (seed, ratio): {stalled:?}");
    assert!(stalled.len() <= 5, "stalls in more than a sixth of the seeds: {stalled:?}");
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
