//! The Linux side of each case: real sockets in the namespaces, TCP_INFO sampled every ~1 ms.

use super::lab::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How long a case's server waits for its client to connect. The client connects as soon as
/// the server has said it listens, so this only bounds a failure: a client whose connect()
/// failed would otherwise leave the server in accept() for good, and the suite hanging.
const ACCEPT_LIMIT: Duration = Duration::from_secs(30);

/// `l.accept()`, or a `TimedOut` error when no client connects within `limit`. poll() wakes
/// the moment a connection is queued, so a connecting client is accepted as promptly as by a
/// plain accept(); the accepted socket blocks, as accept() gives it.
pub fn accept_within(l: &TcpListener, limit: Duration) -> std::io::Result<(TcpStream, SocketAddr)> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no client connected within {limit:?}"),
            ));
        }
        let mut fd = libc::pollfd { fd: l.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // Whole milliseconds, rounded up; poll() may still wake a little early: checked above.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd, for the length given.
        match unsafe { libc::poll(&mut fd, 1, ms) } {
            0 => {}
            n if n > 0 => return l.accept(),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// What one bulk upload looked like from the client's socket.
#[derive(Debug, Default)]
pub struct Upload {
    pub samples: Vec<(Duration, TcpInfo)>,
    /// TCP_INFO right after connect() returned, before any data: the SYN-ACK's window.
    pub at_connect: Option<TcpInfo>,
    /// When the first data was written (connect() returned), from the run's start.
    pub started: Duration,
    /// When the write or the final read ended, and how.
    pub ended: Duration,
    pub error: Option<std::io::ErrorKind>,
    pub completed: bool,
}

impl Upload {
    /// Times (since `started`) at which `total_retrans` went up, one entry per increase.
    pub fn retransmission_times(&self) -> Vec<f64> {
        let mut out = Vec::new();
        let mut last = 0;
        for (t, i) in &self.samples {
            if i.total_retrans > last {
                last = i.total_retrans;
                out.push((*t - self.started).as_secs_f64());
            }
        }
        out
    }
    /// The first time (since `started`) the sender's MSS differed from its value at connect(),
    /// the MSS then and the new MSS.
    pub fn first_mss_change(&self) -> Option<(f64, u32, u32)> {
        let first = self.at_connect?.snd_mss;
        self.samples
            .iter()
            .find(|(_, i)| i.snd_mss != first && i.snd_mss > 0)
            .map(|(t, i)| ((*t - self.started).as_secs_f64(), first, i.snd_mss))
    }
}

/// The receiving socket's view: TCP_INFO every ~1 ms from accept() on, and the last one before
/// the socket closed (the counters at the end of the transfer).
#[derive(Debug, Default)]
pub struct ServerView {
    pub samples: Vec<(Duration, TcpInfo)>,
    pub last: Option<TcpInfo>,
}

/// A server that reads everything and says nothing (but ACKs, as its kernel decides).
pub fn sink_server(lab: &Lab) -> std::thread::JoinHandle<ServerView> {
    sink_server_reading(lab, 1 << 16)
}

/// `sink_server` whose reads ask for up to `read_bytes` at a time.
///
/// The reader (every case's server, `sink_server` included; not its TCP_INFO sampler) runs
/// real-time: nitrosim's application reads the moment data arrives, and a Linux reader held off
/// by the machine's other work changes what the kernel sends (its ACK waits for the read when
/// the window would shrink, `__tcp_ack_snd_check`, so a late reader merges ACKs). On
/// 2026-12-01, with two busy loops on the two cores, an ordinary reader's runs
/// averaged 2.43-3.27 data segments per ACK, a real-time one's 2.23-2.78: less, not gone, so the
/// conformance row compares the median ACK instead.
pub fn sink_server_reading(lab: &Lab, read_bytes: usize) -> std::thread::JoinHandle<ServerView> {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = in_ns(&lab.server, move || {
        let l = TcpListener::bind((SERVER_ADDR, SERVER_PORT)).expect("bind");
        tx.send(()).unwrap();
        let mut view = ServerView::default();
        if let Ok((mut c, _)) = accept_within(&l, ACCEPT_LIMIT) {
            let sampler = Sampler::start(c.as_raw_fd(), Instant::now());
            // After the sampler's thread is made: a new thread inherits the policy.
            run_realtime("sink server");
            let _ = c.set_read_timeout(Some(Duration::from_secs(60)));
            let mut buf = vec![0u8; read_bytes];
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            view.last = tcp_info(c.as_raw_fd());
            view.samples = sampler.finish();
        }
        view
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("server did not start");
    h
}

/// Connect from the client and write `bytes`, then shut down writing and wait for the server's
/// FIN (everything acknowledged) or an error, for at most `limit`.
pub fn upload(lab: &Lab, bytes: usize, limit: Duration) -> std::thread::JoinHandle<Upload> {
    upload_with(lab, bytes, limit, CongestionKind::Cubic)
}

/// [`upload`] with the sender's congestion control `cc`.
pub fn upload_with(lab: &Lab, bytes: usize, limit: Duration, cc: CongestionKind) -> std::thread::JoinHandle<Upload> {
    in_ns(&lab.client, move || {
        let t0 = Instant::now();
        let mut up = Upload::default();
        let mut s = match connect_to(SERVER_PORT, cc) {
            Ok(s) => s,
            Err(e) => {
                up.ended = t0.elapsed();
                up.error = Some(e.kind());
                return up;
            }
        };
        up.started = t0.elapsed();
        up.at_connect = tcp_info(s.as_raw_fd());
        let sampler = Sampler::start(s.as_raw_fd(), t0);
        let _ = s.set_write_timeout(Some(limit));
        let _ = s.set_read_timeout(Some(limit));
        let chunk = vec![0x5au8; 1 << 16];
        let mut left = bytes;
        let mut result = Ok(());
        while left > 0 {
            let n = left.min(chunk.len());
            if let Err(e) = s.write_all(&chunk[..n]) {
                result = Err(e);
                break;
            }
            left -= n;
        }
        if result.is_ok() {
            let _ = s.shutdown(std::net::Shutdown::Write);
            let mut b = [0u8; 16];
            result = s.read(&mut b).map(|_| ());
            // Read returns 0 at the server's FIN: by then all data was acknowledged.
        }
        up.ended = t0.elapsed();
        match result {
            Ok(()) => up.completed = true,
            Err(e) => up.error = Some(e.kind()),
        }
        // A few samples after the end, then stop.
        std::thread::sleep(Duration::from_millis(5));
        up.samples = sampler.finish();
        up
    })
}

/// connect() to the server with `cc` chosen before the SYN: choosing it after connect() would
/// keep what the inherited default (BBR here) set at init, its pacing flag among it, which
/// changes HyStart's ACK-train threshold (delay_min, not delay_min / 2).
fn connect_to(port: u16, cc: CongestionKind) -> std::io::Result<TcpStream> {
    use std::os::fd::FromRawFd;
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // Owned from here: closed on every error path.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    use_congestion(fd, cc).map_err(std::io::Error::other)?;
    let addr: std::net::Ipv4Addr = SERVER_ADDR.parse().unwrap();
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(addr).to_be() },
        sin_zero: [0; 8],
    };
    let rc = unsafe {
        libc::connect(fd, &sa as *const _ as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_in>() as _)
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(stream)
}

/// A hole near the tail: on an established connection (TCP_NODELAY, CUBIC), after `settle`, the
/// client writes `segments` full segments of `mss` bytes at once, the case's forwarder having
/// been told to drop one of them, and waits `wait` before closing. Returns when each send left
/// the client and its sequence number (`SendCapture` on its interface), or why the case could
/// not run.
pub fn hole_near_tail(
    lab: &Lab,
    segments: usize,
    mss: usize,
    settle: Duration,
    wait: Duration,
) -> Result<Vec<(Instant, u32)>, String> {
    let server = sink_server(lab);
    let capture = SendCapture::start(&lab.client, "eth0", SERVER_PORT)?;
    let client = in_ns(&lab.client, move || -> Result<(), String> {
        let mut s = connect_to(SERVER_PORT, CongestionKind::Cubic).map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
        std::thread::sleep(settle);
        s.write_all(&vec![0x5au8; segments * mss]).map_err(|e| format!("write: {e}"))?;
        std::thread::sleep(wait);
        s.shutdown(std::net::Shutdown::Write).map_err(|e| format!("shutdown: {e}"))
    });
    let sent = client.join().map_err(|_| "client thread panicked".to_string());
    let sends = capture.finish();
    let _ = server.join();
    sent??;
    sends
}

/// connect() to a server whose link is down: how long until it fails, and with what.
pub fn connect_to_dead(lab: &Lab) -> std::thread::JoinHandle<(f64, Option<std::io::ErrorKind>)> {
    in_ns(&lab.client, move || {
        let t0 = Instant::now();
        let r = TcpStream::connect((SERVER_ADDR, SERVER_PORT));
        (t0.elapsed().as_secs_f64(), r.err().map(|e| e.kind()))
    })
}

/// Drop every packet the client receives from the router's own addresses (the ICMP errors it
/// originates), as a network ACL without an ICMP rule would: `ip rule` + blackhole action.
pub fn block_icmp_from_router(lab: &Lab) -> Result<(), String> {
    // The local table's rule (priority 0) would deliver them first: move it behind ours.
    lab.ip_in(&lab.client, &["rule", "add", "priority", "200", "lookup", "local"])?;
    lab.ip_in(&lab.client, &["rule", "del", "priority", "0"])?;
    for a in [ROUTER_CLIENT_SIDE, ROUTER_SERVER_SIDE] {
        lab.ip_in(&lab.client, &["rule", "add", "from", a, "iif", "eth0", "blackhole", "priority", "100"])?;
    }
    Ok(())
}

/// What the server's kernel charges for one received full-sized segment: one connection that
/// sends exactly one MSS, and a server that does not read it. With one skb in an empty receive
/// queue (nothing to coalesce with) the socket's `rmem_alloc` (SO_MEMINFO) is that skb's
/// `truesize`, and SIOCINQ its `len`: the two numbers `tcp_measure_rcv_mss` divides to set
/// `scaling_ratio` when the first full-sized segment arrives. Returns (len, truesize).
/// include/uapi/asm-generic/socket.h (x86, arm64).
const SO_MEMINFO: libc::c_int = 55;

pub fn measure_rx_truesize(lab: &Lab) -> Result<(u32, u32), String> {
    const PORT: u16 = 5002;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = in_ns(&lab.server, move || -> Result<(u32, u32), String> {
        let l = TcpListener::bind((SERVER_ADDR, PORT)).map_err(|e| format!("bind: {e}"))?;
        let _ = ready_tx.send(());
        let (c, _) = accept_within(&l, ACCEPT_LIMIT).map_err(|e| format!("accept: {e}"))?;
        let fd = c.as_raw_fd();
        let t0 = Instant::now();
        let result = loop {
            let mut queued: libc::c_int = 0;
            unsafe { libc::ioctl(fd, libc::FIONREAD, &mut queued) };
            let mut mem = [0u32; 16];
            let mut len = std::mem::size_of_val(&mem) as libc::socklen_t;
            let rc =
                unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, SO_MEMINFO, mem.as_mut_ptr() as *mut _, &mut len) };
            if rc != 0 {
                break Err(format!("SO_MEMINFO: {}", std::io::Error::last_os_error()));
            }
            if queued > 0 {
                // SK_MEMINFO_RMEM_ALLOC is the first entry.
                break Ok((queued as u32, mem[0]));
            }
            if t0.elapsed() > Duration::from_secs(5) {
                break Err("no data within 5 s".into());
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let _ = done_tx.send(());
        result
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "truesize server did not start".to_string())?;
    let client = in_ns(&lab.client, move || -> Result<(), String> {
        let mut s = connect_to(PORT, CongestionKind::Cubic).map_err(|e| format!("connect: {e}"))?;
        let mss = tcp_info(s.as_raw_fd()).map(|i| i.snd_mss).unwrap_or(0) as usize;
        if mss == 0 {
            return Err("no MSS".into());
        }
        s.write_all(&vec![0x5au8; mss]).map_err(|e| format!("write: {e}"))?;
        // Keep the connection open until the server has looked.
        let _ = done_rx.recv_timeout(Duration::from_secs(10));
        Ok(())
    });
    let r = server.join().map_err(|_| "truesize server panicked".to_string())?;
    client.join().map_err(|_| "truesize client panicked".to_string())??;
    r
}

/// A closed-loop request/response exchange over one connection, both ends as an RPC framework
/// runs them: TCP_NODELAY (nitrosim models no Nagle), one request outstanding, the server
/// answering as soon as it has read the request. What each socket sent bare (ACKs and window
/// updates, no data) over the exchanges, from TCP_INFO (`segs_out` - `data_segs_out`): once
/// right after the connection was set up and once `RPC_SETTLE` after the last exchange, both
/// sockets still open.
#[derive(Debug, Default)]
pub struct RpcExchange {
    pub completed: usize,
    pub client_bare: Option<u32>,
    pub server_bare: Option<u32>,
    pub error: Option<String>,
}

/// Longer than any delayed ACK Linux schedules (TCP_DELACK_MAX, 200 ms): every ACK owed has
/// gone when the counters are read.
const RPC_SETTLE: Duration = Duration::from_millis(300);
const RPC_PORT: u16 = 5003;

fn bare_segments(i: &TcpInfo) -> u32 {
    i.segs_out - i.data_segs_out
}

/// Run `rpcs` exchanges of `request` bytes up and `response` bytes down on `lab`'s path.
pub fn rpc_exchange(lab: &Lab, rpcs: usize, request: usize, response: usize) -> RpcExchange {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    // The server's first count is taken before the first request leaves: the client waits for
    // it, or the kernel's ACKs of that request could fall before it and go uncounted.
    let (accepted_tx, accepted_rx) = std::sync::mpsc::channel::<()>();
    let (sampled_tx, sampled_rx) = std::sync::mpsc::channel::<()>();
    let server = in_ns(&lab.server, move || -> Result<u32, String> {
        let l = TcpListener::bind((SERVER_ADDR, RPC_PORT)).map_err(|e| format!("bind: {e}"))?;
        run_realtime("rpc server");
        let _ = ready_tx.send(());
        let (mut c, _) = accept_within(&l, ACCEPT_LIMIT).map_err(|e| format!("accept: {e}"))?;
        let start = tcp_info(c.as_raw_fd()).ok_or("TCP_INFO at accept")?;
        let _ = accepted_tx.send(());
        c.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
        let (mut req, resp) = (vec![0u8; request], vec![0xa5u8; response]);
        for _ in 0..rpcs {
            c.read_exact(&mut req).map_err(|e| format!("server read: {e}"))?;
            c.write_all(&resp).map_err(|e| format!("server write: {e}"))?;
        }
        std::thread::sleep(RPC_SETTLE);
        let end = tcp_info(c.as_raw_fd()).ok_or("TCP_INFO at the end")?;
        // Only now may the client close: its FIN's ACK would count.
        let _ = sampled_tx.send(());
        let mut rest = [0u8; 64];
        while matches!(c.read(&mut rest), Ok(n) if n > 0) {}
        Ok(bare_segments(&end) - bare_segments(&start))
    });
    let mut r = RpcExchange::default();
    if ready_rx.recv_timeout(Duration::from_secs(10)).is_err() {
        r.error = Some("rpc server did not start".into());
        return r;
    }
    let client = in_ns(&lab.client, move || -> (usize, Result<u32, String>) {
        let mut done = 0;
        let result = (|| {
            let mut s = connect_to(RPC_PORT, CongestionKind::Cubic).map_err(|e| format!("connect: {e}"))?;
            let start = tcp_info(s.as_raw_fd()).ok_or("TCP_INFO at connect")?;
            run_realtime("rpc client");
            s.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
            accepted_rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "the server did not accept")?;
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let (req, mut resp) = (vec![0x5au8; request], vec![0u8; response]);
            for _ in 0..rpcs {
                s.write_all(&req).map_err(|e| format!("client write: {e}"))?;
                s.read_exact(&mut resp).map_err(|e| format!("client read: {e}"))?;
                done += 1;
            }
            std::thread::sleep(RPC_SETTLE);
            let end = tcp_info(s.as_raw_fd()).ok_or("TCP_INFO at the end")?;
            let _ = sampled_rx.recv_timeout(Duration::from_secs(10));
            Ok(bare_segments(&end) - bare_segments(&start))
        })();
        (done, result)
    });
    let (done, client_result) = client.join().unwrap_or((0, Err("rpc client panicked".into())));
    let server_result = server.join().unwrap_or_else(|_| Err("rpc server panicked".into()));
    r.completed = done;
    match (client_result, server_result) {
        (Ok(c), Ok(s)) => (r.client_bare, r.server_bare) = (Some(c), Some(s)),
        (c, s) => r.error = Some(format!("client: {:?}, server: {:?}", c.err(), s.err())),
    }
    r
}
