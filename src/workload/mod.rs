//! Traffic generators' pure parts: size distributions, arrival processes, and the RPC bookkeeping
//! that matches byte streams to requests and responses. The model's `apps` glue drives them.

pub mod dist;
pub mod flowlogs;
pub mod rpc;

pub use dist::{Interarrival, Sizes};
pub use rpc::RpcBook;
