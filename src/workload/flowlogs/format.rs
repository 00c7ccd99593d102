//! The flow log record format, as AWS documents it ("Flow log records", VPC user guide, read
//! 2026-11): the field names of versions 2 to 5 and the default (version 2) layout, the TCP flag
//! bits, a line's size limit and the address syntax.

/// Longest line accepted (a v5 record with every field is under 400 B).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// TCP flag bits as flow logs report them (RFC 9293 header bits).
pub const TCP_FIN: u32 = 0x01;
pub const TCP_SYN: u32 = 0x02;
pub const TCP_RST: u32 = 0x04;
pub const TCP_ACK: u32 = 0x10;

/// Every field name AWS documents for versions 2 to 5 (others are rejected, to catch typos).
pub const KNOWN_FIELDS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
];

/// The default (version 2) format's fields, in order: the first 14 of `KNOWN_FIELDS`.
pub const V2_FIELDS: &[&str] = KNOWN_FIELDS.split_at(14).0;
const _: () = assert!(V2_FIELDS.len() == 14 && V2_FIELDS[13].len() == "log-status".len());

/// A dotted-quad IPv4 address.
pub(super) fn parse_ipv4(s: &str) -> Option<u32> {
    s.parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

/// An address as text, dotted quad.
pub(super) fn ip_text(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}
