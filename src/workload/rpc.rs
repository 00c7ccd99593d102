//! The RPC workload (`RpcApp`): `connections` persistent TCP connections from a client to a
//! server, requests issued closed loop (`outstanding` per connection) or by Poisson arrivals
//! (round robin over the connections), latency measured from issue to the last response byte.
//!
//! RPC bookkeeping on one persistent connection (`RpcBook`, also used by flow-log replay). TCP carries byte streams; this matches them to
//! messages: the client writes requests back to back, the server answers each in order once its
//! last byte has arrived, and an RPC completes when the last byte of its response arrives.

use super::Collector;
use super::config::{Arrival, RpcConfig};
use super::results::{Percentiles, RunEnd, merge_histogram};
use super::{ConnTag, Ctx, Delivery, Interarrival, Proto, Side, Sizes, TAG_ARRIVAL, Workload, ns};
use crate::engine::rng::StreamRng;
use crate::units::SimTime;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::VecDeque;

/// Memory one issued, unanswered RPC holds at its client (the run's memory estimate counts it).
pub const PENDING_RPC_BYTES: u64 = std::mem::size_of::<Pending>() as u64;

#[derive(Clone, Copy, Debug)]
struct Pending {
    issued_at: SimTime,
    request_end: u64,
    response_bytes: u64,
    /// Offset in the server->client stream where the response ends; 0 until the server writes it.
    response_end: u64,
}

#[derive(Clone, Debug, Default)]
pub struct RpcBook {
    pending: VecDeque<Pending>,
    /// Index into `pending` of the next request the server has not answered yet.
    server_cursor: usize,
    c2s_written: u64,
    s2c_written: u64,
}

impl RpcBook {
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// When each still-outstanding RPC was issued.
    pub fn outstanding_since(&self) -> impl Iterator<Item = SimTime> + '_ {
        self.pending.iter().map(|p| p.issued_at)
    }

    /// The client issues an RPC: returns the request bytes to write on the client endpoint.
    pub fn issue(&mut self, now: SimTime, request_bytes: u64, response_bytes: u64) -> u64 {
        self.c2s_written += request_bytes;
        self.pending.push_back(Pending {
            issued_at: now,
            request_end: self.c2s_written,
            response_bytes,
            response_end: 0,
        });
        request_bytes
    }

    /// The server has received `total` bytes in order: returns the response bytes it now writes.
    pub fn server_received(&mut self, total: u64) -> u64 {
        let mut write = 0;
        while let Some(p) = self.pending.get_mut(self.server_cursor) {
            if p.request_end > total {
                break;
            }
            self.s2c_written += p.response_bytes;
            p.response_end = self.s2c_written;
            write += p.response_bytes;
            self.server_cursor += 1;
        }
        write
    }

    /// The client has received `total` response bytes in order: calls `done(issued_at)` for each
    /// RPC that completed.
    pub fn client_received(&mut self, total: u64, mut done: impl FnMut(SimTime)) {
        while let Some(p) = self.pending.front() {
            if p.response_end == 0 || p.response_end > total {
                break;
            }
            done(p.issued_at);
            self.pending.pop_front();
            self.server_cursor -= 1;
        }
    }
}

pub struct RpcConn {
    pub client_ep: u32,
    pub server_ep: u32,
    pub flow: u32,
    pub book: RpcBook,
}

pub struct RpcApp {
    pub spec: RpcConfig,
    pub client: u32,
    pub server: u32,
    pub conns: Vec<RpcConn>,
    pub rng: StreamRng,
    pub request: Sizes,
    pub response: Sizes,
    pub next_conn: usize,
    pub issued: u64,
    pub completed: u64,
    pub measured: Histogram<u64>,
    pub warmup_end: SimTime,
    pub finished: bool,
}

impl RpcApp {
    /// Issue one RPC on `conn`; returns false once the app's `count` is exhausted.
    fn rpc_issue(&mut self, ctx: &mut impl Ctx, conn: usize) -> bool {
        let now = ctx.now();
        let r = self;
        if r.spec.count.is_some_and(|c| r.issued >= c) {
            return false;
        }
        let req = r.request.sample(&mut r.rng);
        let resp = r.response.sample(&mut r.rng);
        r.issued += 1;
        let c = &mut r.conns[conn];
        let bytes = c.book.issue(now, req, resp);
        let ep = c.client_ep;
        ctx.ep_send(ep, bytes);
        true
    }
}

impl Workload for RpcApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        self.spec.count.is_some()
    }

    fn results(&self, run: &impl RunEnd, out: &mut Collector) {
        let stopped = run.stopped();
        let mut h = self.measured.clone();
        for issued_at in self.conns.iter().flat_map(|c| c.book.outstanding_since()) {
            if issued_at >= self.warmup_end {
                h.saturating_record(stopped.since(issued_at).ps().div_ceil(1000).max(1));
                out.rpc.incomplete += 1;
            }
        }
        merge_histogram(&mut out.rpc.histogram, &h);
        out.rpc.issued += self.issued;
        out.rpc.completed += self.completed;
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        let (spec, client, server) = (self.spec.clone(), self.client, self.server);
        for i in 0..spec.connections {
            let f = ctx.new_flow(format!("{}/conn{i}", spec.name), &spec.name, "rpc", None);
            let (c, s) = ctx.open_flow(ConnTag { app, conn: i, flow: f }, client, server, Proto::Tcp, spec.port);
            self.conns.push(RpcConn { client_ep: c, server_ep: s, flow: f, book: RpcBook::default() });
        }
        match spec.arrival {
            Arrival::ClosedLoop { outstanding } => {
                for conn in 0..spec.connections as usize {
                    for _ in 0..outstanding {
                        self.rpc_issue(ctx, conn);
                    }
                }
            }
            Arrival::Poisson { mean_interval } => {
                let d = Interarrival { mean: mean_interval }.sample(&mut self.rng);
                ctx.schedule(app, d, TAG_ARRIVAL);
            }
        }
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        let r = self;
        if tag != TAG_ARRIVAL {
            return;
        }
        let Arrival::Poisson { mean_interval } = r.spec.arrival else {
            return;
        };
        let conn = r.next_conn;
        r.next_conn = (r.next_conn + 1) % r.conns.len();
        let d = Interarrival { mean: mean_interval }.sample(&mut r.rng);
        if r.rpc_issue(ctx, conn) {
            ctx.schedule(app, d, TAG_ARRIVAL);
        }
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, _app: u32, d: Delivery) {
        let (now, total, r) = (ctx.now(), d.total, self);
        let conn = &mut r.conns[d.conn as usize];
        match d.side {
            Side::Server => {
                let write = conn.book.server_received(total);
                let s = conn.server_ep;
                if write > 0 {
                    ctx.ep_send(s, write);
                }
            }
            Side::Client => {
                let (warm, hist) = (r.warmup_end, &mut r.measured);
                let mut done = 0u32;
                conn.book.client_received(total, |issued| {
                    done += 1;
                    if issued >= warm {
                        hist.saturating_record(ns(now.since(issued)));
                    }
                });
                r.completed += done as u64;
                let closed_loop = matches!(r.spec.arrival, Arrival::ClosedLoop { .. });
                let all_done = r.spec.count.is_some_and(|c| r.completed >= c);
                if all_done && !r.finished {
                    r.finished = true;
                    r.finish(ctx);
                }
                if closed_loop {
                    for _ in 0..done {
                        r.rpc_issue(ctx, d.conn as usize);
                    }
                }
            }
        }
    }
}

/// RPC latencies over all of a variant's RPC workloads (issued after warm-up).
#[derive(Clone, Debug, Serialize)]
pub struct RpcResult {
    /// Measured RPCs (issued after warm-up), completed or not.
    pub count: u64,
    pub issued: u64,
    pub completed: u64,
    /// Measured RPCs still waiting at the end. They enter the percentiles with their age at the
    /// end (a lower bound), so a connection stuck in a 200 ms RTO is not hidden from the tail.
    pub incomplete: u64,
    pub latency_us: Percentiles,
}

/// The RPC workloads' latencies and counts, added up workload by workload.
#[derive(Default)]
pub struct RpcTotals {
    pub histogram: Option<Histogram<u64>>,
    pub issued: u64,
    pub completed: u64,
    pub incomplete: u64,
}

impl RpcTotals {
    /// The `rpc` section (none without an RPC workload), and its latency histogram.
    pub fn finish(self) -> (Option<RpcResult>, Option<Histogram<u64>>) {
        let rpc = self.histogram.as_ref().map(|h| RpcResult {
            count: h.len(),
            issued: self.issued,
            completed: self.completed,
            incomplete: self.incomplete,
            latency_us: Percentiles::from_ns(h),
        });
        (rpc, self.histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_streams_to_messages() {
        let mut b = RpcBook::default();
        b.issue(SimTime(1), 100, 1000);
        b.issue(SimTime(2), 50, 10);
        assert_eq!(b.server_received(99), 0);
        assert_eq!(b.server_received(120), 1000);
        assert_eq!(b.server_received(150), 10);
        let mut done = vec![];
        b.client_received(999, |t| done.push(t));
        assert!(done.is_empty());
        b.client_received(1010, |t| done.push(t));
        assert_eq!(done, vec![SimTime(1), SimTime(2)]);
        assert_eq!(b.outstanding(), 0);
    }
}
