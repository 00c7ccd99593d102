//! Sampling sizes and inter-arrival times. Samples are drawn in floating point and rounded to
//! integer bytes or picoseconds at once: the model state stays integer.

use super::config::SizeDist;
use crate::engine::rng::StreamRng;
use crate::units::SimDuration;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

/// DCTCP web-search flow sizes (Alizadeh et al., "Data Center TCP", SIGCOMM 2010, figure 4),
/// as the (bytes, cumulative probability) table used by HPCC's and pFabric's traffic generators.
pub const WEB_SEARCH_CDF: &[(u64, f64)] = &[
    (0, 0.0),
    (10_000, 0.15),
    (20_000, 0.20),
    (30_000, 0.30),
    (50_000, 0.40),
    (80_000, 0.53),
    (200_000, 0.60),
    (1_000_000, 0.70),
    (2_000_000, 0.80),
    (5_000_000, 0.90),
    (10_000_000, 0.97),
    (30_000_000, 1.00),
];

#[derive(Clone, Debug)]
pub struct Sizes {
    dist: SizeDist,
}

impl Sizes {
    pub fn new(dist: SizeDist) -> Self {
        Sizes { dist }
    }

    /// Mean size in bytes (for offered-load arithmetic).
    pub fn mean(&self) -> f64 {
        match &self.dist {
            SizeDist::Fixed(b) => b.0 as f64,
            SizeDist::Uniform { min, max } => (min.0 + max.0) as f64 / 2.0,
            SizeDist::Exponential { mean } => mean.0 as f64,
            SizeDist::WebSearch => {
                WEB_SEARCH_CDF.windows(2).map(|w| (w[1].1 - w[0].1) * (w[0].0 + w[1].0) as f64 / 2.0).sum()
            }
        }
    }

    pub fn sample(&self, rng: &mut StreamRng) -> u64 {
        match &self.dist {
            SizeDist::Fixed(b) => b.0,
            SizeDist::Uniform { min, max } => rng.random_range(min.0..=max.0),
            SizeDist::Exponential { mean } => {
                let x: f64 = Exp1.sample(rng);
                ((x * mean.0 as f64).round() as u64).max(1)
            }
            SizeDist::WebSearch => {
                let u: f64 = rng.random();
                let i = WEB_SEARCH_CDF.partition_point(|&(_, p)| p < u).clamp(1, WEB_SEARCH_CDF.len() - 1);
                let (x0, p0) = WEB_SEARCH_CDF[i - 1];
                let (x1, p1) = WEB_SEARCH_CDF[i];
                let frac = if p1 > p0 { (u - p0) / (p1 - p0) } else { 0.0 };
                ((x0 as f64 + frac * (x1 - x0) as f64).round() as u64).max(1)
            }
        }
    }
}

/// Exponential inter-arrival times (a Poisson process) with the given mean.
#[derive(Clone, Copy, Debug)]
pub struct Interarrival {
    pub mean: SimDuration,
}

impl Interarrival {
    pub fn sample(&self, rng: &mut StreamRng) -> SimDuration {
        let x: f64 = Exp1.sample(rng);
        SimDuration(((x * self.mean.ps() as f64).round() as u64).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;
    use crate::units::Bytes;

    #[test]
    fn sample_means_match() {
        let mut rng = RngStreams::new(3).stream("t");
        for dist in [
            SizeDist::WebSearch,
            SizeDist::Exponential { mean: Bytes(5000) },
            SizeDist::Uniform { min: Bytes(10), max: Bytes(30) },
        ] {
            let s = Sizes::new(dist.clone());
            let n = 200_000;
            let m: f64 = (0..n).map(|_| s.sample(&mut rng) as f64).sum::<f64>() / n as f64;
            assert!((m / s.mean() - 1.0).abs() < 0.03, "{dist:?}: sample mean {m} vs {}", s.mean());
        }
        let ia = Interarrival { mean: SimDuration::from_us(10) };
        let m: f64 = (0..100_000).map(|_| ia.sample(&mut rng).ps() as f64).sum::<f64>() / 1e5;
        assert!((m / 1e7 - 1.0).abs() < 0.02);
    }
}
