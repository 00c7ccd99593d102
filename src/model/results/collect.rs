//! Reading a finished run into its `VariantResult`: flows, the workloads' own sections (each
//! from its workload's `results` hook), counters, fabric and SRD statistics, event log and
//! capture summaries.

use super::*;
use crate::model::app_state::workload_kinds;
use crate::transport::TransportStats;
use crate::units::SimDuration;
use crate::workload::Collector;
use crate::workload::Workload;
use crate::workload::results::RunEnd;

/// The finished run as the workloads' `results` hooks read it.
struct Finished<'a> {
    m: &'a Model,
    stopped: SimTime,
}

impl RunEnd for Finished<'_> {
    fn stopped(&self) -> SimTime {
        self.stopped
    }
    fn instance_name(&self, i: u32) -> &str {
        &self.m.insts[i as usize].name
    }
    fn time_bin(&self) -> SimDuration {
        SimDuration(self.m.bin_ps)
    }
    fn ep_stats(&self, ep: u32) -> &TransportStats {
        self.m.eps[ep as usize].transport.stats()
    }
}

pub fn collect(m: Model) -> VariantResult {
    let stopped: SimTime = if m.all_finite && m.unfinished == 0 { m.q.now() } else { m.end };
    let flows: Vec<FlowResult> = m
        .flows
        .iter()
        .map(|f| {
            let (c, s) = (m.eps[f.client_ep as usize].transport.stats(), m.eps[f.server_ep as usize].transport.stats());
            let over = f.completed.unwrap_or(stopped).since(f.started);
            FlowResult {
                name: f.name.clone(),
                workload: f.workload.clone(),
                kind: f.kind,
                goodput_gbps: round3(gbps(f.delivered, over)),
                wire_gbps: round3(gbps(f.wire_rx, over)),
                bytes_delivered: f.delivered,
                retransmits: c.retransmits + s.retransmits,
                rtos: c.rtos + s.rtos,
                fast_retransmits: c.fast_retransmits + s.fast_retransmits,
                completed_us: f.completed.map(|t| round3(t.as_us_f64())),
                packets_sent: c.data_segments_sent,
                header_overhead: if c.data_wire_bytes_sent == 0 {
                    0.0
                } else {
                    ((1.0 - c.payload_bytes_sent as f64 / c.data_wire_bytes_sent as f64) * 1e4).round() / 1e4
                },
                mss: match &m.eps[f.client_ep as usize].transport {
                    crate::transport::Endpoint::Tcp(t) => Some(t.mss()),
                    _ => None,
                },
                aborted: matches!(&m.eps[f.client_ep as usize].transport, crate::transport::Endpoint::Tcp(t) if t.aborted()),
                abort_reason: match &m.eps[f.client_ep as usize].transport {
                    crate::transport::Endpoint::Tcp(t) => t.abort_reason().map(|r| r.describe()),
                    _ => None,
                },
            }
        })
        .collect();

    let throughput = Totals {
        goodput_gbps: round3(flows.iter().map(|f| f.goodput_gbps).sum()),
        wire_gbps: round3(flows.iter().map(|f| f.wire_gbps).sum()),
    };
    let run = Finished { m: &m, stopped };
    let mut parts = Collector::default();
    for a in &m.apps {
        workload_kinds!(a, w => w.results(&run, &mut parts),
            _ => unreachable!("every workload is back in its slot after a run"));
    }
    let (workloads, replays, unfinished) = parts.finish();

    let drops = DropReason::ALL
        .iter()
        .filter(|r| m.acct.dropped[r.index()] > 0)
        .map(|r| (r.name(), m.acct.dropped[r.index()]))
        .collect();
    let in_flight = m.in_flight_counted();
    let mut counters = BTreeMap::new();
    let mut warnings = unfinished;
    // Entries still tracked at the end: those idle past their timeout are gone by then.
    let end = m.end.max(m.now());
    let mut tracked_at_end = vec![0u32; m.insts.len()];
    for (ep, slot) in m.eps.iter().enumerate() {
        if slot.live && slot.conntrack != super::NONE {
            let k = slot.conntrack;
            tracked_at_end[k as usize] += (end.since(slot.conntrack_seen) <= m.conntrack_timeout(ep as u32, k)) as u32;
        }
    }
    let seconds = |t: &crate::ec2::conntrack::Timeouts| super::ConntrackTimeoutsS {
        tcp_established: t.tcp_established.as_secs_f64().round() as u64,
        udp: t.udp.as_secs_f64().round() as u64,
        udp_stream: t.udp_stream.as_secs_f64().round() as u64,
    };
    for (k, i) in m.insts.iter().enumerate() {
        let mut c = i.counters.clone();
        debug_assert!(tracked_at_end[k] <= i.conntrack_tracked);
        let available = i.conntrack_allowance.map(|max| max.saturating_sub(tracked_at_end[k]) as u64);
        if let Some(max) = i.conntrack_allowance {
            c.conntrack_allowance_available = available;
            // The primary ENI's timeouts (each ENI shows its own below).
            c.conntrack_timeouts_s = Some(seconds(&i.enis[0].conntrack_timeouts));
            c.conntrack_allowance_available_min = Some(c.conntrack_allowance_available_min.unwrap_or(max as u64));
        }
        for e in &i.enis {
            // The instance's allowance counters are the sums of its ENIs' (counted only there).
            let ec = &e.counters;
            c.bw_in_allowance_exceeded += ec.bw_in_allowance_exceeded;
            c.bw_out_allowance_exceeded += ec.bw_out_allowance_exceeded;
            c.pps_allowance_exceeded += ec.pps_allowance_exceeded;
            c.bw_in_allowance_dropped += ec.bw_in_allowance_dropped;
            c.bw_out_allowance_dropped += ec.bw_out_allowance_dropped;
            c.pps_allowance_dropped += ec.pps_allowance_dropped;
            c.conntrack_allowance_exceeded += ec.conntrack_allowance_exceeded;
            c.linklocal_allowance_exceeded += ec.linklocal_allowance_exceeded;
            let mut ec = e.counters;
            ec.conntrack_allowance_available = available;
            ec.conntrack_timeouts_s = available.map(|_| seconds(&e.conntrack_timeouts));
            c.enis.insert(e.name.clone(), ec);
        }
        let out = |n: usize| -> u64 {
            i.card_shapers
                .iter()
                .filter(|s| s[n] != super::NONE)
                .map(|s| m.ports[s[n] as usize].stats.packets_out)
                .sum()
        };
        (c.tx_pkts, c.rx_pkts) = (out(0), out(1));
        c.ena_srd_resource_utilization = c.nitrosim_srd_connections * 100 / (m.srd_connections_per_card as u64).max(1);
        // AWS's advice: compare eligible with SRD packets to spot a silent fallback.
        if c.ena_srd_eligible_tx_pkts > 0 && c.ena_srd_tx_pkts * 10 < c.ena_srd_eligible_tx_pkts * 9 {
            warnings.push(format!(
                "{}: only {} of {} ENA Express-eligible packets went over SRD; the rest fell back to plain ENA \
                 silently (packets over {} B, e.g. an MTU of 9001, or UDP without ena_srd_udp_enabled)",
                i.name,
                c.ena_srd_tx_pkts,
                c.ena_srd_eligible_tx_pkts,
                crate::ec2::ena_express::MAX_PACKET_BYTES
            ));
        }
        counters.insert(i.name.clone(), c);
    }
    let srd = (!m.srd_ctxs.is_empty()).then(|| {
        let mut r = SrdResult { window_min_bytes: u64::MAX, ..SrdResult::default() };
        for x in &m.srd_ctxs {
            let (s, rs) = (x.sender.stats(), x.receiver.stats());
            r.connections += 1;
            r.packets += s.packets;
            r.retransmits += s.retransmits;
            r.timeouts += s.timeouts;
            r.ecn_marks += s.ecn_marks;
            r.gave_up += s.gave_up;
            r.send_queue_drops += s.send_queue_drops;
            r.reorder_capacity_packets = x.receiver.capacity() as u64;
            r.reorder_max_occupancy = r.reorder_max_occupancy.max(rs.max_occupancy as u64);
            r.reorder_refused += rs.refused;
            r.receiver_skipped += rs.skipped;
            r.duplicates += rs.duplicates;
            r.window_min_bytes = r.window_min_bytes.min(s.min_window_bytes);
            r.window_max_bytes = r.window_max_bytes.max(s.max_window_bytes);
            let spines: std::collections::BTreeSet<u32> = (x.sender.paths_used().enumerate())
                .filter(|&(_, used)| used)
                .map(|(k, _)| m.srd_path_spines(x.src, x.dst, k as u32).0)
                .collect();
            r.spines_used = r.spines_used.max(spines.len() as u64);
        }
        r
    });
    let elapsed_ps = stopped.ps().max(1) as f64;
    let uplinks = m.fabric.tor_up.iter().chain(m.fabric.spine_down.iter());
    let max_util = uplinks.map(|&p| m.ports[p as usize].stats.busy_ps as f64 / elapsed_ps).fold(0.0, f64::max);
    // What the busy host links carried on the wire (IP packet plus Ethernet framing: the bytes that
    // took line time), per simulated second: issue 17's "link load per host".
    let (mut busy_uplinks, mut uplink_wire_bytes) = (0u64, 0u64);
    for &p in &m.fabric.host_up {
        let port = &m.ports[p as usize];
        if port.stats.packets_out > 0 {
            busy_uplinks += 1;
            uplink_wire_bytes += port.stats.bytes_out + port.stats.packets_out * port.framing_bytes() as u64;
        }
    }
    let host_uplink_gbps_mean = gbps(uplink_wire_bytes, stopped.since(SimTime::ZERO)) / busy_uplinks.max(1) as f64;
    let fabric_ports =
        m.fabric.host_up.iter().chain(&m.fabric.host_down).chain(&m.fabric.tor_up).chain(&m.fabric.spine_down);
    let (mut max_q, mut marks) = (0, 0);
    for &p in fabric_ports {
        let s = &m.ports[p as usize].stats;
        max_q = max_q.max(s.max_queued_bytes);
        marks += s.ecn_marks;
    }
    let cfg = &m.fabric.config;
    let bin_us = m.bin_ps as f64 / 1e6;
    let series = m
        .flows
        .iter()
        .map(|f| {
            (f.name.clone(), f.bins.iter().map(|&b| round3(b as f64 * 8.0 / (m.bin_ps as f64 / 1e12) / 1e9)).collect())
        })
        .collect();
    let fairness = Fairness::of(&flows.iter().map(|f| f.goodput_gbps).collect::<Vec<_>>());
    let link_crossings: u64 = m.ports.iter().filter(|p| p.framing_bytes() > 0).map(|p| p.stats.packets_out).sum();
    VariantResult {
        name: m.name.clone(),
        flows,
        fairness,
        workloads,
        drops,
        srd,
        warnings,
        packets: PacketTotals {
            sent: m.acct.sent,
            delivered: m.acct.delivered,
            dropped: m.acct.dropped_total(),
            in_flight,
            fragmented: m.acct.fragmented,
        },
        counters,
        fabric: FabricResult {
            spine_link_gbps: round3(cfg.spine_link.as_gbps_f64()),
            oversubscription: round3(cfg.oversubscription()),
            max_uplink_utilisation: round3(max_util),
            // To the kbit/s: a long, quiet run (seconds of RPCs) is well under a Mbit/s.
            host_uplink_gbps_mean: crate::units::round_to(host_uplink_gbps_mean, 6),
            max_queue_bytes: max_q,
            ecn_marks: marks,
        },
        throughput,
        memory: MemoryResult {
            peak_packets: m.pool.capacity_used() as u64,
            endpoint_slots: m.eps.len() as u64,
            ports: m.ports.len() as u64,
        },
        events_processed: m.q.events_processed(),
        link_crossings,
        events_per_crossing: super::events_per_crossing(m.q.events_processed(), link_crossings).map(round3),
        stage_passes: m.ports.iter().filter(|p| p.framing_bytes() == 0).map(|p| p.stats.packets_out).sum(),
        packet_hops: m.ports.iter().map(|p| p.stats.packets_out).sum(),
        simulated_us: round3(stopped.as_us_f64()),
        series,
        bin_us,
        ip: m.ip_counters,
        filter_drops: m
            .filters
            .iter()
            .zip(&m.filter_drops)
            .filter(|(_, n)| **n > 0)
            .map(|(f, &n)| (f.0.clone(), n))
            .collect(),
        event_log: (!m.log.entries.is_empty() || m.log.omitted > 0)
            .then_some(EventLogSummary { entries: m.log.entries.len() as u64, omitted: m.log.omitted }),
        events: m.log.entries,
        capture: m.capture.as_ref().map(|points| EventLogSummary {
            entries: points.iter().map(|p| p.records.len() as u64).sum(),
            omitted: points.iter().map(|p| p.omitted).sum(),
        }),
        captures: m.capture.unwrap_or_default(),
        capture_drops: m.capture_drops,
        replays,
        cost: {
            let bytes = |p: crate::net::PortId| m.ports[p as usize].stats.bytes_out;
            let nats = m.gateways.iter().filter_map(|g| g.nat.as_ref());
            let traffic = crate::ec2::cost::Traffic {
                inter_az_bytes: m.inter_az.values().map(|&p| bytes(p)).sum(),
                nat_processed_bytes: nats
                    .clone()
                    .map(|n| n.metrics.bytes_in_from_source + n.metrics.bytes_in_from_destination)
                    .sum(),
                nat_gateways: nats.clone().count() as u64,
                internet_egress_bytes: m.insts.iter().map(|i| bytes(i.outside)).sum::<u64>()
                    + nats.map(|n| n.metrics.bytes_out_to_destination).sum::<u64>(),
                seconds: stopped.since(SimTime::ZERO).as_secs_f64(),
            };
            crate::ec2::cost::PriceTable::us_east_1().cost(&traffic)
        },
        failovers: m
            .services
            .iter()
            .flat_map(|s| {
                s.delays.iter().map(|d| FailoverResult {
                    service: s.name.clone(),
                    mechanism: d.mechanism,
                    started_s: round3(d.started.since(SimTime::ZERO).as_secs_f64()),
                    delay_s: round3(d.delay.as_secs_f64()),
                    bounds_s: d.bounds.map(|b| [round3(b.min.as_secs_f64()), round3(b.max.as_secs_f64())]),
                })
            })
            .collect(),
        nat_gateways: m
            .gateways
            .iter()
            .filter_map(|g| {
                let nat = g.nat.as_ref()?;
                let port_drops: u64 = nat
                    .to_destination
                    .iter()
                    .chain(&nat.to_source)
                    .filter(|&&p| p != crate::model::NONE)
                    .map(|&p| m.ports[p as usize].stats.drops)
                    .sum();
                let mut metrics = nat.metrics;
                metrics.packets_drop_count = nat.own_drops + port_drops;
                // Translations idle past the timeout by the end have timed out, packet or not.
                metrics.idle_timeout_count += nat.idle_at(stopped) as u64;
                let (bw, pps) = crate::ec2::nat::capacity(nat.scaler.step);
                Some((
                    g.name.clone(),
                    NatGatewayResult {
                        metrics,
                        capacity_gbps: round3(bw.as_gbps_f64()),
                        capacity_pps: pps,
                        scaled_at_s: nat
                            .steps
                            .iter()
                            .map(|(t, _)| round3(t.since(SimTime::ZERO).as_secs_f64()))
                            .collect(),
                    },
                ))
            })
            .collect(),
    }
}
