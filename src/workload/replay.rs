//! The `FlowLogs` workload at run time: each original 5-tuple group is one TCP connection between
//! the instances its addresses map to; each of its aggregation windows is one request/response
//! exchange issued at the window's (time-compressed) start. `flowlogs` reads the log and states
//! the reconstruction model.

use super::Collector;
use super::config::FlowLogsConfig;
use super::flowlogs::{Group, ReadStats};
use super::results::{RunEnd, round3};
use super::{Attach, ConnTag, Ctx, Delivery, NONE, Proto, RpcBook, Side, TAG_ARRIVAL, Workload};
use crate::units::{SimDuration, SimTime};
use serde::Serialize;

pub struct ReplayGroup {
    pub group: Group,
    pub client: u32,
    pub server: u32,
    pub client_ep: u32,
    pub server_ep: u32,
    pub book: RpcBook,
    pub established: bool,
    pub first_issue: Option<SimTime>,
    pub last_done: Option<SimTime>,
    /// Sum of the exchanges' durations (issue to last response byte).
    pub busy: SimDuration,
    pub completed: u32,
    /// Payload bytes written both ways, after `scale`.
    pub replayed_bytes: u64,
}

pub struct FlowLogsApp {
    pub spec: FlowLogsConfig,
    pub groups: Vec<ReplayGroup>,
    /// (when, group, exchange) in time order.
    pub schedule: Vec<(SimTime, u32, u32)>,
    pub next: usize,
    /// Exchanges of accepted groups not yet completed (rejected ones are expected never to).
    pub remaining: u64,
    pub stats: ReadStats,
    pub format: String,
}

impl FlowLogsApp {
    /// Lay the groups' exchanges out in simulated time.
    pub fn new(spec: FlowLogsConfig, groups: Vec<(Group, u32, u32)>, stats: ReadStats, format: String) -> Self {
        let mut schedule = Vec::new();
        let mut remaining = 0u64;
        for (k, (g, _, _)) in groups.iter().enumerate() {
            for (e, x) in g.exchanges.iter().enumerate() {
                // Offsets in whole seconds, compressed by `speedup`, rounded to the picosecond.
                let ps = (x.offset_s as f64 * 1e12 / spec.speedup).round() as u64;
                schedule.push((SimTime(ps), k as u32, e as u32));
                if !g.rejected {
                    remaining += 1;
                }
            }
        }
        schedule.sort();
        let groups = groups
            .into_iter()
            .map(|(group, client, server)| ReplayGroup {
                group,
                client,
                server,
                client_ep: NONE,
                server_ep: NONE,
                book: RpcBook::default(),
                established: false,
                first_issue: None,
                last_done: None,
                busy: SimDuration::ZERO,
                completed: 0,
                replayed_bytes: 0,
            })
            .collect();
        FlowLogsApp { spec, groups, schedule, next: 0, remaining, stats, format }
    }

    /// Issue every exchange whose time has come, then wake up for the next one.
    fn issue_due(&mut self, ctx: &mut impl Ctx, app: u32) {
        let now = ctx.now();
        loop {
            let Some(&(at, g, e)) = self.schedule.get(self.next) else {
                return;
            };
            if at > now {
                ctx.schedule_at(app, at, TAG_ARRIVAL);
                return;
            }
            self.next += 1;
            let scale = self.spec.scale;
            let rg = &mut self.groups[g as usize];
            let x = rg.group.exchanges[e as usize];
            // A refused connection attempt carries one byte: only its SYN matters.
            let (fwd, rev) = if rg.group.rejected {
                (1, 1)
            } else {
                (scaled(x.forward_bytes, scale), scaled(x.reverse_bytes, scale))
            };
            rg.replayed_bytes = rg.replayed_bytes.saturating_add(fwd.saturating_add(rev));
            rg.first_issue.get_or_insert(now);
            let write = rg.book.issue(now, fwd, rev);
            if rg.client_ep == NONE {
                let (c, s, port) = (rg.client, rg.server, rg.group.server_port);
                let tag = ConnTag { app, conn: g, flow: NONE };
                (rg.client_ep, rg.server_ep) =
                    ctx.open(Attach::Instance(c), Attach::Instance(s), Proto::Tcp, tag, port);
            }
            ctx.ep_send(rg.client_ep, write);
        }
    }
}

fn scaled(bytes: u64, scale: f64) -> u64 {
    ((bytes as f64 * scale).round() as u64).max(1)
}

/// The verdict of a group whose first exchange comes after the run's end.
pub const NOT_STARTED: &str = "not started before the run's end";

impl FlowLogsApp {
    /// What each replayed group did, against what its log said.
    fn result(&self, run: &impl RunEnd) -> FlowLogsResult {
        let groups = self
            .groups
            .iter()
            .map(|g| {
                let (retransmits, rtos) = [g.client_ep, g.server_ep]
                    .iter()
                    .filter(|&&e| e != NONE)
                    .map(|&e| run.ep_stats(e))
                    .fold((0, 0), |(r, t), s| (r + s.retransmits, t + s.rtos));
                let n = g.group.exchanges.len() as u64;
                let logged = if g.group.rejected {
                    "REJECT"
                } else if g.group.partly_rejected {
                    "PARTLY_REJECTED"
                } else {
                    "ACCEPT"
                };
                let verdict = match (g.first_issue.is_some(), g.group.rejected, g.established, g.completed as u64 == n)
                {
                    // Its first exchange comes after the run's end: nothing was tried.
                    (false, ..) => NOT_STARTED,
                    (true, true, false, _) => "as logged",
                    (true, true, true, _) => "allowed but logged REJECT",
                    // Refused by the scenario's rules, or tried too close to the end to connect.
                    (true, false, false, _) => "not established but logged ACCEPT",
                    (true, false, true, true) => "as logged",
                    (true, false, true, false) => "unfinished",
                };
                GroupResult {
                    group: g.group.label.clone(),
                    client: g.group.client.clone(),
                    server: g.group.server.clone(),
                    logged,
                    established: g.established,
                    verdict,
                    logged_bytes: g.group.bytes,
                    replayed_bytes: g.replayed_bytes,
                    exchanges: n,
                    completed: g.completed as u64,
                    completion_ms: match (g.first_issue, g.last_done) {
                        (Some(a), Some(b)) if g.completed as u64 == n => Some(round3(b.since(a).as_secs_f64() * 1e3)),
                        _ => None,
                    },
                    exchange_us_mean: (g.completed > 0).then(|| round3(g.busy.ps() as f64 / 1e6 / g.completed as f64)),
                    goodput_gbps: if g.busy.ps() == 0 {
                        0.0
                    } else {
                        round3(crate::units::gbps(g.replayed_bytes, g.busy))
                    },
                    retransmits,
                    rtos,
                }
            })
            .collect();
        let s = &self.stats;
        FlowLogsResult {
            workload: self.spec.name.clone(),
            format: self.format.clone(),
            records: s.records,
            nodata_records: s.nodata,
            skipdata_records: s.skipdata,
            rejected_records: s.rejected_records,
            not_tcp_records: s.not_tcp,
            unknown_interface_records: s.unknown_interface,
            unmapped_address_records: s.unmapped_address,
            unknown_examples: s.unknown_examples.clone(),
            groups,
        }
    }
}

impl Workload for FlowLogsApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        true
    }

    fn results(&self, run: &impl RunEnd, out: &mut Collector) {
        out.replays.flowlogs.push(self.result(run))
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        if self.remaining == 0 {
            self.finish(ctx);
        }
        self.issue_due(ctx, app);
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        if tag == TAG_ARRIVAL {
            self.issue_due(ctx, app);
        }
    }

    fn on_established(&mut self, _ctx: &mut impl Ctx, _app: u32, conn: u32, _ep: u32) {
        self.groups[conn as usize].established = true;
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, _app: u32, d: Delivery) {
        let now = ctx.now();
        let rg = &mut self.groups[d.conn as usize];
        let rejected = rg.group.rejected;
        match d.side {
            Side::Server => {
                let write = rg.book.server_received(d.total);
                if write > 0 {
                    ctx.ep_send(rg.server_ep, write);
                }
            }
            Side::Client => {
                let (mut done, mut busy) = (0u32, SimDuration::ZERO);
                rg.book.client_received(d.total, |issued| {
                    done += 1;
                    busy = busy + now.since(issued);
                });
                if done == 0 {
                    return;
                }
                rg.completed += done;
                rg.busy = rg.busy + busy;
                rg.last_done = Some(now);
                if !rejected {
                    self.remaining -= done as u64;
                    if self.remaining == 0 {
                        self.finish(ctx);
                    }
                }
            }
        }
    }
}

/// One original 5-tuple group, replayed: what the variant made of it.
#[derive(Clone, Debug, Serialize)]
pub struct GroupResult {
    /// The original connection, initiator first: "10.0.1.10:43512 -> 10.0.2.20:443".
    pub group: String,
    pub client: String,
    pub server: String,
    /// What the log recorded: "ACCEPT", "REJECT" (every record) or "PARTLY_REJECTED".
    pub logged: &'static str,
    /// The connection was established in the simulation.
    pub established: bool,
    /// Whether the scenario did what the log recorded: "as logged", "allowed but logged REJECT"
    /// (its rules let through what AWS refused), "not established but logged ACCEPT" (refused by
    /// its rules, or tried too late in the run to connect), "unfinished", or [`NOT_STARTED`]
    /// (the group's first exchange is after the run's end).
    pub verdict: &'static str,
    /// Bytes the flow log counted (headers included).
    pub logged_bytes: u64,
    /// Payload written both ways in the replay (after `scale`).
    pub replayed_bytes: u64,
    pub exchanges: u64,
    pub completed: u64,
    /// First exchange issued to last response received, in milliseconds.
    pub completion_ms: Option<f64>,
    /// Mean time of one exchange (request written to last response byte), in microseconds.
    pub exchange_us_mean: Option<f64>,
    /// Payload over the time exchanges were in progress.
    pub goodput_gbps: f64,
    pub retransmits: u64,
    pub rtos: u64,
}

/// A `FlowLogs` workload's replay, per group, with what reading the log counted.
#[derive(Clone, Debug, Serialize)]
pub struct FlowLogsResult {
    pub workload: String,
    pub format: String,
    pub records: u64,
    pub nodata_records: u64,
    pub skipdata_records: u64,
    pub rejected_records: u64,
    pub not_tcp_records: u64,
    /// Records from interfaces the workload's `interfaces` map does not know (counted, skipped).
    pub unknown_interface_records: u64,
    /// Records whose addresses inside the VPC map to no instance (counted, skipped).
    pub unmapped_address_records: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_examples: Vec<String>,
    pub groups: Vec<GroupResult>,
}
