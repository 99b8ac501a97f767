//! The IoT Sentinel captures (every device setup starts with DHCP, then SSDP
//! and NTP) through the DHCP, SSDP and NTP analyzers, compared frame by frame
//! with one tshark run per capture: DHCP message type, host name (12),
//! parameter request list (55, in order) and vendor class (60); SSDP method,
//! SERVER, USER-AGENT and LOCATION; NTP mode and stratum.
//!
//! By default one capture per device folder (31 files); set
//! `GATEWATCH_FULL_SURVEY=1` to compare all 550 (several minutes). Skips with
//! a printed reason when the data or tshark is absent.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // tests may panic on broken fixtures

mod proto_udp_support;

use std::collections::HashMap;
use std::path::PathBuf;

use gatewatch_engine::proto::dhcp::record::message_type_name;
use gatewatch_engine::proto::dhcp::{DhcpAnalyzer, DhcpCounters, DhcpRecord, Dhcpv4Record};
use gatewatch_engine::proto::ntp::{NtpAnalyzer, NtpCounters, NtpRecord};
use gatewatch_engine::proto::ssdp::{SsdpAnalyzer, SsdpCounters, SsdpRecord};
use proto_udp_support::{data_dir, tshark_available, tshark_fields, udp_datagrams, Agreement};

enum Ours {
    Dhcp(Box<Dhcpv4Record>),
    Ssdp(SsdpRecord),
    Ntp(NtpRecord),
}

const FIELDS: [&str; 10] = [
    "dhcp.option.dhcp",
    "dhcp.option.hostname",
    "dhcp.option.request_list_item",
    "dhcp.option.vendor_class_id",
    "http.request.method",
    "http.server",
    "http.user_agent",
    "http.location",
    "ntp.flags.mode",
    "ntp.stratum",
];

fn captures() -> Vec<PathBuf> {
    let Some(dir) = data_dir() else {
        return Vec::new();
    };
    let full = std::env::var_os("GATEWATCH_FULL_SURVEY").is_some();
    let mut devices: Vec<PathBuf> = std::fs::read_dir(dir.join("iot-sentinel"))
        .expect("iot-sentinel folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    devices.sort();
    let mut out = Vec::new();
    for dev in devices {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dev)
            .expect("device folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
            .collect();
        files.sort();
        if !full {
            files.truncate(1);
        }
        out.extend(files);
    }
    out
}

#[derive(Default)]
struct Totals {
    agree: [Agreement; 10],
    /// Frames tshark dissects as DHCP/SSDP/NTP that we logged nothing for.
    missing: usize,
    missing_examples: Vec<String>,
    dhcp: DhcpCounters,
    ssdp: SsdpCounters,
    ntp: NtpCounters,
}

fn ours_by_frame(path: &std::path::Path, t: &mut Totals) -> HashMap<usize, Ours> {
    let cap = udp_datagrams(path);
    let mut dhcp: HashMap<usize, DhcpAnalyzer> = HashMap::new();
    let mut ours = HashMap::new();
    for d in &cap.datagrams {
        let conn = || cap.flows[d.flow].clone();
        let on = |p: u16| d.src_port == p || d.dst_port == p;
        if on(67) || on(68) {
            let a = dhcp
                .entry(d.flow)
                .or_insert_with(|| DhcpAnalyzer::new(conn()));
            let mut out = Vec::new();
            a.on_data(d.ts, d.is_orig, &d.payload, &mut t.dhcp, &mut out);
            if let Some(DhcpRecord::V4(r)) = out.pop() {
                ours.insert(d.frame, Ours::Dhcp(r));
            }
        } else if on(1900) {
            let mut out = Vec::new();
            SsdpAnalyzer::new(conn()).on_data(d.ts, d.is_orig, &d.payload, &mut t.ssdp, &mut out);
            if let Some(r) = out.pop() {
                ours.insert(d.frame, Ours::Ssdp(r));
            }
        } else if on(123) {
            let mut out = Vec::new();
            NtpAnalyzer::new(conn()).on_data(d.ts, d.is_orig, &d.payload, &mut t.ntp, &mut out);
            if let Some(r) = out.pop() {
                ours.insert(d.frame, Ours::Ntp(r));
            }
        }
    }
    ours
}

fn compare(path: &std::path::Path, t: &mut Totals) {
    let ours = ours_by_frame(path, t);
    // ICMP errors quote DHCP/NTP packets: tshark dissects them, we do not.
    let filter = "(dhcp or ssdp or ntp) and not icmp and not icmpv6";
    let theirs = tshark_fields(path, filter, &FIELDS, &[]);
    let a = &mut t.agree;
    for (frame, v) in &theirs {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        match ours.get(frame) {
            Some(Ours::Dhcp(r)) => {
                let code = v[0].split(',').next().and_then(|x| x.parse().ok());
                a[0].add(&r.msg_type, &message_type_name(code));
                a[1].add(&s(&r.host_name), &v[1]);
                let params: Vec<String> = r.param_list.iter().map(u64::to_string).collect();
                a[2].add(&params.join(","), &v[2]);
                a[3].add(&s(&r.vendor_class), &v[3]);
            }
            Some(Ours::Ssdp(r)) => {
                a[4].add(&s(&r.method), &v[4]);
                a[5].add(&s(&r.server), &v[5]);
                a[6].add(&s(&r.user_agent), &v[6]);
                a[7].add(&s(&r.location), &v[7]);
            }
            Some(Ours::Ntp(r)) => {
                a[8].add(&r.mode.to_string(), &v[8]);
                let stratum = r
                    .std
                    .as_ref()
                    .map(|x| x.stratum.to_string())
                    .unwrap_or_default();
                a[9].add(&stratum, &v[9]);
            }
            None => {
                t.missing += 1;
                if t.missing_examples.len() < 5 {
                    t.missing_examples
                        .push(format!("{}#{frame}", path.display()));
                }
            }
        }
    }
}

#[test]
fn iot_sentinel_agrees_with_tshark() {
    let files = captures();
    if files.is_empty() || !tshark_available() {
        return;
    }
    let mut t = Totals::default();
    for f in &files {
        compare(f, &mut t);
    }
    eprintln!("{} captures", files.len());
    for (name, a) in FIELDS.iter().zip(t.agree) {
        eprintln!("{name}: {a}");
    }
    eprintln!(
        "tshark frames we did not log: {} {:?}",
        t.missing, t.missing_examples
    );
    eprintln!("{:?}\n{:?}\n{:?}", t.dhcp, t.ssdp, t.ntp);
    assert!(t.agree[0].compared >= 50, "too few DHCP messages compared");
    assert!(t.agree[4].compared >= 50, "too few SSDP messages compared");
    for (name, a) in FIELDS.iter().zip(t.agree) {
        assert!(a.rate() >= 0.99, "{name}: {a}");
    }
    assert_eq!(t.missing, 0);
}
