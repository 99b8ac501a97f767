//! MQTT test helpers: hand-built packets (fixed header, strings, CONNECT
//! with every option, PUBLISH, acks, SUBSCRIBE), a sample conversation and a
//! runner that feeds deliveries to one analyzer and sorts its records.
#![allow(clippy::expect_used, clippy::unwrap_used)]
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};

use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::mqtt::{
    MqttAnalyzer, MqttConnectRecord, MqttCounters, MqttPublishRecord, MqttRecord,
    MqttSubscribeRecord,
};
use gatewatch_engine::Timestamp;

pub fn conn() -> ConnId {
    ConnId {
        uid: "CMqttTest".into(),
        orig_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 90)),
        orig_p: 50000,
        resp_h: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 91)),
        resp_p: 1883,
    }
}

// ---- packet builders -------------------------------------------------------

pub fn varint(mut n: usize) -> Vec<u8> {
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

pub fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    out.extend(varint(body.len()));
    out.extend_from_slice(body);
    out
}

pub fn s(text: &[u8]) -> Vec<u8> {
    let mut out = (text.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(text);
    out
}

pub struct ConnectSpec<'a> {
    pub name: &'a [u8],
    pub level: u8,
    pub flags: u8,
    pub keep_alive: u16,
    pub client_id: &'a [u8],
    pub will: Option<(&'a [u8], &'a [u8])>,
    pub user: Option<&'a [u8]>,
    pub pass: Option<&'a [u8]>,
}

pub fn connect(spec: &ConnectSpec<'_>) -> Vec<u8> {
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

pub fn connect_v311(client: &[u8]) -> Vec<u8> {
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

pub fn connack(code: u8) -> Vec<u8> {
    packet(0x20, &[0, code])
}

pub fn publish(qos: u8, retain: bool, topic: &[u8], id: u16, payload: &[u8]) -> Vec<u8> {
    let mut body = s(topic);
    if qos > 0 {
        body.extend(id.to_be_bytes());
    }
    body.extend_from_slice(payload);
    packet(0x30 | (qos << 1) | u8::from(retain), &body)
}

pub fn ack(first: u8, id: u16) -> Vec<u8> {
    packet(first, &id.to_be_bytes())
}

pub fn subscribe(id: u16, topics: &[(&[u8], u8)]) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    for (t, q) in topics {
        body.extend(s(t));
        body.push(*q);
    }
    packet(0x82, &body)
}

// ---- running the analyzer ------------------------------------------------

pub struct Run {
    pub records: Vec<MqttRecord>,
    pub c: MqttCounters,
}

impl Run {
    pub fn connects(&self) -> Vec<&MqttConnectRecord> {
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
    pub fn publishes(&self) -> Vec<&MqttPublishRecord> {
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
    pub fn subscribes(&self) -> Vec<&MqttSubscribeRecord> {
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
pub fn run_split(deliveries: &[(bool, Vec<u8>)], split: usize) -> Run {
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

pub fn run(deliveries: &[(bool, Vec<u8>)]) -> Run {
    run_split(deliveries, 0)
}

pub fn conversation() -> Vec<(bool, Vec<u8>)> {
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
