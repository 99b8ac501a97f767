//! Device identity: decoded packets, connection records and protocol records
//! in → one [`DeviceRecord`] per device (inventory), identity findings out.
//!
//! A device is keyed by its MAC on local segments and by its IP on routed
//! fleet subnets ([`DeviceKey`]). Classification ([`DeviceClass`]) comes from
//! passive evidence (OUI vendor, DHCP fingerprint, mDNS/SSDP, user agents,
//! TLS fingerprints, MQTT client ids, vendor domains) and from the operator's
//! declared inventory.

pub mod model;
pub mod reconcile;
pub mod record;

pub use model::{DeviceClass, DeviceKey, ParseDeviceClassError, ParseDeviceKeyError};
pub use record::{
    ClassEvidence, DeclaredDevice, DeviceRecord, DhcpFingerprint, EvidenceSource, Seen,
    TrafficTotals,
};
