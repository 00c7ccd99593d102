//! Random streams, one per component, derived from (run seed, stable component name).
//!
//! A component's draws therefore do not depend on how many other components exist or in which
//! order they were built: adding a background flow does not change the ECMP ports of the measured
//! flow. The generator is PCG-64 (MCG variant), portable and fast; the name is folded in with
//! FNV-1a and mixed by SplitMix64 so nearby names give unrelated streams.

use rand::SeedableRng;
pub use rand_pcg::Pcg64Mcg as StreamRng;

#[derive(Clone, Copy, Debug)]
pub struct RngStreams {
    seed: u64,
}

/// SplitMix64 finaliser: a bijective 64-bit mixer (Steele et al., 2014).
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: stable across platforms and Rust versions (unlike std's hasher).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl RngStreams {
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Seed value of the stream named `name`.
    pub fn derive(&self, name: &str) -> u64 {
        mix64(self.seed ^ mix64(fnv1a(name.as_bytes())))
    }

    pub fn stream(&self, name: &str) -> StreamRng {
        StreamRng::seed_from_u64(self.derive(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_depend_on_seed_and_name_only() {
        let a = RngStreams::new(7);
        let mut x = a.stream("host/a");
        let mut y = RngStreams::new(7).stream("host/a");
        let mut z = a.stream("host/b");
        let xs: Vec<u64> = (0..4).map(|_| x.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| y.next_u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| z.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert_ne!(RngStreams::new(8).derive("host/a"), a.derive("host/a"));
    }
}
