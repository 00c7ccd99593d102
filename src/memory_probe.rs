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
//! Method: a pointer chase. A buffer of `size` bytes is cut into 64-byte cache lines, put in a
//! random order (Fisher-Yates), each linked to the next in that order and the last to the first:
//! one cycle through every line. Each load reads the index of the next line, so every load waits
//! for the one before, as the simulator's dependent misses do, and no prefetcher can guess the
//! next address. Time per load = wall time / loads, after a warm-up of one lap (at most as many
//! loads as are timed) that brings into cache what fits; the best of three timings, as the
//! benches take the best of their rounds. A buffer that fits the cache the machine lets this
//! process have reads at cache speed (about 10-20 ns); one that does not reads at memory speed
//! (over 100 ns, more on a busy virtual machine). Where the step from one to the other falls is
//! the cache actually available.
//!
//! The buffer is a `Vec` as the simulator's big arrays are, for which `nitrosim` asks glibc for
//! huge pages at 2 MiB and more; whether the kernel granted them is measured, not assumed
//! ([`huge_page_share`], from `/proc/self/smaps`): address translation then costs what it costs
//! the simulator.
//!
//! Address translation apart from the cache: the same buffer is chased a second time with one
//! line in each 4 KiB page ([`Chase::spread`]: lines 4160 bytes apart), so that the lines read fit
//! a cache (a 256 MiB buffer gives 3.9 MiB of them) while the pages they sit on are many. Where
//! the TLB reaches the whole buffer this reads about as fast as a dense buffer of the lines' size.
//! Huge pages need not make it so: on the Xeon VM of 2026-12-06 a line per page of 32 MiB (512 KiB
//! of lines, which the L2 holds) read at 13-15 ns with 94% of the buffer in 2 MiB pages, against
//! 5-6 for a dense 1 MiB, so its TLB kept 4 KiB translations (the host's mapping, an inference).
//! With `--small-pages` ([`Pages::Small`]) every chase is on 4 KiB pages in the guest too: the
//! difference between the two runs' "a line per page" is what the guest's own small pages add to
//! a walk, on that VM about as much again as the line at 256 MiB (docs/performance.md,
//! "2026-12-06, day" and "late morning").
//!
//! What a line costs when nothing waits for it: the dense buffer read a third time, at random
//! lines that do not depend on each other, each asked for [`AHEAD_LOADS`] loads before it is
//! read with the simulator's own prefetch ([`Chase::ns_per_load_asked_ahead`]). The core then
//! has as many lines on their way as it can hold, so the time per load is memory's latency
//! divided by that number, plus what reaching each line's page costs: the price of a line the
//! run loop asks for events ahead, which is how the simulator reads its ports, packets and
//! connections. On the Xeon VM of 2026-12-06 it was 1.2-1.4 ns at 1 MiB and 11.9-12.8 at
//! 256 MiB (19.2-19.3 on small pages), against 173-178 for the dependent chase at 256 MiB. The
//! 8192-host runs' growth over 128 hosts came near their lines from beyond the cache times that
//! price (SRD within 3-15%, TCP 78-91%), though lines taken away from a run saved less than that
//! (docs/performance.md, "2026-12-06, late morning").

use crate::progress::Stopwatch;
use rand::{RngExt, SeedableRng};

/// Bytes of a cache line on the machines the simulator is built for (x86-64, Arm64 servers).
const LINE_BYTES: usize = 64;
const WORDS_PER_LINE: usize = LINE_BYTES / std::mem::size_of::<u64>();

/// The sizes `nitrosim memory-probe` measures by default, in MiB: from what fits any L2 cache to
/// what the 8192-host bench's ports alone take (57 MiB) and beyond.
pub const DEFAULT_SIZES_MIB: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 256];

/// Largest buffer accepted, in MiB: a probe is a yardstick, not a memory test.
pub const MAX_SIZE_MIB: usize = 4096;
/// Most loads per timing: at memory's ~200 ns, six timings per size (best of three, dense and a
/// line per page) of this many take about two minutes; more would only make the probe look hung.
pub const MAX_LOADS: usize = 100_000_000;

/// The pages a probe's buffers ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pages {
    /// Whatever a `Vec` of that size gets in this process: huge pages, at 2 MiB and more, where
    /// `nitrosim` asked glibc for them (`cli::huge_pages`), as the simulator's arrays do.
    AsTheSimulator,
    /// Small pages only (`madvise(MADV_NOHUGEPAGE)` before the buffer is first touched, Linux):
    /// against the same chase on huge pages, the price of reaching a page the TLB does not hold.
    /// A buffer glibc hands out from memory it touched before keeps what it had (the share
    /// measured says so).
    Small,
}

/// Buffers of `size_bytes` bytes, one random cycle through their cache lines (all of them, or one
/// in [`SPREAD_STRIDE_LINES`]): word 0 of line `i` holds the index of the line after `i`.
pub struct Chase {
    words: Vec<u64>,
    /// Lines in the cycle: every line of the buffer, or one in [`SPREAD_STRIDE_LINES`].
    cycle_lines: usize,
}

/// How many loads before its own a line is asked for in [`Chase::ns_per_load_asked_ahead`]: far
/// enough that the line has time to arrive (a load at memory speed takes 100-200 ns, each of these
/// a few), and asking further ahead changed nothing on the Xeon VM of 2026-12-06 (a temporary
/// build that read random lines of a 256 MiB buffer from the simulator's run loop: the same price
/// asked for 3, 10 or 30 events ahead; docs/performance.md, "2026-12-06, late morning").
pub const AHEAD_LOADS: usize = 16;

/// A number below `n` drawn from `k` by a fixed mix (SplitMix64's finaliser): the k-th line of a
/// random sequence that needs no memory of its own, which would be one more stream of loads.
fn random_below(k: u64, n: u64) -> u64 {
    // Scaled, not divided (Lemire's reduction): a division per load would cost more than a load
    // from the L2.
    ((crate::engine::rng::mix64(k) as u128 * n as u128) >> 64) as u64
}

/// The smallest page x86-64 and Arm64 servers map: what a spread chase puts one line in.
const SMALL_PAGE_BYTES: usize = 4096;

/// Lines between two lines of a spread chase: a small page and one line (65 lines, 4160 bytes), so
/// that each sits in its own page (every page but one in 65), a line further in its page than the
/// last, so that they also fall in different cache sets.
pub const SPREAD_STRIDE_LINES: usize = SMALL_PAGE_BYTES / LINE_BYTES + 1;

impl Chase {
    /// `size_bytes` rounded down to whole lines, at least two lines and at most 2^32. The cycle
    /// is drawn from `seed`, so a probe reads the same addresses every time. An error, not an
    /// abort, when the memory cannot be had.
    pub fn new(size_bytes: usize, seed: u64, pages: Pages) -> Result<Chase, String> {
        Chase::with_stride(size_bytes, seed, 1, pages)
    }

    /// The same buffer with one line of every [`SPREAD_STRIDE_LINES`] in the cycle (at least two
    /// of them): a line per 4 KiB page.
    pub fn spread(size_bytes: usize, seed: u64, pages: Pages) -> Result<Chase, String> {
        Chase::with_stride(size_bytes, seed, SPREAD_STRIDE_LINES, pages)
    }

    fn with_stride(size_bytes: usize, seed: u64, stride: usize, pages: Pages) -> Result<Chase, String> {
        debug_assert!(stride >= 1);
        let buffer_lines = (size_bytes / LINE_BYTES).max(2 * stride);
        let lines_max = 1u64 << 32;
        if buffer_lines as u64 > lines_max {
            return Err(format!("{size_bytes} bytes is more than {lines_max} cache lines"));
        }
        let lines = buffer_lines / stride;
        let no_memory = |what: &str| format!("cannot allocate the {what} of a {} MiB probe", size_bytes >> 20);
        let mut order: Vec<u32> = Vec::new();
        order.try_reserve_exact(lines).map_err(|_| no_memory("cycle"))?;
        order.extend((0..lines).map(|k| k as u32));
        // Fisher-Yates: a random order; linking each line to the next in it makes one cycle.
        let mut rng = crate::engine::rng::StreamRng::seed_from_u64(seed);
        for i in (1..lines).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut words: Vec<u64> = Vec::new();
        words.try_reserve_exact(buffer_lines * WORDS_PER_LINE).map_err(|_| no_memory("buffer"))?;
        if pages == Pages::Small {
            refuse_huge_pages(words.as_ptr() as usize, words.capacity() * std::mem::size_of::<u64>());
        }
        words.resize(buffer_lines * WORDS_PER_LINE, 0);
        for k in 0..lines {
            let (from, to) = (order[k] as usize * stride, order[(k + 1) % lines] as usize * stride);
            words[from * WORDS_PER_LINE] = to as u64;
        }
        Ok(Chase { words, cycle_lines: lines })
    }

    /// Lines in the cycle (a lap's loads); the cycle starts at line 0.
    pub fn lines(&self) -> usize {
        self.cycle_lines
    }

    /// Follow the cycle for `loads` loads from line `start`; returns the line reached.
    pub fn follow(&self, start: usize, loads: usize) -> usize {
        let mut line = start;
        // Each address is the last load's value, so no load can be skipped or hoisted; the
        // caller keeps the result (`black_box`), so the chain itself is kept.
        for _ in 0..loads {
            line = self.words[line * WORDS_PER_LINE] as usize;
        }
        line
    }

    /// Nanoseconds per dependent load: the best of three timings of `loads` loads each, after a
    /// warm-up of one lap (at most `loads` loads).
    pub fn ns_per_load(&self, loads: usize) -> f64 {
        let loads = loads.max(1);
        let mut at = std::hint::black_box(self.follow(0, self.lines().min(loads)));
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            // The wall clock only through `progress`, which owns it: nothing simulated reads it.
            let clock = Stopwatch::start();
            at = std::hint::black_box(self.follow(at, loads));
            best = best.min(clock.seconds() * 1e9 / loads as f64);
        }
        best
    }

    /// Nanoseconds per load when the loads do not depend on each other and each line is asked
    /// for [`AHEAD_LOADS`] loads before it is read, as the simulator's run loop asks for what an
    /// event will touch events before it runs: random lines of the cycle (a fixed sequence, the
    /// same every time), with the simulator's own prefetch. The best of three timings of `loads`
    /// loads each, after a warm-up of one lap (at most `loads` loads).
    pub fn ns_per_load_asked_ahead(&self, loads: usize) -> f64 {
        let loads = loads.max(1);
        let mut sum = std::hint::black_box(self.read_asked_ahead(0, self.lines().min(loads)));
        let mut best = f64::INFINITY;
        for round in 1..=3 {
            let clock = Stopwatch::start();
            sum = sum.wrapping_add(std::hint::black_box(self.read_asked_ahead(round * loads, loads)));
            best = best.min(clock.seconds() * 1e9 / loads as f64);
        }
        std::hint::black_box(sum);
        best
    }

    /// Read `loads` random lines of the cycle, the `first`-th of the sequence on, each asked for
    /// [`AHEAD_LOADS`] loads before; returns the sum of the words read (for `black_box`).
    fn read_asked_ahead(&self, first: usize, loads: usize) -> u64 {
        let stride = self.words.len() / WORDS_PER_LINE / self.cycle_lines;
        let word = |k: usize| random_below(k as u64, self.cycle_lines as u64) as usize * stride * WORDS_PER_LINE;
        // The words asked for and not yet read, by load number modulo the ring's size: each
        // address is worked out once.
        let mut asked = [0usize; AHEAD_LOADS];
        for (k, a) in (first..first + AHEAD_LOADS).zip(asked.iter_mut()) {
            *a = word(k);
        }
        let mut sum = 0u64;
        for k in first..first + loads {
            let ahead = word(k + AHEAD_LOADS);
            crate::engine::prefetch(&self.words[ahead], 1);
            let slot = &mut asked[k % AHEAD_LOADS];
            sum = sum.wrapping_add(self.words[*slot]);
            *slot = ahead;
        }
        sum
    }

    /// The share of the buffer in huge pages, `None` where it cannot be read (not Linux).
    pub fn huge_page_share(&self) -> Option<f64> {
        huge_page_share(self.words.as_ptr() as usize, std::mem::size_of_val(&self.words[..]))
    }
}

/// Ask the kernel to back the whole small pages of `len` bytes from `start` with small pages only
/// (a hint: nothing to do off Linux, and a failure changes only what is measured, which the huge
/// page share then shows).
fn refuse_huge_pages(start: usize, len: usize) {
    #[cfg(target_os = "linux")]
    {
        let first = start.next_multiple_of(SMALL_PAGE_BYTES);
        let end = (start + len) / SMALL_PAGE_BYTES * SMALL_PAGE_BYTES;
        if end > first {
            // SAFETY: advice on pages of this process's own allocation; it changes no byte of
            // them and no mapping's permissions.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_NOHUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, len);
}

/// The share of `len` bytes from `start` that the kernel backs with huge pages, from the
/// `AnonHugePages` of the mappings holding them in `/proc/self/smaps` (a mapping's huge pages
/// are counted in proportion to the part of it the range covers). `None` where there is no such
/// file.
pub fn huge_page_share(start: usize, len: usize) -> Option<f64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let end = start.checked_add(len)?;
    let (mut huge_bytes, mut mapping) = (0.0, None::<(usize, usize)>);
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((lo, hi)) = first.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            mapping = (lo < end && start < hi).then_some((lo, hi));
        } else if first == "AnonHugePages:"
            && let Some((lo, hi)) = mapping
            && let Some(Ok(kib)) = fields.next().map(str::parse::<f64>)
        {
            let covered = (hi.min(end) - lo.max(start)) as f64 / (hi - lo) as f64;
            huge_bytes += kib * 1024.0 * covered;
        }
    }
    Some((huge_bytes / len.max(1) as f64).min(1.0))
}

/// The machine the probe and the benches beside it ran on, in one line: the CPU's model name,
/// how many CPUs the system has and the caches CPU 0 sees, as the kernel reports them
/// (`/proc/cpuinfo`, `/sys/devices/system/cpu/cpu0/cache`). On a virtual machine these are what
/// the hypervisor shows: a cache size is the whole cache, not the share this process gets, which
/// only the probe's times tell. Parts the system does not report are left out; `None` when it
/// reports nothing (not Linux).
pub fn describe_machine() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == "model name").map(|(_, v)| v.trim().to_string()));
    let cpus = cpuinfo.lines().filter(|l| l.split_once(':').is_some_and(|(k, _)| k.trim() == "processor")).count();
    let caches = describe_caches(std::path::Path::new("/sys/devices/system/cpu/cpu0/cache"));
    let mut parts = Vec::new();
    parts.extend(model);
    if cpus > 0 {
        parts.push(format!("{cpus} CPU{}", if cpus == 1 { "" } else { "s" }));
    }
    if !caches.is_empty() {
        parts.push(format!("caches {}", caches.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// CPU 0's caches under `dir` (the kernel's `cache/indexN/{level,type,size}`), by level, as
/// "L1d 48K": a unified cache has no letter.
fn describe_caches(dir: &std::path::Path) -> Vec<String> {
    let read = |entry: &std::path::Path, name: &str| {
        std::fs::read_to_string(entry.join(name)).ok().map(|s| s.trim().to_string())
    };
    let mut caches: Vec<(u32, String)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|e| {
            let path = e.path();
            let level: u32 = read(&path, "level")?.parse().ok()?;
            let size = read(&path, "size")?;
            let kind = match read(&path, "type").as_deref() {
                Some("Data") => "d",
                Some("Instruction") => "i",
                _ => "",
            };
            Some((level, format!("L{level}{kind} {size}")))
        })
        .collect();
    caches.sort();
    caches.into_iter().map(|(_, c)| c).collect()
}

/// One size measured.
#[derive(Clone, Copy, Debug)]
pub struct Probed {
    pub size_mib: usize,
    pub ns_per_load: f64,
    /// The share of the buffer in huge pages (`None`: not known on this system).
    pub huge_page_share: Option<f64>,
    /// The same size chased with one line per page ([`Chase::spread`]), and its huge pages.
    pub ns_per_load_spread: f64,
    pub huge_page_share_spread: Option<f64>,
    /// The dense buffer read at random lines asked for ahead ([`Chase::ns_per_load_asked_ahead`]).
    pub ns_per_load_asked_ahead: f64,
}

/// Measure a buffer of `size_mib` MiB, made for the measurement and freed after it, densely and
/// then spread (one after the other: the probe's peak memory is one buffer and a sixteenth, the
/// shuffled order).
pub fn probe(size_mib: usize, loads: usize, pages: Pages) -> Result<Probed, String> {
    let bytes = size_mib.checked_mul(1 << 20).ok_or_else(|| format!("{size_mib} MiB does not fit in memory"))?;
    let seed = 0x6e69_7472_6f73_696d ^ size_mib as u64;
    let (ns_per_load, huge_page_share, ns_per_load_asked_ahead) = {
        let chase = Chase::new(bytes, seed, pages)?;
        (chase.ns_per_load(loads), chase.huge_page_share(), chase.ns_per_load_asked_ahead(loads))
    };
    let spread = Chase::spread(bytes, seed, pages)?;
    Ok(Probed {
        size_mib,
        ns_per_load,
        huge_page_share,
        ns_per_load_spread: spread.ns_per_load(loads),
        huge_page_share_spread: spread.huge_page_share(),
        ns_per_load_asked_ahead,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chase must visit every line once per lap: a shorter cycle would measure a smaller
    /// buffer than the one named.
    #[test]
    fn the_cycle_visits_every_line_once_per_lap() {
        for lines in [2usize, 3, 17, 1000] {
            let chase = Chase::new(lines * LINE_BYTES, lines as u64, Pages::AsTheSimulator).unwrap();
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

    /// The caches as the kernel lays them out, in level order; entries it cannot read left out.
    #[test]
    fn caches_are_read_by_level_and_unreadable_entries_skipped() {
        let dir = tempfile::tempdir().unwrap();
        for (index, level, kind, size) in [
            ("index3", "3", "Unified", "107520K"),
            ("index0", "1", "Data", "48K"),
            ("index1", "1", "Instruction", "32K"),
            ("index2", "2", "Unified", "2048K"),
        ] {
            let d = dir.path().join(index);
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("level"), format!("{level}\n")).unwrap();
            std::fs::write(d.join("type"), format!("{kind}\n")).unwrap();
            std::fs::write(d.join("size"), format!("{size}\n")).unwrap();
        }
        std::fs::create_dir(dir.path().join("index4")).unwrap();
        std::fs::write(dir.path().join("uevent"), "").unwrap();
        assert_eq!(describe_caches(dir.path()), ["L1d 48K", "L1i 32K", "L2 2048K", "L3 107520K"]);
        assert!(describe_caches(&dir.path().join("absent")).is_empty());
    }

    /// A spread chase visits one line in each 4 KiB page (but one page in 65), every one once per
    /// lap, and nothing else: the pages are many, the lines few.
    #[test]
    fn a_spread_cycle_reads_a_line_per_page() {
        let bytes = 4 << 20;
        let chase = Chase::spread(bytes, 7, Pages::AsTheSimulator).unwrap();
        let lines = bytes / LINE_BYTES / SPREAD_STRIDE_LINES;
        assert_eq!(chase.lines(), lines);
        let (mut line, mut pages) = (0, std::collections::BTreeSet::new());
        for _ in 0..lines {
            assert_eq!(line % SPREAD_STRIDE_LINES, 0, "only every 65th line is in the cycle");
            assert!(pages.insert(line * LINE_BYTES / SMALL_PAGE_BYTES), "two lines of the cycle in one page");
            line = chase.follow(line, 1);
        }
        assert_eq!((line, pages.len()), (0, lines), "a lap returns to the start having read each once");
        // Pages without a line: one in 65 (4160 bytes a line), so 4 MiB's 1024 pages hold 1008.
        assert_eq!(bytes / SMALL_PAGE_BYTES - pages.len(), 16);
        // Too small to spread: still two lines, a stride apart.
        let tiny = Chase::spread(64, 1, Pages::AsTheSimulator).unwrap();
        assert_eq!((tiny.lines(), tiny.follow(0, 1)), (2, SPREAD_STRIDE_LINES));
    }

    /// The lines read ahead are drawn over the whole buffer, evenly, never past its end, and the
    /// same every time: a skewed draw would read a smaller buffer than the one named.
    #[test]
    fn lines_read_ahead_cover_the_buffer_evenly() {
        for n in [1u64, 2, 7, 1000, 1 << 22] {
            assert!((0..10_000).all(|k| random_below(k, n) < n), "{n}");
        }
        let n = 1000;
        let mut hits = vec![0u32; n as usize];
        for k in 0..100_000 {
            hits[random_below(k, n) as usize] += 1;
        }
        // 100 per line on average; a fair draw keeps every line within 60-140 (about 4 standard
        // deviations), a draw that skips or favours lines does not.
        assert!(hits.iter().all(|&h| (60..=140).contains(&h)), "{:?}", (hits.iter().min(), hits.iter().max()));
        assert_eq!(random_below(12345, 1 << 20), random_below(12345, 1 << 20));
        // And in no order a prefetcher could follow: consecutive draws are seldom close (a
        // sequential or strided walk would make them all so).
        let close =
            (0..10_000u64).filter(|&k| random_below(k, 1 << 20).abs_diff(random_below(k + 1, 1 << 20)) < 64).count();
        assert!(close < 10, "{close} of 10 000 consecutive draws within 64 lines");
    }

    #[test]
    fn sizes_round_down_to_whole_lines_and_never_below_two() {
        assert_eq!(Chase::new(64 * 10 + 63, 1, Pages::AsTheSimulator).unwrap().lines(), 10);
        assert_eq!(Chase::new(0, 1, Pages::Small).unwrap().lines(), 2);
        assert!(Chase::new(usize::MAX, 1, Pages::Small).is_err(), "more lines than a u32 names");
        assert!(probe(usize::MAX, 1, Pages::AsTheSimulator).is_err());
        let measured = probe(1, 1000, Pages::AsTheSimulator).unwrap();
        assert_eq!(measured.size_mib, 1);
        for ns in [measured.ns_per_load, measured.ns_per_load_spread, measured.ns_per_load_asked_ahead] {
            assert!(ns > 0.0 && ns.is_finite(), "{measured:?}");
        }
        for share in [measured.huge_page_share, measured.huge_page_share_spread].into_iter().flatten() {
            assert!((0.0..=1.0).contains(&share), "{share}");
        }
    }
}
