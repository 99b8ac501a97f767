//! Rough cost per datagram of the DHCP, SSDP, NTP and CoAP analyzers on
//! typical messages (records built and dropped). Ignored by default; run with
//! `cargo test --release -p gatewatch-engine --test proto_udp_speed -- --ignored --nocapture`.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on broken fixtures

mod proto_udp_support;

use std::time::Instant;

use gatewatch_engine::proto::{coap, dhcp, ntp, ssdp};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::Timestamp;
use proto_udp_support::{conn, corpus};

const ROUNDS: usize = 50_000;

fn report(name: &str, messages: usize, start: Instant, logged: u64) {
    let ns = start.elapsed().as_nanos() as f64 / messages as f64;
    eprintln!("{name}: {ns:.0} ns/datagram ({messages} datagrams, {logged} records)");
    assert!(logged > 0);
}

#[test]
#[ignore = "speed measurement; run in release"]
fn ns_per_datagram() {
    let v4 = conn("0.0.0.0", 68, "255.255.255.255", 67);
    let msgs: Vec<Vec<u8>> = corpus("dhcp")
        .into_iter()
        .filter(|(n, _)| !n.contains("v6"))
        .map(|(_, b)| b)
        .collect();
    let mut c = dhcp::DhcpCounters::default();
    let mut sink = CountingSink::default();
    let start = Instant::now();
    for i in 0..ROUNDS {
        // A DHCP flow is a handful of messages: a fresh analyzer per round
        // keeps the transactions as short as on a real network.
        let mut a = dhcp::DhcpAnalyzer::new(v4.clone());
        for m in &msgs {
            a.on_data(Timestamp(i as i64), true, m, &mut c, &mut sink);
        }
    }
    report("dhcp", ROUNDS * msgs.len(), start, sink.count);

    macro_rules! measure {
        ($name:literal, $module:ident, $analyzer:ident, $counters:ident) => {{
            let msgs: Vec<Vec<u8>> = corpus($name).into_iter().map(|(_, b)| b).collect();
            let mut a = $module::$analyzer::new(conn("192.0.2.1", 5000, "192.0.2.2", 6000));
            let mut c = $module::$counters::default();
            let mut sink = CountingSink::default();
            let start = Instant::now();
            for i in 0..ROUNDS {
                for m in &msgs {
                    a.on_data(Timestamp(i as i64), true, m, &mut c, &mut sink);
                }
            }
            report($name, ROUNDS * msgs.len(), start, sink.count);
        }};
    }
    measure!("ssdp", ssdp, SsdpAnalyzer, SsdpCounters);
    measure!("ntp", ntp, NtpAnalyzer, NtpCounters);
    measure!("coap", coap, CoapAnalyzer, CoapCounters);

    // Probes run on datagrams of unknown flows: parse only, no record.
    let all: Vec<Vec<u8>> = ["dhcp", "ssdp", "ntp", "coap"]
        .iter()
        .flat_map(|n| corpus(n))
        .map(|(_, b)| b)
        .collect();
    let start = Instant::now();
    let mut yes = 0u64;
    for _ in 0..ROUNDS {
        for m in &all {
            yes += u64::from(dhcp::probe(m, true) == gatewatch_engine::proto::Probe::Yes);
            yes += u64::from(ssdp::probe(m, true) == gatewatch_engine::proto::Probe::Yes);
            yes += u64::from(ntp::probe(m, true) == gatewatch_engine::proto::Probe::Yes);
            yes += u64::from(coap::probe(m, true) == gatewatch_engine::proto::Probe::Yes);
        }
    }
    report("all four probes", ROUNDS * all.len(), start, yes);
}
