//! The `FlowLogs` workload at run time: each original 5-tuple group is one TCP connection between
//! the instances its addresses map to; each of its aggregation windows is one request/response
//! exchange issued at the window's (time-compressed) start. `workload::flowlogs` reads the log
//! and states the reconstruction model.

use super::app_state::{App, FlowLogsApp, TAG_ARRIVAL, TAG_START};
use super::results::{FlowLogsResult, GroupResult};
use super::{Attach, ConnTag, Model, NONE, Owner, Proto, Side};
use crate::transport::Transport;
use crate::units::SimDuration;

fn scaled(bytes: u64, scale: f64) -> u64 {
    ((bytes as f64 * scale).round() as u64).max(1)
}

impl Model {
    pub(crate) fn replay_event(&mut self, app: u32, tag: u32) {
        let now = self.now();
        if tag == TAG_START {
            let App::FlowLogs(a) = &self.apps[app as usize] else { unreachable!() };
            if a.remaining == 0 {
                self.finish_replay(app);
            }
        } else if tag != TAG_ARRIVAL {
            return;
        }
        loop {
            let App::FlowLogs(a) = &mut self.apps[app as usize] else { unreachable!() };
            let Some(&(at, g, e)) = a.schedule.get(a.next) else {
                return;
            };
            if at > now {
                self.q.schedule_at(at, super::Event::App { app, tag: TAG_ARRIVAL });
                return;
            }
            a.next += 1;
            let scale = a.spec.scale;
            let rg = &mut a.groups[g as usize];
            let x = rg.group.exchanges[e as usize];
            // A refused connection attempt carries one byte: only its SYN matters.
            let (fwd, rev) = if rg.group.rejected {
                (1, 1)
            } else {
                (scaled(x.forward_bytes, scale), scaled(x.reverse_bytes, scale))
            };
            rg.replayed_bytes += fwd + rev;
            rg.first_issue.get_or_insert(now);
            let write = rg.book.issue(now, fwd, rev);
            if rg.client_ep == NONE {
                let (c, s, port) = (rg.client, rg.server, rg.group.server_port);
                let tag = ConnTag { app, conn: g, flow: NONE };
                let (ce, se) = self.open(Attach::Instance(c), Attach::Instance(s), Proto::Tcp, tag, port);
                let App::FlowLogs(a) = &mut self.apps[app as usize] else { unreachable!() };
                (a.groups[g as usize].client_ep, a.groups[g as usize].server_ep) = (ce, se);
            }
            let App::FlowLogs(a) = &self.apps[app as usize] else { unreachable!() };
            let ep = a.groups[g as usize].client_ep;
            self.ep_send(ep, write);
        }
    }

    fn finish_replay(&mut self, app: u32) {
        if self.apps[app as usize].is_foreground() {
            debug_assert!(self.unfinished > 0);
            self.unfinished -= 1;
        }
    }

    pub(crate) fn replay_established(&mut self, owner: Owner) {
        let App::FlowLogs(a) = &mut self.apps[owner.app as usize] else { unreachable!() };
        a.groups[owner.conn as usize].established = true;
    }

    pub(crate) fn replay_delivered(&mut self, owner: Owner, ep: u32) {
        let now = self.now();
        let total = self.eps[ep as usize].transport.stats().bytes_delivered;
        let App::FlowLogs(a) = &mut self.apps[owner.app as usize] else { unreachable!() };
        let rejected = a.groups[owner.conn as usize].group.rejected;
        let rg = &mut a.groups[owner.conn as usize];
        match owner.side {
            Side::Server => {
                let write = rg.book.server_received(total);
                let s = rg.server_ep;
                if write > 0 {
                    self.ep_send(s, write);
                }
            }
            Side::Client => {
                let (mut done, mut busy) = (0u32, SimDuration::ZERO);
                rg.book.client_received(total, |issued| {
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
                    a.remaining -= done as u64;
                    if a.remaining == 0 {
                        self.finish_replay(owner.app);
                    }
                }
            }
        }
    }
}

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
