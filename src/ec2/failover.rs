//! How a service address moves from a failed instance to its standby, and how long EC2 takes.
//!
//! - a **secondary ENI** carrying the service IP (with its MAC and security groups) is detached
//!   from the failed instance and attached to the standby in the same AZ; clients keep the IP;
//! - an **Elastic IP** is re-associated with the standby;
//! - a **DNS record** is changed to the standby's address; clients keep using the address they
//!   resolved until its TTL runs out.
//!
//! In the first two, the address moves: a client's next packet on an old connection reaches the
//! standby, which has no such socket and answers with a reset, so the client reconnects at once.
//! With DNS nothing answers the old address: clients wait for their own timeouts.

use crate::units::SimDuration;

/// Detaching a secondary ENI, and attaching one until the guest has the interface up (model
/// parameters: AWS publishes no figure; the API calls return in about a second and the OS then
/// configures the interface).
pub const ENI_DETACH_DELAY: SimDuration = SimDuration::from_ms(1500);
pub const ENI_ATTACH_DELAY: SimDuration = SimDuration::from_ms(1500);
/// Moving a secondary ENI to another instance: detach, then attach.
pub const ENI_MOVE_DELAY: SimDuration = SimDuration(ENI_DETACH_DELAY.0 + ENI_ATTACH_DELAY.0);
/// Re-associating an Elastic IP (model parameter: typically seconds).
pub const EIP_REMAP_DELAY: SimDuration = SimDuration::from_secs(2);
/// A Route 53 record change reaching all its authoritative servers: "within 60 seconds"
/// (Amazon Route 53 FAQ).
pub const DNS_PROPAGATION_DELAY: SimDuration = SimDuration::from_secs(60);
