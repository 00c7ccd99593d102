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

/// Start loading the cache lines of `values`, a hint as [`prefetch`].
#[inline(always)]
pub fn prefetch_slice<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let start = values.as_ptr() as usize & !63;
        let end = values.as_ptr() as usize + std::mem::size_of_val(values);
        for line in (start..end).step_by(64) {
            // SAFETY: prefetching is a hint and never faults; the lines overlap `values`.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line as *const i8) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}
pub use rng::RngStreams;
