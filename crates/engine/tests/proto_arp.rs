//! ARP analyzer: hand-built ARP packets (request/reply pairing, retransmissions,
//! timeouts, announcements and probes, unsolicited replies, binding conflicts,
//! Ethernet/ARP mismatches, VLANs, both table bounds), random packet streams
//! (never a panic, tables bounded, every message accounted for), and the
//! pipeline's arp records and counters. Real captures: `proto_arp_captures.rs`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

use std::net::Ipv4Addr;

use gatewatch_engine::decode::{ArpOperation, ArpPacket, Decoded, MacAddr, Network};
use gatewatch_engine::log::LogRecord;
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::proto::arp::{
    ArpAnalyzer, ArpCounters, ArpRecord, BINDING_FRESH_FOR, REQUEST_TIMEOUT,
};
use gatewatch_engine::proto::dispatch::ProtoRecord;
use gatewatch_engine::source::{LinkType, RawPacket};
use gatewatch_engine::Timestamp;
use proptest::prelude::*;

const BROADCAST: MacAddr = MacAddr([0xff; 6]);
const ZERO: MacAddr = MacAddr([0; 6]);

fn mac(last: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0, last])
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 1, last)
}

fn at_ms(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000_000_000 + ms * 1_000_000)
}

/// One ARP message as it appears on an Ethernet link.
#[derive(Debug, Clone, Copy)]
struct Msg {
    op: ArpOperation,
    eth_src: MacAddr,
    eth_dst: MacAddr,
    vlan: Option<u16>,
    sha: MacAddr,
    spa: Ipv4Addr,
    tha: MacAddr,
    tpa: Ipv4Addr,
}

impl Msg {
    /// `sha/spa` asks for `tpa`, broadcast.
    fn request(sha: MacAddr, spa: Ipv4Addr, tpa: Ipv4Addr) -> Self {
        Msg {
            op: ArpOperation::Request,
            eth_src: sha,
            eth_dst: BROADCAST,
            vlan: None,
            sha,
            spa,
            tha: ZERO,
            tpa,
        }
    }

    /// `sha/spa` answers `tha/tpa`, unicast.
    fn reply(sha: MacAddr, spa: Ipv4Addr, tha: MacAddr, tpa: Ipv4Addr) -> Self {
        Msg {
            op: ArpOperation::Reply,
            eth_src: sha,
            eth_dst: tha,
            vlan: None,
            sha,
            spa,
            tha,
            tpa,
        }
    }

    fn vlan(mut self, v: u16) -> Self {
        self.vlan = Some(v);
        self
    }

    fn packet(&self) -> ArpPacket {
        ArpPacket {
            operation: self.op,
            sender_mac: self.sha,
            sender_ip: self.spa,
            target_mac: self.tha,
            target_ip: self.tpa,
        }
    }

    fn decoded(&self, ts: Timestamp) -> Decoded<'static> {
        Decoded {
            ts,
            wire_len: 60,
            cap_len: 60,
            link: LinkType::ETHERNET,
            src_mac: Some(self.eth_src),
            dst_mac: Some(self.eth_dst),
            vlan: self.vlan,
            inner_vlan: None,
            network: Network::Arp(self.packet()),
        }
    }
}

/// Feeds `msgs` (time in ms, message) to `a`; returns the records emitted while feeding.
fn feed(a: &mut ArpAnalyzer, c: &mut ArpCounters, msgs: &[(i64, Msg)]) -> Vec<ArpRecord> {
    let mut out = Vec::new();
    for (t, m) in msgs {
        let ts = at_ms(*t);
        a.on_packet(ts, &m.decoded(ts), &m.packet(), c, &mut out);
    }
    out
}

/// Feeds `msgs` to a fresh analyzer and ends the capture.
fn run(msgs: &[(i64, Msg)]) -> (Vec<ArpRecord>, ArpCounters) {
    let mut a = ArpAnalyzer::new();
    let mut c = ArpCounters::default();
    let mut out = feed(&mut a, &mut c, msgs);
    a.on_end(&mut c, &mut out);
    (out, c)
}

#[test]
fn request_and_reply_make_one_line() {
    let (recs, c) = run(&[
        (0, Msg::request(mac(1), ip(1), ip(2))),
        (3, Msg::reply(mac(2), ip(2), mac(1), ip(1))),
    ]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.ts, at_ms(0));
    assert_eq!(r.src_mac, Some(mac(1)));
    assert_eq!(r.dst_mac, Some(BROADCAST));
    assert_eq!(r.operation, ArpOperation::Request);
    assert_eq!((r.orig_h, r.orig_mac), (ip(1), mac(1)));
    assert_eq!(
        (r.who_has, r.is_at, r.resp_h),
        (ip(2), Some(mac(2)), Some(ip(2)))
    );
    assert_eq!(r.rtt.map(|d| d.0), Some(3_000_000));
    assert_eq!(r.no_resp, Some(false));
    assert_eq!(r.requests, 1);
    assert!(!r.unsolicited && !r.gratuitous && !r.probe && !r.eth_mismatch);
    assert!(r.conflict.is_none());
    assert_eq!((c.requests, c.replies, c.answered), (1, 1, 1));
    assert_eq!((c.unanswered, c.unsolicited), (0, 0));
}

#[test]
fn retransmissions_merge_and_rtt_counts_from_the_last() {
    let (recs, c) = run(&[
        (0, Msg::request(mac(1), ip(1), ip(2))),
        (1000, Msg::request(mac(1), ip(1), ip(2))),
        (2000, Msg::request(mac(1), ip(1), ip(2))),
        (2010, Msg::reply(mac(2), ip(2), mac(1), ip(1))),
    ]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].requests, 3);
    assert_eq!(recs[0].ts, at_ms(0));
    assert_eq!(recs[0].rtt.map(|d| d.0), Some(10_000_000));
    assert_eq!(c.repeated_requests, 2);
}

#[test]
fn unanswered_request_times_out_in_packet_time() {
    let timeout_ms = REQUEST_TIMEOUT.0 / 1_000_000;
    let mut a = ArpAnalyzer::new();
    let mut c = ArpCounters::default();
    let early = feed(
        &mut a,
        &mut c,
        &[
            (0, Msg::request(mac(1), ip(1), ip(9))),
            (timeout_ms, Msg::request(mac(3), ip(3), ip(4))),
        ],
    );
    assert!(early.is_empty(), "logged before the timeout: {early:?}");
    let late = feed(
        &mut a,
        &mut c,
        &[(timeout_ms + 1, Msg::request(mac(5), ip(5), ip(6)))],
    );
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].who_has, ip(9));
    assert_eq!(late[0].no_resp, Some(true));
    assert_eq!(late[0].is_at, None);
    // A late reply is now unsolicited.
    let reply = feed(
        &mut a,
        &mut c,
        &[(timeout_ms + 2, Msg::reply(mac(9), ip(9), mac(1), ip(1)))],
    );
    assert!(reply[0].unsolicited);
    let mut rest = Vec::new();
    a.on_end(&mut c, &mut rest);
    let order: Vec<_> = rest.iter().map(|r| r.who_has).collect();
    assert_eq!(order, vec![ip(4), ip(6)], "end flush is oldest first");
    assert!(rest.iter().all(|r| r.no_resp == Some(true)));
    assert_eq!(c.unanswered, 3);
    assert_eq!(a.pending_len(), 0);
}

#[test]
fn announcement_is_gratuitous_and_logged_at_once() {
    let mut a = ArpAnalyzer::new();
    let mut c = ArpCounters::default();
    let recs = feed(&mut a, &mut c, &[(0, Msg::request(mac(7), ip(7), ip(7)))]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert!(r.gratuitous && !r.probe && !r.unsolicited);
    assert_eq!((r.who_has, r.is_at), (ip(7), Some(mac(7))));
    assert_eq!(r.no_resp, None);
    assert_eq!(a.pending_len(), 0);
    assert_eq!(a.binding(None, ip(7)), Some(mac(7)));
    assert_eq!(c.gratuitous, 1);
}

#[test]
fn probe_waits_and_a_defender_reply_pairs_with_it() {
    let unspec = Ipv4Addr::UNSPECIFIED;
    let (recs, c) = run(&[
        (0, Msg::request(mac(1), unspec, ip(5))),
        // The owner of .5 defends it (Linux answers a probe to 0.0.0.0).
        (2, Msg::reply(mac(5), ip(5), mac(1), unspec)),
        (3000, Msg::request(mac(1), unspec, ip(6))),
    ]);
    assert_eq!(recs.len(), 2);
    assert!(recs[0].probe && recs[0].gratuitous);
    assert_eq!(
        (recs[0].is_at, recs[0].no_resp),
        (Some(mac(5)), Some(false))
    );
    assert_eq!(recs[1].who_has, ip(6));
    assert_eq!(recs[1].no_resp, Some(true));
    assert_eq!((c.probes, c.gratuitous), (2, 2));
    // A probe's 0.0.0.0 binds nothing.
    assert_eq!(c.bad_sender_mac, 0);
}

#[test]
fn unsolicited_and_gratuitous_replies() {
    let (recs, c) = run(&[
        (0, Msg::reply(mac(2), ip(2), mac(1), ip(1))),
        (1, Msg::reply(mac(3), ip(3), BROADCAST, ip(3))),
    ]);
    assert_eq!(recs.len(), 2);
    let r = &recs[0];
    assert!(r.unsolicited && !r.gratuitous);
    assert_eq!(r.operation, ArpOperation::Reply);
    assert_eq!((r.orig_h, r.orig_mac), (ip(1), mac(1)));
    assert_eq!(
        (r.resp_h, r.who_has, r.is_at),
        (Some(ip(2)), ip(2), Some(mac(2)))
    );
    assert_eq!((r.requests, r.no_resp), (0, None));
    assert!(recs[1].unsolicited && recs[1].gratuitous);
    assert_eq!((c.unsolicited, c.gratuitous, c.replies), (2, 1, 2));
}

#[test]
fn conflict_names_the_address_and_previous_mac() {
    let attacker = mac(66);
    let (recs, c) = run(&[
        (0, Msg::request(mac(1), ip(1), ip(254))),
        (1, Msg::reply(mac(254), ip(254), mac(1), ip(1))),
        // Another MAC claims the gateway's address 10 s later.
        (10_000, Msg::reply(attacker, ip(254), mac(1), ip(1))),
        // The real gateway speaks again: a conflict the other way.
        (11_000, Msg::request(mac(254), ip(254), ip(1))),
        (11_001, Msg::reply(mac(1), ip(1), mac(254), ip(254))),
    ]);
    assert_eq!(recs.len(), 3);
    assert!(recs[0].conflict.is_none());
    let spoof = recs[1].conflict.expect("conflict on the unsolicited reply");
    assert!(recs[1].unsolicited);
    assert_eq!(
        (spoof.ip, spoof.previous_mac, spoof.mac),
        (ip(254), mac(254), attacker)
    );
    let back = recs[2]
        .conflict
        .expect("conflict when the owner speaks again");
    assert_eq!(
        (back.ip, back.previous_mac, back.mac),
        (ip(254), attacker, mac(254))
    );
    assert_eq!(c.conflicts, 2);
    // The record's log line carries the three conflict columns.
    let mut vals = Vec::new();
    recs[1].visit_values(&mut |v| vals.push(format!("{v:?}")));
    let names: Vec<_> = recs[1].fields().iter().map(|f| f.name).collect();
    let col = |n: &str| vals[names.iter().position(|x| *x == n).unwrap()].clone();
    assert_eq!(col("conflict"), "Bool(true)");
    assert_eq!(col("conflict_h"), "Addr(192.168.1.254)");
    assert_eq!(col("previous_mac"), "Str(\"02:00:00:00:00:fe\")");
}

#[test]
fn a_stale_binding_is_replaced_without_conflict() {
    let later = BINDING_FRESH_FOR.0 / 1_000_000 + 1;
    let (recs, c) = run(&[
        (0, Msg::request(mac(1), ip(1), ip(1))),
        (later, Msg::request(mac(2), ip(1), ip(1))),
    ]);
    assert!(recs.iter().all(|r| r.conflict.is_none()));
    assert_eq!((c.conflicts, c.bindings_replaced), (0, 1));
}

#[test]
fn ethernet_source_differing_from_arp_sender_is_flagged() {
    let mut forged = Msg::reply(mac(2), ip(2), mac(1), ip(1));
    forged.eth_src = mac(99);
    let (recs, c) = run(&[(0, Msg::request(mac(1), ip(1), ip(2))), (1, forged)]);
    assert_eq!(recs.len(), 1);
    assert!(recs[0].eth_mismatch);
    assert_eq!(c.eth_mismatches, 1);
}

#[test]
fn vlans_are_separate_domains() {
    let (recs, c) = run(&[
        (0, Msg::request(mac(1), ip(1), ip(2)).vlan(10)),
        // Same addresses on VLAN 20: not the reply, not a conflict.
        (1, Msg::reply(mac(9), ip(2), mac(1), ip(1)).vlan(20)),
        (2, Msg::reply(mac(2), ip(2), mac(1), ip(1)).vlan(10)),
    ]);
    assert_eq!(recs.len(), 2);
    assert!(recs[0].unsolicited);
    assert_eq!(recs[0].vlan, Some(20));
    assert_eq!((recs[1].vlan, recs[1].is_at), (Some(10), Some(mac(2))));
    assert_eq!(c.conflicts, 0);
}

#[test]
fn other_opcodes_are_logged_with_their_name() {
    let mut m = Msg::request(mac(1), ip(1), ip(2));
    m.op = ArpOperation::Other(8);
    let (recs, c) = run(&[(0, m)]);
    assert_eq!(recs.len(), 1);
    let mut op = String::new();
    recs[0].visit_values(&mut |v| {
        if let gatewatch_engine::log::Value::Str(s) = v {
            if s.contains("arp") {
                op = s.to_string();
            }
        }
    });
    assert_eq!(op, "inarp_request");
    assert_eq!(c.other_operations, 1);
}

#[test]
fn full_pending_table_logs_the_oldest_without_a_verdict() {
    let mut a = ArpAnalyzer::with_limits(2, 16);
    let mut c = ArpCounters::default();
    let recs = feed(
        &mut a,
        &mut c,
        &[
            (0, Msg::request(mac(1), ip(1), ip(10))),
            (1, Msg::request(mac(1), ip(1), ip(11))),
            (2, Msg::request(mac(1), ip(1), ip(12))),
        ],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].who_has, ip(10));
    assert_eq!(recs[0].no_resp, None);
    assert_eq!(c.pending_evicted, 1);
    assert_eq!(a.pending_len(), 2);
}

#[test]
fn full_binding_table_evicts_the_least_recently_claimed() {
    let mut a = ArpAnalyzer::with_limits(16, 2);
    let mut c = ArpCounters::default();
    feed(
        &mut a,
        &mut c,
        &[
            (0, Msg::request(mac(1), ip(1), ip(1))),
            (1, Msg::request(mac(2), ip(2), ip(2))),
            (2, Msg::request(mac(1), ip(1), ip(1))),
            (3, Msg::request(mac(3), ip(3), ip(3))),
        ],
    );
    assert_eq!(a.bindings_len(), 2);
    assert_eq!(c.bindings_evicted, 1);
    assert_eq!(a.binding(None, ip(2)), None);
    assert_eq!(a.binding(None, ip(1)), Some(mac(1)));
    // The evicted address comes back without a conflict.
    feed(&mut a, &mut c, &[(4, Msg::request(mac(9), ip(2), ip(2)))]);
    assert_eq!(c.conflicts, 0);
}

#[test]
fn broadcast_or_zero_sender_mac_binds_nothing() {
    let (_, c) = run(&[
        (0, Msg::request(BROADCAST, ip(1), ip(2))),
        (1, Msg::request(ZERO, ip(3), ip(3))),
    ]);
    assert_eq!(c.bad_sender_mac, 2);
}

fn arb_msg() -> impl Strategy<Value = (i64, Msg)> {
    let small_mac = (0u8..6).prop_map(|i| match i {
        0 => ZERO,
        5 => BROADCAST,
        i => mac(i),
    });
    let small_ip = (0u8..6).prop_map(|i| if i == 0 { Ipv4Addr::UNSPECIFIED } else { ip(i) });
    let op = prop_oneof![
        4 => Just(ArpOperation::Request),
        4 => Just(ArpOperation::Reply),
        1 => any::<u16>().prop_map(ArpOperation::Other),
    ];
    (
        0i64..8000,
        op,
        small_mac.clone(),
        small_mac.clone(),
        prop::option::of(0u16..3),
        small_mac.clone(),
        small_ip.clone(),
        small_mac,
        small_ip,
    )
        .prop_map(|(t, op, eth_src, eth_dst, vlan, sha, spa, tha, tpa)| {
            (
                t,
                Msg {
                    op,
                    eth_src,
                    eth_dst,
                    vlan,
                    sha,
                    spa,
                    tha,
                    tpa,
                },
            )
        })
}

proptest! {
    /// Random streams (time may step back): no panic, tables within their
    /// limits, and every message ends up in exactly one record or merged.
    #[test]
    fn random_packets_keep_tables_bounded_and_account_for_every_message(
        msgs in prop::collection::vec(arb_msg(), 0..200),
    ) {
        let mut a = ArpAnalyzer::with_limits(4, 4);
        let mut c = ArpCounters::default();
        let mut t = 0i64;
        let mut out = Vec::new();
        for (dt, m) in &msgs {
            t += dt - 1000; // mostly forward, sometimes back
            let ts = at_ms(t);
            a.on_packet(ts, &m.decoded(ts), &m.packet(), &mut c, &mut out);
            prop_assert!(a.pending_len() <= 4);
            prop_assert!(a.bindings_len() <= 4);
        }
        a.on_end(&mut c, &mut out);
        prop_assert_eq!(a.pending_len(), 0);
        prop_assert_eq!(
            out.len() as u64,
            c.other_operations + c.unsolicited + c.requests - c.repeated_requests
        );
        prop_assert_eq!(c.replies, c.answered + c.unsolicited);
        let merged: u64 = out.iter().map(|r| u64::from(r.requests)).sum();
        prop_assert_eq!(merged, c.requests + c.other_operations);
        for r in &out {
            prop_assert_eq!(r.visit_count(), r.fields().len());
        }
    }
}

trait VisitCount {
    fn visit_count(&self) -> usize;
}

impl VisitCount for ArpRecord {
    fn visit_count(&self) -> usize {
        let mut n = 0;
        self.visit_values(&mut |_| n += 1);
        n
    }
}

/// An Ethernet ARP frame as on the wire.
fn frame(m: &Msg) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&m.eth_dst.0);
    f.extend_from_slice(&m.eth_src.0);
    f.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4]);
    let op = match m.op {
        ArpOperation::Request => 1u16,
        ArpOperation::Reply => 2,
        ArpOperation::Other(n) => n,
    };
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&m.sha.0);
    f.extend_from_slice(&m.spa.octets());
    f.extend_from_slice(&m.tha.0);
    f.extend_from_slice(&m.tpa.octets());
    f.resize(60, 0);
    f
}

/// Through the pipeline: ARP frames reach the analyzer, the pending request
/// is flushed by `finish_all`, and `proto.arp.*` is among the pipeline's counters.
#[test]
fn pipeline_writes_arp_records_and_counters() {
    let msgs = [
        Msg::request(mac(1), ip(1), ip(2)),
        Msg::reply(mac(2), ip(2), mac(1), ip(1)),
        Msg::request(mac(1), ip(1), ip(3)),
    ];
    let mut p = Pipeline::new(PipelineConfig::default());
    let (mut conns, mut recs) = (Vec::new(), Vec::new());
    for (i, m) in msgs.iter().enumerate() {
        let f = frame(m);
        let raw = RawPacket {
            ts: at_ms(i as i64),
            data: &f,
            orig_len: 60,
            link: LinkType::ETHERNET,
            interface: 0,
        };
        p.process_all(&raw, &mut conns, &mut recs);
    }
    p.finish_all(&mut conns, &mut recs);
    assert!(conns.is_empty());
    let arp: Vec<&ArpRecord> = recs
        .iter()
        .filter_map(|r| match r {
            ProtoRecord::Arp(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(arp.len(), 2);
    assert_eq!((arp[0].who_has, arp[0].no_resp), (ip(2), Some(false)));
    assert_eq!((arp[1].who_has, arp[1].no_resp), (ip(3), Some(true)));
    assert_eq!(recs[0].path(), "arp");
    let counters = p.counters();
    let get = |n: &str| counters.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    assert_eq!(get("proto.arp.requests"), Some(2));
    assert_eq!(get("proto.arp.answered"), Some(1));
    assert_eq!(get("proto.arp.unanswered"), Some(1));
}
