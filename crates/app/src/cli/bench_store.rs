//! `gatewatch bench --store-devices N`: the store with N synthetic devices
//! (two IPs, a hostname, a DHCP fingerprint, three classification
//! observations and two pieces of evidence each, one in ten declared): time
//! to write them (one transaction), to merge them again, to list all of them
//! (query, and query plus table), the first page of 100, and to show one
//! device; database size per device.
//!
//! The database is a fresh file (`--store-db PATH`, which must not exist, or
//! a temporary file removed afterwards): the benchmark never writes
//! synthetic devices into a real inventory.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use gatewatch_engine::decode::MacAddr;
use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{
    ClassEvidence, DeclaredDevice, DeviceClass, DeviceKey, DeviceRecord, DhcpFingerprint,
    EvidenceSource, Seen,
};
use gatewatch_engine::Timestamp;
use serde_json::json;

use crate::cli::devices_view;
use crate::store::{DeviceFilter, OpenMode, RunInfo, SqliteStore, Store};

/// Timed repetitions of each read.
const READ_REPEATS: usize = 7;
/// Devices looked up one by one for `show`.
const SHOW_LOOKUPS: usize = 200;

const VENDORS: [&str; 6] = [
    "Hangzhou Hikvision Digital Technology",
    "TP-Link Technologies",
    "Espressif Inc.",
    "Amazon Technologies Inc.",
    "Siemens AG",
    "Raspberry Pi Trading Ltd",
];

/// The synthetic device number `i`.
pub fn synthetic_device(i: usize) -> DeviceRecord {
    let b = (i as u32).to_be_bytes();
    let mac = MacAddr([0x20, 0xf8, 0x5e, b[1], b[2], b[3]]);
    let t0 = Timestamp::from_secs_nanos(1_700_000_000 + (i % 86_400) as i64, 0);
    let t1 = Timestamp::from_secs_nanos(1_700_100_000 + (i % 3_600) as i64, 0);
    let mut d = DeviceRecord::new(DeviceKey::Mac(mac), t0);
    d.last_seen = t1;
    let ip = |k: u8| IpAddr::from([10, b[2], b[3], k]);
    d.ips = vec![
        Seen {
            value: ip(1),
            first: t0,
            last: t0,
        },
        Seen {
            value: ip(2),
            first: t0,
            last: t1,
        },
    ];
    d.hostnames = vec![Seen {
        value: format!("device-{i:06}"),
        first: t0,
        last: t1,
    }];
    d.vlans = vec![10 + (i % 4) as u16];
    d.sites = vec!["hq".to_string()];
    d.dhcp = Some(DhcpFingerprint {
        params: vec![1, 3, 6, 15, 28, 42, 119],
        vendor_class: Some("udhcp 1.31.1".to_string()),
        client_id: Some(format!("01{:012x}", i)),
        hostname: Some(format!("device-{i:06}")),
    });
    let classes = DeviceClass::ALL;
    d.class = classes.get(i % classes.len()).copied().unwrap_or_default();
    d.vendor = VENDORS.get(i % VENDORS.len()).map(|v| v.to_string());
    d.model = Some(format!("M-{}", i % 97));
    d.firmware = Some(format!("5.{}.{}", i % 7, i % 13));
    d.confidence = 0.5 + (i % 50) as f64 / 100.0;
    let obs = |source, observed: String, weight| ClassEvidence {
        source,
        observed,
        class: Some(d.class),
        vendor: d.vendor.clone(),
        model: None,
        firmware: None,
        weight,
    };
    d.evidence = vec![
        obs(
            EvidenceSource::Dhcp,
            "options=1,3,6,15,28,42,119 vendor_class=udhcp".into(),
            0.6,
        ),
        obs(EvidenceSource::Oui, "oui=20:f8:5e".into(), 0.4),
        obs(
            EvidenceSource::Domain,
            format!("sni=c{}.vendor-cloud.example", i % 10),
            0.3,
        ),
    ];
    d.traffic.packets_out = 1000 + i as u64;
    d.traffic.bytes_out = 100_000 + i as u64;
    d
}

fn synthetic_evidence(d: &DeviceRecord) -> Vec<Evidence> {
    let e = |kind: &str, sev, summary: &str| {
        let mut e = Evidence::new(d.last_seen, d.key, kind, "bench", sev, 0.7, summary);
        if let Some(ip) = d.current_ip() {
            e = e.with_ip(ip).with_attr("port", 23u16);
        }
        e.add_uid("CbenchUid0001");
        e
    };
    vec![
        e("identity.new_device", 2, "first seen on vlan 10"),
        e(
            "outbound.new_destination",
            4,
            "new destination 203.0.113.7:443",
        ),
    ]
}

/// Runs the benchmark and prints the figures.
pub fn run(devices: usize, db: Option<&Path>, as_json: bool) -> Result<ExitCode> {
    let path: PathBuf = match db {
        Some(p) if p.exists() => anyhow::bail!(
            "{}: already exists; the benchmark writes synthetic devices, give a new file",
            p.display()
        ),
        Some(p) => p.to_path_buf(),
        None => {
            std::env::temp_dir().join(format!("gatewatch-bench-store-{}.db", std::process::id()))
        }
    };
    let result = measure(devices, &path, as_json);
    if db.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    result
}

fn measure(n: usize, path: &Path, as_json: bool) -> Result<ExitCode> {
    let mut store = SqliteStore::open(path, OpenMode::Create)?;
    let records: Vec<DeviceRecord> = (0..n).map(synthetic_device).collect();
    let evidence: Vec<Evidence> = records.iter().flat_map(synthetic_evidence).collect();
    let declared: Vec<DeclaredDevice> = records
        .iter()
        .step_by(10)
        .map(|d| DeclaredDevice {
            key: Some(d.key),
            name: Some(format!("asset {}", d.key)),
            class: Some(d.class),
            ..DeclaredDevice::default()
        })
        .collect();
    let t = Instant::now();
    store.upsert_devices(&records)?;
    let insert_s = t.elapsed().as_secs_f64();
    store.checkpoint()?;
    let devices_bytes = file_size(path);
    let t = Instant::now();
    let run = RunInfo {
        source: "bench".into(),
        packets: 0,
        first_packet: None,
        last_packet: None,
    };
    store.record_analysis(&run, &records, &[])?;
    store.insert_evidence(&evidence)?;
    let merge_s = t.elapsed().as_secs_f64();
    store.replace_declared(&declared)?;
    store.checkpoint()?;
    let total_bytes = file_size(path);

    let all = DeviceFilter::default();
    let page = DeviceFilter {
        limit: Some(100),
        ..DeviceFilter::default()
    };
    let list_all = time_it(|| store.list_devices(&all).map(|r| r.len()))?;
    let list_table = time_it(|| {
        store
            .list_devices(&all)
            .map(|r| devices_view::table(&r).len())
    })?;
    let list_page = time_it(|| store.list_devices(&page).map(|r| r.len()))?;
    let mut show_times = Vec::with_capacity(SHOW_LOOKUPS);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..SHOW_LOOKUPS.min(n.max(1)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = synthetic_device((x % n.max(1) as u64) as usize).key;
        let t = Instant::now();
        let found = store.device(&key, crate::store::DEFAULT_RECENT_EVIDENCE)?;
        show_times.push(t.elapsed().as_secs_f64());
        found.with_context(|| format!("benchmark device {key} not found"))?;
    }
    show_times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        show_times
            .get(((show_times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let ms = |s: f64| s * 1000.0;
    let per_device = devices_bytes as f64 / n.max(1) as f64;
    let per_device_total = total_bytes as f64 / n.max(1) as f64;
    let mut out = String::new();
    if as_json {
        let v = json!({
            "devices": n, "evidence": evidence.len(), "declared": declared.len(),
            "insert_ms": ms(insert_s), "merge_with_run_ms": ms(merge_s),
            "list_all_ms": {"first": ms(list_all.0), "best": ms(list_all.1), "median": ms(list_all.2)},
            "list_all_table_ms": {"first": ms(list_table.0), "best": ms(list_table.1), "median": ms(list_table.2)},
            "list_page100_ms": {"first": ms(list_page.0), "best": ms(list_page.1), "median": ms(list_page.2)},
            "show_ms": {"median": ms(pct(0.5)), "p99": ms(pct(0.99)), "max": ms(pct(1.0))},
            "db_bytes_devices_only": devices_bytes, "bytes_per_device": per_device,
            "db_bytes_total": total_bytes, "bytes_per_device_with_evidence": per_device_total,
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            out,
            "store with {n} devices, {} evidence, {} declared ({})",
            evidence.len(),
            declared.len(),
            path.display()
        );
        outln!(
            out,
            "{:<34} {:>10}",
            "write devices (1 transaction)",
            format!("{:.0} ms", ms(insert_s))
        );
        outln!(
            out,
            "{:<34} {:>10}",
            "merge again + run, then evidence",
            format!("{:.0} ms", ms(merge_s))
        );
        outln!(
            out,
            "{:<34} {:>10} {:>13} {:>13}",
            "read",
            "first",
            "best",
            "median"
        );
        for (label, (first, best, median)) in [
            ("list all (query)", list_all),
            ("list all (query + table)", list_table),
            ("list first page of 100", list_page),
        ] {
            let (first, best, median) = (ms(first), ms(best), ms(median));
            outln!(
                out,
                "{label:<34} {first:>7.2} ms {best:>10.2} ms {median:>10.2} ms"
            );
        }
        outln!(
            out,
            "{:<34} {:>7.2} ms median, p99 {:.2} ms, max {:.2} ms ({} lookups)",
            "show one device",
            ms(pct(0.5)),
            ms(pct(0.99)),
            ms(pct(1.0)),
            show_times.len()
        );
        outln!(
            out,
            "database: {:.1} MiB with devices only ({per_device:.0} bytes/device), {:.1} MiB with evidence and inventory ({per_device_total:.0} bytes/device)",
            devices_bytes as f64 / 1048576.0,
            total_bytes as f64 / 1048576.0
        );
    }
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Seconds of the first run (SQLite's page cache cold, as for a one-shot
/// `devices list`; the OS cache is warm from writing), then the best and the
/// median of [`READ_REPEATS`].
fn time_it<E: Into<anyhow::Error>>(
    mut f: impl FnMut() -> Result<usize, E>,
) -> Result<(f64, f64, f64)> {
    let mut times = Vec::with_capacity(READ_REPEATS);
    for _ in 0..READ_REPEATS {
        let t = Instant::now();
        std::hint::black_box(f().map_err(Into::into)?);
        times.push(t.elapsed().as_secs_f64());
    }
    let first = times.first().copied().unwrap_or(f64::NAN);
    times.sort_by(f64::total_cmp);
    Ok((
        first,
        times.first().copied().unwrap_or(f64::NAN),
        times.get(times.len() / 2).copied().unwrap_or(f64::NAN),
    ))
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
