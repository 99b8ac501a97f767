//! Identity on simulated fleets: every enrolled device is found under its
//! MAC and gets the class the simulator gave it; a benign run raises no
//! medium or high identity evidence; the identity attacks are found.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{DeviceClass, DeviceKey, DeviceRecord, IdentityConfig};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::simulate::{simulate, AttackKind, SimConfig, SimDevice, SimSummary};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::{LinkType, RawPacket};

fn analyze(cfg: &SimConfig) -> (SimSummary, Vec<DeviceRecord>, Vec<Evidence>) {
    analyze_with(cfg, |_| {})
}

fn analyze_with(
    cfg: &SimConfig,
    inspect: impl FnOnce(&Pipeline),
) -> (SimSummary, Vec<DeviceRecord>, Vec<Evidence>) {
    let mut packets = Vec::new();
    let summary = simulate(cfg, &mut packets).expect("valid config");
    let mut pipe = Pipeline::new(PipelineConfig {
        identity: Some(IdentityConfig::default()),
        ..PipelineConfig::default()
    });
    let mut conns = CountingSink::default();
    let mut protos = CountingSink::default();
    let mut evidence = Vec::new();
    for p in &packets {
        let raw = RawPacket {
            ts: p.ts,
            data: &p.frame,
            orig_len: p.frame.len() as u32,
            link: LinkType::ETHERNET,
            interface: 0,
        };
        pipe.process_with_evidence(&raw, &mut conns, &mut protos, &mut evidence);
    }
    pipe.finish_all(&mut conns, &mut protos);
    pipe.drain_evidence(&mut evidence);
    inspect(&pipe);
    (summary, pipe.into_devices(), evidence)
}

fn find<'a>(devices: &'a [DeviceRecord], d: &SimDevice) -> Option<&'a DeviceRecord> {
    let key: DeviceKey = d.mac.parse().unwrap();
    devices.iter().find(|r| r.key == key)
}

fn table(devices: &[DeviceRecord], sim: &[SimDevice]) -> String {
    let mut out = String::new();
    for d in sim {
        let got = find(devices, d);
        out.push_str(&format!(
            "{:17} {:16} {:12} → {:16} {:5.2} vendor={:?} model={:?} fw={:?}\n",
            d.mac,
            d.class.as_str(),
            d.vendor,
            got.map_or("MISSING".to_string(), |r| r.class.to_string()),
            got.map_or(0.0, |r| r.confidence),
            got.and_then(|r| r.vendor.clone()),
            got.and_then(|r| r.model.clone()),
            got.and_then(|r| r.firmware.clone()),
        ));
    }
    out
}

#[test]
fn every_enrolled_device_of_a_simulated_fleet_gets_its_class() {
    let (summary, devices, evidence) = analyze_with(&SimConfig::new(30, 1.0, 7), |p| {
        let id = p.identity().unwrap();
        eprintln!(
            "memory: {} devices, {} bytes per device (tables and lists included)",
            id.len(),
            id.approx_memory_bytes() / id.len().max(1)
        );
    });
    let enrolled: Vec<SimDevice> = summary
        .devices
        .iter()
        .filter(|d| d.enrolled)
        .cloned()
        .collect();
    assert_eq!(enrolled.len(), 30);
    eprintln!("{}", table(&devices, &enrolled));
    eprintln!(
        "infrastructure:\n{}",
        table(&devices, &summary.infrastructure)
    );
    let wrong: Vec<&SimDevice> = enrolled
        .iter()
        .filter(|d| find(&devices, d).map(|r| r.class) != Some(d.class.identity_class()))
        .collect();
    assert!(wrong.is_empty(), "misclassified: {wrong:#?}");
    for d in &enrolled {
        let r = find(&devices, d).unwrap();
        assert!(r.confidence >= 0.5, "{} confidence {}", d.mac, r.confidence);
        assert!(!r.evidence.is_empty());
        assert!(r.current_ip().is_some(), "{} has no IP", d.mac);
        assert_eq!(r.sites, vec!["local".to_string()]);
        assert!(
            r.traffic.packets_out > 0 && r.traffic.conns_out > 0,
            "{}",
            d.mac
        );
    }
    // The gateway forwards the internet: a router, classified as network gear.
    let gw = summary
        .infrastructure
        .iter()
        .find(|d| d.class.identity_class() == DeviceClass::Network)
        .unwrap();
    assert_eq!(find(&devices, gw).unwrap().class, DeviceClass::Network);
    // No remote address was bound to a MAC.
    assert!(devices.iter().all(|r| r
        .ips
        .iter()
        .all(|s| s.value.to_string().starts_with("10.0."))));
    // A benign capture: the whole fleet joins in the learning period, nothing medium or high.
    let loud: Vec<&Evidence> = evidence.iter().filter(|e| e.severity >= 4).collect();
    assert!(loud.is_empty(), "{loud:#?}");
    assert!(
        evidence.iter().all(|e| e.kind != "identity.new_device"),
        "{evidence:#?}"
    );
}

#[test]
fn rogue_and_cloned_devices_are_reported() {
    let cfg = SimConfig::new(20, 2.0, 11).with_attacks(vec![
        AttackKind::IdentityNewDevice,
        AttackKind::IdentityDuplicate,
    ]);
    let (summary, devices, evidence) = analyze(&cfg);
    for e in &evidence {
        eprintln!("{} {} {} {}", e.kind, e.device, e.severity, e.summary);
    }
    for t in &summary.truth {
        let hit = evidence.iter().any(|e| {
            e.kind == t.kind
                && t.devices.iter().any(|m| *m == e.device.to_string())
                && e.ts.as_secs_f64() >= t.start
                && e.ts.as_secs_f64() <= t.end + 300.0
        });
        assert!(hit, "not found: {t:?}");
    }
    let rogue = summary.devices.iter().find(|d| !d.enrolled).unwrap();
    let r = find(&devices, rogue).unwrap();
    assert_eq!(r.class, DeviceClass::Computer, "{r:#?}");
}
