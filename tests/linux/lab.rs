#![allow(dead_code)]
//! Network namespaces for the conformance suite: client -- router -- server, joined by veth
//! pairs created inside the namespaces (never in the host's), removed by `Drop` on success,
//! failure or panic. Names carry the process id and a counter, so runs cannot collide.

pub use nitrosim::transport::congestion::CongestionKind;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub const CLIENT_ADDR: &str = "10.12.1.1";
pub const ROUTER_CLIENT_SIDE: &str = "10.12.1.2";
pub const ROUTER_SERVER_SIDE: &str = "10.12.2.1";
pub const SERVER_ADDR: &str = "10.12.2.2";
/// The port every case's server listens on.
pub const SERVER_PORT: u16 = 5001;

/// Linux's defaults, written into every namespace: a new namespace copies some of these from
/// the host's, which may have been tuned.
pub const DEFAULT_SYSCTLS: &[(&str, &str)] = &[
    ("net/ipv4/tcp_rmem", "4096 131072 6291456"),
    ("net/ipv4/tcp_wmem", "4096 16384 4194304"),
    ("net/ipv4/tcp_mtu_probing", "0"),
    ("net/ipv4/tcp_base_mss", "1024"),
    ("net/ipv4/tcp_retries1", "3"),
    ("net/ipv4/tcp_retries2", "15"),
    ("net/ipv4/tcp_syn_retries", "6"),
    ("net/ipv4/tcp_early_retrans", "3"),
    ("net/ipv4/tcp_sack", "1"),
    ("net/ipv4/tcp_timestamps", "1"),
    ("net/ipv4/tcp_no_metrics_save", "1"),
];

pub fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd).args(args).output().map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Why namespaces cannot be made here, if they cannot.
pub fn unavailable() -> Option<String> {
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces need CAP_SYS_ADMIN".into());
    }
    if run("ip", &["-V"]).is_err() {
        return Some("iproute2 (`ip`) not installed".into());
    }
    let probe = format!("nsim12p-{}", std::process::id());
    match run("ip", &["netns", "add", &probe]) {
        Ok(_) => {
            let _ = run("ip", &["netns", "del", &probe]);
            None
        }
        Err(e) => Some(format!("cannot create a network namespace: {e}")),
    }
}

/// One client/router/server topology. Dropping it deletes the namespaces (and with them the
/// veths, routes and qdiscs inside).
pub struct Lab {
    pub client: String,
    pub router: String,
    pub server: String,
}

pub struct LabSpec {
    /// MTU of the client--router link and of the router--server link.
    pub mtu_client_side: u32,
    pub mtu_server_side: u32,
    /// The server's own interface MTU (may exceed the router's server-side link: a jumbo host
    /// behind a 1500 hop is set up as two links of 9001 and a 1500 one in the middle).
    pub server_mtu: u32,
    /// tbf rate on the router's egress towards the server, bits/s.
    pub rate_bps: Option<u64>,
}

impl LabSpec {
    /// Every link and the server at `mtu`; `rate_bps` as the field.
    pub fn uniform(mtu: u32, rate_bps: Option<u64>) -> LabSpec {
        LabSpec { mtu_client_side: mtu, mtu_server_side: mtu, server_mtu: mtu, rate_bps }
    }
}

impl Lab {
    pub fn new(spec: &LabSpec) -> Result<Lab, String> {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let base = format!("nsim12-{}-{n}", std::process::id());
        let lab = Lab { client: format!("{base}-c"), router: format!("{base}-r"), server: format!("{base}-s") };
        // Each namespace is registered for deletion as soon as it exists.
        for ns in [&lab.client, &lab.router, &lab.server] {
            run("ip", &["netns", "add", ns])?;
        }
        lab.build(spec)?;
        Ok(lab)
    }

    fn ip(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        let mut a = vec!["-n", ns];
        a.extend_from_slice(args);
        run("ip", &a)
    }

    fn build(&self, spec: &LabSpec) -> Result<(), String> {
        let (c, r, s) = (&self.client, &self.router, &self.server);
        // veths created inside the namespaces: the host's namespace never sees them.
        self.ip(c, &["link", "add", "eth0", "type", "veth", "peer", "name", "rc", "netns", r])?;
        self.ip(s, &["link", "add", "eth0", "type", "veth", "peer", "name", "rs", "netns", r])?;
        let m = |x: u32| x.to_string();
        self.ip(c, &["link", "set", "eth0", "mtu", &m(spec.mtu_client_side), "up"])?;
        self.ip(r, &["link", "set", "rc", "mtu", &m(spec.mtu_client_side), "up"])?;
        self.ip(r, &["link", "set", "rs", "mtu", &m(spec.mtu_server_side), "up"])?;
        self.ip(s, &["link", "set", "eth0", "mtu", &m(spec.server_mtu.max(spec.mtu_server_side)), "up"])?;
        for ns in [c, r, s] {
            self.ip(ns, &["link", "set", "lo", "up"])?;
        }
        self.ip(c, &["addr", "add", &format!("{CLIENT_ADDR}/24"), "dev", "eth0"])?;
        self.ip(r, &["addr", "add", &format!("{ROUTER_CLIENT_SIDE}/24"), "dev", "rc"])?;
        self.ip(r, &["addr", "add", &format!("{ROUTER_SERVER_SIDE}/24"), "dev", "rs"])?;
        self.ip(s, &["addr", "add", &format!("{SERVER_ADDR}/24"), "dev", "eth0"])?;
        self.ip(c, &["route", "add", "default", "via", ROUTER_CLIENT_SIDE])?;
        self.ip(s, &["route", "add", "default", "via", ROUTER_SERVER_SIDE])?;
        if spec.server_mtu > spec.mtu_server_side {
            // The server's interface is jumbo but its neighbour hop is not: say so only by the
            // link, as a VPN in the path would (the server advertises its interface's MSS).
            self.ip(s, &["link", "set", "eth0", "mtu", &m(spec.server_mtu)])?;
            self.ip(r, &["link", "set", "rs", "mtu", &m(spec.server_mtu)])?;
            // The 1500 hop sits on the router's egress towards the server: a route MTU there.
            self.ip(r, &["route", "replace", "10.12.2.0/24", "dev", "rs", "mtu", &m(spec.mtu_server_side)])?;
        }
        self.sysctl(r, "net/ipv4/ip_forward", "1")?;
        for ns in [c, r, s] {
            for (k, v) in DEFAULT_SYSCTLS {
                self.sysctl(ns, k, v)?;
            }
        }
        if let Some(bps) = spec.rate_bps {
            let rate = format!("{bps}bit");
            self.tc(
                r,
                &["qdisc", "add", "dev", "rs", "root", "tbf", "rate", &rate, "burst", "64kb", "limit", "512kb"],
            )?;
        }
        Ok(())
    }

    pub fn tc(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        let mut a = vec!["-n", ns];
        a.extend_from_slice(args);
        run("tc", &a)
    }

    /// Write a sysctl inside `ns` (a thread that has entered the namespace opens /proc/sys/net).
    pub fn sysctl(&self, ns: &str, key: &str, value: &str) -> Result<(), String> {
        let (key, value) = (key.to_string(), value.to_string());
        in_ns(ns, move || {
            std::fs::write(format!("/proc/sys/{key}"), &value).map_err(|e| format!("sysctl {key}={value}: {e}"))?;
            let back = std::fs::read_to_string(format!("/proc/sys/{key}")).unwrap_or_default();
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            if norm(&back) != norm(&value) {
                return Err(format!("sysctl {key}: wrote {value}, reads {back}"));
            }
            Ok(())
        })
        .join()
        .map_err(|_| "sysctl thread panicked".to_string())?
    }

    /// A counter of namespace `ns`'s `TcpExt` MIB (`/proc/net/netstat`, per namespace), e.g.
    /// `TCPHystartTrainDetect`.
    pub fn tcp_ext(&self, ns: &str, name: &str) -> Result<u64, String> {
        let text = run("ip", &["netns", "exec", ns, "cat", "/proc/net/netstat"])?;
        // Pairs of lines: "TcpExt: <names>" then "TcpExt: <values>".
        let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
        let (names, values) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        let at = names.split_whitespace().position(|n| n == name).ok_or(format!("no TcpExt {name} in {ns}"))?;
        let value = values.split_whitespace().nth(at).ok_or(format!("TcpExt {name}: no value"))?;
        value.parse().map_err(|e| format!("TcpExt {name} = {value:?}: {e}"))
    }

    pub fn ip_in(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        self.ip(ns, args)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.client, &self.router, &self.server] {
            let _ = run("ip", &["netns", "del", ns]);
        }
    }
}

/// Run `f` on a new thread inside network namespace `ns` (setns affects the calling thread only).
pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}

/// Make the calling thread real-time (SCHED_FIFO, priority 10) with a 1 ns timer slack instead
/// of the default 50 us, so that the machine's other work cannot hold it off for milliseconds.
/// For threads that stand in for something nitrosim models as immediate and that sleep rather
/// than spin. Best effort: without the privilege (CAP_SYS_NICE) the thread runs as before, and
/// `who` says so.
pub fn run_realtime(who: &str) {
    let param = libc::sched_param { sched_priority: 10 };
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
        println!("{who}: SCHED_FIFO: {}", std::io::Error::last_os_error());
    }
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
}

/// The fields of Linux's `struct tcp_info` (include/uapi/linux/tcp.h) the suite reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpInfo {
    pub state: u8,
    pub retransmits: u8,
    pub backoff: u8,
    pub rto_us: u32,
    pub snd_mss: u32,
    pub rcv_mss: u32,
    pub snd_cwnd: u32,
    pub snd_ssthresh: u32,
    pub rtt_us: u32,
    /// The receiver's RTT estimate for autotuning (`rcv_rtt_est`, us) and `rcv_ssthresh`.
    pub rcv_rtt_us: u32,
    pub rcv_ssthresh: u32,
    /// `sk_rcvbuf` (getsockopt SO_RCVBUF), read with each sample.
    pub rcvbuf: u32,
    /// `tp->window_clamp` (getsockopt TCP_WINDOW_CLAMP): `tcp_win_from_space(sk_rcvbuf)`, the
    /// buffer's share at the socket's `scaling_ratio`.
    pub window_clamp: u32,
    pub rcv_space: u32,
    pub total_retrans: u32,
    pub snd_wnd: u32,
    pub rcv_wnd: u32,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub segs_out: u32,
    pub data_segs_in: u32,
    pub segs_in: u32,
    /// Segments sent that carried data: `segs_out` less these is what the socket sent bare
    /// (ACKs, window updates; the SYN and FIN too, before and after what a case counts).
    pub data_segs_out: u32,
}

/// The kernel's name for nitrosim's congestion control `cc`: `cubic`, Linux's default, and
/// `reno`, built in (loss recovery is the stack's own, whatever the module).
fn kernel_congestion_name(cc: CongestionKind) -> &'static [u8] {
    match cc {
        CongestionKind::Cubic => b"cubic",
        CongestionKind::NewReno => b"reno",
    }
}

/// Set the socket's congestion control: a new namespace inherits the host's default (BBR on
/// some machines, this one included) and may not change it by sysctl (EPERM unless allowed),
/// but root may choose per socket.
pub fn use_congestion(fd: i32, cc: CongestionKind) -> Result<(), String> {
    let name = kernel_congestion_name(cc);
    let rc = unsafe {
        libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_CONGESTION, name.as_ptr() as *const _, name.len() as _)
    };
    if rc != 0 {
        return Err(format!("TCP_CONGESTION {cc:?}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

pub fn tcp_info(fd: i32) -> Option<TcpInfo> {
    let mut buf = [0u8; 256];
    let mut len = buf.len() as libc::socklen_t;
    let rc = unsafe { libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, buf.as_mut_ptr() as *mut _, &mut len) };
    if rc != 0 || len < 236 {
        return None;
    }
    let u32_at = |o: usize| u32::from_ne_bytes(buf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_ne_bytes(buf[o..o + 8].try_into().unwrap());
    let mut rcvbuf = 0u32;
    let mut rlen = 4 as libc::socklen_t;
    unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &mut rcvbuf as *mut u32 as *mut _, &mut rlen) };
    let mut window_clamp = 0u32;
    let mut clen = 4 as libc::socklen_t;
    unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_WINDOW_CLAMP,
            &mut window_clamp as *mut u32 as *mut _,
            &mut clen,
        )
    };
    Some(TcpInfo {
        rcvbuf,
        window_clamp,
        state: buf[0],
        retransmits: buf[2],
        backoff: buf[4],
        rto_us: u32_at(8),
        snd_mss: u32_at(16),
        rcv_mss: u32_at(20),
        rtt_us: u32_at(68),
        snd_ssthresh: u32_at(76),
        snd_cwnd: u32_at(80),
        rcv_rtt_us: u32_at(92),
        rcv_ssthresh: u32_at(64),
        rcv_space: u32_at(96),
        total_retrans: u32_at(100),
        bytes_acked: u64_at(120),
        bytes_received: u64_at(128),
        segs_out: u32_at(136),
        segs_in: u32_at(140),
        data_segs_in: u32_at(152),
        data_segs_out: u32_at(156),
        snd_wnd: u32_at(228),
        rcv_wnd: u32_at(232),
    })
}

/// TCP_INFO samples of one socket, about every millisecond, with their time since `t0`.
pub struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Vec<(Duration, TcpInfo)>>>,
}

impl Sampler {
    pub fn start(fd: i32, t0: Instant) -> Sampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut v = Vec::with_capacity(1 << 14);
            while !s.load(Ordering::Relaxed) {
                if let Some(i) = tcp_info(fd) {
                    v.push((t0.elapsed(), i));
                }
                std::thread::sleep(Duration::from_micros(1000));
            }
            v
        });
        Sampler { stop, handle: Some(handle) }
    }
    pub fn finish(mut self) -> Vec<(Duration, TcpInfo)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A fixed delay on the router's path towards the server, in userspace (this kernel has no
/// netem): a tun device in the router namespace takes the client's packets (a /32 route to the
/// server through it), a thread holds each one `delay` and writes it back, and a policy rule
/// sends what comes out of the tun to the server's link. Memory is bounded (`MAX_QUEUED_BYTES`,
/// beyond which packets are dropped like a full queue); the thread stops when the guard is
/// dropped, and the device disappears with its file descriptor or the namespace.
pub struct DelayForwarder {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Duration>>,
}

const MAX_QUEUED_BYTES: usize = 32 << 20;
const TUNSETIFF: libc::c_ulong = 0x400454ca;

impl DelayForwarder {
    pub fn start(lab: &Lab, delay: Duration) -> Result<DelayForwarder, String> {
        Self::start_dropping(lab, delay, None)
    }

    /// [`DelayForwarder::start`] that also drops, once, the `drop`-th TCP segment carrying data
    /// (counted from 1) that it takes: a loss where the case wants it, which tbf cannot place.
    pub fn start_dropping(lab: &Lab, delay: Duration, drop: Option<usize>) -> Result<DelayForwarder, String> {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let (tx, rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let handle = in_ns(&lab.router, move || {
            let fd = match open_tun("dly0") {
                Ok(fd) => {
                    let _ = tx.send(Ok(()));
                    fd
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return Duration::ZERO;
                }
            };
            let late_max = delay_loop(fd, delay, drop, &s);
            unsafe { libc::close(fd) };
            late_max
        });
        rx.recv_timeout(Duration::from_secs(10)).map_err(|e| format!("tun thread: {e}"))??;
        let fwd = DelayForwarder { stop, handle: Some(handle) };
        let r = &lab.router;
        lab.ip_in(r, &["link", "set", "dly0", "mtu", "1500", "up"])?;
        lab.ip_in(r, &["route", "add", &format!("{SERVER_ADDR}/32"), "dev", "dly0"])?;
        lab.ip_in(r, &["route", "add", "10.12.2.0/24", "dev", "rs", "table", "112"])?;
        lab.ip_in(r, &["rule", "add", "iif", "dly0", "lookup", "112", "priority", "100"])?;
        for k in ["all", "default", "dly0", "rc", "rs"] {
            lab.sysctl(r, &format!("net/ipv4/conf/{k}/rp_filter"), "0")?;
        }
        Ok(fwd)
    }

    /// Stop forwarding; how late the forwarder ran at worst: a packet written after its due
    /// time, or a wake-up after the time it asked for. It runs real-time, so this is the machine
    /// stalling it (interrupts, softirq work, the hypervisor) or its own work on a burst; runs
    /// of 2026-12-01 saw 1.3-57 ms.
    pub fn finish(mut self) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().map(|h| h.join().expect("forwarder thread")).unwrap_or_default()
    }
}

impl Drop for DelayForwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn open_tun(name: &str) -> Result<i32, String> {
    let fd = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) };
    if fd < 0 {
        return Err(format!("/dev/net/tun: {}", std::io::Error::last_os_error()));
    }
    let mut ifr = [0u8; 40];
    ifr[..name.len()].copy_from_slice(name.as_bytes());
    let flags: u16 = 0x0001 | 0x1000; // IFF_TUN | IFF_NO_PI
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    if unsafe { libc::ioctl(fd, TUNSETIFF as _, ifr.as_mut_ptr()) } < 0 {
        let e = std::io::Error::last_os_error();
        unsafe { libc::close(fd) };
        return Err(format!("TUNSETIFF: {e}"));
    }
    Ok(fd)
}

/// Read packets, hold each `delay` (a FIFO: the delay is fixed, so deadlines are in order),
/// write them back when due; the `drop`-th data segment is not written. Returns how late it ran
/// (`DelayForwarder::finish`).
fn delay_loop(fd: i32, delay: Duration, drop: Option<usize>, stop: &std::sync::atomic::AtomicBool) -> Duration {
    // A packet held late by the scheduler arrives in a clump with the next ones, which HyStart's
    // ACK-train test (microsecond spacing) reads as a longer train: with other processes on the
    // machine's two cores the kernel's slow-start exit moved from ~530 to 1288 segments. So the
    // forwarder runs as a real-time thread (it sleeps in ppoll, never spins).
    run_realtime("delay forwarder");
    let mut queue: std::collections::VecDeque<(Instant, Vec<u8>)> = std::collections::VecDeque::new();
    let mut queued_bytes = 0usize;
    let mut late_max = Duration::ZERO;
    let mut buf = vec![0u8; 65536];
    let mut data_segments = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        while let Some((due, _)) = queue.front() {
            if *due > now {
                break;
            }
            late_max = late_max.max(Instant::now().saturating_duration_since(*due));
            let (_, p) = queue.pop_front().unwrap();
            queued_bytes -= p.len();
            unsafe { libc::write(fd, p.as_ptr() as *const _, p.len()) };
        }
        // Sleep until the next packet is due or one arrives, at most 1 ms (to see `stop`).
        let wait_us = queue.front().map_or(1000, |(due, _)| due.saturating_duration_since(now).as_micros().min(1000));
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let ts = libc::timespec { tv_sec: 0, tv_nsec: (wait_us as i64) * 1000 };
        let asked = Instant::now() + Duration::from_micros(wait_us as u64);
        unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        late_max = late_max.max(Instant::now().saturating_duration_since(asked));
        loop {
            let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut _, buf.len()) };
            if n <= 0 {
                break;
            }
            let n = n as usize;
            if tcp_carries_data(&buf[..n]) {
                data_segments += 1;
                if drop == Some(data_segments) {
                    continue;
                }
            }
            if queued_bytes + n > MAX_QUEUED_BYTES {
                continue;
            }
            queued_bytes += n;
            queue.push_back((Instant::now() + delay, buf[..n].to_vec()));
        }
    }
    late_max
}

/// Which of a TCP segment's ports a capture matches: the sender's own (`Source`: what a
/// server sends from its listening port) or its peer's (`Destination`: what a client sends to
/// it). The value is the field's offset in the TCP header (RFC 9293 section 3.1).
#[derive(Clone, Copy)]
enum PortField {
    Source = 0,
    Destination = 2,
}

/// The IPv4 TCP segments a namespace's interface sends with `port` in one of their port fields,
/// read from an AF_PACKET socket as they leave (what a packet capture there would show, without
/// the capture tool), each parsed from its headers and stamped with the time the capture read
/// it. A socket filter passes only those segments' headers, so the thread wakes for them
/// alone; it runs real-time, so a full socket buffer loses nothing and the stamps trail the
/// sends by microseconds. The socket is open before `start` returns; `finish` stops it and fails
/// if anything was lost on the way.
struct Capture<T> {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Captured<T>>>,
}

/// What a capture kept, each with the time it was read, or why it is incomplete.
type Captured<T> = Result<Vec<(Instant, T)>, String>;

/// Bounds a capture's memory: 4 million segments (a 200 Mbit/s, 37.5 MB upload's receiver sends
/// ~13 000 ACKs).
const CAPTURE_SEGMENTS_MAX: usize = 1 << 22;
/// Bytes kept of each captured packet: IPv4 and TCP headers without options need 40.
const CAPTURE_SNAP_BYTES: u32 = 128;

impl<T: Send + 'static> Capture<T> {
    /// `parse`: what to keep of a segment (its IP packet, cut to `CAPTURE_SNAP_BYTES`), or None
    /// to skip it.
    fn start(ns: &str, dev: &str, port: u16, field: PortField, parse: fn(&[u8]) -> Option<T>) -> Result<Self, String> {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let (tx, rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let dev = std::ffi::CString::new(dev).map_err(|e| e.to_string())?;
        let handle = in_ns(ns, move || {
            let fd = match open_packet_socket(&dev, port, field) {
                Ok(fd) => {
                    let _ = tx.send(Ok(()));
                    fd
                }
                Err(e) => {
                    let _ = tx.send(Err(e.clone()));
                    return Err(e);
                }
            };
            run_realtime("packet capture");
            let mut kept = Vec::with_capacity(1 << 14);
            let mut buf = [0u8; CAPTURE_SNAP_BYTES as usize];
            loop {
                // Once stopped, what is already queued is still read, without waiting.
                let stopping = s.load(Ordering::Relaxed);
                let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
                let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                let n = unsafe {
                    libc::recvfrom(
                        fd,
                        buf.as_mut_ptr() as *mut _,
                        buf.len(),
                        if stopping { libc::MSG_DONTWAIT } else { 0 },
                        &mut from as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                        &mut from_len,
                    )
                };
                if n <= 0 {
                    if stopping {
                        break;
                    }
                    continue;
                }
                let at = Instant::now();
                let ipv4 = from.sll_protocol == (libc::ETH_P_IP as u16).to_be();
                if !ipv4 || from.sll_pkttype != libc::PACKET_OUTGOING {
                    continue;
                }
                if let Some(segment) = parse(&buf[..(n as usize).min(buf.len())]) {
                    if kept.len() == CAPTURE_SEGMENTS_MAX {
                        unsafe { libc::close(fd) };
                        return Err(format!("more than {CAPTURE_SEGMENTS_MAX} segments"));
                    }
                    kept.push((at, segment));
                }
            }
            let drops = packet_drops(fd);
            unsafe { libc::close(fd) };
            match drops {
                Some(0) => Ok(kept),
                Some(n) => Err(format!("the kernel dropped {n} packets before the capture read them")),
                None => Err(format!("PACKET_STATISTICS: {}", std::io::Error::last_os_error())),
            }
        });
        rx.recv_timeout(Duration::from_secs(10)).map_err(|e| format!("capture thread: {e}"))??;
        Ok(Capture { stop, handle: Some(handle) })
    }

    /// What was kept, in the order sent, or why the capture is incomplete.
    fn finish(mut self) -> Captured<T> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().map_or(Err("capture already finished".into()), |h| h.join().expect("capture thread"))
    }
}

impl<T> Drop for Capture<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The acknowledgement numbers of the TCP segments a namespace's interface sends from `port`
/// (SYN, FIN and RST excluded), in order: what a packet capture on the receiver would show.
pub struct AckCapture(Capture<u32>);

impl AckCapture {
    pub fn start(ns: &str, dev: &str, port: u16) -> Result<AckCapture, String> {
        Capture::start(ns, dev, port, PortField::Source, tcp_ack).map(AckCapture)
    }

    /// The acknowledgement numbers in the order sent, or why the capture is incomplete.
    pub fn finish(self) -> Result<Vec<u32>, String> {
        Ok(self.0.finish()?.into_iter().map(|(_, ack)| ack).collect())
    }
}

/// The TCP segments carrying data that a namespace's interface sent to `port` (a sender's
/// transmissions, retransmissions and probes included), as a capture on the sender shows them:
/// when, and their sequence numbers.
pub struct SendCapture(Capture<u32>);

impl SendCapture {
    pub fn start(ns: &str, dev: &str, port: u16) -> Result<SendCapture, String> {
        Capture::start(ns, dev, port, PortField::Destination, tcp_data_seq).map(SendCapture)
    }

    /// (send time, sequence number) in order, or why the capture is incomplete.
    pub fn finish(self) -> Result<Vec<(Instant, u32)>, String> {
        self.0.finish()
    }
}

/// An AF_PACKET datagram socket (link header removed) on `dev`, filtered to the IPv4 TCP
/// segments the host sends with `port` in `field` (`segment_filter`), with a 16 MiB buffer and
/// a 20 ms receive timeout so its thread notices `stop`. Opened for no protocol, filtered, then
/// bound: no packet reaches it unfiltered.
fn open_packet_socket(dev: &std::ffi::CStr, port: u16, field: PortField) -> Result<i32, String> {
    let os = || std::io::Error::last_os_error().to_string();
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0) };
    if fd < 0 {
        return Err(format!("AF_PACKET socket: {}", os()));
    }
    let close_with = |e: String| {
        unsafe { libc::close(fd) };
        Err(e)
    };
    let set = |opt: i32, value: *const libc::c_void, len: usize| unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, opt, value, len as libc::socklen_t)
    };
    let mut program = segment_filter(port, field);
    let fprog = libc::sock_fprog { len: program.len() as u16, filter: program.as_mut_ptr() };
    if set(
        libc::SO_ATTACH_FILTER,
        &fprog as *const libc::sock_fprog as *const _,
        std::mem::size_of::<libc::sock_fprog>(),
    ) != 0
    {
        return close_with(format!("SO_ATTACH_FILTER: {}", os()));
    }
    let bytes: i32 = 16 << 20;
    if set(libc::SO_RCVBUFFORCE, &bytes as *const i32 as *const _, 4) != 0 {
        return close_with(format!("SO_RCVBUFFORCE: {}", os()));
    }
    let timeout = libc::timeval { tv_sec: 0, tv_usec: 20_000 };
    if set(libc::SO_RCVTIMEO, &timeout as *const libc::timeval as *const _, std::mem::size_of::<libc::timeval>()) != 0 {
        return close_with(format!("SO_RCVTIMEO: {}", os()));
    }
    let index = unsafe { libc::if_nametoindex(dev.as_ptr()) };
    if index == 0 {
        return close_with(format!("{dev:?}: {}", os()));
    }
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    // ETH_P_ALL: a packet the host sends reaches only the taps for every protocol
    // (`dev_queue_xmit_nit`).
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = index as i32;
    let size = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    if unsafe { libc::bind(fd, &addr as *const libc::sockaddr_ll as *const libc::sockaddr, size) } != 0 {
        return close_with(format!("bind AF_PACKET to {dev:?}: {}", os()));
    }
    Ok(fd)
}

/// A classic BPF program (linux/filter.h) keeping the first `CAPTURE_SNAP_BYTES` of outgoing
/// IPv4 TCP segments with `port` in `field`, and nothing else. On a datagram packet socket the
/// filter sees the packet from its IP header.
fn segment_filter(port: u16, field: PortField) -> Vec<libc::sock_filter> {
    use libc::{BPF_ABS, BPF_B, BPF_H, BPF_IND, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_MSH, BPF_RET, BPF_W};
    let code = |c: u32| c as u16;
    let (ld_w_abs, ld_b_abs) = (code(BPF_LD | BPF_W | BPF_ABS), code(BPF_LD | BPF_B | BPF_ABS));
    let ld_h_ind = code(BPF_LD | BPF_H | BPF_IND);
    let ldx_b_msh = code(BPF_LDX | BPF_B | BPF_MSH); // X = 4 * (P[k] & 0xf): the IP header's length
    let (jeq_k, ret_k) = (code(BPF_JMP | BPF_JEQ | BPF_K), code(BPF_RET | BPF_K));
    let ancillary = |what: i32| (libc::SKF_AD_OFF + what) as u32;
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    // Jumps count instructions after the next one; every "no" goes to the last, the drop.
    vec![
        op(ld_w_abs, 0, 0, ancillary(libc::SKF_AD_PKTTYPE)),
        op(jeq_k, 0, 8, libc::PACKET_OUTGOING as u32),
        op(ld_w_abs, 0, 0, ancillary(libc::SKF_AD_PROTOCOL)),
        op(jeq_k, 0, 6, libc::ETH_P_IP as u32),
        op(ld_b_abs, 0, 0, 9),
        op(jeq_k, 0, 4, libc::IPPROTO_TCP as u32),
        op(ldx_b_msh, 0, 0, 0),
        op(ld_h_ind, 0, 0, field as u32),
        op(jeq_k, 0, 1, port as u32),
        op(ret_k, 0, 0, CAPTURE_SNAP_BYTES),
        op(ret_k, 0, 0, 0),
    ]
}

/// Packets the kernel could not queue to the socket since it was opened (PACKET_STATISTICS),
/// or None if it would not say.
fn packet_drops(fd: i32) -> Option<u32> {
    let mut stats = libc::tpacket_stats { tp_packets: 0, tp_drops: 0 };
    let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_PACKET, libc::PACKET_STATISTICS, &mut stats as *mut _ as *mut _, &mut len)
    };
    (rc == 0).then_some(stats.tp_drops)
}

/// An IPv4 TCP segment's header fields (RFC 9293 section 3.1).
struct TcpHeader {
    flags: u8,
    seq: u32,
    ack: u32,
    /// Payload bytes (a GSO segment's IP length covers all of its data).
    payload: usize,
}

/// The TCP header of an IPv4 packet, or None if it carries no TCP.
fn tcp_header(ip: &[u8]) -> Option<TcpHeader> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let tcp = ip.get(ihl..)?;
    if ip[0] >> 4 != 4 || *ip.get(9)? != 6 || tcp.len() < 20 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let header = ihl + usize::from(tcp[12] >> 4) * 4;
    let word = |k: usize| u32::from_be_bytes([tcp[k], tcp[k + 1], tcp[k + 2], tcp[k + 3]]);
    Some(TcpHeader { flags: tcp[13], seq: word(4), ack: word(8), payload: total.saturating_sub(header) })
}

/// The acknowledgement number of a TCP segment with ACK set and none of SYN, FIN, RST, or None.
fn tcp_ack(ip: &[u8]) -> Option<u32> {
    const ACK: u8 = 0x10;
    const SYN_FIN_RST: u8 = 0x07; // FIN 0x01, SYN 0x02, RST 0x04
    let h = tcp_header(ip)?;
    (h.flags & ACK != 0 && h.flags & SYN_FIN_RST == 0).then_some(h.ack)
}

/// The sequence number of a TCP segment that carries data, or None.
fn tcp_data_seq(ip: &[u8]) -> Option<u32> {
    tcp_header(ip).filter(|h| h.payload > 0).map(|h| h.seq)
}

/// Whether a TCP segment carries data.
fn tcp_carries_data(ip: &[u8]) -> bool {
    tcp_data_seq(ip).is_some()
}
