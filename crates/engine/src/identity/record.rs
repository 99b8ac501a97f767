//! What the inventory knows about one device: [`DeviceRecord`] (observed,
//! built by the identity stage, persisted by the store) and
//! [`DeclaredDevice`] (one line of the operator's inventory file).
//!
//! Both serialize with serde (JSON for the API and `--json`, columns plus JSON
//! in the store). Lists are bounded by the identity stage's named limits.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::model::{DeviceClass, DeviceKey};
use crate::decode::MacAddr;
use crate::time::Timestamp;

/// A value a device was seen with, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seen<T> {
    pub value: T,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Where a classification hint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// IEEE OUI registry: the vendor of the MAC prefix.
    Oui,
    /// DHCP fingerprint: option 55 order, option 60, hostname.
    Dhcp,
    Mdns,
    Ssdp,
    HttpUserAgent,
    HttpServer,
    Tls,
    Mqtt,
    /// Vendor cloud domains looked up or contacted.
    Domain,
    /// Services offered or used (RTSP server, Modbus slave, …).
    Service,
    /// The trained device-type classifier.
    Classifier,
    /// The operator's inventory.
    Declared,
}

/// One observation that points at a class, a vendor, a model or a firmware.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassEvidence {
    pub source: EvidenceSource,
    /// What was seen, e.g. `hostname=GainSpanca9152` or `sni=www.fitbit.com`.
    pub observed: String,
    pub class: Option<DeviceClass>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// How much this observation counts (0–1).
    pub weight: f64,
}

/// The DHCP fingerprint of a client (latest request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpFingerprint {
    /// Option 55, in the client's order.
    pub params: Vec<u8>,
    /// Option 60.
    pub vendor_class: Option<String>,
    /// Option 61, hex.
    pub client_id: Option<String>,
    /// Option 12.
    pub hostname: Option<String>,
}

/// Packets, bytes and connections a device sent and received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficTotals {
    pub packets_out: u64,
    pub packets_in: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Connections the device originated.
    pub conns_out: u64,
    /// Connections the device answered.
    pub conns_in: u64,
}

/// Everything observed about one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub key: DeviceKey,
    pub mac: Option<MacAddr>,
    /// Locally administered MAC (randomized, virtual or cloned).
    pub mac_randomized: bool,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub ips: Vec<Seen<IpAddr>>,
    pub hostnames: Vec<Seen<String>>,
    pub vlans: Vec<u16>,
    /// Sites the device was seen at (the sensor's site name; one site for a single gateway).
    pub sites: Vec<String>,
    pub dhcp: Option<DhcpFingerprint>,
    pub class: DeviceClass,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// Confidence of `class` (0–1).
    pub confidence: f64,
    /// The observations that led to the classification, strongest first.
    pub evidence: Vec<ClassEvidence>,
    pub traffic: TrafficTotals,
}

impl DeviceRecord {
    /// A device seen for the first time at `ts`.
    pub fn new(key: DeviceKey, ts: Timestamp) -> Self {
        DeviceRecord {
            key,
            mac: match key {
                DeviceKey::Mac(m) => Some(m),
                DeviceKey::Ip(_) => None,
            },
            mac_randomized: match key {
                DeviceKey::Mac(m) => super::model::is_locally_administered(m),
                DeviceKey::Ip(_) => false,
            },
            first_seen: ts,
            last_seen: ts,
            ips: Vec::new(),
            hostnames: Vec::new(),
            vlans: Vec::new(),
            sites: Vec::new(),
            dhcp: None,
            class: DeviceClass::Unknown,
            vendor: None,
            model: None,
            firmware: None,
            confidence: 0.0,
            evidence: Vec::new(),
            traffic: TrafficTotals::default(),
        }
    }

    /// The most recently seen IP address.
    pub fn current_ip(&self) -> Option<IpAddr> {
        self.ips.iter().max_by_key(|s| s.last).map(|s| s.value)
    }

    /// The most recently seen hostname.
    pub fn current_hostname(&self) -> Option<&str> {
        self.hostnames
            .iter()
            .max_by_key(|s| s.last)
            .map(|s| s.value.as_str())
    }
}

/// One device as the operator declares it (a line of the inventory file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeclaredDevice {
    /// MAC or IP.
    pub key: Option<DeviceKey>,
    /// The expected address when the device is keyed by MAC and the file also
    /// gives an IP (`mac` and `ip` columns both filled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub site: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    pub class: Option<DeviceClass>,
    /// Network role, e.g. `nvr`, `hmi`, `broker`.
    pub role: Option<String>,
    /// `low`, `medium`, `high`, `critical`.
    pub criticality: Option<String>,
    /// End of vendor support, `YYYY-MM-DD`.
    pub support_end: Option<String>,
}

/// IP addresses kept per device record; the least recently seen is dropped beyond this.
pub const MAX_RECORD_IPS: usize = 32;
/// Hostnames kept per device record; the least recently seen is dropped beyond this.
pub const MAX_RECORD_HOSTNAMES: usize = 16;
/// VLAN ids and site names kept per device record (first ones kept).
pub const MAX_RECORD_VLANS: usize = 16;
pub const MAX_RECORD_SITES: usize = 16;
/// Classification observations kept per device record (the heaviest).
pub const MAX_RECORD_EVIDENCE: usize = 32;

impl DeviceRecord {
    /// Folds `other` (a later or parallel observation of the same device, e.g.
    /// the next analysis run) into `self`: first seen is the earliest, last
    /// seen the latest; IPs, hostnames, VLANs, sites and classification
    /// evidence are unions bounded by the `MAX_RECORD_*` limits; traffic
    /// totals add up; the class with the higher confidence wins (the newer
    /// record on a tie); vendor, model, firmware and the DHCP fingerprint come
    /// from the newer record when it has them.
    pub fn merge(&mut self, other: &DeviceRecord) {
        let other_newer = other.last_seen >= self.last_seen;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.mac = self.mac.or(other.mac);
        self.mac_randomized |= other.mac_randomized;
        merge_seen(&mut self.ips, &other.ips, MAX_RECORD_IPS);
        merge_seen(&mut self.hostnames, &other.hostnames, MAX_RECORD_HOSTNAMES);
        union_bounded(&mut self.vlans, &other.vlans, MAX_RECORD_VLANS);
        union_bounded(&mut self.sites, &other.sites, MAX_RECORD_SITES);
        if other.dhcp.is_some() && (other_newer || self.dhcp.is_none()) {
            self.dhcp.clone_from(&other.dhcp);
        }
        let other_class_wins = other.class != DeviceClass::Unknown
            && (self.class == DeviceClass::Unknown
                || other.confidence > self.confidence
                || (other.confidence == self.confidence && other_newer));
        if other_class_wins {
            self.class = other.class;
            self.confidence = other.confidence;
        }
        for (mine, theirs) in [
            (&mut self.vendor, &other.vendor),
            (&mut self.model, &other.model),
            (&mut self.firmware, &other.firmware),
        ] {
            if theirs.is_some() && (other_newer || mine.is_none()) {
                mine.clone_from(theirs);
            }
        }
        for e in &other.evidence {
            if !self
                .evidence
                .iter()
                .any(|m| m.source == e.source && m.observed == e.observed)
            {
                self.evidence.push(e.clone());
            }
        }
        self.evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        self.evidence.truncate(MAX_RECORD_EVIDENCE);
        let (t, o) = (&mut self.traffic, &other.traffic);
        t.packets_out = t.packets_out.saturating_add(o.packets_out);
        t.packets_in = t.packets_in.saturating_add(o.packets_in);
        t.bytes_out = t.bytes_out.saturating_add(o.bytes_out);
        t.bytes_in = t.bytes_in.saturating_add(o.bytes_in);
        t.conns_out = t.conns_out.saturating_add(o.conns_out);
        t.conns_in = t.conns_in.saturating_add(o.conns_in);
    }
}

/// Union of two `Seen` lists by value (earliest first, latest last); beyond
/// `max` the least recently seen values are dropped. Ordered by first sighting.
fn merge_seen<T: Clone + PartialEq>(mine: &mut Vec<Seen<T>>, theirs: &[Seen<T>], max: usize) {
    for s in theirs {
        match mine.iter_mut().find(|m| m.value == s.value) {
            Some(m) => {
                m.first = m.first.min(s.first);
                m.last = m.last.max(s.last);
            }
            None => mine.push(s.clone()),
        }
    }
    if mine.len() > max {
        mine.sort_by_key(|s| std::cmp::Reverse(s.last));
        mine.truncate(max);
    }
    mine.sort_by_key(|s| s.first);
}

fn union_bounded<T: Clone + PartialEq>(mine: &mut Vec<T>, theirs: &[T], max: usize) {
    for v in theirs {
        if mine.len() >= max {
            break;
        }
        if !mine.contains(v) {
            mine.push(v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_secs_nanos(secs, 0)
    }

    fn seen<T>(value: T, first: i64, last: i64) -> Seen<T> {
        Seen {
            value,
            first: ts(first),
            last: ts(last),
        }
    }

    fn evidence(source: EvidenceSource, observed: &str, weight: f64) -> ClassEvidence {
        ClassEvidence {
            source,
            observed: observed.to_string(),
            class: None,
            vendor: None,
            model: None,
            firmware: None,
            weight,
        }
    }

    #[test]
    fn merge_spans_times_and_unions_addresses() {
        let key: DeviceKey = "20:f8:5e:ca:91:52".parse().unwrap();
        let mut a = DeviceRecord::new(key, ts(100));
        a.last_seen = ts(200);
        a.ips = vec![seen("10.0.0.5".parse().unwrap(), 100, 200)];
        a.hostnames = vec![seen("cam-1".to_string(), 100, 200)];
        a.vlans = vec![10];
        a.traffic.packets_out = 5;
        let mut b = DeviceRecord::new(key, ts(50));
        b.last_seen = ts(300);
        b.ips = vec![
            seen("10.0.0.5".parse().unwrap(), 250, 300),
            seen("10.0.0.9".parse().unwrap(), 280, 290),
        ];
        b.vlans = vec![10, 20];
        b.traffic.packets_out = 7;
        a.merge(&b);
        assert_eq!((a.first_seen, a.last_seen), (ts(50), ts(300)));
        assert_eq!(a.ips.len(), 2);
        assert_eq!(a.ips[0].first, ts(100));
        assert_eq!(a.ips[0].last, ts(300));
        assert_eq!(a.current_ip(), Some("10.0.0.5".parse().unwrap()));
        assert_eq!(a.hostnames.len(), 1);
        assert_eq!(a.vlans, vec![10, 20]);
        assert_eq!(a.traffic.packets_out, 12);
    }

    #[test]
    fn merge_keeps_the_confident_class_and_the_newest_firmware() {
        let key: DeviceKey = "10.1.2.3".parse().unwrap();
        let mut old = DeviceRecord::new(key, ts(100));
        old.class = DeviceClass::Camera;
        old.confidence = 0.9;
        old.firmware = Some("1.0".into());
        old.vendor = Some("Axis".into());
        old.evidence = vec![evidence(EvidenceSource::Oui, "oui=axis", 0.5)];
        let mut new = DeviceRecord::new(key, ts(500));
        new.class = DeviceClass::Computer;
        new.confidence = 0.4;
        new.firmware = Some("2.0".into());
        new.evidence = vec![
            evidence(EvidenceSource::Oui, "oui=axis", 0.5),
            evidence(EvidenceSource::HttpUserAgent, "ua=curl", 0.7),
        ];
        old.merge(&new);
        assert_eq!(old.class, DeviceClass::Camera);
        assert_eq!(old.confidence, 0.9);
        assert_eq!(old.firmware.as_deref(), Some("2.0"));
        assert_eq!(
            old.vendor.as_deref(),
            Some("Axis"),
            "kept when the newer has none"
        );
        assert_eq!(
            old.evidence.len(),
            2,
            "deduplicated by source and observation"
        );
        assert_eq!(old.evidence[0].observed, "ua=curl", "heaviest first");

        let mut unknown = DeviceRecord::new(key, ts(0));
        unknown.merge(&new);
        assert_eq!(unknown.class, DeviceClass::Computer);
    }

    #[test]
    fn merge_is_bounded() {
        let key: DeviceKey = "10.1.2.3".parse().unwrap();
        let mut a = DeviceRecord::new(key, ts(0));
        for round in 0..3i64 {
            let mut b = DeviceRecord::new(key, ts(round));
            for i in 0..40i64 {
                let t = round * 100 + i;
                b.ips.push(seen(
                    std::net::IpAddr::from([10, 0, round as u8, i as u8]),
                    t,
                    t,
                ));
                b.hostnames.push(seen(format!("h{round}-{i}"), t, t));
                b.vlans.push((round * 100 + i) as u16);
                b.evidence
                    .push(evidence(EvidenceSource::Domain, &format!("d{t}"), t as f64));
            }
            a.merge(&b);
        }
        assert_eq!(a.ips.len(), MAX_RECORD_IPS);
        assert_eq!(a.hostnames.len(), MAX_RECORD_HOSTNAMES);
        assert_eq!(a.vlans.len(), MAX_RECORD_VLANS);
        assert_eq!(a.evidence.len(), MAX_RECORD_EVIDENCE);
        // The most recently seen addresses survive.
        assert_eq!(a.current_ip(), Some(std::net::IpAddr::from([10, 0, 2, 39])));
        assert!(a.ips.iter().all(|s| s.last >= ts(200)));
    }

    #[test]
    fn device_record_json_round_trip() {
        let key: DeviceKey = "02:1a:00:00:00:01".parse().unwrap();
        let mut d = DeviceRecord::new(key, Timestamp::from_secs_nanos(1_700_000_000, 500_000_000));
        d.ips.push(Seen {
            value: "10.0.0.5".parse().unwrap(),
            first: d.first_seen,
            last: d.first_seen,
        });
        d.class = DeviceClass::Camera;
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"key\":\"02:1a:00:00:00:01\""), "{json}");
        assert!(json.contains("\"class\":\"camera\""), "{json}");
        assert!(json.contains("\"first_seen\":1700000000.5"), "{json}");
        let back: DeviceRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(back.mac_randomized);
        assert_eq!(back.current_ip(), Some("10.0.0.5".parse().unwrap()));
    }
}
