//! The dispatcher on connections whose start was not seen: a session joined
//! after its SYN with the roles the wrong way round is analysed with the
//! roles swapped, mid-stream MQTT is recognised by its framing on both
//! sides, and one-sided or non-MQTT mid-stream payload stays unidentified.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use etherparse::PacketBuilder;
use gatewatch_engine::flow::ConnRecord;
use gatewatch_engine::log::{LogRecord, Value};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::proto::dispatch::ProtoRecord;
use gatewatch_engine::source::{LinkType, RawPacket};
use gatewatch_engine::Timestamp;

const CLIENT: [u8; 4] = [192, 168, 0, 1];
const BROKER: [u8; 4] = [10, 10, 10, 1];

/// A TCP segment with ACK set (never a SYN): mid-stream.
fn seg(from_client: bool, cport: u16, sport: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let (sip, dip, sp, dp) = if from_client {
        (CLIENT, BROKER, cport, sport)
    } else {
        (BROKER, CLIENT, sport, cport)
    };
    let mut v = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(sip, dip, 64)
        .tcp(sp, dp, seq, 65000)
        .ack(1)
        .psh()
        .write(&mut v, payload)
        .unwrap();
    v
}

/// A SYN-ACK from the server: the capture missed the SYN.
fn syn_ack(cport: u16, sport: u16) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1])
        .ipv4(BROKER, CLIENT, 64)
        .tcp(sport, cport, 999, 65000)
        .syn()
        .ack(1)
        .write(&mut v, b"")
        .unwrap();
    v
}

fn run(frames: &[Vec<u8>]) -> (Vec<ConnRecord>, Vec<ProtoRecord>, Vec<(&'static str, u64)>) {
    let mut p = Pipeline::new(PipelineConfig::default());
    let (mut conns, mut recs) = (Vec::new(), Vec::new());
    for (i, f) in frames.iter().enumerate() {
        let raw = RawPacket {
            ts: Timestamp::from_secs_nanos(1_700_000_000, i as u32 * 1000),
            data: f,
            orig_len: f.len() as u32,
            link: LinkType::ETHERNET,
            interface: 0,
        };
        p.process_all(&raw, &mut conns, &mut recs);
    }
    p.finish_all(&mut conns, &mut recs);
    (conns, recs, p.counters())
}

fn field(r: &dyn LogRecord, name: &str) -> String {
    let idx = r.fields().iter().position(|f| f.name == name).unwrap();
    let mut out = String::new();
    let mut i = 0;
    r.visit_values(&mut |v| {
        if i == idx {
            out = match v {
                Value::Str(s) => s.to_string(),
                Value::Addr(a) => a.to_string(),
                Value::Port(p) => p.to_string(),
                other => format!("{other:?}"),
            };
        }
        i += 1;
    });
    out
}

fn counter(counters: &[(&'static str, u64)], name: &str) -> u64 {
    counters
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, v)| *v)
}

fn connect() -> Vec<u8> {
    let mut body = b"\x00\x04MQTT\x04\x02\x00\x3c".to_vec();
    body.extend_from_slice(b"\x00\x04cam1");
    let mut m = vec![0x10, body.len() as u8];
    m.extend_from_slice(&body);
    m
}

/// The SYN was missed, the SYN-ACK opened the connection: the flow table's
/// originator is the broker, yet the MQTT records name the client as `orig`.
#[test]
fn session_after_a_missed_syn_is_analysed_with_roles_swapped() {
    let frames = vec![
        syn_ack(41892, 1883),
        seg(true, 41892, 1883, 1, &connect()),
        seg(false, 41892, 1883, 1000, &[0x20, 0x02, 0x00, 0x00]),
    ];
    let (conns, recs, counters) = run(&frames);
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].service, vec!["mqtt"]);
    assert_eq!(
        conns[0].orig_h.to_string(),
        "10.10.10.1",
        "conn.log keeps its view"
    );
    let connects: Vec<_> = recs.iter().filter(|r| r.path() == "mqtt_connect").collect();
    assert_eq!(connects.len(), 1, "{recs:?}");
    let c = connects[0];
    assert_eq!(field(c, "id.orig_h"), "192.168.0.1");
    assert_eq!(field(c, "id.resp_p"), "1883");
    assert_eq!(field(c, "client_id"), "cam1");
    assert_eq!(field(c, "connect_status"), "Connection Accepted");
    assert_eq!(field(c, "uid"), conns[0].uid);
    assert_eq!(counter(&counters, "proto.midstream_flipped"), 1);
}

/// A capture that starts with a keep-alive on a non-MQTT port: PINGREQ from
/// one side, PINGRESP from the other, then a publish.
#[test]
fn ping_exchange_mid_stream_is_mqtt_on_any_port() {
    let mut publish = vec![0x30, 0x0b, 0x00, 0x04];
    publish.extend_from_slice(b"temp");
    publish.extend_from_slice(b"21.5C");
    let frames = vec![
        seg(true, 53522, 17501, 1, &[0xc0, 0x00]),
        seg(false, 53522, 17501, 1000, &[0xd0, 0x00]),
        seg(true, 53522, 17501, 3, &publish),
    ];
    let (conns, recs, counters) = run(&frames);
    assert_eq!(conns[0].service, vec!["mqtt"]);
    let pubs: Vec<_> = recs.iter().filter(|r| r.path() == "mqtt_publish").collect();
    assert_eq!(pubs.len(), 1, "{recs:?}");
    assert_eq!(field(pubs[0], "topic"), "temp");
    assert_eq!(field(pubs[0], "id.orig_h"), "192.168.0.1");
    assert_eq!(counter(&counters, "proto.midstream_mqtt"), 1);
    assert_eq!(counter(&counters, "proto.midstream_flipped"), 0);
}

/// One side's MQTT-looking bytes alone, or a non-MQTT answer, prove nothing.
#[test]
fn one_sided_or_contradicted_framing_stays_unidentified() {
    let (conns, recs, _) = run(&[seg(true, 40004, 1883, 10_000, &[0xc0, 0x00])]);
    assert!(conns[0].service.is_empty());
    assert!(recs.is_empty());
    let (conns, _, counters) = run(&[
        seg(true, 40005, 7000, 1, &[0xc0, 0x00]),
        seg(false, 40005, 7000, 1000, b"\x00\x01\x02\x03garbage"),
        seg(true, 40005, 7000, 3, &[0xc0, 0x00]),
        seg(false, 40005, 7000, 1011, &[0xd0, 0x00]),
    ]);
    assert!(conns[0].service.is_empty());
    assert_eq!(counter(&counters, "proto.midstream_mqtt"), 0);
}

/// With the SYN seen, the ordinary probes alone decide: PINGREQ/PINGRESP
/// without a CONNECT is not enough.
#[test]
fn connections_with_a_seen_syn_are_not_guessed() {
    let mut syn = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(CLIENT, BROKER, 64)
        .tcp(40006, 7001, 0, 65000)
        .syn()
        .write(&mut syn, b"")
        .unwrap();
    let (conns, _, _) = run(&[
        syn,
        seg(true, 40006, 7001, 1, &[0xc0, 0x00]),
        seg(false, 40006, 7001, 1000, &[0xd0, 0x00]),
    ]);
    assert!(conns[0].service.is_empty());
}
