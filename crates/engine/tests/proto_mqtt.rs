//! MQTT analyzer on hand-built packets: every logged field, MQTT 5
//! properties, QoS exchanges, byte-by-byte and packed delivery, oversize
//! packets, gaps, malformed packets per reason, bounds, probes.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_support;

use gatewatch_engine::log::LogRecord;
use gatewatch_engine::proto::mqtt::{self, MqttAnalyzer, MqttCounters, SubscribeAction};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::{Counters, Timestamp};
use proto_support::mqtt::*;

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
