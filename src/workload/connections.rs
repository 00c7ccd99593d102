//! Connections: every client instance opens `count` TCP connections to one instance, evenly
//! over `over` from the start and round robin over the clients, and leaves them open (to
//! exercise a NAT gateway's limits: its port allocation and scaling stay in `model::nat`).

use super::Collector;
use super::config::ConnectionsConfig;
use super::results::RunEnd;
use super::{Attach, ConnTag, Ctx, NONE, Proto, TAG_ARRIVAL, Workload};
use crate::units::{SimDuration, SimTime};
use serde::Serialize;

pub struct ConnectionsApp {
    pub spec: ConnectionsConfig,
    pub clients: Vec<u32>,
    pub to: u32,
    pub opened: u64,
    pub established: u64,
}

impl ConnectionsApp {
    pub(crate) fn total(&self) -> u64 {
        self.spec.count as u64 * self.clients.len() as u64
    }

    /// Open the next connection (round robin over the clients) and schedule the one after.
    fn open_next(&mut self, ctx: &mut impl Ctx, app: u32) {
        let (k, total) = (self.opened, self.total());
        if k >= total {
            return;
        }
        let client = self.clients[(k % self.clients.len() as u64) as usize];
        let (to, port, over) = (self.to, self.spec.port, self.spec.over);
        self.opened += 1;
        let tag = ConnTag { app, conn: k as u32, flow: NONE };
        ctx.open(Attach::Instance(client), Attach::Instance(to), Proto::Tcp, tag, port);
        if k + 1 < total {
            let at = SimTime::ZERO + SimDuration((over.ps() as u128 * (k + 1) as u128 / total as u128) as u64);
            let now = ctx.now();
            ctx.schedule(app, at.max(now).since(now), TAG_ARRIVAL);
        }
    }
}

impl Workload for ConnectionsApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        false
    }

    fn results(&self, _run: &impl RunEnd, out: &mut Collector) {
        out.sections.connections.push(ConnectionsResult {
            workload: self.spec.name.clone(),
            opened: self.opened,
            established: self.established,
            not_established: self.opened - self.established,
        })
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        self.open_next(ctx, app);
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, _tag: u32) {
        self.open_next(ctx, app);
    }

    fn on_established(&mut self, _ctx: &mut impl Ctx, _app: u32, _conn: u32, _ep: u32) {
        self.established += 1;
    }
}

/// A `Connections` workload: how many of its connections completed their handshake.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionsResult {
    pub workload: String,
    pub opened: u64,
    pub established: u64,
    pub not_established: u64,
}
