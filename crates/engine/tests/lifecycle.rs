//! Lifecycle assessment: devices + catalogue + exposed services → findings
//! and the compliance figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use gatewatch_engine::flow::{CloseReason, ConnRecord, ConnState, Proto};
use gatewatch_engine::identity::{DeclaredDevice, DeviceKey, DeviceRecord, Seen};
use gatewatch_engine::lifecycle::exposure::MAX_EXPOSED_HOSTS;
use gatewatch_engine::lifecycle::{assess, Catalogue, ExposureTracker};
use gatewatch_engine::Timestamp;

const CATALOGUE: &str = r#"{
  "version": 1,
  "products": [
    {"vendor": "Hikvision", "model": "DS-2CD2143", "end_of_life": "2030-01-01", "latest": "5.7.15",
     "default_credentials": true,
     "vulnerable": [{"below": "5.7.10", "cves": ["CVE-2021-36260"]}]},
    {"vendor": "Hikvision", "end_of_life": "2020-06-30"},
    {"vendor": "Siemens", "model": "SIMATIC S7-1200", "latest": "4.6.0",
     "vulnerable": [{"below": "4.5.0", "cves": ["CVE-2020-15782"]}]}
  ]
}"#;

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_secs_nanos(secs, 0)
}

fn device(mac: &str, ip: &str, vendor: &str, model: &str, firmware: Option<&str>) -> DeviceRecord {
    let mut d = DeviceRecord::new(mac.parse().unwrap(), ts(1_700_000_000));
    d.ips.push(Seen {
        value: ip.parse().unwrap(),
        first: ts(1_700_000_000),
        last: ts(1_700_000_100),
    });
    d.vendor = Some(vendor.into());
    d.model = Some(model.into());
    d.firmware = firmware.map(Into::into);
    d
}

fn conn(resp: &str, port: u16, service: Option<&'static str>, history: &str) -> ConnRecord {
    ConnRecord {
        ts: ts(1_700_000_050),
        uid: format!("C{port}{history}"),
        flow_id: 1,
        orig_h: "10.9.9.9".parse().unwrap(),
        orig_p: 40_000,
        resp_h: resp.parse().unwrap(),
        resp_p: port,
        proto: Proto::Tcp,
        ip_proto: 6,
        service: service.into_iter().collect(),
        duration: None,
        orig_bytes: None,
        resp_bytes: None,
        conn_state: ConnState::Finished,
        local_orig: None,
        local_resp: None,
        missed_bytes: 0,
        history: history.into(),
        orig_pkts: 3,
        orig_ip_bytes: 120,
        resp_pkts: 3,
        resp_ip_bytes: 120,
        orig_l2_bytes: 0,
        resp_l2_bytes: 0,
        orig_l2_addr: None,
        resp_l2_addr: None,
        vlan: None,
        inner_vlan: None,
        close_reason: CloseReason::EndOfInput,
    }
}

#[test]
fn findings_and_compliance() {
    let catalogue: Catalogue = serde_json::from_str(CATALOGUE).unwrap();
    catalogue.validate().unwrap();
    let devices = vec![
        // Vulnerable and behind, answers telnet: three findings.
        device(
            "00:11:22:00:00:01",
            "10.0.0.1",
            "Hikvision",
            "DS-2CD2143G2-I",
            Some("5.7.3"),
        ),
        // Latest: compliant.
        device(
            "00:11:22:00:00:02",
            "10.0.0.2",
            "Hikvision",
            "DS-2CD2143G2-I",
            Some("5.7.15"),
        ),
        // Other Hikvision model: vendor-wide entry, past end of life.
        device(
            "00:11:22:00:00:03",
            "10.0.0.3",
            "Hikvision",
            "DS-7608NI",
            Some("4.0"),
        ),
        // Declared firmware wins over the (absent) observed one: vulnerable PLC.
        device(
            "00:11:22:00:00:04",
            "10.0.0.4",
            "Siemens",
            "SIMATIC S7-1200 CPU 1214C",
            None,
        ),
        // Unknown firmware: not counted as compliant or not.
        device("00:11:22:00:00:05", "10.0.0.5", "Axis", "M3106", None),
    ];
    let declared = vec![DeclaredDevice {
        key: Some("00:11:22:00:00:04".parse::<DeviceKey>().unwrap()),
        firmware: Some("4.4.1".into()),
        ..DeclaredDevice::default()
    }];
    let mut exposure = ExposureTracker::new();
    exposure.observe(&conn("10.0.0.1", 23, Some("telnet"), "ShADadFf"));
    exposure.observe(&conn("10.0.0.1", 23, Some("telnet"), "ShADadFf"));
    // Refused (no handshake) and non-admin services are not exposure.
    exposure.observe(&conn("10.0.0.2", 23, None, "Sr"));
    exposure.observe(&conn("10.0.0.2", 8883, Some("ssl"), "ShADadFf"));
    exposure.observe(&conn("10.0.0.5", 8080, Some("http"), "ShADadFf"));

    let mut out = Vec::new();
    let report = assess(
        &devices,
        &declared,
        &catalogue,
        &exposure,
        ts(1_800_000_000),
        &mut out,
    );
    assert_eq!(report.devices, 5);
    assert_eq!(report.firmware_known, 4);
    assert_eq!(report.in_catalogue, 4);
    assert_eq!(report.end_of_life, 1);
    assert_eq!(report.vulnerable, 2);
    assert_eq!(report.not_latest, 2);
    assert_eq!(report.compliant, 1);
    assert_eq!(report.patch_compliance_pct, Some(25.0));
    assert_eq!((report.exposed_telnet, report.exposed_http), (1, 1));

    let kinds: Vec<(String, String, u8)> = out
        .iter()
        .map(|e| (e.device.to_string(), e.kind.clone(), e.severity))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("00:11:22:00:00:01".into(), "firmware.outdated".into(), 6),
            ("00:11:22:00:00:01".into(), "exposure.telnet".into(), 8),
            ("00:11:22:00:00:03".into(), "firmware.eol".into(), 5),
            ("00:11:22:00:00:04".into(), "firmware.outdated".into(), 6),
            ("00:11:22:00:00:05".into(), "exposure.http_admin".into(), 4),
        ]
    );
    let first = &out[0];
    assert!(first
        .summary
        .contains("Hikvision DS-2CD2143G2-I runs firmware 5.7.3, latest 5.7.15"));
    assert!(
        first.summary.contains("CVE-2021-36260"),
        "{}",
        first.summary
    );
    assert!(
        out[1].summary.contains("telnet on port 23 (2 connections)"),
        "{}",
        out[1].summary
    );
    assert_eq!(out[1].uids, vec!["C23ShADadFf".to_string()]);
    assert!(
        out[3].summary.contains("CVE-2020-15782"),
        "{}",
        out[3].summary
    );
}

#[test]
fn exposure_table_is_bounded() {
    let mut exposure = ExposureTracker::new();
    for i in 0..(MAX_EXPOSED_HOSTS as u32 + 10) {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        exposure.observe(&conn(&ip, 23, Some("telnet"), "ShAD"));
    }
    assert_eq!(exposure.hosts().len(), MAX_EXPOSED_HOSTS);
    assert_eq!(exposure.table_full, 10);
}

#[test]
fn catalogue_errors_name_the_problem() {
    let bad: Catalogue = serde_json::from_str(
        r#"{"version": 1, "products": [{"vendor": "X", "vulnerable": [{"cves": ["CVE-1"]}]}]}"#,
    )
    .unwrap();
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("product 1 (X)"));
    let unknown = serde_json::from_str::<Catalogue>(
        r#"{"version": 1, "products": [{"vendor": "X", "eol": "2020-01-01"}]}"#,
    );
    assert!(unknown.unwrap_err().to_string().contains("eol"));
}
