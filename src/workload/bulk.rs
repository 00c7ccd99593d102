//! Bulk transfer: `flows` TCP connections from one instance to another, each writing `bytes`
//! (or without end), optionally stopped after `duration`. Each connection is a reported flow.

use super::config::BulkConfig;
use super::{BULK_UNBOUNDED_BYTES, ConnTag, Ctx, Delivery, Proto, Side, TAG_STOP, Workload};

pub struct BulkApp {
    pub spec: BulkConfig,
    pub from: u32,
    pub to: u32,
    pub flows: Vec<u32>,
    pub remaining: u32,
}

impl Workload for BulkApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        self.spec.bytes.is_some() || self.spec.duration.is_some()
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        let (spec, from, to) = (&self.spec, self.from, self.to);
        for i in 0..spec.flows {
            let name = if spec.flows == 1 { spec.name.clone() } else { format!("{}/{i}", spec.name) };
            let f = ctx.new_flow(name, &spec.name, "bulk", spec.bytes.map(|x| x.0));
            ctx.open_flow(ConnTag { app, conn: i, flow: f }, from, to, Proto::Tcp, spec.port);
            self.flows.push(f);
        }
        if let Some(d) = spec.duration {
            ctx.schedule(app, d, TAG_STOP);
        }
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        if tag != TAG_STOP {
            return;
        }
        let now = ctx.now();
        // Stop writing; each flow completes when what it wrote has arrived.
        for conn in 0..self.flows.len() {
            let f = self.flows[conn];
            let ep = ctx.flow(f).client_ep;
            let written = ctx.stop_writing(ep);
            let flow = ctx.flow(f);
            flow.target_bytes = Some(flow.target_bytes.map_or(written, |t| t.min(written)));
            let server = flow.server_ep;
            // Bulk reads neither the byte count nor the birth of a delivery.
            let d = Delivery { conn: conn as u32, side: Side::Server, ep: server, total: 0, born: now };
            self.on_delivery(ctx, app, d);
        }
    }

    fn on_established(&mut self, ctx: &mut impl Ctx, _app: u32, _conn: u32, ep: u32) {
        let bytes = self.spec.bytes.map(|x| x.0);
        ctx.ep_send(ep, bytes.unwrap_or(BULK_UNBOUNDED_BYTES));
        if bytes.is_some() {
            ctx.ep_close(ep);
        }
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, _app: u32, d: Delivery) {
        let now = ctx.now();
        let f = self.flows[d.conn as usize];
        let flow = ctx.flow(f);
        if flow.completed.is_none() && flow.target_bytes.is_some_and(|t| flow.delivered >= t) {
            flow.completed = Some(now);
            self.remaining -= 1;
            if self.remaining == 0 {
                self.finish(ctx);
            }
        }
    }
}
