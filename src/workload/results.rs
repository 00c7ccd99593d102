//! What workloads report: the pieces each kind's part of a variant's summary is made of.
//! The per-kind result types live beside their workload (`rpc::RpcResult`,
//! `pingpong::PingPongPoint` ...); `model::results` re-exports them.

use hdrhistogram::Histogram;
use serde::Serialize;

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
    // + 0.0 turns -0.0 (an empty float sum, a tiny negative rounded) into 0.0.
    (x * 1000.0).round() / 1000.0 + 0.0
}
