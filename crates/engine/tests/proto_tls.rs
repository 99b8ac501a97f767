//! Hand-built TLS streams through the analyzer: every field of ssl.log,
//! delivery split byte by byte and in one piece, handshake messages spanning
//! records, oversized certificate chains, TLS 1.3, resumption, SSLv2 hellos,
//! gaps and malformed input (counted, never a panic).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod tls_support;

use gatewatch_engine::log::LogRecord;
use gatewatch_engine::proto::tls::{SslRecord, TlsAnalyzer, TlsCounters, SSL_FIELDS};
use tls_support::*;

fn run(conn_msgs: &[(bool, Vec<u8>)], chunk: usize) -> (Vec<SslRecord>, TlsCounters) {
    let mut a = TlsAnalyzer::new(conn());
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    for (is_orig, bytes) in conn_msgs {
        feed(&mut a, *is_orig, bytes, chunk, &mut c, &mut out);
    }
    a.on_end(ts(99), &mut c, &mut out);
    (out, c)
}

#[test]
fn tls12_handshake_fills_every_field() {
    let (out, c) = run(&tls12_connection(), usize::MAX);
    assert_eq!(out.len(), 1, "one record per connection");
    let r = &out[0];
    assert_eq!(r.ts, ts(0));
    assert_eq!(r.version.as_deref(), Some("TLSv12"));
    assert_eq!(
        r.cipher.as_deref(),
        Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    );
    assert_eq!(r.curve.as_deref(), Some("x25519"));
    assert_eq!(r.server_name.as_deref(), Some("hub.acme.example"));
    assert_eq!(r.next_protocol.as_deref(), Some("h2"));
    assert!(r.established);
    assert!(!r.resumed);
    assert_eq!(r.ssl_history, "CsxknGIi");
    assert_eq!(
        r.cert_chain_fps[0],
        "64b8147b10640fbf56d067f329bc29b953688db3812fee7ce9e77b3a91cf9f7e"
    );
    assert_eq!(r.cert_chain_fps.len(), 2);
    // Subject printed as OpenSSL's RFC 2253 form (as Zeek does): checked against
    // `openssl x509 -noout -subject -nameopt RFC2253`.
    assert_eq!(
        r.subject.as_deref(),
        Some(r"CN=hub.acme.example,O=Acme\, Inc.,C=DE")
    );
    assert_eq!(r.issuer, r.subject);
    assert_eq!(r.cert_self_signed, Some(true));
    assert_eq!(
        r.cert_sha1.as_deref(),
        Some("597904818c0154a269a73a54bb8d02206a3ffb31")
    );
    assert_eq!(r.sni_matches_cert, Some(true));
    let before = r.cert_not_valid_before.unwrap();
    let after = r.cert_not_valid_after.unwrap();
    assert_eq!(
        after.as_nanos() - before.as_nanos(),
        3650 * 86_400 * 1_000_000_000
    );
    assert_eq!(r.ja3.as_deref(), Some("2ebbf94aedc285b12a80c1bfe8608ddf"));
    assert_eq!(r.ja3s.as_deref(), Some("7bee5c1d424b7e5f943b06983bb11422"));
    assert_eq!(
        r.ja4.as_deref(),
        Some("t13d0307h2_54093f43ad55_26e77cb6a56c")
    );
    assert_eq!(r.client_version, Some(0x0303));
    assert_eq!(r.client_ciphers, vec![0x0a0a, 0x1301, 0xc02f, 0x002f]);
    assert_eq!(r.client_extensions, vec![0x1a1a, 0, 10, 11, 13, 16, 43, 35]);
    assert_eq!(r.client_supported_versions, vec![0x3a3a, 0x0304, 0x0303]);
    assert_eq!(r.client_curves, vec![0x2a2a, 29, 23]);
    assert_eq!(r.client_alpn, vec!["h2".to_owned(), "http/1.1".to_owned()]);
    assert!(!r.sslv2_client_hello);
    assert_eq!(
        (c.client_hellos, c.server_hellos, c.certificates),
        (1, 1, 2)
    );
    assert_eq!((c.established, c.logs), (1, 1));
}

#[test]
fn certificate_names_escaped_as_openssl_rfc2253() {
    let (out, _) = run(&tls12_connection(), usize::MAX);
    // Second certificate of the chain is not the leaf: only its fingerprint is kept.
    assert_eq!(out[0].cert_chain_fps.len(), 2);
    let conn = vec![
        (true, record(22, &chrome_like_hello())),
        (false, tls12_server_flight(&[UTF8_LEAF])),
    ];
    let (out, _) = run(&conn, usize::MAX);
    assert_eq!(
        out[0].subject.as_deref(),
        Some(
            r#"CN=cam\C3\A9ra+serialNumber=42\ ,O=Soci\C3\A9t\C3\A9 #1\; \"Test\",ST=\ \C3\8Ele-de-France,C=FR"#
        )
    );
    assert_eq!(out[0].sni_matches_cert, Some(false));
}

#[test]
fn byte_by_byte_delivery_gives_the_same_record() {
    let (whole, _) = run(&tls12_connection(), usize::MAX);
    for chunk in [1, 2, 3, 7, 100] {
        let (split, c) = run(&tls12_connection(), chunk);
        assert_eq!(split.len(), 1, "chunk {chunk}");
        let (mut a, mut b) = (whole[0].clone(), split[0].clone());
        (a.ts, b.ts) = (ts(0), ts(0));
        assert_eq!(a, b, "chunk {chunk}");
        assert_eq!(c.handshake_interleaved + c.malformed_records, 0);
    }
}

#[test]
fn whole_connection_in_one_chunk_per_direction() {
    let msgs = tls12_connection();
    let client: Vec<u8> = msgs
        .iter()
        .filter(|m| m.0)
        .flat_map(|m| m.1.clone())
        .collect();
    let server: Vec<u8> = msgs
        .iter()
        .filter(|m| !m.0)
        .flat_map(|m| m.1.clone())
        .collect();
    let mut a = TlsAnalyzer::new(conn());
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    a.on_data(ts(0), true, &client, &mut c, &mut out);
    a.on_data(ts(1), false, &server, &mut c, &mut out);
    a.on_end(ts(2), &mut c, &mut out);
    assert_eq!(out.len(), 1);
    // The client's CCS came before the server's flight here, so only the
    // ServerHello letters differ from the interleaved order.
    assert_eq!(out[0].ssl_history, "CGIsxkni");
    assert!(out[0].established);
}

#[test]
fn handshake_message_spanning_records_is_reassembled() {
    let hello = chrome_like_hello();
    let (a, b) = hello.split_at(37);
    let stream = [record(22, a), record(22, b)].concat();
    let (out, c) = run(&[(true, stream)], 5);
    assert_eq!(
        out[0].ja3.as_deref(),
        Some("2ebbf94aedc285b12a80c1bfe8608ddf")
    );
    assert_eq!((c.records, c.client_hellos), (2, 1));
}

#[test]
fn oversized_certificate_chain_is_read_as_prefix_and_skipped() {
    // Leaf, then 40 junk "certificates" of 2 KiB: about 80 KiB in one message.
    let junk = vec![0x30u8; 2048];
    let mut certs: Vec<&[u8]> = vec![LEAF];
    certs.extend(std::iter::repeat_n(&junk[..], 40));
    let cert_msg = handshake(11, &certificate_body(&certs));
    assert!(cert_msg.len() > 64 * 1024);
    let sh = handshake(2, &server_hello_body(0x0303, &[], 0x002f, &[]));
    let mut server = [sh, cert_msg, handshake(14, &[])].concat();
    // Records of at most 16 KiB.
    let mut stream = Vec::new();
    for piece in server.chunks(16 * 1024) {
        stream.extend(record(22, piece));
    }
    server.clear();
    let (out, c) = run(
        &[(true, record(22, &chrome_like_hello())), (false, stream)],
        1400,
    );
    let r = &out[0];
    assert_eq!(c.cert_chain_too_large, 1);
    assert_eq!(c.handshake_too_large, 1);
    assert_eq!(
        r.subject.as_deref(),
        Some(r"CN=hub.acme.example,O=Acme\, Inc.,C=DE")
    );
    assert!(r.cert_chain_fps.len() > 1 && r.cert_chain_fps.len() <= 16);
    // The ServerHelloDone after the skipped bytes is still found.
    assert_eq!(r.ssl_history, "Csxn");
    assert!(!r.established);
}

#[test]
fn tls13_handshake_with_middlebox_ccs() {
    let sh = server_hello_body(
        0x0303,
        &[],
        0x1301,
        &[ext(43, &[3, 4]), ext(51, &[0, 29, 0, 1, 9])],
    );
    let conn = vec![
        (true, record(22, &chrome_like_hello())),
        (
            false,
            [
                record(22, &handshake(2, &sh)),
                record(20, &[1]),
                record(23, &[1; 50]),
            ]
            .concat(),
        ),
        (true, [record(20, &[1]), record(23, &[2; 50])].concat()),
    ];
    let (out, _) = run(&conn, usize::MAX);
    let r = &out[0];
    assert_eq!(r.version.as_deref(), Some("TLSv13"));
    assert_eq!(r.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(r.curve.as_deref(), Some("x25519"));
    assert_eq!(r.ssl_history, "CsiI");
    assert!(r.established);
    assert!(r.cert_chain_fps.is_empty());
}

#[test]
fn tls13_without_ccs_is_established_by_client_finished() {
    let sh = server_hello_body(0x0303, &[], 0x1302, &[ext(43, &[3, 4])]);
    let conn = vec![
        (true, record(22, &chrome_like_hello())),
        (
            false,
            [record(22, &handshake(2, &sh)), record(23, &[1; 50])].concat(),
        ),
        (true, record(23, &[2; 50])),
    ];
    let (out, c) = run(&conn, usize::MAX);
    assert!(out[0].established);
    assert_eq!(out[0].ssl_history, "Cs");
    assert_eq!(c.established, 1);
}

#[test]
fn hello_retry_request_is_history_j() {
    let mut random_hrr =
        server_hello_body(0x0303, &[], 0x1301, &[ext(43, &[3, 4]), ext(51, &[0, 23])]);
    random_hrr[2..34]
        .copy_from_slice(&gatewatch_engine::proto::tls::parser::HELLO_RETRY_REQUEST_RANDOM);
    let conn = vec![
        (true, record(22, &chrome_like_hello())),
        (false, record(22, &handshake(2, &random_hrr))),
        (true, record(22, &chrome_like_hello())),
    ];
    let (out, c) = run(&conn, usize::MAX);
    assert_eq!(out[0].ssl_history, "CjC");
    assert_eq!(out[0].curve.as_deref(), Some("secp256r1"));
    assert_eq!(c.hello_retry_requests, 1);
}

#[test]
fn resumption_by_session_id_and_by_ticket() {
    let sid = [5u8; 32];
    let hello = handshake(1, &client_hello_body(0x0303, &sid, &[0x002f], &[]));
    let sh = handshake(2, &server_hello_body(0x0303, &sid, 0x002f, &[]));
    let conn = vec![
        (true, record(22, &hello)),
        (false, [record(22, &sh), record(20, &[1])].concat()),
        (true, [record(20, &[1]), record(23, &[0; 30])].concat()),
    ];
    let (out, _) = run(&conn, usize::MAX);
    assert!(out[0].resumed);
    assert_eq!(out[0].ssl_history, "CsiI");
    assert_eq!(
        out[0].ja3.as_deref(),
        Some(&*gatewatch_engine::proto::tls::fingerprint::md5_hex(
            "771,47,,,"
        ))
    );

    // Ticket: non-empty SessionTicket, empty session id, CCS before any ClientKeyExchange.
    let hello = handshake(
        1,
        &client_hello_body(0x0303, &[], &[0x002f], &[ext(35, &[1, 2, 3])]),
    );
    let sh = handshake(2, &server_hello_body(0x0303, &[9; 32], 0x002f, &[]));
    let conn = vec![
        (true, record(22, &hello)),
        (false, [record(22, &sh), record(20, &[1])].concat()),
        (true, record(20, &[1])),
    ];
    let (out, _) = run(&conn, usize::MAX);
    assert!(out[0].resumed);
    assert!(!out[0].established, "no application data yet");
}

#[test]
fn sslv2_compatible_hello_is_counted_then_tls_continues() {
    // SSLv2 record: 2-byte header (0x80 | len), CLIENT-HELLO, version 3.1,
    // cipher-spec length 3, session-id length 0, challenge length 16.
    let mut v2 = vec![0x80, 0, 1, 3, 1, 0, 3, 0, 0, 0, 16, 0, 0, 0x2f];
    v2.extend([0x42; 16]);
    v2[1] = (v2.len() - 2) as u8;
    let sh = handshake(2, &server_hello_body(0x0301, &[], 0x002f, &[]));
    let conn = vec![
        (true, v2),
        (false, [record(22, &sh), record(20, &[1])].concat()),
        (true, [record(20, &[1]), record(23, &[1; 20])].concat()),
        (false, record(23, &[1; 20])),
    ];
    let (out, c) = run(&conn, 1);
    assert_eq!(c.sslv2_client_hellos, 1);
    assert!(out[0].sslv2_client_hello);
    assert_eq!(out[0].version.as_deref(), Some("TLSv10"));
    assert_eq!(out[0].ssl_history, "CsiI");
    assert_eq!(out[0].ja3, None);
    assert!(out[0].established);
}

#[test]
fn client_hello_from_responder_flips_direction() {
    let conn = vec![
        (false, record(22, &chrome_like_hello())),
        (true, tls12_server_flight(&[LEAF])),
    ];
    let (out, _) = run(&conn, usize::MAX);
    assert_eq!(out[0].ssl_history, "^Csxkn");
    assert_eq!(out[0].cert_chain_fps.len(), 1);
    assert!(out[0].client_cert_chain_fps.is_empty());
}

#[test]
fn alerts_plaintext_reported_encrypted_ignored() {
    let conn = vec![
        (true, record(22, &chrome_like_hello())),
        (false, record(21, &[2, 40])),
        (true, record(21, &[0x77; 26])),
    ];
    let (out, c) = run(&conn, usize::MAX);
    assert_eq!(out[0].last_alert.as_deref(), Some("handshake_failure"));
    assert_eq!(out[0].ssl_history, "Cl");
    assert_eq!((c.alerts, c.encrypted_alerts), (1, 1));
}

#[test]
fn gap_inside_application_data_keeps_sync_gap_in_handshake_loses_it() {
    let mut msgs = tls12_connection();
    msgs.truncate(4);
    let mut a = TlsAnalyzer::new(conn());
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    for (o, b) in &msgs {
        a.on_data(ts(0), *o, b, &mut c, &mut out);
    }
    let app = record(23, &[0xaa; 1000]);
    a.on_data(ts(1), true, &app[..100], &mut c, &mut out);
    a.on_gap(true, 500, &mut c);
    assert_eq!(c.gaps_lost_sync, 0);
    a.on_data(ts(2), true, &app[600..], &mut c, &mut out);
    a.on_data(ts(3), false, &record(23, &[1; 10]), &mut c, &mut out);
    assert_eq!(out.len(), 1);
    assert!(out[0].established);

    let mut b = TlsAnalyzer::new(conn());
    let (mut c, mut out) = (TlsCounters::default(), Vec::new());
    let hello = record(22, &chrome_like_hello());
    b.on_data(ts(0), true, &hello[..20], &mut c, &mut out);
    b.on_gap(true, 10, &mut c);
    assert_eq!((c.gaps, c.gaps_lost_sync), (1, 1));
    b.on_data(ts(1), true, &hello[30..], &mut c, &mut out);
    assert_eq!(c.client_hellos, 0);
    b.on_end(ts(2), &mut c, &mut out);
    assert!(out.is_empty(), "nothing was learnt");
}

#[test]
fn malformed_input_is_counted_not_reported() {
    // Not TLS at all: counted, no record.
    let (out, c) = run(
        &[(true, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())],
        usize::MAX,
    );
    assert!(out.is_empty());
    assert_eq!(c.not_tls, 1);
    // A good record then garbage: the direction stops.
    let stream = [record(22, &chrome_like_hello()), b"garbage!".to_vec()].concat();
    let (out, c) = run(&[(true, stream)], 3);
    assert_eq!(c.malformed_records, 1);
    assert_eq!(out[0].server_name.as_deref(), Some("hub.acme.example"));
    // A ClientHello cut inside its fixed fields.
    let (out, c) = run(
        &[(true, record(22, &handshake(1, &[3, 3, 1, 2])))],
        usize::MAX,
    );
    assert_eq!(c.malformed_hellos, 1);
    assert_eq!(out[0].ja3, None);
    assert_eq!(out[0].ssl_history, "C");
    // An extension list whose last entry is cut: the entries before it still count.
    let list = [
        sni_ext("a.example"),
        ext(23, &[]),
        vec![0x00, 0x15, 0x00, 0x09, 0x00],
    ]
    .concat();
    let mut body = client_hello_body(0x0303, &[], &[0x002f], &[]);
    body.extend(u16b(list.len() as u16));
    body.extend(list);
    let (out, c) = run(&[(true, record(22, &handshake(1, &body)))], usize::MAX);
    assert_eq!(c.malformed_extensions, 1);
    assert_eq!(out[0].server_name.as_deref(), Some("a.example"));
    assert_eq!(out[0].client_extensions, vec![0, 23]);
}

#[test]
fn dtls_hello_with_cookie_and_fragmented_certificate() {
    fn dtls_record(content_type: u8, epoch: u16, body: &[u8]) -> Vec<u8> {
        let mut v = vec![content_type, 0xfe, 0xfd];
        v.extend_from_slice(&u16b(epoch));
        v.extend_from_slice(&[0; 6]);
        v.extend_from_slice(&u16b(body.len() as u16));
        v.extend_from_slice(body);
        v
    }
    fn fragment(msg_type: u8, seq: u16, msg: &[u8], offset: usize, len: usize) -> Vec<u8> {
        let mut v = vec![msg_type];
        v.extend_from_slice(&u24b(msg.len()));
        v.extend_from_slice(&u16b(seq));
        v.extend_from_slice(&u24b(offset));
        v.extend_from_slice(&u24b(len));
        v.extend_from_slice(&msg[offset..offset + len]);
        v
    }
    // DTLS ClientHello: version, random, session id, cookie, ciphers, compression.
    let mut ch = u16b(0xfefd).to_vec();
    ch.extend([0x11; 32]);
    ch.extend([0, 4, 1, 2, 3, 4, 0, 4, 0xc0, 0x2b, 0x00, 0x2f, 1, 0]);
    let sh = server_hello_body(0xfefd, &[], 0xc02b, &[]);
    let cert = certificate_body(&[LEAF]);
    let half = cert.len() / 2;
    let mut a = TlsAnalyzer::new(conn());
    let mut c = TlsCounters::default();
    let mut out = Vec::new();
    let ch_dgram = dtls_record(22, 0, &fragment(1, 0, &ch, 0, ch.len()));
    a.on_data(ts(0), true, &ch_dgram, &mut c, &mut out);
    a.on_data(ts(0), true, &ch_dgram, &mut c, &mut out); // retransmission
    let flight = [
        dtls_record(22, 0, &fragment(2, 0, &sh, 0, sh.len())),
        dtls_record(22, 0, &fragment(11, 1, &cert, 0, half)),
    ]
    .concat();
    a.on_data(ts(1), false, &flight, &mut c, &mut out);
    let rest = dtls_record(22, 0, &fragment(11, 1, &cert, half, cert.len() - half));
    a.on_data(ts(1), false, &rest, &mut c, &mut out);
    a.on_data(ts(2), true, &dtls_record(20, 0, &[1]), &mut c, &mut out);
    a.on_data(ts(2), false, &dtls_record(20, 0, &[1]), &mut c, &mut out);
    a.on_data(ts(3), true, &dtls_record(23, 1, &[7; 40]), &mut c, &mut out);
    assert_eq!(out.len(), 1);
    let r = &out[0];
    assert_eq!(r.version.as_deref(), Some("DTLSv12"));
    assert_eq!(r.ja4.as_deref().map(|j| &j[..10]), Some("dd2i020000"));
    assert_eq!(
        r.subject.as_deref(),
        Some(r"CN=hub.acme.example,O=Acme\, Inc.,C=DE")
    );
    assert_eq!(r.ssl_history, "CsxIi");
    assert_eq!(c.dtls_retransmissions, 1);
    assert_eq!(c.dtls_datagrams, 7);
}

#[test]
fn record_is_written_once_and_later_data_ignored() {
    let mut conn = tls12_connection();
    conn.push((true, record(21, &[2, 0])));
    conn.push((false, b"garbage after the record".to_vec()));
    let (out, c) = run(&conn, usize::MAX);
    assert_eq!(out.len(), 1);
    assert_eq!(c.logs, 1);
    assert_eq!(out[0].last_alert, None);
    assert_eq!(c.malformed_records, 0);
}

#[test]
fn log_record_lists_zeek_columns_then_gatewatch_columns() {
    let (out, _) = run(&tls12_connection(), usize::MAX);
    let r = &out[0];
    assert_eq!(r.path(), "ssl");
    let names: Vec<&str> = r.fields().iter().map(|f| f.name).collect();
    let zeek = [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "version",
        "cipher",
        "curve",
        "server_name",
        "resumed",
        "last_alert",
        "next_protocol",
        "established",
        "ssl_history",
        "cert_chain_fps",
        "client_cert_chain_fps",
        "subject",
        "issuer",
        "client_subject",
        "client_issuer",
        "sni_matches_cert",
    ];
    assert_eq!(&names[..zeek.len()], &zeek);
    let mut values = Vec::new();
    r.visit_values(&mut |v| values.push(format!("{v:?}")));
    assert_eq!(values.len(), SSL_FIELDS.len());
    assert!(values[names.iter().position(|n| *n == "ja4").unwrap()].contains("t13d0307h2"));
}
