//! `simulate`: a seeded generator of an IoT fleet capture and its ground truth.
//!
//! A [`SimConfig`] (fleet size, duration, seed, attacks) in → Ethernet frames
//! in non-decreasing time order pushed into a [`Sink`], plus a [`SimSummary`]
//! with the truth records (CONTRACTS.md `truth.jsonl`) and the device list.
//! Pure: no files, no wall clock; the same config gives byte-identical output.
//!
//! The simulation is event driven: every device has recurring activities
//! ([`benign`]) and every attack is a chain of steps ([`attacks`]) in one
//! time-ordered event queue; packets of sessions that span time wait in a
//! small pending queue ([`emit`]), so memory stays bounded by the sessions in
//! progress, never by the capture. Limits: [`MAX_DEVICES`], [`MAX_HOURS`].

mod attacks;
mod benign;
mod emit;
mod fleet;
mod net;
mod net_services;
pub mod pcap_out;
mod proto;
mod rng;
mod run;
mod tcp;
mod wire;

use std::net::Ipv4Addr;

use serde::Serialize;
use thiserror::Error;

pub use attacks::{AttackKind, ParseAttackError};
pub use fleet::DeviceClass;

use crate::sink::Sink;
use crate::time::Timestamp;

/// Default capture start: 2023-11-14T22:13:20Z.
pub const DEFAULT_START_SECS: i64 = 1_700_000_000;
/// Largest fleet: the DHCP pool of the simulated LAN.
pub const MAX_DEVICES: usize = 20_000;
/// Longest capture the simulator accepts (one year).
pub const MAX_HOURS: f64 = 24.0 * 366.0;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub devices: usize,
    pub hours: f64,
    pub seed: u64,
    /// Attack kinds to inject; empty means a benign-only capture.
    pub attacks: Vec<AttackKind>,
    /// Packet time of the capture start.
    pub start: Timestamp,
}

impl SimConfig {
    pub fn new(devices: usize, hours: f64, seed: u64) -> Self {
        SimConfig {
            devices,
            hours,
            seed,
            attacks: Vec::new(),
            start: Timestamp::from_secs_nanos(DEFAULT_START_SECS, 0),
        }
    }

    pub fn with_attacks(mut self, attacks: Vec<AttackKind>) -> Self {
        self.attacks = attacks;
        self
    }

    /// Checks the bounds; the message names the field and the accepted range.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.devices == 0 || self.devices > MAX_DEVICES {
            return Err(SimError::Devices {
                got: self.devices,
                max: MAX_DEVICES,
            });
        }
        if !self.hours.is_finite() || self.hours <= 0.0 || self.hours > MAX_HOURS {
            return Err(SimError::Hours {
                got: self.hours,
                max: MAX_HOURS,
            });
        }
        Ok(())
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig::new(20, 1.0, 1)
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    #[error("--devices {got} is out of range: use 1 to {max}")]
    Devices { got: usize, max: usize },
    #[error("--hours {got} is out of range: use a number above 0 and at most {max}")]
    Hours { got: f64, max: f64 },
}

/// One generated packet: capture time and the complete Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPacket {
    pub ts: Timestamp,
    pub frame: Vec<u8>,
}

/// One line of `truth.jsonl` (field names and meaning fixed by CONTRACTS.md).
/// Reading accepts files written by other tools: lists and notes may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TruthRecord {
    pub id: String,
    pub kind: String,
    /// MACs of the devices that carried out the attack (or were cloned).
    #[serde(default)]
    pub devices: Vec<String>,
    #[serde(default)]
    pub ips: Vec<String>,
    /// First and last packet time of the attack, seconds since the epoch.
    pub start: f64,
    pub end: f64,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

/// A device of the simulated LAN as the simulator knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimDevice {
    pub mac: String,
    pub ip: Ipv4Addr,
    pub class: DeviceClass,
    pub vendor: &'static str,
    pub model: &'static str,
    pub hostname: String,
    /// False for devices an attack brought onto the LAN (rogue hosts).
    pub enrolled: bool,
}

/// What a run produced besides the packets.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSummary {
    /// Sorted by start time; ids `a1`, `a2`, … in that order.
    pub truth: Vec<TruthRecord>,
    pub packets: u64,
    /// Sum of frame lengths.
    pub bytes: u64,
    /// The fleet (enrolled devices first, then rogue devices).
    pub devices: Vec<SimDevice>,
    /// Gateway, MQTT broker, NVR, HMI, clinical interface engine.
    pub infrastructure: Vec<SimDevice>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
}

/// Generates the capture for `cfg` into `out` and returns the truth and the device list.
pub fn simulate(cfg: &SimConfig, out: &mut impl Sink<SimPacket>) -> Result<SimSummary, SimError> {
    cfg.validate()?;
    Ok(run::run(cfg, out))
}
