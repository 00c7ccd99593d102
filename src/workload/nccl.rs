//! NCCL's constants shared by its ring (`collectives`) and its tree (`nccl_tree`).

/// Buffer slots per NCCL connection. Source: NCCL src/include/device.h (devcomm.h in older
/// releases), `#define NCCL_STEPS 8`.
pub const NCCL_STEPS: u32 = 8;
/// The Simple protocol's buffer per connection: `DEFAULT_BUFFSIZE` (4 MiB) in NCCL src/init.cc,
/// `NCCL_BUFFSIZE` to change it.
pub const NCCL_BUFFSIZE_BYTES: u64 = 4 << 20;
/// An NVLink step or chunk has landed: the tag is this plus the edge's index (a ring's
/// `channel * ranks + rank`, a tree's edge).
pub const TAG_NVLINK_BASE: u32 = 1 << 20;
