//! `gatewatch devices import|export` run as a process: every class of bad
//! inventory file is refused with exit code 2 and `FILE:LINE: what is wrong`
//! for each problem; nothing is imported when any line is bad; CSV and YAML
//! exports import back to the same rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
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

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Imports `bytes` as `name`; expects exit 2 and returns stderr.
fn refused(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let file = write(dir, name, bytes);
    let db = dir.join("refused.db");
    let o = gatewatch(&["devices", "import", s(&file), "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(
        !db.exists(),
        "a refused file must not even create the database"
    );
    stderr(&o)
}

const GOOD_CSV: &str = "mac,ip,name,owner,site,vendor,model,firmware,class,role,criticality,support_end
20:f8:5e:ca:91:52,10.0.0.5,lobby cam,facilities,hq,Hikvision,DS-2CD2143,5.5.0,camera,cctv,high,2027-06-30
,10.0.0.9,plc-1,ot,plant,Siemens,S7-1200,4.2,plc,controller,critical,
b8:27:eb:00:00:01,,\"kiosk, hall\",,hq,,,,computer,,low,2026-01-31
";

#[test]
fn every_bad_input_class_is_reported_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let e = refused(d, "nokey.csv", b"name,owner\ncam,ops\n");
    assert!(
        e.contains("nokey.csv:1: no key column: the header needs a `mac` or an `ip` column (found: name, owner)"),
        "{e}"
    );

    let e = refused(
        d,
        "bad.csv",
        b"mac,name,class,support_end\n\
          20:f8:5e:ca:91:52,ok,camera,2027-01-01\n\
          20:f8:5e:ca:91,short mac,camera,\n\
          20:f8:5e:ca:91:53,toaster,toaster,\n\
          20:f8:5e:ca:91:54,date,plug,2027-13-01\n\
          20-F8-5E-CA-91-52,again,camera,\n\
          ,nothing,camera,\n",
    );
    let expected = [
        "bad.csv: 5 problems, nothing was imported",
        "bad.csv:3: bad MAC address `20:f8:5e:ca:91` (expected six hex bytes, e.g. 20:f8:5e:ca:91:52)",
        "bad.csv:4: unknown device class `toaster` (expected one of: camera, plug, thermostat, voice_assistant, hub, plc, hmi, medical, printer, computer, phone, sensor, appliance, network, unknown)",
        "bad.csv:5: bad support_end date `2027-13-01`",
        "bad.csv:6: duplicate device 20:f8:5e:ca:91:52: first listed on line 2",
        "bad.csv:7: no mac or ip: every device needs one of them",
    ];
    for want in expected {
        assert!(e.contains(want), "missing `{want}` in:\n{e}");
    }

    let e = refused(
        d,
        "latin1.csv",
        b"ip,name\n10.0.0.1,ok\n10.0.0.2,Caf\xe9 cam\n",
    );
    assert!(
        e.contains("latin1.csv:3: not valid UTF-8 at column 13 (byte 0xe9): this looks like Latin-1 (ISO-8859-1) or Windows-1252 text; save the file as UTF-8"),
        "{e}"
    );

    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "ip,name\n10.0.0.1,x\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let e = refused(d, "utf16.csv", &utf16);
    assert!(
        e.contains("utf16.csv:1: the file is encoded as UTF-16 (little-endian, with a byte order mark); save it as UTF-8"),
        "{e}"
    );

    let e = refused(d, "columns.csv", b"ip,name,colour\n10.0.0.1,a,red\n");
    assert!(
        e.contains("columns.csv:1: unknown column `colour` (expected: mac, ip, name"),
        "{e}"
    );

    let e = refused(d, "fields.csv", b"ip,name\n10.0.0.1,a,b\n");
    assert!(
        e.contains("fields.csv:2: 3 fields, but the header on line 1 has 2 columns"),
        "{e}"
    );

    let e = refused(
        d,
        "bad.yaml",
        b"# plant inventory\n\
          - ip: 10.0.0.1\n  name: ok\n\
          - mac: 20:f8:5e:ca:91\n  class: camera\n\
          - ip: 10.0.0.3\n  class: toaster\n  support_end: 31/12/2027\n\
          - ip: 10.0.0.1\n",
    );
    for want in [
        "bad.yaml:4: bad MAC address `20:f8:5e:ca:91`",
        "bad.yaml:7: unknown device class `toaster`",
        "bad.yaml:8: bad support_end date `31/12/2027`",
        "bad.yaml:9: duplicate device 10.0.0.1: first listed on line 2",
    ] {
        assert!(e.contains(want), "missing `{want}` in:\n{e}");
    }

    let e = refused(d, "syntax.yaml", b"- ip: 10.0.0.1\n  name: [unclosed\n");
    assert!(e.contains("syntax.yaml:"), "{e}");
    assert!(e.contains("not valid YAML"), "{e}");

    let e = refused(d, "inventory.txt", b"ip\n10.0.0.1\n");
    assert!(
        e.contains("inventory.txt:1: cannot tell the format from the extension"),
        "{e}"
    );
}

#[test]
fn errors_are_capped_but_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("mac,name\n");
    for i in 0..120 {
        csv.push_str(&format!("not-a-mac-{i},x\n"));
    }
    let e = refused(dir.path(), "many.csv", csv.as_bytes());
    assert!(
        e.contains("many.csv: 120 problems, nothing was imported"),
        "{e}"
    );
    assert_eq!(e.matches("bad MAC address").count(), 50);
    assert!(e.contains("… and 70 more"), "{e}");
}

#[test]
fn a_bad_file_leaves_the_previous_inventory_intact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fleet.db");
    let good = write(dir.path(), "good.csv", GOOD_CSV.as_bytes());
    let o = gatewatch(&["devices", "import", s(&good), "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = gatewatch(&["devices", "export", "--db", s(&db), "--out", "-"]);
    assert_eq!(stdout(&before).lines().count(), 4);

    // One good line, one bad one: nothing of it may land.
    let bad = write(
        dir.path(),
        "bad.csv",
        b"ip,name\n10.9.9.9,new device\n10.9.9.300,typo\n",
    );
    let o = gatewatch(&["devices", "import", s(&bad), "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv:3: bad IP address `10.9.9.300`"),
        "{}",
        stderr(&o)
    );
    let after = gatewatch(&["devices", "export", "--db", s(&db), "--out", "-"]);
    assert_eq!(stdout(&after), stdout(&before));
    assert!(!stdout(&after).contains("10.9.9.9"));
}

#[test]
fn csv_and_yaml_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("a.db");
    let src = write(d, "src.csv", GOOD_CSV.as_bytes());
    assert!(gatewatch(&["devices", "import", s(&src), "--db", s(&db)])
        .status
        .success());

    // CSV: export, import into a new database, export again: identical.
    let out1 = d.join("out1.csv");
    assert!(
        gatewatch(&["devices", "export", "--db", s(&db), "--out", s(&out1)])
            .status
            .success()
    );
    let exported = std::fs::read_to_string(&out1).unwrap();
    assert_eq!(exported, GOOD_CSV);
    let db2 = d.join("b.db");
    assert!(gatewatch(&["devices", "import", s(&out1), "--db", s(&db2)])
        .status
        .success());
    let out2 = d.join("out2.csv");
    assert!(
        gatewatch(&["devices", "export", "--db", s(&db2), "--out", s(&out2)])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(&out2).unwrap(), exported);

    // YAML: the same rows through the other format.
    let yaml = d.join("inv.yaml");
    assert!(
        gatewatch(&["devices", "export", "--db", s(&db), "--out", s(&yaml)])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(text.starts_with("- mac: 20:f8:5e:ca:91:52\n"), "{text}");
    assert!(text.contains("name: kiosk, hall"), "{text}");
    let db3 = d.join("c.db");
    let o = gatewatch(&["devices", "import", s(&yaml), "--db", s(&db3)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = gatewatch(&[
        "devices",
        "export",
        "--db",
        s(&db3),
        "--out",
        "-",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&back), exported);
    let yml = d.join("again.yml");
    assert!(
        gatewatch(&["devices", "export", "--db", s(&db3), "--out", s(&yml)])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(&yml).unwrap(), text);
}
