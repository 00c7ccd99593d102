//! Permutation traffic: a random cycle through a fleet of instances, each sending
//! `flows_per_instance` TCP flows of `bytes` (or without end) to distinct members along it.

use super::Collector;
use super::config::PermutationConfig;
use super::results::{RunEnd, round3};
use super::{Attach, BULK_UNBOUNDED_BYTES, ConnTag, Ctx, Delivery, NONE, Proto, Workload};
use crate::engine::rng::StreamRng;
use crate::units::SimTime;
use crate::units::gbps;
use rand::RngExt;
use serde::Serialize;

pub struct PermutationApp {
    pub spec: PermutationConfig,
    /// Instance indices of the fleet.
    pub members: Vec<u32>,
    pub rng: StreamRng,
    /// Per flow: (client endpoint, server endpoint, bytes delivered, completed at).
    pub flows: Vec<PermFlow>,
    pub remaining: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct PermFlow {
    pub delivered: u64,
    pub completed: Option<SimTime>,
}

impl Workload for PermutationApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        self.spec.bytes.is_some()
    }

    fn results(&self, run: &impl RunEnd, out: &mut Collector) {
        let stopped = run.stopped();
        let over = stopped.since(SimTime::ZERO);
        let rates: Vec<f64> =
            self.flows.iter().map(|f| gbps(f.delivered, f.completed.unwrap_or(stopped).since(SimTime::ZERO))).collect();
        let n = rates.len().max(1) as f64;
        out.sections.permutation = Some(PermutationResult {
            flows: self.flows.len() as u64,
            completed: self.flows.iter().filter(|f| f.completed.is_some()).count() as u64,
            goodput_gbps: round3(gbps(self.flows.iter().map(|f| f.delivered).sum(), over)),
            flow_goodput_gbps_min: round3(rates.iter().copied().fold(f64::MAX, f64::min).min(f64::MAX)),
            flow_goodput_gbps_mean: round3(rates.iter().sum::<f64>() / n),
            flow_goodput_gbps_max: round3(rates.iter().copied().fold(0.0, f64::max)),
        });
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        let p = self;
        // A random cycle through the fleet (Sattolo's algorithm): nobody sends to itself,
        // and flow j of a member goes j + 1 steps along the cycle, so targets are distinct.
        let mut cycle = p.members.clone();
        for i in (1..cycle.len()).rev() {
            let j = p.rng.random_range(0..i);
            cycle.swap(i, j);
        }
        let (k, port, n) = (p.spec.flows_per_instance as usize, p.spec.port, cycle.len());
        let mut conn = 0u32;
        for (pos, &src) in cycle.iter().enumerate() {
            for j in 0..k {
                let dst = cycle[(pos + j + 1) % n];
                let tag = ConnTag { app, conn, flow: NONE };
                ctx.open(Attach::Instance(src), Attach::Instance(dst), Proto::Tcp, tag, port);
                conn += 1;
            }
        }
    }

    fn on_established(&mut self, ctx: &mut impl Ctx, _app: u32, _conn: u32, ep: u32) {
        let bytes = self.spec.bytes.map(|x| x.0);
        ctx.ep_send(ep, bytes.unwrap_or(BULK_UNBOUNDED_BYTES));
        if bytes.is_some() {
            ctx.ep_close(ep);
        }
    }

    fn prefetch_delivery(&self, conn: u32) {
        if let Some(f) = self.flows.get(conn as usize) {
            crate::engine::prefetch(f, 1);
        }
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, _app: u32, d: Delivery) {
        let (now, total, p) = (ctx.now(), d.total, self);
        let f = &mut p.flows[d.conn as usize];
        f.delivered = total;
        if f.completed.is_none() && p.spec.bytes.is_some_and(|b| total >= b.0) {
            f.completed = Some(now);
            p.remaining -= 1;
            if p.remaining == 0 {
                p.finish(ctx);
            }
        }
    }
}

/// A permutation workload, summarised (its flows are too many to list).
#[derive(Clone, Debug, Serialize)]
pub struct PermutationResult {
    pub flows: u64,
    pub completed: u64,
    /// All flows together.
    pub goodput_gbps: f64,
    /// Per flow: ECMP collisions show as a low minimum.
    pub flow_goodput_gbps_min: f64,
    pub flow_goodput_gbps_mean: f64,
    pub flow_goodput_gbps_max: f64,
}
