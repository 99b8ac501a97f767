//! Per-flow CoAP request tracking: requests in → for each response, the
//! request it answers (method, path, round-trip time) out.
//!
//! A piggybacked response (ACK) matches by message id and token; a separate
//! response (CON/NON) by its non-empty token. Observe notifications keep the
//! request pending; other responses remove it. Limits:
//! [`MAX_PENDING_REQUESTS`] per flow (the oldest is evicted, counted as
//! `proto.coap.requests_evicted`).
#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;

use super::parser::{CoapMessage, CoapType, MAX_TOKEN_LEN};
use crate::time::Timestamp;

/// Requests awaiting a response per flow.
pub const MAX_PENDING_REQUESTS: usize = 32;

/// A request still waiting for its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    token: [u8; MAX_TOKEN_LEN],
    token_len: usize,
    pub message_id: u16,
    pub code: u8,
    /// The joined Uri-Path of the request (may be empty).
    pub uri_path: Option<String>,
    pub ts: Timestamp,
}

impl PendingRequest {
    pub fn new(msg: &CoapMessage<'_>, uri_path: Option<String>, ts: Timestamp) -> Self {
        let mut token = [0u8; MAX_TOKEN_LEN];
        let token_len = msg.token.len().min(MAX_TOKEN_LEN);
        if let (Some(dst), Some(src)) = (token.get_mut(..token_len), msg.token.get(..token_len)) {
            dst.copy_from_slice(src);
        }
        PendingRequest {
            token,
            token_len,
            message_id: msg.message_id,
            code: msg.code,
            uri_path,
            ts,
        }
    }

    pub fn token(&self) -> &[u8] {
        self.token.get(..self.token_len).unwrap_or_default()
    }
}

/// The requests of one flow awaiting responses, oldest first.
#[derive(Debug, Clone, Default)]
pub struct PendingRequests {
    entries: VecDeque<PendingRequest>,
}

impl PendingRequests {
    /// Tracks a request (a retransmission replaces the earlier copy);
    /// returns `true` when an older request was evicted to make room.
    pub fn add(&mut self, req: PendingRequest) -> bool {
        self.entries
            .retain(|e| !(e.message_id == req.message_id && e.token() == req.token()));
        let evicted = self.entries.len() >= MAX_PENDING_REQUESTS;
        if evicted {
            self.entries.pop_front();
        }
        self.entries.push_back(req);
        evicted
    }

    /// The request `response` answers, if tracked; kept pending when the
    /// response is an Observe notification.
    pub fn answer(&mut self, response: &CoapMessage<'_>, observe: bool) -> Option<PendingRequest> {
        let piggybacked = response.msg_type == CoapType::Acknowledgement;
        let index = self.entries.iter().position(|e| {
            e.token() == response.token
                && (if piggybacked {
                    e.message_id == response.message_id
                } else {
                    !response.token.is_empty()
                })
        })?;
        if observe {
            self.entries.get(index).cloned()
        } else {
            self.entries.remove(index)
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    #[test]
    fn piggybacked_and_separate_responses_match() {
        let mut p = PendingRequests::default();
        let get = parse(&[0x41, 0x01, 0x12, 0x34, 0xaa]).unwrap();
        p.add(PendingRequest::new(&get, Some("/a".into()), Timestamp(10)));
        // Empty ACK with another MID does not match; a separate CON response does.
        let sep = parse(&[0x41, 0x45, 0x99, 0x99, 0xaa]).unwrap();
        let hit = p.answer(&sep, false).unwrap();
        assert_eq!(hit.uri_path.as_deref(), Some("/a"));
        assert!(p.is_empty());

        let get = parse(&[0x40, 0x01, 0x00, 0x07]).unwrap();
        p.add(PendingRequest::new(&get, None, Timestamp(10)));
        let wrong_mid = parse(&[0x60, 0x45, 0x00, 0x08]).unwrap();
        assert!(p.answer(&wrong_mid, false).is_none());
        let ack = parse(&[0x60, 0x45, 0x00, 0x07]).unwrap();
        assert!(p.answer(&ack, true).is_some());
        assert_eq!(p.len(), 1, "observe keeps the request");
    }

    #[test]
    fn bounded_with_eviction() {
        let mut p = PendingRequests::default();
        for mid in 0..MAX_PENDING_REQUESTS as u16 {
            let [a, b] = mid.to_be_bytes();
            let bytes = [0x40, 0x01, a, b];
            let m = parse(&bytes).unwrap();
            assert!(!p.add(PendingRequest::new(&m, None, Timestamp(0))));
        }
        let m = parse(&[0x40, 0x01, 0xff, 0xff]).unwrap();
        assert!(p.add(PendingRequest::new(&m, None, Timestamp(0))));
        assert_eq!(p.len(), MAX_PENDING_REQUESTS);
        // Retransmission replaces instead of growing.
        assert!(!p.add(PendingRequest::new(&m, None, Timestamp(1))));
        assert_eq!(p.len(), MAX_PENDING_REQUESTS);
    }
}
