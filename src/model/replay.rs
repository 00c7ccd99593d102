//! The `FlowLogs` workload's result: what each replayed group did, against what its log said.
//! The workload itself is `workload::replay`.

use super::app_state::FlowLogsApp;
use super::results::{FlowLogsResult, GroupResult};
use super::{Model, NONE};
use crate::transport::Transport;

impl FlowLogsApp {
    pub(crate) fn result(&self, m: &Model) -> FlowLogsResult {
        let r3 = crate::model::results::round3;
        let groups = self
            .groups
            .iter()
            .map(|g| {
                let (retransmits, rtos) = [g.client_ep, g.server_ep]
                    .iter()
                    .filter(|&&e| e != NONE)
                    .map(|&e| m.eps[e as usize].transport.stats())
                    .fold((0, 0), |(r, t), s| (r + s.retransmits, t + s.rtos));
                let n = g.group.exchanges.len() as u64;
                let logged = if g.group.rejected {
                    "REJECT"
                } else if g.group.partly_rejected {
                    "PARTLY_REJECTED"
                } else {
                    "ACCEPT"
                };
                let verdict = match (g.group.rejected, g.established, g.completed as u64 == n) {
                    (true, false, _) => "as logged",
                    (true, true, _) => "allowed but logged REJECT",
                    (false, false, _) => "refused but logged ACCEPT",
                    (false, true, true) => "as logged",
                    (false, true, false) => "unfinished",
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
                        (Some(a), Some(b)) if g.completed as u64 == n => Some(r3(b.since(a).as_secs_f64() * 1e3)),
                        _ => None,
                    },
                    exchange_us_mean: (g.completed > 0).then(|| r3(g.busy.ps() as f64 / 1e6 / g.completed as f64)),
                    goodput_gbps: if g.busy.ps() == 0 { 0.0 } else { r3(crate::units::gbps(g.replayed_bytes, g.busy)) },
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
