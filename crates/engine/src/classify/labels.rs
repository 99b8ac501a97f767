//! The 27 device types of the Aalto IoT Sentinel captures: dataset folder →
//! type label, and type label → ([`DeviceClass`], vendor, model, short code
//! for confusion matrices).
//!
//! 31 folders hold 27 types: `EdimaxCam1`/`EdimaxCam2`, `EdnetCam1`/`EdnetCam2`,
//! `WeMoInsightSwitch`/`WeMoInsightSwitch2` and `WeMoSwitch`/`WeMoSwitch2`
//! are two units of one type each. Names are merged from this table, never by
//! stripping digits (`TP-LinkPlugHS100` ends in digits too). Folders of other
//! datasets keep their name as label.
#![deny(clippy::indexing_slicing)]

use crate::identity::model::DeviceClass;

/// One device type: its label (the dataset's identifier) and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceType {
    pub label: &'static str,
    /// Four-character code for confusion matrices.
    pub code: &'static str,
    pub class: DeviceClass,
    pub vendor: &'static str,
    pub model: &'static str,
}

const fn t(
    label: &'static str,
    code: &'static str,
    class: DeviceClass,
    vendor: &'static str,
    model: &'static str,
) -> DeviceType {
    DeviceType {
        label,
        code,
        class,
        vendor,
        model,
    }
}

use DeviceClass::{Appliance, Camera, Hub, Plug, Sensor};

/// The types, in the order of the dataset's README.
pub const IOT_SENTINEL_TYPES: [DeviceType; 27] = [
    t("Aria", "Aria", Appliance, "Fitbit", "Aria WiFi scale"),
    t(
        "HomeMaticPlug",
        "HMPl",
        Plug,
        "eQ-3",
        "Homematic IP HMIP-PS",
    ),
    t(
        "Withings",
        "With",
        Appliance,
        "Withings",
        "WS-30 wireless scale",
    ),
    t("MAXGateway", "MAXg", Hub, "eQ-3", "MAX! Cube LAN Gateway"),
    t("HueBridge", "HueB", Hub, "Philips", "Hue Bridge 3241312018"),
    t(
        "HueSwitch",
        "HueS",
        Sensor,
        "Philips",
        "Hue Light Switch PTM 215Z",
    ),
    t(
        "EdnetGateway",
        "EdGw",
        Hub,
        "ednet",
        "ednet.living Starter kit Gateway",
    ),
    t(
        "EdnetCam",
        "EdCm",
        Camera,
        "ednet",
        "Wireless indoor IP camera Cube",
    ),
    t("EdimaxCam", "ExCm", Camera, "Edimax", "IC-3115W"),
    t("Lightify", "Ligh", Hub, "Osram", "Lightify Gateway"),
    t(
        "WeMoInsightSwitch",
        "WmIn",
        Plug,
        "Belkin",
        "WeMo Insight Switch F7C029de",
    ),
    t("WeMoLink", "WmLk", Hub, "Belkin", "WeMo Link F7C031vf"),
    t("WeMoSwitch", "WmSw", Plug, "Belkin", "WeMo Switch F7C027de"),
    t("D-LinkHomeHub", "DlHb", Hub, "D-Link", "DCH-G020"),
    t(
        "D-LinkDoorSensor",
        "DlDr",
        Sensor,
        "D-Link",
        "Door & Window sensor",
    ),
    t("D-LinkDayCam", "DlDc", Camera, "D-Link", "DCS-930L"),
    t("D-LinkCam", "DlCm", Camera, "D-Link", "DCH-935L"),
    t("D-LinkSwitch", "DlSw", Plug, "D-Link", "DSP-W215"),
    t("D-LinkWaterSensor", "DlWa", Sensor, "D-Link", "DCH-S160"),
    t("D-LinkSiren", "DlSi", Sensor, "D-Link", "DCH-S220"),
    t("D-LinkSensor", "DlMo", Sensor, "D-Link", "DCH-S150"),
    t("TP-LinkPlugHS110", "T110", Plug, "TP-Link", "HS110"),
    t("TP-LinkPlugHS100", "T100", Plug, "TP-Link", "HS100"),
    t("EdimaxPlug1101W", "E11W", Plug, "Edimax", "SP-1101W"),
    t("EdimaxPlug2101W", "E21W", Plug, "Edimax", "SP-2101W"),
    t(
        "SmarterCoffee",
        "SmCo",
        Appliance,
        "Smarter",
        "SmarterCoffee SMC10-EU",
    ),
    t(
        "iKettle2",
        "iKet",
        Appliance,
        "Smarter",
        "iKettle 2.0 SMK20-EU",
    ),
];

/// Types whose setup traffic in the IoT Sentinel captures cannot be told
/// apart: the same protocols, message sizes and order, DHCP fingerprint and
/// destinations (the Smarter pair frame for frame; the Edimax pair up to
/// run-to-run variation). Only identifiers of the one unit captured differ
/// (MAC, the MAC-derived DHCP host name `ESP_xxxxxx`, the leased address),
/// which the features leave out on purpose. Reports give the accuracy with
/// each pair counted as one type besides the plain accuracy.
pub const SAME_TRAFFIC_PAIRS: [(&str, &str); 2] = [
    ("SmarterCoffee", "iKettle2"),
    ("EdimaxPlug1101W", "EdimaxPlug2101W"),
];

/// Folders that hold a second unit of a type.
const MERGED_FOLDERS: [(&str, &str); 6] = [
    ("EdimaxCam1", "EdimaxCam"),
    ("EdimaxCam2", "EdimaxCam"),
    ("EdnetCam1", "EdnetCam"),
    ("EdnetCam2", "EdnetCam"),
    ("WeMoInsightSwitch2", "WeMoInsightSwitch"),
    ("WeMoSwitch2", "WeMoSwitch"),
];

/// The type label of a dataset folder: merged for the IoT Sentinel units
/// listed above, the folder name itself otherwise.
pub fn label_for_folder(folder: &str) -> &str {
    MERGED_FOLDERS
        .iter()
        .find(|(f, _)| *f == folder)
        .map_or(folder, |(_, label)| label)
}

/// What a label means, for the IoT Sentinel types.
pub fn device_type(label: &str) -> Option<&'static DeviceType> {
    IOT_SENTINEL_TYPES.iter().find(|t| t.label == label)
}

/// A short code for a label: the table's, else the label cut to four characters.
pub fn short_code(label: &str) -> String {
    device_type(label).map_or_else(|| label.chars().take(4).collect(), |t| t.code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_merge_by_table_not_by_digits() {
        assert_eq!(label_for_folder("EdimaxCam2"), "EdimaxCam");
        assert_eq!(label_for_folder("WeMoSwitch2"), "WeMoSwitch");
        assert_eq!(label_for_folder("TP-LinkPlugHS100"), "TP-LinkPlugHS100");
        assert_eq!(label_for_folder("iKettle2"), "iKettle2");
        assert_eq!(label_for_folder("SomethingElse3"), "SomethingElse3");
    }

    #[test]
    fn every_type_has_a_distinct_code_and_a_known_class() {
        let mut codes: Vec<&str> = IOT_SENTINEL_TYPES.iter().map(|t| t.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 27);
        assert!(IOT_SENTINEL_TYPES
            .iter()
            .all(|t| t.class != DeviceClass::Unknown));
        assert_eq!(device_type("D-LinkSiren").map(|t| t.class), Some(Sensor));
        assert_eq!(short_code("Unlisted"), "Unli");
    }
}
