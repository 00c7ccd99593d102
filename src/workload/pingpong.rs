//! Ping-pong (osu_latency, osu_bw): one connection between two instances over TCP or EFA
//! (two-sided messages, RDMA write or read); for each size, warm-up then measured rounds.

use super::Collector;
use super::config::{MessageTransport, PingPongConfig};
use super::results::{RunEnd, round3};
use super::{Attach, ConnTag, Ctx, Delivery, NONE, Proto, Side, Workload};
use super::{TAG_CLIENT_DONE, TAG_CLIENT_SEND, TAG_SERVER_SEND};
use crate::units::gbps;
use crate::units::{SimDuration, SimTime};
use serde::Serialize;

/// osu_latency: for each size, round trips of one message each way; the latency reported is
/// half the mean round trip, measured from the client's send call to its receive completion.
pub struct PingPongApp {
    pub spec: PingPongConfig,
    pub from: u32,
    pub to: u32,
    pub client_ep: u32,
    pub server_ep: u32,
    pub size_index: usize,
    pub round: u32,
    pub round_start: SimTime,
    pub measured_ps: u128,
    pub client_rx_target: u64,
    pub server_rx_target: u64,
    pub server_busy: bool,
    pub client_busy: bool,
    /// (size, one-way latency) per finished size.
    pub results: Vec<(u64, SimDuration)>,
}

impl PingPongApp {
    pub fn size(&self) -> u64 {
        self.spec.sizes[self.size_index].0
    }
    /// What the client sends, per message of its window: the message, or a read request (a
    /// header-only packet naming the remote buffer).
    pub fn request_bytes(&self) -> u64 {
        if self.spec.transport == MessageTransport::EfaRdmaRead { 0 } else { self.size() }
    }
    /// What the server sends back, as (bytes, messages): the message itself (latency), a 4-byte
    /// ack (bandwidth), or the data of every read in the window.
    pub fn reply(&self) -> (u64, u32) {
        if self.spec.transport == MessageTransport::EfaRdmaRead {
            (self.size(), self.spec.window)
        } else if self.spec.window == 1 {
            (self.size(), 1)
        } else {
            (4, 1)
        }
    }
    /// osu_latency halves its round trip (a message each way); a read's round trip is the
    /// operation itself, and a bandwidth window is timed whole.
    pub fn halves_round(&self) -> bool {
        self.spec.window == 1 && self.spec.transport != MessageTransport::EfaRdmaRead
    }
}

impl PingPongApp {
    /// A ping-pong round begins: the client pays its send cost, then the message leaves.
    fn pingpong_round(&mut self, ctx: &mut impl Ctx, app: u32) {
        let now = ctx.now();
        let costs = ctx.host_costs();
        let p = self;
        p.round_start = now;
        let delay = costs.send(p.spec.transport, p.request_bytes());
        ctx.schedule(app, delay, TAG_CLIENT_SEND);
    }
}

impl Workload for PingPongApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        true
    }

    fn results(&self, _run: &impl RunEnd, out: &mut Collector) {
        if self.results.len() < self.spec.sizes.len() {
            out.unfinished.push(format!(
                "workload {:?}: {} of {} message sizes finished before the end of the run; the rest are not \
                 reported (lengthen `duration` or use fewer iterations)",
                self.spec.name,
                self.results.len(),
                self.spec.sizes.len()
            ));
        }
        let transport = self.spec.transport.label();
        for &(size, t) in &self.results {
            out.sections.pingpong.push(PingPongPoint {
                workload: self.spec.name.clone(),
                transport,
                size_bytes: size,
                window: self.spec.window,
                latency_us: round3(t.as_us_f64()),
                gbps: round3(gbps(size * self.spec.window as u64, t)),
            });
        }
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        let p = &mut *self;
        let (from, to, port) = (p.from, p.to, p.spec.port);
        let efa = p.spec.transport.bypasses_kernel();
        let proto = if efa { Proto::Efa(0) } else { Proto::Tcp };
        let (c, s) =
            ctx.open(Attach::Instance(from), Attach::Instance(to), proto, ConnTag { app, conn: 0, flow: NONE }, port);
        p.client_ep = c;
        p.server_ep = s;
        let two_sided = p.spec.transport == MessageTransport::Efa;
        if two_sided {
            // MPI's send/receive: libfabric's message protocols, not one-sided transfers.
            ctx.efa_messages(from, to, [c, s]);
        }
        // TCP begins once connected; EFA endpoints are ready at once.
        if efa {
            self.pingpong_round(ctx, app);
        }
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        let (now, p) = (ctx.now(), &mut *self);
        match tag {
            TAG_CLIENT_SEND => {
                let (request, window) = (p.request_bytes(), p.spec.window);
                // A message counts at least one byte delivered (a read request carries none).
                p.server_rx_target += request.max(1) * window as u64;
                let ep = p.client_ep;
                for _ in 0..window {
                    ctx.ep_send(ep, request);
                }
            }
            TAG_SERVER_SEND => {
                let (reply, replies) = p.reply();
                p.client_rx_target += reply * replies as u64;
                p.server_busy = false;
                let ep = p.server_ep;
                for _ in 0..replies {
                    ctx.ep_send(ep, reply);
                }
            }
            TAG_CLIENT_DONE => {
                p.client_busy = false;
                let rtt = now.since(p.round_start);
                if p.round >= p.spec.warmup {
                    p.measured_ps += rtt.ps() as u128;
                }
                p.round += 1;
                if p.round == p.spec.warmup + p.spec.iterations {
                    // osu_latency: half the round trip; osu_bw and RDMA reads: the whole round.
                    let per_round = p.measured_ps / p.spec.iterations as u128;
                    let one_way = if p.halves_round() { per_round / 2 } else { per_round };
                    p.results.push((p.spec.sizes[p.size_index].0, SimDuration(one_way as u64)));
                    p.size_index += 1;
                    p.round = 0;
                    p.measured_ps = 0;
                    if p.size_index == p.spec.sizes.len() {
                        p.finish(ctx);
                        return;
                    }
                }
                p.pingpong_round(ctx, app);
            }
            _ => {}
        }
    }

    fn on_established(&mut self, ctx: &mut impl Ctx, app: u32, _conn: u32, _ep: u32) {
        self.pingpong_round(ctx, app);
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, app: u32, d: Delivery) {
        let (total, p) = (d.total, self);
        let costs = ctx.host_costs();
        let t = p.spec.transport;
        let (request, (reply, _)) = (p.request_bytes(), p.reply());
        let (target, busy, tag) = match d.side {
            Side::Server => (p.server_rx_target, &mut p.server_busy, TAG_SERVER_SEND),
            Side::Client => (p.client_rx_target, &mut p.client_busy, TAG_CLIENT_DONE),
        };
        if total >= target && target > 0 && !*busy {
            *busy = true;
            let delay = match d.side {
                // The target's card answers a read by itself: its CPU never runs.
                Side::Server if t == MessageTransport::EfaRdmaRead => SimDuration::ZERO,
                // The server takes the message in, then sends its reply.
                Side::Server => costs.receive(t, request) + costs.send(t, reply),
                Side::Client => costs.receive(t, reply),
            };
            ctx.schedule(app, delay, tag);
        }
    }
}

/// One point of an osu_latency-style sweep.
#[derive(Clone, Debug, Serialize)]
pub struct PingPongPoint {
    pub workload: String,
    /// "tcp", "efa" (two-sided), "efa-write" or "efa-read" (one-sided RDMA).
    pub transport: &'static str,
    pub size_bytes: u64,
    /// Messages in flight: 1 for osu_latency, W for osu_bw.
    pub window: u32,
    /// osu_latency: half the mean round trip; RDMA read: the mean read; osu_bw: the mean round
    /// trip of a window.
    pub latency_us: f64,
    /// Bytes moved per that time: one message (latency mode) or the window (bandwidth mode).
    pub gbps: f64,
}
