//! Workloads at run time, the model's side. `Model` implements `workload::Ctx` (what a workload
//! may ask of the world) and dispatches the three things an app reacts to (its own clock, a
//! connection becoming established, in-order bytes delivered to one of its endpoints) to the
//! kinds behind the `workload::Workload` trait (through `app_state::workload_kinds!`, one line
//! per kind).
use super::app_state::*;
use super::{Attach, ConnTag, Event, FlowRt, Model, NONE, Owner, Proto, Side};
use crate::ec2::failover::ServiceAddress;
use crate::transport::Transport;
use crate::units::{SimDuration, SimTime};
use crate::workload::{Ctx, Delivery, HostCosts, Workload};

/// Run `$body` on workload `$app` if its kind is behind the `Workload` trait (evaluates to
/// whether it was), with `$w` the workload and `$ctx` the model. The workload is taken out of its
/// slot while it runs, so that it and the model it calls back into are two borrows: a workload
/// only drives its own endpoints, and none of them calls back into it synchronously (handshakes
/// and deliveries arrive as events; the glue below panics on `App::Taken` if one ever did).
macro_rules! on_workload {
    ($m:expr, $app:expr, |$w:ident, $ctx:ident| $body:expr) => {{
        let i = $app as usize;
        if workload_kinds!(&$m.apps[i], _w => true, _ => false) {
            let mut taken = std::mem::replace(&mut $m.apps[i], App::Taken);
            let $ctx: &mut Model = &mut *$m;
            workload_kinds!(&mut taken, $w => $body, _ => unreachable!("checked above"));
            $m.apps[i] = taken;
            true
        } else {
            false
        }
    }};
}

/// The model as the workloads see it: every call is the model method of the same name.
impl Ctx for Model {
    fn now(&self) -> SimTime {
        Model::now(self)
    }
    fn host_costs(&self) -> HostCosts {
        self.host_costs
    }
    fn open(&mut self, a: Attach, b: Attach, proto: Proto, tag: ConnTag, port: u16) -> (u32, u32) {
        Model::open(self, a, b, proto, tag, port)
    }
    fn close(&mut self, client_ep: u32, server_ep: u32) {
        Model::close(self, client_ep, server_ep)
    }
    fn ep_send(&mut self, ep: u32, bytes: u64) {
        Model::ep_send(self, ep, bytes)
    }
    fn ep_close(&mut self, ep: u32) {
        Model::ep_close(self, ep)
    }
    fn stop_writing(&mut self, ep: u32) -> u64 {
        self.eps[ep as usize].transport.stop_writing()
    }
    fn all_acked(&self, ep: u32) -> bool {
        self.eps[ep as usize].transport.all_acked()
    }
    fn new_flow(&mut self, name: String, workload: &str, kind: &'static str, target: Option<u64>) -> u32 {
        Model::new_flow(self, name, workload, kind, target)
    }
    fn flow(&mut self, f: u32) -> &mut FlowRt {
        &mut self.flows[f as usize]
    }
    fn schedule(&mut self, app: u32, after: SimDuration, tag: u32) {
        self.q.schedule_in(after, Event::App { app, tag });
    }
    fn efa_messages(&mut self, from: u32, to: u32, eps: [u32; 2]) {
        // MPI's send/receive: libfabric's message protocols, not one-sided transfers.
        let read = |i: u32| self.insts[i as usize].ty.efa_rdma >= crate::ec2::EfaRdma::Read;
        let cfg = crate::transport::efa::MessageConfig {
            rdma_read: read(from) && read(to),
            copy_rate: self.host_costs.copy_rate,
            turnaround: self.host_costs.bypass_poll + self.host_costs.bypass_post,
        };
        for ep in eps {
            if let crate::transport::Endpoint::Efa(e) = &mut self.eps[ep as usize].transport {
                e.set_mode(crate::transport::efa::EfaMode::Messages(cfg));
            }
        }
    }
    fn finished(&mut self) {
        debug_assert!(self.unfinished > 0);
        self.unfinished -= 1;
    }
    // service clients
    fn service_address(&self, s: u32) -> (ServiceAddress, u32) {
        (self.services[s as usize].address, self.services[s as usize].owner)
    }
    fn open_service(&mut self, s: u32, client: u32, server: u32, tag: ConnTag, port: u16) -> (u32, u32) {
        Model::open_service(self, s, client, server, tag, port)
    }
    fn instance_name(&self, i: u32) -> String {
        self.insts[i as usize].name.clone()
    }
    fn log_flow_event(&mut self, event: &'static str, flow: String, detail: String) {
        self.log_event(super::trace::LogEntry { event, flow: Some(flow), detail: Some(detail), ..Default::default() });
    }
    fn time_bin(&self) -> usize {
        (Model::now(self).ps() / self.bin_ps) as usize
    }
    // replay
    fn schedule_at(&mut self, app: u32, at: SimTime, tag: u32) {
        self.q.schedule_at(at, Event::App { app, tag });
    }
}

impl Model {
    fn new_flow(&mut self, name: String, workload: &str, kind: &'static str, target: Option<u64>) -> u32 {
        let bins = self.flows_bins();
        self.flows.push(FlowRt {
            name,
            workload: workload.to_string(),
            kind,
            client_ep: NONE,
            server_ep: NONE,
            started: self.now(),
            completed: None,
            target_bytes: target,
            delivered: 0,
            wire_rx: 0,
            bins: vec![0; bins],
        });
        (self.flows.len() - 1) as u32
    }

    fn flows_bins(&self) -> usize {
        (self.end.ps() / self.bin_ps).max(1) as usize
    }

    pub(crate) fn app_event(&mut self, app: u32, tag: u32) {
        let handled =
            on_workload!(self, app, |w, m| if tag == TAG_START { w.start(m, app) } else { w.on_event(m, app, tag) });
        assert!(handled, "every workload kind is behind the Workload trait");
    }

    pub(crate) fn app_established(&mut self, owner: Owner, ep: u32) {
        if owner.side != Side::Client {
            return;
        }
        let handled = on_workload!(self, owner.app, |w, m| w.on_established(m, owner.app, owner.conn, ep));
        assert!(handled, "every workload kind is behind the Workload trait");
    }

    /// Data for `owner`'s connection has reached its endpoint: its workload asks for what the
    /// delivery will touch.
    #[inline(always)]
    pub(crate) fn prefetch_delivery(&self, owner: Owner) {
        if let Some(app) = self.apps.get(owner.app as usize) {
            workload_kinds!(app, w => w.prefetch_delivery(owner.conn), _ => {});
        }
    }

    pub(crate) fn app_delivered(&mut self, owner: Owner, ep: u32, _bytes: u64, born: SimTime) {
        let total = self.eps[ep as usize].transport.stats().bytes_delivered;
        let d = Delivery { conn: owner.conn, side: owner.side, ep, total, born };
        let handled = on_workload!(self, owner.app, |w, m| w.on_delivery(m, owner.app, d));
        assert!(handled, "every workload kind is behind the Workload trait");
    }

    /// A background connection is torn down once its data is delivered and acknowledged (the
    /// last ACK of a background flow, seen by `flush`, frees its connection).
    pub(crate) fn background_maybe_close(&mut self, owner: Owner) {
        if !matches!(self.apps[owner.app as usize], App::Background(_)) {
            return;
        }
        let mut taken = std::mem::replace(&mut self.apps[owner.app as usize], App::Taken);
        let App::Background(bg) = &mut taken else { unreachable!("checked above") };
        bg.background_maybe_close(self, owner.conn);
        self.apps[owner.app as usize] = taken;
    }
}
