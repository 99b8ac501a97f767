//! TCP connections built packet by packet → the exact conn.log record Zeek
//! writes (conn_state, history, sizes, counts).
#![allow(clippy::unwrap_used)] // tests may panic on broken fixtures

mod flow_support;

use flow_support::*;
use gatewatch_engine::flow::{CloseReason, ConnRecord, Proto};

fn state(r: &ConnRecord) -> &'static str {
    r.conn_state.code()
}

/// Handshake, 100 bytes A→B, ACK, 200 bytes B→A, FIN both ways, last ACK.
fn full_connection() -> Vec<gatewatch_engine::Decoded<'static>> {
    let mut p = handshake();
    p.extend([
        tcp(30, A, 51234, B, 80, "PA", 1001, 5001, 100),
        tcp(40, B, 80, A, 51234, "A", 5001, 1101, 0),
        tcp(50, B, 80, A, 51234, "PA", 5001, 1101, 200),
        tcp(60, A, 51234, B, 80, "FA", 1101, 5201, 0),
        tcp(70, B, 80, A, 51234, "FA", 5201, 1102, 0),
        tcp(80, A, 51234, B, 80, "A", 1102, 5202, 0),
    ]);
    p
}

#[test]
fn normal_connection_is_sf_with_full_record() {
    let r = single(&full_connection());
    assert_eq!(state(&r), "SF");
    assert_eq!(r.history, "ShADadFf");
    assert_eq!(r.proto, Proto::Tcp);
    assert_eq!(r.ip_proto, 6);
    assert_eq!(r.ts, at_ms(0));
    assert_eq!(r.orig_h.to_string(), A);
    assert_eq!(r.orig_p, 51234);
    assert_eq!(r.resp_h.to_string(), B);
    assert_eq!(r.resp_p, 80);
    // The last ACK comes after both FINs: not part of the duration.
    assert_eq!(r.duration, Some(ms(70)));
    assert_eq!(r.orig_bytes, Some(100));
    assert_eq!(r.resp_bytes, Some(200));
    assert_eq!(r.missed_bytes, 0);
    assert_eq!((r.orig_pkts, r.orig_ip_bytes), (5, 40 * 4 + 140));
    assert_eq!((r.resp_pkts, r.resp_ip_bytes), (4, 40 * 3 + 240));
    assert_eq!(
        (r.orig_l2_bytes, r.resp_l2_bytes),
        (300 + 5 * 14, 360 + 4 * 14)
    );
    assert_eq!(r.orig_l2_addr, Some(MAC_A));
    assert_eq!(r.resp_l2_addr, Some(MAC_B));
    assert_eq!(r.service, Vec::<&str>::new());
    assert!(r.uid.starts_with('C') && r.uid.len() > 10, "{}", r.uid);
}

#[test]
fn syn_only_is_s0_without_duration_or_bytes() {
    let r = single(&[tcp(0, A, 51234, B, 80, "S", 1000, 0, 0)]);
    assert_eq!(state(&r), "S0");
    assert_eq!(r.history, "S");
    assert_eq!((r.duration, r.orig_bytes, r.resp_bytes), (None, None, None));
    assert_eq!((r.orig_pkts, r.orig_ip_bytes, r.resp_pkts), (1, 40, 0));
}

#[test]
fn syn_answered_by_rst_ack_is_rej() {
    let r = single(&[
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(1, B, 80, A, 51234, "RA", 0, 1001, 0),
    ]);
    assert_eq!(state(&r), "REJ");
    assert_eq!(r.history, "Sr");
    assert_eq!(r.duration, Some(ms(1)));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(0), Some(0)));
}

#[test]
fn rst_from_originator_after_handshake_is_rsto() {
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "R", 1001, 0, 0));
    let r = single(&p);
    assert_eq!(state(&r), "RSTO");
    assert_eq!(r.history, "ShAR");
}

#[test]
fn rst_from_responder_after_handshake_is_rstr() {
    let mut p = handshake();
    p.push(tcp(30, B, 80, A, 51234, "RA", 5001, 1001, 0));
    let r = single(&p);
    assert_eq!(state(&r), "RSTR");
    assert_eq!(r.history, "ShAr");
}

#[test]
fn syn_then_own_rst_is_rstos0() {
    let r = single(&[
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(500, A, 51234, B, 80, "R", 1001, 0, 0),
    ]);
    assert_eq!(state(&r), "RSTOS0");
    assert_eq!(r.history, "SR");
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(0), Some(0)));
}

#[test]
fn syn_ack_then_rst_from_responder_is_rstrh() {
    let r = single(&[
        tcp(0, B, 80, A, 51234, "SA", 5000, 1001, 0),
        tcp(1, B, 80, A, 51234, "R", 5001, 0, 0),
    ]);
    assert_eq!(state(&r), "RSTRH");
    assert_eq!(r.history, "^hr");
    assert_eq!((r.orig_h.to_string(), r.orig_p), (A.to_string(), 51234));
    assert_eq!((r.orig_pkts, r.resp_pkts), (0, 2));
}

#[test]
fn syn_then_fin_without_reply_is_sh() {
    let r = single(&[
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(1000, A, 51234, B, 80, "F", 1001, 0, 0),
    ]);
    assert_eq!(state(&r), "SH");
    assert_eq!(r.history, "SF");
    assert_eq!(r.close_reason, CloseReason::EndOfInput);
}

#[test]
fn syn_fin_in_one_packet_is_sh_with_q() {
    let r = single(&[tcp(0, A, 51234, B, 80, "SF", 1000, 0, 0)]);
    assert_eq!(state(&r), "SH");
    assert_eq!(r.history, "Q");
}

#[test]
fn midstream_traffic_is_oth() {
    let r = single(&[
        tcp(0, A, 51234, B, 80, "PA", 7000, 9000, 50),
        tcp(10, B, 80, A, 51234, "PA", 9000, 7050, 60),
    ]);
    assert_eq!(state(&r), "OTH");
    assert_eq!(r.history, "Dd");
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(50), Some(60)));
}

#[test]
fn midstream_from_server_port_is_flipped() {
    let r = single(&[tcp(0, B, 443, A, 51234, "PA", 9000, 7000, 60)]);
    assert_eq!(state(&r), "OTH");
    assert_eq!(r.history, "^d");
    assert_eq!(
        (r.orig_h.to_string(), r.orig_p, r.resp_p),
        (A.to_string(), 51234, 443)
    );
}

#[test]
fn established_without_close_is_s1() {
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "PA", 1001, 5001, 10));
    let r = single(&p);
    assert_eq!(state(&r), "S1");
    assert_eq!(r.history, "ShAD");
    assert_eq!(r.orig_bytes, Some(10));
}

#[test]
fn originator_fin_only_is_s2() {
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "FA", 1001, 5001, 0));
    let r = single(&p);
    assert_eq!(state(&r), "S2");
    assert_eq!(r.history, "ShAF");
}

#[test]
fn responder_fin_only_is_s3() {
    let mut p = handshake();
    p.push(tcp(30, B, 80, A, 51234, "FA", 5001, 1001, 0));
    let r = single(&p);
    assert_eq!(state(&r), "S3");
    assert_eq!(r.history, "ShAf");
}

#[test]
fn syn_ack_then_fin_from_responder_is_shr() {
    let r = single(&[
        tcp(0, B, 80, A, 51234, "SA", 5000, 1001, 0),
        tcp(5, B, 80, A, 51234, "FA", 5001, 1001, 0),
    ]);
    assert_eq!(state(&r), "SHR");
    assert_eq!(r.history, "^hf");
}

#[test]
fn connection_seen_from_syn_ack_is_flipped_and_finishes() {
    let mut p = full_connection();
    p.remove(0); // the SYN was not captured
    let r = single(&p);
    assert_eq!(state(&r), "SF");
    assert_eq!(r.history, "^hADadFf");
    assert_eq!((r.orig_h.to_string(), r.orig_p), (A.to_string(), 51234));
    assert_eq!(r.ts, at_ms(10));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(100), Some(200)));
    // MACs follow the roles.
    assert_eq!((r.orig_l2_addr, r.resp_l2_addr), (Some(MAC_A), Some(MAC_B)));
}

#[test]
fn syn_after_its_syn_ack_flips_the_connection() {
    // SYN-ACK from a port that is not a likely server port: no flip at
    // creation; the late SYN reverses the roles (Zeek `FlipRoles`).
    let r = single(&[
        tcp(0, B, 9999, A, 51234, "SA", 5000, 1001, 0),
        tcp(1, A, 51234, B, 9999, "S", 1000, 0, 0),
        tcp(2, A, 51234, B, 9999, "A", 1001, 5001, 0),
    ]);
    assert_eq!(r.history, "Hs^A");
    assert_eq!(r.orig_p, 51234);
    assert_eq!(state(&r), "S1");
}

#[test]
fn sequence_numbers_wrap_around() {
    let isn = 0xFFFF_FF00u32;
    let r = single(&[
        tcp(0, A, 51234, B, 80, "S", isn, 0, 0),
        tcp(10, B, 80, A, 51234, "SA", 5000, isn.wrapping_add(1), 0),
        tcp(20, A, 51234, B, 80, "A", isn.wrapping_add(1), 5001, 0),
        tcp(30, A, 51234, B, 80, "PA", isn.wrapping_add(1), 5001, 256),
        tcp(40, A, 51234, B, 80, "PA", 1, 5001, 256),
        tcp(50, B, 80, A, 51234, "A", 5001, 0x101, 0),
        tcp(60, A, 51234, B, 80, "FA", 0x101, 5001, 0),
        tcp(70, B, 80, A, 51234, "FA", 5001, 0x102, 0),
        tcp(80, A, 51234, B, 80, "A", 0x102, 5002, 0),
    ]);
    assert_eq!(state(&r), "SF");
    assert_eq!(r.history, "ShADaFf");
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(512), Some(0)));
    assert_eq!(r.missed_bytes, 0);
}

#[test]
fn retransmitted_payload_adds_t_logarithmically() {
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "PA", 1001, 5001, 100));
    p.push(tcp(31, A, 51234, B, 80, "PA", 1001, 5001, 100));
    p.push(tcp(40, B, 80, A, 51234, "A", 5001, 1101, 0));
    let r = single(&p);
    assert_eq!(r.history, "ShADTa");
    assert_eq!(r.orig_bytes, Some(100));

    let mut p = handshake();
    for i in 0..11 {
        p.push(tcp(30 + i, A, 51234, B, 80, "PA", 1001, 5001, 100));
    }
    // 10 retransmissions: letters at the 1st and the 10th.
    assert_eq!(single(&p).history, "ShADTT");
}

#[test]
fn zero_window_adds_w() {
    let mut p = handshake();
    p.push(tcp_win(30, B, 80, A, 51234, "A", 5001, 1001, 0));
    // The pure ACK letter comes first, then the zero window.
    assert_eq!(single(&p).history, "ShAaw");
}

#[test]
fn content_gap_is_missed_bytes_and_g() {
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "PA", 1001, 5001, 100));
    // 1101..1201 never captured.
    p.push(tcp(40, A, 51234, B, 80, "PA", 1201, 5001, 100));
    p.push(tcp(50, B, 80, A, 51234, "A", 5001, 1301, 0));
    let r = single(&p);
    assert_eq!(r.missed_bytes, 100);
    assert_eq!(r.history, "ShADaG");
    assert_eq!(r.orig_bytes, Some(300));
}

#[test]
fn payload_cut_by_snaplen_counts_as_missed() {
    let mut p = handshake();
    p.push(tcp_cut(30, A, 51234, B, 80, "PA", 1001, 5001, 100, 0));
    p.push(tcp(40, B, 80, A, 51234, "A", 5001, 1101, 0));
    let r = single(&p);
    assert_eq!(r.missed_bytes, 100);
    assert_eq!(r.orig_bytes, Some(100));
}

#[test]
fn gaps_in_partial_connections_are_not_reported() {
    let r = single(&[
        tcp(0, A, 51234, B, 80, "PA", 7000, 9000, 50),
        tcp(10, B, 80, A, 51234, "A", 9000, 7500, 0),
    ]);
    assert_eq!(r.missed_bytes, 0);
    assert_eq!(r.history, "Da");
}

// (conn_state, history) pairs seen in real Zeek logs (shared Stratosphere data).

#[test]
fn rst_right_after_syn_ack_is_rsto_shr() {
    let r = single(&[
        tcp(0, A, 51234, B, 80, "S", 1000, 0, 0),
        tcp(10, B, 80, A, 51234, "SA", 5000, 1001, 0),
        tcp(20, A, 51234, B, 80, "R", 1001, 0, 0),
    ]);
    assert_eq!((state(&r), r.history.as_str()), ("RSTO", "ShR"));
}

/// Handshake and one data exchange, then the given closing packets.
fn closing(tail: &[(i64, bool, &str, u32, u32)]) -> ConnRecord {
    let mut p = handshake();
    p.push(tcp(30, A, 51234, B, 80, "PA", 1001, 5001, 10));
    p.push(tcp(40, B, 80, A, 51234, "A", 5001, 1011, 0));
    p.push(tcp(50, B, 80, A, 51234, "PA", 5001, 1011, 20));
    for &(t, from_orig, fl, seq, ack) in tail {
        p.push(if from_orig {
            tcp(t, A, 51234, B, 80, fl, seq, ack, 0)
        } else {
            tcp(t, B, 80, A, 51234, fl, seq, ack, 0)
        });
    }
    single(&p)
}

#[test]
fn responder_closes_first_is_sf_fdf() {
    let r = closing(&[
        (60, false, "FA", 5021, 1011),
        (70, true, "FA", 1011, 5022),
        (80, false, "A", 5022, 1012),
    ]);
    assert_eq!((state(&r), r.history.as_str()), ("SF", "ShADadfF"));
    assert_eq!((r.orig_bytes, r.resp_bytes), (Some(10), Some(20)));
}

#[test]
fn rst_after_both_fins_stays_sf() {
    let r = closing(&[
        (60, true, "FA", 1011, 5021),
        (70, false, "FA", 5021, 1012),
        (80, true, "R", 1012, 0),
    ]);
    assert_eq!((state(&r), r.history.as_str()), ("SF", "ShADadFfR"));
}

#[test]
fn fin_rst_then_peer_fin_is_sf() {
    let r = closing(&[
        (60, true, "FA", 1011, 5021),
        (70, true, "R", 1012, 0),
        (80, false, "FA", 5021, 1012),
    ]);
    assert_eq!((state(&r), r.history.as_str()), ("SF", "ShADadFRf"));
}
