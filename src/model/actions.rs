//! Timed actions: what changes during a run (a spine fails, an instance stops, a source/destination
//! check is turned off) happens to the ports the packets already follow, at the action's time.
//! The model owns the action types; the scenario module lowers its `ActionSpec`s into them.

use super::trace::LogEntry;
use super::{Model, NONE};
use crate::ec2::failover::ServiceAddress;
use crate::ec2::vpc::{AclRuleConfig, SgRuleConfig};
use crate::net::ip::{NO_MTU_LIMIT, PORT_CLOSED};
use crate::net::{DropReason, PortId};
use crate::transport::Transport;
use crate::units::{Bandwidth, SimDuration};

/// An action and when it happens (from the start of the run).
#[derive(Clone, Debug, PartialEq)]
pub struct TimedAction {
    pub at: SimDuration,
    pub action: Action,
    /// How the event log names it (the action as the scenario wrote it).
    pub detail: String,
}

/// What an action does; it takes effect at its time. Each variant's meaning is documented on the
/// scenario's `Action` (scenarios/README.md).
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SetSourceDestCheck { instance: String, enabled: bool },
    FailSpine { spine: u32 },
    DegradeSpine { spine: u32, rate: Bandwidth },
    FailLink { rack: u32, spine: u32 },
    RestoreLink { rack: u32, spine: u32 },
    RestoreSpine { spine: u32 },
    FailInstance { instance: String },
    RestoreInstance { instance: String },
    SetNetworkAcl { acl: String, inbound: Vec<AclRuleConfig>, outbound: Vec<AclRuleConfig> },
    SetSecurityGroup { group: String, inbound: Vec<SgRuleConfig>, outbound: Option<Vec<SgRuleConfig>> },
    SetEnaExpress { instance: String, enabled: bool },
    SetMtu { instance: String, mtu: u32 },
    DetachEni { service: String },
    AttachEni { service: String, to: String },
    Failover { service: String, to: String, delay: Option<SimDuration> },
}

impl Model {
    pub(crate) fn run_action(&mut self, n: u32) {
        let action = self.actions[n as usize].action.clone();
        let inst = |m: &Model, name: &str| m.insts.iter().position(|i| i.name == name).expect("validated") as u32;
        let detail = self.actions[n as usize].detail.clone();
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
                    self.set_port_rate(p, rate);
                }
            }
            Action::FailLink { rack, spine } => {
                for p in self.link_ports(rack, spine) {
                    self.take_down(p, DropReason::LinkDown);
                }
            }
            Action::RestoreLink { rack, spine } => {
                for p in self.link_ports(rack, spine) {
                    self.bring_up(p);
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
            Action::SetNetworkAcl { acl, inbound, outbound } => {
                let a = self.rules.network_acls.iter_mut().find(|x| x.name == acl).expect("validated");
                (a.inbound, a.outbound) = (inbound, outbound);
                self.vpc = crate::ec2::vpc::Vpc::compile(&self.rules).expect("validated rules");
                self.reapply_nacls();
            }
            Action::SetSecurityGroup { group, inbound, outbound } => {
                let g = self.rules.security_groups.iter_mut().find(|x| x.name == group).expect("validated");
                (g.inbound, g.outbound) = (inbound, outbound);
                self.vpc = crate::ec2::vpc::Vpc::compile(&self.rules).expect("validated rules");
            }
            Action::SetEnaExpress { instance, enabled } => {
                let i = inst(self, &instance);
                // On the primary ENI (eth0), where the action's instance-wide switch applies.
                let x = &mut self.insts[i as usize];
                x.enis[0].ena_srd_enabled = enabled;
                x.counters.ena_srd_mode = (x.counters.ena_srd_mode & !1) | enabled as u64;
            }
            Action::SetMtu { instance, mtu } => {
                let i = inst(self, &instance);
                // The primary ENI's MTU (as `ip link set eth0 mtu`): its connections learn it.
                self.insts[i as usize].enis[0].mtu = mtu;
                for ep in 0..self.eps.len() as u32 {
                    let slot = &mut self.eps[ep as usize];
                    if !slot.live || slot.instance != i || slot.efa || slot.eni != 0 {
                        continue;
                    }
                    slot.if_mtu = mtu;
                    self.drive(ep, None, |t, now, out| t.on_path_mtu(now, mtu, out));
                }
            }
            Action::DetachEni { service } => {
                let s = self.services.iter().position(|x| x.name == service).expect("validated") as u32;
                let delay =
                    crate::ec2::failover::ENI_DETACH.draw(&mut self.streams.stream(&format!("action/{n}/delay")));
                self.services[s as usize].delays.push(super::failover::FailoverStep {
                    mechanism: "eni-detach",
                    started: self.q.now(),
                    delay,
                    bounds: Some(crate::ec2::failover::ENI_DETACH),
                });
                self.q.schedule_in(delay, super::Event::ServiceMoved { service: s, to: NONE });
            }
            Action::AttachEni { service, to } => {
                let s = self.services.iter().position(|x| x.name == service).expect("validated") as u32;
                let delay =
                    crate::ec2::failover::ENI_ATTACH.draw(&mut self.streams.stream(&format!("action/{n}/delay")));
                self.services[s as usize].delays.push(super::failover::FailoverStep {
                    mechanism: "eni-attach",
                    started: self.q.now(),
                    delay,
                    bounds: Some(crate::ec2::failover::ENI_ATTACH),
                });
                let to = inst(self, &to);
                self.q.schedule_in(delay, super::Event::ServiceMoved { service: s, to });
            }
            Action::Failover { service, to, delay } => {
                let s = self.services.iter().position(|x| x.name == service).expect("validated") as u32;
                let address = self.services[s as usize].address;
                let mut rng = self.streams.stream(&format!("action/{n}/delay"));
                let bounds = delay.is_none().then(|| address.failover_bounds());
                let delay = delay.unwrap_or_else(|| match address {
                    // Two API steps, each drawn.
                    ServiceAddress::SecondaryEni => {
                        let detach = crate::ec2::failover::ENI_DETACH.draw(&mut rng);
                        detach + crate::ec2::failover::ENI_ATTACH.draw(&mut rng)
                    }
                    _ => address.failover_bounds().draw(&mut rng),
                });
                self.services[s as usize].delays.push(super::failover::FailoverStep {
                    mechanism: address.mechanism(),
                    started: self.q.now(),
                    delay,
                    bounds,
                });
                let to = inst(self, &to);
                self.q.schedule_in(delay, super::Event::ServiceMoved { service: s, to });
            }
        }
        self.log_event(LogEntry { event: "action", detail: Some(detail), ..LogEntry::default() });
    }

    /// Network ACLs are stateless: after a change every live connection between instances meets
    /// the new rules (its ACL verdicts are recomputed; other refusals stay).
    fn reapply_nacls(&mut self) {
        for c in 0..self.eps.len() as u32 {
            let slot = &self.eps[c as usize];
            if !slot.live || slot.owner.side != super::Side::Client || slot.efa || slot.instance == NONE {
                continue;
            }
            let s = slot.peer;
            let j = self.eps[s as usize].instance;
            if j == NONE {
                continue;
            }
            let t = slot.tuple;
            let (ea, eb) = (self.eni_view(c).clone(), self.eni_view(s).clone());
            let verdicts = self.vpc.nacls_of_connection(&ea, &eb, t.protocol, (t.src_port, t.dst_port));
            // Forget the old ACL verdicts of both ends.
            for ep in [c, s] {
                for block in [self.eps[ep as usize].tx_block, self.eps[ep as usize].rx_block] {
                    if block != NONE && self.filters[block as usize].1 == DropReason::NetworkAcl {
                        let e = &mut self.eps[ep as usize];
                        if e.tx_block == block {
                            e.tx_block = NONE;
                        }
                        if e.rx_block == block {
                            e.rx_block = NONE;
                        }
                    }
                }
            }
            // Forward refusals stop c's packets (leaving a's subnet) or s's intake; return ones
            // the other way round.
            for (k, (sender, receiver)) in [(c, s), (s, c)].into_iter().enumerate() {
                if let Some(r) = &verdicts[k] {
                    let (f, outbound) = self.refusal_id(r);
                    let ep = if outbound { sender } else { receiver };
                    let e = &mut self.eps[ep as usize];
                    let slot = if outbound { &mut e.tx_block } else { &mut e.rx_block };
                    if *slot == NONE {
                        *slot = f;
                    }
                }
            }
        }
    }

    /// Both directions of every ToR-spine link of `spine`.
    fn spine_ports(&self, spine: u32) -> Vec<PortId> {
        (0..self.fabric.config.racks).flat_map(|r| self.link_ports(r, spine)).collect()
    }

    /// Both directions of the link between `rack`'s ToR and `spine`.
    fn link_ports(&self, rack: u32, spine: u32) -> [PortId; 2] {
        let (racks, spines) = (self.fabric.config.racks, self.fabric.config.spines);
        [self.fabric.tor_up[(rack * spines + spine) as usize], self.fabric.spine_down[(spine * racks + rack) as usize]]
    }

    /// Every port an instance's traffic crosses on its own host.
    fn instance_ports(&self, i: u32) -> Vec<PortId> {
        let x = &self.insts[i as usize];
        let mut v: Vec<PortId> = x.cpu_tx.iter().chain(&x.cpu_rx).copied().collect();
        v.extend(x.card_shapers.iter().flatten());
        v.push(x.nitro_tx);
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
            (c.mtu, c.drop_reason) = (mtu, reason);
            self.set_port_rate(p, rate);
        }
    }

    /// Change a port's rate now: packets it holds that have not started service get the new one.
    pub(crate) fn set_port_rate(&mut self, p: PortId, rate: crate::units::Bandwidth) {
        let now = self.q.now();
        let port = &mut self.ports[p as usize];
        let old = port.config;
        if old.rate != rate {
            port.config.rate = rate;
            port.retime(now, old);
        }
    }
}
