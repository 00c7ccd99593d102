//! Progress on stderr. On a terminal: a bar, for runs that last more than a second of wall time.
//! Elsewhere (batch jobs, Slurm logs, pipes): one line every `NITROSIM_PROGRESS_SECS` seconds
//! (default 10) with simulated time, events per second and the expected time left. It reads the
//! wall clock, which is allowed here and only here: it never feeds back into the simulation.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const SHOW_AFTER: Duration = Duration::from_secs(1);
/// Seconds between progress lines when stderr is not a terminal.
const LINE_EVERY_SECS: f64 = 10.0;

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
    enabled: bool,
    /// Line mode: stderr is not a terminal.
    lines: bool,
    line_every: Duration,
    total_us: u64,
    done_us: AtomicU64,
    events: AtomicU64,
    last_line: Mutex<Instant>,
}

impl Progress {
    /// `total` in simulated microseconds over all variants.
    pub fn new(total: u64, enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total.max(1)), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent}% simulated, ETA {eta}")
                .expect("static template"),
        );
        let secs = std::env::var("NITROSIM_PROGRESS_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(LINE_EVERY_SECS);
        let now = Instant::now();
        Progress {
            bar,
            started: now,
            shown: AtomicBool::new(false),
            enabled,
            lines: !std::io::stderr().is_terminal(),
            line_every: Duration::from_secs_f64(secs),
            total_us: total.max(1),
            done_us: AtomicU64::new(0),
            events: AtomicU64::new(0),
            last_line: Mutex::new(now),
        }
    }

    /// Simulated time advanced by `delta_us` (over all variants) and `events` more processed.
    pub fn advance_with(&self, delta_us: u64, events: u64) {
        self.events.fetch_add(events, Ordering::Relaxed);
        self.advance(delta_us);
    }

    pub fn advance(&self, delta_us: u64) {
        let done = self.done_us.fetch_add(delta_us, Ordering::Relaxed) + delta_us;
        if !self.enabled {
            return;
        }
        if self.lines {
            let mut last = match self.last_line.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            if last.elapsed() >= self.line_every {
                *last = Instant::now();
                eprintln!("{}", self.line(done));
            }
            return;
        }
        self.bar.inc(delta_us);
        if !self.shown.load(Ordering::Relaxed) && self.started.elapsed() > SHOW_AFTER {
            self.shown.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// "progress: 12.0 of 100.0 ms simulated (12%), 1.52 M events/s, 41 s elapsed, ETA 5m 01s".
    fn line(&self, done_us: u64) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let frac = (done_us as f64 / self.total_us as f64).min(1.0);
        let eta = if frac > 0.0 { secs * (1.0 - frac) / frac } else { f64::INFINITY };
        let eta = if eta.is_finite() {
            let e = eta.round() as u64;
            if e >= 60 { format!("{}m {:02}s", e / 60, e % 60) } else { format!("{e} s") }
        } else {
            "unknown".into()
        };
        format!(
            "progress: {:.1} of {:.1} ms simulated ({:.0}%), {:.2} M events/s, {:.0} s elapsed, ETA {eta}",
            done_us as f64 / 1000.0,
            self.total_us as f64 / 1000.0,
            frac * 100.0,
            self.events.load(Ordering::Relaxed) as f64 / secs / 1e6,
            secs
        )
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    pub fn wall_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Wall-clock timing for the user's information (run summaries, `nitrosim bench`); never an
/// input to the simulation.
pub struct Stopwatch(Instant);

impl Stopwatch {
    pub fn start() -> Self {
        Stopwatch(Instant::now())
    }
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Seconds the calling thread has spent on a CPU (Linux: `/proc/thread-self/schedstat`, in ns),
/// or `None` elsewhere. On a shared machine it is the steadier measure of a run's cost: wall
/// time also counts the time other processes held the core.
pub fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// What the kernel has done for the calling thread so far (Linux `getrusage(RUSAGE_THREAD)`), or
/// `None` elsewhere. During a run nearly all of it is page faults on memory touched for the first
/// time (the kernel zeroes each new page, and on a VM whose host has taken the memory back, waits
/// for it); releasing the model's memory as the run ends counts too, but little. A cost of
/// memory, not of the simulation's code: `nitrosim bench` reports it so that a reader can tell
/// the two apart. Linux splits a thread's CPU time into user and system time by sampling at its
/// tick rate, and the run time it splits is brought up to date only at ticks and switches, so
/// below a few ticks (tens of ms) the figure is noise and may even exceed the wall time.
pub fn thread_kernel_work() -> Option<KernelWork> {
    #[cfg(target_os = "linux")]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `getrusage` writes a whole `rusage` into the buffer it is given, which is one,
        // and reads nothing from it.
        if unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: the call succeeded, so it wrote the struct (and `zeroed` left no byte unset).
        let usage = unsafe { usage.assume_init() };
        let system_seconds = usage.ru_stime.tv_sec as f64 + usage.ru_stime.tv_usec as f64 / 1e6;
        Some(KernelWork { system_seconds, page_faults: (usage.ru_minflt + usage.ru_majflt) as u64 })
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// See [`thread_kernel_work`].
#[derive(Clone, Copy, Debug)]
pub struct KernelWork {
    /// CPU seconds spent in the kernel on the thread's behalf.
    pub system_seconds: f64,
    /// Page faults taken (minor and major): about one per 4 KiB or 2 MiB page touched first.
    pub page_faults: u64,
}

impl KernelWork {
    /// What happened between `self` and the later reading `after`.
    pub fn until(self, after: KernelWork) -> KernelWork {
        debug_assert!(after.page_faults >= self.page_faults, "readings in the wrong order");
        KernelWork {
            system_seconds: (after.system_seconds - self.system_seconds).max(0.0),
            page_faults: after.page_faults.saturating_sub(self.page_faults),
        }
    }
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`), if the platform tells.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn touching_new_memory_shows_as_the_threads_page_faults() {
        let before = thread_kernel_work().expect("getrusage on Linux");
        // 64 MiB written for the first time: at least one fault whatever the page size (32
        // faults with 2 MiB pages, 16 384 with 4 KiB ones).
        let mut memory = vec![0u8; 64 << 20];
        for k in (0..memory.len()).step_by(4096) {
            memory[k] = 1;
        }
        std::hint::black_box(&memory);
        let after = thread_kernel_work().expect("getrusage on Linux");
        let run = before.until(after);
        assert!(run.page_faults >= 1, "{before:?} -> {after:?}");
    }
}
