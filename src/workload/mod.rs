//! Traffic generators: what each workload is asked to do (`config`, plain data the scenario
//! module lowers its file schema into), and their pure parts: size distributions, arrival
//! processes, the RPC bookkeeping that matches byte streams to requests and responses, and the
//! flow-log reader. The model's `apps` glue drives them.

pub mod config;
pub mod dist;
pub mod flowlogs;
pub mod rpc;

pub use dist::{Interarrival, Sizes};
pub use rpc::RpcBook;
