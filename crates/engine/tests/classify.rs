//! The device-type classifier: features of hand-built captures, the shipped
//! model (loads, names the right type on real IoT Sentinel captures), and
//! clear errors for model files of another version or feature set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use std::io::Cursor;
use std::path::PathBuf;

use etherparse::PacketBuilder;
use gatewatch_engine::classify::capture::run_capture;
use gatewatch_engine::classify::model::{BUILTIN_MODEL_PATH, MODEL_FORMAT_VERSION};
use gatewatch_engine::classify::{
    extract_capture, feature_count, feature_names, FeatureExtractor, FeatureVector, Model,
    ModelError,
};
use gatewatch_engine::decode::MacAddr;
use gatewatch_engine::identity::model::{parse_mac, DeviceClass};

const DEVICE: [u8; 6] = [0x50, 0xc7, 0xbf, 0x00, 0xfc, 0xa3];
const GATEWAY: [u8; 6] = [0x00, 0xb5, 0x6d, 0x06, 0x08, 0xba];
const PHONE: [u8; 6] = [0x38, 0x0b, 0x40, 0xef, 0x85, 0x41];
const BROADCAST: [u8; 6] = [0xff; 6];

/// A little-endian µs pcap of Ethernet frames, one second apart.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut p = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        p.extend_from_slice(&(1_465_000_000 + i as u32).to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&(f.len() as u32).to_le_bytes());
        p.extend_from_slice(&(f.len() as u32).to_le_bytes());
        p.extend_from_slice(f);
    }
    p
}

fn eapol(src: [u8; 6], dst: [u8; 6]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x88, 0x8e, 1, 3, 0, 95]);
    f.resize(14 + 99, 0);
    f
}

fn dhcp_discover() -> Vec<u8> {
    let mut m = vec![1, 1, 6, 0, 0x03, 0x3e, 0x31, 0x2c];
    m.resize(28, 0);
    m.extend_from_slice(&DEVICE);
    m.resize(236, 0);
    m.extend_from_slice(&[99, 130, 83, 99]);
    for (code, value) in [
        (53u8, &b"\x01"[..]),
        (12, b"HS100(EU)"),
        (60, b"udhcp 0.9.9-pre"),
        (55, &[1, 3, 6, 12, 15, 28][..]),
    ] {
        m.push(code);
        m.push(value.len() as u8);
        m.extend_from_slice(value);
    }
    m.push(255);
    let mut f = Vec::new();
    PacketBuilder::ethernet2(DEVICE, BROADCAST)
        .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
        .udp(68, 67)
        .write(&mut f, &m)
        .unwrap();
    f
}

fn dns_query(name: &str) -> Vec<u8> {
    let mut m = vec![0, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut f = Vec::new();
    PacketBuilder::ethernet2(DEVICE, GATEWAY)
        .ipv4([10, 10, 10, 228], [10, 10, 10, 1], 64)
        .udp(1025, 53)
        .write(&mut f, &m)
        .unwrap();
    f
}

fn tcp_syn(src: [u8; 6], src_ip: [u8; 4], window: u16, ttl: u8) -> Vec<u8> {
    let mut f = Vec::new();
    PacketBuilder::ethernet2(src, GATEWAY)
        .ipv4(src_ip, [52, 1, 2, 3], ttl)
        .tcp(48456, 50443, 1, window)
        .syn()
        .write(&mut f, &[])
        .unwrap();
    f
}

fn arp_request(src: [u8; 6]) -> Vec<u8> {
    let mut f = BROADCAST.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[10, 10, 10, 228, 0, 0, 0, 0, 0, 0, 10, 10, 10, 1]);
    f
}

/// EAPOL, DHCP, DNS, ARP and a TCP SYN from the device; a phone's frames in between.
fn setup_capture() -> Vec<u8> {
    pcap(&[
        eapol(DEVICE, GATEWAY),
        eapol(PHONE, GATEWAY),
        dhcp_discover(),
        arp_request(DEVICE),
        dns_query("devs.tplinkcloud.com"),
        tcp_syn(PHONE, [10, 10, 10, 30], 65535, 128),
        tcp_syn(DEVICE, [10, 10, 10, 228], 5840, 64),
        eapol(GATEWAY, DEVICE),
    ])
}

fn feature(v: &FeatureVector, name: &str) -> f64 {
    v.get(name).unwrap_or_else(|| panic!("no feature {name}"))
}

#[test]
fn hand_built_setup_gives_the_device_own_features() {
    let got = extract_capture(Cursor::new(setup_capture()), MacAddr(DEVICE)).unwrap();
    let v = &got.features;
    assert_eq!(v.values.len(), feature_count());
    assert_eq!(got.packets, 8);
    assert_eq!(
        got.device_packets, 6,
        "the phone's frames are not the device's"
    );
    assert_eq!(feature(v, "sent.packets"), 5.0);
    assert_eq!(feature(v, "received.packets"), 1.0);
    assert_eq!(feature(v, "sent.kind.eapol"), 1.0);
    assert_eq!(feature(v, "sent.kind.dhcp"), 1.0);
    assert_eq!(feature(v, "sent.kind.dns"), 1.0);
    assert_eq!(feature(v, "sent.kind.arp_request"), 1.0);
    assert_eq!(feature(v, "sent.kind.other_tcp"), 1.0);
    // The sequence of the first packets: EAPOL (1), DHCP (4), ARP request (2), …
    assert_eq!(feature(v, "first.00.kind"), 1.0);
    assert_eq!(feature(v, "first.00.size"), 113.0);
    assert_eq!(feature(v, "first.01.kind"), 4.0);
    assert_eq!(feature(v, "first.02.kind"), 2.0);
    assert_eq!(
        feature(v, "first.05.kind"),
        0.0,
        "only five packets were sent"
    );
    // Stack traits of the device, not of the phone.
    assert_eq!(feature(v, "tcp.first_syn_window"), 5840.0);
    assert_eq!(feature(v, "ip.ttl.mode"), 64.0);
    assert_eq!(feature(v, "ip.ttl.max"), 64.0);
    assert_eq!(feature(v, "sent.broadcast_share"), 2.0 / 5.0);
    assert_eq!(feature(v, "dhcp.messages"), 1.0);
    assert_eq!(feature(v, "dhcp.param_list_len"), 6.0);
    assert_eq!(feature(v, "dns.queries"), 1.0);
    assert_eq!(feature(v, "conn.dst_port_50443"), 1.0);
    assert_eq!(feature(v, "duration"), 7.0);
}

#[test]
fn tokens_name_the_model_not_the_unit() {
    let mut ex = FeatureExtractor::new(MacAddr(DEVICE));
    run_capture(Cursor::new(setup_capture()), &mut ex).unwrap();
    let tokens = ex.tokens();
    for want in [
        "dhcp/host:hs100",
        "dhcp/host:eu",
        "dhcp/vc_whole:udhcp 0.9.9-pre",
        "dhcp/p55:1,3,6,12,15,28",
        "dns/q:tplinkcloud",
        "dns/q:devs",
    ] {
        assert!(
            tokens.iter().any(|t| t == want),
            "missing {want} in {tokens:?}"
        );
    }
    // The same capture seen for the phone holds none of the device's tokens.
    let mut phone = FeatureExtractor::new(MacAddr(PHONE));
    run_capture(Cursor::new(setup_capture()), &mut phone).unwrap();
    assert!(phone.tokens().is_empty(), "{:?}", phone.tokens());
    assert_eq!(phone.device_packets(), 2);
}

#[test]
fn empty_and_foreign_captures_give_a_zero_vector_not_an_error() {
    let got = extract_capture(Cursor::new(pcap(&[])), MacAddr(DEVICE)).unwrap();
    assert_eq!(got.device_packets, 0);
    assert_eq!(got.features.values.len(), feature_count());
    let err = extract_capture(
        Cursor::new(b"PK\x03\x04 not a capture".to_vec()),
        MacAddr(DEVICE),
    )
    .unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[test]
fn feature_names_are_unique_and_stable_in_count() {
    let names = feature_names();
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "duplicate feature names");
    assert_eq!(names.len(), feature_count());
    assert!(names.iter().all(|n| !n.is_empty()));
}

fn builtin_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BUILTIN_MODEL_PATH);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn builtin_model_loads_with_the_extractor_features() {
    let model = Model::builtin().unwrap();
    assert_eq!(model.labels().len(), 27);
    assert_eq!(model.header.feature_names.as_slice(), feature_names());
    assert_eq!(
        model.forest.trees.len(),
        usize::from(model.header.training.params.trees)
    );
    assert!(
        builtin_text().len() < 1_000_000,
        "keep the shipped model well under 1 MB"
    );
    // Writing it back gives the file byte for byte (thresholds read exactly).
    assert!(
        model.to_json().unwrap() == builtin_text(),
        "the model file does not round-trip"
    );
}

#[test]
fn model_file_errors_say_what_is_wrong() {
    let text = builtin_text();
    let version = format!("\"format_version\": {MODEL_FORMAT_VERSION}");
    let future = text.replacen(&version, "\"format_version\": 99", 1);
    let err = Model::from_json(future.as_bytes()).unwrap_err();
    assert!(matches!(err, ModelError::FormatVersion { .. }), "{err}");
    assert!(
        err.to_string().contains("99") && err.to_string().contains("retrain"),
        "{err}"
    );

    let renamed = text.replacen("\"sent.packets\"", "\"sent.frames\"", 1);
    let err = Model::from_json(renamed.as_bytes()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ModelError::FeatureMismatch { index: 1, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("sent.frames") && msg.contains("sent.packets"),
        "{msg}"
    );

    let other = text.replacen("gatewatch-identify-model", "something-else", 1);
    assert!(matches!(
        Model::from_json(other.as_bytes()),
        Err(ModelError::WrongFormat { .. })
    ));

    let cut = &text[..text.len() / 2];
    let err = Model::from_json(cut.as_bytes()).unwrap_err();
    assert!(
        matches!(err, ModelError::NotJson { line, .. } if line > 1),
        "{err}"
    );

    // A child index pointing back at the root would loop: refused at load.
    let at = text.find("\"true_child\":[").unwrap() + "\"true_child\":[".len();
    let end = at + text[at..].find(',').unwrap();
    let looped = format!("{}0{}", &text[..at], &text[end..]);
    let err = Model::from_json(looped.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Invalid {
                field: "forest",
                ..
            }
        ),
        "{err}"
    );

    let model = Model::builtin().unwrap();
    let short = FeatureVector {
        values: vec![0.0; 3],
    };
    assert!(matches!(
        model.predict(&short),
        Err(ModelError::VectorLength { found: 3, .. })
    ));
}

/// A capture of the IoT Sentinel data with its device MAC, or `None` (printed) when absent.
fn sentinel(folder: &str, file: &str) -> Option<(PathBuf, MacAddr)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/iot-sentinel")
        .join(folder);
    if !dir.is_dir() {
        eprintln!("skipping: {} not found", dir.display());
        return None;
    }
    let mac_text = std::fs::read_to_string(dir.join("_iotdevice-mac.txt")).unwrap();
    let mac = mac_text.split_whitespace().find_map(parse_mac).unwrap();
    Some((dir.join(file), mac))
}

#[test]
fn builtin_model_names_the_right_type_on_real_captures() {
    // These captures were part of the training set: this checks the shipped
    // file and the extractor agree, not generalisation (`eval identify` does).
    let cases = [
        (
            "TP-LinkPlugHS100",
            "Setup-C-2-STA.pcap",
            "TP-LinkPlugHS100",
            DeviceClass::Plug,
        ),
        (
            "TP-LinkPlugHS110",
            "Setup-C-2-STA.pcap",
            "TP-LinkPlugHS110",
            DeviceClass::Plug,
        ),
        (
            "D-LinkSiren",
            "Setup-C-7-STA.pcap",
            "D-LinkSiren",
            DeviceClass::Sensor,
        ),
        (
            "HueBridge",
            "Setup-A-1-STA.pcap",
            "HueBridge",
            DeviceClass::Hub,
        ),
        (
            "HueSwitch",
            "Setup-A-1-STA.pcap",
            "HueSwitch",
            DeviceClass::Sensor,
        ),
        (
            "EdimaxCam2",
            "Setup-A-1-STA.pcap",
            "EdimaxCam",
            DeviceClass::Camera,
        ),
        ("Aria", "Setup-A-1-STA.pcap", "Aria", DeviceClass::Appliance),
    ];
    let model = Model::builtin().unwrap();
    for (folder, file, want, class) in cases {
        let Some((path, mac)) = sentinel(folder, file) else {
            return;
        };
        let got = extract_capture(std::fs::File::open(&path).unwrap(), mac).unwrap();
        let p = model.predict(&got.features).unwrap();
        eprintln!(
            "{folder}/{file}: {} ({:.2}), runner-up {:?}",
            p.label, p.vote_share, p.runner_up
        );
        assert_eq!(p.label, want, "{folder}/{file}");
        assert_eq!(p.class, class);
        assert!(p.vote_share > 0.5, "{folder}/{file}: {p:?}");
        assert!(p.vendor.is_some() && p.model.is_some());
    }
}
