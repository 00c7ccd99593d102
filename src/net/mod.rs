//! The network layer: packets as metadata, ports (queue + server + pipe), the leaf-spine
//! fabric with ECMP, and the IPv4 rules for packets too big for a hop (fragmentation, PMTUD). Nothing here knows about EC2 or transports; a packet follows a precomputed
//! route of ports, htsim-style, so "spraying" later is just a different route per packet.

pub mod fabric;
pub mod ip;
pub mod packet;
pub mod port;

pub use packet::{DropReason, MAX_SACK_BLOCKS, Packet, PacketId, PacketPool, SegKind, Segment, Sink, SrdHeader};
pub use port::{ETHERNET_FRAMING_BYTES, Enqueued, MAX_PORTS, Offer, Port, PortConfig, PortId, PortNoise, push_port};
