//! UDP, ICMP and other IP protocols → Zeek conn.log records; packets the
//! table cannot key on are counted, not accounted.
#![allow(clippy::unwrap_used)] // tests may panic on broken fixtures

mod flow_support;

use flow_support::*;
use gatewatch_engine::flow::{FlowConfig, FlowTable, Proto};
use gatewatch_engine::Counters;

#[test]
fn udp_request_and_response_is_sf() {
    let r = single(&[udp(0, A, 40000, B, 53, 30), udp(5, B, 53, A, 40000, 80)]);
    assert_eq!(r.conn_state.code(), "SF");
    assert_eq!(r.history, "Dd");
    assert_eq!(r.proto, Proto::Udp);
    assert_eq!((r.orig_p, r.resp_p), (40000, 53));
    assert_eq!(r.duration, Some(ms(5)));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(30), Some(80)));
    assert_eq!(
        (r.orig_pkts, r.orig_ip_bytes, r.resp_pkts, r.resp_ip_bytes),
        (1, 58, 1, 108)
    );
}

#[test]
fn one_way_udp_is_s0() {
    let r = single(&[udp(0, A, 40000, B, 53, 30)]);
    assert_eq!(r.conn_state.code(), "S0");
    assert_eq!(r.history, "D");
    assert_eq!((r.duration, r.orig_bytes), (None, None));
}

#[test]
fn udp_from_likely_server_port_is_flipped() {
    let r = single(&[udp(0, B, 53, A, 51234, 80), udp(3, B, 53, A, 51234, 80)]);
    assert_eq!(r.history, "^d");
    assert_eq!(r.conn_state.code(), "SHR");
    assert_eq!((r.orig_h.to_string(), r.orig_p), (A.to_string(), 51234));
    assert_eq!((r.resp_h.to_string(), r.resp_p), (B.to_string(), 53));
    assert_eq!((r.orig_pkts, r.resp_pkts), (0, 2));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(0), Some(160)));
    assert_eq!((r.orig_l2_addr, r.resp_l2_addr), (Some(MAC_A), Some(MAC_B)));
}

#[test]
fn udp_between_two_server_ports_is_not_flipped() {
    let r = single(&[udp(0, B, 53, A, 123, 48)]);
    assert_eq!(r.history, "D");
    assert_eq!(r.orig_p, 53);
}

#[test]
fn dhcp_to_broadcast_is_never_flipped() {
    let r = single(&[udp(0, B, 67, "255.255.255.255", 68, 300)]);
    assert_eq!(r.history, "D");
    assert_eq!(r.orig_p, 67);
}

#[test]
fn icmp_echo_request_and_reply_are_one_connection() {
    let r = single(&[
        icmp(0, A, B, 8, 0, 56),
        icmp(2, B, A, 0, 0, 56),
        icmp(1000, A, B, 8, 0, 56),
    ]);
    assert_eq!(r.proto, Proto::Icmp);
    assert_eq!(
        (r.orig_h.to_string(), r.orig_p, r.resp_p),
        (A.to_string(), 8, 0)
    );
    assert_eq!(r.conn_state.code(), "OTH");
    assert_eq!(r.history, "");
    assert_eq!((r.orig_pkts, r.resp_pkts), (2, 1));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(112), Some(56)));
    assert_eq!(r.orig_ip_bytes, 2 * 84);
}

#[test]
fn icmpv6_echo_over_ipv6_is_one_connection() {
    let r = single(&[
        icmp6(0, "fe80::1", "fe80::2", 128, 16),
        icmp6(1, "fe80::2", "fe80::1", 129, 16),
    ]);
    assert_eq!(
        (r.orig_h.to_string(), r.resp_h.to_string()),
        ("fe80::1".to_string(), "fe80::2".to_string())
    );
    assert_eq!((r.orig_p, r.resp_p, r.ip_proto), (128, 129, 58));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(16), Some(16)));
    assert_eq!(r.orig_ip_bytes, 64);
}

#[test]
fn ipv4_mapped_ipv6_is_not_ipv4() {
    let recs = run(&[
        udp(0, "::ffff:10.0.0.1", 40000, "::ffff:10.0.0.2", 53, 10),
        udp(1, A, 40000, B, 53, 10),
    ]);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().any(|r| r.orig_h.is_ipv6()) && recs.iter().any(|r| r.orig_h.is_ipv4()));
}

#[test]
fn icmp_error_is_one_way_with_code_as_responder_port() {
    let recs = run(&[
        icmp(0, "10.0.0.254", A, 3, 3, 28),
        icmp(1, A, "10.0.0.254", 3, 3, 28),
    ]);
    assert_eq!(recs.len(), 2, "one-way messages are not paired");
    assert!(recs.iter().all(|r| (r.orig_p, r.resp_p) == (3, 3)));
}

#[test]
fn other_ip_protocol_has_ports_zero() {
    let r = single(&[other_ip(0, A, B, 47, 100), other_ip(7, B, A, 47, 60)]);
    assert_eq!(r.proto, Proto::Other);
    assert_eq!(r.ip_proto, 47);
    assert_eq!((r.orig_p, r.resp_p), (0, 0));
    assert_eq!(r.conn_state.code(), "OTH");
    assert_eq!((r.orig_pkts, r.resp_pkts), (1, 1));
    assert_eq!(r.duration, Some(ms(7)));
    assert_eq!(
        (r.orig_bytes, r.resp_bytes),
        (None, None),
        "Zeek leaves sizes unset"
    );
}

#[test]
fn unkeyable_packets_are_counted_not_accounted() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = Vec::new();
    assert!(table.observe(&arp(0), &mut out).is_none());
    let mut none = arp(1);
    none.network = gatewatch_engine::decode::Network::None;
    assert!(table.observe(&none, &mut out).is_none());
    assert!(table.observe(&later_fragment(2, A, B), &mut out).is_none());
    assert!(table.observe(&malformed(3, A, B), &mut out).is_none());
    assert!(table.is_empty());
    // Non-IP packets still move the clock: this flow expires at an ARP.
    table.observe(&udp(10, A, 40000, B, 53, 10), &mut out);
    table.observe(&arp(60_010), &mut out);
    assert_eq!(out.len(), 1);
    let c = table.counters();
    assert_eq!(
        (
            c.non_ip,
            c.fragments_skipped,
            c.malformed_transport,
            c.created
        ),
        (3, 1, 1, 1)
    );
    let names: Vec<_> = c.to_vec().into_iter().map(|(n, _)| n).collect();
    for name in [
        "flow.created",
        "flow.expired_inactive",
        "flow.closed",
        "flow.evicted",
        "flow.non_ip",
    ] {
        assert!(names.contains(&name), "{name} missing");
    }
    assert!(names.contains(&"flow.fragments_skipped") && names.contains(&"flow.active_peak"));
}

#[test]
fn vlan_macs_and_wire_bytes_come_from_packets() {
    let mut p1 = udp(0, A, 40000, B, 5683, 20);
    p1.vlan = Some(100);
    p1.inner_vlan = Some(7);
    p1.wire_len = 90;
    let mut p2 = udp(1, B, 5683, A, 40000, 10);
    p2.wire_len = 64;
    p2.src_mac = None;
    let r = single(&[p1, p2]);
    assert_eq!((r.vlan, r.inner_vlan), (Some(100), Some(7)));
    assert_eq!((r.orig_l2_bytes, r.resp_l2_bytes), (90, 64));
    assert_eq!((r.orig_l2_addr, r.resp_l2_addr), (Some(MAC_A), Some(MAC_B)));
}

#[test]
fn missing_macs_are_learned_from_later_packets() {
    let mut p1 = udp(0, A, 40000, B, 5683, 20);
    p1.src_mac = None;
    p1.dst_mac = None;
    let r = single(&[p1, udp(1, B, 5683, A, 40000, 10)]);
    assert_eq!((r.orig_l2_addr, r.resp_l2_addr), (Some(MAC_A), Some(MAC_B)));
}

#[test]
fn packet_context_identifies_flow_and_direction() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = Vec::new();
    let c1 = table
        .observe(&udp(0, A, 40000, B, 53, 30), &mut out)
        .unwrap();
    let c2 = table
        .observe(&udp(1, B, 53, A, 40000, 30), &mut out)
        .unwrap();
    let c3 = table
        .observe(&udp(2, A, 40001, B, 53, 30), &mut out)
        .unwrap();
    assert!(c1.is_new && c1.is_orig);
    assert!(!c2.is_new && !c2.is_orig);
    assert_eq!(c1.flow_id, c2.flow_id);
    assert_ne!(c1.flow_id, c3.flow_id);
    assert_eq!(table.len(), 2);
    assert_eq!(table.counters().packets, 3);
}
