//! Spec -> runtime model. Placement of instances on fabric hosts, the ports of each instance's
//! packet path (vCPUs, Nitro shapers), apps (built in `workloads`) and their start events. The
//! file's sections reach the world only through here and `lower` (workload, VPC and action
//! configuration): `model`, `ec2` and `workload` never read a spec type.

mod workloads;

use super::lower;
use super::spec::ScenarioSpec;
use crate::ec2::{self, catalog};
use crate::engine::{EventQueue, RngStreams};
use crate::model::app_state::App;
use crate::model::{Accounting, Event, InstanceCounters, InstanceRt, Model, NONE};
use crate::net::fabric::{LeafSpine, LeafSpineConfig};
use crate::net::{DropReason, PacketPool, Port, PortConfig, PortId};
use crate::transport::Outbox;
use crate::units::{Bandwidth, SimDuration, SimTime};
use std::collections::BTreeMap;

/// Private addresses: without subnets, instances at 10.0.0.1 + host index; bare hosts (background
/// traffic, no instance) at 10.128.0.0/16 and up.
const INSTANCE_IP_BASE: u32 = 0x0A00_0001;
const HOST_IP_BASE: u32 = 0x0A80_0001;
use crate::ec2::gateway::GATEWAY_IP_BASE;

/// Each instance's (address, subnet index): in its subnet's block after the reserved addresses,
/// in declaration order; without subnets, by fabric host in the default block.
fn addresses(spec: &ScenarioSpec, vpc: &crate::ec2::vpc::Vpc, hosts_of: &[u32]) -> Result<Vec<(u32, usize)>, String> {
    if spec.subnets.is_empty() {
        return Ok(hosts_of.iter().map(|&h| (INSTANCE_IP_BASE + h, 0)).collect());
    }
    let mut next = vec![0u32; vpc.subnets.len()];
    spec.instances
        .iter()
        .map(|i| {
            let k = match &i.subnet {
                Some(n) => vpc.subnets.iter().position(|s| &s.0 == n).ok_or_else(|| format!("unknown subnet {n:?}"))?,
                None => 0,
            };
            let cidr = vpc.subnets[k].1;
            if next[k] as u64 + crate::ec2::vpc::SUBNET_RESERVED_TOTAL >= cidr.size() {
                return Err(format!("subnet {} ({cidr}) has no address left for {}", vpc.subnets[k].0, i.name));
            }
            let ip = cidr.base + crate::ec2::vpc::SUBNET_RESERVED_LOW + next[k];
            next[k] += 1;
            Ok((ip, k))
        })
        .collect()
}

pub fn spine_link(spec: &ScenarioSpec) -> Bandwidth {
    let f = &spec.fabric;
    f.spine_link.unwrap_or_else(|| {
        let down = f.hosts_per_rack as f64 * f.host_link.bps() as f64;
        Bandwidth((down / (f.spines as f64 * f.oversubscription)).round().max(1.0) as u64)
    })
}

/// Build the model of one variant.
pub fn build(name: &str, spec: &ScenarioSpec) -> Result<Model, String> {
    build_with(name, spec, false)
}

/// Build the model, recording packets at the scenario's capture points when `capture` is set.
pub fn build_with(name: &str, spec: &ScenarioSpec, capture: bool) -> Result<Model, String> {
    let streams = RngStreams::new(spec.seed);
    let vpc = crate::ec2::vpc::Vpc::compile(&lower::vpc(spec))?;
    let addresses = addresses(spec, &vpc, &super::placement::place(spec)?)?;
    let hosts_of = super::placement::place(spec)?;
    let types: Vec<&'static ec2::InstanceType> = spec
        .instances
        .iter()
        .map(|i| {
            catalog::lookup(&i.instance_type).ok_or_else(|| format!("unknown instance type {:?}", i.instance_type))
        })
        .collect::<Result<_, _>>()?;
    let card_rate = |t: &ec2::InstanceType| Bandwidth(t.bandwidth_mbps * 1_000_000 / t.network_cards as u64);

    let f = &spec.fabric;
    let config = LeafSpineConfig {
        racks: f.racks,
        hosts_per_rack: f.hosts_per_rack,
        spines: f.spines,
        host_link: f.host_link,
        spine_link: spine_link(spec),
        hop_delay: f.hop_delay,
        buffer_bytes: f.buffer.0,
        ecn_threshold_bytes: f.ecn_threshold.map(|b| b.0),
    };
    let mut nic_rate = vec![f.host_link; config.hosts() as usize];
    for (k, &h) in hosts_of.iter().enumerate() {
        // The host's NIC runs at least at the instance's full bandwidth, all its cards together.
        nic_rate[h as usize] = f.host_link.max(Bandwidth(types[k].bandwidth_mbps * 1_000_000));
    }
    let mut ports: Vec<Port> = crate::engine::huge_vec(0);
    let fabric = LeafSpine::build(config, &mut ports, streams.derive("fabric/ecmp"), |h| nic_rate[h as usize]);
    let mut port_owner = vec![NONE; ports.len()];

    let group_index = |n: &String| spec.security_groups.iter().position(|g| &g.name == n);
    let mut azs: Vec<&str> = Vec::new();
    let mut insts = Vec::with_capacity(spec.instances.len());
    for (k, i) in spec.instances.iter().enumerate() {
        let ty = types[k];
        let az = match azs.iter().position(|a| *a == i.availability_zone) {
            Some(p) => p,
            None => {
                azs.push(&i.availability_zone);
                azs.len() - 1
            }
        } as u32;
        let cluster_pg = i.placement_group.as_ref().and_then(|pg| {
            spec.placement_groups.iter().position(|p| &p.name == pg && p.strategy == "cluster").map(|p| p as u32)
        });
        let queues = spec.host.rss_queues.unwrap_or(ty.ena_queues.min(ty.vcpus));
        let mut add = |c: PortConfig| {
            port_owner.push(k as u32);
            crate::net::push_port(&mut ports, Port::new(c))
        };
        let cpu = |per_packet: SimDuration| PortConfig {
            rate: Bandwidth(0),
            per_packet,
            delay: SimDuration::ZERO,
            capacity_bytes: spec.host.backlog.0,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::CpuBacklog,
            burst_bytes: 0,
            mtu: crate::net::ip::NO_MTU_LIMIT,
        };
        let cpu_tx: Vec<u32> = (0..queues).map(|_| add(cpu(spec.host.tx_cost))).collect();
        let cpu_rx: Vec<u32> = (0..queues).map(|_| add(cpu(spec.host.rx_cost))).collect();
        // The adapter may be slower than the type (an Intel 82599 VF: 10 Gbps).
        let rate = i.adapter.max_bandwidth().map_or(card_rate(ty), |m| m.min(card_rate(ty)));
        let shaper = |delay, reason| PortConfig {
            rate,
            per_packet: SimDuration::ZERO,
            delay,
            capacity_bytes: spec.nitro.instance_buffer.0,
            ecn_threshold_bytes: None,
            drop_reason: reason,
            burst_bytes: 0,
            mtu: crate::net::ip::NO_MTU_LIMIT,
        };
        let egress = add(shaper(SimDuration::ZERO, DropReason::BwOutAllowanceExceeded));
        let ingress = add(shaper(spec.nitro.processing_delay, DropReason::BwInAllowanceExceeded));
        let srd_proc = PortConfig {
            rate: Bandwidth(0),
            per_packet: SimDuration::ZERO,
            delay: spec.srd.processing_delay,
            capacity_bytes: u64::MAX,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::QueueFull,
            burst_bytes: 0,
            mtu: crate::net::ip::NO_MTU_LIMIT,
        };
        let (mut tx_extra, mut rx_extra) = (Vec::new(), Vec::new());
        if ty.burstable() {
            // Network I/O credits: a token bucket at the baseline whose depth sustains the burst
            // rate (the allowance shaper above) for `network_credit_duration` from full.
            let baseline = Bandwidth(ty.baseline_mbps * 1_000_000);
            let burst = Bandwidth(ty.bandwidth_mbps * 1_000_000);
            let duration = i.network_credit_duration.unwrap_or(ec2::adapter::NETWORK_CREDIT_DURATION_DEFAULT);
            let depth = ((burst.bps() - baseline.bps()) as u128 * duration.ps() as u128 / 8 / 1_000_000_000_000) as u64;
            let credits = |reason| PortConfig {
                rate: baseline,
                burst_bytes: depth.max(1),
                delay: SimDuration::ZERO,
                ..shaper(SimDuration::ZERO, reason)
            };
            tx_extra.push(add(credits(DropReason::BwOutAllowanceExceeded)));
            rx_extra.push(add(credits(DropReason::BwInAllowanceExceeded)));
        }
        if let Some(pps) = i.pps_allowance {
            // One queue for both directions: the allowance counts packets in and out together.
            let p = add(PortConfig {
                rate: Bandwidth(0),
                per_packet: SimDuration((1_000_000_000_000 / pps.max(1)).max(1)),
                delay: SimDuration::ZERO,
                capacity_bytes: spec.nitro.instance_buffer.0,
                ecn_threshold_bytes: None,
                drop_reason: DropReason::PpsAllowanceExceeded,
                burst_bytes: 0,
                mtu: crate::net::ip::NO_MTU_LIMIT,
            });
            tx_extra.push(p);
            rx_extra.insert(0, p);
        }
        if i.adapter == ec2::adapter::Adapter::Vif {
            let hypervisor = PortConfig {
                rate: Bandwidth(0),
                per_packet: ec2::adapter::VIF_PER_PACKET,
                delay: ec2::adapter::VIF_DELAY,
                capacity_bytes: spec.host.backlog.0,
                ecn_threshold_bytes: None,
                drop_reason: DropReason::QueueFull,
                burst_bytes: 0,
                mtu: crate::net::ip::NO_MTU_LIMIT,
            };
            tx_extra.push(add(hypervisor));
            rx_extra.insert(0, add(hypervisor));
        }
        // Forwarded packets cross this gate; it is closed while the check is on (a timed action
        // can open or close it).
        let check = i.enis.first().is_none_or(|e| e.source_dest_check);
        let forward_gate = add(PortConfig {
            rate: Bandwidth(0),
            per_packet: SimDuration::ZERO,
            delay: SimDuration::ZERO,
            capacity_bytes: u64::MAX,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::SourceDestCheck,
            burst_bytes: 0,
            mtu: if check { crate::net::ip::PORT_CLOSED } else { crate::net::ip::NO_MTU_LIMIT },
        });
        // Each ENI has its own link-local allowance ("a maximum PPS per network interface").
        let linklocal = PortConfig {
            rate: Bandwidth(0),
            per_packet: SimDuration(1_000_000_000_000 / ec2::adapter::LINKLOCAL_PPS),
            delay: SimDuration::ZERO,
            capacity_bytes: ec2::adapter::LINKLOCAL_QUEUE_BYTES,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::LinklocalAllowanceExceeded,
            burst_bytes: 0,
            mtu: crate::net::ip::NO_MTU_LIMIT,
        };
        let linklocals: Vec<PortId> = (0..i.enis.len().max(1)).map(|_| add(linklocal)).collect();
        // Another network card's shapers, when an ENI sits on it: each card carries its share of
        // the type's bandwidth (`card_rate`), so traffic over ENIs on two cards can reach it all.
        let mut card_shapers = vec![[NONE, NONE]; ty.network_cards.max(1) as usize];
        card_shapers[0] = [egress, ingress];
        for e in &i.enis {
            let c = e.network_card_index as usize;
            if c > 0 && card_shapers[c][0] == NONE {
                card_shapers[c] = [
                    add(shaper(SimDuration::ZERO, DropReason::BwOutAllowanceExceeded)),
                    add(shaper(spec.nitro.processing_delay, DropReason::BwInAllowanceExceeded)),
                ];
            }
        }
        let linklocal_service = add(PortConfig { delay: ec2::adapter::LINKLOCAL_SERVICE_DELAY, ..srd_proc });
        let total = Bandwidth(ty.bandwidth_mbps * 1_000_000);
        let total = i.adapter.max_bandwidth().map_or(total, |m| m.min(total));
        let outside = add(PortConfig {
            rate: ec2::adapter::outside_vpc_bandwidth(ty.vcpus, total),
            ..shaper(SimDuration::ZERO, DropReason::BwOutAllowanceExceeded)
        });
        let srd_tx_proc = add(srd_proc);
        let srd_rx_proc = add(srd_proc);
        let nitro_tx = add(PortConfig { delay: spec.nitro.processing_delay, ..srd_proc });
        // Timing noise: vCPU costs vary (interrupts, scheduling), card delays vary (firmware),
        // each port on its own stream named after the instance.
        let (host_ppm, card_ppm) = spec.noise.spreads_ppm();
        let noisy = [("cpu-tx", &cpu_tx, host_ppm, 0), ("cpu-rx", &cpu_rx, host_ppm, 0)];
        for (what, ids, cost, delay) in noisy {
            for (q, &p) in ids.iter().enumerate() {
                if cost > 0 {
                    let rng = streams.stream(&format!("instance/{}/noise/{what}/{q}", i.name));
                    ports[p as usize].set_noise(crate::net::PortNoise::new(rng, cost, delay));
                }
            }
        }
        let more_cards = card_shapers.iter().enumerate().skip(1).filter(|(_, s)| s[1] != NONE);
        let more_ingress: Vec<(String, PortId)> = more_cards.map(|(c, s)| (format!("ingress-card{c}"), s[1])).collect();
        for (what, p) in
            [("ingress", ingress), ("nitro-tx", nitro_tx), ("srd-tx", srd_tx_proc), ("srd-rx", srd_rx_proc)]
                .into_iter()
                .chain(more_ingress.iter().map(|(w, p)| (w.as_str(), *p)))
        {
            if card_ppm > 0 {
                let rng = streams.stream(&format!("instance/{}/noise/{what}", i.name));
                ports[p as usize].set_noise(crate::net::PortNoise::new(rng, 0, card_ppm));
            }
        }
        let primary = i.enis.first();
        let ena_srd_enabled = primary.is_some_and(|e| e.ena_srd_enabled);
        let ena_srd_udp_enabled = primary.is_some_and(|e| e.ena_srd_udp_enabled);
        // No ENI written: one primary ENI with the defaults.
        let default_eni;
        let eni_specs = if i.enis.is_empty() {
            default_eni = [super::spec::EniSpec::primary()];
            &default_eni[..]
        } else {
            &i.enis[..]
        };
        let enis = eni_specs
            .iter()
            .zip(linklocals)
            .map(|(e, linklocal)| crate::model::EniRt {
                name: e.name.clone(),
                view: crate::ec2::vpc::EniView {
                    ip: addresses[k].0,
                    subnet: addresses[k].1,
                    groups: e.security_groups.iter().filter_map(group_index).collect(),
                },
                mtu: e.mtu,
                card: e.network_card_index,
                ena_srd_enabled: e.ena_srd_enabled,
                ena_srd_udp_enabled: e.ena_srd_udp_enabled,
                // The ENI's own settings, else the instance's, else AWS's defaults.
                conntrack_timeouts: crate::ec2::conntrack::Timeouts::from_secs(
                    e.conntrack_tcp_established_timeout.or(i.conntrack_tcp_established_timeout),
                    e.conntrack_udp_timeout.or(i.conntrack_udp_timeout),
                    e.conntrack_udp_stream_timeout.or(i.conntrack_udp_stream_timeout),
                ),
                linklocal,
                counters: Default::default(),
            })
            .collect();
        insts.push(InstanceRt {
            name: i.name.clone(),
            ty,
            host: hosts_of[k],
            az,
            region: crate::ec2::ena_express::End::located(&i.availability_zone).1,
            region_cross_az: crate::ec2::ena_express::End::located(&i.availability_zone).2,
            cluster_pg,
            tx_extra,
            rx_extra,
            outside,
            forward_gate,
            linklocal_service,
            conntrack_allowance: i.conntrack_allowance,
            conntrack_tracked: 0,
            conntrack_next_expiry: crate::units::SimTime::ZERO,
            ip: addresses[k].0,
            enis,
            pmtu: Default::default(),
            cpu_tx,
            cpu_rx,
            egress,
            ingress,
            card_shapers,
            rss_salt: streams.derive(&format!("instance/{}/rss", i.name)),
            port_rng: streams.stream(&format!("instance/{}/ports", i.name)),
            counters: InstanceCounters {
                ena_srd_mode: ena_srd_enabled as u64 | (ena_srd_udp_enabled as u64) << 1,
                driver: i.adapter.driver(),
                ..InstanceCounters::default()
            },
            srd_tx_proc,
            srd_rx_proc,
            nitro_tx,
            efa_groups: primary
                .map(|e| {
                    e.security_groups
                        .iter()
                        .filter(|g| spec.security_groups.iter().any(|d| &&d.name == g && d.allow_all_within_group))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
        });
    }

    let inst_index = |n: &str| spec.instances.iter().position(|i| i.name == n).expect("validated reference") as u32;
    let (apps_v, starts) = workloads::apps(spec, &streams, &types, &fabric, &hosts_of)?;
    let unfinished = apps_v.iter().filter(|a| a.is_foreground() && a.is_finite()).count() as u32;
    let foreground: Vec<&App> = apps_v.iter().filter(|a| a.is_foreground()).collect();
    let all_finite = !foreground.is_empty() && foreground.iter().all(|a| a.is_finite());

    let end = SimTime::ZERO + spec.duration;
    let bins = spec.report.timeseries_bins as u64;
    // Prefetching events ahead pays only where the ports alone outgrow a core's own caches.
    let lookahead = if std::mem::size_of_val(ports.as_slice()) >= crate::model::LOOKAHEAD_MIN_PORT_BYTES {
        crate::model::LOOKAHEAD_EVENTS
    } else {
        0
    };
    let mut q = EventQueue::with_capacity(4096).with_lookahead(lookahead, crate::model::LOOKAHEAD_HORIZON);
    for (k, start) in starts.into_iter().enumerate() {
        q.schedule_at(SimTime::ZERO + start, Event::App { app: k as u32, tag: crate::workload::TAG_START });
    }
    for (k, a) in spec.actions.iter().enumerate() {
        q.schedule_at(SimTime::ZERO + a.at, Event::Action(k as u32));
    }
    let flow_shaper = PortConfig {
        rate: ec2::FLOW_CAP_DEFAULT,
        per_packet: SimDuration::ZERO,
        delay: spec.nitro.processing_delay,
        capacity_bytes: spec.nitro.flow_buffer.0,
        ecn_threshold_bytes: None,
        drop_reason: DropReason::FlowCapExceeded,
        burst_bytes: spec.nitro.flow_burst.0,
        mtu: crate::net::ip::NO_MTU_LIMIT,
    };
    let gateways: Vec<crate::model::GatewayRt> = spec
        .gateways
        .iter()
        .enumerate()
        .map(|(k, g)| crate::model::GatewayRt {
            name: g.name.clone(),
            kind: g.kind,
            mtu: g.mtu.unwrap_or(g.kind.max_mtu()),
            ip: GATEWAY_IP_BASE + k as u32,
            drops_icmp: g.drops_icmp,
            mss_clamp: g.mss_clamp,
            delay: g.delay.unwrap_or(g.kind.default_delay()),
            nat: (g.kind == crate::ec2::gateway::GatewayKind::NatGateway).then(|| {
                Box::new(crate::model::nat::NatRt::new(
                    g.scale_interval.unwrap_or(crate::ec2::nat::SCALE_INTERVAL_DEFAULT),
                    g.idle_timeout.unwrap_or(crate::ec2::nat::IDLE_TIMEOUT),
                ))
            }),
        })
        .collect();
    let gateway_index = |n: &str| spec.gateways.iter().position(|g| g.name == n).map(|g| g as u32);
    let hop = |n: &str| match gateway_index(n) {
        Some(g) => crate::model::routing::HopSpec::Gateway(g),
        None => crate::model::routing::HopSpec::Router(inst_index(n)),
    };
    let mut path_specs = BTreeMap::new();
    for p in &spec.paths {
        let (i, j) = (inst_index(&p.between.0), inst_index(&p.between.1));
        let via: Vec<_> = p.via.iter().map(|n| hop(n)).collect();
        path_specs.insert((j, i), via.iter().rev().copied().collect::<Vec<_>>());
        path_specs.insert((i, j), via);
    }
    let subnet_routes: Vec<Vec<crate::model::routing::Route>> = if spec.subnets.is_empty() {
        vec![Vec::new()]
    } else {
        spec.subnets
            .iter()
            .map(|sn| {
                let table = sn.route_table.as_ref().and_then(|t| spec.route_tables.iter().find(|x| &x.name == t));
                table
                    .map(|t| {
                        t.routes
                            .iter()
                            .filter(|r| r.target != "local")
                            .map(|r| {
                                Ok(crate::model::routing::Route {
                                    destination: crate::ec2::vpc::Cidr::parse(&r.destination)?,
                                    target: hop(&r.target),
                                })
                            })
                            .collect::<Result<Vec<_>, String>>()
                    })
                    .transpose()
                    .map(|v| v.unwrap_or_default())
            })
            .collect::<Result<_, String>>()?
    };
    // A ladder diagram is drawn from the same records as the pcap files: without `--pcap`, record
    // only the ladder's window (a bounded trace, not the whole run).
    let capture_window = match (&spec.report.ladder, capture) {
        (_, true) => (SimTime::ZERO, SimTime(u64::MAX)),
        (Some(l), false) => (SimTime(l.from.ps()), SimTime(l.to.ps())),
        (None, false) => (SimTime::ZERO, SimTime::ZERO),
    };
    let capture = capture || spec.report.ladder.is_some();
    let wanted = |n: &str| spec.report.capture.is_empty() || spec.report.capture.iter().any(|c| c == n);
    let mut points = Vec::new();
    let mut point = |n: &str| {
        if capture && wanted(n) {
            points.push(crate::model::trace::CapturePoint {
                name: n.to_string(),
                records: Vec::new(),
                omitted: 0,
                limit: spec.report.capture_limit as usize,
            });
            (points.len() - 1) as u32
        } else {
            NONE
        }
    };
    let capture_inst: Vec<u32> = spec.instances.iter().map(|i| point(&i.name)).collect();
    let capture_gw: Vec<u32> = spec.gateways.iter().map(|g| point(&g.name)).collect();
    let n_insts = insts.len();
    let app_names = apps_v.iter().map(|a| a.name().to_string()).collect();
    // The ENI each workload's ends use, by index in their instance's list (validated: every
    // member of a fleet has it); 0 is the primary.
    let eni_index = |c: Option<super::spec::EniChoice>| -> u8 {
        let Some(c) = c else { return 0 };
        let Some(name) = c.eni else { return 0 };
        let member = spec.fleet(c.instance).next().expect("validated reference").1;
        member.enis.iter().position(|e| e.name == name).expect("validated ENI") as u8
    };
    let app_enis =
        spec.workloads.iter().map(|w| w.eni_choice().map_or([0, 0], |[a, b]| [eni_index(a), eni_index(b)])).collect();
    for (port, &owner) in ports.iter_mut().zip(&port_owner) {
        port.count_waits_at_once = Model::counts_waits_at_once(&insts, owner);
    }
    Ok(Model {
        vpc,
        gateways,
        paths: BTreeMap::new(),
        no_path: Default::default(),
        path_specs,
        subnet_routes,
        vpc_cidr: crate::ec2::vpc::Cidr::parse(&spec.vpc_cidr)?,
        gw_port: BTreeMap::new(),
        filters: Vec::new(),
        filter_drops: Vec::new(),
        reasm: Vec::new(),
        reasm_free: Vec::new(),
        reasm_bytes: vec![0; n_insts],
        next_ip_id: 0,
        ip_cfg: spec.ip.clone(),
        ip_counters: Default::default(),
        log: crate::model::trace::EventLog::new(spec.report.event_log_limit as usize),
        capture: capture.then_some(points),
        capture_window,
        capture_drops: Vec::new(),
        capture_inst,
        capture_gw,
        actions: spec.actions.iter().map(lower::action).collect(),
        rules: lower::vpc(spec),
        services: spec
            .services
            .iter()
            .map(|x| {
                let holder = &spec.instances[inst_index(&x.instance) as usize];
                let eni = match &x.eni {
                    Some(n) => holder.enis.iter().find(|e| &e.name == n),
                    None => holder.enis.get(1),
                };
                let groups = (x.address == super::spec::ServiceAddress::SecondaryEni)
                    .then(|| eni.map(|e| e.security_groups.iter().filter_map(group_index).collect::<Vec<_>>()))
                    .flatten()
                    .filter(|g| !g.is_empty());
                crate::model::failover::ServiceRt {
                    name: x.name.clone(),
                    address: lower::service_address(x.address),
                    owner: inst_index(&x.instance),
                    groups,
                    delays: Vec::new(),
                }
            })
            .collect(),
        saved_ports: BTreeMap::new(),
        name: name.to_string(),
        q,
        ports,
        port_owner,
        pool: PacketPool::with_capacity(4096),
        ready: std::collections::VecDeque::with_capacity(64),
        routes: Default::default(),
        eps: crate::engine::huge_vec(0),
        ep_free: Vec::new(),
        fabric,
        insts,
        flows: Vec::new(),
        apps: apps_v,
        app_names,
        app_enis,
        acct: Accounting::default(),
        outbox: Outbox::default(),
        loss: (f.loss_rate > 0.0).then(|| (f.loss_rate, streams.stream("fabric/loss"))),
        end,
        bin_ps: (end.ps() / bins).max(1),
        tcp: std::sync::Arc::new(spec.tcp.clone()),
        flow_shaper,
        flow_shaper_noise_ppm: spec.noise.spreads_ppm().1,
        fabric_mtu: f.mtu,
        host_ip_base: HOST_IP_BASE,
        bg_port_rng: streams.stream("background/ports"),
        host_costs: crate::workload::HostCosts {
            syscall: spec.host.syscall,
            socket: spec.host.socket,
            copy_rate: spec.host.copy_rate,
            wakeup: spec.host.wakeup,
            idle_exit: spec.host.idle_exit,
            bypass_post: spec.host.bypass_post,
            bypass_poll: spec.host.bypass_poll,
        },
        srd_cfg: spec.srd.clone(),
        srd_connections_per_card: spec.nitro.srd_connections,
        srd_ctxs: crate::engine::huge_vec(0),
        srd_path_routes: crate::engine::huge_vec(0),
        srd_index: BTreeMap::new(),
        srd_send_out: Default::default(),
        srd_recv_out: Default::default(),
        srd_payloads: Default::default(),
        streams,
        inter_az: BTreeMap::new(),
        inter_az_link: PortConfig {
            rate: spec.inter_az.capacity.unwrap_or(Bandwidth(0)),
            per_packet: SimDuration::ZERO,
            delay: spec.inter_az.latency,
            capacity_bytes: if spec.inter_az.capacity.is_some() { spec.inter_az.buffer.0 } else { u64::MAX },
            ecn_threshold_bytes: None,
            drop_reason: DropReason::QueueFull,
            burst_bytes: 0,
            mtu: crate::net::ip::NO_MTU_LIMIT,
        },
        unfinished,
        all_finite,
        scratch_route: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
