//! Flow table with Zeek conn.log semantics: [`Decoded`] packets in →
//! [`ConnRecord`]s out when a connection ends, times out, is evicted or the
//! input ends.
//!
//! OWNER NOTE: interface fixed by the skeleton; implementation to be filled in.

mod record;

pub use record::{ConnRecord, ConnState, Proto};
