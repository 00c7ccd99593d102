//! Timed actions: what changes during a run (a spine fails, an instance stops, a source/destination
//! check is turned off) happens to the ports the packets already follow, at the action's time.

use super::trace::LogEntry;
use super::{Model, NONE};
use crate::net::ip::{NO_MTU_LIMIT, PORT_CLOSED};
use crate::net::{DropReason, PortId};
use crate::scenario::spec::Action;

impl Model {
    pub(crate) fn run_action(&mut self, n: u32) {
        let action = self.actions[n as usize].action.clone();
        let inst = |m: &Model, name: &str| m.insts.iter().position(|i| i.name == name).expect("validated") as u32;
        let detail = format!("{action:?}");
        match action {
            Action::SetSourceDestCheck { instance, enabled } => {
                let gate = self.insts[inst(self, &instance) as usize].forward_gate;
                self.ports[gate as usize].config.mtu = if enabled { PORT_CLOSED } else { NO_MTU_LIMIT };
            }
            Action::FailSpine { spine } => {
                for p in self.spine_ports(spine) {
                    self.take_down(p, DropReason::LinkDown);
                }
            }
            Action::DegradeSpine { spine, rate } => {
                for p in self.spine_ports(spine) {
                    self.saved_ports.entry(p).or_insert_with(|| {
                        let c = &self.ports[p as usize].config;
                        (c.mtu, c.drop_reason, c.rate)
                    });
                    self.ports[p as usize].config.rate = rate;
                }
            }
            Action::RestoreSpine { spine } => {
                for p in self.spine_ports(spine) {
                    self.bring_up(p);
                }
            }
            Action::FailInstance { instance } => {
                for p in self.instance_ports(inst(self, &instance)) {
                    self.take_down(p, DropReason::InstanceDown);
                }
            }
            Action::RestoreInstance { instance } => {
                for p in self.instance_ports(inst(self, &instance)) {
                    self.bring_up(p);
                }
            }
            Action::Failover { service, to, delay } => {
                let s = self.services.iter().position(|x| x.name == service).expect("validated") as u32;
                let delay = delay.unwrap_or(self.services[s as usize].address.failover_delay());
                let to = inst(self, &to);
                self.q.schedule_in(delay, super::Event::ServiceMoved { service: s, to });
            }
        }
        self.log_event(LogEntry { event: "action", detail: Some(detail), ..LogEntry::default() });
    }

    /// Both directions of every ToR-spine link of `spine`.
    fn spine_ports(&self, spine: u32) -> Vec<PortId> {
        let (racks, spines) = (self.fabric.config.racks, self.fabric.config.spines);
        (0..racks)
            .flat_map(|r| {
                [
                    self.fabric.tor_up[(r * spines + spine) as usize],
                    self.fabric.spine_down[(spine * racks + r) as usize],
                ]
            })
            .collect()
    }

    /// Every port an instance's traffic crosses on its own host.
    fn instance_ports(&self, i: u32) -> Vec<PortId> {
        let x = &self.insts[i as usize];
        let mut v: Vec<PortId> = x.cpu_tx.iter().chain(&x.cpu_rx).copied().collect();
        v.extend([x.egress, x.ingress, x.nitro_tx]);
        v.retain(|&p| p != NONE);
        v
    }

    /// A port that takes nothing more: what is offered to it is dropped with `reason`; what it
    /// already holds leaves (it was on the wire).
    fn take_down(&mut self, p: PortId, reason: DropReason) {
        let c = &mut self.ports[p as usize].config;
        self.saved_ports.entry(p).or_insert((c.mtu, c.drop_reason, c.rate));
        c.mtu = PORT_CLOSED;
        c.drop_reason = reason;
    }

    fn bring_up(&mut self, p: PortId) {
        if let Some((mtu, reason, rate)) = self.saved_ports.remove(&p) {
            let c = &mut self.ports[p as usize].config;
            (c.mtu, c.drop_reason, c.rate) = (mtu, reason, rate);
        }
    }
}
