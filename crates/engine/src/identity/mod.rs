//! Device identity: decoded packets, connection records and protocol records
//! in → one [`DeviceRecord`] per device (inventory), identity findings out.
//!
//! A device is keyed by its MAC on local segments and by its IP on routed
//! fleet subnets ([`DeviceKey`]). Classification ([`DeviceClass`]) comes from
//! passive evidence (OUI vendor, DHCP fingerprint, mDNS/SSDP, user agents,
//! TLS server names, MQTT client ids, vendor domains, services offered) and
//! from the operator's declared inventory.
//!
//! Files, in the order data flows: `config` (site settings, named limits),
//! `stage` (the [`IdentityStage`]: packets, device table), `bindings` (MAC ↔
//! IP, conflicts), `signals` (conn and protocol records → hints),
//! `fingerprints` + `rules.txt` (the rule table), `oui` (IEEE registry),
//! `classify` (weighted vote), `findings` (→ [`Evidence`](crate::evidence::Evidence)),
//! `table` and `bounded` (per-device state, bounded maps), `memo` and `seen`
//! (the per-packet and per-record shortcuts), `nets` (address placement),
//! `counters`, `text`.

mod bindings;
pub mod bounded;
pub mod classify;
pub mod config;
pub mod counters;
mod discovery;
pub mod findings;
pub mod fingerprints;
pub mod memo;
pub mod model;
pub mod nets;
pub mod oui;
pub mod reconcile;
pub mod record;
pub mod seen;
mod segment;
mod signals;
pub mod stage;
pub mod table;
pub mod text;

pub use config::{IdentityConfig, MAX_DEVICES};
pub use counters::IdentityCounters;
pub use model::{DeviceClass, DeviceKey, ParseDeviceClassError, ParseDeviceKeyError};
pub use record::{
    ClassEvidence, DeclaredDevice, DeviceRecord, DhcpFingerprint, EvidenceSource, Seen,
    TrafficTotals,
};
pub use stage::IdentityStage;
