//! Resource limits that depend on the whole scenario: how large a scenario file may be, and how
//! much memory a run will take, estimated before anything is allocated and compared with a
//! budget (`--max-memory`, default half the machine's memory).
//!
//! The estimate is a sum of per-item costs measured on this model (peak RSS, `/usr/bin/time`,
//! c6in.16xlarge permutation fleets on 1024 and 4096 hosts, 1 and 8 flows per member, and the
//! bundled EFA all-reduce on 32-card instances, 2026-11): about 14 KiB per instance with its
//! host, ports and Nitro card, 64 KiB per further network card, about 13 KiB per TCP
//! connection (both ends, reassembly and RTT state, packets in flight), plus the bounded logs at
//! their limits. It is an upper-end figure meant to refuse what cannot fit, not an accounting.

use super::spec::{ScenarioSpec, WorkloadSpec};

/// Largest scenario file read: scenarios are hand-written text, a few KiB to a few hundred.
pub const MAX_SCENARIO_BYTES: u64 = 4 << 20;

/// Fixed cost of a run: the binary, catalogs, thread stacks.
const BASE_BYTES: u64 = 24 << 20;
const INSTANCE_BYTES: u64 = 14 << 10;
const HOST_BYTES: u64 = 2 << 10;
/// Per network card of an instance (its ports, shapers, SRD engine and the packets they hold):
/// calibrated on `scenarios/efa-allreduce.ron` (64 p5.48xlarge x 32 cards, 349 MB peak).
const CARD_BYTES: u64 = 64 << 10;
const CONNECTION_BYTES: u64 = 13 << 10;
/// An event-log entry with its strings (flow, instance and rule names).
pub const EVENT_LOG_ENTRY_BYTES: u64 = 320;
/// One captured packet (`CaptureRecord`) and its share of the growing vector.
pub const CAPTURE_RECORD_BYTES: u64 = 2 * 96;
/// SRD keeps two routes of about 100 bytes per path per instance pair.
const SRD_ROUTE_BYTES: u64 = 100;

/// The parts of an estimate, largest first when printed.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    pub parts: Vec<(&'static str, u64)>,
}

impl Estimate {
    pub fn total(&self) -> u64 {
        self.parts.iter().map(|p| p.1).sum()
    }
}

/// Members of a fleet: the instance named `fleet`, or those named `fleet-N`.
fn members(s: &ScenarioSpec, fleet: &str) -> u64 {
    s.instances
        .iter()
        .filter(|i| {
            i.name == fleet
                || i.name
                    .strip_prefix(fleet)
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count() as u64
}

/// Connections (or flows) a workload keeps alive at once, at most.
fn connections(s: &ScenarioSpec, w: &WorkloadSpec) -> u64 {
    match w {
        WorkloadSpec::Bulk(b) => b.flows as u64,
        WorkloadSpec::Rpc(r) => r.connections as u64,
        WorkloadSpec::Datagrams(_) | WorkloadSpec::LinkLocal(_) | WorkloadSpec::PingPong(_) => 1,
        WorkloadSpec::Background(b) => b.max_concurrent as u64,
        WorkloadSpec::Permutation(p) => members(s, &p.instances) * p.flows_per_instance as u64,
        WorkloadSpec::AllReduce(a) => members(s, &a.instances),
        WorkloadSpec::AllToAll(a) => {
            let n = members(s, &a.instances);
            n * n.saturating_sub(1)
        }
        WorkloadSpec::ServiceClients(c) => members(s, &c.clients),
        WorkloadSpec::Connections(c) => members(s, &c.from).saturating_mul(c.count as u64),
        // One connection per original 5-tuple group, at most `max_groups`.
        WorkloadSpec::FlowLogs(f) => f.max_groups as u64,
    }
}

/// Memory one variant (a spec with its fleets expanded) needs, by part.
pub fn estimate(s: &ScenarioSpec, capture: bool) -> Estimate {
    let instances = s.instances.len() as u64;
    let cards: u64 = s
        .instances
        .iter()
        .map(|i| crate::ec2::catalog::lookup(&i.instance_type).map_or(1, |t| t.network_cards as u64))
        .sum();
    let hosts = s.fabric.racks as u64 * s.fabric.hosts_per_rack as u64;
    let conns: u64 = s.workloads.iter().map(|w| connections(s, w)).fold(0, u64::saturating_add);
    let mut parts = vec![
        ("base", BASE_BYTES),
        (
            "instances and hosts",
            instances * INSTANCE_BYTES + cards.saturating_sub(instances) * CARD_BYTES + hosts * HOST_BYTES,
        ),
        ("connections", conns.saturating_mul(CONNECTION_BYTES)),
        // One f64 per flow and bin.
        ("time series", conns.saturating_mul(s.report.timeseries_bins as u64).saturating_mul(8)),
        ("event log (report.event_log_limit)", s.report.event_log_limit as u64 * EVENT_LOG_ENTRY_BYTES),
    ];
    // Open-loop RPCs wait at their client until answered: at worst every one issued in the run
    // (a Poisson workload faster than its server; one RPC per picosecond took 686 MiB by 30 us
    // simulated, b75f3b4's release build).
    let rpcs_issued: u64 = s
        .workloads
        .iter()
        .filter_map(|w| match w {
            WorkloadSpec::Rpc(r) => match r.arrival {
                crate::scenario::spec::Arrival::Poisson { mean_interval } => {
                    let issued = s.duration.ps() / mean_interval.ps().max(1) + 1;
                    Some(r.count.map_or(issued, |c| c.min(issued)))
                }
                crate::scenario::spec::Arrival::ClosedLoop { .. } => None,
            },
            _ => None,
        })
        .fold(0, u64::saturating_add);
    if rpcs_issued > 0 {
        parts.push((
            "open-loop RPCs (Poisson), at worst all unanswered",
            rpcs_issued.saturating_mul(crate::workload::rpc::PENDING_RPC_BYTES),
        ));
    }
    if s.instances.iter().any(|i| i.enis.iter().any(|e| e.ena_srd_enabled)) {
        // Every connected pair may hold `paths` routes each way.
        parts.push(("SRD path routes", conns.saturating_mul(s.srd.paths as u64).saturating_mul(2 * SRD_ROUTE_BYTES)));
    }
    if capture {
        let points = if s.report.capture.is_empty() {
            instances + s.gateways.len() as u64
        } else {
            s.report.capture.len() as u64
        };
        let per_point = s.report.capture_limit as u64 * CAPTURE_RECORD_BYTES;
        parts.push(("pcap capture (--pcap, report.capture)", points.saturating_mul(per_point)));
    }
    Estimate { parts }
}

/// Memory the variants of a run need when `threads` run at once: the largest ones together.
pub fn estimate_run(variants: &[&ScenarioSpec], capture: bool, threads: usize) -> (u64, Estimate) {
    let mut each: Vec<Estimate> = variants.iter().map(|s| estimate(s, capture)).collect();
    each.sort_by_key(|e| std::cmp::Reverse(e.total()));
    let total = each.iter().take(threads.max(1)).map(Estimate::total).fold(0, u64::saturating_add);
    (total, each.into_iter().next().unwrap_or_default())
}

/// The machine's memory (`MemTotal` in /proc/meminfo), if the platform tells.
pub fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// Default budget: half the machine's memory (a run must leave room for the rest of the system
/// and for a second run), or 4 GiB when the machine does not say.
pub fn default_budget() -> u64 {
    machine_memory().map(|m| m / 2).unwrap_or(4 << 30)
}

/// "1.5 GiB" and the like.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = bytes as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{x:.1} {}", UNITS[u]) }
}

/// `--max-memory 2GiB` / `512MB` / `1000000` (bytes).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    t.parse::<u64>()
        .ok()
        .or_else(|| crate::units::parse_bytes(t).ok().map(|b| b.0))
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("invalid size {text:?}; write e.g. 2GiB, 512MiB or 8GB"))
}

/// Refuse a run whose estimate exceeds the budget, naming the largest parts and the knobs.
pub fn check(file: &str, total: u64, biggest: &Estimate, budget: u64) -> Result<(), super::Diagnostic> {
    if total <= budget {
        return Ok(());
    }
    let mut parts = biggest.parts.clone();
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    let listed: Vec<String> = parts.iter().take(3).map(|(n, b)| format!("{n} {}", human(*b))).collect();
    Err(super::Diagnostic::new(
        file,
        format!(
            "this run needs about {} of memory, more than the budget of {} (largest variant: {})",
            human(total),
            human(budget),
            listed.join(", ")
        ),
    )
    .expected(format!("an estimate within --max-memory ({})", human(budget)))
    .hint(
        "make the scenario smaller (instances, flows_per_instance, flows, connections, report.event_log_limit, \
         report.timeseries_bins, report.capture, an Rpc's Poisson mean_interval or count), run fewer sweep runs in \
         parallel (--jobs), or raise --max-memory if the \
         machine has the memory",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("1000").unwrap(), 1000);
        assert!(parse_bytes("lots").is_err());
        assert_eq!(human(3 << 30), "3.0 GiB");
    }
}
