//! The dispatcher through the whole pipeline: analyzers chosen by content and
//! port, conn.log's `service` filled, a request split before the probe can
//! decide still logged whole.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use etherparse::PacketBuilder;
use gatewatch_engine::flow::ConnRecord;
use gatewatch_engine::log::{LogRecord, Value};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::proto::dispatch::ProtoRecord;
use gatewatch_engine::source::{LinkType, RawPacket};
use gatewatch_engine::Timestamp;

const C: [u8; 4] = [10, 0, 0, 5];
const S: [u8; 4] = [10, 0, 0, 9];

fn tcp(
    from_client: bool,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    syn: bool,
    payload: &[u8],
) -> Vec<u8> {
    let (sip, dip, sp, dp) = if from_client {
        (C, S, sport, dport)
    } else {
        (S, C, dport, sport)
    };
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 5], [2, 0, 0, 0, 0, 9])
        .ipv4(sip, dip, 64)
        .tcp(sp, dp, seq, 65000);
    if syn {
        b = b.syn();
    }
    if ack != 0 {
        b = b.ack(ack);
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn run(frames: &[Vec<u8>]) -> (Vec<ConnRecord>, Vec<ProtoRecord>) {
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
    (conns, recs)
}

fn field(r: &dyn LogRecord, name: &str) -> String {
    let idx = r.fields().iter().position(|f| f.name == name).unwrap();
    let mut out = String::new();
    let mut i = 0;
    r.visit_values(&mut |v| {
        if i == idx {
            out = match v {
                Value::Str(s) => s.to_string(),
                Value::Count(c) => c.to_string(),
                other => format!("{other:?}"),
            };
        }
        i += 1;
    });
    out
}

/// A request whose first segment is only "POST " on a non-HTTP port.
#[test]
fn split_http_request_on_unusual_port_is_logged_whole() {
    let req = b"POST /api HTTP/1.1\r\nHost: cam.local\r\nContent-Length: 0\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let frames = vec![
        tcp(true, 40000, 9999, 1, 0, true, b""),
        tcp(false, 40000, 9999, 100, 2, true, b""),
        tcp(true, 40000, 9999, 2, 101, false, &req[..5]),
        tcp(true, 40000, 9999, 7, 101, false, &req[5..]),
        tcp(false, 40000, 9999, 101, 2 + req.len() as u32, false, resp),
    ];
    let (conns, recs) = run(&frames);
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].service, vec!["http"]);
    let http: Vec<&ProtoRecord> = recs.iter().filter(|r| r.path() == "http").collect();
    assert_eq!(http.len(), 1, "{recs:?}");
    assert_eq!(field(http[0], "method"), "POST");
    assert_eq!(field(http[0], "host"), "cam.local");
    assert_eq!(field(http[0], "status_code"), "200");
    assert_eq!(field(http[0], "uid"), conns[0].uid);
}

/// Random bytes on port 80 are not HTTP: no analyzer, no service.
#[test]
fn garbage_on_a_known_port_is_left_unidentified() {
    let frames = vec![
        tcp(true, 40001, 80, 1, 0, true, b""),
        tcp(false, 40001, 80, 100, 2, true, b""),
        tcp(
            true,
            40001,
            80,
            2,
            101,
            false,
            &[0u8, 1, 2, 3, 0xff, 0xfe, 7, 9],
        ),
    ];
    let (conns, recs) = run(&frames);
    assert!(conns[0].service.is_empty());
    assert!(recs.is_empty());
}
