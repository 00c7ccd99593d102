//! How long one random memory load takes on this machine, by the size of what is read: the
//! yardstick for the simulator's own speed at scale.
//!
//! At 8192 hosts nearly every port, packet and connection a link crossing touches is a cache
//! miss, so what a crossing costs follows the machine's memory more than the simulator's code,
//! and on a shared virtual machine the memory changes by the hour: other tenants take the L3
//! cache, the host's memory is busy. A figure of speed taken without knowing which machine it ran
//! on cannot be compared with another. The probe measures that machine, next to the
//! measurement (`nitrosim memory-probe`; `benches/scale_curve.sh` runs it every round).
//!
//! Method: a pointer chase. A buffer of `size` bytes is cut into 64-byte cache lines linked in one
//! random cycle (Sattolo's shuffle, so every line is visited once per lap), and each load reads the
//! index of the next line: every load waits for the one before, as the simulator's dependent
//! misses do, and no prefetcher can guess the next address. Time per load = wall time / loads,
//! after a warm-up lap (or a million loads) that brings into cache what fits. A buffer that fits
//! the cache the machine lets this process have reads at cache speed (about 10-20 ns); one that
//! does not reads at memory speed (about 100 ns on bare metal, more on a busy virtual machine).
//! Where the step from one to the other falls is the cache actually available.
//!
//! The buffer is allocated as the simulator's arrays are (a `Vec` of 2 MiB or more, in huge
//! pages when `nitrosim` runs with them), so address translation costs what it costs the
//! simulator.

use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// Bytes of a cache line on the machines the simulator is built for (x86-64, Arm64 servers).
const LINE_BYTES: usize = 64;
const WORDS_PER_LINE: usize = LINE_BYTES / std::mem::size_of::<u64>();

/// The sizes `nitrosim memory-probe` measures by default, in MiB: from what fits any L2 cache to
/// what the 8192-host bench's ports alone take (57 MiB) and beyond.
pub const DEFAULT_SIZES_MIB: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 256];

/// Largest buffer accepted, in MiB: a probe is a yardstick, not a memory test.
pub const MAX_SIZE_MIB: usize = 4096;

/// Buffers of `size_bytes` bytes, one random cycle through their cache lines: word 0 of line `i`
/// holds the index of the line after `i`.
pub struct Chase {
    words: Vec<u64>,
}

impl Chase {
    /// `size_bytes` rounded down to whole lines, at least two lines and at most 2^32. The cycle
    /// is drawn from `seed`, so a probe reads the same addresses every time. An error, not an
    /// abort, when the memory cannot be had.
    pub fn new(size_bytes: usize, seed: u64) -> Result<Chase, String> {
        let lines = (size_bytes / LINE_BYTES).max(2);
        let lines_max = u32::MAX as usize + 1;
        if lines > lines_max {
            return Err(format!("{size_bytes} bytes is more than {lines_max} cache lines"));
        }
        let no_memory = |what: &str| format!("cannot allocate the {what} of a {} MiB probe", size_bytes >> 20);
        let mut order: Vec<u32> = Vec::new();
        order.try_reserve_exact(lines).map_err(|_| no_memory("cycle"))?;
        order.extend((0..lines).map(|k| k as u32));
        // Sattolo's algorithm: a uniformly random permutation with a single cycle.
        let mut rng = crate::engine::rng::StreamRng::seed_from_u64(seed);
        for i in (1..lines).rev() {
            let j = rng.random_range(0..i);
            order.swap(i, j);
        }
        let mut words: Vec<u64> = Vec::new();
        words.try_reserve_exact(lines * WORDS_PER_LINE).map_err(|_| no_memory("buffer"))?;
        words.resize(lines * WORDS_PER_LINE, 0);
        for k in 0..lines {
            let (from, to) = (order[k] as usize, order[(k + 1) % lines] as usize);
            words[from * WORDS_PER_LINE] = to as u64;
        }
        Ok(Chase { words })
    }

    pub fn lines(&self) -> usize {
        self.words.len() / WORDS_PER_LINE
    }

    /// Follow the cycle for `loads` loads from line `start`; returns the line reached.
    pub fn follow(&self, start: usize, loads: usize) -> usize {
        let mut line = start;
        for _ in 0..loads {
            // `black_box` so the compiler keeps each load and its dependence on the last.
            line = std::hint::black_box(self.words[line * WORDS_PER_LINE]) as usize;
        }
        line
    }

    /// Mean nanoseconds per dependent load over `loads` loads, after a warm-up of one lap (at
    /// most `loads` loads).
    pub fn ns_per_load(&self, loads: usize) -> f64 {
        let loads = loads.max(1);
        let at = self.follow(0, self.lines().min(loads));
        let start = Instant::now();
        let end = self.follow(at, loads);
        let ns = start.elapsed().as_nanos() as f64;
        std::hint::black_box(end);
        ns / loads as f64
    }
}

/// Measure each size (MiB) in turn; returns (size, ns per load). A new buffer for each size,
/// freed before the next, so the probe's peak memory is its largest size.
pub fn probe(sizes_mib: &[usize], loads: usize) -> Result<Vec<(usize, f64)>, String> {
    sizes_mib
        .iter()
        .map(|&mib| {
            let bytes = mib.checked_mul(1 << 20).ok_or_else(|| format!("{mib} MiB does not fit in memory"))?;
            let chase = Chase::new(bytes, 0x6e69_7472_6f73_696d ^ mib as u64)?;
            Ok((mib, chase.ns_per_load(loads)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chase must visit every line once per lap: a shorter cycle would measure a smaller
    /// buffer than the one named.
    #[test]
    fn the_cycle_visits_every_line_once_per_lap() {
        for lines in [2usize, 3, 17, 1000] {
            let chase = Chase::new(lines * LINE_BYTES, lines as u64).unwrap();
            assert_eq!(chase.lines(), lines);
            let mut seen = vec![false; lines];
            let mut line = 0;
            for _ in 0..lines {
                assert!(!seen[line], "line {line} visited twice in one lap of {lines}");
                seen[line] = true;
                line = chase.follow(line, 1);
            }
            assert_eq!(line, 0, "a lap of {lines} loads returns to the start");
            assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn sizes_round_down_to_whole_lines_and_never_below_two() {
        assert_eq!(Chase::new(64 * 10 + 63, 1).unwrap().lines(), 10);
        assert_eq!(Chase::new(0, 1).unwrap().lines(), 2);
        assert!(Chase::new(usize::MAX, 1).is_err(), "more lines than a u32 names");
        assert!(probe(&[usize::MAX], 1).is_err());
        let measured = probe(&[1], 1000).unwrap();
        assert_eq!(measured.len(), 1);
        assert!(measured[0].1 > 0.0 && measured[0].1.is_finite());
    }
}
