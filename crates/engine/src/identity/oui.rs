//! Vendor of a MAC address from the IEEE registry (MA-L, MA-M, MA-S, CID,
//! IAB), as shipped by the `oui-data` crate, and the classification hint it
//! gives.
//!
//! In: a MAC. Out: the registered organization name, then evidence with the
//! canonical vendor name (from the `oui` lines of the rule table) or the
//! organization as registered. Group and locally administered (randomized)
//! MACs have no OUI and get none.

use super::fingerprints::{Field, RuleSet};
use super::model::{is_group, is_locally_administered};
use super::record::{ClassEvidence, EvidenceSource};
use super::text::bounded;
use crate::decode::MacAddr;

/// Weight of the bare vendor hint when no rule knows the organization.
pub const OUI_VENDOR_WEIGHT: f64 = 0.3;
/// Weight of the hint that a randomized MAC is a phone's private address.
pub const RANDOMIZED_PHONE_WEIGHT: f64 = 0.15;

/// The organization the IEEE registered `mac`'s prefix to.
pub fn organization(mac: MacAddr) -> Option<&'static str> {
    if is_group(mac) || is_locally_administered(mac) {
        return None;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 12];
    for (pair, byte) in buf.chunks_exact_mut(2).zip(mac.0) {
        if let [hi, lo] = pair {
            *hi = HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
            *lo = HEX.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'0');
        }
    }
    let hex = std::str::from_utf8(&buf).ok()?;
    oui_data::lookup(hex).map(|r| r.organization())
}

/// The classification hints a MAC address gives by itself.
pub fn hints(rules: &RuleSet, mac: MacAddr, out: &mut Vec<ClassEvidence>) {
    if is_locally_administered(mac) {
        out.push(ClassEvidence {
            source: EvidenceSource::Oui,
            observed: "mac=locally administered (randomized)".to_string(),
            class: Some(super::DeviceClass::Phone),
            vendor: None,
            model: None,
            firmware: None,
            weight: RANDOMIZED_PHONE_WEIGHT,
        });
        return;
    }
    let Some(org) = organization(mac) else {
        return;
    };
    let before = out.len();
    rules.hints(Field::Oui, EvidenceSource::Oui, org, out);
    if out.len() == before {
        out.push(ClassEvidence {
            source: EvidenceSource::Oui,
            observed: bounded(&format!("oui={org}")),
            class: None,
            vendor: Some(bounded(org)),
            model: None,
            firmware: None,
            weight: OUI_VENDOR_WEIGHT,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::model::parse_mac;
    use crate::identity::DeviceClass;

    #[test]
    fn registered_prefixes_name_their_vendor() {
        let hue = parse_mac("00:17:88:24:76:ff").unwrap();
        assert_eq!(organization(hue), Some("Philips Lighting BV"));
        let mut v = Vec::new();
        hints(RuleSet::builtin(), hue, &mut v);
        assert_eq!(v[0].vendor.as_deref(), Some("Philips"));
        assert_eq!(v[0].observed, "oui=Philips Lighting BV");
        let mut v = Vec::new();
        hints(
            RuleSet::builtin(),
            parse_mac("20:f8:5e:ca:91:52").unwrap(),
            &mut v,
        );
        assert_eq!(v[0].vendor.as_deref(), Some("Delta Electronics"));
    }

    #[test]
    fn randomized_and_group_macs_have_no_oui() {
        let random = parse_mac("3a:12:34:56:78:9a").unwrap();
        assert_eq!(organization(random), None);
        let mut v = Vec::new();
        hints(RuleSet::builtin(), random, &mut v);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].class, Some(DeviceClass::Phone));
        assert_eq!(organization(parse_mac("01:00:5e:00:00:fb").unwrap()), None);
    }
}
