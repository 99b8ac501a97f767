//! MQTT analyzer on real captures (MQTTset classes, nDPI samples) compared
//! with tshark, the malformed class's counters, and an ignored speed run.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_support;

use std::collections::HashMap;
use std::path::Path;

use gatewatch_engine::proto::mqtt::{MqttAnalyzer, MqttCounters, MqttRecord};
use gatewatch_engine::{Counters, Timestamp};
use proto_support::{agreement, data_dir, replay_tcp, tshark_fields, unmatched, Delivery};

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
/// from memory. `cargo test --release -p gatewatch-engine --test proto_mqtt_captures -- --ignored --nocapture`
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
