//! Protocol analyzers: connection payload in → protocol records (one Zeek-style
//! log each) out. One folder per protocol, the same files in each:
//! `parser.rs` (bytes → messages, bounded reader, never panics),
//! `state.rs` (per-connection state machine: transactions, resynchronisation),
//! `record.rs` (the log records, implementing [`crate::log::LogRecord`]) and
//! `mod.rs` (the analyzer below, its counters and its content probe).
//!
//! Every analyzer follows the same contract (a convention rather than a trait,
//! because each emits its own record types):
//!
//! ```text
//! pub struct XyzAnalyzer { .. }                        // state of one connection
//! impl XyzAnalyzer {
//!     pub fn new(conn: ConnId) -> Self;
//!     /// TCP: the next in-order bytes of one direction; UDP: one datagram.
//!     pub fn on_data(&mut self, ts: Timestamp, is_orig: bool, data: &[u8],
//!                    c: &mut XyzCounters, out: &mut impl Sink<XyzRecord>);
//!     /// `len` bytes of this direction will never arrive (capture loss).
//!     pub fn on_gap(&mut self, is_orig: bool, len: u64, c: &mut XyzCounters);
//!     /// The connection ended: flush what is pending (unanswered queries, …).
//!     pub fn on_end(&mut self, ts: Timestamp, c: &mut XyzCounters, out: &mut impl Sink<XyzRecord>);
//! }
//! /// Content detection on the first bytes a side sent (ports are a hint only).
//! pub fn probe(data: &[u8], is_orig: bool) -> Probe;
//! pub struct XyzCounters { .. }                        // impl Counters: `proto.xyz.*`
//! ```
//! Analyzers raise records; they never decide what is suspicious (detectors do).
//! Limits: every string copied out of a packet is truncated to a named
//! per-protocol limit; every per-connection table (pending transactions) is
//! bounded with a counter for what was dropped.

pub mod arp;
pub mod coap;
pub mod dhcp;
pub mod dispatch;
pub mod dnp3;
pub mod dns;
pub mod http;
pub mod modbus;
pub mod mqtt;
pub mod ntp;
pub mod ssdp;
pub mod ssh;
pub mod stream;
pub mod stream_buffer;
pub mod telnet;
pub mod tls;

/// How sure a content probe is that a stream speaks a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Probe {
    /// The bytes cannot be this protocol.
    No,
    /// Too few bytes to tell, or consistent but not distinctive.
    Maybe,
    /// The bytes match the protocol's framing and magic.
    Yes,
}

/// Copies at most `max` bytes of `bytes` into a `String`, replacing invalid
/// UTF-8; the named limits of each protocol call this.
pub fn bounded_string(bytes: &[u8], max: usize) -> String {
    let cut = bytes.get(..max).unwrap_or(bytes);
    String::from_utf8_lossy(cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_string_truncates_and_replaces() {
        assert_eq!(bounded_string(b"hello", 3), "hel");
        assert_eq!(bounded_string(b"hi", 10), "hi");
        assert_eq!(bounded_string(&[0x66, 0xff], 10), "f\u{fffd}");
    }
}
