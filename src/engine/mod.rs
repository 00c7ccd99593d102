//! The discrete-event engine: simulated time, a deterministic event queue and per-component
//! random streams. It knows nothing of networks; `model` gives it a closed event enum.

pub mod queue;
pub mod rng;

pub use queue::EventQueue;

/// Ask the CPU to start loading the cache lines of `value` (up to `lines` of them) that the next
/// event will need, while the current one runs: the packet path is bound by memory latency, not
/// arithmetic. A hint only; nothing depends on it.
#[inline(always)]
pub fn prefetch<T>(value: &T, lines: usize) {
    // One instruction per line, unrolled: the bytes asked for, `len`, are known when compiling
    // (as `lines` mostly is), where a line count computed from the address cost more than the
    // prefetches themselves. A value not aligned to lines overlaps one more: its last byte's.
    let len = std::mem::size_of::<T>().min(lines.saturating_mul(64));
    let start = value as *const T as usize;
    for k in 0..len.div_ceil(64) {
        prefetch_line(start + 64 * k);
    }
    if std::mem::align_of::<T>() < 64 && len > 0 {
        prefetch_line(start + len - 1);
    }
}

/// Start loading the cache lines of `values`, a hint as [`prefetch`].
#[inline(always)]
pub fn prefetch_slice<T>(values: &[T]) {
    prefetch_bytes(values.as_ptr() as usize, std::mem::size_of_val(values));
}

/// Start loading the cache lines that `len` bytes from `start` overlap, a hint as [`prefetch`]:
/// any address will do, none is read.
#[inline(always)]
pub fn prefetch_bytes(start: usize, len: usize) {
    // A plain loop: `step_by` on a range divides to count its steps, which cost more
    // instructions than the prefetches themselves.
    let (mut line, end) = (start & !63, start + len);
    while line < end {
        prefetch_line(line);
        line += 64;
    }
}

/// Start loading the cache line holding `address` to write it, a hint as [`prefetch`].
#[inline(always)]
pub fn prefetch_write(address: usize) {
    #[cfg(target_arch = "x86_64")]
    prefetch_hint::<{ std::arch::x86_64::_MM_HINT_ET0 }>(address);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Start loading the cache line holding `address`, into the L2 cache rather than the L1.
///
/// Why not the L1 (`T0`): at 8192 hosts nearly every line the loop asks for comes from memory,
/// and a hop alone asks for 13 (the port's six lines, the packet's, the next port's six). `T1`
/// prefetches into the L2 and beyond, not the L1 (AMD64 Architecture Programmer's Manual vol. 1,
/// 24592, "PREFETCHlevel"), and Zen 4 does so (Wang et al., arXiv 2411.02814, 2024). Paired at
/// 8192 hosts (`benches/ab.sh`, 2026-12-04): SRD 0.871 of the time, TCP 0.922, faster in every
/// round; no difference found at 128 or 1024 hosts. Our
/// reading, not a count (this VM has no cache counters): the L1's few miss buffers no longer
/// fill with lines asked for events ahead, so the loads the current event waits for get one;
/// the line then costs an L2 hit when its event reads it.
#[inline(always)]
fn prefetch_line(address: usize) {
    #[cfg(target_arch = "x86_64")]
    prefetch_hint::<{ std::arch::x86_64::_MM_HINT_T1 }>(address);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_hint<const HINT: i32>(address: usize) {
    // SAFETY: prefetching is a hint and never faults, whatever the address.
    unsafe { std::arch::x86_64::_mm_prefetch::<HINT>(address as *const i8) };
}
pub use rng::RngStreams;

/// The size of a transparent huge page on x86-64 and of the smallest one glibc advises.
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// An empty vector whose first buffer holds at least `n` elements and at least 2 MiB, for the
/// arrays the packet path reads at random (ports, packets, connections). glibc, with the
/// `glibc.malloc.hugetlb=1` tunable the command line sets (`cli::huge_pages`), advises a mapping
/// for huge pages only when it is created at 2 MiB or more; a vector that starts smaller and
/// grows keeps 4 KiB pages, and then nearly every random access at scale costs a page walk.
/// Untouched capacity is address space, not memory.
pub fn huge_vec<T>(n: usize) -> Vec<T> {
    Vec::with_capacity(huge_len::<T>(n))
}

/// At least `n` elements, and at least 2 MiB of them.
fn huge_len<T>(n: usize) -> usize {
    n.max(HUGE_PAGE_BYTES.div_ceil(std::mem::size_of::<T>().max(1)))
}

/// How many times larger a huge array's next buffer is than its last, where huge pages are
/// asked for (Linux with glibc, 64 bits; elsewhere Vec's doubling). Every buffer an array
/// outgrows was touched in full and is then freed: the buffers left behind add up to 1/7 to 8/7
/// of what the array finally holds at 8, 1 to 2 times at 2. A first touch of a 2 MiB page costs
/// the kernel zeroing it, and on this project's VM (which likely hands freed memory back to its
/// host) far more (`docs/performance.md`, "Huge pages"). The capacity beyond what is used is
/// address space: it costs no memory until touched, but counts against `ulimit -v` and strict
/// overcommit.
const GROWTH: usize =
    if cfg!(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")) { 8 } else { 2 };

/// The most one growth adds beyond doubling: a buffer grows [`GROWTH`] times while that adds at
/// most 1 GiB (below 146 MiB at 8), then by 1 GiB, and from 1 GiB on it doubles.
const GROWTH_STEP_BYTES_MAX: usize = 1 << 30;

/// The capacity a huge array of `capacity` elements grows to when it needs `needed`.
fn grown_len<T>(capacity: usize, needed: usize) -> usize {
    let step_max = GROWTH_STEP_BYTES_MAX / std::mem::size_of::<T>().max(1);
    let by_growth = capacity.saturating_mul(GROWTH).min(capacity.saturating_add(step_max));
    huge_len::<T>(needed.max(by_growth).max(capacity.saturating_mul(2)))
}

/// Make room for `additional` more elements in a vector made by [`huge_vec`] without losing
/// its huge pages: a buffer `GROWTH` times the size (see `grown_len`) is allocated afresh
/// and the elements moved (twice the size if the system refuses that much address space).
/// `Vec`'s own growth reallocates, and glibc moves a large buffer with `mremap`, which splits
/// each of its huge pages into 4 KiB ones when the old and new addresses differ modulo 2 MiB
/// (measured: a 32 MiB packet array left with none).
#[inline]
pub fn reserve_huge<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        grow_huge(v, additional);
    }
}

#[cold]
fn grow_huge<T>(v: &mut Vec<T>, additional: usize) {
    let needed = v.len().checked_add(additional).expect("more elements than a vector holds");
    let mut bigger = Vec::new();
    if bigger.try_reserve_exact(grown_len::<T>(v.capacity(), needed)).is_err() {
        bigger = huge_vec(needed.max(v.capacity().saturating_mul(2)));
    }
    bigger.append(v);
    *v = bigger;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_vectors_start_at_a_huge_page_and_keep_their_elements_as_they_grow() {
        let mut v: Vec<u64> = huge_vec(0);
        assert!(v.capacity() * 8 >= HUGE_PAGE_BYTES);
        let first = v.capacity();
        let n = first * GROWTH + 3;
        for k in 0..n as u64 {
            reserve_huge(&mut v, 1);
            let before = v.capacity();
            v.push(k);
            assert_eq!(v.capacity(), before, "reserve_huge left room for the push");
        }
        // Grown twice: by GROWTH each time, or by 2 where the address space was refused.
        assert!(v.capacity() >= first * 4, "grown twice: {}", v.capacity());
        assert!(v.iter().copied().eq(0..n as u64));
    }

    #[test]
    fn huge_arrays_grow_by_growth_up_to_a_step_then_at_least_double() {
        const MIB: usize = 1 << 20;
        // Bytes: 2 MiB grows to 2 x GROWTH MiB; a need beyond that is met as it is.
        assert_eq!(grown_len::<u8>(2 * MIB, 2 * MIB + 1), 2 * MIB * GROWTH);
        assert_eq!(grown_len::<u8>(2 * MIB, 100 * MIB), (100 * MIB).max(2 * MIB * GROWTH));
        // A large array grows by at most the step beyond doubling.
        let big = 4096 * MIB;
        assert_eq!(grown_len::<u8>(big, big + 1), 2 * big);
        let from_512_mib = if GROWTH > 2 { 512 * MIB + GROWTH_STEP_BYTES_MAX } else { 1024 * MIB };
        assert_eq!(grown_len::<u8>(512 * MIB, 512 * MIB + 1), from_512_mib);
        // Counted in elements: the step is in bytes (1 GiB = MIB elements of 1 KiB).
        assert_eq!(grown_len::<[u8; 1024]>(MIB, MIB + 1), 2 * MIB);
        // Never less than 2 MiB, never overflowing.
        assert_eq!(grown_len::<u64>(0, 1), HUGE_PAGE_BYTES / 8);
        assert!(grown_len::<u8>(usize::MAX / 2, usize::MAX / 2 + 1) > usize::MAX / 2);
    }
}
