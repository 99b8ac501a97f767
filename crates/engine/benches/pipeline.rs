//! Criterion benchmarks of the pipeline stages on a simulated fleet capture
//! held in memory: read, read+decode, read+decode+flows (one thread).
//! Throughput is reported in packets (elements) per second.
//!
//! `GATEWATCH_BENCH_PCAP=path` measures a capture of your choice instead.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gatewatch_engine::decode::Decoder;
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::simulate::{self, pcap_out, AttackKind, SimConfig, SimPacket};
use gatewatch_engine::sink::{CountingSink, FnSink};
use gatewatch_engine::source::CaptureReader;

fn capture() -> Vec<u8> {
    if let Some(p) = std::env::var_os("GATEWATCH_BENCH_PCAP") {
        if let Ok(bytes) = std::fs::read(&p) {
            return bytes;
        }
    }
    let mut bytes = pcap_out::file_header(65_535).to_vec();
    let cfg = SimConfig {
        devices: 30,
        hours: 0.5,
        seed: 3,
        attacks: vec![AttackKind::All],
        ..SimConfig::default()
    };
    let mut sink = FnSink(|p: SimPacket| pcap_out::append_record(p.ts, &p.frame, &mut bytes));
    let _ = simulate::simulate(&cfg, &mut sink);
    bytes
}

fn count(data: &[u8]) -> u64 {
    let mut n = 0;
    if let Ok(mut r) = CaptureReader::new(data) {
        while let Ok(Some(_)) = r.next_packet() {
            n += 1;
        }
    }
    n
}

fn stages(c: &mut Criterion) {
    let data = capture();
    let packets = count(&data);
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(packets));
    g.sample_size(10);
    g.bench_function("read", |b| b.iter(|| count(&data)));
    g.bench_function("read+decode", |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let mut n = 0u64;
            if let Ok(mut r) = CaptureReader::new(data.as_slice()) {
                while let Ok(Some(p)) = r.next_packet() {
                    n += u64::from(d.decode(&p).wire_len);
                }
            }
            n
        })
    });
    g.bench_function("read+decode+flows", |b| {
        b.iter(|| {
            let mut pipe = Pipeline::new(PipelineConfig::default());
            let mut sink = CountingSink::default();
            if let Ok(mut r) = CaptureReader::new(data.as_slice()) {
                while let Ok(Some(p)) = r.next_packet() {
                    pipe.process(&p, &mut sink);
                }
            }
            pipe.finish(&mut sink);
            sink.count
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
