//! A finished flow in → its [`ConnRecord`] out, with Zeek's `set_conn`
//! rules: duration, `orig_bytes` and `resp_bytes` are only set when the
//! duration is positive (sizes never for unknown IP protocols); packet and IP byte counts always are; an empty
//! history is logged as `-` (the empty string here); VLAN 0 means untagged.
//! This is the only place (besides the uid) that allocates per connection.
#![deny(clippy::indexing_slicing)]

use super::conn_state::{tcp_conn_state, udp_conn_state};
use super::entry::Flow;
use super::key::{proto_name, PROTO_UDP};
use super::record::{CloseReason, ConnRecord, ConnState, Proto};
use super::tcp_state::TcpConn;
use super::uid::{format_uid, uid_hash};
use crate::time::Timestamp;

/// Builds the record of `flow` (with its TCP state, if TCP).
pub(crate) fn build_record(
    flow: &Flow,
    tcp: Option<&TcpConn>,
    reason: CloseReason,
    uid_seed: u64,
) -> ConnRecord {
    let o = flow.orig_side();
    let r = 1 - o;
    let (os, rs) = (flow.stats_of(o), flow.stats_of(r));
    let start = Timestamp(flow.start);
    let duration = Timestamp(flow.last).since(start);

    let (conn_state, orig_size, resp_size, missed_bytes) = match tcp {
        Some(t) => {
            let (oe, re) = (t.orig(o), t.resp(o));
            let state = tcp_conn_state(oe, re, &flow.history);
            (state, oe.size(re.state), re.size(oe.state), t.missed_bytes)
        }
        None if flow.key.proto == PROTO_UDP => (
            udp_conn_state(os.pkts > 0, rs.pkts > 0),
            os.payload,
            rs.payload,
            0,
        ),
        None => (ConnState::Other, os.payload, rs.payload, 0),
    };
    let positive = duration.0 > 0;
    // Zeek's unknown-transport sessions leave the endpoint sizes unset.
    let sized = positive && proto_name(flow.key.proto) != Proto::Other;

    ConnRecord {
        ts: start,
        uid: format_uid(uid_hash(uid_seed, &flow.key, flow.start, flow.salt)),
        flow_id: flow.id,
        orig_h: flow.key.ip(o),
        orig_p: flow.key.port(o),
        resp_h: flow.key.ip(r),
        resp_p: flow.key.port(r),
        proto: proto_name(flow.key.proto),
        ip_proto: flow.key.proto,
        service: Vec::new(),
        duration: positive.then_some(duration),
        orig_bytes: sized.then_some(orig_size),
        resp_bytes: sized.then_some(resp_size),
        conn_state,
        local_orig: None,
        local_resp: None,
        missed_bytes,
        history: flow.history.as_str().to_owned(),
        orig_pkts: os.pkts,
        orig_ip_bytes: os.ip_bytes,
        resp_pkts: rs.pkts,
        resp_ip_bytes: rs.ip_bytes,
        orig_l2_bytes: os.l2_bytes,
        resp_l2_bytes: rs.l2_bytes,
        orig_l2_addr: flow.mac_of(o),
        resp_l2_addr: flow.mac_of(r),
        vlan: (flow.vlan != 0).then_some(flow.vlan),
        inner_vlan: (flow.inner_vlan != 0).then_some(flow.inner_vlan),
        close_reason: reason,
    }
}
