//! The columns of an inventory file and the checks of one line: column
//! names (with a few accepted aliases) and raw text values with their line
//! numbers in → a [`DeclaredDevice`] or the list of what is wrong, each with
//! its line.
//!
//! Limits: [`MAX_FIELD_CHARS`] characters per value.

#![deny(clippy::indexing_slicing)]

use std::net::IpAddr;

use gatewatch_engine::identity::model::{is_group, parse_mac};
use gatewatch_engine::identity::{DeclaredDevice, DeviceClass, DeviceKey};

use super::LineError;

/// Characters one value may have.
pub const MAX_FIELD_CHARS: usize = 256;

/// Accepted criticality levels.
pub const CRITICALITIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// A column of the inventory, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Mac,
    Ip,
    Name,
    Owner,
    Site,
    Vendor,
    Model,
    Firmware,
    Class,
    Role,
    Criticality,
    SupportEnd,
}

impl Column {
    /// Every column in the order export writes them.
    pub const ALL: [Column; 12] = [
        Column::Mac,
        Column::Ip,
        Column::Name,
        Column::Owner,
        Column::Site,
        Column::Vendor,
        Column::Model,
        Column::Firmware,
        Column::Class,
        Column::Role,
        Column::Criticality,
        Column::SupportEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Column::Mac => "mac",
            Column::Ip => "ip",
            Column::Name => "name",
            Column::Owner => "owner",
            Column::Site => "site",
            Column::Vendor => "vendor",
            Column::Model => "model",
            Column::Firmware => "firmware",
            Column::Class => "class",
            Column::Role => "role",
            Column::Criticality => "criticality",
            Column::SupportEnd => "support_end",
        }
    }

    /// A header cell or YAML key: case, spaces and dashes do not matter;
    /// `location`, `network_role`, `support_end_date`, `end_of_support`,
    /// `mac_address` and `ip_address` are accepted aliases.
    pub fn parse(name: &str) -> Option<Column> {
        let n = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        let alias = match n.as_str() {
            "location" => "site",
            "network_role" => "role",
            "support_end_date" | "end_of_support" => "support_end",
            "mac_address" => "mac",
            "ip_address" => "ip",
            other => other,
        };
        Column::ALL.into_iter().find(|c| c.as_str() == alias)
    }

    /// The list of valid names, for messages.
    pub fn names() -> String {
        Column::ALL.map(Column::as_str).join(", ")
    }

    /// The value of this column in a declared device (what export writes).
    pub fn value(self, d: &DeclaredDevice) -> Option<String> {
        match self {
            Column::Mac => match d.key {
                Some(DeviceKey::Mac(m)) => Some(m.to_string()),
                _ => None,
            },
            Column::Ip => match d.key {
                Some(DeviceKey::Ip(ip)) => Some(ip.to_string()),
                _ => d.ip.map(|ip| ip.to_string()),
            },
            Column::Name => d.name.clone(),
            Column::Owner => d.owner.clone(),
            Column::Site => d.site.clone(),
            Column::Vendor => d.vendor.clone(),
            Column::Model => d.model.clone(),
            Column::Firmware => d.firmware.clone(),
            Column::Class => d.class.map(|c| c.as_str().to_string()),
            Column::Role => d.role.clone(),
            Column::Criticality => d.criticality.clone(),
            Column::SupportEnd => d.support_end.clone(),
        }
    }
}

/// One value as read: its column, its text and the line it is on.
#[derive(Debug, Clone)]
pub struct RawField {
    pub column: Column,
    pub text: String,
    pub line: usize,
}

/// Checks one device's values (the device starts on `line`) and builds the
/// declared entry, or returns every problem found.
pub fn build(line: usize, fields: &[RawField]) -> Result<DeclaredDevice, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut d = DeclaredDevice::default();
    let mut mac = None;
    let mut ip = None;
    for f in fields {
        let text = f.text.trim();
        if text.is_empty() {
            continue;
        }
        let mut fail = |message: String| errors.push(LineError::new(f.line, message));
        let chars = text.chars().count();
        if chars > MAX_FIELD_CHARS {
            fail(format!(
                "{} is {chars} characters long (at most {MAX_FIELD_CHARS})",
                f.column.as_str()
            ));
            continue;
        }
        let owned = Some(text.to_string());
        match f.column {
            Column::Mac => match parse_mac(text) {
                Some(m) if is_group(m) => fail(format!(
                    "MAC address `{text}` is a multicast/broadcast address, not a device"
                )),
                Some(m) => mac = Some(m),
                None => fail(format!(
                    "bad MAC address `{text}` (expected six hex bytes, e.g. 20:f8:5e:ca:91:52)"
                )),
            },
            Column::Ip => match text.parse::<IpAddr>() {
                Ok(a) => ip = Some(a),
                Err(_) => fail(format!(
                    "bad IP address `{text}` (expected e.g. 10.0.1.23 or fd00::17)"
                )),
            },
            Column::Class => match text.parse::<DeviceClass>() {
                Ok(c) => d.class = Some(c),
                Err(e) => fail(e.to_string()),
            },
            Column::Criticality => {
                let lower = text.to_ascii_lowercase();
                if CRITICALITIES.contains(&lower.as_str()) {
                    d.criticality = Some(lower);
                } else {
                    fail(format!(
                        "unknown criticality `{text}` (expected one of: {})",
                        CRITICALITIES.join(", ")
                    ));
                }
            }
            Column::SupportEnd => match check_date(text) {
                Ok(()) => d.support_end = owned,
                Err(why) => fail(format!(
                    "bad support_end date `{text}`: {why} (expected YYYY-MM-DD, e.g. 2027-06-30)"
                )),
            },
            Column::Name => d.name = owned,
            Column::Owner => d.owner = owned,
            Column::Site => d.site = owned,
            Column::Vendor => d.vendor = owned,
            Column::Model => d.model = owned,
            Column::Firmware => d.firmware = owned,
            Column::Role => d.role = owned,
        }
    }
    let key_given = fields
        .iter()
        .any(|f| matches!(f.column, Column::Mac | Column::Ip) && !f.text.trim().is_empty());
    if !key_given {
        errors.push(LineError::new(
            line,
            "no mac or ip: every device needs one of them to be recognised on the network"
                .to_string(),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match (mac, ip) {
        (Some(m), ip) => {
            d.key = Some(DeviceKey::Mac(m));
            d.ip = ip;
        }
        (None, Some(ip)) => d.key = Some(DeviceKey::Ip(ip)),
        // A key value was given, so it either parsed or produced an error above.
        (None, None) => {}
    }
    Ok(d)
}

/// `YYYY-MM-DD` naming a real calendar day.
fn check_date(text: &str) -> Result<(), String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map(|_| ())
        .map_err(|e| match e {
            time::error::Parse::TryFromParsed(t) => t.to_string(),
            other => other.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(column: Column, text: &str) -> RawField {
        RawField {
            column,
            text: text.to_string(),
            line: 7,
        }
    }

    #[test]
    fn builds_a_mac_keyed_device_with_an_ip() {
        let d = build(
            7,
            &[
                f(Column::Mac, "20-F8-5E-CA-91-52"),
                f(Column::Ip, "10.0.0.5"),
                f(Column::Class, "Voice Assistant"),
                f(Column::Criticality, "High"),
                f(Column::SupportEnd, "2028-02-29"),
                f(Column::Name, "  kitchen  "),
                f(Column::Owner, ""),
            ],
        )
        .unwrap();
        assert_eq!(d.key.unwrap().to_string(), "20:f8:5e:ca:91:52");
        assert_eq!(d.ip, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(d.class, Some(DeviceClass::VoiceAssistant));
        assert_eq!(d.criticality.as_deref(), Some("high"));
        assert_eq!(d.name.as_deref(), Some("kitchen"));
        assert_eq!(d.owner, None);
    }

    #[test]
    fn reports_every_problem_of_a_line() {
        let errs = build(
            7,
            &[
                f(Column::Mac, "20:f8:5e:ca:91"),
                f(Column::Class, "toaster"),
                f(Column::SupportEnd, "2027-02-30"),
                f(Column::Criticality, "urgent"),
            ],
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.message.clone()).collect();
        assert_eq!(errs.len(), 4, "{text:?}");
        assert!(text[0].starts_with("bad MAC address `20:f8:5e:ca:91`"));
        assert!(text[1].contains("unknown device class `toaster`"));
        assert!(text[1].contains("camera, plug"), "lists the valid classes");
        assert!(
            text[2].starts_with("bad support_end date `2027-02-30`"),
            "{}",
            text[2]
        );
        assert!(text[3].contains("low, medium, high, critical"));
        assert!(errs.iter().all(|e| e.line == 7));
    }

    #[test]
    fn a_device_needs_a_key() {
        let errs = build(3, &[f(Column::Name, "x"), f(Column::Ip, " ")]).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 3);
        assert!(errs[0].message.starts_with("no mac or ip"));
        let group = build(3, &[f(Column::Mac, "01:00:5e:00:00:fb")]).unwrap_err();
        assert!(group[0].message.contains("multicast"));
    }

    #[test]
    fn column_aliases() {
        assert_eq!(Column::parse(" Location "), Some(Column::Site));
        assert_eq!(Column::parse("Support-End"), Some(Column::SupportEnd));
        assert_eq!(Column::parse("MAC Address"), Some(Column::Mac));
        assert_eq!(Column::parse("vender"), None);
    }
}
