//! The readable table printed on stdout after a run.

use super::summary::Summary;
use std::fmt::Write;

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "scenario {}  seed {}", s.scenario, s.seed);
    for v in &s.variants {
        let _ = writeln!(o, "\n== variant {} ({} us simulated, {} events)", v.name, v.simulated_us, v.events_processed);
        if !v.flows.is_empty() {
            let _ = writeln!(o, "  {:<28} {:>10} {:>10} {:>8} {:>6}", "flow", "goodput", "wire", "retx", "RTOs");
            let shown = v.flows.len().min(12);
            for f in &v.flows[..shown] {
                let _ = writeln!(
                    o,
                    "  {:<28} {:>6.3} Gbps {:>5.3} Gbps {:>8} {:>6}",
                    truncate(&f.name, 28),
                    f.goodput_gbps,
                    f.wire_gbps,
                    f.retransmits,
                    f.rtos
                );
            }
            if v.flows.len() > shown {
                let total: f64 = v.flows.iter().map(|f| f.wire_gbps).sum();
                let _ = writeln!(
                    o,
                    "  ... {} more flows; all flows together: {:.3} Gbps wire",
                    v.flows.len() - shown,
                    total
                );
            }
        }
        if let Some(r) = &v.workloads.rpc {
            let l = &r.latency_us;
            let _ = writeln!(
                o,
                "  RPC latency (us, {} measured): p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  p99.99 {:.1}  max {:.1}",
                r.count, l.p50, l.p90, l.p99, l.p999, l.p9999, l.max
            );
        }
        if let Some(d) = &v.workloads.datagrams {
            let l = &d.latency_us;
            let _ = writeln!(
                o,
                "  datagram one-way latency (us, {}): p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
                d.count, l.p50, l.p99, l.p999, l.max
            );
        }
        if let Some(b) = &v.workloads.background {
            let _ = writeln!(
                o,
                "  background: {} flows done of {} started ({} skipped), {:.2} Gbps, FCT p50 {:.0} us p99 {:.0} us",
                b.flows_completed, b.flows_started, b.flows_skipped, b.goodput_gbps, b.fct_us.p50, b.fct_us.p99
            );
        }
        if !v.workloads.pingpong.is_empty() {
            let _ =
                writeln!(o, "  {:<16} {:>5} {:>12} {:>14} {:>10}", "ping-pong", "via", "size", "latency (us)", "Gbps");
            for p in &v.workloads.pingpong {
                let _ = writeln!(
                    o,
                    "  {:<16} {:>5} {:>12} {:>14.2} {:>10.3}",
                    truncate(&p.workload, 16),
                    p.transport,
                    crate::units::Bytes(p.size_bytes).to_string(),
                    p.latency_us,
                    p.gbps
                );
            }
        }
        for c in &v.workloads.collectives {
            if c.ranks != c.members {
                let _ = writeln!(
                    o,
                    "  {} ({} of {} over {} instances x {} GPUs, {}, {} channel(s)): {:.1} us per collective, algbw {:.1} GB/s, busbw {:.1} GB/s",
                    c.workload,
                    c.algorithm,
                    crate::units::Bytes(c.bytes),
                    c.members,
                    c.ranks / c.members.max(1),
                    c.transport,
                    c.channels,
                    c.time_us,
                    c.alg_gbyte_s,
                    c.bus_gbyte_s
                );
                continue;
            }
            let _ = writeln!(
                o,
                "  {} ({} of {} over {} instances, {}, {} card(s) per pair): {:.1} us per collective, bus bandwidth {:.1} Gbps",
                c.workload,
                c.algorithm,
                crate::units::Bytes(c.bytes),
                c.members,
                c.transport,
                c.cards,
                c.time_us,
                c.bus_gbps
            );
        }
        if let Some(p) = &v.workloads.permutation {
            let _ = writeln!(
                o,
                "  permutation: {} flows, {:.1} Gbps in all; per flow min {:.2} mean {:.2} max {:.2} Gbps",
                p.flows, p.goodput_gbps, p.flow_goodput_gbps_min, p.flow_goodput_gbps_mean, p.flow_goodput_gbps_max
            );
        }
        if let Some(r) = &v.srd {
            let _ = writeln!(
                o,
                "  SRD: {} connections, {} packets, {} retransmitted ({} timeouts, {} given up), reorder buffer peak {}/{}, refused {}",
                r.connections,
                r.packets,
                r.retransmits,
                r.timeouts,
                r.gave_up,
                r.reorder_max_occupancy,
                r.reorder_capacity_packets,
                r.reorder_refused
            );
        }
        let srd_counters: Vec<_> =
            v.counters.iter().filter(|(_, c)| c.ena_srd_eligible_tx_pkts > 0 || c.ena_srd_rx_pkts > 0).collect();
        if srd_counters.len() > 8 {
            let _ = writeln!(o, "  ENA Express counters of {} instances: see summary.json", srd_counters.len());
        }
        for (name, c) in srd_counters.into_iter().take(8) {
            let _ = writeln!(
                o,
                "  {name}: ena_srd_mode {} ena_srd_tx_pkts {} ena_srd_eligible_tx_pkts {} ena_srd_rx_pkts {} ena_srd_resource_utilization {}%",
                c.ena_srd_mode,
                c.ena_srd_tx_pkts,
                c.ena_srd_eligible_tx_pkts,
                c.ena_srd_rx_pkts,
                c.ena_srd_resource_utilization
            );
        }
        for w in &v.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let drops: Vec<String> = v.drops.iter().map(|(k, n)| format!("{k}={n}")).collect();
        let p = &v.packets;
        let _ = writeln!(
            o,
            "  packets: sent {} = delivered {} + dropped {}{} + in flight {}{}",
            p.sent,
            p.delivered,
            p.dropped,
            if p.fragmented > 0 { format!(" + fragmented {}", p.fragmented) } else { String::new() },
            p.in_flight,
            if drops.is_empty() { String::new() } else { format!("  [{}]", drops.join(", ")) }
        );
        let ip = &v.ip;
        if ip.packets_fragmented > 0 || ip.reassembly_failed > 0 {
            let _ = writeln!(
                o,
                "  ip: {} packets fragmented into {} (+{} header bytes), {} datagrams reassembled, {} lost in reassembly",
                ip.packets_fragmented,
                ip.fragments_created,
                ip.fragment_header_bytes,
                ip.datagrams_reassembled,
                ip.reassembly_failed
            );
        }
        if ip.icmp_frag_needed_sent > 0 {
            let _ = writeln!(
                o,
                "  pmtud: ICMP fragmentation-needed sent {}, received {}; path MTUs learnt {}",
                ip.icmp_frag_needed_sent, ip.icmp_frag_needed_received, ip.pmtu_learnt
            );
        }
        for (rule, n) in &v.filter_drops {
            let _ = writeln!(o, "  refused {n} packet(s): {rule}");
        }
        for c in &v.workloads.service_clients {
            let _ = writeln!(
                o,
                "  {} {}: {} responses, outage {:.1} s, {} timeouts, {} resets, {} connections",
                c.workload,
                c.client,
                c.requests_ok,
                c.outage_ms / 1e3,
                c.timeouts,
                c.resets,
                c.connections
            );
        }
        for f in v.flows.iter().filter(|f| f.aborted) {
            let why = f.abort_reason.unwrap_or("retransmissions timed out");
            let _ = writeln!(o, "  {}: connection aborted ({why})", f.name);
        }
        let _ = writeln!(
            o,
            "  fabric: busiest uplink {:.0}% utilised, deepest queue {} B",
            v.fabric.max_uplink_utilisation * 100.0,
            v.fabric.max_queue_bytes
        );
    }
    o.push_str(&comparison(s));
    o.push_str(&flowlogs_comparison(s));
    o
}

/// `x` against `base` in whole percent with its sign: a change that rounds to nothing reads `+0%`,
/// never `-0%`.
fn change_percent(x: f64, base: f64) -> String {
    let percent = ((x / base - 1.0) * 100.0).round() + 0.0;
    format!("{percent:+.0}%")
}

/// Side by side, each variant against its baseline (its `baseline`, else the first variant).
fn comparison(s: &Summary) -> String {
    let mut o = String::new();
    let with_rpc: Vec<usize> = (0..s.variants.len()).filter(|&i| s.variants[i].workloads.rpc.is_some()).collect();
    if with_rpc.len() < 2 {
        return o;
    }
    let _ = writeln!(o, "\n== RPC latency side by side (us; change against each variant's baseline)");
    let _ = writeln!(
        o,
        "  {:<22} {:<22} {:>18} {:>18} {:>18} {:>18} {:>22}",
        "variant", "compared with", "p50", "p99", "p99.9", "p99.99", "bulk goodput (Gbps)"
    );
    for &i in &with_rpc {
        let v = &s.variants[i];
        let bi = s.baseline_of(i);
        let base = &s.variants[bi];
        let l = &v.workloads.rpc.as_ref().expect("filtered").latency_us;
        let b = base.workloads.rpc.as_ref().map(|r| &r.latency_us);
        let cell = |x: f64, pick: fn(&crate::model::results::Percentiles) -> f64| match b {
            Some(b) if bi != i && pick(b) != 0.0 => format!("{x:.1} ({})", change_percent(x, pick(b))),
            _ => format!("{x:.1}"),
        };
        // The fastest bulk flow's goodput: what "single-flow throughput" means to a user.
        let bulk = super::html::best_bulk_goodput(v).map_or("-".to_string(), |g| format!("{:.2}", g + 0.0));
        let _ = writeln!(
            o,
            "  {:<22} {:<22} {:>18} {:>18} {:>18} {:>18} {:>22}",
            truncate(&v.name, 22),
            if bi == i { "(baseline)".to_string() } else { truncate(&base.name, 22) },
            cell(l.p50, |b| b.p50),
            cell(l.p99, |b| b.p99),
            cell(l.p999, |b| b.p999),
            cell(l.p9999, |b| b.p9999),
            bulk
        );
    }
    o
}

/// A replayed flow log, per original 5-tuple group: each variant's mean exchange time, goodput
/// and retransmissions side by side, with the change against the first variant.
fn flowlogs_comparison(s: &Summary) -> String {
    let mut o = String::new();
    let Some(first) = s.variants.first() else { return o };
    for (w, fl) in first.replays.flowlogs.iter().enumerate() {
        let _ = writeln!(
            o,
            "\n== flow log replay `{}`: {} records ({} NODATA, {} SKIPDATA, {} REJECT, {} not TCP, {} from unknown interfaces, {} unmapped)",
            fl.workload,
            fl.records,
            fl.nodata_records,
            fl.skipdata_records,
            fl.rejected_records,
            fl.not_tcp_records,
            fl.unknown_interface_records,
            fl.unmapped_address_records
        );
        let _ = writeln!(
            o,
            "  per original 5-tuple group: mean exchange time (ms), goodput (Gbps), retransmissions; change against {}",
            first.name
        );
        let mut head = format!("  {:<42} {:>8}", "group (initiator first)", "MB");
        for v in &s.variants {
            let _ = write!(head, " | {:>30}", truncate(&v.name, 30));
        }
        let _ = writeln!(o, "{head}");
        for (k, g) in fl.groups.iter().enumerate() {
            let mut row = format!("  {:<42} {:>8.1}", truncate(&g.group, 42), g.replayed_bytes as f64 / 1e6);
            for v in &s.variants {
                let Some(vg) = v.replays.flowlogs.get(w).and_then(|f| f.groups.get(k)) else { continue };
                let cell = match (vg.exchange_us_mean, g.exchange_us_mean) {
                    // (The column is 30 wide; summary.json has the verdict in full.)
                    _ if vg.verdict == crate::workload::replay::NOT_STARTED => "not started (run ended)".to_string(),
                    _ if vg.logged == "REJECT" => {
                        if vg.established {
                            "ALLOWED (logged REJECT)".to_string()
                        } else {
                            "refused, as logged".to_string()
                        }
                    }
                    (None, _) => format!("not done ({})", vg.verdict),
                    (Some(x), Some(b)) if !std::ptr::eq(v, first) && b > 0.0 => format!(
                        "{:.2} ({}) {:.2} G {}r",
                        x / 1e3,
                        change_percent(x, b),
                        vg.goodput_gbps,
                        vg.retransmits
                    ),
                    (Some(x), _) => format!("{:.2} {:.2} G {}r", x / 1e3, vg.goodput_gbps, vg.retransmits),
                };
                let _ = write!(row, " | {cell:>30}");
            }
            let _ = writeln!(o, "{row}");
        }
    }
    o
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}~")
    }
}

#[cfg(test)]
mod tests {
    use super::change_percent;

    #[test]
    fn a_change_that_rounds_to_nothing_has_no_minus_sign() {
        assert_eq!(change_percent(3.819, 3.82), "+0%");
        assert_eq!(change_percent(3.82, 3.82), "+0%");
        assert_eq!(change_percent(12.91, 64.37), "-80%");
        assert_eq!(change_percent(1.5, 1.0), "+50%");
    }
}
