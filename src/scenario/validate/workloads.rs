//! Workloads: references to instances, sizes and rates, EFA ends, and the SRD memory their
//! instance pairs would need.

use super::diag::{Ctx, reference, unique};
use super::limits::*;
use crate::ec2::{self, catalog};
use crate::scenario::error::Diagnostic;
use crate::scenario::spec::*;
use std::collections::BTreeSet;

pub(super) fn check(cx: &Ctx, s: &ScenarioSpec, hosts: u64, inst_names: &BTreeSet<&str>) -> Result<(), Diagnostic> {
    // Workloads.
    if s.workloads.len() > MAX_WORKLOADS {
        return Err(cx.err(
            "workloads",
            "",
            format!("{} workloads", s.workloads.len()),
            format!("at most {MAX_WORKLOADS}"),
            "combine flows into fewer workloads with `flows:`".into(),
        ));
    }
    unique(cx, "workload", s.workloads.iter().map(|w| w.name()))?;
    let free_hosts = hosts - s.instances.len() as u64;
    for w in &s.workloads {
        chosen_enis(cx, s, w, inst_names)?;
        let port = match w {
            WorkloadSpec::Bulk(b) => Some(b.port),
            WorkloadSpec::Rpc(r) => Some(r.port),
            WorkloadSpec::Datagrams(d) => Some(d.port),
            WorkloadSpec::Connections(c) => Some(c.port),
            _ => None,
        };
        let count = match w {
            WorkloadSpec::Rpc(r) => r.count,
            WorkloadSpec::Datagrams(d) => d.count,
            WorkloadSpec::LinkLocal(l) => l.count,
            _ => None,
        };
        if count == Some(0) {
            return Err(cx.err(
                "count",
                "0",
                format!("workload {:?}: count 0 sends nothing", w.name()),
                "a count of 1 or more, or no `count` (until the run ends)".into(),
                "with nothing sent every latency percentile would be 0".into(),
            ));
        }
        if port == Some(0) {
            // Port 0 is reserved (RFC 6335 section 6); no stack connects or sends to it.
            return Err(cx.err(
                "port",
                "0",
                format!("workload {:?} uses port 0", w.name()),
                "a port from 1 to 65535".into(),
                "leave `port` out for the workload's default".into(),
            ));
        }
        match w {
            WorkloadSpec::FlowLogs(f) => flowlogs(cx, f, inst_names)?,
            WorkloadSpec::Bulk(b) => {
                reference(cx, "from", &b.from, inst_names, "instance")?;
                reference(cx, "to", &b.to, inst_names, "instance")?;
                same_end(cx, &b.name, &b.from, &b.to)?;
                cx.range("flows", b.flows, 1, MAX_FLOWS_PER_WORKLOAD, "parallel TCP connections")?;
                if let Some(d) = b.duration {
                    cx.positive("duration", d)?;
                }
                if b.bytes.is_some_and(|x| x.0 == 0) {
                    return Err(cx.err(
                        "bytes",
                        "",
                        "a bulk transfer of zero bytes".into(),
                        "a positive size, or leave `bytes` out to send until the end".into(),
                        "e.g. bytes: \"1GB\"".into(),
                    ));
                }
            }
            WorkloadSpec::Rpc(r) => {
                reference(cx, "client", &r.client, inst_names, "instance")?;
                reference(cx, "server", &r.server, inst_names, "instance")?;
                same_end(cx, &r.name, &r.client, &r.server)?;
                cx.range("connections", r.connections, 1, MAX_FLOWS_PER_WORKLOAD, "persistent TCP connections")?;
                match r.arrival {
                    Arrival::Poisson { mean_interval } => cx.positive("mean_interval", mean_interval)?,
                    Arrival::ClosedLoop { outstanding } => {
                        cx.range("outstanding", outstanding, 1, 1024, "RPCs in flight per connection")?
                    }
                }
                size_dist(cx, "request", &r.request)?;
                size_dist(cx, "response", &r.response)?;
                if r.warmup >= s.duration {
                    return Err(cx.err(
                        "warmup",
                        &r.warmup.to_string(),
                        format!("RPC workload {:?}: warm-up {} is not shorter than the run ({})", r.name, r.warmup, s.duration),
                        format!("a warm-up shorter than `duration` ({})", s.duration),
                        "RPCs issued during the warm-up are not measured; with nothing left to measure every percentile would be 0".into(),
                    ));
                }
            }
            WorkloadSpec::ServiceClients(c) => {
                if s.fleet(&c.clients).next().is_none() {
                    reference(cx, "clients", &c.clients, inst_names, "instance or fleet")?;
                }
                let names: BTreeSet<&str> = s.services.iter().map(|x| x.name.as_str()).collect();
                reference(cx, "service", &c.service, &names, "service")?;
                // Where the service lives, now or after a failover or an ENI attachment.
                let svc = s.services.iter().find(|x| x.name == c.service).expect("checked reference");
                let holders =
                    std::iter::once(svc.instance.as_str()).chain(s.actions.iter().filter_map(|a| match &a.action {
                        Action::Failover { service, to, .. } | Action::AttachEni { service, to }
                            if *service == c.service =>
                        {
                            Some(to.as_str())
                        }
                        _ => None,
                    }));
                for holder in holders {
                    if let Some((_, i)) = s.fleet(&c.clients).find(|(_, i)| i.name == holder) {
                        return Err(cx.err(
                            "clients",
                            &c.clients,
                            format!(
                                "service clients {:?}: {:?} is one of the clients and holds service {:?}{}",
                                c.name,
                                i.name,
                                c.service,
                                if holder == svc.instance { "" } else { " after an action" }
                            ),
                            format!("clients other than the instances that hold {:?}", c.service),
                            "a client calling its own service would never touch the network (loopback)".into(),
                        ));
                    }
                }
                cx.positive("interval", c.interval)?;
                // Each timeout sends a new SYN at once: a timeout of picoseconds floods the client's
                // own vCPU queue with millions of packets per simulated microsecond.
                if c.timeout < crate::units::SimDuration::from_us(1) {
                    return Err(cx.err(
                        "timeout",
                        &c.timeout.to_string(),
                        format!("service clients {:?}: a timeout of {}", c.name, c.timeout),
                        "at least 1us (clients' timeouts are milliseconds to seconds)".into(),
                        "a timeout below the round trip can never be met; each one reconnects at once".into(),
                    ));
                }
                cx.range("request", c.request.0, 1, 1 << 20, "request bytes")?;
                cx.range("response", c.response.0, 1, 1 << 20, "response bytes")?;
                if let crate::scenario::spec::ReconnectBackoffSpec::FullJitter { base, cap } = c.backoff {
                    cx.positive("backoff", base)?;
                    if cap < base {
                        return Err(cx.err(
                            "backoff",
                            "cap",
                            format!("service clients {:?}: backoff cap {cap} is below its base {base}", c.name),
                            format!("a cap of at least {base}"),
                            "the wait after each failure is drawn below min(cap, base x 2^n)".into(),
                        ));
                    }
                }
            }
            WorkloadSpec::Connections(c) => {
                if s.fleet(&c.from).next().is_none() {
                    reference(cx, "from", &c.from, inst_names, "instance or fleet")?;
                }
                reference(cx, "to", &c.to, inst_names, "instance")?;
                for (_, i) in s.fleet(&c.from) {
                    same_end(cx, &c.name, &i.name, &c.to)?;
                }
                let ports = crate::model::EPHEMERAL_PORTS.len() as u32;
                cx.range(
                    "count",
                    c.count,
                    1,
                    ports,
                    "connections per client: one ephemeral port each (Linux 32768-60999)",
                )?;
                cx.positive("over", c.over)?;
            }
            WorkloadSpec::LinkLocal(l) => {
                reference(cx, "from", &l.from, inst_names, "instance")?;
                cx.positive("mean_interval", l.mean_interval)?;
                cx.range("size", l.size.0, 1, 1472, "a query fits one packet (1 ..= 1472 bytes)")?;
            }
            WorkloadSpec::Datagrams(d) => {
                reference(cx, "from", &d.from, inst_names, "instance")?;
                reference(cx, "to", &d.to, inst_names, "instance")?;
                same_end(cx, &d.name, &d.from, &d.to)?;
                cx.positive("mean_interval", d.mean_interval)?;
                if d.size.0 == 0 || d.size.0 > 65_507 {
                    return Err(cx.err(
                        "size",
                        "",
                        format!("datagram size {}", d.size),
                        "1B ..= 65507B (the UDP maximum)".into(),
                        "larger messages belong in a TCP workload".into(),
                    ));
                }
                let from = s.instances.iter().find(|i| i.name == d.from).expect("checked reference");
                let mtu = from.enis.first().map_or(ec2::MTU_VPC_JUMBO, |e| e.mtu) as u64;
                if d.dont_fragment && d.size.0 + 28 > mtu {
                    return Err(cx.err(
                        "size",
                        "",
                        format!(
                            "datagrams {:?}: {} + 28 header bytes with DF set exceed {}'s MTU {mtu}",
                            d.name, d.size, d.from
                        ),
                        format!("at most {}B with dont_fragment", mtu - 28),
                        "the kernel refuses such a send (EMSGSIZE); clear dont_fragment to let IP fragment it".into(),
                    ));
                }
            }
            WorkloadSpec::Permutation(p) => {
                let members = s.fleet(&p.instances).count();
                if members < 2 {
                    let list: Vec<&str> = s.instances.iter().map(|i| i.name.as_str()).take(8).collect();
                    return Err(cx.err(
                        "instances",
                        &p.instances,
                        format!(
                            "permutation {:?}: {} instance(s) named {:?} or {:?}-N",
                            p.name, members, p.instances, p.instances
                        ),
                        "a fleet of at least two instances (an instance with `count: N`)".into(),
                        format!("instances defined: {}", list.join(", ")),
                    ));
                }
                cx.range(
                    "flows_per_instance",
                    p.flows_per_instance as u64,
                    1,
                    members as u64 - 1,
                    "each flow goes to a distinct other member",
                )?;
                let flows = members as u64 * p.flows_per_instance as u64;
                if flows > MAX_PERMUTATION_FLOWS {
                    return Err(cx.err(
                        "flows_per_instance",
                        "",
                        format!("{flows} permutation flows"),
                        format!("at most {MAX_PERMUTATION_FLOWS}"),
                        "fewer members or flows per member".into(),
                    ));
                }
                if p.bytes.is_some_and(|x| x.0 == 0) {
                    return Err(cx.err(
                        "bytes",
                        "",
                        "zero bytes per flow".into(),
                        "a positive size, or no `bytes` to send until the end".into(),
                        "e.g. bytes: \"1MB\"".into(),
                    ));
                }
            }
            WorkloadSpec::AllReduce(a) | WorkloadSpec::AllToAll(a) => {
                let members: Vec<&InstanceSpec> = s.fleet(&a.instances).map(|(_, i)| i).collect();
                if members.len() < 2 {
                    return Err(cx.err(
                        "instances",
                        &a.instances,
                        format!("all-reduce {:?}: {} member(s)", a.name, members.len()),
                        "a fleet of at least two instances (`count: N`)".into(),
                        "name an instance fleet, e.g. instances: \"gpu\"".into(),
                    ));
                }
                if a.bytes.0 == 0 || a.bytes.0 > 1 << 34 {
                    return Err(cx.err(
                        "bytes",
                        "",
                        format!("all-reduce {:?}: {} bytes", a.name, a.bytes),
                        "1B ..= 16GiB".into(),
                        "the gradient buffer reduced per collective".into(),
                    ));
                }
                cx.range("iterations", a.iterations, 1, 10_000, "collectives measured")?;
                cx.range("warmup", a.warmup, 0, 10_000, "collectives not measured")?;
                cx.range("gpus_per_node", a.gpus_per_node, 1, 16, "ranks (GPUs) per instance")?;
                if let Some(c) = a.channels {
                    cx.range("channels", c, 1, 64, "NCCL channels (rings side by side)")?;
                }
                if a.gpus_per_node > 1
                    && (a.nvlink.bps() == 0 || matches!(w, WorkloadSpec::AllToAll(_)) || !a.transport.bypasses_kernel())
                {
                    return Err(cx.err(
                        "gpus_per_node",
                        "",
                        format!("{:?}: several GPUs per node need NVLink bandwidth and a ring all-reduce", a.name),
                        "nvlink > 0, in an AllReduce over EFA".into(),
                        "e.g. gpus_per_node: 8, nvlink: \"3600Gbps\"".into(),
                    ));
                }
                if a.algorithm == crate::scenario::spec::NcclAlgorithm::Tree
                    && (matches!(w, WorkloadSpec::AllToAll(_)) || !a.transport.bypasses_kernel())
                {
                    return Err(cx.err(
                        "algorithm",
                        "Tree",
                        format!("{:?}: NCCL's tree", a.name),
                        "an AllReduce over EFA".into(),
                        "the tree is NCCL's all-reduce over EFA; over TCP, or for all-to-all, leave algorithm out"
                            .into(),
                    ));
                }
                if a.algorithm == crate::scenario::spec::NcclAlgorithm::Auto
                    && a.gpus_per_node > 1
                    && matches!(w, WorkloadSpec::AllReduce(_))
                    && let Some(m) = members.iter().find(|m| {
                        crate::workload::nccl_tune::node_facts(&m.instance_type).is_none()
                            || m.instance_type != members[0].instance_type
                    })
                {
                    return Err(cx.err(
                        "algorithm",
                        "Auto",
                        format!(
                            "{:?}: NCCL's cost model picks the algorithm from the GPU node's facts, which nitrosim \
                             knows for {} (one type per fleet), not {}",
                            a.name,
                            crate::workload::nccl_tune::KNOWN_GPU_NODES,
                            m.instance_type
                        ),
                        "a fleet of one known GPU instance type, or a forced algorithm".into(),
                        "set algorithm: Ring or algorithm: Tree (as NCCL_ALGO does)".into(),
                    ));
                }
                if a.transport == MessageTransport::EfaRdmaRead {
                    return Err(cx.err(
                        "transport",
                        "EfaRdmaRead",
                        format!("collective {:?}: RDMA read", a.name),
                        "Tcp, Efa or EfaRdmaWrite".into(),
                        "collectives push each chunk to the next member (NCCL writes); RDMA read is for PingPong"
                            .into(),
                    ));
                }
                efa_ends(cx, s, "collective", &a.name, a.transport, &members)?;
            }
            WorkloadSpec::PingPong(p) => {
                reference(cx, "from", &p.from, inst_names, "instance")?;
                reference(cx, "to", &p.to, inst_names, "instance")?;
                same_end(cx, &p.name, &p.from, &p.to)?;
                if p.sizes.is_empty() || p.sizes.iter().any(|b| b.0 == 0 || b.0 > 1 << 30) {
                    return Err(cx.err(
                        "sizes",
                        "",
                        format!("ping-pong {:?}: message sizes", p.name),
                        "1B ..= 1GiB each, at least one".into(),
                        "osu_latency sweeps 1B to 4MiB".into(),
                    ));
                }
                cx.range("iterations", p.iterations, 1, 1_000_000, "measured round trips per size")?;
                cx.range("window", p.window, 1, 4096, "messages in flight (osu_bw uses 64)")?;
                cx.range("warmup", p.warmup, 0, 1_000_000, "unmeasured round trips per size")?;
                let find = |n: &str| s.instances.iter().find(|i| i.name == n).expect("checked reference");
                efa_ends(cx, s, "ping-pong", &p.name, p.transport, &[find(&p.from), find(&p.to)])?;
            }
            WorkloadSpec::Background(b) => {
                if !(b.load.is_finite() && b.load > 0.0 && b.load < 1.0) {
                    return Err(cx.err(
                        "load",
                        "",
                        format!("background load {} is not a fraction", b.load),
                        "0 < load < 1 (0.5 = half of the hosts' link capacity)".into(),
                        "loads at or above 1 never reach a steady state".into(),
                    ));
                }
                size_dist(cx, "sizes", &b.sizes)?;
                cx.range(
                    "max_concurrent",
                    b.max_concurrent,
                    1,
                    MAX_BACKGROUND_CONCURRENT,
                    "flows in progress at once",
                )?;
                if free_hosts < 2 {
                    return Err(cx.err(
                        "load",
                        "",
                        "background traffic needs at least two fabric hosts without instances".into(),
                        format!("{free_hosts} free hosts"),
                        "add racks or hosts_per_rack".into(),
                    ));
                }
            }
        }
    }
    // SRD memory grows with communicating pairs x paths: refuse what would not fit, before running.
    if s.instances.iter().any(|i| i.enis.iter().any(|e| e.ena_srd_enabled)) {
        let pairs: u64 = s
            .workloads
            .iter()
            .map(|w| match w {
                WorkloadSpec::Permutation(p) => {
                    let members = s.fleet(&p.instances).count();
                    2 * members as u64 * p.flows_per_instance as u64
                }
                WorkloadSpec::Background(_) => 0,
                _ => 2,
            })
            .sum();
        let routes = pairs * s.srd.paths as u64;
        if routes > MAX_SRD_PATH_ROUTES {
            return Err(cx.err(
                "paths",
                &s.srd.paths.to_string(),
                format!("SRD would keep {routes} path routes ({pairs} instance pairs x {} paths)", s.srd.paths),
                format!("at most {MAX_SRD_PATH_ROUTES} (about 400 MB)"),
                "use fewer SRD paths or fewer flows per instance; ENA Express needs its paths per pair".into(),
            ));
        }
    }
    Ok(())
}

/// EFA traffic needs an EFA interface at every end, one subnet (AZ), and for one-sided
/// operations an instance type whose EFA device offers them.
fn efa_ends(
    cx: &Ctx,
    s: &ScenarioSpec,
    kind: &str,
    name: &str,
    transport: MessageTransport,
    ends: &[&InstanceSpec],
) -> Result<(), Diagnostic> {
    if !transport.bypasses_kernel() {
        return Ok(());
    }
    let value = format!("{transport:?}");
    if let Some(p) = s
        .paths
        .iter()
        .find(|p| ends.iter().any(|e| e.name == p.between.0) && ends.iter().any(|e| e.name == p.between.1))
    {
        return Err(cx.err(
            "transport",
            &value,
            format!(
                "{kind} {name:?}: EFA between {} and {}, whose path crosses {}",
                p.between.0,
                p.between.1,
                p.via.join(", ")
            ),
            "EFA ends in one subnet, with no gateway between them".into(),
            "EFA's OS-bypass traffic is not routable; use transport: Tcp across gateways".into(),
        ));
    }
    for end in ends {
        if end.enis.first().map(|e| e.interface_type) != Some(InterfaceType::Efa) {
            return Err(cx.err(
                "transport",
                &value,
                format!("{kind} {name:?} uses EFA, but {:?} has no EFA interface", end.name),
                "interface_type: efa on the primary ENI of every end".into(),
                "EFA traffic needs an EFA interface at each end; TCP works on any ENI".into(),
            ));
        }
        if end.availability_zone != ends[0].availability_zone {
            return Err(cx.err(
                "transport",
                &value,
                format!("{kind} {name:?}: EFA between availability zones"),
                "every end in one subnet (one AZ)".into(),
                "EFA's OS-bypass traffic is not routable beyond its subnet".into(),
            ));
        }
        let needed = transport.rdma_needed();
        let has = catalog::lookup(&end.instance_type).map_or(ec2::EfaRdma::None, |t| t.efa_rdma);
        if has < needed {
            let capable: Vec<&str> = catalog::CATALOG.iter().filter(|t| t.efa_rdma >= needed).map(|t| t.name).collect();
            return Err(cx.err(
                "transport",
                &value,
                format!(
                    "{kind} {name:?}: {} offers {has:?} RDMA over EFA, {value} needs {needed:?}",
                    end.instance_type
                ),
                format!("an instance type with EFA RDMA {needed:?}: {}", capable.join(", ")),
                "the EFA user guide: RDMA read on Nitro v4 and later, write on most of those; or use transport: Efa (two-sided)".into(),
            ));
        }
    }
    Ok(())
}

fn size_dist(cx: &Ctx, key: &str, d: &SizeDist) -> Result<(), Diagnostic> {
    use super::limits::MAX_MESSAGE_BYTES as M;
    let bad = |v: u64| v == 0 || v > M;
    match d {
        SizeDist::Fixed(b) if bad(b.0) => Err(cx.err(
            key,
            "",
            format!("`{key}` size {b} out of range"),
            format!("1B ..= {}", crate::units::Bytes(M)),
            "sizes must be positive".into(),
        )),
        SizeDist::Exponential { mean } if bad(mean.0) => Err(cx.err(
            key,
            "",
            format!("`{key}` mean {mean} out of range"),
            "a positive mean".into(),
            "sizes must be positive".into(),
        )),
        SizeDist::Uniform { min, max } if min.0 == 0 || min > max || max.0 > M => Err(cx.err(
            key,
            "",
            format!("`{key}` uniform range {min}..{max} is empty or invalid"),
            "0 < min <= max".into(),
            "swap min and max?".into(),
        )),
        _ => Ok(()),
    }
}

/// A `FlowLogs` workload's settings and the instances its map names (the log itself is read by
/// `scenario::check_flow_logs`, once, where its errors get the log's file and line).
fn flowlogs(cx: &Ctx, f: &FlowLogsSpec, inst_names: &BTreeSet<&str>) -> Result<(), Diagnostic> {
    for (k, v) in &f.interfaces {
        reference(cx, k, v, inst_names, "instance")?;
    }
    if let Some(i) = &f.internet {
        reference(cx, "internet", i, inst_names, "instance")?;
    }
    for (key, v) in [("speedup", f.speedup), ("scale", f.scale)] {
        if !(v.is_finite() && v > 0.0 && v <= 1e9) {
            return Err(cx.err(
                key,
                &v.to_string(),
                format!("`{key}` is {v}"),
                "a number above 0 (1.0 = as logged)".into(),
                "speedup divides the log's time offsets; scale multiplies its bytes".into(),
            ));
        }
    }
    cx.range("window_s", f.window_s, 1, 3600, "the flow log's aggregation interval: 60 or 600 seconds")?;
    cx.range("max_groups", f.max_groups, 1, 1_000_000, "5-tuple groups kept in memory while streaming")?;
    cx.range("max_exchanges", f.max_exchanges, 1, 10_000_000, "group x window exchanges kept in memory")?;
    Ok(())
}

fn same_end(cx: &Ctx, workload: &str, a: &str, b: &str) -> Result<(), Diagnostic> {
    if a == b {
        return Err(cx.err(
            "name",
            workload,
            format!("workload {workload:?} sends from {a:?} to itself"),
            "two different instances".into(),
            "loopback traffic never touches the network".into(),
        ));
    }
    Ok(())
}

/// A workload's `*_eni` fields name an ENI of their instance (of every member of a fleet).
fn chosen_enis(cx: &Ctx, s: &ScenarioSpec, w: &WorkloadSpec, inst_names: &BTreeSet<&str>) -> Result<(), Diagnostic> {
    for end in w.eni_choice().into_iter().flatten().flatten() {
        let Some(eni) = end.eni else { continue };
        if s.fleet(end.instance).next().is_none() {
            reference(cx, end.instance_field, end.instance, inst_names, "instance")?;
        }
        for (_, i) in s.fleet(end.instance) {
            if i.enis.iter().any(|e| e.name == eni) {
                continue;
            }
            let names: Vec<String> = i.enis.iter().map(|e| format!("{:?}", e.name)).collect();
            let hint = match crate::scenario::error::did_you_mean(eni, i.enis.iter().map(|e| e.name.as_str())) {
                Some(m) => format!("did you mean {m:?}?"),
                None => format!(
                    "add (name: {eni:?}) to {:?}'s `enis` (the first is the primary), or leave `{}` out to use the primary ENI",
                    i.name, end.eni_field
                ),
            };
            let expected = if names.is_empty() {
                format!("an ENI listed in {:?}'s `enis` (it lists none: it has only a default primary ENI)", i.name)
            } else {
                format!("one of {:?}'s ENIs: {}", i.name, names.join(", "))
            };
            return Err(cx.err(
                end.eni_field,
                eni,
                format!("workload {:?}: instance {:?} has no ENI {eni:?}", w.name(), i.name),
                expected,
                hint,
            ));
        }
    }
    Ok(())
}
