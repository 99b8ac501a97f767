//! Rough speed of the TLS analyzer (ignored; run in release):
//! `cargo test --release -p gatewatch-engine --test proto_tls_speed -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod tls_support;

use std::time::Instant;

use gatewatch_engine::proto::tls::{TlsAnalyzer, TlsCounters};
use gatewatch_engine::sink::CountingSink;
use tls_support::*;

fn measure(label: &str, msgs: &[(bool, Vec<u8>)], rounds: u32) {
    let mut c = TlsCounters::default();
    let mut out = CountingSink::default();
    let start = Instant::now();
    for _ in 0..rounds {
        let mut a = TlsAnalyzer::new(conn());
        for (is_orig, bytes) in msgs {
            a.on_data(ts(0), *is_orig, bytes, &mut c, &mut out);
        }
        a.on_end(ts(1), &mut c, &mut out);
    }
    let ns = start.elapsed().as_nanos() as f64;
    let per_conn = ns / f64::from(rounds);
    let per_msg = ns / c.handshake_messages.max(1) as f64;
    eprintln!(
        "{label}: {per_conn:.0} ns/connection, {per_msg:.0} ns/handshake message ({} records)",
        out.count
    );
}

#[test]
#[ignore = "speed measurement; run in release with --ignored"]
fn handshake_speed() {
    let full = tls12_connection();
    measure("TLS 1.2 with 2 certificates", &full, 20_000);
    let no_certs: Vec<(bool, Vec<u8>)> = vec![
        (true, record(22, &chrome_like_hello())),
        (false, tls12_server_flight(&[])),
        (true, [record(20, &[1]), record(23, &[1; 64])].concat()),
        (false, [record(20, &[1]), record(23, &[1; 64])].concat()),
    ];
    measure("TLS 1.2 without certificates", &no_certs, 50_000);
    // A capture that starts mid-session: 16 KiB application-data records.
    let app: Vec<u8> = (0..64).flat_map(|_| record(23, &[7; 16_000])).collect();
    let mut c = TlsCounters::default();
    let mut out = CountingSink::default();
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..20 {
        let mut a = TlsAnalyzer::new(conn());
        for seg in app.chunks(1448) {
            a.on_data(ts(0), true, seg, &mut c, &mut out);
            bytes += seg.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!("application data: {:.0} MB/s", bytes as f64 / secs / 1e6);
}
