//! Path MTU, as Linux does it: ICMP lowers the MSS and resends what no longer fits
//! (`tcp_v4_mtu_reduced`, `tcp_simple_retransmit`); black-hole detection past `tcp_retries1`
//! (`tcp_mtu_probing`); and the RFC 4821 search with probes (`tcp_mtu_probe`).

use super::config::{LINUX_MIN_SND_MSS, TCP_IP_OVERHEAD_BYTES};
use super::{CaState, Tcp};
use crate::transport::{MssCause, Note, Outbox};
use crate::units::{PackedOption, SimTime};

/// A probe needs this many segments of window and of data behind it (Linux `tcp_mtu_probe`:
/// cwnd of 11 segments; reordering (3) + 1 segments after the probe to detect its loss).
const PROBE_MIN_CWND_SEGMENTS: u64 = 11;
const PROBE_TRAILING_SEGMENTS: u64 = 4;

impl Tcp {
    /// tcp_sync_mss: the MSS for a path MTU, never above what the interfaces allow, and while
    /// probing never above the search's proven lower bound.
    pub(super) fn set_mss_for(&mut self, mtu: u32, cause: MssCause, out: &mut Outbox) {
        let mut mss = (mtu.saturating_sub(TCP_IP_OVERHEAD_BYTES) as u64).min(self.mss_max);
        if self.mtup.enabled {
            mss = mss.min((self.mtup.search_low - TCP_IP_OVERHEAD_BYTES) as u64);
        }
        let mss = mss.max(LINUX_MIN_SND_MSS);
        if mss != self.mss {
            out.notes.push(Note::MssChanged { from: self.mss, to: mss, cause });
            self.mss = mss;
            self.window.mss = mss;
        }
    }

    /// tcp_simple_retransmit: everything outstanding is resent at the new size now, without a
    /// congestion response ("units changed, the window did not").
    pub(super) fn simple_retransmit(&mut self) {
        if self.snd_una >= self.snd_nxt {
            return;
        }
        if self.recovery != CaState::Loss {
            self.recovery = CaState::Loss;
            self.recover = self.snd_nxt;
        }
        self.rtx_next = self.snd_una;
        self.rtx_log.clear();
        self.rack_rtx_delivered = PackedOption::NONE;
        self.rack_deadline = PackedOption::NONE;
    }

    pub(super) fn probe_failed(&mut self, out: &mut Outbox) {
        if let Some((_, _, mtu)) = self.mtup.probe.take() {
            self.mtup.search_high = mtu - 1;
            out.notes.push(Note::ProbeFailed { mtu });
        }
    }

    /// Linux `tcp_mtu_probe`: in the open state with a window of 11 segments and data for the
    /// probe plus the segments whose ACKs would reveal its loss, send one segment of the size
    /// halfway between the proven and the failed sizes. Returns true when a probe went out.
    pub(super) fn try_probe(&mut self, now: SimTime, limit: u64, out: &mut Outbox) -> bool {
        let m = self.mtup;
        if !m.enabled || m.probe.is_some() || self.recovery != CaState::Open {
            return false;
        }
        if m.search_high - m.search_low < self.cfg.probe_threshold {
            // Converged: search again after `probe_interval` (tcp_mtu_check_reprobe).
            if now >= m.converged_at + self.cfg.probe_interval && m.converged_at > SimTime::ZERO {
                self.mtup.search_high = (self.mss_max as u32) + TCP_IP_OVERHEAD_BYTES;
                self.mtup.converged_at = now;
            }
            return false;
        }
        let probe_mtu = (m.search_low + m.search_high) / 2;
        let size = (probe_mtu - TCP_IP_OVERHEAD_BYTES) as u64 - (self.mss - self.send_mss());
        if size <= self.mss || self.window.cwnd < PROBE_MIN_CWND_SEGMENTS * self.mss {
            return false;
        }
        let pipe = self.pipe();
        let needed = size + PROBE_TRAILING_SEGMENTS * self.mss;
        // The probe counts as one packet against the window, as in Linux (room for two).
        if self.write_end - self.snd_nxt < needed || pipe + 2 * self.mss > limit {
            return false;
        }
        self.emit_data(now, self.snd_nxt, size, false, out);
        self.mtup.probe = Some((self.snd_nxt, self.snd_nxt + size, probe_mtu));
        self.snd_nxt += size;
        out.notes.push(Note::ProbeSent { mtu: probe_mtu });
        true
    }

    /// Linux `tcp_mtu_probing`, called when retransmissions time out past `tcp_retries1`: turn
    /// probing on (mode 1) and fall back to `tcp_base_mss`, or halve the proven size.
    pub(super) fn black_hole_detected(&mut self, out: &mut Outbox) {
        if self.cfg.mtu_probing == 0 {
            return;
        }
        if !self.mtup.enabled {
            self.mtup.enabled = true;
        } else {
            let half = ((self.mtup.search_low - TCP_IP_OVERHEAD_BYTES) / 2) as u64;
            let mss = half.min(self.cfg.base_mss as u64).max(LINUX_MIN_SND_MSS);
            self.mtup.search_low = mss as u32 + TCP_IP_OVERHEAD_BYTES;
        }
        self.mtup.probe = None;
        let pmtu = (self.mss_max as u32) + TCP_IP_OVERHEAD_BYTES;
        self.set_mss_for(pmtu.min(self.mtup.search_high), MssCause::BlackHole, out);
    }

    /// An ICMP "fragmentation needed" (or a gateway's clamp) reports `mtu` for the path.
    pub(super) fn on_path_mtu_reduced(&mut self, now: SimTime, mtu: u32, out: &mut Outbox) {
        if self.aborted() {
            return;
        }
        // tcp_v4_mtu_reduced: lower the MSS; if what is in flight no longer fits, resend it now.
        let mtu = mtu.max(crate::net::ip::LINUX_MIN_PMTU);
        self.mtup.search_high = self.mtup.search_high.min(mtu);
        if let Some((_, _, p)) = self.mtup.probe
            && p > mtu
        {
            self.probe_failed(out);
        }
        let before = self.mss;
        self.set_mss_for(mtu, MssCause::PathMtu(mtu), out);
        if self.mss < before {
            self.simple_retransmit();
            self.push(now, out);
        }
    }
}
