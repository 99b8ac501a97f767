//! The SQLite store through the `Store` trait: migrations, merge on upsert,
//! listings and filters, device details, transactions that fail as a whole,
//! and files refused without being touched.

use std::path::{Path, PathBuf};

use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{DeclaredDevice, DeviceClass, DeviceKey, DeviceRecord, Seen};
use gatewatch_engine::Timestamp;

use super::{OpenMode, SqliteStore};
use crate::store::migrations::latest_version;
use crate::store::{persist_analysis, DeviceFilter, RunInfo, Store, StoreError};

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_secs_nanos(secs, 0)
}

fn device(key: &str, class: DeviceClass, ip: &str, first: i64, last: i64) -> DeviceRecord {
    let mut d = DeviceRecord::new(key.parse().unwrap(), ts(first));
    d.last_seen = ts(last);
    d.class = class;
    d.confidence = 0.8;
    d.ips.push(Seen {
        value: ip.parse().unwrap(),
        first: ts(first),
        last: ts(last),
    });
    d
}

fn declared(key: &str, name: &str) -> DeclaredDevice {
    DeclaredDevice {
        key: Some(key.parse().unwrap()),
        name: Some(name.to_string()),
        ..DeclaredDevice::default()
    }
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("fleet.db")
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, OpenMode::Create).unwrap()
}

#[test]
fn creates_migrates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    assert!(matches!(
        SqliteStore::open(&path, OpenMode::Existing),
        Err(StoreError::Missing { .. })
    ));
    let mut store = open(&path);
    assert_eq!(store.schema_version().unwrap(), latest_version());
    store
        .upsert_devices(&[device(
            "02:00:00:00:00:01",
            DeviceClass::Camera,
            "10.0.0.1",
            10,
            20,
        )])
        .unwrap();
    drop(store);
    let mut store = SqliteStore::open(&path, OpenMode::Existing).unwrap();
    assert_eq!(store.counts().unwrap().devices, 1);
    store
        .upsert_devices(&[device("10.1.2.3", DeviceClass::Plc, "10.1.2.3", 10, 20)])
        .unwrap();
    let keys: Vec<DeviceKey> = store
        .list_devices(&DeviceFilter::default())
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(
        keys,
        [
            "02:00:00:00:00:01".parse().unwrap(),
            "10.1.2.3".parse::<DeviceKey>().unwrap()
        ]
    );
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn upsert_merges_with_what_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&db(&dir));
    let a = device(
        "02:00:00:00:00:01",
        DeviceClass::Camera,
        "10.0.0.1",
        100,
        200,
    );
    let b = device("02:00:00:00:00:02", DeviceClass::Plug, "10.0.0.2", 100, 200);
    assert_eq!(store.upsert_devices(&[a, b]).unwrap(), 2);
    let mut later = device(
        "02:00:00:00:00:01",
        DeviceClass::Unknown,
        "10.0.0.7",
        50,
        900,
    );
    later.hostnames.push(Seen {
        value: "cam-lobby".into(),
        first: ts(800),
        last: ts(900),
    });
    assert_eq!(store.upsert_devices(&[later]).unwrap(), 0);
    let key: DeviceKey = "02:00:00:00:00:01".parse().unwrap();
    let got = store.device(&key, 5).unwrap().unwrap().observed;
    assert_eq!((got.first_seen, got.last_seen), (ts(50), ts(900)));
    assert_eq!(got.class, DeviceClass::Camera, "the known class is kept");
    assert_eq!(got.ips.len(), 2);
    let listed = store.list_devices(&DeviceFilter::default()).unwrap();
    assert_eq!(
        listed[0].ip,
        Some("10.0.0.7".parse().unwrap()),
        "current ip column"
    );
    assert_eq!(listed[0].hostname.as_deref(), Some("cam-lobby"));
    assert_eq!(listed[0].last_seen, ts(900));
}

#[test]
fn listing_filters_pages_and_declared_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&db(&dir));
    let mut devices = Vec::new();
    for i in 0..30u8 {
        let class = if i % 3 == 0 {
            DeviceClass::Camera
        } else {
            DeviceClass::Plug
        };
        let mut d = device(
            &format!("02:00:00:00:00:{i:02x}"),
            class,
            &format!("10.0.0.{i}"),
            0,
            i64::from(i),
        );
        d.vendor = Some(
            if i % 2 == 0 {
                "Hangzhou Hikvision"
            } else {
                "TP-Link"
            }
            .into(),
        );
        devices.push(d);
    }
    store.upsert_devices(&devices).unwrap();
    store
        .replace_declared(&[
            declared("02:00:00:00:00:00", "by mac"),
            declared("10.0.0.1", "by ip"),
        ])
        .unwrap();
    let all = store.list_devices(&DeviceFilter::default()).unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(all[0].declared_name.as_deref(), Some("by mac"));
    assert_eq!(all[1].declared_name.as_deref(), Some("by ip"));
    let cams = store
        .list_devices(&DeviceFilter {
            class: Some(DeviceClass::Camera),
            ..DeviceFilter::default()
        })
        .unwrap();
    assert_eq!(cams.len(), 10);
    assert!(cams.iter().all(|d| d.class == DeviceClass::Camera));
    let hik = store
        .list_devices(&DeviceFilter {
            vendor: Some("hikVISION".into()),
            ..DeviceFilter::default()
        })
        .unwrap();
    assert_eq!(hik.len(), 15);
    let undeclared = store
        .list_devices(&DeviceFilter {
            undeclared_only: true,
            ..DeviceFilter::default()
        })
        .unwrap();
    assert_eq!(undeclared.len(), 28);
    let page = store
        .list_devices(&DeviceFilter {
            limit: Some(5),
            offset: 10,
            ..DeviceFilter::default()
        })
        .unwrap();
    assert_eq!(page.len(), 5);
    assert_eq!(page[0].key.to_string(), "02:00:00:00:00:0a");
    let counts = store.counts().unwrap();
    assert_eq!(
        (counts.devices, counts.undeclared, counts.declared),
        (30, 28, 2)
    );
}

#[test]
fn device_detail_by_key_or_current_ip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&db(&dir));
    let run = RunInfo {
        source: "cap.pcap".into(),
        packets: 42,
        first_packet: Some(ts(100)),
        last_packet: Some(ts(5000)),
    };
    let key: DeviceKey = "02:00:00:00:00:01".parse().unwrap();
    let old = Evidence::new(
        ts(200),
        key,
        "identity.new_device",
        "identity",
        3,
        0.9,
        "new",
    );
    let new = Evidence::new(ts(300), key, "scan.horizontal", "trw", 7, 0.9, "scan");
    let other = Evidence::new(
        ts(400),
        "10.9.9.9".parse().unwrap(),
        "beacon",
        "beacon",
        5,
        0.5,
        "x",
    );
    let run_id = persist_analysis(
        &mut store,
        &run,
        &[device(
            "02:00:00:00:00:01",
            DeviceClass::Camera,
            "10.0.0.5",
            100,
            300,
        )],
        &[old, new, other],
    )
    .unwrap();
    store
        .replace_declared(&[declared("10.0.0.5", "lobby cam")])
        .unwrap();
    let by_ip: DeviceKey = "10.0.0.5".parse().unwrap();
    let d = store.device(&by_ip, 10).unwrap().unwrap();
    assert_eq!(d.observed.key, key);
    assert_eq!(d.declared.unwrap().name.as_deref(), Some("lobby cam"));
    assert_eq!(d.evidence.len(), 2, "only this device's evidence");
    assert_eq!(d.evidence[0].kind, "scan.horizontal", "newest first");
    assert_eq!(d.evidence[0].run_id, Some(run_id));
    assert_eq!(d.evidence[0].record["severity"], 7);
    assert_eq!(store.device(&key, 1).unwrap().unwrap().evidence.len(), 1);
    assert!(store
        .device(&"10.1.1.1".parse().unwrap(), 1)
        .unwrap()
        .is_none());
    assert_eq!(store.latest_packet_time().unwrap(), Some(ts(5000)));
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].info.packets, runs[0].devices, runs[0].evidence),
        (42, 1, 3)
    );
}

#[test]
fn a_failing_analysis_write_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&db(&dir));
    store
        .upsert_devices(&[device(
            "02:00:00:00:00:01",
            DeviceClass::Camera,
            "10.0.0.1",
            0,
            1,
        )])
        .unwrap();
    // A stored record that no longer parses makes the merge fail midway.
    store
        .conn
        .execute(
            "UPDATE device_records SET record = '{broken' WHERE key = '02:00:00:00:00:01'",
            [],
        )
        .unwrap();
    let run = RunInfo {
        source: "x.pcap".into(),
        packets: 1,
        first_packet: None,
        last_packet: None,
    };
    let batch = [
        device("02:00:00:00:00:00", DeviceClass::Plug, "10.0.0.9", 0, 1),
        device("02:00:00:00:00:01", DeviceClass::Camera, "10.0.0.1", 0, 1),
    ];
    let err = store.record_analysis(&run, &batch, &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("stored device `02:00:00:00:00:01` is damaged"),
        "{err}"
    );
    let counts = store.counts().unwrap();
    assert_eq!(
        (counts.runs, counts.devices),
        (0, 1),
        "run row and first device rolled back"
    );
}

#[test]
fn replacing_the_inventory_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&db(&dir));
    store
        .replace_declared(&[declared("10.0.0.1", "a"), declared("10.0.0.2", "b")])
        .unwrap();
    let dup = [declared("10.0.0.3", "c"), declared("10.0.0.3", "d")];
    assert!(store.replace_declared(&dup).is_err());
    let kept: Vec<_> = store
        .declared()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(kept, [Some("a".to_string()), Some("b".to_string())]);
    assert_eq!(
        store
            .replace_declared(&[declared("10.0.0.9", "z")])
            .unwrap(),
        2
    );
}

fn refused_untouched(path: &Path, expect: &str) {
    let before = std::fs::read(path).unwrap();
    let err = SqliteStore::open(path, OpenMode::Create).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains(expect), "{msg}");
    assert_eq!(std::fs::read(path).unwrap(), before, "file changed");
}

#[test]
fn foreign_garbage_and_future_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"PK\x03\x04 not a database at all, really").unwrap();
    refused_untouched(&garbage, "is not a gatewatch database: it does not start with the SQLite header; first bytes 50 4b 03 04");

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');")
        .unwrap();
    refused_untouched(&foreign, "holding tables songs");

    let future = db(&dir);
    drop(open(&future));
    rusqlite::Connection::open(&future)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    refused_untouched(
        &future,
        &format!(
            "has schema version 999, newer than this gatewatch supports (up to version {})",
            latest_version()
        ),
    );
}
