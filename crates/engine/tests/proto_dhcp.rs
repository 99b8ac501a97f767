//! DHCP analyzer: hand-built DHCPv4/DHCPv6 messages (every field, transactions
//! within a flow, option overload, malformed options counted), random and
//! mutated datagrams (never a panic; every datagram logged or counted), the
//! seed corpus, and real captures compared with tshark's `dhcp.option.*`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

mod proto_udp_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::{ConnId, LogRecord};
use gatewatch_engine::proto::dhcp::record::message_type_name;
use gatewatch_engine::proto::dhcp::{
    probe, DhcpAnalyzer, DhcpCounters, DhcpRecord, Dhcpv4Record, Dhcpv6Record,
};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_udp_support::{
    capture, conn, field, tshark_available, tshark_fields, udp_datagrams, Agreement,
};

const MAC: [u8; 6] = [0x00, 0x1f, 0x29, 0xda, 0x2d, 0x79];

/// A DHCPv4 message: BOOTP header, magic cookie, `options` (code, value),
/// end option.
fn dhcp(op: u8, xid: u32, yiaddr: [u8; 4], options: &[(u8, &[u8])]) -> Vec<u8> {
    let mut m = vec![op, 1, 6, 0];
    m.extend_from_slice(&xid.to_be_bytes());
    m.extend_from_slice(&[0; 8]); // secs, flags, ciaddr
    m.extend_from_slice(&yiaddr);
    m.extend_from_slice(&[0; 8]); // siaddr, giaddr
    m.extend_from_slice(&MAC);
    m.resize(236, 0);
    m.extend_from_slice(&[99, 130, 83, 99]);
    for (code, value) in options {
        m.push(*code);
        m.push(value.len() as u8);
        m.extend_from_slice(value);
    }
    m.push(255);
    m
}

fn client_conn() -> ConnId {
    conn("0.0.0.0", 68, "255.255.255.255", 67)
}

fn run(c: &ConnId, msgs: &[(i64, bool, Vec<u8>)]) -> (Vec<DhcpRecord>, DhcpCounters) {
    let mut a = DhcpAnalyzer::new(c.clone());
    let mut counters = DhcpCounters::default();
    let mut out = Vec::new();
    for (ms, is_orig, m) in msgs {
        a.on_data(
            Timestamp(ms * 1_000_000),
            *is_orig,
            m,
            &mut counters,
            &mut out,
        );
    }
    a.on_end(Timestamp(0), &mut counters, &mut out);
    (out, counters)
}

fn v4(r: &DhcpRecord) -> &Dhcpv4Record {
    match r {
        DhcpRecord::V4(r) => r,
        DhcpRecord::V6(_) => panic!("expected a DHCPv4 record"),
    }
}

fn v6(r: &DhcpRecord) -> &Dhcpv6Record {
    match r {
        DhcpRecord::V6(r) => r,
        DhcpRecord::V4(_) => panic!("expected a DHCPv6 record"),
    }
}

fn discover() -> Vec<u8> {
    let mut client_id = vec![1];
    client_id.extend_from_slice(&MAC);
    dhcp(
        1,
        0xc979_b960,
        [0; 4],
        &[
            (53, &[1]),
            (61, &client_id),
            (12, b"kettle"),
            (55, &[1, 3, 6, 15, 119, 252]),
            (60, b"udhcp 1.24.1"),
            (50, &[192, 168, 1, 50]),
            (57, &[5, 220]),
            (81, b"\x04\x00\x00\x06kettle\x03lan\x00"),
            (161, b"https://example.com/kettle.json"),
        ],
    )
}

#[test]
fn discover_every_field() {
    let (out, c) = run(&client_conn(), &[(0, true, discover())]);
    assert_eq!(out.len(), 1);
    let r = &out[0];
    assert_eq!(r.path(), "dhcp");
    let get = |n: &str| field(r, n);
    assert_eq!(get("uid"), "CTest");
    assert_eq!(get("client_addr"), "", "0.0.0.0 is not a client address");
    assert_eq!(get("server_addr"), "");
    assert_eq!(get("mac"), "00:1f:29:da:2d:79");
    assert_eq!(get("host_name"), "kettle");
    assert_eq!(get("client_fqdn"), "kettle.lan");
    assert_eq!(get("requested_addr"), "192.168.1.50");
    assert_eq!(get("assigned_addr"), "");
    assert_eq!(get("msg_types"), "DISCOVER");
    assert_eq!(get("duration"), "0.000000");
    assert_eq!(get("msg_type"), "DISCOVER");
    assert_eq!(get("xid"), 0xc979_b960u32.to_string());
    assert_eq!(get("param_list"), "1,3,6,15,119,252");
    assert_eq!(get("options"), "53,61,12,55,60,50,57,81,161");
    assert_eq!(get("vendor_class"), "udhcp 1.24.1");
    assert_eq!(get("client_id"), "01001f29da2d79");
    assert_eq!(get("max_msg_size"), "1500");
    assert_eq!(get("mud_url"), "https://example.com/kettle.json");
    assert_eq!(get("hops"), "0");
    assert_eq!(get("relay_addr"), "");
    assert_eq!(c.messages, 1);
    assert_eq!(c.to_vec().iter().map(|(_, v)| v).sum::<u64>(), 1, "{c:?}");
}

#[test]
fn ack_from_server() {
    let ack = dhcp(
        2,
        7,
        [192, 168, 1, 50],
        &[
            (53, &[5]),
            (54, &[192, 168, 1, 1]),
            (51, &3600u32.to_be_bytes()),
            (3, &[192, 168, 1, 1]),
            (6, &[8, 8, 8, 8, 1, 1, 1, 1]),
            (15, b"lan"),
            (56, b"all good"),
        ],
    );
    let c = conn("192.168.1.1", 67, "192.168.1.50", 68);
    let (out, _) = run(&c, &[(0, true, ack)]);
    let get = |n: &str| field(&out[0], n);
    assert_eq!(get("msg_type"), "ACK");
    assert_eq!(get("server_addr"), "192.168.1.1");
    assert_eq!(get("assigned_addr"), "192.168.1.50");
    assert_eq!(get("client_addr"), "192.168.1.50");
    assert_eq!(get("lease_time"), "3600.000000");
    assert_eq!(get("server_id"), "192.168.1.1");
    assert_eq!(get("router"), "192.168.1.1");
    assert_eq!(get("dns_servers"), "8.8.8.8,1.1.1.1");
    assert_eq!(get("domain"), "lan");
    assert_eq!(get("server_message"), "all good");
    assert_eq!(get("client_message"), "");
    assert_eq!(get("mac"), "00:1f:29:da:2d:79", "chaddr");
    // The same reply seen from the responder side of a flow.
    let c = conn("192.168.1.50", 68, "192.168.1.1", 67);
    let ack = dhcp(2, 7, [192, 168, 1, 50], &[(53, &[5])]);
    let (out, _) = run(&c, &[(0, false, ack)]);
    assert_eq!(field(&out[0], "server_addr"), "192.168.1.1");
}

#[test]
fn renewing_client_is_the_client_addr() {
    let req = dhcp(1, 9, [0; 4], &[(53, &[3])]);
    let (out, _) = run(
        &conn("192.168.1.50", 68, "192.168.1.1", 67),
        &[(0, true, req)],
    );
    assert_eq!(field(&out[0], "client_addr"), "192.168.1.50");
}

#[test]
fn transaction_accumulates_within_a_flow() {
    let d = dhcp(1, 42, [0; 4], &[(53, &[1])]);
    let other = dhcp(1, 43, [0; 4], &[(53, &[8])]);
    let r = dhcp(1, 42, [0; 4], &[(53, &[3])]);
    let (out, _) = run(
        &client_conn(),
        &[(0, true, d), (500, true, other), (2000, true, r)],
    );
    assert_eq!(out.len(), 3);
    assert_eq!(field(&out[1], "msg_types"), "INFORM");
    assert_eq!(field(&out[2], "msg_types"), "DISCOVER,REQUEST");
    assert_eq!(field(&out[2], "duration"), "2.000000");
}

#[test]
fn option_overload_reads_file_then_sname() {
    let mut m = dhcp(1, 1, [0; 4], &[(53, &[1]), (52, &[3])]);
    // sname at 44, file at 108.
    m[44..44 + 13].copy_from_slice(b"\x3c\x0bsname-class");
    m[108..108 + 12].copy_from_slice(b"\x0c\x08fromfile\xff\x00");
    let (out, c) = run(&client_conn(), &[(0, true, m)]);
    assert_eq!(field(&out[0], "host_name"), "fromfile");
    assert_eq!(field(&out[0], "vendor_class"), "sname-class");
    assert_eq!(field(&out[0], "options"), "53,52,12,60");
    assert_eq!(c.option_overload, 1);
}

#[test]
fn malformed_options_are_counted_and_earlier_ones_kept() {
    // Vendor class claims 49 bytes but only 3 remain (like dhcp-fuzz.pcapng).
    let mut m = dhcp(1, 1, [0; 4], &[(53, &[106]), (12, b"MK03862")]);
    m.pop();
    m.extend_from_slice(&[60, 49, b'M', b'S', b'F']);
    let (out, c) = run(&client_conn(), &[(0, true, m)]);
    assert_eq!(field(&out[0], "host_name"), "MK03862");
    assert_eq!(field(&out[0], "vendor_class"), "");
    assert_eq!(field(&out[0], "msg_type"), "unknown-message-type-106");
    assert_eq!(c.truncated_option, 1);

    let bad_len = dhcp(1, 1, [0; 4], &[(53, &[1, 2]), (50, &[1, 2, 3])]);
    let dup = dhcp(1, 1, [0; 4], &[(12, b"a"), (12, b"b")]);
    let mut no_end = dhcp(1, 1, [0; 4], &[(12, b"a")]);
    no_end.pop();
    let many: Vec<(u8, &[u8])> = (0..200).map(|_| (224u8, &[][..])).collect();
    let many = dhcp(1, 1, [0; 4], &many);
    let mut bootp = dhcp(1, 1, [0; 4], &[]);
    bootp.truncate(300);
    bootp[236] = 0;
    let (out, c) = run(
        &client_conn(),
        &[
            (0, true, bad_len),
            (0, true, dup),
            (0, true, no_end),
            (0, true, many),
            (0, true, bootp),
        ],
    );
    assert_eq!(out.len(), 5);
    assert_eq!(field(&out[0], "msg_type"), "BOOTP");
    assert_eq!(field(&out[0], "requested_addr"), "");
    assert_eq!(field(&out[1], "host_name"), "a");
    assert_eq!(field(&out[4], "msg_type"), "BOOTP");
    assert_eq!(field(&out[4], "options"), "");
    assert_eq!(
        (
            c.bad_option_length,
            c.duplicate_option,
            c.missing_end,
            c.too_many_options,
            c.no_magic_cookie
        ),
        (1, 1, 1, 1, 1)
    );
}

#[test]
fn not_bootp_is_counted_not_logged() {
    let mut bad_op = discover();
    bad_op[0] = 9;
    let mut bad_hlen = discover();
    bad_hlen[2] = 17;
    let short = discover()[..200].to_vec();
    let (out, c) = run(
        &client_conn(),
        &[(0, true, bad_op), (0, true, bad_hlen), (0, true, short)],
    );
    assert!(out.is_empty());
    assert_eq!((c.bad_op, c.bad_hardware_length, c.too_short), (1, 1, 1));
}

#[test]
fn every_truncation_is_logged_or_counted() {
    let full = discover();
    for len in 0..full.len() {
        let (out, c) = run(&client_conn(), &[(0, true, full[..len].to_vec())]);
        let refused = c.too_short + c.bad_op + c.bad_hardware_length;
        assert_eq!(out.len() as u64 + refused, 1, "len {len}");
        if len >= 240 && len < full.len() - 1 {
            assert!(c.truncated_option + c.missing_end >= 1, "len {len}: {c:?}");
        }
    }
}

/// DHCPv6 option TLV.
fn opt6(code: u16, value: &[u8]) -> Vec<u8> {
    let mut o = code.to_be_bytes().to_vec();
    o.extend_from_slice(&(value.len() as u16).to_be_bytes());
    o.extend_from_slice(value);
    o
}

fn solicit() -> Vec<u8> {
    let mut m = vec![1, 0x12, 0x34, 0x56];
    let mut duid = vec![0, 3, 0, 1];
    duid.extend_from_slice(&MAC);
    m.extend(opt6(1, &duid));
    m.extend(opt6(8, &[0, 0]));
    m.extend(opt6(6, &[0, 23, 0, 24, 0, 39]));
    m.extend(opt6(39, b"\x01\x06kettle\x03lan\x00"));
    let mut vendor = 311u32.to_be_bytes().to_vec();
    vendor.extend_from_slice(&[0, 8]);
    vendor.extend_from_slice(b"MSFT 5.0");
    m.extend(opt6(16, &vendor));
    let mut iaaddr = "2001:db8::50"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets()
        .to_vec();
    iaaddr.extend_from_slice(&[0; 8]);
    let mut ia_na = vec![0; 12];
    ia_na.extend(opt6(5, &iaaddr));
    m.extend(opt6(3, &ia_na));
    m
}

#[test]
fn dhcpv6_solicit_every_field() {
    let c = conn("fe80::21f:29ff:feda:2d79", 546, "ff02::1:2", 547);
    let (out, counters) = run(&c, &[(0, true, solicit())]);
    let r = v6(&out[0]);
    assert_eq!(r.path(), "dhcpv6");
    let get = |n: &str| field(&out[0], n);
    assert_eq!(get("msg_type"), "SOLICIT");
    assert_eq!(get("trans_id"), 0x123456.to_string());
    assert_eq!(get("client_duid"), "00030001001f29da2d79");
    assert_eq!(get("mac"), "00:1f:29:da:2d:79");
    assert_eq!(get("fqdn"), "kettle.lan");
    assert_eq!(get("oro"), "23,24,39");
    assert_eq!(get("vendor_enterprise"), "311");
    assert_eq!(get("vendor_class"), "MSFT 5.0");
    assert_eq!(get("ia_addrs"), "2001:db8::50");
    assert_eq!(get("relay_depth"), "0");
    assert_eq!(counters.v6_messages, 1);
    assert_eq!(probe(&solicit(), true), Probe::Yes);
}

#[test]
fn dhcpv6_relay_and_malformed() {
    let inner = solicit();
    let mut relay = vec![12, 0];
    relay.extend_from_slice(&[0; 32]);
    relay.extend(opt6(9, &inner));
    let mut cut = solicit();
    cut.truncate(cut.len() - 3);
    let c = conn("2001:db8::1", 547, "2001:db8::2", 547);
    let msgs = [
        (0, true, relay),
        (0, true, cut),
        (0, true, vec![0, 1, 2, 3]),
        (0, true, vec![1, 2]),
        (0, true, vec![12, 0, 0]),
    ];
    let (out, counters) = run(&c, &msgs);
    assert_eq!(out.len(), 2);
    assert_eq!(field(&out[0], "relay_depth"), "1");
    assert_eq!(field(&out[0], "fqdn"), "kettle.lan");
    assert_eq!(v6(&out[1]).ia_addrs.len(), 0, "IA_NA was cut");
    assert_eq!(counters.v6_truncated_option, 1);
    assert_eq!(counters.v6_malformed, 3);
}

#[test]
fn probe_tells_dhcp_apart() {
    assert_eq!(probe(&discover(), true), Probe::Yes);
    let mut bootp = discover();
    bootp.truncate(240);
    bootp[236] = 1;
    assert_eq!(probe(&bootp, true), Probe::Maybe);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n\r\n", true), Probe::No);
    assert_eq!(probe(&[], true), Probe::No);
}

#[test]
fn seed_corpus_replays() {
    for (name, bytes) in proto_udp_support::corpus("dhcp") {
        let c = if name.contains("v6") {
            conn("fe80::1", 546, "ff02::1:2", 547)
        } else {
            client_conn()
        };
        let (out, counters) = run(&c, &[(0, true, bytes)]);
        assert_eq!(out.len(), 1, "{name}: {counters:?}");
    }
}

proptest! {
    #[test]
    fn random_datagrams_are_logged_or_counted(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        v6_flow in any::<bool>(),
        is_orig in any::<bool>(),
    ) {
        let c = if v6_flow { conn("fe80::1", 546, "ff02::1:2", 547) } else { client_conn() };
        let (out, k) = run(&c, &[(0, is_orig, data)]);
        let refused = k.too_short + k.bad_op + k.bad_hardware_length + k.v6_malformed + k.v6_relay_too_deep;
        prop_assert_eq!(out.len() as u64 + refused, 1);
        for r in &out {
            let mut n = 0;
            r.visit_values(&mut |_| n += 1);
            prop_assert_eq!(n, r.fields().len());
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        v6_msg in any::<bool>(),
    ) {
        let mut m = if v6_msg { solicit() } else { discover() };
        for (at, byte) in flips {
            let i = at.index(m.len());
            m[i] = byte;
        }
        let cut = cut.index(m.len() + 1);
        m.truncate(cut);
        let c = if v6_msg { conn("fe80::1", 546, "ff02::1:2", 547) } else { client_conn() };
        let (out, k) = run(&c, &[(0, true, m.clone())]);
        prop_assert!(out.len() <= 1);
        let _ = probe(&m, true);
        let total: u64 = k.to_vec().iter().map(|(_, v)| v).sum();
        prop_assert!(total >= 1);
    }
}

/// Per-frame comparison of one capture with tshark; returns
/// (msg type, hostname, param list, vendor class) agreements and the frames
/// tshark calls DHCP that we did not see on ports 67/68 (tunnelled).
pub fn compare_with_tshark(rel: &str) -> Option<([Agreement; 4], usize)> {
    let path = capture(rel)?;
    if !tshark_available() {
        return None;
    }
    let cap = udp_datagrams(&path);
    let ours = records_by_frame(&cap);
    let fields = [
        "dhcp.option.dhcp",
        "dhcp.option.hostname",
        "dhcp.option.request_list_item",
        "dhcp.option.vendor_class_id",
    ];
    let theirs = tshark_fields(&path, "dhcp", &fields, &[]);
    let mut agree = [Agreement::default(); 4];
    let mut unseen = 0;
    for (frame, t) in &theirs {
        let Some(r) = ours.get(frame) else {
            unseen += 1;
            continue;
        };
        let msg_type = t[0].split(',').next().and_then(|s| s.parse().ok());
        let tshark_type = message_type_name(msg_type); // no option 53: BOOTP
        agree[0].add(&r.msg_type, &tshark_type);
        agree[1].add(r.host_name.as_deref().unwrap_or_default(), &t[1]);
        let params: Vec<String> = r.param_list.iter().map(u64::to_string).collect();
        agree[2].add(&params.join(","), &t[2]);
        agree[3].add(r.vendor_class.as_deref().unwrap_or_default(), &t[3]);
    }
    Some((agree, unseen))
}

fn records_by_frame(
    cap: &proto_udp_support::Capture,
) -> std::collections::HashMap<usize, Dhcpv4Record> {
    let mut analyzers: std::collections::HashMap<usize, DhcpAnalyzer> = Default::default();
    let mut counters = DhcpCounters::default();
    let mut by_frame = std::collections::HashMap::new();
    for d in cap.on_ports(&[67, 68]) {
        let a = analyzers
            .entry(d.flow)
            .or_insert_with(|| DhcpAnalyzer::new(cap.flows[d.flow].clone()));
        let mut out = Vec::new();
        a.on_data(d.ts, d.is_orig, &d.payload, &mut counters, &mut out);
        if let Some(DhcpRecord::V4(r)) = out.pop() {
            by_frame.insert(d.frame, *r);
        }
    }
    by_frame
}

#[test]
fn dhcp_fuzz_capture() {
    let Some(path) = capture("ndpi/pcap/dhcp-fuzz.pcapng") else {
        return;
    };
    let cap = udp_datagrams(&path);
    let c = cap.flows[0].clone();
    let msgs: Vec<_> = cap
        .on_ports(&[67, 68])
        .map(|d| (0, d.is_orig, d.payload.clone()))
        .collect();
    let (out, counters) = run(&c, &msgs);
    assert_eq!(out.len(), 1);
    let r = v4(&out[0]);
    assert_eq!(r.msg_type, "unknown-message-type-106");
    assert_eq!(r.host_name.as_deref(), Some("MK03862"));
    assert_eq!(r.client_id.as_deref(), Some("01001f29da2d79"));
    assert_eq!(r.vendor_class, None);
    assert_eq!(counters.truncated_option, 1);
}

#[test]
fn ndpi_and_stratosphere_captures_agree_with_tshark() {
    let files = [
        "ndpi/pcap/dhcp-fuzz.pcapng",
        "ndpi/pcap/alexa-app.pcapng",
        "ndpi/pcap/capwap.pcap",
        "ndpi/pcap/iphone.pcap",
        "ndpi/pcap/whatsapp_login_chat.pcap",
        "stratosphere/slips-dataset/test7-malicious.pcap",
    ];
    let mut total = [Agreement::default(); 4];
    for rel in files {
        let Some((agree, unseen)) = compare_with_tshark(rel) else {
            return;
        };
        eprintln!(
            "{rel}: msg_type {} hostname {} params {} vendor {} (tunnelled, not ours: {unseen})",
            agree[0], agree[1], agree[2], agree[3]
        );
        for (t, a) in total.iter_mut().zip(agree) {
            t.merge(a);
        }
    }
    eprintln!(
        "total: msg_type {} hostname {} params {} vendor {}",
        total[0], total[1], total[2], total[3]
    );
    assert!(total[0].compared >= 100, "too few DHCP messages compared");
    for a in total {
        assert_eq!(a.equal, a.compared, "disagreement with tshark: {a}");
    }
}
