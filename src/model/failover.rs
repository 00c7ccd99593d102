//! Service addresses that fail over, and the clients that live through it.
//!
//! Each client keeps one TCP connection to the instance its address resolves to, sends a
//! request, waits for the response, pauses `interval`, and so on. A request unanswered after
//! `timeout` makes it drop the connection; so does a reset. It then backs off (by default "full
//! jitter", as the AWS SDKs retry: a wait drawn in [0, min(cap, base x 2^n)] after its n-th
//! failure in a row, from its own seed) and reconnects, resolving again. The request is retried
//! on the new connection, so its latency, and the gap between the client's successes, measure the
//! outage.
//!
//! Why backoff matters here: clients that lose the service at the same moment and retry on a
//! fixed grid (their timeout) stay in step, so every client finds the moved address at the same
//! attempt and all see the same outage. With jitter each client's attempts drift apart and each
//! finds the address at its own time, as real fleets do.
//!
//! Failover moves the address after its delay. When the address itself moves (a secondary ENI,
//! an Elastic IP), a client's next packet on an old connection reaches the standby, which has no
//! such socket and resets it; with DNS the old address stays dead and clients keep it until their
//! cached answer's TTL runs out.

use super::app_state::{App, ServiceClientsApp};
use super::trace::LogEntry;
use super::{Attach, ConnTag, Event, Model, NONE, Owner, Proto, Side};
use crate::ec2::failover::ServiceAddress;
use crate::transport::Transport;
use crate::units::{SimDuration, SimTime};

/// Event tags of a service-clients app: the kind in the low bits, the client index above.
const KIND_BITS: u32 = 3;

const START: u32 = 0;

const SEND: u32 = 1;

const TIMEOUT: u32 = 2;

const RESET: u32 = 3;

const CONNECT: u32 = 4;

/// A fraction in [0, 1) drawn from a client's own seed (`which` picks an independent draw).
fn client_fraction(seed: u64, which: u64) -> f64 {
    (crate::engine::rng::mix64(seed ^ crate::engine::rng::mix64(which)) >> 11) as f64 / (1u64 << 53) as f64
}

fn tag(kind: u32, client: usize) -> u32 {
    kind | (client as u32) << KIND_BITS
}

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
    fn sc(&mut self, app: u32) -> &mut ServiceClientsApp {
        match &mut self.apps[app as usize] {
            App::ServiceClients(a) => a,
            _ => unreachable!("a service-clients event for another app"),
        }
    }

    /// Where client `k` of `app` connects now: the address's holder, or its cached DNS answer.
    fn resolve(&mut self, app: u32, k: usize) -> u32 {
        let now = self.now();
        let s = self.sc(app).service as usize;
        let (address, owner) = (self.services[s].address, self.services[s].owner);
        let c = &mut self.sc(app).clients[k];
        match address {
            ServiceAddress::Dns { ttl } => match c.dns {
                Some((cached, expires)) if now < expires => cached,
                None => {
                    // The client's resolver cached the answer some time before the client first
                    // asked: what is left of the TTL is uniform in (0, ttl] (model choice), so
                    // clients' caches expire at different times.
                    let left = 1.0 - client_fraction(c.seed, 1);
                    let left = SimDuration(((ttl.ps() as f64 * left).ceil() as u64).max(1));
                    c.dns = Some((owner, now + left));
                    owner
                }
                _ => {
                    c.dns = Some((owner, now + ttl));
                    owner
                }
            },
            _ => owner,
        }
    }

    pub(crate) fn service_event(&mut self, app: u32, t: u32) {
        let (kind, k) = (t & ((1 << KIND_BITS) - 1), (t >> KIND_BITS) as usize);
        match kind {
            START => {
                // Clients start at their own phase within one request interval: their requests,
                // and so their timeouts and retries, do not march in step.
                let interval = self.sc(app).spec.interval;
                for k in 0..self.sc(app).clients.len() {
                    let phase = client_fraction(self.sc(app).clients[k].seed, 0);
                    let at = SimDuration((interval.ps() as f64 * phase) as u64);
                    self.q.schedule_in(at, Event::App { app, tag: tag(CONNECT, k) });
                }
            }
            CONNECT => self.service_connect(app, k),
            SEND => self.service_send(app, k),
            TIMEOUT => {
                let now = self.now();
                let c = &mut self.sc(app).clients[k];
                if c.deadline.is_some_and(|d| now >= d) {
                    c.timeouts += 1;
                    self.service_reconnect(app, k, "request timed out");
                }
            }
            RESET => {
                // Only if the connection it was meant for is still the current one.
                let c = &mut self.sc(app).clients[k];
                if c.moved && c.client_ep != NONE {
                    if c.connected {
                        c.resets += 1;
                        self.service_reconnect(
                            app,
                            k,
                            "connection reset by the new holder of the address (no such socket)",
                        );
                    } else {
                        self.service_reconnect(app, k, "the SYN retry reached the new holder of the address");
                    }
                }
            }
            _ => unreachable!("unknown service-clients event"),
        }
    }

    fn service_connect(&mut self, app: u32, k: usize) {
        let now = self.now();
        let server = self.resolve(app, k);
        let (client, port, timeout) =
            (self.sc(app).clients[k].instance, self.sc(app).spec.port, self.sc(app).spec.timeout);
        // An address attached nowhere: the attempt goes unanswered until the timeout.
        let (ce, se) = if server == NONE {
            (NONE, NONE)
        } else {
            self.open(
                Attach::Instance(client),
                Attach::Instance(server),
                Proto::Tcp,
                ConnTag { app, conn: k as u32, flow: NONE },
                port,
            )
        };
        // Clients reach a secondary ENI: its own security groups decide, wherever it is attached.
        let s = self.sc(app).service as usize;
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
            let ea = self.insts[client as usize].eni.clone();
            let eb = crate::ec2::vpc::EniView { groups, ..self.insts[server as usize].eni.clone() };
            let names = (
                self.insts[client as usize].name.clone(),
                format!("{} (service ENI)", self.insts[server as usize].name),
            );
            let t = self.eps[ce as usize].tuple;
            self.vpc_filters((ce, se), (&ea, &eb), (&names.0, &names.1), &t);
        }
        let c = &mut self.sc(app).clients[k];
        (c.client_ep, c.server_ep, c.server) = (ce, se, server);
        (c.connected, c.moved) = (false, false);
        (c.server_rx_target, c.server_answered, c.client_rx_target) = (0, 0, 0);
        c.connections += 1;
        // Connecting counts against the same timeout as a request.
        c.deadline = Some(now + timeout);
        self.q.schedule_in(timeout, Event::App { app, tag: tag(TIMEOUT, k) });
    }

    /// Drop the current connection and open another (the outstanding request will be retried).
    fn service_reconnect(&mut self, app: u32, k: usize, why: &str) {
        let backoff = self.sc(app).spec.backoff;
        let c = &mut self.sc(app).clients[k];
        let (ce, se) = (c.client_ep, c.server_ep);
        c.deadline = None;
        (c.client_ep, c.server_ep, c.server) = (NONE, NONE, NONE);
        (c.connected, c.moved) = (false, false);
        // Back off before the next attempt, by the client's own draw: clients that lost the
        // service together spread their attempts apart, so each finds the moved address at its
        // own time.
        c.failures_in_a_row += 1;
        c.backoff_draws += 1;
        let wait = backoff.wait(c.failures_in_a_row, client_fraction(c.seed, 2 + c.backoff_draws));
        let (name, client) = (self.sc(app).spec.name.clone(), self.sc(app).clients[k].instance);
        let flow = Some(format!("{name}/{}", self.insts[client as usize].name));
        let detail = Some(format!("{why}; next attempt in {wait}"));
        self.log_event(LogEntry { event: "reconnect", flow, detail, ..LogEntry::default() });
        if ce != NONE {
            self.close(ce, se);
        }
        if wait == SimDuration::ZERO {
            self.service_connect(app, k);
        } else {
            self.q.schedule_in(wait, Event::App { app, tag: tag(CONNECT, k) });
        }
    }

    pub(crate) fn service_established(&mut self, app: u32, k: usize) {
        let c = &mut self.sc(app).clients[k];
        c.connected = true;
        c.deadline = None;
        self.service_send(app, k);
    }

    /// Send the next request (or retry the outstanding one) on client k's connection.
    fn service_send(&mut self, app: u32, k: usize) {
        let now = self.now();
        let (request, timeout) = (self.sc(app).spec.request.0, self.sc(app).spec.timeout);
        let response = self.sc(app).spec.response.0;
        let c = &mut self.sc(app).clients[k];
        if !c.connected || c.deadline.is_some() {
            return;
        }
        if c.moved {
            // The request reaches the standby, which answers with a reset.
            self.q.schedule_in(SimDuration::ZERO, Event::App { app, tag: tag(RESET, k) });
            return;
        }
        c.outstanding.get_or_insert(now);
        c.deadline = Some(now + timeout);
        c.server_rx_target += request;
        c.client_rx_target += response;
        let ep = c.client_ep;
        self.q.schedule_in(timeout, Event::App { app, tag: tag(TIMEOUT, k) });
        self.ep_send(ep, request);
    }

    pub(crate) fn service_delivered(&mut self, owner: Owner, ep: u32) {
        let (app, k) = (owner.app, owner.conn as usize);
        let now = self.now();
        let total = self.eps[ep as usize].transport.stats().bytes_delivered;
        let response = self.sc(app).spec.response.0;
        let interval = self.sc(app).spec.interval;
        let c = &mut self.sc(app).clients[k];
        match owner.side {
            Side::Server => {
                // Answer a request once it has arrived in full.
                if ep == c.server_ep && total >= c.server_rx_target && c.server_answered < c.server_rx_target {
                    c.server_answered = c.server_rx_target;
                    let se = c.server_ep;
                    self.ep_send(se, response);
                }
            }
            Side::Client => {
                if ep != c.client_ep || total < c.client_rx_target || c.deadline.is_none() {
                    return;
                }
                c.deadline = None;
                c.outstanding = None;
                if let Some(last) = c.last_ok {
                    c.longest_gap = c.longest_gap.max(now.since(last));
                }
                c.last_ok = Some(now);
                c.failures_in_a_row = 0;
                c.ok += 1;
                let bin = (now.ps() / self.bin_ps) as usize;
                let a = self.sc(app);
                let last = a.ok_bins.len() - 1;
                a.ok_bins[bin.min(last)] += 1;
                self.q.schedule_in(interval, Event::App { app, tag: tag(SEND, k) });
            }
        }
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
                let c = &self.sc(app).clients[k];
                if c.server != old {
                    continue;
                }
                let (waiting, ce) = (c.deadline.is_some(), c.client_ep);
                self.sc(app).clients[k].moved = true;
                if waiting {
                    // Its next retransmission or SYN retry reaches the new holder. (An idle
                    // client learns with its next request.)
                    let next = self.eps[ce as usize].transport.poll_at().unwrap_or(now).max(now);
                    self.q.schedule_at(next, Event::App { app, tag: tag(RESET, k) });
                }
            }
        }
    }
}
