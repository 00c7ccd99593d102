//! The scenario's workloads as the model's apps: each workload's configuration (through
//! `lower`), its instances and random streams, and when it starts.

use crate::ec2;
use crate::engine::RngStreams;
use crate::model::NONE;
use crate::model::app_state::{self as apps, App, BackgroundApp, BulkApp, DatagramApp, RpcApp};
use crate::net::fabric::LeafSpine;
use crate::scenario::lower;
use crate::scenario::spec::{ScenarioSpec, WorkloadSpec};
use crate::units::{SimDuration, SimTime};
use crate::workload::Sizes;

/// Every workload's app, in declaration order, with its start offset.
pub(super) fn apps(
    spec: &ScenarioSpec,
    streams: &RngStreams,
    types: &[&'static ec2::InstanceType],
    fabric: &LeafSpine,
    hosts_of: &[u32],
) -> Result<(Vec<App>, Vec<SimDuration>), String> {
    let inst_index = |n: &str| spec.instances.iter().position(|i| i.name == n).expect("validated reference") as u32;
    let occupied: std::collections::BTreeSet<u32> = hosts_of.iter().copied().collect();
    let free_hosts: Vec<u32> = (0..fabric.config.hosts()).filter(|h| !occupied.contains(h)).collect();
    let mut apps_v = Vec::with_capacity(spec.workloads.len());
    let mut starts = Vec::new();
    for w in &spec.workloads {
        let stream = |what: &str| streams.stream(&format!("workload/{}/{what}", w.name()));
        let app = match w {
            WorkloadSpec::Bulk(b) => {
                starts.push(b.start);
                App::Bulk(BulkApp {
                    spec: lower::bulk(b),
                    from: inst_index(&b.from),
                    to: inst_index(&b.to),
                    flows: Vec::new(),
                    remaining: b.flows,
                })
            }
            WorkloadSpec::Rpc(r) => {
                starts.push(SimDuration::ZERO);
                App::Rpc(RpcApp {
                    spec: lower::rpc(r),
                    client: inst_index(&r.client),
                    server: inst_index(&r.server),
                    conns: Vec::new(),
                    rng: stream("rpc"),
                    request: Sizes::new(lower::size_dist(&r.request)),
                    response: Sizes::new(lower::size_dist(&r.response)),
                    next_conn: 0,
                    issued: 0,
                    completed: 0,
                    measured: apps::latency_histogram(),
                    warmup_end: SimTime::ZERO + r.warmup,
                    finished: false,
                })
            }
            WorkloadSpec::Connections(c) => {
                starts.push(SimDuration::ZERO);
                App::Connections(apps::ConnectionsApp {
                    spec: lower::connections(c),
                    clients: spec.fleet(&c.from).map(|(k, _)| k as u32).collect(),
                    to: inst_index(&c.to),
                    opened: 0,
                    established: 0,
                })
            }
            WorkloadSpec::ServiceClients(c) => {
                starts.push(SimDuration::ZERO);
                let clients: Vec<(u32, u64)> = spec
                    .fleet(&c.clients)
                    .map(|(k, i)| (k as u32, streams.derive(&format!("workload/{}/client/{}", c.name, i.name))))
                    .collect();
                let service = spec.services.iter().position(|x| x.name == c.service).expect("validated") as u32;
                App::ServiceClients(apps::ServiceClientsApp::new(
                    lower::service_clients(c),
                    service,
                    &clients,
                    spec.report.timeseries_bins as usize,
                ))
            }
            WorkloadSpec::LinkLocal(l) => {
                starts.push(SimDuration::ZERO);
                let from = inst_index(&l.from);
                // A datagram stream whose far end is the service on the sender's own host.
                let spec = crate::workload::config::DatagramConfig {
                    name: l.name.clone(),
                    size: l.size,
                    mean_interval: l.mean_interval,
                    count: l.count,
                    port: l.service.port(),
                    dont_fragment: false,
                };
                App::Datagrams(DatagramApp::new(
                    spec,
                    from,
                    crate::model::Attach::Service(from, l.service),
                    stream("arrivals"),
                ))
            }
            WorkloadSpec::Datagrams(d) => {
                starts.push(SimDuration::ZERO);
                let (from, to) = (inst_index(&d.from), crate::model::Attach::Instance(inst_index(&d.to)));
                App::Datagrams(DatagramApp::new(lower::datagrams(d), from, to, stream("arrivals")))
            }
            WorkloadSpec::AllReduce(a) | WorkloadSpec::AllToAll(a) => {
                starts.push(SimDuration::ZERO);
                let members: Vec<u32> = spec.fleet(&a.instances).map(|(k, _)| k as u32).collect();
                let efa = a.transport.bypasses_kernel();
                let cards =
                    if efa { members.iter().map(|&m| types[m as usize].network_cards).min().unwrap_or(1) } else { 1 };
                let nodes = members.len();
                let all_to_all = matches!(w, WorkloadSpec::AllToAll(_));
                let (algorithm, nccl_choice) = nccl_algorithm(a, all_to_all, &members, types, cards);
                let config = lower::all_reduce(a, algorithm);
                let tree = config.algorithm == crate::workload::config::NcclAlgorithm::Tree;
                App::AllReduce(apps::AllReduceApp {
                    all_to_all,
                    members,
                    cards: cards as usize,
                    conns: Vec::new(),
                    rx_target: Vec::new(),
                    rx_done: Vec::new(),
                    done_count: 0,
                    established: 0,
                    step: 0,
                    iteration: 0,
                    started: SimTime::ZERO,
                    times: Vec::new(),
                    nccl: (a.gpus_per_node > 1 && !tree && !all_to_all)
                        .then(|| apps::NcclRing::new(&config, nodes, cards as usize)),
                    tree: tree.then(|| {
                        let channels = a.channels.map_or(cards as usize, |c| c as usize).max(1);
                        let gpus = a.gpus_per_node as usize;
                        Box::new(apps::NcclTree::new(
                            a.bytes.0,
                            nodes,
                            gpus,
                            channels,
                            config.nvlink,
                            config.nvlink_step,
                        ))
                    }),
                    spec: config,
                    nccl_choice,
                })
            }
            WorkloadSpec::PingPong(p) => {
                starts.push(SimDuration::ZERO);
                App::PingPong(apps::PingPongApp {
                    spec: lower::ping_pong(p),
                    from: inst_index(&p.from),
                    to: inst_index(&p.to),
                    client_ep: NONE,
                    server_ep: NONE,
                    size_index: 0,
                    round: 0,
                    round_start: SimTime::ZERO,
                    measured_ps: 0,
                    client_rx_target: 0,
                    server_rx_target: 0,
                    server_busy: false,
                    client_busy: false,
                    results: Vec::new(),
                })
            }
            WorkloadSpec::Permutation(p) => {
                starts.push(SimDuration::ZERO);
                let members: Vec<u32> = spec.fleet(&p.instances).map(|(k, _)| k as u32).collect();
                let n = members.len() * p.flows_per_instance as usize;
                App::Permutation(apps::PermutationApp {
                    spec: lower::permutation(p),
                    members,
                    rng: stream("cycle"),
                    flows: vec![apps::PermFlow { delivered: 0, completed: None }; n],
                    remaining: n as u32,
                })
            }
            WorkloadSpec::FlowLogs(fl) => {
                starts.push(SimDuration::ZERO);
                let fl = lower::flow_logs(fl);
                let replay = crate::workload::flowlogs::read_for(&fl, &spec.vpc_cidr)?;
                let groups = replay
                    .groups
                    .into_iter()
                    .map(|g| {
                        let (c, s) = (inst_index(&g.client), inst_index(&g.server));
                        (g, c, s)
                    })
                    .collect();
                App::FlowLogs(apps::FlowLogsApp::new(fl, groups, replay.stats, replay.format))
            }
            WorkloadSpec::Background(b) => {
                starts.push(SimDuration::ZERO);
                let sizes = Sizes::new(lower::size_dist(&b.sizes));
                App::Background(BackgroundApp {
                    spec: lower::background(b),
                    interarrival: crate::workload::background::background_interarrival(
                        b.load,
                        free_hosts.len(),
                        fabric,
                        sizes.mean(),
                    ),
                    hosts: free_hosts.clone(),
                    sizes,
                    rng: stream("flows"),
                    conns: Vec::new(),
                    free: Vec::new(),
                    active: 0,
                    started: 0,
                    completed: 0,
                    skipped: 0,
                    bytes_completed: 0,
                    fct: apps::latency_histogram(),
                })
            }
        };
        apps_v.push(app);
    }
    Ok((apps_v, starts))
}

/// The all-reduce algorithm that runs, and how it was chosen. NCCL's cost model
/// (`workload::nccl_tune`) applies where the workload runs NCCL's node model (an all-reduce over
/// EFA with several GPUs per instance) on instances whose GPU facts nitrosim knows: `Auto` runs
/// its pick, and a forced `Ring` or `Tree` still reports the model's estimates. Elsewhere `Auto`
/// is the plain ring (one rank per instance is not NCCL's node; validation refuses `Auto` with
/// several GPUs on an unknown node).
fn nccl_algorithm(
    a: &crate::scenario::spec::AllReduceSpec,
    all_to_all: bool,
    members: &[u32],
    types: &[&'static ec2::InstanceType],
    cards: u32,
) -> (crate::workload::config::NcclAlgorithm, Option<crate::workload::nccl_tune::NcclChoice>) {
    use crate::scenario::spec::NcclAlgorithm as Asked;
    use crate::workload::nccl_tune::{self, Algo};
    let forced = match a.algorithm {
        Asked::Auto => None,
        Asked::Ring => Some(Algo::Ring),
        Asked::Tree => Some(Algo::Tree),
    };
    let first = types[members[0] as usize];
    let same_type = members.iter().all(|&m| types[m as usize].name == first.name);
    let model = (a.gpus_per_node > 1 && !all_to_all && a.transport.bypasses_kernel() && same_type)
        .then(|| {
            let card_gbps = first.bandwidth_mbps as f64 / 1000.0 / first.network_cards.max(1) as f64;
            nccl_tune::cost_model(first.name, members.len() as u32, a.gpus_per_node, cards, card_gbps)
        })
        .flatten();
    let algo = forced.or_else(|| model.as_ref().map(|m| m.pick_modelled(a.bytes.0).algo));
    (algo.unwrap_or(Algo::Ring), model.map(|m| m.choice(a.bytes.0, forced)))
}
