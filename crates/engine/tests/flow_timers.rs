//! When records are written: inactivity timeouts, the TCP attempt, close and
//! reset delays, port reuse, eviction, end of input; uids; clock disorder.
#![allow(clippy::unwrap_used)] // tests may panic on broken fixtures

mod flow_support;

use flow_support::*;
use gatewatch_engine::flow::{CloseReason, ConnRecord, FlowConfig, FlowTable};
use gatewatch_engine::Decoded;

const S: i64 = 1000; // ms per second

fn feed(table: &mut FlowTable, pkts: &[Decoded<'static>]) -> Vec<ConnRecord> {
    let mut out = Vec::new();
    for p in pkts {
        table.observe(p, &mut out);
    }
    out
}

#[test]
fn udp_inactivity_timeout_splits_records() {
    let mut table = FlowTable::new(FlowConfig::default());
    let out = feed(
        &mut table,
        &[
            udp(0, A, 40000, B, 53, 10),
            udp(59 * S, A, 40000, B, 53, 10),
        ],
    );
    assert!(out.is_empty(), "59 s gap stays one connection");
    // 59 s + 60 s: the first connection times out before this packet.
    let out = feed(&mut table, &[udp(119 * S, A, 40000, B, 53, 10)]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].close_reason, CloseReason::InactivityTimeout);
    assert_eq!(out[0].orig_pkts, 2);
    assert_eq!(out[0].duration, Some(ms(59 * S)));
    assert_eq!(table.len(), 1);
    assert_eq!(table.counters().expired_inactive, 1);
    let mut rest = Vec::new();
    table.flush(&mut rest);
    assert_eq!(rest[0].ts, at_ms(119 * S));
    assert_eq!(rest[0].close_reason, CloseReason::EndOfInput);
    assert_ne!(rest[0].uid, out[0].uid);
}

#[test]
fn tcp_inactivity_timeout_is_five_minutes() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut p = handshake();
    p.push(tcp(299 * S, A, 51234, B, 80, "PA", 1001, 5001, 10));
    assert!(feed(&mut table, &p).is_empty());
    let out = feed(
        &mut table,
        &[tcp(599 * S + 1, A, 51234, B, 80, "PA", 1011, 5001, 10)],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].conn_state.code(), "S1");
    assert_eq!(out[0].close_reason, CloseReason::InactivityTimeout);
    let mut rest = Vec::new();
    table.flush(&mut rest);
    assert_eq!(
        (rest[0].conn_state.code(), rest[0].history.as_str()),
        ("OTH", "D")
    );
}

#[test]
fn advance_expires_without_packets() {
    let mut table = FlowTable::new(FlowConfig::default());
    feed(&mut table, &[udp(0, A, 40000, B, 53, 10)]);
    let mut out = Vec::new();
    table.advance(at_ms(60 * S - 1), &mut out);
    assert!(out.is_empty());
    table.advance(at_ms(60 * S), &mut out);
    assert_eq!(out.len(), 1);
    assert!(table.is_empty());
}

#[test]
fn unanswered_syn_is_written_after_attempt_delay() {
    let mut table = FlowTable::new(FlowConfig::default());
    // Retransmissions with the same ISN belong to the attempt.
    let mut out = feed(
        &mut table,
        &[
            tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
            tcp(S, A, 51234, B, 80, "S", 1000, 0, 0),
            tcp(3 * S, A, 51234, B, 80, "S", 1000, 0, 0),
        ],
    );
    assert!(out.is_empty());
    table.advance(at_ms(5 * S), &mut out);
    assert_eq!(out.len(), 1);
    let r = &out[0];
    assert_eq!(
        (r.conn_state.code(), r.history.as_str(), r.orig_pkts),
        ("S0", "S", 3)
    );
    assert_eq!(r.close_reason, CloseReason::AttemptTimeout);
    assert_eq!(r.duration, Some(ms(3 * S)));
    // The next retransmission starts a new attempt.
    let out = feed(&mut table, &[tcp(7 * S, A, 51234, B, 80, "S", 1000, 0, 0)]);
    assert!(out.is_empty());
    assert_eq!(table.len(), 1);
}

#[test]
fn answered_syn_is_not_an_attempt() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = feed(&mut table, &handshake());
    table.advance(at_ms(200 * S), &mut out);
    assert!(
        out.is_empty(),
        "established connections wait for the TCP timeout"
    );
}

#[test]
fn finished_connection_is_written_after_close_delay() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut p = handshake();
    p.extend([
        tcp(30, A, 51234, B, 80, "FA", 1001, 5001, 0),
        tcp(40, B, 80, A, 51234, "FA", 5001, 1002, 0),
        // A late duplicate ACK within the delay still belongs to it.
        tcp(4 * S, A, 51234, B, 80, "A", 1002, 5002, 0),
    ]);
    assert!(feed(&mut table, &p).is_empty());
    let mut out = Vec::new();
    table.advance(at_ms(40 + 5 * S - 1), &mut out);
    assert!(out.is_empty());
    table.advance(at_ms(40 + 5 * S), &mut out);
    assert_eq!(out.len(), 1);
    let r = &out[0];
    assert_eq!(
        (r.conn_state.code(), r.close_reason),
        ("SF", CloseReason::Closed)
    );
    assert_eq!(r.orig_pkts, 4);
    assert_eq!(r.duration, Some(ms(40)));
    assert_eq!(table.counters().closed, 1);
}

#[test]
fn packet_after_close_delay_starts_new_connection() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "RA", 1001, 5001, 0));
    p.push(tcp(30 + 5 * S, B, 80, A, 51234, "A", 5001, 1001, 0));
    let out = feed(&mut table, &p);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].conn_state.code(), "RSTO");
    assert_eq!(table.len(), 1);
}

#[test]
fn rst_after_own_fin_uses_reset_delay() {
    let config = FlowConfig {
        tcp_reset_delay: ms(2 * S),
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "FA", 1001, 5001, 0));
    p.push(tcp(S, A, 51234, B, 80, "R", 1002, 0, 0));
    let mut out = feed(&mut table, &p);
    table.advance(at_ms(3 * S - 1), &mut out);
    assert!(out.is_empty());
    table.advance(at_ms(3 * S), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].conn_state.code(), out[0].history.as_str()),
        ("RSTO", "ShAFR")
    );
}

#[test]
fn new_syn_after_close_reuses_the_port_pair() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut p = handshake();
    p.extend([
        tcp(30, A, 51234, B, 80, "FA", 1001, 5001, 0),
        tcp(40, B, 80, A, 51234, "FA", 5001, 1002, 0),
        tcp(50, A, 51234, B, 80, "A", 1002, 5002, 0),
        tcp(S, A, 51234, B, 80, "S", 90000, 0, 0),
    ]);
    let out = feed(&mut table, &p);
    assert_eq!(out.len(), 1, "the old connection is written at the new SYN");
    assert_eq!(
        (out[0].conn_state.code(), out[0].close_reason),
        ("SF", CloseReason::Reused)
    );
    let mut rest = Vec::new();
    table.flush(&mut rest);
    assert_eq!((rest[0].history.as_str(), rest[0].ts), ("S", at_ms(S)));
    assert_eq!(table.counters().reused, 1);
}

#[test]
fn syn_with_new_isn_during_attempt_is_a_new_connection() {
    let recs = run(&[
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(S, A, 51234, B, 80, "S", 777, 0, 0),
    ]);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].close_reason, CloseReason::Reused);
    assert!(recs.iter().all(|r| r.conn_state.code() == "S0"));
}

#[test]
fn full_table_evicts_flow_closest_to_expiry() {
    let config = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    let out = feed(
        &mut table,
        &[
            udp(0, A, 40000, B, 53, 10),
            tcp(1, A, 51234, B, 80, "S", 1000, 0, 0), // attempt: expires at 5 s
            udp(2, A, 40001, B, 53, 10),
        ],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].close_reason, CloseReason::Evicted);
    assert_eq!(out[0].history, "S", "the attempt expires first, so it goes");
    assert_eq!(table.len(), 2);
    let out = feed(&mut table, &[udp(3, A, 40002, B, 53, 10)]);
    assert_eq!(
        (out[0].orig_p, out[0].close_reason),
        (40000, CloseReason::Evicted)
    );
    assert_eq!(table.counters().evicted, 2);
    assert_eq!(table.counters().active_peak, 2);
}

#[test]
fn flush_order_is_by_time_then_uid() {
    let pkts = [
        udp(3000, A, 40003, B, 53, 10),
        udp(1000, A, 40001, B, 53, 10),
        udp(2000, A, 40002, B, 53, 10),
        udp(2000, A, 40004, B, 53, 10),
    ];
    let recs = run(&pkts);
    let order: Vec<_> = recs.iter().map(|r| (r.ts, r.uid.clone())).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(recs[0].orig_p, 40001);
    assert_eq!(recs[3].orig_p, 40003);
}

#[test]
fn uids_are_stable_and_distinct() {
    let mut pkts = handshake();
    pkts.extend([
        udp(5, A, 40000, B, 53, 10),
        icmp(6, A, B, 8, 0, 8),
        udp(7, A, 40001, B, 53, 10),
    ]);
    let a: Vec<_> = run(&pkts).into_iter().map(|r| r.uid).collect();
    let b: Vec<_> = run(&pkts).into_iter().map(|r| r.uid).collect();
    assert_eq!(a, b);
    let mut unique = a.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), a.len());
    let seeded = FlowConfig {
        uid_seed: 42,
        ..FlowConfig::default()
    };
    let c: Vec<_> = run_with(seeded, &pkts)
        .0
        .into_iter()
        .map(|r| r.uid)
        .collect();
    assert!(a.iter().zip(&c).all(|(x, y)| x != y));
}

#[test]
fn same_tuple_same_instant_gets_distinct_uids() {
    let recs = run(&[
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(0, A, 51234, B, 80, "S", 2000, 0, 0),
    ]);
    assert_eq!(recs.len(), 2);
    assert_ne!(recs[0].uid, recs[1].uid);
}

#[test]
fn recreated_at_the_same_instant_gets_a_distinct_uid() {
    // With no close delay a RST'd connection ends at its own timestamp; the
    // next packet at that instant starts another on the same key.
    let config = FlowConfig {
        tcp_close_delay: ms(0),
        ..FlowConfig::default()
    };
    let pkts = [
        tcp(0, A, 51234, B, 80, "R", 1000, 0, 0),
        tcp(0, A, 51234, B, 80, "R", 1000, 0, 0),
        tcp(0, A, 51234, B, 80, "R", 1000, 0, 0),
    ];
    let (recs, _) = run_with(config, &pkts);
    assert_eq!(recs.len(), 3);
    let mut uids: Vec<_> = recs.iter().map(|r| r.uid.clone()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 3);
}

#[test]
fn timestamps_going_backwards_do_not_panic_or_go_negative() {
    let mut pkts = Vec::new();
    let mut t: i64 = 500 * S;
    for i in 0..400u32 {
        // Jump back and forth, sometimes far.
        t += if i % 3 == 0 {
            -((i as i64 * 7919) % 90_000)
        } else {
            (i as i64 * 104_729) % 70_000
        };
        let port = 40000 + (i % 7) as u16;
        pkts.push(match i % 4 {
            0 => udp(t, A, port, B, 53, 10),
            1 => tcp(
                t,
                A,
                port,
                B,
                80,
                if i % 8 == 1 { "S" } else { "PA" },
                i * 100,
                1,
                10,
            ),
            2 => tcp(t, B, 80, A, port, "RA", 0, i * 100 + 1, 0),
            _ => icmp(t, B, A, 0, 0, 8),
        });
    }
    let (recs, table) = run_with(FlowConfig::default(), &pkts);
    assert!(!recs.is_empty());
    for r in &recs {
        assert!(r.duration.is_none_or(|d| d.0 > 0), "{r:?}");
    }
    let c = table.counters();
    assert_eq!(c.created, recs.len() as u64);
    assert!(table.is_empty());
}
