//! DHCP analyzer (DHCPv4 on UDP 67/68, DHCPv6 basics on UDP 546/547): each
//! `on_data` call is one datagram in → one [`DhcpRecord`] out (log `dhcp` for
//! DHCPv4, `dhcpv6` for DHCPv6), malformed datagrams counted in
//! [`DhcpCounters`] (`proto.dhcp.*`).
//!
//! The IP version of the flow picks the protocol. Records are per message,
//! not per lease transaction as in Zeek (see [`record`]). Limits: the
//! parsers' `MAX_*` constants, the per-flow transaction table of [`state`]
//! and the text limits of [`record`]. Files: `parser` (DHCPv4 header and
//! option walker), `v6` (DHCPv6), `state` (xid table), `record`.
#![deny(clippy::indexing_slicing)]

pub mod parser;
pub mod record;
pub mod state;
pub mod v6;

pub use parser::{parse, DhcpError, DhcpMessage, OptionWalker};
pub use record::{DhcpRecord, Dhcpv4Record, Dhcpv6Record};
pub use v6::{parse_v6, Dhcpv6Error, Dhcpv6Message};

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use record::message_type_name;
use state::TransactionTable;

/// The conn.log `service` name.
pub const SERVICE: &str = "dhcp";

macro_rules! dhcp_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the DHCP analyzer parsed and what it refused.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct DhcpCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for DhcpCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }
    };
}

dhcp_counters! {
    /// DHCPv4/BOOTP messages logged.
    messages => "proto.dhcp.messages",
    /// DHCPv6 messages logged.
    v6_messages => "proto.dhcp.v6_messages",
    /// Datagrams shorter than the BOOTP header (not logged).
    too_short => "proto.dhcp.too_short",
    /// Datagrams whose op is neither request nor reply (not logged).
    bad_op => "proto.dhcp.bad_op",
    /// Datagrams with a hardware address length above 16 (not logged).
    bad_hardware_length => "proto.dhcp.bad_hardware_length",
    /// BOOTP messages without the DHCP magic cookie (logged without options).
    no_magic_cookie => "proto.dhcp.no_magic_cookie",
    /// Messages with an option cut short (options before it are kept).
    truncated_option => "proto.dhcp.malformed_truncated_option",
    /// Messages with more than `parser::MAX_OPTIONS` options.
    too_many_options => "proto.dhcp.too_many_options",
    /// Messages whose options area has no end option.
    missing_end => "proto.dhcp.missing_end",
    /// Messages with a fixed-size option of the wrong length.
    bad_option_length => "proto.dhcp.malformed_option_length",
    /// Messages repeating an option (first value kept).
    duplicate_option => "proto.dhcp.duplicate_option",
    /// Messages using option overload (52) into `file`/`sname`.
    option_overload => "proto.dhcp.option_overload",
    /// Transactions dropped from a flow's table (`state::MAX_XIDS_PER_FLOW`).
    xids_evicted => "proto.dhcp.xids_evicted",
    /// DHCPv6 datagrams too short, of reserved type 0, or with a broken relay
    /// header (not logged).
    v6_malformed => "proto.dhcp.v6_malformed",
    /// DHCPv6 relay chains deeper than `v6::MAX_RELAY_DEPTH` (not logged).
    v6_relay_too_deep => "proto.dhcp.v6_relay_too_deep",
    /// DHCPv6 messages with an option cut short.
    v6_truncated_option => "proto.dhcp.v6_malformed_truncated_option",
    /// DHCPv6 messages with more than `v6::MAX_V6_OPTIONS` options at a level.
    v6_too_many_options => "proto.dhcp.v6_too_many_options",
    /// DHCPv6 messages with an address option of impossible length.
    v6_bad_option_length => "proto.dhcp.v6_malformed_option_length",
    /// Capture gaps reported (never expected on UDP).
    gaps => "proto.dhcp.gaps",
}

/// The DHCP state of one UDP flow.
#[derive(Debug, Clone)]
pub struct DhcpAnalyzer {
    conn: ConnId,
    transactions: TransactionTable,
}

impl DhcpAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        DhcpAnalyzer {
            conn,
            transactions: TransactionTable::default(),
        }
    }

    /// One datagram sent by the originator (`is_orig`) or the responder.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut DhcpCounters,
        out: &mut impl Sink<DhcpRecord>,
    ) {
        if self.conn.orig_h.is_ipv6() {
            self.on_v6(ts, data, c, out);
        } else {
            self.on_v4(ts, is_orig, data, c, out);
        }
    }

    fn on_v4(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut DhcpCounters,
        out: &mut impl Sink<DhcpRecord>,
    ) {
        let msg = match parse(data) {
            Ok(msg) => msg,
            Err(DhcpError::TooShort { .. }) => return c.too_short += 1,
            Err(DhcpError::BadOp { .. }) => return c.bad_op += 1,
            Err(DhcpError::BadHardwareLength { .. }) => return c.bad_hardware_length += 1,
        };
        c.messages += 1;
        let i = &msg.issues;
        c.no_magic_cookie += u64::from(i.no_magic_cookie);
        c.truncated_option += u64::from(i.truncated_option);
        c.too_many_options += u64::from(i.too_many_options);
        c.missing_end += u64::from(i.missing_end);
        c.bad_option_length += u64::from(i.bad_option_length);
        c.duplicate_option += u64::from(i.duplicate_option);
        c.option_overload += u64::from(i.overload);
        let view = self
            .transactions
            .observe(msg.header.xid, msg.options.msg_type, ts);
        c.xids_evicted += u64::from(view.evicted);
        let msg_types = view.types.iter().map(|&t| message_type_name(t)).collect();
        let duration = view.duration;
        let record = Dhcpv4Record::from_message(&self.conn, ts, is_orig, &msg, msg_types, duration);
        out.push(DhcpRecord::V4(Box::new(record)));
    }

    fn on_v6(
        &mut self,
        ts: Timestamp,
        data: &[u8],
        c: &mut DhcpCounters,
        out: &mut impl Sink<DhcpRecord>,
    ) {
        let msg = match parse_v6(data) {
            Ok(msg) => msg,
            Err(Dhcpv6Error::RelayTooDeep) => return c.v6_relay_too_deep += 1,
            Err(_) => return c.v6_malformed += 1,
        };
        c.v6_messages += 1;
        c.v6_truncated_option += u64::from(msg.issues.truncated_option);
        c.v6_too_many_options += u64::from(msg.issues.too_many_options);
        c.v6_bad_option_length += u64::from(msg.issues.bad_option_length);
        let record = Dhcpv6Record::from_message(&self.conn, ts, &msg);
        out.push(DhcpRecord::V6(Box::new(record)));
    }

    /// UDP has no gaps; counted if the pipeline ever reports one.
    pub fn on_gap(&mut self, _is_orig: bool, _len: u64, c: &mut DhcpCounters) {
        c.gaps += 1;
    }

    /// Nothing is pending at the end of a flow: every message was logged.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        _c: &mut DhcpCounters,
        _out: &mut impl Sink<DhcpRecord>,
    ) {
    }
}

/// Content detection on one datagram. DHCPv4: a BOOTP header with the magic
/// cookie is `Yes`, without it `Maybe`. DHCPv6 (no magic): a known message
/// type whose options parse to the end and include a client or server DUID
/// is `Yes`.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    let v4 = match parse(data) {
        Ok(msg) if !msg.issues.no_magic_cookie => return Probe::Yes,
        Ok(_) => Probe::Maybe,
        Err(_) => Probe::No,
    };
    let v6 = match parse_v6(data) {
        Ok(m) if (1..=17).contains(&m.msg_type) && m.issues == v6::V6Issues::default() => {
            if m.client_duid.is_some() || m.server_duid.is_some() {
                Probe::Yes
            } else {
                Probe::Maybe
            }
        }
        _ => Probe::No,
    };
    v4.max(v6)
}
