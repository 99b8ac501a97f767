//! Per-flow DHCP transactions: message type codes in → for each message, the
//! types of its xid seen so far in this flow and the time since the first of
//! them out (the `msg_types` and `duration` columns of dhcp.log).
//!
//! Limits: [`MAX_XIDS_PER_FLOW`] transactions per flow (the oldest is evicted,
//! counted as `proto.dhcp.xids_evicted`); [`MAX_MSG_TYPES`] types per
//! transaction, after which it starts afresh as Zeek's
//! `DHCP::max_msg_types_per_log_entry` does.
#![deny(clippy::indexing_slicing)]

use crate::time::{Duration, Timestamp};

/// Transactions (xids) tracked per flow.
pub const MAX_XIDS_PER_FLOW: usize = 16;
/// Message types kept per transaction (Zeek's default of 50).
pub const MAX_MSG_TYPES: usize = 50;

#[derive(Debug, Clone)]
struct Transaction {
    xid: u32,
    first_ts: Timestamp,
    /// Message type codes (`None`: plain BOOTP), oldest first.
    types: Vec<Option<u8>>,
}

/// The transactions of one flow, oldest first.
#[derive(Debug, Clone, Default)]
pub struct TransactionTable {
    entries: Vec<Transaction>,
}

/// What [`TransactionTable::observe`] reports about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionView<'t> {
    /// The types of this xid so far, this message's last.
    pub types: &'t [Option<u8>],
    /// Time since the first message of this xid.
    pub duration: Duration,
    /// An older transaction was dropped to make room.
    pub evicted: bool,
}

impl TransactionTable {
    /// Adds one message of `xid` seen at `ts`.
    pub fn observe(
        &mut self,
        xid: u32,
        msg_type: Option<u8>,
        ts: Timestamp,
    ) -> TransactionView<'_> {
        let mut evicted = false;
        let index = match self.entries.iter().position(|t| t.xid == xid) {
            Some(i) => i,
            None => {
                if self.entries.len() >= MAX_XIDS_PER_FLOW {
                    self.entries.remove(0);
                    evicted = true;
                }
                self.entries.push(Transaction {
                    xid,
                    first_ts: ts,
                    types: Vec::new(),
                });
                self.entries.len() - 1
            }
        };
        match self.entries.get_mut(index) {
            Some(t) => {
                if t.types.len() >= MAX_MSG_TYPES {
                    t.types.clear();
                    t.first_ts = ts;
                }
                t.types.push(msg_type);
                TransactionView {
                    types: &t.types,
                    duration: ts.since(t.first_ts),
                    evicted,
                }
            }
            // Unreachable: `index` was just found or pushed.
            None => TransactionView {
                types: &[],
                duration: Duration::ZERO,
                evicted,
            },
        }
    }

    /// Transactions currently tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulates_types_and_duration_per_xid() {
        let mut t = TransactionTable::default();
        t.observe(7, Some(1), Timestamp(1_000));
        t.observe(8, Some(1), Timestamp(1_500));
        let v = t.observe(7, Some(3), Timestamp(3_000));
        assert_eq!(v.types, &[Some(1), Some(3)]);
        assert_eq!(v.duration, Duration(2_000));
        assert!(!v.evicted);
    }

    #[test]
    fn evicts_oldest_beyond_limit() {
        let mut t = TransactionTable::default();
        for xid in 0..MAX_XIDS_PER_FLOW as u32 {
            assert!(!t.observe(xid, Some(1), Timestamp(0)).evicted);
        }
        assert!(t.observe(999, Some(1), Timestamp(0)).evicted);
        assert_eq!(t.len(), MAX_XIDS_PER_FLOW);
        // xid 0 was evicted: it starts afresh.
        let v = t.observe(0, Some(3), Timestamp(5));
        assert_eq!(v.types, &[Some(3)]);
    }

    #[test]
    fn restarts_after_max_types() {
        let mut t = TransactionTable::default();
        for i in 0..MAX_MSG_TYPES {
            t.observe(1, Some(3), Timestamp(i as i64));
        }
        let v = t.observe(1, Some(5), Timestamp(100));
        assert_eq!(v.types, &[Some(5)]);
        assert_eq!(v.duration, Duration::ZERO);
    }
}
