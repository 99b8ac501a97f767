//! Flow table with Zeek conn.log semantics: [`Decoded`] packets in →
//! [`ConnRecord`]s out when a connection ends, times out, is evicted or the
//! input ends.
//!
//! The pieces, in the order a packet meets them:
//! - `key`: the bidirectional connection key (5-tuple; ICMP uses type and
//!   counterpart type like Zeek, so echo request and reply are one
//!   connection) and the packet's side of it.
//! - `ports`: Zeek's `likely_server_ports` role heuristic (flip with `^`).
//! - `table`: the bounded table itself (slab + hash index), at most
//!   [`FlowConfig::max_flows`] entries; when full, the flow closest to its
//!   expiry is evicted (counter `flow.evicted`).
//! - `tcp_state` / `tcp_endpoint`: Zeek's TCP endpoint state machine
//!   (INACTIVE … RESET), sizes from sequence numbers with wraparound, history
//!   letters, retransmissions and content gaps.
//! - `expiry`: one intrusive list per timer class (inactivity per protocol,
//!   TCP attempt, TCP close/reset delay), so expiry is O(1) per packet.
//! - `output` / `conn_state`: the finished [`ConnRecord`] with Zeek's
//!   `conn_state` and its rule that duration and byte counts are only logged
//!   when the duration is positive; `uid`: the deterministic `C…` uid.
//!
//! Time is packet time: the table's clock is the largest timestamp seen, so
//! captures with timestamps going backwards neither panic nor expire flows
//! early, and durations are never negative.

mod conn_state;
mod counters;
mod entry;
mod expiry;
mod history;
mod key;
mod output;
mod ports;
mod record;
mod table;
mod tcp_endpoint;
mod tcp_state;
mod uid;

use crate::time::Duration;

pub use counters::FlowCounters;
pub use ports::LikelyServerPorts;
pub use record::{CloseReason, ConnRecord, ConnState, Proto, CONN_FIELDS};
pub use table::FlowTable;
pub use uid::Uid;

/// Flows kept at once; beyond this the flow closest to its expiry is evicted
/// (counter: `flow.evicted`).
pub const DEFAULT_MAX_FLOWS: usize = 1 << 20;

/// Timeouts and limits of the flow table. Defaults are Zeek's.
#[derive(Debug, Clone)]
pub struct FlowConfig {
    /// Most flows tracked at once (at least 1).
    pub max_flows: usize,
    /// Zeek `tcp_inactivity_timeout` (5 min), applied once the TCP handshake
    /// is past (an endpoint left INACTIVE/SYN_SENT/SYN_ACK_SENT). Zero: never.
    pub tcp_inactivity_timeout: Duration,
    /// Inactivity timeout of a TCP connection still in its handshake. Zeek
    /// starts every TCP connection with `udp_inactivity_timeout` (1 min) and
    /// switches to `tcp_inactivity_timeout` when the handshake is past.
    pub tcp_handshake_inactivity_timeout: Duration,
    /// Zeek `udp_inactivity_timeout` (1 min). Zero: never.
    pub udp_inactivity_timeout: Duration,
    /// Zeek `icmp_inactivity_timeout` (1 min). Zero: never.
    pub icmp_inactivity_timeout: Duration,
    /// Zeek `unknown_ip_inactivity_timeout` (1 min) for other IP protocols.
    pub other_inactivity_timeout: Duration,
    /// Zeek `tcp_close_delay` (5 s): once the close is complete (both sides
    /// FIN, a RST, or a FIN with a silent peer) the record is written this
    /// long after the connection's last time.
    pub tcp_close_delay: Duration,
    /// Zeek `tcp_reset_delay` (5 s): a RST from a side that had already sent
    /// its FIN (peer still open) ends the connection this long after.
    pub tcp_reset_delay: Duration,
    /// Zeek `tcp_attempt_delay` (5 s): a SYN (or SYN-ACK) from the originator
    /// that the responder never answered is written this long after it.
    pub tcp_attempt_delay: Duration,
    /// Seed of the connection uids; the same seed and input give the same uids.
    pub uid_seed: u64,
    /// Ports that identify the server side (Zeek `likely_server_ports`).
    pub likely_server_ports: LikelyServerPorts,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: DEFAULT_MAX_FLOWS,
            tcp_inactivity_timeout: Duration::from_secs(300),
            tcp_handshake_inactivity_timeout: Duration::from_secs(60),
            udp_inactivity_timeout: Duration::from_secs(60),
            icmp_inactivity_timeout: Duration::from_secs(60),
            other_inactivity_timeout: Duration::from_secs(60),
            tcp_close_delay: Duration::from_secs(5),
            tcp_reset_delay: Duration::from_secs(5),
            tcp_attempt_delay: Duration::from_secs(5),
            uid_seed: 0,
            likely_server_ports: LikelyServerPorts::zeek_default(),
        }
    }
}

/// What the table learned about one packet, for protocol analyzers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketContext {
    /// Identifies the connection for its whole life; never reused by the table.
    pub flow_id: u64,
    /// The packet was sent by the connection's originator.
    pub is_orig: bool,
    /// This packet created the connection.
    pub is_new: bool,
    /// The connection's conn.log uid, given once: on the packet that created it.
    pub uid: Option<Uid>,
}
