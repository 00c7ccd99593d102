//! RPC bookkeeping on one persistent connection. TCP carries byte streams; this matches them to
//! messages: the client writes requests back to back, the server answers each in order once its
//! last byte has arrived, and an RPC completes when the last byte of its response arrives.

use crate::units::SimTime;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
struct Pending {
    issued_at: SimTime,
    request_end: u64,
    response_bytes: u64,
    /// Offset in the server->client stream where the response ends; 0 until the server writes it.
    response_end: u64,
}

#[derive(Clone, Debug, Default)]
pub struct RpcBook {
    pending: VecDeque<Pending>,
    /// Index into `pending` of the next request the server has not answered yet.
    server_cursor: usize,
    c2s_written: u64,
    s2c_written: u64,
}

impl RpcBook {
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// When each still-outstanding RPC was issued.
    pub fn outstanding_since(&self) -> impl Iterator<Item = SimTime> + '_ {
        self.pending.iter().map(|p| p.issued_at)
    }

    /// The client issues an RPC: returns the request bytes to write on the client endpoint.
    pub fn issue(&mut self, now: SimTime, request_bytes: u64, response_bytes: u64) -> u64 {
        self.c2s_written += request_bytes;
        self.pending.push_back(Pending {
            issued_at: now,
            request_end: self.c2s_written,
            response_bytes,
            response_end: 0,
        });
        request_bytes
    }

    /// The server has received `total` bytes in order: returns the response bytes it now writes.
    pub fn server_received(&mut self, total: u64) -> u64 {
        let mut write = 0;
        while let Some(p) = self.pending.get_mut(self.server_cursor) {
            if p.request_end > total {
                break;
            }
            self.s2c_written += p.response_bytes;
            p.response_end = self.s2c_written;
            write += p.response_bytes;
            self.server_cursor += 1;
        }
        write
    }

    /// The client has received `total` response bytes in order: calls `done(issued_at)` for each
    /// RPC that completed.
    pub fn client_received(&mut self, total: u64, mut done: impl FnMut(SimTime)) {
        while let Some(p) = self.pending.front() {
            if p.response_end == 0 || p.response_end > total {
                break;
            }
            done(p.issued_at);
            self.pending.pop_front();
            self.server_cursor -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_streams_to_messages() {
        let mut b = RpcBook::default();
        b.issue(SimTime(1), 100, 1000);
        b.issue(SimTime(2), 50, 10);
        assert_eq!(b.server_received(99), 0);
        assert_eq!(b.server_received(120), 1000);
        assert_eq!(b.server_received(150), 10);
        let mut done = vec![];
        b.client_received(999, |t| done.push(t));
        assert!(done.is_empty());
        b.client_received(1010, |t| done.push(t));
        assert_eq!(done, vec![SimTime(1), SimTime(2)]);
        assert_eq!(b.outstanding(), 0);
    }
}
