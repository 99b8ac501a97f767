//! Identity on the IoT Sentinel captures (../shared/data/iot-sentinel): in
//! every setup capture the labelled device (`_iotdevice-mac.txt`) is found
//! under its MAC when it sent anything, its vendor matches the maker (or the
//! maker of its Wi-Fi module, which is what the IEEE registry names), and a
//! floor of device types get a plausible class. Prints one row per type:
//! captures, captures where the device was found, the classes assigned and
//! the vendor. Skips with a printed reason when the data is absent.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gatewatch_engine::identity::{DeviceClass, DeviceKey, DeviceRecord, IdentityConfig};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::CaptureReader;

/// Types (folder names) whose majority class must be plausible, at least.
const MIN_PLAUSIBLE_TYPES: usize = 20;

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iot-sentinel");
    d.is_dir().then_some(d)
}

/// Vendors accepted per type: the brand, or the module maker the OUI names.
fn expected_vendors(kind: &str) -> &'static [&'static str] {
    match kind {
        "Aria" => &["Fitbit", "GainSpan", "Delta Electronics"],
        k if k.starts_with("D-Link") => &["D-Link"],
        k if k.starts_with("TP-Link") => &["TP-Link"],
        k if k.starts_with("Edimax") => &["Edimax"],
        k if k.starts_with("WeMo") => &["Belkin"],
        k if k.starts_with("Hue") => &["Philips"],
        k if k.starts_with("Ednet") => &["ASSMANN (ednet)", "Hi-Flying"],
        "Withings" => &["Withings"],
        "Lightify" => &["OSRAM"],
        "MAXGateway" | "HomeMaticPlug" => &["eQ-3"],
        "SmarterCoffee" | "iKettle2" => &["Espressif"],
        _ => &[],
    }
}

/// Classes that describe the type. The D-Link door sensor and the Hue
/// switch talk through their hubs: their captures show the hub's MAC.
fn plausible(kind: &str) -> &'static [DeviceClass] {
    use DeviceClass::*;
    match kind {
        "Aria" | "Withings" => &[Sensor, Medical],
        "D-LinkCam" | "D-LinkDayCam" | "EdimaxCam1" | "EdimaxCam2" | "EdnetCam1" | "EdnetCam2" => {
            &[Camera]
        }
        "D-LinkDoorSensor" | "D-LinkHomeHub" | "HueSwitch" | "HueBridge" | "Lightify"
        | "MAXGateway" | "WeMoLink" | "EdnetGateway" => &[Hub, Sensor],
        "D-LinkSensor" | "D-LinkWaterSensor" | "D-LinkSiren" => &[Sensor, Appliance],
        "D-LinkSwitch" | "TP-LinkPlugHS100" | "TP-LinkPlugHS110" | "EdimaxPlug1101W"
        | "EdimaxPlug2101W" | "WeMoInsightSwitch" | "WeMoInsightSwitch2" | "WeMoSwitch"
        | "WeMoSwitch2" => &[Plug],
        // A radio plug: its folder names the access point it was set up through.
        "HomeMaticPlug" => &[Plug, Hub],
        "SmarterCoffee" | "iKettle2" => &[Appliance],
        _ => &[],
    }
}

fn analyze(path: &Path, mac: DeviceKey) -> Option<DeviceRecord> {
    let bytes = std::fs::read(path).expect("readable capture");
    let mut reader = CaptureReader::new(bytes.as_slice()).expect("a capture");
    let mut pipe = Pipeline::new(PipelineConfig {
        identity: Some(IdentityConfig::default()),
        ..PipelineConfig::default()
    });
    let (mut conns, mut protos) = (CountingSink::default(), CountingSink::default());
    while let Ok(Some(p)) = reader.next_packet() {
        pipe.process_all(&p, &mut conns, &mut protos);
    }
    pipe.finish_all(&mut conns, &mut protos);
    let found = pipe.devices().find(|d| d.key == mac).cloned();
    let counters = pipe.counters();
    let devices = counters
        .iter()
        .find(|(n, _)| *n == "identity.devices")
        .map(|c| c.1);
    assert!(devices.is_some_and(|n| n <= gatewatch_engine::identity::MAX_DEVICES as u64));
    found
}

#[derive(Default)]
struct Row {
    captures: usize,
    found: usize,
    classes: BTreeMap<String, usize>,
    vendors: BTreeMap<String, usize>,
    vendor_ok: usize,
    model: Option<String>,
}

#[test]
fn labelled_devices_are_found_with_their_vendor_and_a_plausible_class() {
    let Some(dir) = data_dir() else {
        eprintln!("skipping: ../shared/data/iot-sentinel not found");
        return;
    };
    let mut kinds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    kinds.sort();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for kind_dir in &kinds {
        let kind = kind_dir.file_name().unwrap().to_string_lossy().to_string();
        let mac: DeviceKey = std::fs::read_to_string(kind_dir.join("_iotdevice-mac.txt"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut files: Vec<PathBuf> = std::fs::read_dir(kind_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
            .collect();
        files.sort();
        let row = rows.entry(kind.clone()).or_default();
        for f in files {
            row.captures += 1;
            let Some(d) = analyze(&f, mac) else { continue };
            row.found += 1;
            *row.classes.entry(d.class.to_string()).or_default() += 1;
            let vendor = d.vendor.clone().unwrap_or_else(|| "-".into());
            if expected_vendors(&kind).contains(&vendor.as_str()) {
                row.vendor_ok += 1;
            }
            *row.vendors.entry(vendor).or_default() += 1;
            if row.model.is_none() {
                row.model = d.model.clone();
            }
        }
    }
    let mut plausible_types = 0;
    let mut report = String::from(
        "type                 captures found  classes                               vendors\n",
    );
    for (kind, r) in &rows {
        let majority = r
            .classes
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(c, _)| c.clone());
        let ok = majority
            .as_deref()
            .and_then(|c| c.parse::<DeviceClass>().ok())
            .is_some_and(|c| plausible(kind).contains(&c));
        plausible_types += usize::from(ok);
        report.push_str(&format!(
            "{kind:20} {:8} {:5}  {:37} {:?} model={:?} {}\n",
            r.captures,
            r.found,
            format!("{:?}", r.classes),
            r.vendors,
            r.model,
            if ok { "" } else { "(class not plausible)" }
        ));
    }
    eprintln!(
        "{report}plausible majority class: {plausible_types} of {} types",
        rows.len()
    );
    for (kind, r) in &rows {
        // Every capture holds the device's setup traffic, except the Zigbee /
        // radio devices whose folder names a hub MAC that may stay silent.
        if kind != "HomeMaticPlug" {
            assert!(
                r.found * 10 >= r.captures * 9,
                "{kind}: found in {} of {}",
                r.found,
                r.captures
            );
        }
        assert_eq!(r.vendor_ok, r.found, "{kind}: vendors {:?}", r.vendors);
    }
    assert!(
        plausible_types >= MIN_PLAUSIBLE_TYPES,
        "{plausible_types} plausible types"
    );
}
