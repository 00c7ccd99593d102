//! Differential conformance: the same TCP situations on the real Linux kernel (network
//! namespaces on this machine) and in nitrosim, compared quantity by quantity with a stated
//! tolerance. See tests/linux/README.md. Prints one table; every row must pass.
//!
//! Needs root (namespaces, veths, `ip rule`, `tc`). Elsewhere it prints `SKIPPED: <reason>`;
//! under CI=true that is a failure.

mod common;
#[path = "linux/kernel_cases.rs"]
mod kernel_cases;
#[path = "linux/lab.rs"]
mod lab;
#[path = "linux/sim_path.rs"]
mod sim_path;

use common::*;
use kernel_cases::*;
use lab::*;
use nitrosim::model::VariantResult;
use nitrosim::transport::tcp::RxTruesize;
use nitrosim::transport::{Outbox, Tcp, TcpConfig, Transport};
use nitrosim::units::{SimDuration, SimTime};
use sim_path::*;
use std::time::Duration;

const BLACKHOLE: &str = include_str!("../scenarios/pmtud-blackhole.ron");
const BLOCKED: &str = r#"[{\"rule\": 100, \"protocol\": \"tcp\", \"ports\": \"1024-65535\", \"action\": \"allow\"}]"#;

/// The bulk-receiver case: a rate the reading thread keeps up with on two shared cores (at
/// 1 Gbit/s it lags, and Linux's window and ACKs then follow the scheduler: see
/// tests/linux/README.md), a tbf queue deep enough never to drop (the receive window limits the
/// flow, so the window is DRS's), reads of up to 4 MiB, 1.5 s of data; `RX_ONE_WAY_US`, the
/// one-way delay nitrosim uses only when no kernel run measured the path's RTT (veth +
/// forwarding is a few tens of microseconds per round trip).
const RX_RATE_BPS: u64 = 200_000_000;
const RX_QUEUE_BYTES: u64 = 8 << 20;
const RX_READ_BYTES: usize = 4 << 20;
const RX_BYTES: usize = 37_500_000;
const RX_ONE_WAY_US: u64 = 15;
const RX_RUNS: usize = 3;
/// Reno, not CUBIC: the case is about the receiver, and CUBIC's HyStart made the kernel's sender
/// vary from run to run (on 2026-12-01 it left slow start anywhere from 82 to 171 segments, and
/// the window at steady state ranged 0.57-3.0 MB in one set of three runs, 3.8-4.0 MB the day
/// before). Reno (the kernel's built-in `reno`, nitrosim's NewReno) leaves slow start only on a
/// loss, and the 8 MB queue takes none: the window grows as fast as DRS lets it.
const RX_CONGESTION: CongestionKind = CongestionKind::NewReno;
/// The slow-start case: delay added by the forwarder, bottleneck rate, bytes sent.
const HY_DELAY_MS: u64 = 40;
const HY_RATE_BPS: u64 = 100_000_000;
/// 16 MB: long enough for the receive window to reach its ceiling even when the machine's other
/// work slows the kernel's autotuning (with 8 MB, a CI run ended all five runs 5.1% short of it).
const HY_BYTES: u64 = 16_000_000;
/// Window-limited on the slow-start case's delayed path: the receiver's buffer set (`tcp_rmem`
/// 4096 B B: it starts at its ceiling), its window B x scaling_ratio / 256 (the forwarder's 160)
/// less the share of the segment still queued when its ACK leaves: 35 435 B, 24 whole segments of
/// 1448 B, and 33 872 B, 23. The receiver ACKs every second segment, so with an odd window each
/// pair's second segment waits for the next pair (validation/window-limit.ron).
const WL_CASES: &[(&str, u64)] = &[
    ("window-limited, tcp_rmem 59000 (24 segments), 40 ms RTT", 59_000),
    ("window-limited, tcp_rmem 56500 (23 segments), 40 ms RTT", 56_500),
];
/// Kernel runs per window-limited case, one after the other; each quantity's median over them
/// is the reference. On an Intel Xeon VM (2026-12-05 evening) the kernel's reader sometimes ran
/// before an ACK left, and the window the sender saw most was then the buffer's whole share
/// (36 992 B with 59 000, in three of ten single runs) rather than the share less the segment
/// still queued (35 456, every run on the EPYC VMs; nitrosim's case): one such run no longer
/// decides the row.
const WL_RUNS: usize = 3;
/// Bytes each window-limited run sends, and the span of acknowledged bytes its rate is read over
/// (after slow start, before the end).
const WL_BYTES: u64 = 2_500_000;
/// The hole-near-the-tail case: a flight of 4 full segments at MTU 1500, the 3rd lost, through
/// the forwarder's 2 ms (one way: the RTT), sent 20 ms after the handshake; 300 ms to finish
/// (the RTO would fire at ~210 ms if nothing repaired the hole).
const HOLE_SEGMENTS: u64 = 4;
const HOLE_INDEX: usize = 3;
/// The kernel's MSS at MTU 1500 with timestamps (1500 - 20 - 20 - 12).
const HOLE_MSS: u64 = 1448;
const HOLE_DELAY_MS: u64 = 2;
const HOLE_SETTLE: Duration = Duration::from_millis(20);
const HOLE_WAIT: Duration = Duration::from_millis(300);
const WL_FROM_BYTES: u64 = 500_000;
const WL_TO_BYTES: u64 = 2_000_000;
/// The request/response case: the flagship's sizes (scenarios/ena-vs-express.ron: 2 KiB up,
/// 16 KiB down), one connection, `RPC_EXCHANGES` exchanges in a closed loop over the plain path
/// (no bottleneck, one segment per packet at both ends), `RPC_RUNS` runs one after the other at
/// each MTU; the medians are compared. Thirty exchanges: the first is acknowledged segment by
/// segment (the 16 quick ACKs after the handshake, before either end has answered anything),
/// the rest as pingpong mode has it.
const RPC_REQUEST_BYTES: usize = 2048;
const RPC_RESPONSE_BYTES: usize = 16384;
const RPC_EXCHANGES: usize = 30;
const RPC_RUNS: usize = 3;
/// Per MTU: the case's name, and the tolerances on the client's and the server's bare segments.
/// At 1500 (2 + 12 segments an exchange) the client's count depends on when the kernel's reader
/// runs, which nitrosim does not model (its application reads the moment data arrives): an ACK
/// that would shrink the window waits for the read (`__tcp_ack_snd_check`), and segments that
/// arrive while the reader holds the socket wait in its backlog. On the EPYC VMs the kernel gave
/// 178-186 (sixteen runs, 2026-12-05); on an Intel Xeon at 2.6 GHz, 159-175 (twelve runs, the
/// same evening), and a Python client there, a slower reader, about 128 with a single backlog
/// coalescing (`TcpExtTCPBacklogCoalesce` 1). 5%, set from the first machine's runs, failed the
/// second's in every attempt; 20% holds both and still fails what the row is for: without
/// pingpong mode nitrosim sent 347, and an ACK a segment would be about 360. The server's count
/// is exact: its spread in those runs
/// (29-31) was the measurement's (its first count taken after the first request could be
/// acknowledged), and since that was mended every run has given 31 (sixteen on 2026-12-05). At
/// 8900, the flagship's MTU
/// (1 + 2 segments: the request's ACK rides on the reply, and two response segments merged are
/// still more than one MSS, acknowledged at once), both exact: thirteen runs at 9001, the same
/// segment counts, and three at 8900 gave 31 and 1 in every one.
const RPC_CASES: &[(&str, u32, f64, f64)] = &[
    ("request/response, MTU 1500, 2 KiB / 16 KiB, 30 exchanges", 1500, 0.2, 0.0),
    ("request/response, MTU 8900, 2 KiB / 16 KiB, 30 exchanges", 8900, 0.0, 0.0),
];
/// Times the kernel's side is measured at most: a row fails the test only if it fails in every
/// attempt (nitrosim's side is deterministic, so a model that disagrees with the kernel does).
/// Three, not two: on 2026-12-01, in a slow hour, two of five clean-clone CI runs failed the
/// slow-start rows in both attempts with nitrosim's figures unchanged (tests/linux/README.md).
/// The window row's failure is met since by its reference (the earliest agreeing run); the exit
/// rows' is not: there the kernel's agreeing runs were themselves disturbed ones (groups mixed,
/// or late exits agreeing first), which only another measurement can set right. A third attempt
/// runs only when the first two failed, so a quiet run takes no longer.
const ATTEMPTS: usize = 3;
/// Kernel runs of the slow-start case: at least `HY_RUNS`, and more, up to `HY_RUNS_MAX`, until
/// `HY_AGREE` of those HyStart's ACK-train test ended (`train_exit`) left slow start within
/// `HY_AGREE_S` of each other (`agreeing_runs`).
///
/// Thirty, not fifteen: in a clean-clone CI run started 2026-12-01 at 19:36 the forwarder ran
/// 5-57 ms late in every run, 10 or more of each attempt's 15 runs left by the delay test, and the
/// train exits (4 and 5) held only 2 within 5 ms of each other, so the rows failed twice with no
/// reference at all. A run takes ~2 s (16 MB at 100 Mbit/s and its set-up).
const HY_RUNS: usize = 5;
const HY_RUNS_MAX: usize = 30;
const HY_AGREE: usize = 3;
/// An eighth of the round trip: undisturbed runs exit at the same ACK of the same round,
/// 0.2625-0.2663 s after the first data in the runs of 2026-12-01; a round later is 40 ms on.
const HY_AGREE_S: f64 = 0.005;

/// One kernel run of the bulk receiver: largest window in the first second, at steady state,
/// data segments per ACK (the median ACK), the receiver's scaling_ratio.
type RxRun = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

/// The median (the mean of the middle two of an even count), or None for none.
fn median_of(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// When a kernel run's sender left slow start (its ssthresh became finite): seconds after the
/// first data, that ssthresh (segments), retransmissions by then.
fn kernel_exit(u: &Upload) -> Option<(f64, u32, u32)> {
    const INFINITE_SSTHRESH: u32 = 0x7fff_ffff;
    u.samples
        .iter()
        .find(|(_, i)| i.snd_ssthresh < INFINITE_SSTHRESH)
        .map(|(t, i)| ((*t - u.started).as_secs_f64(), i.snd_ssthresh, i.total_retrans))
}

/// One kernel run of a window-limited case.
struct WlRun {
    up: Upload,
    forwarder_late_max: Duration,
    /// The server's ACKs, as `AckCapture` saw them.
    acks: Result<Vec<u32>, String>,
}

/// One kernel run of the slow-start case: the upload, the server, how late the forwarder ran at
/// worst, and how the kernel says HyStart ended slow start in the client's namespace (its
/// `TCPHystartTrainDetect` and `TCPHystartDelayDetect` counters).
struct HyRun {
    up: Upload,
    srv: ServerView,
    forwarder_late_max: Duration,
    train_detect: Option<u64>,
    delay_detect: Option<u64>,
}

/// A slow-start run's exit, if the kernel says HyStart's ACK-train test ended it (and not its
/// delay test). On a quiet path that is how Linux leaves slow start here; a stall of a few
/// milliseconds breaks the train, and the sender then leaves rounds later by the delay test
/// (0.30-0.43 s, 650-1320 segments on 2026-12-01), and such late exits can cluster (three within
/// 5 ms in one attempt), so agreement alone does not set them apart.
fn train_exit(run: &HyRun) -> Option<(f64, u32, u32)> {
    (run.left_by() == "train").then(|| kernel_exit(&run.up)).flatten()
}

impl HyRun {
    /// Which of HyStart's tests the kernel counted as ending slow start: "train", "delay",
    /// "neither", or "?" (counters missing or both counted).
    fn left_by(&self) -> &'static str {
        match (self.train_detect, self.delay_detect) {
            (Some(1), Some(0)) => "train",
            (Some(0), Some(1)) => "delay",
            (Some(0), Some(0)) => "neither",
            _ => "?",
        }
    }
}

/// The runs whose exits agree: of the runs that left slow start without a retransmission (a
/// loss before the exit makes it the loss's, not HyStart's), the largest set within
/// `HY_AGREE_S` of each other (the earliest such set on a tie), in order of exit time. The
/// kernel's HyStart is deterministic on a quiet path; what this machine does to a run (a stall
/// of a few milliseconds in the forwarder or on the ACK path breaks an ACK train or fakes a
/// delay increase) moves its exit anywhere from 58 to 1321 segments, so disturbed runs scatter
/// while undisturbed ones coincide.
fn agreeing_runs(exits: &[Option<(f64, u32, u32)>]) -> Vec<usize> {
    let mut by_time: Vec<usize> = (0..exits.len()).filter(|&i| exits[i].is_some_and(|e| e.2 == 0)).collect();
    let t = |i: usize| exits[i].map_or(0.0, |e| e.0);
    by_time.sort_by(|&a, &b| t(a).total_cmp(&t(b)));
    let mut best = 0..0;
    let mut from = 0;
    for to in 0..by_time.len() {
        while t(by_time[to]) - t(by_time[from]) > HY_AGREE_S {
            from += 1;
        }
        if to + 1 - from > best.len() {
            best = from..to + 1;
        }
    }
    by_time[best].to_vec()
}

/// Data segments an ACK acknowledges, the median over the ACKs that acknowledge new data:
/// `advances` are the bytes each ACK moved the cumulative acknowledgement by. The median, not
/// the mean: a Linux receiver whose reader is late merges ACKs (`__tcp_ack_snd_check` waits for
/// the read when the window would shrink), so the mean follows the machine's load (2.3-4.0 in a
/// clean CI run on 2026-12-01), while the median ACK shows the policy (every second segment).
fn median_segments_per_ack(advances: &[u64], mss: u64) -> Option<f64> {
    if mss == 0 {
        return None;
    }
    median_of(advances.iter().filter(|&&b| b > 0).map(|&b| b as f64 / mss as f64).collect())
}

/// The ACKs that acknowledge new data by how many segments' worth they cover: up to 1, 2, 3,
/// more.
fn ack_tally(advances: &[u64], mss: u64) -> [usize; 4] {
    let mut by = [0; 4];
    for &b in advances.iter().filter(|&&b| b > 0) {
        by[(b.div_ceil(mss.max(1)) as usize).clamp(1, 4) - 1] += 1;
    }
    by
}

/// How far each captured ACK moved the kernel's cumulative acknowledgement (sequence numbers
/// wrap; one that went back counts as none).
fn kernel_ack_advances(acks: &[u32]) -> Vec<u64> {
    acks.windows(2).map(|a| (a[1].wrapping_sub(a[0]) as i32).max(0) as u64).collect()
}

struct Row {
    case: &'static str,
    quantity: &'static str,
    linux: Option<f64>,
    sim: Option<f64>,
    /// Absolute tolerance, in the quantity's unit.
    tolerance: f64,
    note: String,
}

impl Row {
    fn pass(&self) -> bool {
        match (self.linux, self.sim) {
            (Some(l), Some(s)) => (l - s).abs() <= self.tolerance,
            _ => false,
        }
    }
}

/// The kernel's side of the delayed path (the slow-start and window-limited cases), before its
/// forwarder: MTU 1500, tbf at 100 Mbit/s, and one segment per packet, as nitrosim sends (GSO
/// would hand the path bursts of up to ~1 ms of data, which the forwarder's tun device splits
/// again).
fn delayed_path_lab() -> Lab {
    let lab = Lab::new(&LabSpec::uniform(1500, Some(HY_RATE_BPS))).expect("lab");
    lab.ip_in(&lab.client, &["link", "set", "dev", "eth0", "gso_max_segs", "1"]).unwrap();
    lab
}

/// nitrosim's side of the delayed path (the slow-start and window-limited cases): the lab's 40 ms
/// round trip split evenly, tbf at 100 Mbit/s with its 512 KB limit, CUBIC, the receiver given
/// the truesize measured through the forwarder and, if set, a fixed buffer.
fn delayed_path(bytes: u64, truesize: Option<(u32, u32)>, receive_buffer: Option<u64>) -> PathSpec {
    PathSpec {
        mtu: 1500,
        rate: nitrosim::units::Bandwidth(HY_RATE_BPS),
        queue_bytes: 512 * 1024,
        one_way: nitrosim::units::SimDuration::from_ms(HY_DELAY_MS / 2),
        bytes,
        limit: nitrosim::units::SimDuration::from_secs(20),
        rx_truesize: truesize.map_or(RxTruesize::Off, payload_plus),
        congestion: CongestionKind::Cubic,
        receive_buffer,
    }
}

/// The value seen most often (the smallest of those tied), if any.
fn most_common(values: impl Iterator<Item = u32>) -> Option<u32> {
    let mut counts = std::collections::BTreeMap::new();
    for v in values {
        *counts.entry(v).or_insert(0u32) += 1;
    }
    counts.iter().max_by_key(|&(v, n)| (*n, std::cmp::Reverse(*v))).map(|(v, _)| *v)
}

/// Mbit/s between the first points whose acknowledged bytes reached `from` and `to`, from
/// (seconds, bytes acknowledged) in time order.
fn rate_mbps(points: &[(f64, u64)], from: u64, to: u64) -> Option<f64> {
    let a = points.iter().find(|p| p.1 >= from)?;
    let b = points.iter().find(|p| p.1 >= to)?;
    (b.0 > a.0).then(|| (b.1 - a.1) as f64 * 8.0 / (b.0 - a.0) / 1e6)
}

fn fmt(v: Option<f64>) -> String {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e9 => format!("{x:.0}"),
        Some(x) => format!("{x:.3}"),
        None => "-".into(),
    }
}

fn events(v: &VariantResult, kind: &str) -> Vec<f64> {
    v.events.iter().filter(|e| e.event == kind).map(|e| e.time_us / 1e6).collect()
}

fn first_drop(v: &VariantResult) -> f64 {
    v.events.iter().find(|e| e.event == "drop").map(|e| e.time_us / 1e6).expect("a drop")
}

/// From a sender's capture, its first send after a silence of a millisecond or more: the
/// silence in ms, and the send's sequence number counted from the first data sent. A flight
/// sent at once, then what a timer sent (a loss probe, a retransmission), when nothing the peer
/// says makes the sender send sooner.
fn first_send_after_silence(sends: &[(std::time::Instant, u32)]) -> Option<(f64, u32)> {
    let first_seq = sends.first()?.1;
    sends.windows(2).find_map(|w| {
        let gap = (w[1].0 - w[0].0).as_secs_f64() * 1000.0;
        (gap >= 1.0).then(|| (gap, w[1].1.wrapping_sub(first_seq)))
    })
}

/// The measured (len, truesize) as nitrosim's driver setting: the payload plus the rest.
fn payload_plus((len, truesize): (u32, u32)) -> RxTruesize {
    RxTruesize::PayloadPlus(truesize.saturating_sub(len).max(1))
}

/// The kernel's scaling_ratio, from window_clamp = sk_rcvbuf x ratio >> 8 (rounded: the shift
/// drops under one unit).
fn kernel_scaling_ratio(i: TcpInfo) -> Option<f64> {
    (i.rcvbuf > 0 && i.window_clamp > 0).then(|| ((i.window_clamp as f64 * 256.0) / i.rcvbuf as f64).ceil())
}

fn truesize_note_rx((len, ts): (u32, u32)) -> String {
    format!("driver truesize measured in the kernel: {ts} B per {len}-byte segment")
}

fn one_variant(name: &str, sets: &str, extra: &[&str]) -> VariantResult {
    let v = format!(r#"variants=[{{"name": "{name}", "set": {{{sets}}}}}]"#);
    let mut all: Vec<&str> = vec![&v];
    all.extend_from_slice(extra);
    let mut s = run_text("pmtud-blackhole.ron", BLACKHOLE, &all);
    s.variants.remove(0)
}

/// A nitrosim handshake on an `mtu` path, as the kernel's bulk cases connect: the window the
/// passive end advertises in its SYN-ACK, and the active end once established (its MSS and its
/// first congestion window, what it will really send with).
fn sim_handshake(mtu: u32) -> (f64, Tcp) {
    let mut c = Tcp::new(TcpConfig::default(), mtu, true);
    let mut s = Tcp::new(TcpConfig::default(), mtu, false);
    let mut out = Outbox::default();
    c.connect(SimTime(0), &mut out);
    let syn = out.segments.clone();
    let mut out = Outbox::default();
    s.on_segment(SimTime(1), &syn[0], &mut out);
    let synack = out.segments[0];
    let mut out = Outbox::default();
    c.on_segment(SimTime(2), &synack, &mut out);
    assert!(c.is_established(), "the SYN-ACK establishes the active end");
    (synack.wnd as f64, c)
}

#[test]
fn linux_conformance() {
    if let Some(reason) = unavailable() {
        common::skip_or_fail(&reason, "run as root on Linux with iproute2, as .ci/run does");
        return;
    }
    let kernel = run("uname", &["-r"]).unwrap_or_default().trim().to_string();
    // Timer rows compare whole jiffies and timer-wheel buckets at the model's HZ: a kernel built
    // with another HZ would be compared with the wrong model, so it is said, not half-matched.
    match kernel_config_hz(&kernel) {
        Ok(hz) => assert_eq!(
            hz,
            nitrosim::transport::tcp::LINUX_HZ as u64,
            "this kernel runs at CONFIG_HZ={hz}; the model (and this suite's timer tolerances) at HZ={}",
            nitrosim::transport::tcp::LINUX_HZ
        ),
        Err(why) => println!("CONFIG_HZ not read ({why}): assuming HZ={}", nitrosim::transport::tcp::LINUX_HZ),
    }
    // The kernel's side varies from run to run on a busy 2-core machine: its receive-buffer
    // autotuning follows how promptly the receiving process is scheduled, and a slowed run can
    // end its transfer before the window has grown (seen 2026-12-01: a steady-state window 5.0%
    // short with 5% allowed; once, the median of three runs at 1.26 MB). So while a row has failed
    // every attempt so far, every kernel case is measured again, up to ATTEMPTS in all, and each
    // table is printed. nitrosim's side is deterministic: a model that disagrees with the kernel
    // fails every time, so a row fails the test when it fails in every attempt. (Seen 2026-12-01
    // in a slow hour: the ACK row failed the first attempt only, the slow-start row, whose kernel
    // runs retransmitted 3 and 7 times, the second only.)
    // An attempt whose kernel side could not be measured at all (a lab that would not come up, a
    // transfer with no data within its time limit: a machine too busy for a moment) panics; it
    // measured no row, so it counts as failing every row and the next attempt runs.
    let mut failed: Option<Vec<String>> = None;
    for attempt in 1..=ATTEMPTS {
        match &failed {
            Some(rows) if rows.is_empty() => break,
            Some(rows) => println!(
                "\nbeyond their tolerance in every attempt so far: {rows:?}: measuring the kernel again (attempt {attempt} of {ATTEMPTS})"
            ),
            None if attempt > 1 => println!("\nno attempt has measured yet: attempt {attempt} of {ATTEMPTS}"),
            None => {}
        }
        match std::panic::catch_unwind(|| compare_once(&kernel)) {
            Ok(again) => match &mut failed {
                Some(rows) => rows.retain(|row| again.contains(row)),
                None => failed = Some(again),
            },
            Err(_) => println!("attempt {attempt} measured nothing (its panic is above): every row counts as failed"),
        }
    }
    let failed = failed.unwrap_or_else(|| panic!("no attempt of {ATTEMPTS} measured the kernel (panics above)"));
    assert!(failed.is_empty(), "rows beyond their tolerance in all {ATTEMPTS} attempts: {failed:?}");
}

/// The running kernel's CONFIG_HZ: from /proc/config.gz where the kernel exposes its
/// configuration, else from /boot/config-RELEASE (Debian's and Ubuntu's kernels), else why not.
fn kernel_config_hz(release: &str) -> Result<u64, String> {
    let boot = format!("/boot/config-{release}");
    let text = match run("zcat", &["/proc/config.gz"]) {
        Ok(text) => text,
        Err(e) => std::fs::read_to_string(&boot).map_err(|b| format!("/proc/config.gz: {e}; {boot}: {b}"))?,
    };
    text.lines()
        .find_map(|l| l.strip_prefix("CONFIG_HZ="))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no CONFIG_HZ line in the kernel's configuration".to_string())
}

/// The kernel side runs with the sysctls the lab writes into every namespace, nitrosim's side
/// with `TcpConfig::default()`: the two must say the same, or a row compares two configurations.
/// (Needs no root: it reads the lab's table and the model's defaults.)
#[test]
fn the_labs_sysctls_are_nitrosims_defaults() {
    let cfg = TcpConfig::default();
    let sysctl = |name: &str| -> Vec<u64> {
        let (_, v) = DEFAULT_SYSCTLS.iter().find(|(n, _)| *n == format!("net/ipv4/{name}")).expect(name);
        v.split_whitespace().map(|x| x.parse().unwrap()).collect()
    };
    let rmem = sysctl("tcp_rmem");
    assert_eq!(rmem[1], cfg.rmem_initial.0, "tcp_rmem[1]: the buffer a connection starts with");
    assert_eq!(rmem[2], cfg.receive_window.0, "tcp_rmem[2]: the receive buffer's ceiling");
    assert_eq!(sysctl("tcp_mtu_probing"), [cfg.mtu_probing as u64]);
    assert_eq!(sysctl("tcp_base_mss"), [cfg.base_mss as u64]);
    assert_eq!(sysctl("tcp_retries1"), [cfg.retries1 as u64]);
    assert_eq!(sysctl("tcp_retries2"), [cfg.retries2 as u64]);
    assert_eq!(sysctl("tcp_syn_retries"), [cfg.syn_retries as u64]);
    assert_eq!(sysctl("tcp_early_retrans"), [cfg.early_retrans as u64]);
    assert_eq!(sysctl("tcp_sack"), [cfg.sack as u64]);
}

/// A case's server whose client never connects (a connect() that failed in its namespace)
/// gives up with an error instead of waiting in accept() for good; one that connects is
/// accepted as before, its socket blocking. (Needs no root: loopback in the test's namespace.)
#[test]
fn a_case_server_gives_up_on_a_client_that_never_connects() {
    use std::os::fd::AsRawFd;
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    let limit = Duration::from_millis(100);
    let t0 = std::time::Instant::now();
    let e = accept_within(&l, limit).expect_err("nobody connected");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    assert!(t0.elapsed() >= limit, "gave up after {:?}, before {limit:?}", t0.elapsed());
    let client = std::net::TcpStream::connect(l.local_addr().unwrap()).expect("connect on loopback");
    let (accepted, peer) = accept_within(&l, Duration::from_secs(10)).expect("a queued connection");
    assert_eq!(peer, client.local_addr().unwrap());
    let flags = unsafe { libc::fcntl(accepted.as_raw_fd(), libc::F_GETFL) };
    assert_eq!(flags & libc::O_NONBLOCK, 0, "the accepted socket blocks");
}

#[test]
fn agreeing_runs_are_the_densest_cluster_of_exits() {
    // The first attempt of a clean-clone run on 2026-12-01 (s after the first data), two more
    // undisturbed runs added: the cluster at 0.264 s, not the pair a round later.
    let exits: Vec<Option<(f64, u32, u32)>> = [0.3047, 0.4189, 0.3582, 0.3084, 0.2642, 0.2655, 0.2661]
        .iter()
        .map(|&t| Some((t, 0, 0)))
        .chain([None, Some((0.2601, 333, 1))])
        .collect();
    // The last run exited in the window too, but on a loss (one retransmission): not counted.
    assert_eq!(agreeing_runs(&exits), vec![4, 5, 6]);
    // Without them, the two disturbed runs a round later agree with each other: why it takes
    // three (HY_AGREE).
    assert_eq!(agreeing_runs(&exits[..4]), vec![0, 3]);
    // Nothing agrees: one run (the earliest), never an empty set while any run exited.
    assert_eq!(agreeing_runs(&exits[1..3]), vec![1]);
    assert_eq!(agreeing_runs(&[None, None]), Vec::<usize>::new());
    // A tie goes to the earlier cluster.
    let tie: Vec<_> = [0.30, 0.301, 0.26, 0.262].iter().map(|&t| Some((t, 0, 0))).collect();
    assert_eq!(agreeing_runs(&tie), vec![2, 3]);
    // Each reference is a median over the agreeing runs: of an even count, the middle two's mean.
    assert_eq!(median_of(vec![531.0, 486.0, 484.0]), Some(486.0));
    assert_eq!(median_of(vec![531.0, 486.0, 484.0, 533.0]), Some(508.5));
    assert_eq!(median_of(Vec::new()), None);
}

/// Measure every case in the kernel and in nitrosim, print the table; the rows beyond tolerance
/// ("case: quantity").
fn compare_once(kernel: &str) -> Vec<String> {
    // --- the kernel side: every case in its own namespaces, all at once ---
    let jumbo_blackhole = || LabSpec { mtu_client_side: 9001, mtu_server_side: 1500, server_mtu: 9001, rate_bps: None };

    // Black hole, probing off, tcp_retries2 = 5: the RTO timeline and the abort.
    let off = Lab::new(&jumbo_blackhole()).expect("lab");
    block_icmp_from_router(&off).unwrap();
    off.sysctl(&off.client, "net/ipv4/tcp_retries2", "5").unwrap();
    let off_srv = sink_server(&off);
    let off_sends = SendCapture::start(&off.client, "eth0", SERVER_PORT).expect("send capture");
    let off_up = upload(&off, 4_000_000, Duration::from_secs(40));

    // Black hole, probing on.
    let on = Lab::new(&jumbo_blackhole()).expect("lab");
    block_icmp_from_router(&on).unwrap();
    on.sysctl(&on.client, "net/ipv4/tcp_mtu_probing", "1").unwrap();
    let on_srv = sink_server(&on);
    let on_up = upload(&on, 4_000_000, Duration::from_secs(40));

    // ICMP allowed: PMTUD.
    let ok = Lab::new(&jumbo_blackhole()).expect("lab");
    let ok_srv = sink_server(&ok);
    let ok_up = upload(&ok, 4_000_000, Duration::from_secs(20));

    // MSS clamping: the server's route advertises 1460 (what a clamping VPN rewrites the option to).
    let cl = Lab::new(&jumbo_blackhole()).expect("lab");
    block_icmp_from_router(&cl).unwrap();
    cl.ip_in(&cl.server, &["route", "replace", "default", "via", ROUTER_SERVER_SIDE, "advmss", "1460"]).unwrap();
    let cl_srv = sink_server(&cl);
    let cl_up = upload(&cl, 4_000_000, Duration::from_secs(20));

    // SYN to a dead host, tcp_syn_retries = 3.
    let dead = Lab::new(&LabSpec::uniform(1500, None)).expect("lab");
    dead.sysctl(&dead.client, "net/ipv4/tcp_syn_retries", "3").unwrap();
    // A blackhole route drops silently (an unreachable route or a down link would answer by ICMP).
    dead.ip_in(&dead.router, &["route", "add", "blackhole", &format!("{SERVER_ADDR}/32")]).unwrap();
    let dead_conn = connect_to_dead(&dead);

    let off_up = off_up.join().expect("upload thread");
    let off_sends = off_sends.finish().expect("send capture");
    let on_up = on_up.join().expect("upload thread");
    let ok_up = ok_up.join().expect("upload thread");
    let cl_up = cl_up.join().expect("upload thread");
    let (dead_secs, dead_err) = dead_conn.join().expect("connect thread");
    // RTOs the PMTUD client's kernel took, from its namespace's own counter (tcp_retransmit_timer
    // counts each in TcpExt TCPTimeouts). Not TCP_INFO's backoff: a valid RTT sample resets that
    // to 0, so after a finished transfer it reads 0 however many RTOs there were.
    let ok_rtos = ok.tcp_ext(&ok.client, "TCPTimeouts").map_err(|e| println!("{e}")).ok();
    drop((off, on, ok, cl, dead));
    for h in [off_srv, on_srv, ok_srv, cl_srv] {
        let _ = h.join();
    }

    // Bytes per segment, the advertised window and the initial cwnd at MTU 1500 and 9001, 1 Gbit/s
    // bottleneck: read at the handshake, so a short upload will do. Run after the timing cases,
    // one at a time, so that their traffic does not share the two cores with the timers above.
    let mut bulk = Vec::new();
    for mtu in [1500u32, 9001] {
        let lab = Lab::new(&LabSpec::uniform(mtu, Some(1_000_000_000))).expect("lab");
        let srv = sink_server(&lab);
        let up = upload(&lab, 4_000_000, Duration::from_secs(20)).join().expect("upload");
        let _ = srv.join();
        bulk.push((mtu, up));
    }

    // Request/response, after the timing cases: what each end sends bare.
    let mut rpc_runs: Vec<Vec<RpcExchange>> = Vec::new();
    for &(_, mtu, ..) in RPC_CASES {
        let mut runs = Vec::new();
        for _ in 0..RPC_RUNS {
            let lab = Lab::new(&LabSpec::uniform(mtu, None)).expect("lab");
            for ns in [&lab.client, &lab.server] {
                lab.ip_in(ns, &["link", "set", "dev", "eth0", "gso_max_segs", "1"]).unwrap();
            }
            runs.push(rpc_exchange(&lab, RPC_EXCHANGES, RPC_REQUEST_BYTES, RPC_RESPONSE_BYTES));
        }
        rpc_runs.push(runs);
    }

    // Run alone, after the timing cases. A bulk receiver's window and ACKs: 200 Mbit/s, MTU 1500,
    // one segment per packet (GSO off at the sender, so each ACK answers real segments).
    // RX_RUNS runs one after the other; each quantity's median is the reference (a run the
    // machine's other work disturbs, whose reader falls behind, does not move it).
    let mut rx_runs: Vec<(Upload, ServerView, Result<Vec<u32>, String>)> = Vec::new();
    let mut rx_truesize: Option<(u32, u32)> = None;
    for _ in 0..RX_RUNS {
        let rx = Lab::new(&LabSpec::uniform(1500, Some(RX_RATE_BPS))).expect("lab");
        let (rate, limit) = (format!("{RX_RATE_BPS}bit"), format!("{RX_QUEUE_BYTES}b"));
        rx.tc(
            &rx.router,
            &["qdisc", "replace", "dev", "rs", "root", "tbf", "rate", &rate, "burst", "64kb", "limit", &limit],
        )
        .unwrap();
        rx.ip_in(&rx.client, &["link", "set", "dev", "eth0", "gso_max_segs", "1"]).unwrap();
        // What the server's kernel charges per full-sized segment on this path: the nitrosim
        // receiver is given the same driver figure.
        if rx_truesize.is_none() {
            rx_truesize = Some(measure_rx_truesize(&rx).expect("truesize on the bulk path"));
        }
        let capture = AckCapture::start(&rx.server, "eth0", SERVER_PORT).expect("ACK capture");
        let srv = sink_server_reading(&rx, RX_READ_BYTES);
        let up = upload_with(&rx, RX_BYTES, Duration::from_secs(20), RX_CONGESTION).join().expect("upload thread");
        let view = srv.join().expect("server thread");
        // An incomplete capture leaves the run without a figure (printed): the row then fails.
        let acks = capture.finish();
        drop(rx);
        rx_runs.push((up, view, acks));
    }
    let rx_truesize = rx_truesize.expect("truesize on the bulk path");

    // Slow-start exit on a delayed path: 40 ms one way in a userspace forwarder (no netem),
    // then 100 Mbit/s (a rate the forwarder keeps up with on a loaded 2-core machine). Run alone
    // (after every other case), one run after the other until HY_AGREE runs that left by
    // HyStart's ACK train agree (at least HY_RUNS runs, at most HY_RUNS_MAX); each reference is
    // the median over the agreeing runs, and every run is printed with how it left and how late
    // its forwarder ran at worst.
    let mut hy_runs: Vec<HyRun> = Vec::new();
    let mut hy_truesize: Option<(u32, u32)> = None;
    while hy_runs.len() < HY_RUNS
        || (hy_runs.len() < HY_RUNS_MAX
            && agreeing_runs(&hy_runs.iter().map(train_exit).collect::<Vec<_>>()).len() < HY_AGREE)
    {
        let hy = delayed_path_lab();
        match DelayForwarder::start(&hy, Duration::from_millis(HY_DELAY_MS)) {
            Ok(fwd) => {
                if hy_truesize.is_none() {
                    // Through the forwarder: the server receives skbs the tun device built.
                    hy_truesize = Some(measure_rx_truesize(&hy).expect("truesize on the delayed path"));
                }
                let srv = sink_server(&hy);
                let up = upload(&hy, HY_BYTES as usize, Duration::from_secs(20)).join().expect("upload thread");
                let view = srv.join().expect("server thread");
                let forwarder_late_max = fwd.finish();
                let counter = |name| hy.tcp_ext(&hy.client, name).map_err(|e| println!("{e}")).ok();
                hy_runs.push(HyRun {
                    up,
                    srv: view,
                    forwarder_late_max,
                    train_detect: counter("TCPHystartTrainDetect"),
                    delay_detect: counter("TCPHystartDelayDetect"),
                });
            }
            Err(e) => {
                println!("delay forwarder: {e}");
                break;
            }
        }
    }

    // A hole near the tail, on its own: the forwarder's delay makes the RTT, and it drops one
    // segment of the flight.
    let hole_lab = Lab::new(&LabSpec::uniform(1500, None)).expect("lab");
    let hole_run =
        match DelayForwarder::start_dropping(&hole_lab, Duration::from_millis(HOLE_DELAY_MS), Some(HOLE_INDEX)) {
            Ok(fwd) => {
                let sends =
                    hole_near_tail(&hole_lab, HOLE_SEGMENTS as usize, HOLE_MSS as usize, HOLE_SETTLE, HOLE_WAIT);
                Some((sends, fwd.finish()))
            }
            Err(e) => {
                println!("delay forwarder: {e}");
                None
            }
        };
    drop(hole_lab);

    // Window-limited on the same delayed path, WL_RUNS runs per window, after everything else.
    let mut wl_runs: Vec<Vec<WlRun>> = Vec::new();
    for &(_, rmem) in WL_CASES {
        let mut runs = Vec::new();
        for _ in 0..WL_RUNS {
            let lab = delayed_path_lab();
            lab.sysctl(&lab.server, "net/ipv4/tcp_rmem", &format!("4096 {rmem} {rmem}")).unwrap();
            match DelayForwarder::start(&lab, Duration::from_millis(HY_DELAY_MS)) {
                Ok(fwd) => {
                    let capture = AckCapture::start(&lab.server, "eth0", SERVER_PORT).expect("ACK capture");
                    let srv = sink_server(&lab);
                    let up = upload(&lab, WL_BYTES as usize, Duration::from_secs(20)).join().expect("upload thread");
                    let _ = srv.join();
                    runs.push(WlRun { up, forwarder_late_max: fwd.finish(), acks: capture.finish() });
                }
                Err(e) => println!("delay forwarder: {e}"),
            }
        }
        wl_runs.push(runs);
    }

    // --- nitrosim, the same situations ---
    let sim_off = one_variant(
        "blocked-retries2",
        &format!(r#""network_acls.client-acl.inbound": "{BLOCKED}", "tcp.retries2": "5""#),
        &["duration=20s"],
    );
    let sim_on = one_variant(
        "blocked-probing",
        &format!(r#""network_acls.client-acl.inbound": "{BLOCKED}", "tcp.mtu_probing": "1""#),
        &[],
    );
    let sim_ok = one_variant("icmp-allowed", "", &[]);
    let sim_cl = one_variant(
        "mss-clamping",
        &format!(r#""network_acls.client-acl.inbound": "{BLOCKED}", "gateways.vpn.mss_clamp": "1460""#),
        &[],
    );
    let sim_syn = one_variant(
        "syn-dead",
        r#""network_acls.client-acl.inbound": "[]", "tcp.syn_retries": "3""#,
        &["duration=40s"],
    );

    let mut rows = Vec::new();
    // RTO timeline (the black hole makes every full-size segment vanish: a peer gone for data).
    let l = off_up.retransmission_times();
    let s0 = first_drop(&sim_off);
    let s_tlp: Vec<f64> = events(&sim_off, "loss_probe").iter().map(|t| t - s0).collect();
    let s_rto: Vec<f64> = events(&sim_off, "rto").iter().map(|t| t - s0).collect();
    let lin = |i: usize| l.get(i).copied();
    // Timing tolerance: 3% of the kernel's figure plus two jiffies (HZ=250) and the ~1 ms sampling.
    let rel = |x: Option<f64>| ((x.unwrap_or(0.0) * 0.03 + 0.009) * 1000.0).round() / 1000.0;
    // An event a long timer fires lands on a timer-wheel bucket boundary counted in absolute
    // jiffies (64 buckets of 8^level jiffies; see nitrosim::transport::linux_timer_expiry): the
    // kernel's jiffies phase is arbitrary, nitrosim's starts at 0, so the two can differ by up to
    // one bucket (64 jiffies = 256 ms for the 5th RTO's ~3.5 s at HZ=250).
    let wheel_bucket = |delay_s: f64| {
        let hz = nitrosim::transport::tcp::LINUX_HZ as f64;
        let jiffies = (delay_s * hz).ceil() as u64;
        let mut shift = 0;
        while shift < 24 && jiffies >= 64 << shift {
            shift += 3;
        }
        (1u64 << shift) as f64 / hz
    };
    let last_rto_delay = match (lin(4), lin(5)) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    let after_wheel = |x: Option<f64>| rel(x).max(((wheel_bucket(last_rto_delay) + 0.009) * 1000.0).round() / 1000.0);
    rows.push(Row {
        case: "RTO timeline (data lost)",
        quantity: "tail loss probe (s)",
        linux: lin(0),
        sim: s_tlp.first().copied(),
        // As every timing row: 3% + 9 ms, read through ~1 ms TCP_INFO polling from when
        // connect() returned (6-9 ms here). The next row times the probe from a capture.
        tolerance: rel(lin(0)),
        note: String::new(),
    });
    // The probe's delay from the send it follows, from a capture of what the client sent (the
    // first send after a silence of a millisecond or more, against the one before it), and in
    // nitrosim from the last drop at the black hole before the probe (a drop follows its send by
    // microseconds). Linux 6.18 arms 2 x SRTT + 2 ms rounded up to whole jiffies on the timer
    // wheel, which fires a bucket later than that jiffy: 4-8 ms after the send at HZ=250 with an
    // RTT of microseconds, where the send's phase in its jiffy decides; the formula before
    // 2023 (two jiffies added after the rounding) would give 12-16 ms. nitrosim's jiffies start
    // at time 0 and the kernel's phase is arbitrary, so the two may differ by up to a jiffy;
    // 0.5 ms more for the capture thread's wake-up and the softirq that sends the probe. So the
    // row cannot tell nitrosim's flat 8 ms of before (8.372 ms here) from the wheel's 4-8 ms;
    // the kernel's figures tell its two formulas apart (tests/linux/README.md).
    let l_gap = first_send_after_silence(&off_sends).map(|(gap, _)| gap);
    let s_gap = s_tlp.first().map(|&probe| {
        let before = events(&sim_off, "drop").into_iter().map(|t| t - s0).filter(|&t| t < probe).fold(0.0, f64::max);
        (probe - before) * 1000.0
    });
    let jiffy_ms = 1000.0 / nitrosim::transport::tcp::LINUX_HZ as f64;
    rows.push(Row {
        case: "RTO timeline (data lost)",
        quantity: "tail loss probe after the last send (ms)",
        linux: l_gap,
        sim: s_gap,
        tolerance: jiffy_ms + 0.5,
        note: String::new(),
    });
    // A hole in the second-to-last segment: one duplicate ACK, with a SACK, reaches the sender,
    // too few for the duplicate-ACK rule. Linux's RACK (tcp_rack_detect_loss) finds the hole's
    // segment sent a reordering window (min RTT / 4) too recently to call lost, and arms its
    // timer for what is left of the window + TCP_TIMEOUT_MIN_US, in whole jiffies, on the wheel
    // (tcp_rack_mark_lost): 4-8 ms after the SACK at HZ=250, so an RTT + 4-8 ms after the last
    // send. The kernel's from a capture of the client (its first send after a silence of a
    // millisecond or more), which must be the hole's segment (not a loss probe: Linux sends none
    // in its Disorder state) or the row fails; nitrosim's from its own sends, likewise. One
    // jiffy + 0.5 ms, as the probe's row; the forwarder's lateness is printed (it could only
    // delay the SACK, and so the kernel's retransmission: a late run fails, and is measured again).
    let sim_h = sim_hole(
        SimDuration::from_ms(HOLE_DELAY_MS) + SimDuration::from_us(RX_ONE_WAY_US),
        SimDuration::from_us(RX_ONE_WAY_US),
        1500,
        HOLE_SEGMENTS,
        HOLE_INDEX,
        SimDuration::from_ms(HOLE_SETTLE.as_millis() as u64),
    );
    let hole_late_ms = hole_run.as_ref().map_or(0.0, |(_, late)| late.as_secs_f64() * 1000.0);
    let hole_seq = (HOLE_INDEX as u64 - 1) * HOLE_MSS;
    let l_hole = hole_run
        .as_ref()
        .and_then(|(sends, _)| sends.as_ref().ok())
        .and_then(|sends| first_send_after_silence(sends))
        .filter(|&(_, seq)| u64::from(seq) == hole_seq)
        .map(|(gap, _)| gap);
    if let Some((Err(e), _)) = &hole_run {
        println!("hole near the tail: {e}");
    }
    rows.push(Row {
        case: "hole near the tail (4 segments, the 3rd lost, 2 ms RTT)",
        quantity: "the hole's retransmission after the last send (ms)",
        linux: l_hole,
        sim: sim_h
            .retransmitted
            .filter(|&(_, seq)| seq == hole_seq)
            .map(|(t, _)| t.since(sim_h.last_sent).as_secs_f64() * 1000.0),
        tolerance: jiffy_ms + 0.5,
        note: format!(
            "nitrosim: {} loss probes, {} RTOs; forwarder late by {hole_late_ms:.3} ms at worst",
            sim_h.loss_probes, sim_h.rtos
        ),
    });
    for (i, q) in ["1st RTO (s)", "2nd RTO (s)", "3rd RTO (s)", "4th RTO (s)", "5th RTO (s)"].iter().enumerate() {
        rows.push(Row {
            case: "RTO timeline (data lost)",
            quantity: q,
            linux: lin(i + 1),
            sim: s_rto.get(i).copied(),
            tolerance: if i == 4 { after_wheel(lin(i + 1)) } else { rel(lin(i + 1)) },
            note: String::new(),
        });
    }
    let l_abort = off_up.error.map(|_| (off_up.ended - off_up.started).as_secs_f64());
    let s_abort = events(&sim_off, "aborted").first().map(|t| t - s0);
    rows.push(Row {
        case: "black hole, probing off, tcp_retries2=5",
        quantity: "abort (s)",
        linux: l_abort,
        sim: s_abort,
        tolerance: rel(l_abort),
        note: String::new(),
    });

    let l_on = on_up.first_mss_change();
    let s_on0 = first_drop(&sim_on);
    let s_mss = sim_on.events.iter().find(|e| e.event == "mss");
    rows.push(Row {
        case: "black hole, tcp_mtu_probing=1",
        quantity: "first MSS drop (s)",
        linux: l_on.map(|x| x.0),
        sim: s_mss.map(|e| e.time_us / 1e6 - s_on0),
        tolerance: after_wheel(l_on.map(|x| x.0)),
        note: String::new(),
    });
    rows.push(Row {
        case: "black hole, tcp_mtu_probing=1",
        quantity: "MSS before",
        linux: l_on.map(|x| x.1 as f64),
        sim: s_mss.and_then(|e| e.mss_from).map(|x| x as f64),
        tolerance: 0.0,
        note: String::new(),
    });
    // The fall to tcp_base_mss and the probes upward take about a millisecond in namespaces
    // (faster than the sampling), so the MSS compared is where the search settles.
    let l_settled = on_up.samples.last().map(|(_, i)| i.snd_mss as f64);
    rows.push(Row {
        case: "black hole, tcp_mtu_probing=1",
        quantity: "MSS after the probes",
        linux: l_settled,
        sim: sim_on.flows[0].mss.map(|m| m as f64),
        tolerance: 0.0,
        note: String::new(),
    });
    let l_done = on_up.completed.then(|| (on_up.ended - on_up.started).as_secs_f64());
    let s_done = sim_on.flows[0].completed_us.map(|t| t / 1e6 - s_on0);
    rows.push(Row {
        case: "black hole, tcp_mtu_probing=1",
        quantity: "4 MB delivered (s)",
        linux: l_done,
        sim: s_done,
        tolerance: after_wheel(l_done),
        // Not like for like after the drop: the kernel's veth path recovers in 2-3 ms, the
        // model's run (the scenario's VPN, 100 us per crossing) in ~31 ms; the row follows the
        // MSS drop's timing and checks that the transfer resumes and completes.
        note: "mostly the MSS drop's timing: the paths after it differ".into(),
    });

    let l_ok = ok_up.first_mss_change();
    let s_ok_mss = sim_ok.events.iter().find(|e| e.event == "mss");
    rows.push(Row {
        case: "PMTUD, ICMP allowed",
        quantity: "MSS after ICMP",
        linux: l_ok.map(|x| x.2 as f64),
        sim: s_ok_mss.and_then(|e| e.mss_to).map(|x| x as f64),
        tolerance: 0.0,
        note: String::new(),
    });
    rows.push(Row {
        case: "PMTUD, ICMP allowed",
        quantity: "retransmission timeouts",
        linux: ok_rtos.map(|n| n as f64),
        sim: Some(sim_ok.flows[0].rtos as f64),
        tolerance: 0.0,
        note: "Linux: TcpExt TCPTimeouts in the client's namespace".into(),
    });
    let cl_mss = cl_up.samples.iter().map(|(_, i)| i.snd_mss).find(|&m| m > 0);
    rows.push(Row {
        case: "MSS clamping (1460)",
        quantity: "MSS",
        linux: cl_mss.map(|m| m as f64),
        sim: sim_cl.flows[0].mss.map(|m| m as f64),
        tolerance: 0.0,
        note: "Linux: advmss 1460 on the server's route".into(),
    });
    rows.push(Row {
        case: "MSS clamping (1460)",
        quantity: "completed",
        linux: Some(cl_up.completed as u8 as f64),
        sim: Some(sim_cl.flows[0].completed_us.is_some() as u8 as f64),
        tolerance: 0.0,
        note: String::new(),
    });

    let syn_s = events(&sim_syn, "aborted").first().copied();
    rows.push(Row {
        case: "SYN to a dead host, tcp_syn_retries=3",
        quantity: "connect() fails (s)",
        linux: dead_err.map(|_| dead_secs),
        sim: syn_s,
        tolerance: rel(Some(dead_secs)),
        note: String::new(),
    });
    rows.push(Row {
        case: "SYN to a dead host, tcp_syn_retries=3",
        quantity: "ETIMEDOUT",
        linux: Some((dead_err == Some(std::io::ErrorKind::TimedOut)) as u8 as f64),
        sim: Some(sim_syn.flows[0].aborted as u8 as f64),
        tolerance: 0.0,
        note: String::new(),
    });

    for (mtu, up) in &bulk {
        let first = up.at_connect;
        let case: &'static str = if *mtu == 1500 { "bulk at MTU 1500" } else { "bulk at MTU 9001" };
        let (sim_window, tcp) = sim_handshake(*mtu);
        rows.push(Row {
            case,
            quantity: "payload bytes per segment",
            linux: first.map(|i| i.snd_mss as f64),
            sim: Some(tcp.mss() as f64),
            tolerance: 0.0,
            note: String::new(),
        });
        rows.push(Row {
            case,
            quantity: "window in the SYN-ACK (B)",
            linux: first.map(|i| i.snd_wnd as f64),
            sim: Some(sim_window),
            tolerance: 0.0,
            note: String::new(),
        });
        rows.push(Row {
            case,
            quantity: "initial cwnd (segments)",
            linux: first.map(|i| i.snd_cwnd as f64),
            sim: Some(tcp.cwnd() as f64 / tcp.mss() as f64),
            tolerance: 0.0,
            note: String::new(),
        });
    }

    // --- the bulk receiver ---

    // The path's one-way delay for nitrosim: half the smallest RTT the kernel's sender measured
    // on the lab's path in any run (its first samples, from the handshake, before the queue
    // builds), RX_ONE_WAY_US (an estimate) only if no run measured one.
    let rx_min_rtt_us =
        rx_runs.iter().flat_map(|(up, ..)| up.samples.iter().map(|(_, i)| i.rtt_us)).filter(|&r| r > 0).min();
    let rx_one_way_us = rx_min_rtt_us.map_or(RX_ONE_WAY_US, |r| (r as u64).div_ceil(2));
    println!("bulk receiver path: Linux's smallest RTT {rx_min_rtt_us:?} us, nitrosim one way {rx_one_way_us} us");
    let sim_rx = sim_bulk(&PathSpec {
        mtu: 1500,
        rate: nitrosim::units::Bandwidth(RX_RATE_BPS),
        queue_bytes: RX_QUEUE_BYTES,
        one_way: nitrosim::units::SimDuration::from_us(rx_one_way_us),
        bytes: RX_BYTES as u64,
        limit: nitrosim::units::SimDuration::from_secs(30),
        rx_truesize: payload_plus(rx_truesize),
        congestion: RX_CONGESTION,
        receive_buffer: None,
    });
    let case = "bulk receiver, 200 Mbit/s, MTU 1500";
    let max_in = |v: &[(f64, f64)], from: f64, to: f64| {
        v.iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, w)| *w)
            .fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.max(w))))
    };
    // Every run must have the figure: the median of the three.
    let median = |v: Vec<f64>| if v.len() == RX_RUNS { median_of(v) } else { None };
    // Per kernel run: the window the sender saw, in the first second and at steady state (the
    // second half); the receiver's data segments per ACK (the median ACK its interface sent);
    // its scaling_ratio. The mean (data segments in over segments out after the handshake,
    // SYN-ACK and FIN excluded) is printed beside it.
    let per_run: Vec<RxRun> = rx_runs
        .iter()
        .map(|(up, view, acks)| {
            let w: Vec<(f64, f64)> =
                up.samples.iter().map(|(t, i)| ((*t - up.started).as_secs_f64(), i.snd_wnd as f64)).collect();
            let end = w.last().map_or(0.0, |x| x.0);
            let mss = view.last.map_or(0, |l| u64::from(l.rcv_mss));
            let per_ack = acks.as_ref().ok().and_then(|a| median_segments_per_ack(&kernel_ack_advances(a), mss));
            (max_in(&w, 0.0, 1.0), max_in(&w, end / 2.0, end), per_ack, view.last.and_then(kernel_scaling_ratio))
        })
        .collect();
    let means: Vec<Option<f64>> = rx_runs
        .iter()
        .map(|(_, view, _)| {
            let last = view.last.unwrap_or_default();
            (last.segs_out > 2).then(|| last.data_segs_in as f64 / (last.segs_out - 2) as f64)
        })
        .collect();
    println!("bulk receiver, Linux runs (first second, steady state, segments per ACK, scaling_ratio): {per_run:?}");
    let tallies: Vec<Result<[usize; 4], &String>> = rx_runs
        .iter()
        .map(|(_, view, acks)| {
            let mss = view.last.map_or(0, |l| u64::from(l.rcv_mss));
            acks.as_ref().map(|a| ack_tally(&kernel_ack_advances(a), mss))
        })
        .collect();
    let sim_advances: Vec<u64> = sim_rx.acks.windows(2).map(|a| a[1].saturating_sub(a[0])).collect();
    let sim_tally = ack_tally(&sim_advances, sim_rx.mss);
    println!(
        "bulk receiver, mean data segments per ACK: Linux runs {means:?}, nitrosim {:?}; ACKs covering up to 1/2/3/more segments: Linux runs {tallies:?}, nitrosim {:?}",
        (sim_rx.acks_out > 0).then(|| sim_rx.data_segs_in as f64 / sim_rx.acks_out as f64),
        sim_tally
    );
    let pick = |f: fn(&RxRun) -> Option<f64>| median(per_run.iter().filter_map(f).collect());
    let s_win: Vec<(f64, f64)> = sim_rx.window_at_sender.iter().map(|&(t, w)| (t, w as f64)).collect();
    let s_end = sim_rx.done.unwrap_or(0.0);
    rows.push(Row {
        case,
        quantity: "receiver's scaling_ratio (1/256)",
        linux: pick(|r| r.3),
        sim: Some(sim_rx.scaling_ratio as f64),
        tolerance: 0.0,
        note: truesize_note_rx(rx_truesize),
    });
    // Steady state: the second half, where the window sits at its ceiling, tcp_rmem[2] x
    // scaling_ratio (runs here 3.98 MB): 5%.
    let l_steady = pick(|r| r.1);
    rows.push(Row {
        case,
        quantity: "largest window at steady state (B)",
        linux: l_steady,
        sim: max_in(&s_win, s_end / 2.0, s_end),
        tolerance: (l_steady.unwrap_or(0.0) * 0.05).round(),
        note: "median of 3 kernel runs".into(),
    });
    // The first second: DRS doubles-plus the window per receiver RTT while the sender slow-starts
    // behind it, and reaches the ceiling within it (runs here: 3.98 MB in all eighteen on
    // 2026-12-01; when the window first passed 2 MB varied 0.05-0.15 s, too much to compare):
    // 10%.
    let l_first = pick(|r| r.0);
    rows.push(Row {
        case,
        quantity: "largest window in the first second (B)",
        linux: l_first,
        sim: max_in(&s_win, 0.0, 1.0),
        tolerance: (l_first.unwrap_or(0.0) * 0.10).round(),
        note: String::new(),
    });
    // Linux ACKs every second full segment (`__tcp_ack_snd_check`, RFC 1122 4.2.3.2's "at
    // least every second full-sized segment"), as nitrosim does; the median ACK shows it
    // whatever the machine's load does to the reader (`median_segments_per_ack`). Exact.
    let s_per_ack = median_segments_per_ack(&sim_advances, sim_rx.mss);
    rows.push(Row {
        case,
        quantity: "data segments per ACK (median ACK)",
        linux: pick(|r| r.2),
        sim: s_per_ack,
        tolerance: 0.0,
        note: "median of 3 kernel runs".into(),
    });
    // The ACKs that cover one segment: Linux sends one each time a segment grows the window
    // (`tcp_grow_window` sets `icsk_ack.quick |= 1`), about one per two segments of window
    // growth, ~1375 in every quiet run on 2026-12-05 (1368-1381, nine runs) and 1128-1237 with two
    // busy loops on the two cores; a receiver without the rule sent 15 (its first quick ACKs).
    // 25%, set from those runs before this row existed: the count, not the mechanism, moves with
    // the machine's load.
    let singles: Vec<f64> = tallies.iter().filter_map(|t| t.as_ref().ok().map(|t| t[0] as f64)).collect();
    let l_singles = median(singles);
    rows.push(Row {
        case,
        quantity: "ACKs covering one segment",
        linux: l_singles,
        sim: Some(sim_tally[0] as f64),
        tolerance: (l_singles.unwrap_or(0.0) * 0.25).round(),
        note: "median of 3 kernel runs".into(),
    });
    // HyStart on a delayed path: ssthresh becomes finite when the sender leaves slow start
    // (HyStart sets it to cwnd then); the kernel's first finite ssthresh against nitrosim's.
    let sim_hy = sim_bulk(&delayed_path(HY_BYTES, hy_truesize, None));
    // (s, ssthresh, retransmissions by then) of each kernel run; each reference is the median
    // over the agreeing runs (with an even count, the mean of the middle two: no leaning
    // towards either ssthresh group).
    let exits: Vec<Option<(f64, u32, u32)>> = hy_runs.iter().map(|r| kernel_exit(&r.up)).collect();
    let agreeing = agreeing_runs(&hy_runs.iter().map(train_exit).collect::<Vec<_>>());
    let how: Vec<&str> = hy_runs.iter().map(HyRun::left_by).collect();
    // A reference from the agreeing runs' figures, none unless enough runs agree.
    let agreed = |f: &dyn Fn(usize) -> Option<f64>, combine: fn(Vec<f64>) -> Option<f64>| {
        if agreeing.len() < HY_AGREE { None } else { combine(agreeing.iter().filter_map(|&i| f(i)).collect()) }
    };
    let l_ss = agreed(&|i| exits[i].map(|e| e.1 as f64), median_of);
    let l_t = agreed(&|i| exits[i].map(|e| e.0), median_of);
    // The receiver's scaling_ratio does not depend on when the sender left slow start: any run's.
    let hy_srv = hy_runs.iter().find_map(|r| r.srv.last);
    let late_ms: Vec<f64> = hy_runs.iter().map(|r| (r.forwarder_late_max.as_secs_f64() * 1e4).round() / 10.0).collect();
    let min_rtt_us: Vec<Option<u32>> =
        hy_runs.iter().map(|r| r.up.samples.iter().map(|(_, i)| i.rtt_us).filter(|&r| r > 0).min()).collect();
    println!(
        "slow-start exit: Linux runs {exits:?} (s, ssthresh, retransmissions by then; HyStart's test {how:?}; forwarder at worst {late_ms:?} ms late; min RTT {min_rtt_us:?} us), agreeing {agreeing:?}, reference {l_t:?} s, {l_ss:?} segments; nitrosim {:?}, drops {}",
        sim_hy.slow_start_exit, sim_hy.drops
    );
    let hy_case = "slow start, 40 ms RTT, 100 Mbit/s";
    // 12% of the figure. Leaving a round earlier or later would halve or double it. Within the
    // round the kernel's runs here fall in two groups, 482-484 and 526-531 segments, exiting at
    // about the same instant (0.262-0.266 s): the same ACK of the train trips HyStart, but the
    // cwnd it finds differs by ~45 segments (how the receiver's delayed ACKs fell in the first
    // rounds). nitrosim, behind tbf's 64 KiB bucket, lands in the upper group (526); 12% covers
    // either group from the other (531 / 482 = 1.10, and a few segments); a different round or
    // a missed exit is far outside it.
    let ss_tolerance = (l_ss.unwrap_or(0.0) * 0.12).round();
    rows.push(Row {
        case: hy_case,
        quantity: "ssthresh at slow-start exit (segments)",
        linux: l_ss,
        sim: sim_hy.slow_start_exit.map(|(_, c)| c as f64),
        tolerance: ss_tolerance,
        note: String::new(),
    });
    // Like for like: the kernel's reference runs are those HyStart's ACK-train test ended, none
    // having retransmitted by then; nitrosim's exit must not have followed a loss either.
    rows.push(Row {
        case: hy_case,
        quantity: "retransmissions before the exit",
        linux: agreed(&|i| exits[i].map(|e| e.2 as f64), |v| v.into_iter().reduce(f64::max)),
        sim: sim_hy.retransmits_at_exit.map(|n| n as f64),
        tolerance: 0.0,
        note: "Linux: 0 by the reference runs' selection".into(),
    });
    // Half the round trip: a round earlier or later moves the exit by a whole one.
    rows.push(Row {
        case: hy_case,
        quantity: "slow-start exit (s)",
        linux: l_t,
        sim: sim_hy.slow_start_exit.map(|(t, _)| t),
        tolerance: 0.020,
        note: String::new(),
    });
    // Receive-buffer autotuning on the same path: the window doubles-plus per round trip while
    // the sender is in slow start (tcp_rcvbuf_grow); when it first passes 1 MB says whether the
    // growth per round trip is Linux's. Half a round trip of tolerance, as for the exit. The
    // reference is the earliest over the agreeing runs, not their median: what this machine does
    // to a run only makes the mark later (a late forwarder delays the data the receiver's
    // autotuning counts and the ACKs that carry the window; the sampler sees it a poll late).
    // Quiet runs passed 1 MB at 0.252-0.253 s; in two clean-clone CI runs of 2026-12-01 whose
    // forwarder ran up to 25-30 ms late, the agreeing runs' medians were 0.269 and 0.272 s and
    // their earliest 0.260 s, and no run of the 55 in their four attempts passed it before 0.2515 s.
    const WINDOW_MARK: f64 = 1_000_000.0;
    let mark = |u: &Upload| {
        u.samples.iter().find(|(_, i)| i.snd_wnd as f64 >= WINDOW_MARK).map(|(t, _)| (*t - u.started).as_secs_f64())
    };
    let l_mark = agreed(&|i| mark(&hy_runs[i].up), |v| v.into_iter().min_by(f64::total_cmp));
    println!(
        "slow start: window first above 1 MB, Linux runs {:?} s",
        hy_runs.iter().map(|r| mark(&r.up)).collect::<Vec<_>>()
    );
    let s_mark = sim_hy.window_at_sender.iter().find(|&&(_, w)| w as f64 >= WINDOW_MARK).map(|&(t, _)| t);
    rows.push(Row {
        case: hy_case,
        quantity: "receive window first above 1 MB (s)",
        linux: l_mark,
        sim: s_mark,
        tolerance: 0.020,
        note: String::new(),
    });
    // The ceiling is what any run reaches: a run the machine's other work slows may end its
    // transfer before the buffer has grown all the way, so the largest window over the runs.
    let l_hy_win: Vec<(f64, f64)> = hy_runs
        .iter()
        .flat_map(|r| r.up.samples.iter().map(|(t, i)| ((*t - r.up.started).as_secs_f64(), i.snd_wnd as f64)))
        .collect();
    let s_hy_win: Vec<(f64, f64)> = sim_hy.window_at_sender.iter().map(|&(t, w)| (t, w as f64)).collect();
    let l_hy_max = max_in(&l_hy_win, 0.0, f64::MAX);
    let truesize_note = |t: Option<(u32, u32)>| {
        t.map_or(String::new(), |(len, ts)| {
            format!("driver truesize measured in the kernel: {ts} B per {len}-byte segment")
        })
    };
    // The receiver's scaling_ratio: the kernel's is window_clamp x 256 / sk_rcvbuf (the clamp is
    // tcp_win_from_space(sk_rcvbuf)); nitrosim's comes from the truesize measured above.
    rows.push(Row {
        case: hy_case,
        quantity: "receiver's scaling_ratio (1/256)",
        linux: hy_srv.and_then(kernel_scaling_ratio),
        sim: Some(sim_hy.scaling_ratio as f64),
        tolerance: 0.0,
        note: truesize_note(hy_truesize),
    });
    // The window's ceiling, tcp_rmem[2] x scaling_ratio / 256: the window climbs to it in
    // steps of segments (rcv_ssthresh grows by two per segment received) and is carried in units
    // of 2^wscale, and a run the machine's other work slows may end its transfer while still
    // climbing: with 8 MB, runs here reached 3930752 B (one MSS short) on a quiet machine, at
    // most 3865472 B (1.7% short) in one CI run and 3729024 B (5.1% short) in another, where none
    // of the five got there; hence 16 MB. 5%, as for the bulk receiver's steady state; the
    // ceiling itself is pinned by the scaling_ratio row above.
    rows.push(Row {
        case: hy_case,
        quantity: "largest window (B)",
        linux: l_hy_max,
        sim: max_in(&s_hy_win, 0.0, f64::MAX),
        tolerance: (l_hy_max.unwrap_or(0.0) * 0.05).round(),
        note: format!("largest over the {} kernel runs", hy_runs.len()),
    });

    // Request/response: segments each end sent bare (no data: ACKs and window updates) over the
    // exchanges, past the handshake. Linux acknowledges the first exchange segment by segment
    // (quick ACKs); from the second on each end is in pingpong mode, and its ACKs are those a
    // delayed-ACK policy sends at once (more than one MSS unacknowledged), the rest riding on
    // the replies. Without pingpong mode nitrosim's client sent 347 at MTU 1500 and its server
    // 42 (tests/linux/README.md, "Request/response"). Tolerances: `RPC_CASES`. nitrosim's path
    // is a fixed 15 us each way (`RX_ONE_WAY_US`): the counts do not depend on it, the first
    // reply being far inside the 40 ms timeout.
    for (&(case, mtu, client_share, server_tolerance), runs) in RPC_CASES.iter().zip(&rpc_runs) {
        let sim = sim_rpc(
            SimDuration::from_us(RX_ONE_WAY_US),
            mtu,
            payload_plus(rx_truesize),
            RPC_EXCHANGES,
            RPC_REQUEST_BYTES as u64,
            RPC_RESPONSE_BYTES as u64,
        );
        let median = |bare: fn(&RpcExchange) -> Option<u32>| {
            median_of(runs.iter().filter(|r| r.completed == RPC_EXCHANGES).filter_map(bare).map(f64::from).collect())
        };
        let (l_client, l_server) = (median(|r| r.client_bare), median(|r| r.server_bare));
        println!(
            "{case}: Linux (client, server) bare segments by run {:?}; nitrosim ({}, {}), {} exchanges",
            runs.iter().map(|r| (r.client_bare, r.server_bare, r.error.as_deref())).collect::<Vec<_>>(),
            sim.client_bare,
            sim.server_bare,
            sim.completed
        );
        let done = sim.completed == RPC_EXCHANGES;
        let note = format!("median of {RPC_RUNS} kernel runs");
        rows.push(Row {
            case,
            quantity: "client's bare segments (ACKs)",
            linux: l_client,
            sim: done.then_some(sim.client_bare as f64),
            tolerance: (l_client.unwrap_or(0.0) * client_share).round(),
            note: note.clone(),
        });
        rows.push(Row {
            case,
            quantity: "server's bare segments (ACKs)",
            linux: l_server,
            sim: done.then_some(sim.server_bare as f64),
            tolerance: server_tolerance,
            note,
        });
    }

    // Window-limited: the rate while the window holds the flow back, acknowledged bytes
    // WL_FROM_BYTES to WL_TO_BYTES (~1.7 s, some 43 round trips), as the sender counts them.
    for (&(case, rmem), runs) in WL_CASES.iter().zip(&wl_runs) {
        let sim = sim_bulk(&delayed_path(WL_BYTES, hy_truesize, Some(rmem)));
        let base = sim.acked_at_sender.first().map_or(0, |a| a.1);
        let sim_points: Vec<(f64, u64)> = sim.acked_at_sender.iter().map(|&(t, a)| (t, a - base)).collect();
        let s_rate = rate_mbps(&sim_points, WL_FROM_BYTES, WL_TO_BYTES);
        let s_wnd = most_common(sim.window_at_sender.iter().map(|w| w.1));
        // Each kernel run's rate and most common window; the medians are the references.
        let per_run: Vec<(Option<f64>, Option<u32>)> = runs
            .iter()
            .map(|r| {
                let points: Vec<(f64, u64)> =
                    r.up.samples.iter().map(|(t, i)| ((*t - r.up.started).as_secs_f64(), i.bytes_acked)).collect();
                (
                    rate_mbps(&points, WL_FROM_BYTES, WL_TO_BYTES),
                    most_common(r.up.samples.iter().map(|(_, i)| i.snd_wnd)),
                )
            })
            .collect();
        let l_rate = median_of(per_run.iter().filter_map(|r| r.0).collect());
        let l_wnd = median_of(per_run.iter().filter_map(|r| r.1.map(f64::from)).collect());
        println!(
            "{case}: Linux runs (Mbit/s, window B) {per_run:?}, forwarder at worst {:?} ms late, ACKs covering up to 1/2/3/more segments {:?}; nitrosim {s_rate:?} Mbit/s, window {s_wnd:?} B, ACKs {:?}",
            runs.iter().map(|r| r.forwarder_late_max.as_secs_f64() * 1e3).collect::<Vec<_>>(),
            runs.iter()
                .map(|r| {
                    let mss = r.up.samples.last().map_or(0, |(_, i)| u64::from(i.snd_mss));
                    r.acks.as_ref().map(|a| ack_tally(&kernel_ack_advances(a), mss))
                })
                .collect::<Vec<_>>(),
            ack_tally(&sim.acks.windows(2).map(|a| a[1].saturating_sub(a[0])).collect::<Vec<_>>(), sim.mss),
        );
        // The window the sender saw most often: the buffer's share less the segment still
        // queued when its ACK left, which Linux then rounds up to its window scale (2^7 here:
        // 35 435 -> 35 456 B); nitrosim does not round, hence 127 B. Without the queued
        // segment nitrosim offered 36 875 and 35 312 B, a segment more than the kernel.
        rows.push(Row {
            case,
            quantity: "window the sender saw most (B)",
            linux: l_wnd,
            sim: s_wnd.map(f64::from),
            tolerance: 127.0,
            note: format!("median of {} kernel runs", runs.len()),
        });
        // The rate the window allows. nitrosim ACKs every second segment, so with an odd window
        // each pair's second segment waits a pair's gap for its ACK: its 23 segments move 22.0
        // a round trip, its 24 move 24.0. The kernel's ACKs on this path cover 2.9 segments on
        // average (the socket's backlog merges segments that arrive while the reader holds the
        // socket, tcp_add_backlog; printed above), which nitrosim does not model: on 2026-12-05
        // its rates ran 6.49-6.59 Mbit/s with 23 segments (nitrosim 6.38) and 6.84-6.91 with 24
        // (nitrosim 6.98). 5%, set after those runs; without the queued segment's share of the
        // window nitrosim moved 6.98 with both buffers, 6% above the kernel's 23.
        rows.push(Row {
            case,
            quantity: "rate, 0.5-2 MB acknowledged (Mbit/s)",
            linux: l_rate,
            sim: s_rate,
            tolerance: l_rate.map_or(0.0, |r| (r * 0.05 * 1000.0).round() / 1000.0),
            note: format!("median of {} kernel runs", runs.len()),
        });
    }

    println!("\nLinux conformance (kernel {kernel})");
    println!("| case | quantity | Linux | nitrosim | tolerance | verdict |");
    println!("|---|---|---|---|---|---|");
    let mut failed = Vec::new();
    for r in &rows {
        let verdict = if r.pass() { "pass" } else { "FAIL" };
        if !r.pass() {
            failed.push(format!("{}: {}", r.case, r.quantity));
        }
        let note = if r.note.is_empty() { String::new() } else { format!(" ({})", r.note) };
        println!(
            "| {}{note} | {} | {} | {} | ±{} | {verdict} |",
            r.case,
            r.quantity,
            fmt(r.linux),
            fmt(r.sim),
            r.tolerance
        );
    }
    println!("Linux retransmissions (s after first data), probing off: {:?}", l);
    println!("nitrosim: loss probes {:?}, RTOs {:?}", s_tlp, s_rto);
    let mut last = 0;
    let mut seq = Vec::new();
    for (t, i) in &on_up.samples {
        if i.snd_mss != last {
            last = i.snd_mss;
            seq.push(format!("{:.4}s:{}", (*t - on_up.started).as_secs_f64(), i.snd_mss));
        }
    }
    println!("Linux snd_mss, probing on: {}", seq.join(" "));
    let sim_seq: Vec<String> = sim_on
        .events
        .iter()
        .filter(|e| e.event == "mss" || e.event.starts_with("probe"))
        .map(|e| format!("{:.4}s:{}:{:?}/{:?}", e.time_us / 1e6 - s_on0, e.event, e.mss_to, e.mtu))
        .collect();
    println!("nitrosim MSS, probing on: {}", sim_seq.join(" "));
    failed
}
