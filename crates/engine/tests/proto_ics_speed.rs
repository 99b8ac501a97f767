//! Rough speed of the telnet/ssh/modbus/dnp3 analyzers (ignored by default):
//! `cargo test --release -p gatewatch-engine --test proto_ics_speed -- --ignored --nocapture`.
//! Messages are fed in realistic chunks (one message per call, as TCP
//! segments usually carry them); records go to a counting sink.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod proto_ics_support;

use std::time::Instant;

use gatewatch_engine::proto::dnp3::{parser::crc, Dnp3Analyzer, Dnp3Counters};
use gatewatch_engine::proto::modbus::{ModbusAnalyzer, ModbusCounters};
use gatewatch_engine::proto::ssh::{SshAnalyzer, SshCounters};
use gatewatch_engine::proto::telnet::{TelnetAnalyzer, TelnetCounters};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::Timestamp;
use proto_ics_support::conn;

const ROUNDS: usize = 200_000;

fn report(name: &str, messages: usize, start: Instant, records: u64) {
    let ns = start.elapsed().as_nanos() as f64 / messages as f64;
    eprintln!("{name}: {messages} messages, {ns:.0} ns/message, {records} records");
}

#[test]
#[ignore]
fn speed() {
    // Modbus: read request + response.
    let req = [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10];
    let mut resp = vec![0, 1, 0, 0, 0, 23, 1, 3, 20];
    resp.extend([0u8; 20]);
    let mut a = ModbusAnalyzer::new(conn("S1"));
    let mut c = ModbusCounters::default();
    let mut sink = CountingSink::default();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        a.on_data(Timestamp::ZERO, true, &req, &mut c, &mut sink);
        a.on_data(Timestamp::ZERO, false, &resp, &mut c, &mut sink);
    }
    report("modbus", 2 * ROUNDS, start, sink.count);

    // DNP3: read request + 40-byte response.
    let frame = |ctrl: u8, user: &[u8]| {
        let mut f = vec![0x05, 0x64, (user.len() + 5) as u8, ctrl, 1, 0, 2, 0];
        f.extend_from_slice(&crc(&f).to_le_bytes());
        for b in user.chunks(16) {
            f.extend_from_slice(b);
            f.extend_from_slice(&crc(b).to_le_bytes());
        }
        f
    };
    let dreq = frame(0xc4, &[0xc0, 0xc0, 0x01, 0x3c, 0x01, 0x06]);
    let mut user = vec![0xc0, 0xc0, 0x81, 0, 0];
    user.extend([7u8; 35]);
    let dresp = frame(0x44, &user);
    let mut a = Dnp3Analyzer::new(conn("S2"));
    let mut c = Dnp3Counters::default();
    let mut sink = CountingSink::default();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        a.on_data(Timestamp::ZERO, true, &dreq, &mut c, &mut sink);
        a.on_data(Timestamp::ZERO, false, &dresp, &mut c, &mut sink);
    }
    report("dnp3", 2 * ROUNDS, start, sink.count);

    // Telnet: a character-mode shell session after login (echoed keystrokes
    // and 80-byte output lines).
    let mut a = TelnetAnalyzer::new(conn("S3"));
    let mut c = TelnetCounters::default();
    let mut sink = CountingSink::default();
    a.on_data(Timestamp::ZERO, false, b"login: ", &mut c, &mut sink);
    let line = [b'x'; 78];
    let start = Instant::now();
    for i in 0..ROUNDS {
        a.on_data(
            Timestamp::ZERO,
            true,
            &[b'a' + (i % 26) as u8],
            &mut c,
            &mut sink,
        );
        a.on_data(Timestamp::ZERO, false, &line, &mut c, &mut sink);
    }
    a.on_end(Timestamp::ZERO, &mut c, &mut sink);
    report("telnet", 2 * ROUNDS, start, sink.count);

    // SSH: whole connections (identification, KEXINIT both ways, NEWKEYS,
    // a few encrypted segments).
    let kex = {
        let mut body = vec![0u8; 16];
        for l in [
            "curve25519-sha256,ecdh-sha2-nistp256",
            "ssh-ed25519",
            "aes128-ctr",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ] {
            body.extend((l.len() as u32).to_be_bytes());
            body.extend(l.as_bytes());
        }
        body.extend([0, 0, 0, 0, 0]);
        let padding = 8 - (6 + body.len()) % 8 + 8;
        let mut p = ((2 + body.len() + padding) as u32).to_be_bytes().to_vec();
        p.push(padding as u8);
        p.push(20);
        p.extend(body);
        p.extend(vec![0; padding]);
        p
    };
    let newkeys = [0, 0, 0, 12, 10, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let connections = ROUNDS / 20;
    let mut c = SshCounters::default();
    let mut sink = CountingSink::default();
    let start = Instant::now();
    for _ in 0..connections {
        let mut a = SshAnalyzer::new(conn("S4"));
        a.on_data(
            Timestamp::ZERO,
            false,
            b"SSH-2.0-OpenSSH_9.6\r\n",
            &mut c,
            &mut sink,
        );
        a.on_data(Timestamp::ZERO, true, b"SSH-2.0-Go\r\n", &mut c, &mut sink);
        a.on_data(Timestamp::ZERO, true, &kex, &mut c, &mut sink);
        a.on_data(Timestamp::ZERO, false, &kex, &mut c, &mut sink);
        a.on_data(Timestamp::ZERO, false, &newkeys, &mut c, &mut sink);
        a.on_data(Timestamp::ZERO, true, &newkeys, &mut c, &mut sink);
        for len in [52, 52, 100, 68, 100, 68] {
            a.on_data(
                Timestamp::ZERO,
                len == 52,
                &[0u8; 100][..len],
                &mut c,
                &mut sink,
            );
        }
        a.on_end(Timestamp::ZERO, &mut c, &mut sink);
    }
    report("ssh (per connection)", connections, start, sink.count);
}
