//! Read throughput of the capture reader (ignored: run in release mode).
//!
//! `cargo test --release -p gatewatch-engine --test source_throughput -- --ignored --nocapture`
//!
//! Reads mqttset/benign.pcap (10,896 packets, 1 MB, page-cached) many times
//! from the file, from memory, and with pcap-parser's own streaming reader
//! for comparison; prints packets/s. The pcapng path is timed on
//! mqttset/bruteforce.pcapng.
//!
//! Measured on the 2-core build machine (shared, so ±20 %): pcap from page
//! cache 52 M packets/s (4.8 GB/s), from memory 66 M, pcap-parser's
//! `LegacyPcapReader` 48 M, pcapng 19–25 M packets/s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod source_support;

use std::fs::File;
use std::time::Instant;

use gatewatch_engine::source::CaptureReader;

const ROUNDS: usize = 1000;

fn report(what: &str, packets: u64, bytes: u64, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what:<40} {:>7.2} Mpackets/s {:>8.0} MB/s ({packets} packets in {secs:.3} s)",
        packets as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6,
    );
}

fn read_count<R: std::io::Read>(input: R) -> (u64, u64) {
    let mut reader = CaptureReader::new(input).expect("capture opens");
    let mut checksum = 0u64;
    while let Some(p) = reader.next_packet().expect("clean capture") {
        checksum = checksum.wrapping_add(p.data.len() as u64 ^ p.ts.as_nanos() as u64);
    }
    std::hint::black_box(checksum);
    (reader.counters().packets, reader.offset())
}

#[test]
#[ignore]
fn capture_reader_throughput() {
    let Some(data) = source_support::shared_data() else {
        return;
    };
    let pcap = data.join("mqttset/benign.pcap");
    let in_memory = std::fs::read(&pcap).expect("read benign.pcap");

    let start = Instant::now();
    let (mut packets, mut bytes) = (0, 0);
    for _ in 0..ROUNDS {
        let (p, b) = read_count(File::open(&pcap).expect("open"));
        packets += p;
        bytes += b;
    }
    report("CaptureReader, pcap from page cache", packets, bytes, start);

    let start = Instant::now();
    let (mut packets, mut bytes) = (0, 0);
    for _ in 0..ROUNDS {
        let (p, b) = read_count(&in_memory[..]);
        packets += p;
        bytes += b;
    }
    report("CaptureReader, pcap from memory", packets, bytes, start);

    let start = Instant::now();
    let mut packets = 0u64;
    for _ in 0..ROUNDS {
        packets += pcap_parser_count(File::open(&pcap).expect("open"));
    }
    report(
        "pcap-parser LegacyPcapReader, page cache",
        packets,
        bytes,
        start,
    );

    let ng = data.join("mqttset/bruteforce.pcapng");
    let start = Instant::now();
    let (mut packets, mut bytes) = (0, 0);
    for _ in 0..ROUNDS {
        let (p, b) = read_count(File::open(&ng).expect("open"));
        packets += p;
        bytes += b;
    }
    report(
        "CaptureReader, pcapng from page cache",
        packets,
        bytes,
        start,
    );
}

/// The documented pcap-parser streaming loop, for comparison.
fn pcap_parser_count(file: File) -> u64 {
    use pcap_parser::traits::PcapReaderIterator;
    use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError};
    let mut reader = LegacyPcapReader::new(128 * 1024, file).expect("pcap-parser opens");
    let mut packets = 0u64;
    let mut checksum = 0u64;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                if let PcapBlockOwned::Legacy(b) = block {
                    packets += 1;
                    checksum = checksum.wrapping_add(b.data.len() as u64 ^ u64::from(b.ts_usec));
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("pcap-parser: {e:?}"),
        }
    }
    std::hint::black_box(checksum);
    packets
}
