//! What every workload's results are made of: the read-only view of the finished run a
//! workload's `Workload::results` hook reads ([`RunEnd`]), latency percentiles, rounding for
//! stable JSON. It names no workload kind; the sections the hooks fill (`WorkloadSections`,
//! `Collector`) are in the layer's `mod.rs`, beside the trait, and each kind's result type
//! beside its workload (`rpc::RpcResult`, `pingpong::PingPongPoint` ...).

use crate::transport::TransportStats;
use crate::units::{SimDuration, SimTime};
use hdrhistogram::Histogram;
use serde::Serialize;

/// The finished run, read-only, as a workload's `results` hook sees it.
pub trait RunEnd {
    /// When the run stopped: when the last finite workload finished, or the end time.
    fn stopped(&self) -> SimTime;
    /// An instance's name.
    fn instance_name(&self, i: u32) -> &str;
    /// The width of the run's time bins (timelines).
    fn time_bin(&self) -> SimDuration;
    /// The counters of endpoint `ep`'s transport.
    fn ep_stats(&self, ep: u32) -> &TransportStats;
}

/// Add `h` to the distribution in `into` (the first one starts it).
pub fn merge_histogram(into: &mut Option<Histogram<u64>>, h: &Histogram<u64>) {
    match into {
        Some(acc) => acc.add(h).expect("histograms share bounds"),
        None => *into = Some(h.clone()),
    }
}

/// Latency percentiles, in microseconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub p9999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    /// From a histogram in nanoseconds, to microseconds.
    pub fn from_ns(h: &Histogram<u64>) -> Percentiles {
        let us = |v: u64| round3(v as f64 / 1000.0);
        Percentiles {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            p9999: us(h.value_at_quantile(0.9999)),
            max: us(h.max()),
            mean: round3(h.mean() / 1000.0),
        }
    }
}

/// Round for stable, readable JSON (values are reported, never fed back into the model).
pub fn round3(x: f64) -> f64 {
    crate::units::round_to(x, 3)
}
