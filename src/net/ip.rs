//! The IPv4 layer between transports and links: fragmentation (RFC 791), Path MTU Discovery's
//! "fragmentation needed" messages (RFC 1191, RFC 792) and the host's per-destination path MTU
//! cache. Pure arithmetic and bookkeeping; `model` decides where it applies.

use crate::units::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// IPv4 header without options (RFC 791 section 3.1).
pub const IPV4_HEADER_BYTES: u32 = 20;
/// Fragment data is counted in 8-byte units (RFC 791: fragment offset field).
pub const FRAGMENT_UNIT_BYTES: u32 = 8;
/// ICMP "destination unreachable" carrying the offending datagram's IP header and its first 8
/// data bytes (RFC 792; RFC 1191 section 4 puts the next-hop MTU in the unused field):
/// 20 (IP) + 8 (ICMP) + 20 + 8.
pub const ICMP_FRAG_NEEDED_WIRE_BYTES: u32 = 56;
/// ICMP type 3 (destination unreachable), code 4 (fragmentation needed and DF set).
pub const ICMP_DEST_UNREACHABLE: u8 = 3;
pub const ICMP_FRAG_NEEDED: u8 = 4;
/// The smallest datagram every IPv4 host must accept (RFC 791) and the smallest MTU we allow.
pub const MIN_MTU: u32 = 576;
/// Linux `net.ipv4.route.min_pmtu`: a reported next-hop MTU below this is taken as this.
pub const LINUX_MIN_PMTU: u32 = 552;
/// No limit on a port (every port but a gateway's).
pub const NO_MTU_LIMIT: u32 = u32::MAX;
/// A port whose MTU is 0 carries nothing: a link or an instance that is down, or the gate of an
/// ENI whose source/destination check refuses forwarded packets. What is offered is dropped with
/// the port's drop reason.
pub const PORT_CLOSED: u32 = 0;

/// Where a packet sits in its original datagram, packed as IPv4 packs it (RFC 791): the 16-bit
/// identification, and one 16-bit word holding the offset in 8-byte units (13 bits) and the
/// more-fragments flag. `id == 0` means "not a fragment". Four bytes: packets stay small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragInfo {
    id: u16,
    bits: u16,
}

const MORE_FRAGMENTS: u16 = 1 << 13;

impl FragInfo {
    pub fn new(id: u16, offset: u32, more: bool) -> Self {
        assert!(id != 0 && offset.is_multiple_of(FRAGMENT_UNIT_BYTES) && offset < 65_536, "fragment {id} at {offset}");
        FragInfo { id, bits: (offset / FRAGMENT_UNIT_BYTES) as u16 | if more { MORE_FRAGMENTS } else { 0 } }
    }
    pub fn is_fragment(&self) -> bool {
        self.id != 0
    }
    pub fn id(&self) -> u16 {
        self.id
    }
    /// Offset of this fragment's data in its datagram, in bytes.
    pub fn offset(&self) -> u32 {
        (self.bits & (MORE_FRAGMENTS - 1)) as u32 * FRAGMENT_UNIT_BYTES
    }
    pub fn more(&self) -> bool {
        self.bits & MORE_FRAGMENTS != 0
    }
}

/// Split an IP packet of `wire_bytes` (header included) whose data starts at `offset` of its
/// datagram into fragments that fit `mtu`: each fragment's data is a multiple of 8 bytes except
/// the last. Calls `f(data_offset, data_bytes, more)`; the last piece keeps the packet's own
/// `more` flag (a fragment of a fragment). Returns the number of fragments.
pub fn fragment(wire_bytes: u32, offset: u32, more: bool, mtu: u32, mut f: impl FnMut(u32, u32, bool)) -> u32 {
    // RFC 791: every link carries at least 68 bytes; a scenario MTU is at least 576.
    assert!(mtu >= 68, "MTU {mtu} below the IPv4 minimum");
    assert!(wire_bytes > mtu, "only packets larger than the MTU are fragmented");
    let data = wire_bytes - IPV4_HEADER_BYTES;
    let chunk = (mtu - IPV4_HEADER_BYTES) / FRAGMENT_UNIT_BYTES * FRAGMENT_UNIT_BYTES;
    let mut done = 0;
    let mut n = 0;
    while done < data {
        let len = chunk.min(data - done);
        let last = done + len == data;
        f(offset + done, len, if last { more } else { true });
        done += len;
        n += 1;
    }
    n
}

/// Linux defaults for the IP layer (Documentation/networking/ip-sysctl.rst).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Ip", deny_unknown_fields, default)]
pub struct IpConfig {
    /// `net.ipv4.route.mtu_expires`: a learnt path MTU is forgotten after 10 minutes.
    pub pmtu_expires: SimDuration,
    /// `net.ipv4.ipfrag_time`: an incomplete datagram is discarded after 30 s.
    pub ipfrag_time: SimDuration,
    /// `net.ipv4.ipfrag_high_thresh`: memory for fragments awaiting reassembly, 4 MiB.
    pub ipfrag_high_thresh: crate::units::Bytes,
}

impl Default for IpConfig {
    fn default() -> Self {
        IpConfig {
            pmtu_expires: SimDuration::from_secs(600),
            ipfrag_time: SimDuration::from_secs(30),
            ipfrag_high_thresh: crate::units::Bytes(4 << 20),
        }
    }
}

/// Bound on destinations a host remembers a path MTU for (Linux bounds its route cache too).
pub const MAX_PMTU_ENTRIES: usize = 4096;

/// A host's learnt path MTUs by destination address, each valid until it expires.
#[derive(Clone, Debug, Default)]
pub struct PmtuCache {
    entries: Vec<(u32, u32, SimTime)>,
}

impl PmtuCache {
    /// The path MTU to `dst` at `now`, if one was learnt and has not expired.
    pub fn get(&self, dst: u32, now: SimTime) -> Option<u32> {
        self.entries.iter().find(|e| e.0 == dst && now < e.2).map(|e| e.1)
    }
    /// Learn `mtu` for `dst` (only ever lowering a live entry, as RFC 1191 section 6.3 asks).
    /// Returns true when the cached value changed.
    pub fn learn(&mut self, dst: u32, mtu: u32, now: SimTime, expires: SimDuration) -> bool {
        match self.entries.iter_mut().find(|e| e.0 == dst) {
            Some(e) if now < e.2 && e.1 <= mtu => false,
            Some(e) => {
                *e = (dst, mtu, now + expires);
                true
            }
            None => {
                if self.entries.len() >= MAX_PMTU_ENTRIES {
                    self.entries.remove(0);
                }
                self.entries.push((dst, mtu, now + expires));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_cover_the_data_in_eight_byte_units() {
        // 9001-byte packet through a 1500 MTU: 8981 data bytes in 1480-byte pieces (185 x 8).
        let mut got = Vec::new();
        let n = fragment(9001, 0, false, 1500, |o, l, m| got.push((o, l, m)));
        assert_eq!(n, 7);
        assert_eq!(got[0], (0, 1480, true));
        assert_eq!(got[6], (6 * 1480, 8981 - 6 * 1480, false));
        assert_eq!(got.iter().map(|g| g.1).sum::<u32>(), 8981);
        assert!(got.iter().all(|g| g.0 % 8 == 0));
        // A middle fragment fragmented again keeps MF set on its last piece.
        let mut again = Vec::new();
        fragment(1500, 1480, true, 576, |o, l, m| again.push((o, l, m)));
        assert!(again.last().unwrap().2);
        assert_eq!(again.iter().map(|g| g.1).sum::<u32>(), 1480);
        assert_eq!(again[0].0, 1480);
    }

    #[test]
    fn pmtu_cache_lowers_and_expires() {
        let mut c = PmtuCache::default();
        let t = |s| SimTime::ZERO + SimDuration::from_secs(s);
        let ten_min = SimDuration::from_secs(600);
        assert!(c.learn(7, 1500, t(0), ten_min));
        assert!(!c.learn(7, 8500, t(1), ten_min), "a live entry is only lowered");
        assert_eq!(c.get(7, t(599)), Some(1500));
        assert_eq!(c.get(7, t(600)), None, "expired after 10 minutes");
        assert!(c.learn(7, 8500, t(700), ten_min), "an expired entry is replaced");
    }
}
