//! Identity findings: what the device table noticed (a new device, a
//! duplicate identity, ARP spoofing, a changed address or name, an
//! unexpected VLAN) in → [`Evidence`] lines of CONTRACTS.md out.
//!
//! Severity and score per kind are fixed here, in one place. Repeats are
//! suppressed like Zeek's notice framework: the same kind about the same
//! device is raised at most once per suppression interval; the time of the
//! last one lives in the device entry, so the bookkeeping is bounded by the
//! device table.

use std::net::IpAddr;

use crate::evidence::{AttrValue, Evidence};
use crate::identity::DeviceKey;
use crate::time::Timestamp;

/// The detector name identity findings carry.
pub const DETECTOR: &str = "identity";

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// A device first seen after the learning period.
    NewDevice,
    /// One identity used by two devices at once: a MAC on two IPs, an IP on
    /// two MACs, a DHCP client id or TLS client certificate from two MACs.
    Duplicate,
    /// An IP's MAC binding taken over by ARP while the owner is active, or
    /// an ARP claim on the gateway's address.
    ArpSpoof,
    ChangeIp,
    ChangeHostname,
    /// A device seen on a VLAN it was not seen on before.
    UnexpectedVlan,
}

impl FindingKind {
    /// Number of kinds (size of a device's suppression array).
    pub const COUNT: usize = 6;

    pub fn index(self) -> usize {
        match self {
            FindingKind::NewDevice => 0,
            FindingKind::Duplicate => 1,
            FindingKind::ArpSpoof => 2,
            FindingKind::ChangeIp => 3,
            FindingKind::ChangeHostname => 4,
            FindingKind::UnexpectedVlan => 5,
        }
    }

    /// The evidence kind (CONTRACTS.md names, dotted sub-kinds for changes).
    pub fn kind(self) -> &'static str {
        match self {
            FindingKind::NewDevice => "identity.new_device",
            FindingKind::Duplicate => "identity.duplicate",
            FindingKind::ArpSpoof => "identity.arp_spoof",
            FindingKind::ChangeIp => "identity.change.ip",
            FindingKind::ChangeHostname => "identity.change.hostname",
            FindingKind::UnexpectedVlan => "identity.unexpected_vlan",
        }
    }

    /// 1–10. Changes and new devices are informational (below the
    /// medium/high threshold of 4 that `eval` counts as alerts).
    pub fn severity(self) -> u8 {
        match self {
            FindingKind::NewDevice => 3,
            FindingKind::Duplicate => 5,
            FindingKind::ArpSpoof => 7,
            FindingKind::ChangeIp | FindingKind::ChangeHostname => 2,
            FindingKind::UnexpectedVlan => 3,
        }
    }
}

/// One finding before suppression.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: FindingKind,
    pub ts: Timestamp,
    pub device: DeviceKey,
    pub ip: Option<IpAddr>,
    /// Overrides the kind's severity (e.g. a claim on the gateway's address).
    pub severity: Option<u8>,
    pub score: f64,
    pub summary: String,
    pub attrs: Vec<(&'static str, AttrValue)>,
}

impl Finding {
    pub fn new(
        kind: FindingKind,
        ts: Timestamp,
        device: DeviceKey,
        score: f64,
        summary: String,
    ) -> Self {
        Finding {
            kind,
            ts,
            device,
            ip: None,
            severity: None,
            score,
            summary,
            attrs: Vec::new(),
        }
    }

    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    pub fn severity(mut self, s: u8) -> Self {
        self.severity = Some(s);
        self
    }

    pub fn attr(mut self, name: &'static str, v: impl Into<AttrValue>) -> Self {
        self.attrs.push((name, v.into()));
        self
    }

    pub fn into_evidence(self) -> Evidence {
        let mut e = Evidence::new(
            self.ts,
            self.device,
            self.kind.kind(),
            DETECTOR,
            self.severity.unwrap_or(self.kind.severity()),
            self.score,
            self.summary,
        );
        if let Some(ip) = self.ip {
            e = e.with_ip(ip);
        }
        for (k, v) in self.attrs {
            e = e.with_attr(k, v);
        }
        e
    }
}

/// The last time each kind was raised about one device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Suppression {
    last: [Option<Timestamp>; FindingKind::COUNT],
}

impl Suppression {
    /// True (and the time noted) when `kind` may be raised at `ts`, i.e. it
    /// was not raised within `interval` before.
    pub fn allow(
        &mut self,
        kind: FindingKind,
        ts: Timestamp,
        interval: crate::time::Duration,
    ) -> bool {
        let Some(slot) = self.last.get_mut(kind.index()) else {
            return true;
        };
        if let Some(t) = *slot {
            if ts.since(t).0 < interval.0 && ts.0 >= t.0 {
                return false;
            }
        }
        *slot = Some(ts);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    #[test]
    fn suppression_holds_for_the_interval() {
        let mut s = Suppression::default();
        let hour = Duration::from_secs(3600);
        let t = |s: i64| Timestamp::from_secs_nanos(1_700_000_000 + s, 0);
        assert!(s.allow(FindingKind::Duplicate, t(0), hour));
        assert!(!s.allow(FindingKind::Duplicate, t(10), hour));
        assert!(
            s.allow(FindingKind::ArpSpoof, t(10), hour),
            "kinds are independent"
        );
        assert!(s.allow(FindingKind::Duplicate, t(3600), hour));
    }

    #[test]
    fn evidence_has_the_contract_fields() {
        let key: DeviceKey = "02:00:00:00:00:01".parse().unwrap();
        let e = Finding::new(FindingKind::ArpSpoof, Timestamp::ZERO, key, 0.9, "x".into())
            .ip("10.0.0.1".parse().unwrap())
            .severity(8)
            .attr("victim_mac", "00:11:22:33:44:55")
            .into_evidence();
        assert_eq!(e.kind, "identity.arp_spoof");
        assert_eq!(e.family, "identity");
        assert_eq!(e.detector, "identity");
        assert_eq!(e.severity, 8);
        assert_eq!(e.attrs.len(), 1);
        assert!(FindingKind::ChangeIp.severity() < 4 && FindingKind::NewDevice.severity() < 4);
    }
}
