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
    #[cfg(target_arch = "x86_64")]
    {
        let p = value as *const T as *const i8;
        for k in 0..lines.min(std::mem::size_of::<T>().div_ceil(64)) {
            // SAFETY: prefetching is a hint and never faults; the addresses lie within `value`.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.add(k * 64)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (value, lines);
}
pub use rng::RngStreams;
