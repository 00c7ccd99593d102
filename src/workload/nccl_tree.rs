//! NCCL's tree all-reduce (`NCCL_ALGO_TREE`, Simple protocol) as the node runs it.
//!
//! NCCL joins the nodes in a *double binary tree* (Sanders, Speck and Träff's two trees in which
//! every node is a leaf of one and interior in the other: NCCL src/graph/trees.cc,
//! `ncclGetDtree`); half of the channels use each tree. Inside a node the GPUs form a chain, GPU 0
//! facing the network (NCCL's `NCCL_TOPO_PATTERN_TREE`: all of a channel's network traffic through
//! one GPU). Each channel reduces its share of the buffer chunk by chunk: a rank sends chunk `k`
//! up once it has chunk `k` from every child (the chain's next GPU and, on GPU 0, the child
//! nodes), the root's GPU 0 then holds the sum, and every rank forwards chunk `k` down once it
//! has it from its parent. Up and down run at once over the chunks (NCCL's `runTreeSplit`), each
//! edge with `NCCL_STEPS` buffer slots, one per chunk (tree chunks take one step:
//! `chunkSteps = 1` outside the ring, src/enqueue.cc).
//!
//! A chunk over NVLink costs `nvlink_step` plus its bytes at the channel's share of the GPU's
//! NVLink; between nodes it is one EFA message on the channel's card, at packet level.

use super::Ctx;
use super::nccl::{NCCL_BUFFSIZE_BYTES, NCCL_STEPS, TAG_NVLINK_BASE};
use crate::units::{Bandwidth, SimDuration};

/// Buffer slots per NCCL connection (NCCL src/include/device.h, `NCCL_STEPS`); a tree chunk
/// takes one.
pub const TREE_CHUNKS_IN_FLIGHT: u32 = NCCL_STEPS;
/// A tree chunk: the Simple protocol's buffer over its slots, 4 MiB / 8 (`stepSize =
/// buffSize / NCCL_STEPS`, `chunkSize = stepSize * chunkSteps` with `chunkSteps = 1` for the tree,
/// src/enqueue.cc; `DEFAULT_BUFFSIZE` 4 MiB in src/init.cc).
pub const TREE_MAX_CHUNK_BYTES: u64 = NCCL_BUFFSIZE_BYTES / NCCL_STEPS as u64;
/// No edge, no connection.
const NONE: u32 = u32::MAX;
/// A rank has at most three children: the chain's next GPU and two child nodes.
const MAX_CHILDREN: usize = 3;

/// The binary tree NCCL builds over `n` nodes with root 0 (src/graph/trees.cc, `ncclGetBtree`):
/// (parent, child 0, child 1) of `rank`, `None` where there is none.
fn btree(n: usize, rank: usize) -> (Option<usize>, Option<usize>, Option<usize>) {
    let mut bit = 1;
    while bit < n && bit & rank == 0 {
        bit <<= 1;
    }
    if rank == 0 {
        return (None, None, (n > 1).then_some(bit >> 1));
    }
    let mut up = (rank ^ bit) | (bit << 1);
    if up >= n {
        up = rank ^ bit;
    }
    let mut low = bit >> 1;
    let down0 = (low != 0).then(|| rank - low);
    let mut down1 = (low != 0).then(|| rank + low);
    // As trees.cc does it: the recomputation lags the halving by one round.
    while let Some(d) = down1
        && d >= n
    {
        down1 = (low != 0).then(|| rank + low);
        low >>= 1;
    }
    (Some(up), down0, down1)
}

/// The second tree of NCCL's double binary tree (`ncclGetDtree`): the first one mirrored when
/// `n` is even, shifted by one when it is odd.
fn dtree(n: usize, rank: usize, second: bool) -> (Option<usize>, Option<usize>, Option<usize>) {
    if !second {
        return btree(n, rank);
    }
    if n % 2 == 1 {
        let (u, d0, d1) = btree(n, (rank + n - 1) % n);
        let shift = |x: Option<usize>| x.map(|x| (x + 1) % n);
        (shift(u), shift(d0), shift(d1))
    } else {
        let (u, d0, d1) = btree(n, n - 1 - rank);
        let mirror = |x: Option<usize>| x.map(|x| n - 1 - x);
        (mirror(u), mirror(d0), mirror(d1))
    }
}

/// One directed link of a channel's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeEdge {
    /// Ranks, `channel * ranks + node * gpus + gpu`.
    pub from: u32,
    pub to: u32,
    /// Toward the root (reduce) or away from it (broadcast).
    pub up: bool,
    /// The EFA connection between the two nodes, or `NONE` within a node (NVLink).
    pub conn: u32,
    /// The nodes of a connection's two ends (instances' indices in the fleet).
    pub from_node: u32,
    pub to_node: u32,
}

#[derive(Clone, Debug)]
pub struct NcclTree {
    pub gpus: usize,
    pub nodes: usize,
    pub channels: usize,
    /// Bytes of one chunk on one channel.
    pub chunk: u64,
    /// Chunks per channel per collective.
    pub chunks: u32,
    pub nvlink_step: SimDuration,
    pub nvlink_share: Bandwidth,
    pub edges: Vec<TreeEdge>,
    /// Per rank (over every channel): its edge toward the root, toward it from its parent, its
    /// edges from its children and to its children (`NONE`-padded).
    up_out: Vec<u32>,
    down_in: Vec<u32>,
    up_in: Vec<[u32; MAX_CHILDREN]>,
    down_out: Vec<[u32; MAX_CHILDREN]>,
    /// Per EFA connection (in the order `start` opens them): its edge.
    pub conn_edge: Vec<u32>,
    pub sent: Vec<u32>,
    pub recvd: Vec<u32>,
    /// Chunks every edge must have delivered when the current collective is done.
    pub limit: u32,
    down_edges: usize,
    down_done: usize,
}

impl NcclTree {
    /// `bytes` reduced per collective over `nodes` instances of `gpus` GPUs, `channels` channels
    /// (channel c on card c mod cards, on tree c mod 2).
    pub fn new(
        bytes: u64,
        nodes: usize,
        gpus: usize,
        channels: usize,
        nvlink: Bandwidth,
        nvlink_step: SimDuration,
    ) -> Self {
        assert!(nodes >= 1 && gpus >= 1 && channels >= 1);
        let per_channel = bytes.div_ceil(channels as u64).max(1);
        let chunks = per_channel.div_ceil(TREE_MAX_CHUNK_BYTES).max(1);
        let chunk = per_channel.div_ceil(chunks).max(1);
        let ranks = channels * nodes * gpus;
        let mut t = NcclTree {
            gpus,
            nodes,
            channels,
            chunk,
            chunks: chunks as u32,
            nvlink_step,
            nvlink_share: Bandwidth((nvlink.bps() / channels as u64).max(1)),
            edges: Vec::new(),
            up_out: vec![NONE; ranks],
            down_in: vec![NONE; ranks],
            up_in: vec![[NONE; MAX_CHILDREN]; ranks],
            down_out: vec![[NONE; MAX_CHILDREN]; ranks],
            conn_edge: Vec::new(),
            sent: Vec::new(),
            recvd: Vec::new(),
            limit: 0,
            down_edges: 0,
            down_done: 0,
        };
        let rank = |ch: usize, node: usize, g: usize| (ch * nodes * gpus + node * gpus + g) as u32;
        for ch in 0..channels {
            for node in 0..nodes {
                // The chain inside the node: GPU g reports to GPU g - 1.
                for g in 1..gpus {
                    t.link(rank(ch, node, g), rank(ch, node, g - 1), false, node, node);
                }
                if let (Some(parent), _, _) = dtree(nodes, node, ch % 2 == 1) {
                    t.link(rank(ch, node, 0), rank(ch, parent, 0), true, node, parent);
                }
            }
        }
        t.sent = vec![0; t.edges.len()];
        t.recvd = vec![0; t.edges.len()];
        t.down_edges = t.edges.iter().filter(|e| !e.up).count();
        t
    }

    /// A child-parent pair: an up edge and a down edge, over EFA between nodes.
    fn link(&mut self, child: u32, parent: u32, network: bool, child_node: usize, parent_node: usize) {
        for up in [true, false] {
            let (from, to) = if up { (child, parent) } else { (parent, child) };
            let (from_node, to_node) =
                if up { (child_node as u32, parent_node as u32) } else { (parent_node as u32, child_node as u32) };
            let e = self.edges.len() as u32;
            let conn = if network {
                self.conn_edge.push(e);
                self.conn_edge.len() as u32 - 1
            } else {
                NONE
            };
            self.edges.push(TreeEdge { from, to, up, conn, from_node, to_node });
            if up {
                self.up_out[from as usize] = e;
                add(&mut self.up_in[to as usize], e);
            } else {
                add(&mut self.down_out[from as usize], e);
                self.down_in[to as usize] = e;
            }
        }
    }

    /// A collective begins: every edge may send its first chunks.
    pub fn begin(&mut self, ctx: &mut impl Ctx, app: u32, conns: &[(u32, u32)]) -> bool {
        self.limit += self.chunks;
        self.down_done = 0;
        if self.down_edges == 0 {
            return true;
        }
        for e in 0..self.edges.len() {
            self.try_send(ctx, app, conns, e as u32);
        }
        false
    }

    /// `rank` holds chunk `k` to pass on: up, once every child's chunk `k` has landed; down,
    /// once its parent's has (the root: once its children's have).
    fn has(&self, rank: u32, k: u32, up: bool) -> bool {
        let children = || self.up_in[rank as usize].iter().filter(|&&e| e != NONE).all(|&e| self.recvd[e as usize] > k);
        match (up, self.down_in[rank as usize]) {
            (true, _) | (false, NONE) => children(),
            (false, d) => self.recvd[d as usize] > k,
        }
    }

    /// Send the next chunk on edge `e` if its sender has it and its receiver a free slot.
    fn try_send(&mut self, ctx: &mut impl Ctx, app: u32, conns: &[(u32, u32)], e: u32) {
        let edge = self.edges[e as usize];
        let k = self.sent[e as usize];
        if k >= self.limit || k - self.recvd[e as usize] >= TREE_CHUNKS_IN_FLIGHT || !self.has(edge.from, k, edge.up) {
            return;
        }
        self.sent[e as usize] += 1;
        if edge.conn == NONE {
            let delay = self.nvlink_step + self.nvlink_share.serialisation(self.chunk);
            ctx.schedule(app, delay, TAG_NVLINK_BASE + e);
        } else {
            ctx.ep_send(conns[edge.conn as usize].0, self.chunk);
        }
    }

    /// A chunk landed on edge `e`: its receiver may pass it on, its sender may use the slot.
    /// True when the collective is done (every rank holds every chunk of the sum).
    pub fn landed(&mut self, ctx: &mut impl Ctx, app: u32, conns: &[(u32, u32)], e: u32) -> bool {
        let edge = self.edges[e as usize];
        self.recvd[e as usize] += 1;
        debug_assert!(self.recvd[e as usize] <= self.sent[e as usize]);
        if !edge.up && self.recvd[e as usize] == self.limit {
            self.down_done += 1;
            if self.down_done == self.down_edges {
                return true;
            }
        }
        let to = edge.to as usize;
        let [d0, d1, d2] = self.down_out[to];
        for out in [self.up_out[to], d0, d1, d2] {
            if out != NONE {
                self.try_send(ctx, app, conns, out);
            }
        }
        self.try_send(ctx, app, conns, e);
        false
    }

    /// Chunks delivered on EFA connection `conn` after `total` bytes: the edge and how many
    /// chunks are new.
    pub fn delivered(&self, conn: u32, total: u64) -> (u32, u32) {
        let e = self.conn_edge[conn as usize];
        let landed = (total / self.chunk) as u32;
        (e, landed.saturating_sub(self.recvd[e as usize]))
    }
}

fn add(slots: &mut [u32; MAX_CHILDREN], e: u32) {
    let free = slots.iter_mut().find(|s| **s == NONE).expect("a rank has at most three children");
    *free = e;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btree_matches_nccls_illustration() {
        // trees.cc: 0 -> 8; 8 -> 4, 12; 4 -> 2, 6; 12 -> 10, 13 (13 hangs off 12); 2 -> 1, 3.
        let n = 14;
        assert_eq!(btree(n, 0), (None, None, Some(8)));
        assert_eq!(btree(n, 8), (Some(0), Some(4), Some(12)));
        assert_eq!(btree(n, 12), (Some(8), Some(10), Some(13)));
        assert_eq!(btree(n, 13), (Some(12), None, None));
        assert_eq!(btree(n, 2), (Some(4), Some(1), Some(3)));
        assert_eq!(btree(n, 1), (Some(2), None, None));
        // Mirror for an even count: in the second tree of 12, 11 -> 3 -> ... (trees.cc picture).
        assert_eq!(dtree(12, 3, true).0, Some(11));
        assert_eq!(dtree(12, 11, true).0, None);
        // Every node but the root has a parent, in both trees, and no cycles.
        for n in 1..=33 {
            for second in [false, true] {
                let roots = (0..n).filter(|&r| dtree(n, r, second).0.is_none()).count();
                assert_eq!(roots, 1, "n={n} second={second}");
                for r in 0..n {
                    let (mut x, mut hops) = (r, 0);
                    while let Some(p) = dtree(n, x, second).0 {
                        assert!(dtree(n, p, second).1 == Some(x) || dtree(n, p, second).2 == Some(x), "n={n} {x}->{p}");
                        x = p;
                        hops += 1;
                        assert!(hops <= n);
                    }
                }
            }
        }
    }
}
