//! gatewatch engine: the synchronous, deterministic core of the monitor.
//!
//! Bytes of a capture flow through the stages in the order the modules are
//! listed: `source` (pcap/pcapng → [`RawPacket`]) → `decode` (→ [`Decoded`])
//! → `flow` (Zeek conn.log semantics → [`ConnRecord`]). `pipeline` is the only
//! place that wires the stages together. Time is always packet time: nothing
//! in this crate reads the wall clock, so a capture replays to identical output.

pub mod classify;
pub mod counters;
pub mod decode;
pub mod eval;
pub mod evidence;
pub mod flow;
pub mod identity;
pub mod lifecycle;
pub mod log;
pub mod net;
pub mod pipeline;
pub mod proto;
pub mod simulate;
pub mod sink;
pub mod source;
pub mod stats;
pub mod time;

pub use counters::Counters;
pub use decode::Decoded;
pub use flow::ConnRecord;
pub use sink::Sink;
pub use source::RawPacket;
pub use time::Timestamp;
