//! MQTT analyzer: hand-built packets (every logged field, MQTT 5 properties,
//! QoS exchanges, byte-by-byte and packed delivery, oversize packets, gaps,
//! malformed packets per reason), random input never panics, the seed
//! corpus, and the MQTTset / nDPI captures compared with tshark.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_support;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use gatewatch_engine::log::{ConnId, LogRecord};
use gatewatch_engine::proto::mqtt::{
    self, MqttAnalyzer, MqttConnectRecord, MqttCounters, MqttPublishRecord, MqttRecord,
    MqttSubscribeRecord, SubscribeAction,
};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::{Counters, Timestamp};
use proptest::prelude::*;
use proto_support::{agreement, data_dir, replay_tcp, tshark_fields, unmatched, Delivery};

fn conn() -> ConnId {
    ConnId {
        uid: "CMqttTest".into(),
        orig_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 90)),
        orig_p: 50000,
        resp_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 91)),
        resp_p: 1883,
    }
}

// ---- packet builders -------------------------------------------------------

fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    out.extend(varint(body.len()));
    out.extend_from_slice(body);
    out
}

fn s(text: &[u8]) -> Vec<u8> {
    let mut out = (text.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(text);
    out
}

struct ConnectSpec<'a> {
    name: &'a [u8],
    level: u8,
    flags: u8,
    keep_alive: u16,
    client_id: &'a [u8],
    will: Option<(&'a [u8], &'a [u8])>,
    user: Option<&'a [u8]>,
    pass: Option<&'a [u8]>,
}

fn connect(spec: &ConnectSpec<'_>) -> Vec<u8> {
    let mut body = s(spec.name);
    body.push(spec.level);
    body.push(spec.flags);
    body.extend(spec.keep_alive.to_be_bytes());
    if spec.level == 5 {
        body.extend([5, 0x11, 0, 0, 0, 60]); // session expiry interval property
    }
    body.extend(s(spec.client_id));
    if let Some((topic, msg)) = spec.will {
        if spec.level == 5 {
            body.push(0);
        }
        body.extend(s(topic));
        body.extend(s(msg));
    }
    if let Some(u) = spec.user {
        body.extend(s(u));
    }
    if let Some(p) = spec.pass {
        body.extend(s(p));
    }
    packet(0x10, &body)
}

fn connect_v311(client: &[u8]) -> Vec<u8> {
    connect(&ConnectSpec {
        name: b"MQTT",
        level: 4,
        flags: 0x02,
        keep_alive: 60,
        client_id: client,
        will: None,
        user: None,
        pass: None,
    })
}

fn connack(code: u8) -> Vec<u8> {
    packet(0x20, &[0, code])
}

fn publish(qos: u8, retain: bool, topic: &[u8], id: u16, payload: &[u8]) -> Vec<u8> {
    let mut body = s(topic);
    if qos > 0 {
        body.extend(id.to_be_bytes());
    }
    body.extend_from_slice(payload);
    packet(0x30 | (qos << 1) | u8::from(retain), &body)
}

fn ack(first: u8, id: u16) -> Vec<u8> {
    packet(first, &id.to_be_bytes())
}

fn subscribe(id: u16, topics: &[(&[u8], u8)]) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    for (t, q) in topics {
        body.extend(s(t));
        body.push(*q);
    }
    packet(0x82, &body)
}

// ---- running the analyzer ------------------------------------------------

struct Run {
    records: Vec<MqttRecord>,
    c: MqttCounters,
}

impl Run {
    fn connects(&self) -> Vec<&MqttConnectRecord> {
        self.records
            .iter()
            .filter_map(|r| {
                if let MqttRecord::Connect(x) = r {
                    Some(x)
                } else {
                    None
                }
            })
            .collect()
    }
    fn publishes(&self) -> Vec<&MqttPublishRecord> {
        self.records
            .iter()
            .filter_map(|r| {
                if let MqttRecord::Publish(x) = r {
                    Some(x)
                } else {
                    None
                }
            })
            .collect()
    }
    fn subscribes(&self) -> Vec<&MqttSubscribeRecord> {
        self.records
            .iter()
            .filter_map(|r| {
                if let MqttRecord::Subscribe(x) = r {
                    Some(x)
                } else {
                    None
                }
            })
            .collect()
    }
}

/// Feeds `(is_orig, bytes)`, one second apart, each cut in `split`-byte
/// pieces (0 = whole), then ends the connection.
fn run_split(deliveries: &[(bool, Vec<u8>)], split: usize) -> Run {
    let mut a = MqttAnalyzer::new(conn());
    let mut c = MqttCounters::default();
    let mut records = Vec::new();
    for (i, (is_orig, bytes)) in deliveries.iter().enumerate() {
        let ts = Timestamp::from_secs_nanos(1_700_000_000 + i as i64, 0);
        if split == 0 {
            a.on_data(ts, *is_orig, bytes, &mut c, &mut records);
        } else {
            for piece in bytes.chunks(split) {
                a.on_data(ts, *is_orig, piece, &mut c, &mut records);
            }
        }
    }
    a.on_end(
        Timestamp::from_secs_nanos(1_700_000_100, 0),
        &mut c,
        &mut records,
    );
    Run { records, c }
}

fn run(deliveries: &[(bool, Vec<u8>)]) -> Run {
    run_split(deliveries, 0)
}

// ---- hand-built conversations --------------------------------------------

#[test]
fn connect_and_refused_connack_fill_every_field() {
    let hello = connect(&ConnectSpec {
        name: b"MQTT",
        level: 4,
        flags: 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02,
        keep_alive: 30,
        client_id: b"sensor-17",
        will: Some((b"status/sensor-17", b"offline")),
        user: Some(b"admin"),
        pass: Some(b"hunter2"),
    });
    let r = run(&[(true, hello), (false, connack(4))]);
    let recs = r.connects();
    assert_eq!(recs.len(), 1);
    let x = recs[0];
    assert_eq!(x.proto_name.as_deref(), Some("MQTT"));
    assert_eq!(x.proto_version.as_deref(), Some("3.1.1"));
    assert_eq!(x.client_id.as_deref(), Some("sensor-17"));
    assert_eq!(
        x.connect_status.as_deref(),
        Some("Refused: bad user name or password")
    );
    assert_eq!(x.will_topic.as_deref(), Some("status/sensor-17"));
    assert_eq!(x.will_payload.as_deref(), Some("offline"));
    assert_eq!(
        (x.username_present, x.password_present),
        (Some(true), Some(true))
    );
    assert_eq!(
        (x.keep_alive, x.clean_session, x.connack_code),
        (Some(30), Some(true), Some(4))
    );
    assert_eq!(x.ts, Timestamp::from_secs_nanos(1_700_000_000, 0));
    assert_eq!((r.c.connect, r.c.connack, r.c.connack_refused), (1, 1, 1));
    assert_eq!(r.c.malformed_total(), 0);
    let rec = &r.records[0];
    assert_eq!(rec.path(), "mqtt_connect");
    let mut n = 0;
    rec.visit_values(&mut |_| n += 1);
    assert_eq!(n, rec.fields().len());
}

#[test]
fn mqtt5_properties_are_skipped() {
    let hello = connect(&ConnectSpec {
        name: b"MQTT",
        level: 5,
        flags: 0x80 | 0x40 | 0x04 | 0x02,
        keep_alive: 10,
        client_id: b"v5",
        will: Some((b"w", b"bye")),
        user: Some(b"u"),
        pass: Some(b"p"),
    });
    // CONNACK v5: flags, reason 0x86, properties (len 0)
    let refused = packet(0x20, &[0, 0x86, 0]);
    // PUBLISH v5 QoS 1 with a topic alias property, then PUBACK with reason + properties
    let mut body = s(b"t/1");
    body.extend([0, 9, 3, 0x23, 0, 1]);
    body.extend_from_slice(b"payload");
    let publ = packet(0x32, &body);
    let puback = packet(0x40, &[0, 9, 0x10, 0]);
    let r = run(&[
        (true, hello),
        (false, refused),
        (true, publ),
        (false, puback),
    ]);
    let x = r.connects()[0];
    assert_eq!(x.proto_version.as_deref(), Some("5.0"));
    assert_eq!(x.will_payload.as_deref(), Some("bye"));
    assert_eq!(
        x.connect_status.as_deref(),
        Some("Refused: bad user name or password")
    );
    assert_eq!(x.connack_code, Some(0x86));
    let p = r.publishes()[0];
    assert_eq!(
        (
            p.topic.as_str(),
            p.payload.as_str(),
            p.payload_len,
            p.status
        ),
        ("t/1", "payload", 7, "ok")
    );
    assert_eq!(r.c.malformed_total(), 0, "{:?}", r.c);
}

#[test]
fn qos_exchanges_set_the_status() {
    let long_payload = vec![b'x'; 300];
    let r = run(&[
        (true, connect_v311(b"c")),
        (false, connack(0)),
        (true, publish(0, true, b"a/0", 0, &long_payload)),
        (true, publish(1, false, b"a/1", 1, b"one")),
        (false, ack(0x40, 1)),
        (true, publish(2, false, b"a/2", 2, b"two")),
        (false, ack(0x50, 2)),
        (true, ack(0x62, 2)),
        (false, ack(0x70, 2)),
        (false, publish(1, false, b"down", 1, b"to client")), // same id, other side
        (true, publish(2, false, b"a/3", 3, b"never acked")),
    ]);
    let got: Vec<_> = r
        .publishes()
        .iter()
        .map(|p| (p.topic.as_str(), p.qos, p.status, p.from_client))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a/0", "at most once", "ok", true),
            ("a/1", "at least once", "ok", true),
            ("a/2", "exactly once", "ok", true),
            ("down", "at least once", "incomplete_qos", false),
            ("a/3", "exactly once", "incomplete_qos", true),
        ]
    );
    let first = r.publishes()[0];
    assert!(first.retain);
    assert_eq!(
        (first.payload.len(), first.payload_len),
        (mqtt::MAX_PAYLOAD_LOG, 300)
    );
    assert_eq!(r.c.publish_payload_bytes, 300 + 3 + 3 + 9 + 11);
    assert_eq!(
        (
            r.c.puback,
            r.c.pubrec,
            r.c.pubrel,
            r.c.pubcomp,
            r.c.unmatched_acks
        ),
        (1, 1, 1, 1, 0)
    );
}

#[test]
fn unacknowledged_publish_expires_after_five_seconds() {
    let mut a = MqttAnalyzer::new(conn());
    let mut c = MqttCounters::default();
    let mut out = Vec::new();
    a.on_data(
        Timestamp::from_secs_nanos(100, 0),
        true,
        &publish(1, false, b"t", 5, b"x"),
        &mut c,
        &mut out,
    );
    a.on_data(
        Timestamp::from_secs_nanos(104, 0),
        true,
        &packet(0xc0, &[]),
        &mut c,
        &mut out,
    );
    assert!(out.is_empty());
    a.on_data(
        Timestamp::from_secs_nanos(106, 0),
        false,
        &packet(0xd0, &[]),
        &mut c,
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!((c.pending_expired, c.pingreq, c.pingresp), (1, 1, 1));
}

#[test]
fn subscriptions_pair_with_their_acks() {
    let unsub = {
        let mut body = 8u16.to_be_bytes().to_vec();
        body.extend(s(b"$SYS/#"));
        packet(0xa2, &body)
    };
    let r = run(&[
        (true, subscribe(7, &[(b"#", 0), (b"home/+/temp", 1)])),
        (false, packet(0x90, &[0, 7, 0x00, 0x80])),
        (true, unsub),
        (false, ack(0xb0, 8)),
        (true, subscribe(9, &[(b"never/acked", 2)])),
    ]);
    let subs = r.subscribes();
    assert_eq!(subs.len(), 3);
    assert_eq!(subs[0].action, SubscribeAction::Subscribe);
    assert_eq!(
        subs[0].topics,
        vec!["#".to_string(), "home/+/temp".to_string()]
    );
    assert_eq!(subs[0].qos_levels, Some(vec![0, 1]));
    assert_eq!((subs[0].granted_qos_level, subs[0].ack), (Some(0), true));
    assert_eq!(
        (subs[1].action, subs[1].qos_levels.clone(), subs[1].ack),
        (SubscribeAction::Unsubscribe, None, true)
    );
    assert_eq!((subs[2].ack, subs[2].granted_qos_level), (false, None));
    assert_eq!(r.c.suback_refused, 1);
    assert_eq!(r.records[0].path(), "mqtt_subscribe");
}

fn conversation() -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, connect_v311(b"split-me")),
        (false, connack(0)),
        (true, subscribe(1, &[(b"a/#", 1)])),
        (false, packet(0x90, &[0, 1, 1])),
        (
            true,
            [
                publish(1, false, b"a/b", 2, b"hello"),
                packet(0xc0, &[]),
                publish(0, false, b"a/c", 0, b""),
            ]
            .concat(),
        ),
        (false, [ack(0x40, 2), packet(0xd0, &[])].concat()),
        (true, packet(0xe0, &[])),
    ]
}

#[test]
fn split_and_packed_delivery_give_the_same_records() {
    let whole = run(&conversation());
    assert_eq!(whole.records.len(), 4);
    assert_eq!(
        (whole.c.pingreq, whole.c.pingresp, whole.c.disconnect),
        (1, 1, 1)
    );
    for split in [1, 2, 3, 5, 13] {
        let r = run_split(&conversation(), split);
        assert_eq!(r.records, whole.records, "split {split}");
        assert_eq!(r.c, whole.c, "split {split}");
    }
    // Everything of one side in one delivery.
    let conv = conversation();
    let orig: Vec<u8> = conv
        .iter()
        .filter(|d| d.0)
        .flat_map(|d| d.1.clone())
        .collect();
    let resp: Vec<u8> = conv
        .iter()
        .filter(|d| !d.0)
        .flat_map(|d| d.1.clone())
        .collect();
    let r = run(&[(true, orig), (false, resp)]);
    assert_eq!(r.records.len(), 4);
    assert_eq!(r.c.packets, whole.c.packets);
}

#[test]
fn oversize_publish_is_skipped_by_length() {
    let big = vec![b'z'; mqtt::MAX_MQTT_PACKET + 1000];
    let msg = publish(0, false, b"flood", 0, &big);
    for split in [0, 1400] {
        let r = run_split(
            &[(
                true,
                [msg.clone(), publish(0, false, b"after", 0, b"ok")].concat(),
            )],
            split,
        );
        let p = r.publishes();
        assert_eq!(p.len(), 2, "split {split}");
        assert_eq!(
            (p[0].topic.as_str(), p[0].payload_len, p[0].payload.len()),
            ("flood", big.len() as u64, 100)
        );
        assert_eq!(p[1].topic, "after");
        assert_eq!(r.c.oversize_packets, 1);
        assert_eq!(r.c.oversize_bytes, (big.len() + 7) as u64);
    }
}

#[test]
fn gaps_inside_a_packet_keep_the_framing() {
    let mut a = MqttAnalyzer::new(conn());
    let mut c = MqttCounters::default();
    let mut out = Vec::new();
    let p = publish(0, false, b"t", 0, &[7u8; 50]);
    a.on_data(Timestamp::ZERO, true, &p[..20], &mut c, &mut out);
    a.on_gap(true, 20, &mut c);
    a.on_data(
        Timestamp::ZERO,
        true,
        &[&p[40..], &publish(0, false, b"next", 0, b"")[..]].concat(),
        &mut c,
        &mut out,
    );
    a.on_end(Timestamp::ZERO, &mut c, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((c.gap_packets_lost, c.gap_lost_sync), (1, 0));

    let mut a = MqttAnalyzer::new(conn());
    a.on_data(Timestamp::ZERO, true, &p, &mut c, &mut out);
    a.on_gap(true, 10, &mut c);
    assert_eq!(c.gap_lost_sync, 1);
}

#[test]
fn malformed_packets_are_counted_per_reason() {
    let five_byte_length = vec![0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0];
    let r = run(&[(true, five_byte_length), (true, connect_v311(b"ignored"))]);
    assert_eq!(
        (
            r.c.malformed_remaining_length,
            r.c.directions_stopped,
            r.c.connect
        ),
        (1, 1, 0)
    );

    let r = run(&[
        (true, packet(0x00, &[])),                    // reserved type 0
        (true, packet(0x80, &[0, 1, 0, 1, b'a', 0])), // SUBSCRIBE without flags 0x2
        (true, packet(0x36, &[0, 1, b'a', 0, 1])),    // PUBLISH QoS 3
        (true, packet(0x30, &[0, 9, b'a'])),          // topic runs past the end
        (true, packet(0xf0, &[])),                    // AUTH in 3.1.1
        (false, packet(0x20, &[0, 0, 0xff])),         // CONNACK with a trailing byte
        (false, connect_v311(b"from-server")),        // wrong direction
        (
            true,
            connect(&ConnectSpec {
                name: b"MQTX",
                level: 4,
                flags: 0x43,
                keep_alive: 0,
                client_id: b"\xff",
                will: None,
                user: None,
                pass: Some(b"p"),
            }),
        ),
        (
            true,
            connect(&ConnectSpec {
                name: b"MQTT",
                level: 9,
                flags: 0x02,
                keep_alive: 0,
                client_id: b"",
                will: None,
                user: None,
                pass: None,
            }),
        ),
        (true, publish(1, false, b"a/+/b", 0, b"")),
        (true, packet(0x82, &[0, 5])), // SUBSCRIBE without topics
        (true, subscribe(6, &[(b"x", 0x07)])),
        (true, publish(0, false, b"$SYS/broker/uptime", 0, b"1")), // legal, but noted
        (false, publish(0, false, b"$SYS/broker/uptime", 0, b"2")),
    ]);
    let c = &r.c;
    assert_eq!(c.malformed_reserved_type, 2);
    assert_eq!(c.malformed_flags, 2);
    assert_eq!(c.malformed_truncated, 1);
    assert_eq!(c.malformed_trailing_bytes, 1);
    assert_eq!(c.malformed_wrong_direction, 1);
    assert_eq!(c.malformed_protocol_name, 1);
    assert_eq!(c.malformed_protocol_version, 1);
    assert_eq!(c.malformed_connect_flags, 1);
    assert_eq!(c.malformed_utf8, 1);
    assert_eq!(c.malformed_topic, 1);
    assert_eq!(c.malformed_packet_id, 1);
    assert_eq!(c.malformed_empty_topic_list, 1);
    assert_eq!(c.malformed_subscription_options, 1);
    assert_eq!(c.client_publish_dollar_topic, 1);
    assert_eq!(c.directions_stopped, 0);
    // Soft violations are still logged: the lone CONNACK, three connects (one
    // from the wrong side), a publish, two subscriptions.
    assert_eq!(
        (
            r.connects().len(),
            r.publishes().len(),
            r.subscribes().len()
        ),
        (4, 3, 2)
    );
    assert_eq!(r.connects()[0].connack_code, Some(0));
    assert_eq!(r.connects()[2].proto_name.as_deref(), Some("MQTX"));
}

#[test]
fn a_run_of_unreadable_packets_stops_the_direction() {
    let junk: Vec<u8> = std::iter::repeat_n([0x00u8, 0x00], 20).flatten().collect();
    let r = run(&[(true, junk)]);
    assert_eq!(
        r.c.malformed_reserved_type,
        u64::from(mqtt::MAX_CONSECUTIVE_MALFORMED)
    );
    assert_eq!(r.c.directions_stopped, 1);
}

#[test]
fn pending_tables_are_bounded() {
    let mut msgs = Vec::new();
    for id in 1..=(mqtt::MAX_PENDING_PUBLISHES as u16 + 2) {
        msgs.push((true, publish(1, false, b"q", id, b"")));
    }
    for id in 1..=(mqtt::MAX_PENDING_SUBSCRIBES as u16 + 1) {
        msgs.push((true, subscribe(id, &[(b"s", 0)])));
    }
    // All at one instant: nothing expires, the bounds alone decide.
    let all: Vec<u8> = msgs.iter().flat_map(|m| m.1.clone()).collect();
    let r = run(&[(true, all)]);
    assert_eq!(
        (r.c.pending_publish_evicted, r.c.pending_subscribe_evicted),
        (2, 1)
    );
    assert_eq!(r.records.len(), msgs.len());
}

#[test]
fn probes() {
    let hello = connect_v311(b"x");
    assert_eq!(mqtt::probe(&hello, true), Probe::Yes);
    assert_eq!(mqtt::probe(&hello[..6], true), Probe::Maybe);
    assert_eq!(mqtt::probe(&[0x10], true), Probe::Maybe);
    let old = connect(&ConnectSpec {
        name: b"MQIsdp",
        level: 3,
        flags: 2,
        keep_alive: 5,
        client_id: b"c",
        will: None,
        user: None,
        pass: None,
    });
    assert_eq!(mqtt::probe(&old, true), Probe::Yes);
    assert_eq!(mqtt::probe(b"GET / HTTP/1.1\r\n", true), Probe::No);
    assert_eq!(mqtt::probe(&connack(0), false), Probe::Maybe);
    assert_eq!(mqtt::probe(b"HTTP/1.1 200 OK", false), Probe::No);
    assert_eq!(
        mqtt::probe(&publish(0, false, b"t", 0, b"p"), true),
        Probe::No
    );
}

#[test]
fn counters_have_unique_dotted_names() {
    let c = MqttCounters::default();
    let names: Vec<_> = c.to_vec().into_iter().map(|(n, _)| n).collect();
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    assert!(names.iter().all(|n| n.starts_with("proto.mqtt.")));
    assert_eq!(names, MqttCounters::NAMES);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..12)) {
        let mut a = MqttAnalyzer::new(conn());
        let mut c = MqttCounters::default();
        let mut out = Vec::new();
        let mut fed = 0;
        for (is_orig, bytes) in &chunks {
            a.on_data(Timestamp::ZERO, *is_orig, bytes, &mut c, &mut out);
            fed += bytes.len();
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        // Every record stems from a framed packet; every framed packet took at least 2 bytes.
        prop_assert!(out.len() as u64 <= c.packets);
        prop_assert!(c.packets as usize * 2 <= fed);
    }

    #[test]
    fn garbage_is_counted(bytes in proptest::collection::vec(any::<u8>(), 64..400)) {
        // Reserved type 0 in every first byte of a packet: nothing can be read.
        let mut junk = bytes;
        junk[0] &= 0x0f;
        junk[1] = 0;
        let mut a = MqttAnalyzer::new(conn());
        let mut c = MqttCounters::default();
        let mut out = Vec::new();
        a.on_data(Timestamp::ZERO, true, &junk, &mut c, &mut out);
        prop_assert!(c.malformed_reserved_type >= 1);
        prop_assert!(c.malformed_total() >= 1);
    }

    #[test]
    fn mutated_conversations_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        split in 1usize..30,
        gap_at in proptest::option::of(0usize..7),
    ) {
        let mut conv = conversation();
        for (at, byte) in flips {
            let i = at % conv.len();
            let msg = &mut conv[i].1;
            let j = at % msg.len();
            msg[j] = byte;
        }
        let mut a = MqttAnalyzer::new(conn());
        let mut c = MqttCounters::default();
        let mut out = Vec::new();
        for (i, (is_orig, bytes)) in conv.iter().enumerate() {
            if gap_at == Some(i) {
                a.on_gap(*is_orig, 3, &mut c);
            }
            for piece in bytes.chunks(split) {
                a.on_data(Timestamp::ZERO, *is_orig, piece, &mut c, &mut out);
            }
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut out);
        prop_assert!(out.len() as u64 <= c.packets);
    }
}

fn split_directions(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (len, rest) = bytes.split_at(2);
    let n = usize::from(u16::from_be_bytes([len[0], len[1]])).min(rest.len());
    rest.split_at(n)
}

#[test]
fn seed_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mqtt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        // Same layout as the fuzz target: big-endian u16 length of the
        // originator's bytes, those, then the responder's.
        let (orig, resp) = split_directions(&bytes);
        let r = run(&[(true, orig.to_vec()), (false, resp.to_vec())]);
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("ok_") {
            assert!(!r.records.is_empty(), "{name}: no record");
            assert_eq!(r.c.malformed_total(), 0, "{name}: {:?}", r.c);
        } else {
            assert!(r.c.malformed_total() > 0, "{name}: {:?}", r.c);
        }
    }
}

// ---- real captures ---------------------------------------------------------

/// Runs the analyzer over the capture's TCP connections on `port`.
fn analyze_capture(path: &Path, port: u16) -> (Vec<MqttRecord>, MqttCounters) {
    let mut analyzers: HashMap<usize, MqttAnalyzer> = HashMap::new();
    let mut c = MqttCounters::default();
    let mut out = Vec::new();
    replay_tcp(
        path,
        |s, d| s == port || d == port,
        |ev| match ev {
            Delivery::Open(i, id) => {
                analyzers.insert(i, MqttAnalyzer::new(id.clone()));
            }
            Delivery::Data {
                conn,
                ts,
                is_orig,
                data,
            } => analyzers
                .get_mut(&conn)
                .unwrap()
                .on_data(ts, is_orig, data, &mut c, &mut out),
            Delivery::Gap { conn, is_orig, len } => analyzers
                .get_mut(&conn)
                .unwrap()
                .on_gap(is_orig, len, &mut c),
            Delivery::End { conn, ts } => analyzers
                .remove(&conn)
                .unwrap()
                .on_end(ts, &mut c, &mut out),
        },
    );
    (out, c)
}

type Keyed = Vec<(u16, String)>;

/// (client ids, CONNACK codes, topics of PUBLISH/SUBSCRIBE/UNSUBSCRIBE), keyed by client port.
fn ours(recs: &[MqttRecord]) -> (Keyed, Keyed, Keyed) {
    let (mut ids, mut codes, mut topics) = (Vec::new(), Vec::new(), Vec::new());
    for r in recs {
        match r {
            MqttRecord::Connect(x) => {
                if let Some(id) = &x.client_id {
                    ids.push((x.conn.orig_p, id.clone()));
                }
                if let Some(code) = x.connack_code {
                    codes.push((x.conn.orig_p, code.to_string()));
                }
            }
            MqttRecord::Publish(x) => topics.push((x.conn.orig_p, x.topic.clone())),
            MqttRecord::Subscribe(x) => {
                topics.extend(x.topics.iter().map(|t| (x.conn.orig_p, t.clone())))
            }
        }
    }
    (ids, codes, topics)
}

/// The same from tshark; a segment seen twice (retransmission, duplicated
/// capture) counts once, keyed by port and sequence number.
fn theirs(path: &Path, port: u16) -> Option<(Keyed, Keyed, Keyed)> {
    let decode_as = format!("tcp.port=={port},mqtt");
    let rows = |filter: &str, client_port: &str, field: &str| -> Option<Keyed> {
        let args = ["-d", &decode_as, "-Y", filter];
        let mut seen = std::collections::HashSet::new();
        let all = tshark_fields(path, &args, &[client_port, "tcp.seq", field])?;
        Some(
            all.into_iter()
                .filter(|r| seen.insert((r[0].clone(), r[1].clone())))
                .flat_map(|r| {
                    let port: u16 = r[0].parse().unwrap();
                    r[2].split(',')
                        .map(|v| (port, v.to_owned()))
                        .collect::<Vec<_>>()
                })
                .collect(),
        )
    };
    let from_client = format!("tcp.dstport=={port}");
    let ids = rows(
        &format!("mqtt.clientid && {from_client}"),
        "tcp.srcport",
        "mqtt.clientid",
    )?;
    let codes = rows("mqtt.conack.val", "tcp.dstport", "mqtt.conack.val")?;
    let mut topics = rows(
        &format!("mqtt.topic && {from_client}"),
        "tcp.srcport",
        "mqtt.topic",
    )?;
    topics.extend(rows(
        &format!("mqtt.topic && tcp.srcport=={port}"),
        "tcp.dstport",
        "mqtt.topic",
    )?);
    Some((ids, codes, topics))
}

/// (file, port, minimum agreement for client ids, CONNACK codes, topics)
const MQTT_CAPTURES: [(&str, u16, f64); 8] = [
    // One PUBLISH arrives only in a segment tshark flags as a retransmission
    // (the original was not captured) and does not dissect; we log it.
    ("mqttset/benign.pcap", 1883, 0.999),
    ("mqttset/bruteforce.pcapng", 1883, 1.0),
    ("mqttset/flood.pcap", 1883, 1.0),
    ("mqttset/malariados.pcap", 1883, 1.0),
    ("mqttset/malformed.pcap", 1883, 1.0),
    ("mqttset/slowite.pcap", 1883, 1.0),
    ("ndpi/pcap/mqtt.pcap", 1883, 1.0),
    ("ndpi/pcap/coap_mqtt.pcap", 17501, 1.0),
];

#[test]
fn captures_agree_with_tshark() {
    let Some(data) = data_dir() else { return };
    for (file, port, min) in MQTT_CAPTURES {
        let path = data.join(file);
        if !path.exists() {
            eprintln!("skipping {file}: not present");
            continue;
        }
        let (recs, c) = analyze_capture(&path, port);
        let Some((t_ids, t_codes, t_topics)) = theirs(&path, port) else {
            return;
        };
        let (o_ids, o_codes, o_topics) = ours(&recs);
        let mut report = format!("{file}:");
        let mut worst: f64 = 1.0;
        for (what, o, t) in [
            ("client ids", &o_ids, &t_ids),
            ("connack codes", &o_codes, &t_codes),
            ("topics", &o_topics, &t_topics),
        ] {
            let (m, rate) = agreement(o, t);
            worst = worst.min(rate);
            report += &format!(
                " {what} {m}/{} ours vs {} tshark ({:.2}%);",
                o.len(),
                t.len(),
                rate * 100.0
            );
            if rate < 1.0 {
                eprintln!("  {what} only ours / only tshark: {:?}", unmatched(o, t, 3));
            }
        }
        eprintln!(
            "{report} packets {} pings {}/{} refused {} oversize {} malformed {} stopped {} client $-publishes {}",
            c.packets,
            c.pingreq,
            c.pingresp,
            c.connack_refused,
            c.oversize_packets,
            c.malformed_total(),
            c.directions_stopped,
            c.client_publish_dollar_topic
        );
        assert!(worst >= min, "{file}: agreement {worst}");
    }
}

/// MQTTset's `malformed` class next to tshark's `_ws.malformed` count.
#[test]
fn malformed_capture_counters() {
    let Some(data) = data_dir() else { return };
    let path = data.join("mqttset/malformed.pcap");
    let (_, c) = analyze_capture(&path, 1883);
    let Some(flagged) = tshark_fields(&path, &["-Y", "_ws.malformed"], &["frame.number"]) else {
        return;
    };
    let ours: Vec<_> = c
        .to_vec()
        .into_iter()
        .filter(|(n, v)| n.contains(".malformed.") && *v > 0)
        .collect();
    eprintln!(
        "malformed.pcap: tshark _ws.malformed frames {}; ours {:?} (total {}); client publishes to $ topics {}",
        flagged.len(),
        ours,
        c.malformed_total(),
        c.client_publish_dollar_topic
    );
    assert_eq!(c.directions_stopped, 0);
    // The attack fuzzes field values within the grammar: $-topics, path-like
    // topics, empty and oversized client ids. Nothing is unreadable.
    assert!(c.client_publish_dollar_topic > 0);
    assert_eq!(
        c.malformed_remaining_length + c.malformed_truncated + c.malformed_flags,
        flagged.len() as u64
    );
}

/// Rough speed: the MQTTset benign + flood captures' MQTT payload, replayed
/// from memory. `cargo test --release -p gatewatch-engine --test proto_mqtt -- --ignored --nocapture`
#[test]
#[ignore]
fn speed() {
    let Some(data) = data_dir() else { return };
    let streams: Vec<_> = [
        "mqttset/benign.pcap",
        "mqttset/flood.pcap",
        "mqttset/malariados.pcap",
    ]
    .iter()
    .flat_map(|file| proto_support::conversations(&data.join(file), 1883))
    .collect();
    let bytes: usize = streams
        .iter()
        .flat_map(|s| s.1.iter())
        .map(|d| d.1.len())
        .sum();
    let rounds = 20;
    let start = std::time::Instant::now();
    let mut c = MqttCounters::default();
    let mut sink = gatewatch_engine::sink::CountingSink::default();
    for _ in 0..rounds {
        for (id, deliveries) in &streams {
            let mut a = MqttAnalyzer::new(id.clone());
            for (is_orig, d) in deliveries {
                a.on_data(Timestamp::ZERO, *is_orig, d, &mut c, &mut sink);
            }
            a.on_end(Timestamp::ZERO, &mut c, &mut sink);
        }
    }
    let elapsed = start.elapsed();
    let packets = c.packets;
    eprintln!(
        "mqtt: {packets} packets, {} MB in {elapsed:?}: {:.0} ns/packet, {:.0} MB/s, {} records",
        bytes * rounds / 1_000_000,
        elapsed.as_nanos() as f64 / packets as f64,
        (bytes * rounds) as f64 / elapsed.as_secs_f64() / 1e6,
        sink.count
    );
}
