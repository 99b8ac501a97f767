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

#[cfg(test)]
mod tests {
    use super::*;

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
