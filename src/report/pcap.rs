//! Packet captures as real pcap files (LINKTYPE_ETHERNET): every captured packet gets Ethernet,
//! IPv4 and TCP/UDP/ICMP headers built by `etherparse` (checksums included), its payload
//! zero-filled and truncated to a snap length, so Wireshark and tshark decode the trace: the
//! handshake, the retransmissions, "Fragmentation needed" with its next-hop MTU, the fragments.

use crate::model::trace::{CapturePoint, CaptureRecord};
use crate::net::SegKind;
use etherparse::{Icmpv4Header, Icmpv4Type, IpNumber, Ipv4Header, TcpHeader, TcpOptionElement, UdpHeader};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use std::io::Write;
use std::time::Duration;

/// Bytes of each packet kept in the file (headers and the start of the payload).
pub const SNAP_LEN: u32 = 128;
const ETHERNET_HEADER_BYTES: u32 = 14;

/// Locally administered MAC of an address (ENIs have AWS MACs; this keeps traces readable).
fn mac(ip: u32) -> [u8; 6] {
    let b = ip.to_be_bytes();
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

/// The IPv4 header of a captured packet (or of the packet an ICMP message quotes).
fn ipv4(r: &CaptureRecord, protocol: IpNumber, total: u32, src: u32, dst: u32) -> Ipv4Header {
    let mut h = Ipv4Header::new(0, 64, protocol, src.to_be_bytes(), dst.to_be_bytes()).expect("no payload yet");
    h.total_len = total.min(u16::MAX as u32) as u16;
    h.identification = r.frag.id();
    h.dont_fragment = r.seg.df;
    h.more_fragments = r.frag.more();
    h.fragment_offset =
        etherparse::IpFragOffset::try_new((r.frag.offset() / 8) as u16).unwrap_or(etherparse::IpFragOffset::ZERO);
    h.header_checksum = h.calc_header_checksum();
    h
}

/// The transport header of a whole packet or a first fragment (later fragments carry none).
fn transport_bytes(r: &CaptureRecord, sport: u16, dport: u16, out: &mut Vec<u8>) {
    let seg = &r.seg;
    if matches!(seg.kind, SegKind::Datagram) {
        let udp = UdpHeader {
            source_port: sport,
            destination_port: dport,
            length: (seg.payload_bytes + 8).min(65535) as u16,
            checksum: 0,
        };
        out.extend_from_slice(&udp.to_bytes());
        return;
    }
    // Relative sequence numbers from 1 (our sequence space starts at 0 after the SYN).
    let seq = (seg.seq as u32).wrapping_add(if matches!(seg.kind, SegKind::Syn | SegKind::SynAck) { 0 } else { 1 });
    let mut tcp = TcpHeader::new(sport, dport, seq, 65535);
    tcp.acknowledgment_number = (seg.ack as u32).wrapping_add(1);
    tcp.syn = matches!(seg.kind, SegKind::Syn | SegKind::SynAck);
    tcp.ack = !matches!(seg.kind, SegKind::Syn);
    tcp.fin = seg.fin;
    tcp.psh = seg.payload_bytes > 0;
    // The options Linux sends, so header lengths match the packet sizes the model charges.
    let ts = TcpOptionElement::Timestamp((seg.ts.ps() / 1_000_000) as u32, (seg.ts_echo.ps() / 1_000_000) as u32);
    let rel = |x: u64| (x as u32).wrapping_add(1);
    let mut blocks = seg.sack_blocks();
    let options = if tcp.syn {
        vec![
            TcpOptionElement::MaximumSegmentSize(seg.mss_option()),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            ts,
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ]
    } else if let Some(first) = blocks.next() {
        let mut more = [None; 3];
        for (k, r) in blocks.enumerate() {
            more[k] = Some((rel(r.0), rel(r.1)));
        }
        vec![
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
            ts,
            TcpOptionElement::Noop,
            TcpOptionElement::Noop,
            TcpOptionElement::SelectiveAcknowledgement((rel(first.0), rel(first.1)), more),
        ]
    } else {
        vec![TcpOptionElement::Noop, TcpOptionElement::Noop, ts]
    };
    // Option space is bounded (40 bytes); a failure here would be a bug in the list above.
    let _ = tcp.set_options(&options);
    out.extend_from_slice(&tcp.to_bytes());
}

/// The frame of one record, cut to `SNAP_LEN`; returns (bytes, original length on the wire).
fn frame(r: &CaptureRecord) -> (Vec<u8>, u32) {
    let mut out = Vec::with_capacity(SNAP_LEN as usize);
    let t = &r.tuple;
    out.extend_from_slice(&mac(t.dst_ip));
    out.extend_from_slice(&mac(t.src_ip));
    out.extend_from_slice(&0x0800u16.to_be_bytes());
    if let Some(icmp) = &r.icmp {
        let ip = ipv4(r, IpNumber::ICMP, r.wire_bytes, t.src_ip, t.dst_ip);
        let ip = Ipv4Header { dont_fragment: false, more_fragments: false, identification: 0, ..ip };
        let ip = Ipv4Header { header_checksum: ip.calc_header_checksum(), ..ip };
        out.extend_from_slice(&ip.to_bytes());
        // The quoted packet: its IP header and the first 8 bytes of its transport header.
        let o = icmp.original;
        let quoted_rec = CaptureRecord { seg: icmp.original_seg, frag: r.frag, ..*r };
        let proto = if o.protocol == crate::ec2::vpc::PROTO_UDP { IpNumber::UDP } else { IpNumber::TCP };
        let mut quoted = ipv4(&quoted_rec, proto, icmp.original_wire_bytes, o.src_ip, o.dst_ip).to_bytes().to_vec();
        let mut th = Vec::new();
        transport_bytes(&quoted_rec, o.src_port, o.dst_port, &mut th);
        quoted.extend_from_slice(&th[..8]);
        let kind = Icmpv4Type::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::FragmentationNeeded {
            next_hop_mtu: icmp.mtu.min(u16::MAX as u32) as u16,
        });
        let header = Icmpv4Header::with_checksum(kind, &quoted);
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&quoted);
        return (out, ETHERNET_HEADER_BYTES + r.wire_bytes);
    }
    let proto = if matches!(r.seg.kind, SegKind::Datagram) { IpNumber::UDP } else { IpNumber::TCP };
    out.extend_from_slice(&ipv4(r, proto, r.wire_bytes, t.src_ip, t.dst_ip).to_bytes());
    if r.frag.offset() == 0 {
        transport_bytes(r, t.src_port, t.dst_port, &mut out);
    }
    let len = ETHERNET_HEADER_BYTES + r.wire_bytes;
    // The payload is zero-filled, up to the snap length.
    out.resize(len.min(SNAP_LEN) as usize, 0);
    (out, len)
}

/// Write one capture point's packets as a pcap file.
pub fn write(w: &mut dyn Write, point: &CapturePoint) -> std::io::Result<()> {
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        snaplen: SNAP_LEN,
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut pw = PcapWriter::with_header(w, header).map_err(io_error)?;
    for r in &point.records {
        let (bytes, orig_len) = frame(r);
        let ts = Duration::from_nanos(r.time.ps() / 1000);
        pw.write_packet(&PcapPacket::new(ts, orig_len, &bytes)).map_err(io_error)?;
    }
    Ok(())
}

/// The writer's own I/O error as it was ("File too large"): pcap-file's wrapper displays every
/// one of them as "Error reading bytes", even a failed write.
fn io_error(e: pcap_file::PcapError) -> std::io::Error {
    match e {
        pcap_file::PcapError::IoError(io) => io,
        other => std::io::Error::other(other),
    }
}
