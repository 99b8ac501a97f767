//! Reconciliation: the observed devices ([`DeviceRecord`]) and the operator's
//! declared inventory ([`DeclaredDevice`]) in → unknown devices (seen, not
//! declared), missing devices (declared, not seen within `missing_after` of
//! `now`, or never), mismatches (declared class or vendor contradicted by
//! confident observation) and the inventory accuracy out.
//!
//! Pure: no I/O, no clock; `now` is packet time (the end of the latest
//! analysed capture). Matching is by key first (MAC or IP as declared), then,
//! for declared entries not matched that way, by IP address history: a
//! declared IP (the key of an IP-keyed entry, or the `ip` of a MAC-keyed one)
//! matches an observed device that used that address, most recent user
//! first. Each observed device is claimed by at most one declared entry.
//!
//! Inventory accuracy = correct / (observed + declared − matched), where
//! `correct` counts matched pairs that are neither missing nor mismatched.
//! The denominator is every device anyone knows about (seen or declared,
//! a matched pair counted once), so unknown devices, missing devices and
//! mismatches all lower the figure. An empty network with an empty
//! inventory is 100 % accurate.

#![deny(clippy::indexing_slicing)]

use std::net::IpAddr;

use serde::Serialize;

use super::model::{DeviceClass, DeviceKey};
use super::record::{DeclaredDevice, DeviceRecord};
use crate::time::{Duration, Timestamp};

/// Default confidence from which an observed class or vendor contradicts the inventory.
pub const DEFAULT_MISMATCH_CONFIDENCE: f64 = 0.6;
/// Default: a declared device not seen for 7 days is missing.
pub const DEFAULT_MISSING_AFTER: Duration = Duration::from_secs(7 * 86_400);

/// How strict reconciliation is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconcileConfig {
    /// A declared device whose last sighting is older than this is missing.
    pub missing_after: Duration,
    /// Observed class/vendor with at least this confidence can contradict the inventory.
    pub mismatch_confidence: f64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            missing_after: DEFAULT_MISSING_AFTER,
            mismatch_confidence: DEFAULT_MISMATCH_CONFIDENCE,
        }
    }
}

/// A device seen on the network that the inventory does not list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownDevice {
    pub key: DeviceKey,
    pub ip: Option<IpAddr>,
    pub hostname: Option<String>,
    pub class: DeviceClass,
    pub vendor: Option<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// A declared device not seen recently, or never.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingDevice {
    /// The declared key (`None` for an entry without one).
    pub key: Option<DeviceKey>,
    pub name: Option<String>,
    /// The observed device it matched, when it was ever seen.
    pub observed_key: Option<DeviceKey>,
    /// Last sighting; `None` when never seen.
    pub last_seen: Option<Timestamp>,
    /// Packet time since the last sighting; `None` when never seen
    /// (seconds in JSON).
    #[serde(serialize_with = "duration_secs")]
    pub silent_for: Option<Duration>,
}

fn duration_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Which declared attribute observation contradicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchField {
    Class,
    Vendor,
}

/// A declared device whose observed behaviour contradicts the inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub declared_key: Option<DeviceKey>,
    pub observed_key: DeviceKey,
    pub name: Option<String>,
    pub field: MismatchField,
    pub declared: String,
    pub observed: String,
    /// Confidence of the observation.
    pub confidence: f64,
}

/// The outcome of [`reconcile`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciliation {
    pub observed: usize,
    pub declared: usize,
    /// Declared entries matched to an observed device.
    pub matched: usize,
    /// Matched, seen recently and not contradicted.
    pub correct: usize,
    pub unknown: Vec<UnknownDevice>,
    pub missing: Vec<MissingDevice>,
    pub mismatches: Vec<Mismatch>,
    /// correct / (observed + declared − matched), 0–1 (see the module comment).
    pub inventory_accuracy: f64,
}

/// Compares the observed devices with the declared inventory at packet time `now`.
pub fn reconcile(
    observed: &[DeviceRecord],
    declared: &[DeclaredDevice],
    now: Timestamp,
    config: &ReconcileConfig,
) -> Reconciliation {
    let pairs = match_declared(observed, declared);
    let mut claimed = vec![false; observed.len()];
    let mut missing = Vec::new();
    let mut mismatches = Vec::new();
    let mut matched = 0;
    let mut correct = 0;
    for (decl, found) in declared.iter().zip(&pairs) {
        let Some(dev) = found.and_then(|i| observed.get(i)) else {
            missing.push(MissingDevice {
                key: decl.key,
                name: decl.name.clone(),
                observed_key: None,
                last_seen: None,
                silent_for: None,
            });
            continue;
        };
        if let Some(c) = found.and_then(|i| claimed.get_mut(i)) {
            *c = true;
        }
        matched += 1;
        let silent = now.since(dev.last_seen);
        let is_missing = silent > config.missing_after;
        if is_missing {
            missing.push(MissingDevice {
                key: decl.key,
                name: decl.name.clone(),
                observed_key: Some(dev.key),
                last_seen: Some(dev.last_seen),
                silent_for: Some(silent),
            });
        }
        let before = mismatches.len();
        compare(decl, dev, config, &mut mismatches);
        if !is_missing && mismatches.len() == before {
            correct += 1;
        }
    }
    let unknown = observed
        .iter()
        .zip(&claimed)
        .filter(|(_, &c)| !c)
        .map(|(d, _)| UnknownDevice {
            key: d.key,
            ip: d.current_ip(),
            hostname: d.current_hostname().map(str::to_string),
            class: d.class,
            vendor: d.vendor.clone(),
            first_seen: d.first_seen,
            last_seen: d.last_seen,
        })
        .collect();
    let universe = observed.len() + declared.len() - matched;
    let inventory_accuracy = if universe == 0 {
        1.0
    } else {
        correct as f64 / universe as f64
    };
    Reconciliation {
        observed: observed.len(),
        declared: declared.len(),
        matched,
        correct,
        unknown,
        missing,
        mismatches,
        inventory_accuracy,
    }
}

/// For each declared entry, the index of the observed device it matches.
fn match_declared(observed: &[DeviceRecord], declared: &[DeclaredDevice]) -> Vec<Option<usize>> {
    let mut by_key: std::collections::HashMap<DeviceKey, usize> = observed
        .iter()
        .enumerate()
        .map(|(i, d)| (d.key, i))
        .collect();
    // A MAC-keyed observation also answers to its MAC when keyed otherwise.
    for (i, d) in observed.iter().enumerate() {
        if let Some(mac) = d.mac {
            by_key.entry(DeviceKey::Mac(mac)).or_insert(i);
        }
    }
    let mut taken = vec![false; observed.len()];
    let mut pairs: Vec<Option<usize>> = declared
        .iter()
        .map(|decl| {
            let i = *by_key.get(&decl.key?)?;
            let t = taken.get_mut(i)?;
            if *t {
                return None;
            }
            *t = true;
            Some(i)
        })
        .collect();
    for (decl, pair) in declared.iter().zip(pairs.iter_mut()) {
        if pair.is_some() {
            continue;
        }
        let ip = match decl.key {
            Some(DeviceKey::Ip(ip)) => Some(ip),
            _ => decl.ip,
        };
        let Some(ip) = ip else { continue };
        // The device that used the address most recently.
        let best = observed
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken.get(*i).copied().unwrap_or(true))
            .filter_map(|(i, d)| {
                let s = d.ips.iter().find(|s| s.value == ip)?;
                Some((i, s.last))
            })
            .max_by_key(|&(_, last)| last);
        if let Some((i, _)) = best {
            if let Some(t) = taken.get_mut(i) {
                *t = true;
            }
            *pair = Some(i);
        }
    }
    pairs
}

/// Pushes the class and vendor contradictions between a declared entry and
/// the device it matched.
fn compare(
    decl: &DeclaredDevice,
    dev: &DeviceRecord,
    config: &ReconcileConfig,
    out: &mut Vec<Mismatch>,
) {
    if dev.confidence < config.mismatch_confidence {
        return;
    }
    let mut push = |field, declared: String, observed: String| {
        out.push(Mismatch {
            declared_key: decl.key,
            observed_key: dev.key,
            name: decl.name.clone(),
            field,
            declared,
            observed,
            confidence: dev.confidence,
        });
    };
    if let Some(class) = decl.class {
        if class != DeviceClass::Unknown && dev.class != DeviceClass::Unknown && class != dev.class
        {
            push(
                MismatchField::Class,
                class.as_str().to_string(),
                dev.class.as_str().to_string(),
            );
        }
    }
    if let (Some(d), Some(o)) = (&decl.vendor, &dev.vendor) {
        if !same_vendor(d, o) {
            push(MismatchField::Vendor, d.clone(), o.clone());
        }
    }
}

/// Vendor names agree when, lowercased and stripped of everything but
/// letters and digits, one contains the other ("Hikvision" and "Hangzhou
/// Hikvision Digital Technology Co.,Ltd").
pub fn same_vendor(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    if a.is_empty() || b.is_empty() {
        return true;
    }
    a.contains(&b) || b.contains(&a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::record::Seen;

    const DAY: i64 = 86_400;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_secs_nanos(secs, 0)
    }

    fn observed(key: &str, class: DeviceClass, confidence: f64, last: i64) -> DeviceRecord {
        let mut d = DeviceRecord::new(key.parse().unwrap(), ts(0));
        d.last_seen = ts(last);
        d.class = class;
        d.confidence = confidence;
        d
    }

    fn declared(key: &str, name: &str, class: Option<DeviceClass>) -> DeclaredDevice {
        DeclaredDevice {
            key: Some(key.parse().unwrap()),
            name: Some(name.to_string()),
            class,
            ..DeclaredDevice::default()
        }
    }

    #[test]
    fn unknown_missing_mismatch_and_accuracy() {
        let now = ts(30 * DAY);
        let seen = vec![
            observed("02:00:00:00:00:01", DeviceClass::Camera, 0.9, 30 * DAY),
            observed("02:00:00:00:00:02", DeviceClass::Computer, 0.8, 30 * DAY),
            observed("02:00:00:00:00:03", DeviceClass::Plug, 0.9, 10 * DAY),
            observed("02:00:00:00:00:04", DeviceClass::Printer, 0.9, 30 * DAY),
        ];
        let inventory = vec![
            declared("02:00:00:00:00:01", "lobby cam", Some(DeviceClass::Camera)),
            declared("02:00:00:00:00:02", "dock cam", Some(DeviceClass::Camera)),
            declared("02:00:00:00:00:03", "old plug", Some(DeviceClass::Plug)),
            declared("02:00:00:00:00:09", "spare", None),
        ];
        let r = reconcile(&seen, &inventory, now, &ReconcileConfig::default());
        assert_eq!(r.matched, 3);
        assert_eq!(r.unknown.len(), 1);
        assert_eq!(r.unknown[0].key.to_string(), "02:00:00:00:00:04");
        assert_eq!(r.missing.len(), 2);
        assert_eq!(r.missing[0].name.as_deref(), Some("old plug"));
        assert_eq!(r.missing[0].silent_for, Some(Duration::from_secs(20 * DAY)));
        assert_eq!(r.missing[1].name.as_deref(), Some("spare"));
        assert_eq!(r.missing[1].last_seen, None);
        assert_eq!(r.mismatches.len(), 1);
        let m = &r.mismatches[0];
        assert_eq!(
            (m.declared.as_str(), m.observed.as_str()),
            ("camera", "computer")
        );
        assert_eq!(m.field, MismatchField::Class);
        // Only the lobby camera is right; 4 seen + 4 declared − 3 matched = 5.
        assert_eq!(r.correct, 1);
        assert!((r.inventory_accuracy - 0.2).abs() < 1e-12);
    }

    #[test]
    fn low_confidence_does_not_contradict() {
        let seen = vec![observed("10.0.0.7", DeviceClass::Computer, 0.3, 0)];
        let inv = vec![declared("10.0.0.7", "hmi", Some(DeviceClass::Hmi))];
        let r = reconcile(&seen, &inv, ts(0), &ReconcileConfig::default());
        assert!(r.mismatches.is_empty());
        assert_eq!(r.inventory_accuracy, 1.0);
    }

    #[test]
    fn declared_ip_matches_a_mac_keyed_device_by_address_history() {
        let mut cam = observed("20:f8:5e:ca:91:52", DeviceClass::Camera, 0.9, 100);
        cam.ips.push(Seen {
            value: "10.0.0.20".parse().unwrap(),
            first: ts(0),
            last: ts(100),
        });
        let mut by_mac_with_ip = declared("02:00:00:00:00:aa", "other", None);
        by_mac_with_ip.ip = Some("10.0.0.99".parse().unwrap());
        let inv = vec![declared("10.0.0.20", "cam", None), by_mac_with_ip];
        let r = reconcile(&[cam], &inv, ts(100), &ReconcileConfig::default());
        assert_eq!(r.matched, 1);
        assert!(r.unknown.is_empty());
        assert_eq!(r.missing.len(), 1);
        assert_eq!(r.missing[0].name.as_deref(), Some("other"));
    }

    #[test]
    fn one_device_is_claimed_once() {
        let seen = vec![observed("02:00:00:00:00:01", DeviceClass::Camera, 0.9, 0)];
        let inv = vec![
            declared("02:00:00:00:00:01", "a", None),
            declared("02:00:00:00:00:01", "b", None),
        ];
        let r = reconcile(&seen, &inv, ts(0), &ReconcileConfig::default());
        assert_eq!(r.matched, 1);
        assert_eq!(r.missing.len(), 1);
        assert_eq!(r.missing[0].name.as_deref(), Some("b"));
    }

    #[test]
    fn vendor_names_compare_loosely() {
        assert!(same_vendor(
            "Hikvision",
            "Hangzhou Hikvision Digital Technology Co.,Ltd"
        ));
        assert!(same_vendor("TP-Link", "tp link"));
        assert!(!same_vendor("Axis", "Hikvision"));
        let mut d = observed("02:00:00:00:00:01", DeviceClass::Camera, 0.9, 0);
        d.vendor = Some("Hikvision".into());
        let mut decl = declared("02:00:00:00:00:01", "cam", Some(DeviceClass::Camera));
        decl.vendor = Some("Axis".into());
        let r = reconcile(&[d], &[decl], ts(0), &ReconcileConfig::default());
        assert_eq!(r.mismatches.len(), 1);
        assert_eq!(r.mismatches[0].field, MismatchField::Vendor);
    }

    #[test]
    fn empty_is_fully_accurate_and_all_unknown_is_zero() {
        let r = reconcile(&[], &[], ts(0), &ReconcileConfig::default());
        assert_eq!(r.inventory_accuracy, 1.0);
        let seen = vec![observed("02:00:00:00:00:01", DeviceClass::Camera, 0.9, 0)];
        let r = reconcile(&seen, &[], ts(0), &ReconcileConfig::default());
        assert_eq!(r.inventory_accuracy, 0.0);
        assert_eq!(r.unknown.len(), 1);
    }
}
