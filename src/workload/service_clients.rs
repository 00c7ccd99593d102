//! Clients of a service address that fails over (the address's side, moving it and resetting
//! old connections, is the model's: `model::failover`).
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

use super::Collector;
use super::config::ServiceClientsConfig;
use super::results::{RunEnd, round3};
use super::{ConnTag, Ctx, Delivery, NONE, Side, Workload};
use crate::ec2::failover::ServiceAddress;
use crate::units::{SimDuration, SimTime};
use serde::Serialize;

/// Event tags of a service-clients app: the kind in the low bits, the client index above.
const KIND_BITS: u32 = 3;

// Kind 0 is `TAG_START` (with client 0): the workload's start, heard by `start`.

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

/// The event that makes client `k` meet the reset of the address's new holder (the model
/// schedules it when the address moves).
pub fn reset_tag(k: usize) -> u32 {
    tag(RESET, k)
}

#[derive(Clone, Debug, Default)]
pub struct ClientRt {
    pub instance: u32,
    pub client_ep: u32,
    pub server_ep: u32,
    /// The instance the current connection reaches.
    pub server: u32,
    pub connected: bool,
    /// The request in flight: when it was first issued (retries keep this).
    pub outstanding: Option<SimTime>,
    pub deadline: Option<SimTime>,
    /// Bytes the server must have (resp. the client) for the current request to be answered.
    pub server_rx_target: u64,
    pub server_answered: u64,
    pub client_rx_target: u64,
    /// A cached DNS answer and when it expires.
    pub dns: Option<(u32, SimTime)>,
    /// The connection's server lost the address: the next packet meets a reset.
    pub moved: bool,
    pub last_ok: Option<SimTime>,
    pub longest_gap: SimDuration,
    pub ok: u64,
    pub timeouts: u64,
    pub resets: u64,
    pub connections: u64,
    /// Failed attempts (timeouts, resets) since the last success: the backoff's exponent.
    pub failures_in_a_row: u32,
    /// Backoff waits drawn so far (each from the client's seed and this count).
    pub backoff_draws: u64,
    /// The client's own random seed: its start phase, its resolver cache's age and its backoff.
    pub seed: u64,
}

pub struct ServiceClientsApp {
    pub spec: ServiceClientsConfig,
    pub service: u32,
    pub clients: Vec<ClientRt>,
    /// Successful responses per time bin (all clients), for the success-rate timeline.
    pub ok_bins: Vec<u64>,
}

impl ServiceClientsApp {
    /// `clients`: each client's instance and its own seed.
    pub fn new(spec: ServiceClientsConfig, service: u32, clients: &[(u32, u64)], bins: usize) -> Self {
        let clients =
            clients.iter().map(|&(instance, seed)| ClientRt { instance, seed, ..ClientRt::default() }).collect();
        ServiceClientsApp { spec, service, clients, ok_bins: vec![0; bins] }
    }
}

impl ServiceClientsApp {
    /// Where client `k` connects now: the address's holder, or its cached DNS answer.
    fn resolve(&mut self, ctx: &mut impl Ctx, k: usize) -> u32 {
        let now = ctx.now();
        let (address, owner) = ctx.service_address(self.service);
        let c = &mut self.clients[k];
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

    fn connect(&mut self, ctx: &mut impl Ctx, app: u32, k: usize) {
        let now = ctx.now();
        let server = self.resolve(ctx, k);
        let (client, port, timeout) = (self.clients[k].instance, self.spec.port, self.spec.timeout);
        // An address attached nowhere: the attempt goes unanswered until the timeout.
        let (ce, se) = if server == NONE {
            (NONE, NONE)
        } else {
            ctx.open_service(self.service, client, server, ConnTag { app, conn: k as u32, flow: NONE }, port)
        };
        let c = &mut self.clients[k];
        (c.client_ep, c.server_ep, c.server) = (ce, se, server);
        (c.connected, c.moved) = (false, false);
        (c.server_rx_target, c.server_answered, c.client_rx_target) = (0, 0, 0);
        c.connections += 1;
        // Connecting counts against the same timeout as a request.
        c.deadline = Some(now + timeout);
        ctx.schedule(app, timeout, tag(TIMEOUT, k));
    }

    /// Drop the current connection and open another (the outstanding request will be retried).
    fn reconnect(&mut self, ctx: &mut impl Ctx, app: u32, k: usize, why: &str) {
        let backoff = self.spec.backoff;
        let c = &mut self.clients[k];
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
        let (name, client) = (self.spec.name.clone(), self.clients[k].instance);
        let flow = format!("{name}/{}", ctx.instance_name(client));
        let detail = format!("{why}; next attempt in {wait}");
        ctx.log_flow_event("reconnect", flow, detail);
        if ce != NONE {
            ctx.close(ce, se);
        }
        if wait == SimDuration::ZERO {
            self.connect(ctx, app, k);
        } else {
            ctx.schedule(app, wait, tag(CONNECT, k));
        }
    }

    /// Send the next request (or retry the outstanding one) on client k's connection.
    fn send(&mut self, ctx: &mut impl Ctx, app: u32, k: usize) {
        let now = ctx.now();
        let (request, timeout) = (self.spec.request.0, self.spec.timeout);
        let response = self.spec.response.0;
        let c = &mut self.clients[k];
        if !c.connected || c.deadline.is_some() {
            return;
        }
        if c.moved {
            // The request reaches the standby, which answers with a reset.
            ctx.schedule(app, SimDuration::ZERO, tag(RESET, k));
            return;
        }
        c.outstanding.get_or_insert(now);
        c.deadline = Some(now + timeout);
        c.server_rx_target += request;
        c.client_rx_target += response;
        let ep = c.client_ep;
        ctx.schedule(app, timeout, tag(TIMEOUT, k));
        ctx.ep_send(ep, request);
    }
}

impl Workload for ServiceClientsApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        false
    }

    fn results(&self, run: &impl RunEnd, out: &mut Collector) {
        let stopped = run.stopped();
        let clients: Vec<ServiceClientResult> = self
            .clients
            .iter()
            .map(|c| {
                let ongoing = c.last_ok.map_or(stopped.since(SimTime::ZERO), |t| stopped.since(t));
                let outage = if c.outstanding.is_some() { c.longest_gap.max(ongoing) } else { c.longest_gap };
                ServiceClientResult {
                    workload: self.spec.name.clone(),
                    client: run.instance_name(c.instance).to_string(),
                    requests_ok: c.ok,
                    outage_ms: round3(outage.as_secs_f64() * 1e3),
                    timeouts: c.timeouts,
                    resets: c.resets,
                    connections: c.connections,
                }
            })
            .collect();
        let outages: Vec<f64> = clients.iter().map(|c| c.outage_ms).collect();
        if !outages.is_empty() {
            out.sections.service_outages.push(ServiceOutageResult {
                workload: self.spec.name.clone(),
                clients: outages.len() as u64,
                outage_ms_mean: round3(outages.iter().sum::<f64>() / outages.len() as f64),
                outage_ms_min: outages.iter().copied().fold(f64::INFINITY, f64::min),
                outage_ms_max: outages.iter().copied().fold(0.0, f64::max),
            });
        }
        out.sections.service_clients.extend(clients);
        let bin_s = run.time_bin().ps() as f64 / 1e12;
        out.sections
            .success_series
            .push((self.spec.name.clone(), self.ok_bins.iter().map(|&n| round3(n as f64 / bin_s)).collect()));
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        // Clients start at their own phase within one request interval: their requests, and so
        // their timeouts and retries, do not march in step.
        let interval = self.spec.interval;
        for k in 0..self.clients.len() {
            let phase = client_fraction(self.clients[k].seed, 0);
            let at = SimDuration((interval.ps() as f64 * phase) as u64);
            ctx.schedule(app, at, tag(CONNECT, k));
        }
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, t: u32) {
        let (kind, k) = (t & ((1 << KIND_BITS) - 1), (t >> KIND_BITS) as usize);
        match kind {
            CONNECT => self.connect(ctx, app, k),
            SEND => self.send(ctx, app, k),
            TIMEOUT => {
                let now = ctx.now();
                let c = &mut self.clients[k];
                if c.deadline.is_some_and(|d| now >= d) {
                    c.timeouts += 1;
                    self.reconnect(ctx, app, k, "request timed out");
                }
            }
            RESET => {
                // Only if the connection it was meant for is still the current one.
                let c = &mut self.clients[k];
                if c.moved && c.client_ep != NONE {
                    if c.connected {
                        c.resets += 1;
                        self.reconnect(
                            ctx,
                            app,
                            k,
                            "connection reset by the new holder of the address (no such socket)",
                        );
                    } else {
                        self.reconnect(ctx, app, k, "the SYN retry reached the new holder of the address");
                    }
                }
            }
            _ => unreachable!("unknown service-clients event"),
        }
    }

    fn on_established(&mut self, ctx: &mut impl Ctx, app: u32, conn: u32, _ep: u32) {
        let k = conn as usize;
        let c = &mut self.clients[k];
        c.connected = true;
        c.deadline = None;
        self.send(ctx, app, k);
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, app: u32, d: Delivery) {
        let (k, ep, total) = (d.conn as usize, d.ep, d.total);
        let now = ctx.now();
        let response = self.spec.response.0;
        let interval = self.spec.interval;
        let c = &mut self.clients[k];
        match d.side {
            Side::Server => {
                // Answer a request once it has arrived in full.
                if ep == c.server_ep && total >= c.server_rx_target && c.server_answered < c.server_rx_target {
                    c.server_answered = c.server_rx_target;
                    let se = c.server_ep;
                    ctx.ep_send(se, response);
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
                let bin = ctx.time_bin();
                let last = self.ok_bins.len() - 1;
                self.ok_bins[bin.min(last)] += 1;
                ctx.schedule(app, interval, tag(SEND, k));
            }
        }
    }
}

/// One client of a `ServiceClients` workload: what it saw across a failover.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceClientResult {
    pub workload: String,
    pub client: String,
    pub requests_ok: u64,
    /// Longest time without a successful response (the outage it saw), in milliseconds; an
    /// outage still going on at the end counts up to the end.
    pub outage_ms: f64,
    /// Connections it dropped after a request timed out, and those reset by the new holder of
    /// the address.
    pub timeouts: u64,
    pub resets: u64,
    /// Connections it opened (1 + reconnections). None survives a failover: the server's state
    /// stays on the failed instance.
    pub connections: u64,
}

/// A `ServiceClients` workload's outages across its clients: each client's own `outage_ms`,
/// summarised (clients differ by their own timing: phase, backoff draws, resolver cache).
#[derive(Clone, Debug, Serialize)]
pub struct ServiceOutageResult {
    pub workload: String,
    pub clients: u64,
    pub outage_ms_mean: f64,
    pub outage_ms_min: f64,
    pub outage_ms_max: f64,
}
