//! Scoring a run against ground truth: `truth.jsonl` records and the run's
//! [`Evidence`] in → an [`EvalReport`] (the `gatewatch eval --json` shape of
//! CONTRACTS.md) out.
//!
//! Rules (CONTRACTS.md): an attack is detected when evidence of the same
//! family names one of its devices (MAC, or IP) between `start` and
//! `end + 300 s`; its latency is the first such evidence's time minus
//! `start`. A false alert is evidence of severity ≥ 4 on a device with no
//! attack whose window covers the evidence time. Posture findings (families
//! `firmware` and `exposure`: what a device *is*, not what it *does*) are
//! reported apart as `posture_findings` and never counted as false alerts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::evidence::{family_of, Evidence};
use crate::simulate::TruthRecord;

/// Evidence up to this long after an attack's end still counts for it.
pub const DETECTION_GRACE_S: f64 = 300.0;
/// Severity from which evidence is an alert (medium or high).
pub const ALERT_SEVERITY: u8 = 4;
/// Families that describe a device's posture rather than its behaviour.
pub const POSTURE_FAMILIES: &[&str] = &["firmware", "exposure"];

/// One attack instance's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttackOutcome {
    pub id: String,
    pub kind: String,
    pub detected: bool,
    /// Seconds of packet time from the attack's start to its first evidence.
    pub latency_s: Option<f64>,
    /// Pieces of evidence that matched it.
    pub evidence: usize,
    /// Detectors that matched it.
    pub detectors: Vec<String>,
}

/// Precision and recall of one kind; `None` where undefined (no evidence of
/// that kind, or no attack of that kind).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindScore {
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub attacks: usize,
    pub detected: usize,
    pub alerts: usize,
    pub true_alerts: usize,
}

/// The score of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub attacks: Vec<AttackOutcome>,
    pub false_alerts: usize,
    pub device_days: f64,
    pub false_alerts_per_100_device_days: Option<f64>,
    pub per_kind: BTreeMap<String, KindScore>,
    pub detected: usize,
    pub missed: usize,
    /// Evidence of the posture families (not alerts about behaviour).
    pub posture_findings: usize,
    /// False alerts per kind, to see which detector is noisy.
    pub false_alerts_by_kind: BTreeMap<String, usize>,
}

fn names_device(t: &TruthRecord, e: &Evidence) -> bool {
    let dev = e.device.to_string();
    t.devices.iter().any(|d| d.eq_ignore_ascii_case(&dev))
        || t.ips.contains(&dev)
        || e.ip.is_some_and(|ip| t.ips.contains(&ip.to_string()))
}

fn in_window(t: &TruthRecord, ts: f64) -> bool {
    ts >= t.start && ts <= t.end + DETECTION_GRACE_S
}

/// Scores `evidence` against `truth`; `device_days` is the number of devices
/// observed times the capture's length in days.
pub fn score(truth: &[TruthRecord], evidence: &[Evidence], device_days: f64) -> EvalReport {
    let ts_of = |e: &Evidence| e.ts.as_nanos() as f64 / 1e9;
    let mut attacks = Vec::with_capacity(truth.len());
    let mut per_kind: BTreeMap<String, KindScore> = BTreeMap::new();
    let blank = || KindScore {
        precision: None,
        recall: None,
        attacks: 0,
        detected: 0,
        alerts: 0,
        true_alerts: 0,
    };
    for t in truth {
        let family = family_of(&t.kind);
        let matching: Vec<&Evidence> = evidence
            .iter()
            .filter(|e| e.family == family && names_device(t, e) && in_window(t, ts_of(e)))
            .collect();
        let first = matching
            .iter()
            .map(|e| ts_of(e))
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))));
        let mut detectors: Vec<String> = matching.iter().map(|e| e.detector.to_string()).collect();
        detectors.sort();
        detectors.dedup();
        let k = per_kind.entry(t.kind.clone()).or_insert_with(blank);
        k.attacks += 1;
        k.detected += usize::from(first.is_some());
        attacks.push(AttackOutcome {
            id: t.id.clone(),
            kind: t.kind.clone(),
            detected: first.is_some(),
            latency_s: first.map(|f| ((f - t.start).max(0.0) * 1000.0).round() / 1000.0),
            evidence: matching.len(),
            detectors,
        });
    }
    let mut false_alerts = 0;
    let mut posture = 0;
    let mut false_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for e in evidence {
        if POSTURE_FAMILIES.contains(&e.family.as_str()) {
            posture += 1;
            continue;
        }
        if e.severity < ALERT_SEVERITY {
            continue;
        }
        let ts = ts_of(e);
        let covered = truth.iter().any(|t| names_device(t, e) && in_window(t, ts));
        let true_alert = truth
            .iter()
            .any(|t| family_of(&t.kind) == e.family && names_device(t, e) && in_window(t, ts));
        let k = per_kind.entry(e.kind.clone()).or_insert_with(blank);
        k.alerts += 1;
        k.true_alerts += usize::from(true_alert);
        if !covered {
            false_alerts += 1;
            *false_by_kind.entry(e.kind.clone()).or_default() += 1;
        }
    }
    for k in per_kind.values_mut() {
        k.recall = (k.attacks > 0).then(|| k.detected as f64 / k.attacks as f64);
        k.precision = (k.alerts > 0).then(|| k.true_alerts as f64 / k.alerts as f64);
    }
    let detected = attacks.iter().filter(|a| a.detected).count();
    EvalReport {
        missed: attacks.len() - detected,
        detected,
        attacks,
        false_alerts,
        device_days,
        false_alerts_per_100_device_days: (device_days > 0.0)
            .then(|| false_alerts as f64 * 100.0 / device_days),
        per_kind,
        posture_findings: posture,
        false_alerts_by_kind: false_by_kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn truth(id: &str, kind: &str, mac: &str, start: f64, end: f64) -> TruthRecord {
        TruthRecord {
            id: id.into(),
            kind: kind.into(),
            devices: vec![mac.into()],
            ips: vec!["10.0.1.23".into()],
            start,
            end,
            targets: vec![],
            notes: String::new(),
        }
    }

    fn ev(device: &str, kind: &str, ts: f64, severity: u8) -> Evidence {
        Evidence::new(
            Timestamp::from_secs_f64(ts),
            device.parse().unwrap(),
            kind,
            "test",
            severity,
            0.9,
            "x",
        )
    }

    #[test]
    fn detection_latency_false_alerts_and_kinds() {
        let t = vec![
            truth("a1", "scan.horizontal", "02:00:00:00:00:01", 1000.0, 1090.0),
            truth("a2", "beacon", "02:00:00:00:00:02", 2000.0, 5000.0),
        ];
        let e = vec![
            // Same family, other sub-kind, by IP: detects a1 at +4 s.
            ev("10.0.1.23", "scan.vertical", 1004.0, 7),
            ev("02:00:00:00:00:01", "scan.horizontal", 1010.0, 7),
            // Within the 300 s grace: still a1's, and not a false alert.
            ev("02:00:00:00:00:01", "bruteforce.telnet", 1350.0, 6),
            // After the grace on the same device: false alert.
            ev("02:00:00:00:00:01", "bruteforce.telnet", 1400.0, 6),
            // Benign device, low severity: not an alert.
            ev("02:00:00:00:00:09", "outbound.new_destination", 1500.0, 3),
            // Benign device, posture: reported apart.
            ev("02:00:00:00:00:09", "firmware.outdated", 1500.0, 6),
            // Wrong family for a2: a2 missed, but no false alert (device under attack).
            ev("02:00:00:00:00:02", "dns.dga", 2500.0, 5),
        ];
        let r = score(&t, &e, 50.0);
        assert_eq!(r.attacks[0].latency_s, Some(4.0));
        assert_eq!(r.attacks[0].evidence, 2);
        assert!(!r.attacks[1].detected);
        assert_eq!((r.detected, r.missed), (1, 1));
        assert_eq!(r.false_alerts, 1);
        assert_eq!(r.false_alerts_per_100_device_days, Some(2.0));
        assert_eq!(r.posture_findings, 1);
        assert_eq!(r.false_alerts_by_kind.get("bruteforce.telnet"), Some(&1));
        let scan = &r.per_kind["scan.horizontal"];
        assert_eq!((scan.recall, scan.precision), (Some(1.0), Some(1.0)));
        let brute = &r.per_kind["bruteforce.telnet"];
        assert_eq!((brute.recall, brute.precision), (None, Some(0.0)));
        assert_eq!(r.per_kind["beacon"].recall, Some(0.0));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["attacks"][0]["id"], "a1");
        assert_eq!(json["per_kind"]["scan.horizontal"]["recall"], 1.0);
    }

    #[test]
    fn truth_lines_from_other_tools_parse() {
        let t: TruthRecord =
            serde_json::from_str(r#"{"id":"x","kind":"flood","start":1.5,"end":2.5}"#).unwrap();
        assert!(t.devices.is_empty() && t.notes.is_empty());
        let r = score(&[t], &[], 0.0);
        assert_eq!(r.false_alerts_per_100_device_days, None);
        assert_eq!(r.missed, 1);
    }
}
