//! Service addresses that fail over: the model's side (moving the address, resetting old
//! connections). The clients that live through it are a workload: `workload::service_clients`.
//!
//! Failover moves the address after its delay. When the address itself moves (a secondary ENI,
//! an Elastic IP), a client's next packet on an old connection reaches the standby, which has no
//! such socket and resets it; with DNS the old address stays dead and clients keep it until their
//! cached answer's TTL runs out.

use super::app_state::App;
use super::trace::LogEntry;
use super::{Attach, ConnTag, Event, Model, NONE, Proto};
use crate::ec2::failover::ServiceAddress;
use crate::transport::Transport;
use crate::units::{SimDuration, SimTime};
use crate::workload::service_clients::reset_tag;

/// A service address at run time.
pub struct ServiceRt {
    pub name: String,
    pub address: ServiceAddress,
    /// The instance holding the address (for DNS: the record's answer).
    pub owner: u32,
    /// A secondary ENI's security groups, which move with it (None: the holder's primary ENI's).
    pub groups: Option<Vec<usize>>,
    /// Each failover step started on it, and the delay drawn for it.
    pub delays: Vec<FailoverStep>,
}

#[derive(Clone, Copy, Debug)]
pub struct FailoverStep {
    pub mechanism: &'static str,
    pub started: SimTime,
    pub delay: SimDuration,
    /// The bounds it was drawn between (`None`: the scenario gave the delay).
    pub bounds: Option<crate::ec2::failover::DelayBounds>,
}

impl Model {
    /// Open a TCP connection from instance `client` to `server`, which holds service `s`'s
    /// address; clients reach a secondary ENI: its own security groups decide, wherever it is
    /// attached.
    pub(crate) fn open_service(&mut self, s: u32, client: u32, server: u32, tag: ConnTag, port: u16) -> (u32, u32) {
        let (ce, se) = self.open(Attach::Instance(client), Attach::Instance(server), Proto::Tcp, tag, port);
        let s = s as usize;
        if let (Some(groups), true) = (self.services[s].groups.clone(), ce != NONE) {
            for ep in [ce, se] {
                for b in [self.eps[ep as usize].tx_block, self.eps[ep as usize].rx_block] {
                    if b != NONE && self.filters[b as usize].1 == crate::net::DropReason::SecurityGroup {
                        let e = &mut self.eps[ep as usize];
                        e.tx_block = if e.tx_block == b { NONE } else { e.tx_block };
                        e.rx_block = if e.rx_block == b { NONE } else { e.rx_block };
                    }
                }
            }
            let ea = self.eni_view(ce).clone();
            let eb = crate::ec2::vpc::EniView { groups, ..self.eni_view(se).clone() };
            let names = (
                self.insts[client as usize].name.clone(),
                format!("{} (service ENI)", self.insts[server as usize].name),
            );
            let t = self.eps[ce as usize].tuple;
            self.vpc_filters((ce, se), (&ea, &eb), (&names.0, &names.1), &t);
        }
        (ce, se)
    }

    /// A failover takes effect: the address now belongs to `to`.
    pub(crate) fn service_moved(&mut self, s: u32, to: u32) {
        let now = self.now();
        let (old, address) = (self.services[s as usize].owner, self.services[s as usize].address);
        self.services[s as usize].owner = to;
        let name =
            |i: u32| if i == NONE { "nowhere (detached)".to_string() } else { self.insts[i as usize].name.clone() };
        let detail = format!("{} now reaches {} (was {})", self.services[s as usize].name, name(to), name(old));
        self.log_event(LogEntry { event: "failover", detail: Some(detail), ..LogEntry::default() });
        // Where the address moves to a live holder, old connections meet its reset; detached,
        // their packets go nowhere.
        if !address.moves() || to == NONE || old == NONE {
            return;
        }
        // Old connections' next packets reach the new holder, which resets them.
        for app in 0..self.apps.len() as u32 {
            let App::ServiceClients(a) = &self.apps[app as usize] else { continue };
            if a.service != s {
                continue;
            }
            for k in 0..a.clients.len() {
                let App::ServiceClients(a) = &mut self.apps[app as usize] else { unreachable!() };
                let c = &mut a.clients[k];
                if c.server != old {
                    continue;
                }
                let (waiting, ce) = (c.deadline.is_some(), c.client_ep);
                c.moved = true;
                if waiting {
                    // Its next retransmission or SYN retry reaches the new holder. (An idle
                    // client learns with its next request.)
                    let next = self.eps[ce as usize].transport.poll_at().unwrap_or(now).max(now);
                    self.q.schedule_at(next, Event::App { app, tag: reset_tag(k) });
                }
            }
        }
    }
}
