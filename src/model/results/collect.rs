//! Reading a finished run into its `VariantResult`: flows, latencies, workloads' own results,
//! counters, fabric and SRD statistics, event log and capture summaries.

use super::*;

fn merge(into: &mut Option<Histogram<u64>>, h: &Histogram<u64>) {
    match into {
        Some(acc) => acc.add(h).expect("histograms share bounds"),
        None => *into = Some(h.clone()),
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
    let (mut rpc_h, mut dgram_h) = (None, None);
    let mut dgram_min: Option<u64> = None;
    let (mut issued, mut completed, mut incomplete) = (0, 0, 0);
    let mut background = None;
    let mut permutation = None;
    let mut pingpong = Vec::new();
    let mut collectives = Vec::new();
    let mut service_clients = Vec::new();
    let mut service_outages = Vec::new();
    // Finite workloads that did not finish in the run: said, not silently left out.
    let mut unfinished: Vec<String> = Vec::new();
    let mut connections = Vec::new();
    let mut flowlogs = Vec::new();
    let mut success_series = Vec::new();
    for a in &m.apps {
        match a {
            App::ServiceClients(sc) => {
                for c in &sc.clients {
                    let ongoing = c.last_ok.map_or(stopped.since(SimTime::ZERO), |t| stopped.since(t));
                    let outage = if c.outstanding.is_some() { c.longest_gap.max(ongoing) } else { c.longest_gap };
                    service_clients.push(ServiceClientResult {
                        workload: sc.spec.name.clone(),
                        client: m.insts[c.instance as usize].name.clone(),
                        requests_ok: c.ok,
                        outage_ms: round3(outage.as_secs_f64() * 1e3),
                        timeouts: c.timeouts,
                        resets: c.resets,
                        connections: c.connections,
                    });
                }
                let outages: Vec<f64> = service_clients[service_clients.len() - sc.clients.len()..]
                    .iter()
                    .map(|c: &ServiceClientResult| c.outage_ms)
                    .collect();
                if !outages.is_empty() {
                    service_outages.push(ServiceOutageResult {
                        workload: sc.spec.name.clone(),
                        clients: outages.len() as u64,
                        outage_ms_mean: round3(outages.iter().sum::<f64>() / outages.len() as f64),
                        outage_ms_min: outages.iter().copied().fold(f64::INFINITY, f64::min),
                        outage_ms_max: outages.iter().copied().fold(0.0, f64::max),
                    });
                }
                let bin_s = m.bin_ps as f64 / 1e12;
                success_series
                    .push((sc.spec.name.clone(), sc.ok_bins.iter().map(|&n| round3(n as f64 / bin_s)).collect()));
            }
            App::Rpc(r) => {
                let mut h = r.measured.clone();
                for issued_at in r.conns.iter().flat_map(|c| c.book.outstanding_since()) {
                    if issued_at >= r.warmup_end {
                        h.saturating_record(stopped.since(issued_at).ps().div_ceil(1000).max(1));
                        incomplete += 1;
                    }
                }
                merge(&mut rpc_h, &h);
                issued += r.issued;
                completed += r.completed;
            }
            App::Datagrams(d) => {
                merge(&mut dgram_h, &d.latency);
                if let Some(m) = d.min_latency {
                    dgram_min = Some(dgram_min.map_or(m.ps(), |x| x.min(m.ps())));
                }
            }
            App::Background(b) => {
                background = Some(BackgroundResult {
                    flows_started: b.started,
                    flows_completed: b.completed,
                    flows_skipped: b.skipped,
                    goodput_gbps: round3(gbps(b.bytes_completed, stopped.since(SimTime::ZERO))),
                    fct_us: Percentiles::from_ns(&b.fct),
                })
            }
            App::Bulk(_) => {}
            App::Taken => unreachable!("every workload is back in its slot after a run"),
            App::Connections(c) => connections.push(ConnectionsResult {
                workload: c.spec.name.clone(),
                opened: c.opened,
                established: c.established,
                not_established: c.opened - c.established,
            }),
            App::FlowLogs(f) => flowlogs.push(f.result(&m)),
            App::AllReduce(a) if !a.times.is_empty() => {
                // NCCL's bus bandwidth counts ranks (GPUs), not instances.
                let ranks = a.nccl.as_ref().map_or(a.members.len(), |r| r.ranks);
                let n = ranks as f64;
                let mean_ps = a.times.iter().map(|t| t.ps() as f64).sum::<f64>() / a.times.len() as f64;
                let secs = mean_ps / 1e12;
                let factor = if a.all_to_all { (n - 1.0) / n } else { 2.0 * (n - 1.0) / n };
                collectives.push(CollectiveResult {
                    workload: a.spec.name.clone(),
                    algorithm: if a.all_to_all {
                        "all-to-all"
                    } else if a.nccl.is_some() {
                        "nccl ring all-reduce"
                    } else {
                        "ring all-reduce"
                    },
                    transport: a.spec.transport.label(),
                    members: a.members.len() as u64,
                    ranks: ranks as u64,
                    channels: a.nccl.as_ref().map_or(a.cards, |r| r.channels) as u64,
                    cards: a.cards as u64,
                    bytes: a.spec.bytes.0,
                    time_us: round3(mean_ps / 1e6),
                    bus_gbps: round3(factor * a.spec.bytes.0 as f64 * 8.0 / secs / 1e9),
                    // nccl-tests' units: GB/s with GB = 1e9 bytes.
                    alg_gbyte_s: round3(a.spec.bytes.0 as f64 / secs / 1e9),
                    bus_gbyte_s: round3(factor * a.spec.bytes.0 as f64 / secs / 1e9),
                });
            }
            App::AllReduce(a) => unfinished.push(format!(
                "workload {:?}: no collective finished before the end of the run (lengthen `duration`)",
                a.spec.name
            )),
            App::PingPong(p) => {
                if p.results.len() < p.spec.sizes.len() {
                    unfinished.push(format!(
                        "workload {:?}: {} of {} message sizes finished before the end of the run; the rest are not \
                         reported (lengthen `duration` or use fewer iterations)",
                        p.spec.name,
                        p.results.len(),
                        p.spec.sizes.len()
                    ));
                }
                let transport = p.spec.transport.label();
                for &(size, t) in &p.results {
                    pingpong.push(PingPongPoint {
                        workload: p.spec.name.clone(),
                        transport,
                        size_bytes: size,
                        window: p.spec.window,
                        latency_us: round3(t.as_us_f64()),
                        gbps: round3(gbps(size * p.spec.window as u64, t)),
                    });
                }
            }
            App::Permutation(p) => {
                let over = stopped.since(SimTime::ZERO);
                let rates: Vec<f64> = p
                    .flows
                    .iter()
                    .map(|f| gbps(f.delivered, f.completed.unwrap_or(stopped).since(SimTime::ZERO)))
                    .collect();
                let n = rates.len().max(1) as f64;
                permutation = Some(PermutationResult {
                    flows: p.flows.len() as u64,
                    completed: p.flows.iter().filter(|f| f.completed.is_some()).count() as u64,
                    goodput_gbps: round3(gbps(p.flows.iter().map(|f| f.delivered).sum(), over)),
                    flow_goodput_gbps_min: round3(rates.iter().copied().fold(f64::MAX, f64::min).min(f64::MAX)),
                    flow_goodput_gbps_mean: round3(rates.iter().sum::<f64>() / n),
                    flow_goodput_gbps_max: round3(rates.iter().copied().fold(0.0, f64::max)),
                });
            }
        }
    }
    let rpc = rpc_h.as_ref().map(|h| RpcResult {
        count: h.len(),
        issued,
        completed,
        incomplete,
        latency_us: Percentiles::from_ns(h),
    });
    let datagrams = dgram_h.as_ref().map(|h| LatencyResult {
        count: h.len(),
        latency_us: Percentiles::from_ns(h),
        min_ps: dgram_min,
    });

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
            let spines: std::collections::BTreeSet<u32> =
                x.sender.path_sent().zip(&x.path_spine).filter(|(n, _)| *n > 0).map(|(_, &sp)| sp).collect();
            r.spines_used = r.spines_used.max(spines.len() as u64);
        }
        r
    });
    let elapsed_ps = stopped.ps().max(1) as f64;
    let uplinks = m.fabric.tor_up.iter().chain(m.fabric.spine_down.iter());
    let max_util = uplinks.map(|&p| m.ports[p as usize].stats.busy_ps as f64 / elapsed_ps).fold(0.0, f64::max);
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
    VariantResult {
        name: m.name.clone(),
        flows,
        fairness,
        rpc,
        datagrams,
        background,
        permutation,
        pingpong,
        collectives,
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
        link_crossings: m.ports.iter().filter(|p| p.framing_bytes() > 0).map(|p| p.stats.packets_out).sum(),
        stage_passes: m.ports.iter().filter(|p| p.framing_bytes() == 0).map(|p| p.stats.packets_out).sum(),
        packet_hops: m.ports.iter().map(|p| p.stats.packets_out).sum(),
        simulated_us: round3(stopped.as_us_f64()),
        rpc_histogram: rpc_h,
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
        service_clients,
        service_outages,
        flowlogs,
        success_series,
        connections,
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
