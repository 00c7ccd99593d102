//! Importers: descriptions users already have, turned into scenario files.
//!
//! - [`terraform`]: the JSON that `terraform show -json` prints for a plan or a state, turned
//!   into a scenario (RON text with comments naming each source resource).

pub mod terraform;
