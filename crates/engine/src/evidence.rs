//! Evidence: what identity findings, detectors and the ML stages raise, and
//! what correlation, `eval` and `evidence.jsonl` consume.
//!
//! The JSON shape is fixed by CONTRACTS.md (`ts`, `device`, `ip`, `kind`,
//! `family`, `detector`, `severity` 1–10, `score` 0–1, `summary`, `uids`,
//! `dst`, `attrs`). Limits: [`MAX_EVIDENCE_UIDS`] uids and
//! [`MAX_EVIDENCE_DESTINATIONS`] destinations per piece of evidence; the
//! summary is built by the engine, never copied from packet bytes unbounded.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::identity::DeviceKey;
use crate::time::Timestamp;

/// Flow uids kept per piece of evidence (the first ones seen).
pub const MAX_EVIDENCE_UIDS: usize = 32;
/// Destination addresses kept per piece of evidence.
pub const MAX_EVIDENCE_DESTINATIONS: usize = 32;

/// An attribute value of a piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<AttrValue>),
}

impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}
impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        AttrValue::Int(v)
    }
}
impl From<u64> for AttrValue {
    fn from(v: u64) -> Self {
        AttrValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<u16> for AttrValue {
    fn from(v: u16) -> Self {
        AttrValue::Int(i64::from(v))
    }
}
impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        AttrValue::Float(v)
    }
}
impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        AttrValue::Str(v.to_string())
    }
}
impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        AttrValue::Str(v)
    }
}

/// One piece of evidence about one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Packet time of the packet that completed the evidence.
    pub ts: Timestamp,
    /// The MAC when known, else the IP.
    pub device: DeviceKey,
    pub ip: Option<IpAddr>,
    /// Dotted kind from CONTRACTS.md (`scan.horizontal`, `identity.duplicate`, …).
    pub kind: String,
    /// The first dotted component of `kind` (`scan`, `identity`, …).
    pub family: String,
    /// Which detector or stage raised it (`trw`, `identity`, …).
    pub detector: &'static str,
    /// 1 (informational) – 10 (critical).
    pub severity: u8,
    /// Confidence 0–1.
    pub score: f64,
    /// One line with the numbers that matter.
    pub summary: String,
    pub uids: Vec<String>,
    pub dst: Vec<IpAddr>,
    pub attrs: BTreeMap<String, AttrValue>,
}

impl Evidence {
    /// Evidence with the mandatory fields; `family` is derived from `kind`,
    /// `severity` is clamped to 1–10 and `score` to 0–1.
    pub fn new(
        ts: Timestamp,
        device: DeviceKey,
        kind: impl Into<String>,
        detector: &'static str,
        severity: u8,
        score: f64,
        summary: impl Into<String>,
    ) -> Self {
        let kind = kind.into();
        let family = family_of(&kind).to_string();
        Evidence {
            ts,
            device,
            ip: None,
            kind,
            family,
            detector,
            severity: severity.clamp(1, 10),
            score: if score.is_finite() {
                score.clamp(0.0, 1.0)
            } else {
                0.0
            },
            summary: summary.into(),
            uids: Vec::new(),
            dst: Vec::new(),
            attrs: BTreeMap::new(),
        }
    }

    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    pub fn with_attr(mut self, name: &str, value: impl Into<AttrValue>) -> Self {
        self.attrs.insert(name.to_string(), value.into());
        self
    }

    /// Adds a flow uid unless [`MAX_EVIDENCE_UIDS`] are already kept.
    pub fn add_uid(&mut self, uid: impl ToString) {
        if self.uids.len() < MAX_EVIDENCE_UIDS {
            self.uids.push(uid.to_string());
        }
    }

    /// Adds a destination unless present or [`MAX_EVIDENCE_DESTINATIONS`] are kept.
    pub fn add_dst(&mut self, ip: IpAddr) {
        if self.dst.len() < MAX_EVIDENCE_DESTINATIONS && !self.dst.contains(&ip) {
            self.dst.push(ip);
        }
    }
}

/// The family of a dotted kind: `scan.horizontal` → `scan`.
pub fn family_of(kind: &str) -> &str {
    kind.split('.').next().unwrap_or(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_the_contract_shape() {
        let mut e = Evidence::new(
            Timestamp::from_secs_nanos(1_700_003_612, 250_000_000),
            "02:1a:00:00:00:01".parse().unwrap(),
            "scan.horizontal",
            "trw",
            12,
            1.5,
            "4,812 telnet attempts",
        )
        .with_ip("10.0.1.23".parse().unwrap())
        .with_attr("port", 23u16);
        e.add_uid("C1x");
        e.add_dst("10.0.4.7".parse().unwrap());
        e.add_dst("10.0.4.7".parse().unwrap());
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["ts"], 1700003612.25);
        assert_eq!(v["device"], "02:1a:00:00:00:01");
        assert_eq!(v["ip"], "10.0.1.23");
        assert_eq!(v["family"], "scan");
        assert_eq!(v["severity"], 10);
        assert_eq!(v["score"], 1.0);
        assert_eq!(v["dst"], serde_json::json!(["10.0.4.7"]));
        assert_eq!(v["attrs"]["port"], 23);
        assert_eq!(v["uids"], serde_json::json!(["C1x"]));
    }
}
