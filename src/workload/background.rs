//! Background traffic: TCP flows between random pairs of bare fabric hosts, Poisson arrivals at
//! the offered load, sizes from a distribution, at most `max_concurrent` at once; flow completion
//! times measured. It never holds the run open.

use super::Collector;
use super::config::BackgroundConfig;
use super::results::{Percentiles, RunEnd, round3};
use super::{Attach, ConnTag, Ctx, Delivery, Interarrival, NONE, Proto, Side, Sizes, TAG_ARRIVAL, Workload, ns};
use crate::engine::rng::StreamRng;
use crate::net::fabric::LeafSpine;
use crate::units::gbps;
use crate::units::{SimDuration, SimTime};
use hdrhistogram::Histogram;
use rand::RngExt;
use serde::Serialize;

/// Offered load -> mean inter-arrival: load x hosts x link rate = arrival rate x mean flow size.
pub fn background_interarrival(load: f64, hosts: usize, fabric: &LeafSpine, mean_bytes: f64) -> Interarrival {
    let capacity_bps = hosts as f64 * fabric.config.host_link.bps() as f64;
    let mean_s = mean_bytes * 8.0 / (load * capacity_bps);
    Interarrival { mean: SimDuration(((mean_s * 1e12).round() as u64).max(1)) }
}

pub struct BgConn {
    pub client_ep: u32,
    pub server_ep: u32,
    pub bytes: u64,
    pub started: SimTime,
    pub received_all: bool,
    pub live: bool,
}

pub struct BackgroundApp {
    pub spec: BackgroundConfig,
    pub hosts: Vec<u32>,
    pub interarrival: Interarrival,
    pub sizes: Sizes,
    pub rng: StreamRng,
    pub conns: Vec<BgConn>,
    pub free: Vec<u32>,
    pub active: u32,
    pub started: u64,
    pub completed: u64,
    pub skipped: u64,
    pub bytes_completed: u64,
    pub fct: Histogram<u64>,
}

impl BackgroundApp {
    /// A background connection is torn down once its data is delivered and acknowledged.
    pub fn background_maybe_close(&mut self, ctx: &mut impl Ctx, conn: u32) {
        let bg = self;
        let c = &bg.conns[conn as usize];
        if !c.live || !c.received_all || !ctx.all_acked(c.client_ep) {
            return;
        }
        let (ce, se) = (c.client_ep, c.server_ep);
        bg.conns[conn as usize].live = false;
        bg.free.push(conn);
        bg.active -= 1;
        ctx.close(ce, se);
    }
}

impl Workload for BackgroundApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        false
    }

    fn results(&self, run: &impl RunEnd, out: &mut Collector) {
        out.sections.background = Some(BackgroundResult {
            flows_started: self.started,
            flows_completed: self.completed,
            flows_skipped: self.skipped,
            goodput_gbps: round3(gbps(self.bytes_completed, run.stopped().since(SimTime::ZERO))),
            fct_us: Percentiles::from_ns(&self.fct),
        })
    }
    fn is_foreground(&self) -> bool {
        false
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        ctx.schedule(app, SimDuration::ZERO, TAG_ARRIVAL)
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        let (now, bg) = (ctx.now(), self);
        if tag != TAG_ARRIVAL {
            return;
        }
        let next = bg.interarrival.sample(&mut bg.rng);
        if bg.active >= bg.spec.max_concurrent {
            bg.skipped += 1;
        } else {
            let n = bg.hosts.len();
            let src = bg.rng.random_range(0..n);
            let dst = (src + bg.rng.random_range(1..n)) % n;
            let (src, dst) = (bg.hosts[src], bg.hosts[dst]);
            let bytes = bg.sizes.sample(&mut bg.rng);
            let slot = match bg.free.pop() {
                Some(s) => s,
                None => {
                    bg.conns.push(BgConn {
                        client_ep: NONE,
                        server_ep: NONE,
                        bytes: 0,
                        started: now,
                        received_all: false,
                        live: false,
                    });
                    (bg.conns.len() - 1) as u32
                }
            };
            bg.active += 1;
            bg.started += 1;
            let (c, s) =
                ctx.open(Attach::Host(src), Attach::Host(dst), Proto::Tcp, ConnTag { app, conn: slot, flow: NONE }, 80);
            bg.conns[slot as usize] =
                BgConn { client_ep: c, server_ep: s, bytes, started: now, received_all: false, live: true };
        }
        ctx.schedule(app, next, TAG_ARRIVAL);
    }

    fn on_established(&mut self, ctx: &mut impl Ctx, _app: u32, conn: u32, ep: u32) {
        let bytes = self.conns[conn as usize].bytes;
        ctx.ep_send(ep, bytes);
        ctx.ep_close(ep);
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, _app: u32, d: Delivery) {
        let (now, total, bg) = (ctx.now(), d.total, &mut *self);
        let c = &mut bg.conns[d.conn as usize];
        if d.side == Side::Server && !c.received_all && total >= c.bytes {
            c.received_all = true;
            bg.fct.saturating_record(ns(now.since(c.started)));
            bg.completed += 1;
            bg.bytes_completed += c.bytes;
        }
        self.background_maybe_close(ctx, d.conn);
    }
}

/// The background traffic: flows started and completed, and their completion times.
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundResult {
    pub flows_started: u64,
    pub flows_completed: u64,
    /// Arrivals skipped because `max_concurrent` flows were already running.
    pub flows_skipped: u64,
    pub goodput_gbps: f64,
    pub fct_us: Percentiles,
}
