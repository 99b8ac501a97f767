//! The database file as the binary sees it: created and migrated from
//! nothing, reopened, refused untouched when it is garbage, another
//! program's SQLite file or from a newer schema; `analyze --db` persisting
//! runs; `devices list|show|reconcile|runs` on a populated store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};

fn gatewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A little-endian µs pcap with `n` Ethernet/IPv4/UDP packets, one second apart.
fn small_pcap(n: usize) -> Vec<u8> {
    let mut p = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..n {
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1000 + i as u16, 53)
            .write(&mut frame, &[0u8; 18])
            .unwrap();
        p.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        p.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        p.extend_from_slice(&frame);
    }
    p
}

#[test]
fn created_from_nothing_migrated_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, "ip,name\n10.0.0.1,a\n").unwrap();
    assert!(gatewatch(&["devices", "import", s(&inv), "--db", s(&db)])
        .status
        .success());
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    let v = json(&gatewatch(&["devices", "runs", "--db", s(&db), "--json"]));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["counts"]["declared"], 1);

    // A zero-length file is an empty database: it gets initialised.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(
        gatewatch(&["devices", "import", s(&inv), "--db", s(&empty)])
            .status
            .success()
    );
    let v = json(&gatewatch(&[
        "devices",
        "runs",
        "--db",
        s(&empty),
        "--json",
    ]));
    assert_eq!(v["counts"]["declared"], 1);

    let missing = dir.path().join("absent.db");
    let o = gatewatch(&["devices", "list", "--db", s(&missing)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("absent.db: no such database"),
        "{}",
        stderr(&o)
    );
    assert!(!missing.exists());
}

/// Runs `args` (with `--db path` appended) and checks exit 2, the message and the bytes.
fn refused_untouched(path: &Path, args: &[&str], expect: &str) {
    let before = std::fs::read(path).unwrap();
    let mut all = args.to_vec();
    all.extend(["--db", s(path)]);
    let o = gatewatch(&all);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{args:?} changed the file"
    );
}

#[test]
fn garbage_foreign_and_future_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, "ip,name\n10.0.0.1,a\n").unwrap();
    let pcap = dir.path().join("c.pcap");
    std::fs::write(&pcap, small_pcap(3)).unwrap();
    let out = dir.path().join("logs");
    let commands: [Vec<&str>; 4] = [
        vec!["devices", "list"],
        vec!["devices", "import", s(&inv)],
        vec!["devices", "export", "--out", "-"],
        vec!["analyze", s(&pcap), "--out", s(&out)],
    ];

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is a text file, not a database\n").unwrap();
    let msg = format!(
        "{} is not a gatewatch database: it does not start with the SQLite header; first bytes 74 68 69 73 20 69 73 20 (text)",
        garbage.display()
    );
    for c in &commands {
        refused_untouched(&garbage, c, &msg);
    }

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');")
        .unwrap();
    for c in &commands {
        refused_untouched(
            &foreign,
            c,
            "without a gatewatch schema version, holding tables contacts",
        );
    }

    let future = dir.path().join("future.db");
    assert!(
        gatewatch(&["devices", "import", s(&inv), "--db", s(&future)])
            .status
            .success()
    );
    rusqlite::Connection::open(&future)
        .unwrap()
        .pragma_update(None, "user_version", 42)
        .unwrap();
    let msg = format!(
        "{} has schema version 42, newer than this gatewatch supports (up to version 1)",
        future.display()
    );
    for c in &commands {
        refused_untouched(&future, c, &msg);
    }
}

#[test]
fn analyze_db_records_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("cap.pcap");
    std::fs::write(&pcap, small_pcap(5)).unwrap();
    let db = dir.path().join("runs.db");
    let out = dir.path().join("logs");
    for _ in 0..2 {
        let o = gatewatch(&["analyze", s(&pcap), "--out", s(&out), "--db", s(&db)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let v = json(&gatewatch(&["devices", "runs", "--db", s(&db), "--json"]));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["packets"], 5);
    assert_eq!(runs[0]["first_packet"], 1_700_000_000.0);
    assert_eq!(runs[0]["last_packet"], 1_700_000_004.0);
    assert!(runs[0]["source"].as_str().unwrap().ends_with("cap.pcap"));
    assert_eq!(runs[1]["id"], 2);
}

#[test]
fn list_show_and_reconcile_a_populated_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let o = gatewatch(&["bench", "--store-devices", "300", "--store-db", s(&db)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = gatewatch(&["bench", "--store-devices", "10", "--store-db", s(&db)]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the benchmark never writes into an existing file"
    );

    let o = gatewatch(&["devices", "list", "--db", s(&db), "--limit", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "{table}");
    assert!(lines[0].starts_with("KEY "), "{table}");
    for col in [
        "IP",
        "HOSTNAME",
        "CLASS",
        "VENDOR",
        "LAST SEEN (UTC)",
        "DECLARED",
    ] {
        let at = lines[0].find(col).unwrap();
        assert!(
            lines[1..].iter().all(|l| l.get(at - 2..at) == Some("  ")),
            "column {col} not aligned:\n{table}"
        );
    }
    assert!(
        lines[1].starts_with("20:f8:5e:00:00:00  10.0.0.2  device-000000  camera"),
        "{table}"
    );
    assert!(lines[1].contains("2023-11-16 02:00:00"), "{table}");
    assert!(lines[1].ends_with("asset 20:f8:5e:00:00:00"), "{table}");

    let v = json(&gatewatch(&[
        "devices",
        "list",
        "--db",
        s(&db),
        "--class",
        "plug",
        "--json",
    ]));
    let plugs = v.as_array().unwrap();
    assert!(!plugs.is_empty());
    assert!(plugs.iter().all(|d| d["class"] == "plug"));
    let v = json(&gatewatch(&[
        "devices",
        "list",
        "--db",
        s(&db),
        "--undeclared",
        "--json",
    ]));
    assert_eq!(v.as_array().unwrap().len(), 270);

    let o = gatewatch(&["devices", "show", "20:f8:5e:00:00:0a", "--db", s(&db)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for want in [
        "device 20:f8:5e:00:00:0a",
        "hostname     device-000010",
        "declared\n  key          20:f8:5e:00:00:0a\n  name         asset 20:f8:5e:00:00:0a",
        "classification evidence (3)",
        "recent evidence (2)",
        "outbound.new_destination",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    let v = json(&gatewatch(&[
        "devices",
        "show",
        "10.0.11.2",
        "--db",
        s(&db),
        "--json",
    ]));
    assert_eq!(
        v["observed"]["key"], "20:f8:5e:00:00:0b",
        "found by current IP"
    );
    assert!(v["declared"].is_null());
    assert_eq!(v["evidence"].as_array().unwrap().len(), 2);

    let o = gatewatch(&["devices", "show", "02:00:00:00:00:99", "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no device 02:00:00:00:00:99"),
        "{}",
        stderr(&o)
    );
    let o = gatewatch(&["devices", "show", "not-a-key", "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not-a-key"), "{}", stderr(&o));

    let v = json(&gatewatch(&[
        "devices",
        "reconcile",
        "--db",
        s(&db),
        "--json",
    ]));
    assert_eq!(
        (v["observed"].as_u64(), v["declared"].as_u64()),
        (Some(300), Some(30))
    );
    assert_eq!(v["matched"], 30);
    assert_eq!(v["unknown"].as_array().unwrap().len(), 270);
    assert!((v["inventory_accuracy"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    let o = gatewatch(&["devices", "reconcile", "--db", s(&db)]);
    assert!(
        stdout(&o).starts_with("inventory accuracy 10.0% (30 correct of 300 devices"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_writer_killed_mid_transaction_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("killed.db");
    let n = 100_000;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args([
            "bench",
            "--store-devices",
            &n.to_string(),
            "--store-db",
            s(&db),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the database exists (migrated), then give the big write a moment.
    let start = std::time::Instant::now();
    while !db.exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let finished = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    if finished {
        eprintln!(
            "note: the writer finished before it could be killed; checking the result anyway"
        );
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let devices: i64 = conn
        .query_row("SELECT count(*) FROM devices", [], |r| r.get(0))
        .unwrap();
    let records: i64 = conn
        .query_row("SELECT count(*) FROM device_records", [], |r| r.get(0))
        .unwrap();
    assert!(
        devices == 0 || devices == n,
        "half a batch committed: {devices}"
    );
    assert_eq!(records, devices);
    drop(conn);
    let o = gatewatch(&["devices", "list", "--db", s(&db), "--limit", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
