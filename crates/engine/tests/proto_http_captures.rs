//! HTTP/RTSP analyzer on real captures (nDPI attack samples, IoT Sentinel
//! device setups, an RTSP camera stream) compared with tshark's
//! `http.request.method`, `http.host`, `http.user_agent`,
//! `http.response.code` (and `rtsp.method` / `rtsp.status`), plus an ignored
//! speed run.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_support;

use std::collections::HashMap;
use std::path::Path;

use gatewatch_engine::log::{ConnId, LogRecord};
use gatewatch_engine::proto::http::{self, HttpAnalyzer, HttpCounters, HttpRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::Timestamp;
use proto_support::{agreement, data_dir, replay_tcp, tshark_fields, unmatched, Delivery};

enum Slot {
    /// First bytes of the originator while the probe says Maybe.
    Probing(Vec<u8>),
    Http(Box<HttpAnalyzer>),
    Other,
}

/// Runs the analyzer over the capture's TCP connections whose first payload
/// probes as HTTP/RTSP (as the pipeline's content dispatch would; bytes are
/// held while the probe says Maybe).
fn analyze_capture(path: &Path) -> (Vec<HttpRecord>, HttpCounters) {
    let mut ids: HashMap<usize, ConnId> = HashMap::new();
    let mut slots: HashMap<usize, Slot> = HashMap::new();
    let mut c = HttpCounters::default();
    let mut out = Vec::new();
    replay_tcp(
        path,
        |_, _| true,
        |ev| match ev {
            Delivery::Open(i, id) => {
                ids.insert(i, id.clone());
            }
            Delivery::Data {
                conn,
                ts,
                is_orig,
                data,
            } => {
                let slot = slots.entry(conn).or_insert(Slot::Probing(Vec::new()));
                if let Slot::Probing(held) = slot {
                    held.extend_from_slice(data);
                    match http::probe(held, is_orig) {
                        Probe::Maybe if held.len() < 4096 => {}
                        Probe::Yes => {
                            let mut a = HttpAnalyzer::new(ids[&conn].clone());
                            a.on_data(ts, is_orig, held, &mut c, &mut out);
                            *slot = Slot::Http(Box::new(a));
                        }
                        _ => *slot = Slot::Other,
                    }
                } else if let Slot::Http(a) = slot {
                    a.on_data(ts, is_orig, data, &mut c, &mut out);
                }
            }
            Delivery::Gap { conn, is_orig, len } => {
                if let Some(Slot::Http(a)) = slots.get_mut(&conn) {
                    a.on_gap(is_orig, len, &mut c);
                }
            }
            Delivery::End { conn, ts } => {
                if let Some(Slot::Http(mut a)) = slots.remove(&conn) {
                    a.on_end(ts, &mut c, &mut out);
                }
            }
        },
    );
    (out, c)
}

type Row = (u16, String, String, String);
/// Requests and responses as compared with tshark.
type Rows = (Vec<Row>, Vec<(u16, String)>);

/// Requests as (client port, method, host, user agent), responses as (client port, code).
fn ours(recs: &[HttpRecord]) -> Rows {
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    for r in recs {
        if let Some(m) = &r.method {
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            reqs.push((r.conn.orig_p, m.clone(), s(&r.host), s(&r.user_agent)));
        }
        if let Some(code) = r.info_code.filter(|&i| Some(i) != r.status_code) {
            resps.push((r.conn.orig_p, code.to_string()));
        }
        if let Some(code) = r.status_code {
            resps.push((r.conn.orig_p, code.to_string()));
        }
    }
    (reqs, resps)
}

/// tshark's requests and responses; a segment seen twice (retransmission,
/// duplicated capture) counts once: rows are keyed by port and sequence number.
fn theirs(
    path: &Path,
    decode_as: &[&str],
    req: &str,
    resp: &str,
    fields: [&str; 4],
) -> Option<Rows> {
    let [method, host, ua, code] = fields;
    let rows = |filter: &str, port: &str, wanted: &[&str]| -> Option<Vec<Vec<String>>> {
        let mut args: Vec<&str> = decode_as.to_vec();
        args.extend(["-Y", filter]);
        let mut fields = vec![port, "tcp.seq"];
        fields.extend(wanted);
        let mut seen = std::collections::HashSet::new();
        let all = tshark_fields(path, &args, &fields)?;
        Some(
            all.into_iter()
                .filter(|r| seen.insert((r[0].clone(), r[1].clone())))
                .collect(),
        )
    };
    let reqs = rows(req, "tcp.srcport", &[method, host, ua])?
        .into_iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
            )
        })
        .collect();
    let resps = rows(resp, "tcp.dstport", &[code])?
        .into_iter()
        .flat_map(|r| {
            let port: u16 = r[0].parse().unwrap();
            r[2].split(',')
                .map(|c| (port, c.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    Some((reqs, resps))
}

/// (file, minimum request agreement, minimum response agreement)
const HTTP_CAPTURES: [(&str, f64, f64); 15] = [
    ("ndpi/pcap/http.pcapng", 1.0, 1.0),
    ("ndpi/pcap/http_auth.pcap", 1.0, 1.0),
    ("ndpi/pcap/WebattackRCE.pcap", 1.0, 1.0),
    ("ndpi/pcap/sql_injection.pcap", 1.0, 1.0),
    ("ndpi/pcap/log4j-webapp-exploit.pcap", 1.0, 1.0),
    // The download is cut short: tshark reports no response, we log the 200.
    ("ndpi/pcap/exe_download.pcap", 1.0, 0.0),
    ("iot-sentinel/Aria/Setup-A-1-STA.pcap", 1.0, 1.0),
    ("iot-sentinel/D-LinkCam/Setup-A-1-STA.pcap", 1.0, 1.0),
    ("iot-sentinel/D-LinkHomeHub/Setup-A-1-STA.pcap", 1.0, 1.0),
    ("iot-sentinel/D-LinkSensor/Setup-A-1-STA.pcap", 1.0, 1.0),
    ("iot-sentinel/D-LinkSwitch/Setup-A-1-STA.pcap", 1.0, 1.0),
    // HueBridge / HueSwitch: a response (or its last byte) arrives only as a
    // segment tshark flags as a retransmission (the original was not captured),
    // so tshark never completes it; we log the 200.
    ("iot-sentinel/HueBridge/Setup-A-1-STA.pcap", 1.0, 0.99),
    ("iot-sentinel/HueSwitch/Setup-A-1-STA.pcap", 1.0, 0.99),
    ("iot-sentinel/Withings/Setup-A-1-STA.pcap", 1.0, 1.0),
    ("iot-sentinel/WeMoSwitch2/Setup-C-1-STA.pcap", 1.0, 1.0),
];

#[test]
fn captures_agree_with_tshark() {
    let Some(data) = data_dir() else { return };
    for (file, min_req, min_resp) in HTTP_CAPTURES {
        let path = data.join(file);
        if !path.exists() {
            eprintln!("skipping {file}: not present");
            continue;
        }
        let (recs, c) = analyze_capture(&path);
        let Some((t_req, t_resp)) = theirs(
            &path,
            &[],
            "http.request && tcp",
            "http.response && tcp",
            [
                "http.request.method",
                "http.host",
                "http.user_agent",
                "http.response.code",
            ],
        ) else {
            return;
        };
        let (o_req, o_resp) = ours(&recs);
        let (m_req, r_req) = agreement(&o_req, &t_req);
        let (m_resp, r_resp) = agreement(&o_resp, &t_resp);
        eprintln!(
            "{file}: requests {m_req}/{} ours vs {} tshark ({:.1}%), responses {m_resp}/{} vs {} ({:.1}%); stopped {} malformed req {} status {}",
            o_req.len(), t_req.len(), r_req * 100.0, o_resp.len(), t_resp.len(), r_resp * 100.0,
            c.directions_stopped, c.malformed_request_line, c.malformed_status_line
        );
        if r_req < 1.0 || r_resp < 1.0 {
            eprintln!(
                "  requests only ours / only tshark: {:?}",
                unmatched(&o_req, &t_req, 3)
            );
            eprintln!(
                "  responses only ours / only tshark: {:?}",
                unmatched(&o_resp, &t_resp, 3)
            );
        }
        assert!(r_req >= min_req, "{file}: request agreement {r_req}");
        assert!(r_resp >= min_resp, "{file}: response agreement {r_resp}");
    }
}

#[test]
fn rtsp_capture_agrees_with_tshark() {
    let Some(data) = data_dir() else { return };
    let path = data.join("ndpi/pcap/rtsp.pcap");
    let (recs, c) = analyze_capture(&path);
    let Some((t_req, t_resp)) = theirs(
        &path,
        &["-d", "tcp.port==8554,rtsp"],
        "rtsp.request",
        "rtsp.response",
        ["rtsp.method", "frame.number", "frame.number", "rtsp.status"],
    ) else {
        return;
    };
    let o_req: Vec<_> = ours(&recs).0.into_iter().map(|r| (r.0, r.1)).collect();
    let t_req: Vec<_> = t_req.into_iter().map(|r| (r.0, r.1)).collect();
    let (m_req, r_req) = agreement(&o_req, &t_req);
    let (m_resp, r_resp) = agreement(&ours(&recs).1, &t_resp);
    eprintln!(
        "rtsp.pcap: requests {m_req}/{} vs {} ({:.1}%), responses {m_resp} vs {} ({:.1}%), interleaved frames {}",
        o_req.len(), t_req.len(), r_req * 100.0, t_resp.len(), r_resp * 100.0, c.rtsp_interleaved_frames
    );
    assert!(recs.iter().all(|r| r.path() == "rtsp"));
    assert!(r_req >= 0.95 && r_resp >= 0.95);
}

/// Rough speed: the HTTP conversations of a few captures replayed from
/// memory. `cargo test --release -p gatewatch-engine --test proto_http_captures -- --ignored --nocapture`
#[test]
#[ignore]
fn speed() {
    let Some(data) = data_dir() else { return };
    let streams: Vec<_> = [
        "ndpi/pcap/WebattackRCE.pcap",
        "iot-sentinel/HueSwitch/Setup-A-1-STA.pcap",
        "iot-sentinel/HueBridge/Setup-A-1-STA.pcap",
    ]
    .iter()
    .flat_map(|file| proto_support::conversations(&data.join(file), 80))
    .collect();
    let bytes: usize = streams
        .iter()
        .flat_map(|s| s.1.iter())
        .map(|d| d.1.len())
        .sum();
    let rounds = 50;
    let start = std::time::Instant::now();
    let mut c = HttpCounters::default();
    let mut sink = gatewatch_engine::sink::CountingSink::default();
    for _ in 0..rounds {
        for (id, deliveries) in &streams {
            let mut a = HttpAnalyzer::new(id.clone());
            for (is_orig, d) in deliveries {
                a.on_data(Timestamp::ZERO, *is_orig, d, &mut c, &mut sink);
            }
            a.on_end(Timestamp::ZERO, &mut c, &mut sink);
        }
    }
    let elapsed = start.elapsed();
    let messages = c.requests + c.responses;
    eprintln!(
        "http: {messages} messages, {} MB in {elapsed:?}: {:.0} ns/message, {:.0} MB/s, {} records",
        bytes * rounds / 1_000_000,
        elapsed.as_nanos() as f64 / messages as f64,
        (bytes * rounds) as f64 / elapsed.as_secs_f64() / 1e6,
        sink.count
    );
}
