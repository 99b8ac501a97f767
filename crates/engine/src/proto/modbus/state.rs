//! Per-connection Modbus state: ADUs in → [`ModbusRecord`]s out, requests
//! paired with responses by transaction id so a read response (which carries
//! only a byte count) reports the range its request asked for.
//!
//! Limit: at most [`MAX_PENDING_REQUESTS`] unanswered requests are kept; the
//! oldest is dropped beyond that (counter `proto.modbus.pending_evicted`).
#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;

use super::parser::{self, Adu, Range, EXCEPTION_BIT};
use super::record::ModbusRecord;
use super::ModbusCounters;
use crate::log::ConnId;
use crate::time::Timestamp;

/// Unanswered requests kept per connection for pairing.
pub const MAX_PENDING_REQUESTS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingRequest {
    tid: u16,
    unit: u8,
    function: u8,
    range: Option<Range>,
}

/// Requests waiting for their response, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Transactions {
    pending: VecDeque<PendingRequest>,
}

impl Transactions {
    /// Turns one ADU into its record, pairing responses with requests.
    pub fn on_adu(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        adu: &Adu<'_>,
        conn: &ConnId,
        c: &mut ModbusCounters,
    ) -> ModbusRecord {
        c.messages += 1;
        if !parser::is_known_function(adu.function) {
            c.unknown_functions += 1;
        }
        if !parser::pdu_long_enough(adu.function, adu.data, is_orig) {
            c.malformed_pdus += 1;
        }
        // An exception is recognised in either direction: a device on port
        // 502 that opened the connection itself still answers this way.
        let exception_code = if adu.function & EXCEPTION_BIT != 0 {
            c.exceptions += 1;
            adu.data.first().copied()
        } else {
            None
        };
        let range = if is_orig {
            c.requests += 1;
            let range = parser::request_range(adu.function, adu.data);
            self.remember(adu, range, c);
            range
        } else {
            c.responses += 1;
            let request = self.take(adu.transaction_id, adu.unit_id, c);
            let same_function = request.filter(|r| r.function == adu.function & !EXCEPTION_BIT);
            parser::response_range(adu.function, adu.data).or(same_function.and_then(|r| r.range))
        };
        ModbusRecord {
            ts,
            conn: conn.clone(),
            tid: adu.transaction_id,
            unit: adu.unit_id,
            func: parser::function_name(adu.function),
            function_code: adu.function,
            pdu_type: if is_orig { "REQ" } else { "RESP" },
            exception: exception_code.map(parser::exception_name),
            exception_code,
            is_response: !is_orig,
            start_address: range.map(|r| r.start),
            quantity: range.map(|r| r.quantity),
        }
    }

    fn remember(&mut self, adu: &Adu<'_>, range: Option<Range>, c: &mut ModbusCounters) {
        if self.pending.len() >= MAX_PENDING_REQUESTS {
            self.pending.pop_front();
            c.pending_evicted += 1;
        }
        self.pending.push_back(PendingRequest {
            tid: adu.transaction_id,
            unit: adu.unit_id,
            function: adu.function,
            range,
        });
    }

    fn take(&mut self, tid: u16, unit: u8, c: &mut ModbusCounters) -> Option<PendingRequest> {
        let found = self
            .pending
            .iter()
            .position(|p| p.tid == tid && p.unit == unit)
            .and_then(|i| self.pending.remove(i));
        if found.is_none() {
            c.unmatched_responses += 1;
        }
        found
    }

    /// Requests never answered (connection end).
    pub fn unanswered(&self) -> usize {
        self.pending.len()
    }
}
