//! Fuzz the MQTT analyzer: a big-endian u16 gives the length of the
//! client's bytes, then come those and the server's — the layout of the seed
//! corpus in crates/engine/tests/corpus/mqtt (replayed by `cargo test`).
//! Each side is delivered in two pieces so split packets are exercised.
#![no_main]
use gatewatch_engine::log::ConnId;
use gatewatch_engine::proto::mqtt::{MqttAnalyzer, MqttCounters};
use gatewatch_engine::Timestamp;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let n = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (orig, resp) = rest.split_at(n);
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut a = MqttAnalyzer::new(ConnId { uid: "F".into(), orig_h: ip, orig_p: 1, resp_h: ip, resp_p: 1883 });
    let mut c = MqttCounters::default();
    let mut out = Vec::new();
    for (is_orig, bytes) in [(true, orig), (false, resp)] {
        let (a1, a2) = bytes.split_at(bytes.len() / 3);
        a.on_data(Timestamp::ZERO, is_orig, a1, &mut c, &mut out);
        a.on_data(Timestamp::ZERO, is_orig, a2, &mut c, &mut out);
    }
    a.on_end(Timestamp::ZERO, &mut c, &mut out);
});
