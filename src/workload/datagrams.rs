//! Datagrams: a UDP stream from an instance to another (or to a link-local service on its
//! host), `size` bytes at Poisson arrivals, optionally Don't Fragment; one-way latency measured
//! per datagram at the receiver.

use super::Collector;
use super::config::DatagramConfig;
use super::results::{Percentiles, RunEnd, merge_histogram};
use super::{Attach, ConnTag, Ctx, Delivery, Interarrival, NONE, Proto, Side, TAG_ARRIVAL, Workload};
use super::{latency_histogram, ns};
use crate::engine::rng::StreamRng;
use crate::units::SimDuration;
use hdrhistogram::Histogram;
use serde::Serialize;

pub struct DatagramApp {
    pub spec: DatagramConfig,
    pub from: u32,
    /// Another instance, or a link-local service on the sender's host.
    pub to: Attach,
    pub client_ep: u32,
    pub flow: u32,
    pub rng: StreamRng,
    pub sent: u64,
    pub received: u64,
    pub latency: Histogram<u64>,
    /// Exact smallest one-way latency (the histogram keeps 3 significant digits).
    pub min_latency: Option<SimDuration>,
}

impl DatagramApp {
    pub fn new(spec: DatagramConfig, from: u32, to: Attach, rng: StreamRng) -> Self {
        DatagramApp {
            spec,
            from,
            to,
            client_ep: NONE,
            flow: NONE,
            rng,
            sent: 0,
            received: 0,
            latency: latency_histogram(),
            min_latency: None,
        }
    }
}

impl Workload for DatagramApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        false
    }

    fn results(&self, _run: &impl RunEnd, out: &mut Collector) {
        merge_histogram(&mut out.datagrams.histogram, &self.latency);
        if let Some(m) = self.min_latency {
            out.datagrams.min_ps = Some(out.datagrams.min_ps.map_or(m.ps(), |x| x.min(m.ps())));
        }
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        let (spec, from, to) = (&self.spec, self.from, self.to);
        let f = ctx.new_flow(spec.name.clone(), &spec.name, "datagrams", None);
        let tag = ConnTag { app, conn: 0, flow: f };
        let (c, s) = ctx.open(Attach::Instance(from), to, Proto::Udp { df: spec.dont_fragment }, tag, spec.port);
        (ctx.flow(f).client_ep, ctx.flow(f).server_ep) = (c, s);
        self.client_ep = c;
        self.flow = f;
        ctx.schedule(app, SimDuration::ZERO, TAG_ARRIVAL);
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        let d = self;
        if tag != TAG_ARRIVAL {
            return;
        }
        if d.spec.count.is_some_and(|c| d.sent >= c) {
            return;
        }
        d.sent += 1;
        let (ep, size) = (d.client_ep, d.spec.size.0);
        let next = Interarrival { mean: d.spec.mean_interval }.sample(&mut d.rng);
        ctx.ep_send(ep, size);
        ctx.schedule(app, next, TAG_ARRIVAL);
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, _app: u32, dl: Delivery) {
        let (now, born, d) = (ctx.now(), dl.born, self);
        if dl.side == Side::Server {
            d.received += 1;
            let l = now.since(born);
            d.latency.saturating_record(ns(l));
            d.min_latency = Some(d.min_latency.map_or(l, |m| m.min(l)));
        }
    }
}

/// One-way datagram latencies over all of a variant's datagram workloads (after warm-up).
#[derive(Clone, Debug, Serialize)]
pub struct LatencyResult {
    /// Measured samples (after warm-up).
    pub count: u64,
    pub latency_us: Percentiles,
    /// Exact smallest sample in picoseconds (the base latency of the path).
    pub min_ps: Option<u64>,
}

/// The datagram workloads' latencies, added up workload by workload.
#[derive(Default)]
pub struct DatagramTotals {
    pub histogram: Option<Histogram<u64>>,
    /// Exact smallest sample in picoseconds.
    pub min_ps: Option<u64>,
}

impl DatagramTotals {
    /// The `datagrams` section (none without a datagram workload).
    pub fn finish(self) -> Option<LatencyResult> {
        self.histogram.as_ref().map(|h| LatencyResult {
            count: h.len(),
            latency_us: Percentiles::from_ns(h),
            min_ps: self.min_ps,
        })
    }
}
