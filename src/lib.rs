//! # nitrosim — a packet-level simulator of the AWS EC2 data plane
//!
//! People who run on EC2 cannot see inside its network. nitrosim rebuilds the parts that decide
//! throughput and tail latency — instances and their Nitro cards, ENIs and their virtual
//! functions, a multi-path leaf-spine fabric, the kernel's TCP — and runs them as a deterministic
//! discrete-event simulation, packet by packet, with time in integer picoseconds.
//!
//! ## Layers
//!
//! One line per folder, in the order data flows from a file to a table. The simulating layers
//! (`model` down to `units`) never read a scenario file type, a report or a sweep; `run`,
//! `report`, `sweep` and `validate` sit on top of them. `tests/module_graph.rs` fails on any
//! module cycle and on any upward import:
//!
//! - [`import`] turns what a user already has (Terraform state or plan, VPC Flow Logs) into
//!   scenario text.
//! - [`scenario`] reads a RON file into its schema (`spec/`), applies overrides (`--set`,
//!   variants), validates it section by section (`validate/`), lowers it into the plain
//!   configuration each layer owns (`lower`) and builds the world from that (`build`).
//! - [`model`] is the world at run time: dispatch and clock, hosts, Nitro cards, fabric paths,
//!   accounting, the workloads' glue, timed actions, traces, and the results it assembles, one
//!   file per thing simulated.
//! - [`workload`] holds the traffic generators, one file per kind behind the `Workload` trait
//!   (start, on_event, on_established, on_delivery, results): each acts through the small `Ctx`
//!   trait the model implements and makes its own part of the summary from a read-only view of
//!   the finished run. Adding a workload is one file there, one `App` line and one
//!   `workload_kinds!` line in `model/app_state.rs`. It also owns what traffic is asked for
//!   (`config`), size distributions and arrivals, RPC bookkeeping and the flow-log reader.
//! - [`ec2`] holds EC2's rules and numbers: the instance catalog (a generated data file), Regions,
//!   flow limits, ENA Express eligibility, VPC rules, gateways, NAT, allowances, connection
//!   tracking, failover delays, prices — each constant with its source, or marked a model choice.
//! - [`transport`] holds sans-IO state machines (host TCP in `tcp/`, UDP, EFA's RDM layer, SRD in
//!   `srd/`): segments, time and randomness in; segments and a wake-up time out.
//! - [`net`] holds packets (metadata only), ports (a queue, a server, a pipe), the leaf-spine
//!   fabric with per-switch-salted ECMP, and IPv4 fragmentation and the path MTU cache.
//! - [`engine`] holds the event queue (ties broken by insertion order) and per-component random
//!   streams derived from (seed, name). It knows nothing of networks.
//! - [`units`] holds time, sizes and rates as integers, and parses "25us", "100Gbps", "64KiB".
//! - [`run`] runs a scenario's variants in parallel (rayon), results in declaration order.
//! - [`report`] renders finished results from plain data: `summary.json`, CSV, pcap, plots,
//!   ladder diagrams, `report.html`, the table.
//! - [`sweep`] runs parameter grids over seeds (resumable, sharded), computes statistics and
//!   hands report plain tables to draw.
//! - [`validate`] runs the reference cases of `validation/` (a scenario, a field, a cited or
//!   theoretical reference, a tolerance) and tabulates the model against the outside world.
//! - [`memory_probe`] times random loads on the machine itself: the yardstick for the
//!   simulator's speed at scale, which follows the machine's memory more than its code.
//! - [`output_set`] writes every result folder whole or not at all; [`progress`] shows progress
//!   on stderr and reads the wall clock, the only place that may; [`names`] finds the nearest
//!   known name for "did you mean" hints; the CLI (`main.rs`, `cli/`) parses and prints.
//!
//! ## The packet path
//!
//! A flow from instance A to instance B follows a route fixed when the connection opens:
//! A's vCPU (per-packet kernel cost, chosen by RSS) → A's Nitro card per-flow shaper (5 Gbps, or
//! 10 Gbps inside a cluster placement group, 25 Gbps with ENA Express) → A's instance bandwidth
//! shaper → the fabric (host link, ToR uplink picked by ECMP, spine downlink, host link) → B's
//! Nitro ingress shaper → B's vCPU → B's TCP. Every stage is a [`net::Port`]; every drop has a [`net::DropReason`].
//! Only the fabric's ports are physical links: they serialise the Ethernet frame (IP bytes + 38 B
//! of header, FCS, preamble and gap, [`net::ETHERNET_FRAMING_BYTES`]); shapers, vCPUs and card
//! stages see IP packets. Host costs and card delays vary per packet (timing noise, seeded per
//! port, switchable off) so that no drop-tail phase effect decides a result.
//! Gateways and forwarding instances on a pair's path (scenario `paths`, route tables) add their
//! ports; a port's MTU decides fragmentation or an ICMP "fragmentation needed" back to the sender.
//! Security groups and network ACLs are evaluated when a connection opens (and again when a timed
//! action changes an ACL, and the security groups when a connection's tracking entry has idled
//! out), and their verdicts ride with the endpoints.
//!
//! ## Determinism
//!
//! Same scenario and seed give byte-identical outputs whatever the thread count: the event queue
//! breaks ties by insertion order, each component draws from its own stream, no model state is
//! iterated in hash order, and variants run in parallel only across runs, never inside one.

// A scenario `Diagnostic` is large, but it travels once, on the error path: boxing it buys nothing.
#![allow(clippy::result_large_err)]

pub mod ec2;
pub mod engine;
pub mod import;
pub mod memory_probe;
pub mod model;
pub mod names;
pub mod net;
pub mod output_set;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod transport;
pub mod units;
pub mod validate;
pub mod workload;
