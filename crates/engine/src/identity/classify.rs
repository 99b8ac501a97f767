//! Classification: a device's [`ClassEvidence`] list in → its class, vendor,
//! model, firmware and confidence out.
//!
//! The class is a weighted vote. Within one evidence source only the
//! strongest hint per class counts (ten vendor domains of one camera maker
//! are one piece of evidence, not ten), and the sources add up. The winner
//! is the class with the most weight (ties go to the class listed first in
//! [`DeviceClass::ALL`]).
//!
//! Confidence = winning share × coverage, where the winning share is the
//! winner's weight over all class weight and coverage is
//! `min(1, total class weight / CONFIDENT_WEIGHT)`: one weak hint alone wins
//! its vote outright but earns a low confidence; two strong sources that
//! agree give 1.0. The vendor is voted the same way; model and firmware come
//! from the strongest hint that names one and does not contradict the class.
//!
//! Runs when a device's evidence changed, never per packet. Limits:
//! [`MAX_CLASS_EVIDENCE`] hints per device, the weakest replaced when full.

use super::config::MAX_CLASS_EVIDENCE;
use super::model::DeviceClass;
use super::record::{ClassEvidence, DeviceRecord};

/// Total class weight at which a unanimous vote reaches confidence 1.0.
pub const CONFIDENT_WEIGHT: f64 = 1.5;

/// Adds `ev` to the device unless an identical hint is there; when the list
/// is full the weakest hint is replaced by a stronger one. True when the
/// list changed.
pub fn add_evidence(record: &mut DeviceRecord, ev: ClassEvidence) -> bool {
    if !ev.weight.is_finite() || ev.weight <= 0.0 || record.evidence.contains(&ev) {
        return false;
    }
    if record.evidence.len() < MAX_CLASS_EVIDENCE {
        super::table::push_tight(&mut record.evidence, ev);
        return true;
    }
    let weakest = record
        .evidence
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.weight.total_cmp(&b.1.weight))
        .map(|(i, e)| (i, e.weight));
    match weakest {
        Some((i, w)) if w < ev.weight => {
            if let Some(slot) = record.evidence.get_mut(i) {
                *slot = ev;
            }
            true
        }
        _ => false,
    }
}

fn class_index(c: DeviceClass) -> usize {
    DeviceClass::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

/// Strongest first; equal weights in a stable, content-based order.
fn sort_evidence(evidence: &mut [ClassEvidence]) {
    evidence.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.observed.cmp(&b.observed))
            .then_with(|| a.class.cmp(&b.class))
            .then_with(|| a.vendor.cmp(&b.vendor))
    });
}

/// Recomputes class, vendor, model, firmware and confidence from the evidence.
pub fn classify(record: &mut DeviceRecord) {
    sort_evidence(&mut record.evidence);
    let (class, confidence) = vote_class(&record.evidence);
    record.class = class;
    record.confidence = confidence;
    record.vendor = vote_vendor(&record.evidence);
    let agrees = |e: &&ClassEvidence| e.class.is_none() || e.class == Some(class);
    // Evidence is sorted strongest first, so `find` takes the strongest.
    record.model = record
        .evidence
        .iter()
        .filter(agrees)
        .find_map(|e| e.model.clone());
    record.firmware = record
        .evidence
        .iter()
        .filter(agrees)
        .find_map(|e| e.firmware.clone());
}

/// The winning class and its confidence (see the module comment).
pub fn vote_class(evidence: &[ClassEvidence]) -> (DeviceClass, f64) {
    // Per (source, class): the strongest hint.
    let mut best: Vec<(super::EvidenceSource, DeviceClass, f64)> = Vec::new();
    for e in evidence {
        let Some(c) = e.class else { continue };
        match best.iter_mut().find(|(s, k, _)| *s == e.source && *k == c) {
            Some(slot) => slot.2 = slot.2.max(e.weight),
            None => best.push((e.source, c, e.weight)),
        }
    }
    let mut votes = vec![0.0f64; DeviceClass::ALL.len()];
    for (_, c, w) in &best {
        if let Some(v) = votes.get_mut(class_index(*c)) {
            *v += w;
        }
    }
    let total: f64 = votes.iter().sum();
    let mut winner = DeviceClass::Unknown;
    let mut top = 0.0;
    for (c, v) in DeviceClass::ALL.iter().zip(&votes) {
        if *v > top {
            top = *v;
            winner = *c;
        }
    }
    if total <= 0.0 {
        return (DeviceClass::Unknown, 0.0);
    }
    let coverage = (total / CONFIDENT_WEIGHT).min(1.0);
    (winner, (top / total) * coverage)
}

/// The vendor with the most weight (strongest hint per source and vendor).
pub fn vote_vendor(evidence: &[ClassEvidence]) -> Option<String> {
    let mut best: Vec<(super::EvidenceSource, &str, f64)> = Vec::new();
    for e in evidence {
        let Some(v) = e.vendor.as_deref() else {
            continue;
        };
        match best.iter_mut().find(|(s, n, _)| *s == e.source && *n == v) {
            Some(slot) => slot.2 = slot.2.max(e.weight),
            None => best.push((e.source, v, e.weight)),
        }
    }
    let mut totals: Vec<(&str, f64)> = Vec::new();
    for (_, v, w) in best {
        match totals.iter_mut().find(|(n, _)| *n == v) {
            Some(slot) => slot.1 += w,
            None => totals.push((v, w)),
        }
    }
    // Highest total; ties to the alphabetically first name (deterministic).
    totals
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(v, _)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{DeviceKey, EvidenceSource};
    use crate::time::Timestamp;

    fn ev(
        source: EvidenceSource,
        observed: &str,
        class: Option<DeviceClass>,
        vendor: Option<&str>,
        w: f64,
    ) -> ClassEvidence {
        ClassEvidence {
            source,
            observed: observed.to_string(),
            class,
            vendor: vendor.map(str::to_string),
            model: None,
            firmware: None,
            weight: w,
        }
    }

    fn device() -> DeviceRecord {
        DeviceRecord::new(
            "00:17:88:24:76:ff".parse::<DeviceKey>().unwrap(),
            Timestamp::ZERO,
        )
    }

    #[test]
    fn weighted_vote_with_confidence() {
        let mut d = device();
        add_evidence(
            &mut d,
            ev(
                EvidenceSource::Oui,
                "oui=x",
                Some(DeviceClass::Hub),
                Some("Philips"),
                0.3,
            ),
        );
        classify(&mut d);
        assert_eq!(d.class, DeviceClass::Hub);
        assert!((d.confidence - 0.2).abs() < 1e-9, "{}", d.confidence);
        add_evidence(
            &mut d,
            ev(
                EvidenceSource::Dhcp,
                "hostname=cam",
                Some(DeviceClass::Camera),
                None,
                0.9,
            ),
        );
        add_evidence(
            &mut d,
            ev(
                EvidenceSource::Ssdp,
                "ssdp_server=cam",
                Some(DeviceClass::Camera),
                Some("D-Link"),
                0.9,
            ),
        );
        classify(&mut d);
        assert_eq!(d.class, DeviceClass::Camera);
        assert!((d.confidence - 1.8 / 2.1).abs() < 1e-9, "{}", d.confidence);
        assert_eq!(d.evidence[0].weight, 0.9, "strongest first");
        assert_eq!(d.evidence.last().unwrap().weight, 0.3);
        assert_eq!(d.vendor.as_deref(), Some("D-Link"));
    }

    #[test]
    fn one_source_counts_once_per_class() {
        let mut d = device();
        for i in 0..5 {
            add_evidence(
                &mut d,
                ev(
                    EvidenceSource::Domain,
                    &format!("domain=a{i}.fitbit.com"),
                    Some(DeviceClass::Sensor),
                    None,
                    0.6,
                ),
            );
        }
        add_evidence(
            &mut d,
            ev(
                EvidenceSource::Dhcp,
                "hostname=x",
                Some(DeviceClass::Plug),
                None,
                0.7,
            ),
        );
        classify(&mut d);
        assert_eq!(d.class, DeviceClass::Plug);
    }

    #[test]
    fn no_evidence_is_unknown_and_list_is_bounded() {
        let mut d = device();
        classify(&mut d);
        assert_eq!((d.class, d.confidence), (DeviceClass::Unknown, 0.0));
        for i in 0..100 {
            add_evidence(
                &mut d,
                ev(
                    EvidenceSource::Domain,
                    &format!("d{i}"),
                    None,
                    None,
                    0.01 * f64::from(i + 1),
                ),
            );
        }
        assert_eq!(d.evidence.len(), MAX_CLASS_EVIDENCE);
        assert!(
            d.evidence.iter().all(|e| e.weight > 0.7),
            "weakest replaced"
        );
        assert!(
            !add_evidence(&mut d, ev(EvidenceSource::Domain, "d99", None, None, 1.0)),
            "duplicate"
        );
    }
}
