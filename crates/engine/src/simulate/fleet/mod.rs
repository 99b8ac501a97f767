//! The fleet: device classes, vendor profiles and the per-device runtime state.
//!
//! Seed and fleet size in → a list of [`Device`]s, each bound to a
//! [`VendorProfile`] from the [`catalog`] (MAC OUI, DHCP fingerprint, TCP
//! stack, TLS client, cloud destinations, protocols it speaks). The first
//! devices cover every class once, the rest follow class weights, so a fleet
//! of ten or more holds every class.

pub mod catalog;
pub mod tls_profiles;

use std::net::Ipv4Addr;

use serde::Serialize;

use super::emit::Micros;
use super::net::{lease_ip, mac_string, mac_with_oui, private_mac, Host};
use super::proto::tls::ClientProfile;
use super::rng::SimRng;
use super::tcp::{TcpSession, TcpStack};
use super::wire::Mac;

/// What kind of device a host is. Serialized in snake_case (`ip_camera`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    IpCamera,
    SmartPlug,
    Thermostat,
    VoiceAssistant,
    Hub,
    Plc,
    InfusionPump,
    Printer,
    Laptop,
    Phone,
    /// A device nobody enrolled (rogue).
    Unknown,
    Gateway,
    MqttBroker,
    Nvr,
    Hmi,
    ClinicalGateway,
}

impl DeviceClass {
    /// The classes a fleet is made of (infrastructure and rogue devices excluded).
    pub const FLEET: [DeviceClass; 10] = [
        DeviceClass::IpCamera,
        DeviceClass::SmartPlug,
        DeviceClass::Thermostat,
        DeviceClass::VoiceAssistant,
        DeviceClass::Hub,
        DeviceClass::Plc,
        DeviceClass::InfusionPump,
        DeviceClass::Printer,
        DeviceClass::Laptop,
        DeviceClass::Phone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::IpCamera => "ip_camera",
            DeviceClass::SmartPlug => "smart_plug",
            DeviceClass::Thermostat => "thermostat",
            DeviceClass::VoiceAssistant => "voice_assistant",
            DeviceClass::Hub => "hub",
            DeviceClass::Plc => "plc",
            DeviceClass::InfusionPump => "infusion_pump",
            DeviceClass::Printer => "printer",
            DeviceClass::Laptop => "laptop",
            DeviceClass::Phone => "phone",
            DeviceClass::Unknown => "unknown",
            DeviceClass::Gateway => "gateway",
            DeviceClass::MqttBroker => "mqtt_broker",
            DeviceClass::Nvr => "nvr",
            DeviceClass::Hmi => "hmi",
            DeviceClass::ClinicalGateway => "clinical_gateway",
        }
    }

    /// The inventory class ([`crate::identity::DeviceClass`]) this simulated
    /// class should be identified as. Servers of the infrastructure (MQTT
    /// broker, NVR) are general-purpose computers; rogue devices are unknown.
    pub fn identity_class(self) -> crate::identity::DeviceClass {
        use crate::identity::DeviceClass as C;
        match self {
            DeviceClass::IpCamera => C::Camera,
            DeviceClass::SmartPlug => C::Plug,
            DeviceClass::Thermostat => C::Thermostat,
            DeviceClass::VoiceAssistant => C::VoiceAssistant,
            DeviceClass::Hub => C::Hub,
            DeviceClass::Plc => C::Plc,
            DeviceClass::InfusionPump | DeviceClass::ClinicalGateway => C::Medical,
            DeviceClass::Printer => C::Printer,
            DeviceClass::Laptop | DeviceClass::MqttBroker | DeviceClass::Nvr => C::Computer,
            DeviceClass::Phone => C::Phone,
            DeviceClass::Unknown => C::Unknown,
            DeviceClass::Gateway => C::Network,
            DeviceClass::Hmi => C::Hmi,
        }
    }

    /// Relative share of the class in a fleet beyond the first ten devices.
    fn weight(self) -> u64 {
        match self {
            DeviceClass::IpCamera => 12,
            DeviceClass::SmartPlug => 16,
            DeviceClass::Thermostat => 6,
            DeviceClass::VoiceAssistant => 7,
            DeviceClass::Hub => 4,
            DeviceClass::Plc => 6,
            DeviceClass::InfusionPump => 9,
            DeviceClass::Printer => 4,
            DeviceClass::Laptop => 16,
            DeviceClass::Phone => 20,
            _ => 0,
        }
    }

    /// Whether people drive the device (activity drops at night).
    pub fn follows_people(self) -> bool {
        matches!(
            self,
            DeviceClass::Laptop
                | DeviceClass::Phone
                | DeviceClass::VoiceAssistant
                | DeviceClass::Printer
        )
    }
}

/// How a device names itself in DHCP option 12.
#[derive(Debug, Clone, Copy)]
pub enum HostnameStyle {
    Fixed(&'static str),
    /// Prefix followed by the last `n` hex digits of the MAC (upper case when `upper`).
    MacSuffix {
        prefix: &'static str,
        digits: usize,
        upper: bool,
    },
    /// Prefix followed by `n` random upper-case letters and digits (Windows).
    Random {
        prefix: &'static str,
        len: usize,
    },
}

/// Local MQTT telemetry a device publishes.
#[derive(Debug, Clone, Copy)]
pub struct MqttProfile {
    pub version: u8,
    /// Topic with `{host}` standing for the device's host name.
    pub topic: &'static str,
    pub period_s: f64,
    pub username: Option<&'static str>,
    pub qos: u8,
    /// Topic the device subscribes to for commands, if any.
    pub command_topic: Option<&'static str>,
}

/// Service discovery announcements a device sends.
#[derive(Debug, Clone, Copy)]
pub struct DiscoveryProfile {
    /// SSDP `SERVER` header; `None` when the device does not speak SSDP.
    pub ssdp_server: Option<&'static str>,
    /// mDNS service type (e.g. `_ipp._tcp.local`) and port; `None` without mDNS.
    pub mdns_service: Option<(&'static str, u16)>,
    pub period_s: f64,
}

/// Everything that makes one vendor's model look and behave like itself.
#[derive(Debug)]
pub struct VendorProfile {
    pub class: DeviceClass,
    pub vendor: &'static str,
    pub model: &'static str,
    /// `None`: the device uses a random private (locally administered) MAC.
    pub oui: Option<[u8; 3]>,
    pub hostname: HostnameStyle,
    pub dhcp_vendor_class: Option<&'static str>,
    pub dhcp_params: &'static [u8],
    pub dhcp_max_size: Option<u16>,
    pub tcp: TcpStack,
    pub ttl: u8,
    pub user_agent: &'static str,
    /// TLS destinations (vendor cloud, or sites people visit).
    pub cloud: &'static [&'static str],
    /// Plain-HTTP check (connectivity probe or vendor check-in): host, path.
    pub http_check: Option<(&'static str, &'static str)>,
    /// Firmware server host and path; `{v}` stands for the version.
    pub firmware: (&'static str, &'static str),
    pub firmware_versions: (&'static str, &'static str),
    pub tls: &'static ClientProfile,
    /// NTP server name; `None` means the gateway's NTP.
    pub ntp: Option<&'static str>,
    pub ntp_period_s: f64,
    pub mqtt: Option<MqttProfile>,
    pub discovery: DiscoveryProfile,
    /// Whether the resolver stub caches answers (many IoT stacks do not).
    pub dns_cache: bool,
    /// Whether it asks AAAA alongside A.
    pub dns_aaaa: bool,
}

/// A persistent TCP connection a device keeps (MQTT to the broker, Modbus from the HMI).
pub struct Persistent {
    pub tcp: TcpSession,
    pub messages_left: u32,
    pub next_id: u16,
}

/// Bound on cached DNS answers per device (oldest replaced first).
pub const MAX_DNS_CACHE: usize = 32;

/// One simulated device and what it remembers between events.
pub struct Device {
    pub index: usize,
    pub profile: &'static VendorProfile,
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub hostname: String,
    pub rng: SimRng,
    pub next_port: u16,
    pub dns_cache: Vec<(u64, Micros)>,
    pub mqtt: Option<Persistent>,
    pub modbus: Option<Persistent>,
    pub firmware_version: &'static str,
}

impl Device {
    pub fn new(
        index: usize,
        profile: &'static VendorProfile,
        ip: Ipv4Addr,
        mut rng: SimRng,
    ) -> Self {
        let mac = match profile.oui {
            Some(oui) => mac_with_oui(oui, &mut rng),
            None => private_mac(&mut rng),
        };
        let hostname = make_hostname(profile.hostname, &mac, &mut rng);
        let (lo, hi) = if profile.ttl == 128 {
            (49_152, 65_000)
        } else {
            (32_768, 60_000)
        };
        let next_port = rng.range(lo, hi) as u16;
        Device {
            index,
            profile,
            mac,
            ip,
            hostname,
            rng,
            next_port,
            dns_cache: Vec::new(),
            mqtt: None,
            modbus: None,
            firmware_version: profile.firmware_versions.0,
        }
    }

    pub fn class(&self) -> DeviceClass {
        self.profile.class
    }

    pub fn host(&self) -> Host {
        Host {
            mac: self.mac,
            ip: self.ip,
            ttl: self.profile.ttl,
        }
    }

    /// The next ephemeral source port (sequential, as most stacks allocate them).
    pub fn ephemeral_port(&mut self) -> u16 {
        let p = self.next_port;
        let (lo, hi) = if self.profile.ttl == 128 {
            (49_152u16, 65_500u16)
        } else {
            (32_768u16, 60_999u16)
        };
        self.next_port = if p >= hi {
            lo
        } else {
            p + 1 + (self.rng.below(3) as u16)
        };
        p
    }

    pub fn mac_string(&self) -> String {
        mac_string(&self.mac)
    }
}

fn make_hostname(style: HostnameStyle, mac: &Mac, rng: &mut SimRng) -> String {
    match style {
        HostnameStyle::Fixed(s) => s.to_string(),
        HostnameStyle::MacSuffix {
            prefix,
            digits,
            upper,
        } => {
            let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
            let tail = hex
                .get(hex.len().saturating_sub(digits)..)
                .unwrap_or_default();
            if upper {
                format!("{prefix}{}", tail.to_uppercase())
            } else {
                format!("{prefix}{tail}")
            }
        }
        HostnameStyle::Random { prefix, len } => {
            const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let tail: String = (0..len)
                .map(|_| char::from(ALNUM.get(rng.below(ALNUM.len())).copied().unwrap_or(b'X')))
                .collect();
            format!("{prefix}{tail}")
        }
    }
}

/// Picks the vendor profiles of an `n`-device fleet: every class once, then by weight.
pub fn compose(n: usize, rng: &mut SimRng) -> Vec<&'static VendorProfile> {
    let total: u64 = DeviceClass::FLEET.iter().map(|c| c.weight()).sum();
    (0..n)
        .map(|i| {
            let class = match DeviceClass::FLEET.get(i) {
                Some(c) => *c,
                None => {
                    let mut x = rng.range(0, total - 1);
                    let mut chosen = DeviceClass::Phone;
                    for c in DeviceClass::FLEET {
                        if x < c.weight() {
                            chosen = c;
                            break;
                        }
                        x -= c.weight();
                    }
                    chosen
                }
            };
            let vendors = catalog::vendors(class);
            let k = if i < DeviceClass::FLEET.len() {
                0
            } else {
                rng.below(vendors.len())
            };
            vendors.get(k).copied().unwrap_or(&catalog::ROGUE)
        })
        .collect()
}

/// Builds the fleet: profiles, MACs, host names and leased addresses.
pub fn build(n: usize, seed: u64) -> Vec<Device> {
    let mut rng = SimRng::derive(seed, "fleet", 0);
    let mut used = std::collections::BTreeSet::new();
    compose(n, &mut rng)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut d = Device::new(i, p, lease_ip(i), SimRng::derive(seed, "device", i as u64));
            // Random MAC suffixes can collide in big fleets: bump the last byte until unique.
            while !used.insert(d.mac) {
                if let Some(last) = d.mac.last_mut() {
                    *last = last.wrapping_add(1);
                }
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_devices_cover_every_class() {
        let fleet = build(10, 1);
        let mut classes: Vec<_> = fleet.iter().map(|d| d.class()).collect();
        classes.sort();
        classes.dedup();
        assert_eq!(classes.len(), 10);
    }

    #[test]
    fn hostnames_follow_the_vendor_style() {
        let mac = [0x00, 0x80, 0x77, 0x5a, 0x1b, 0x2c];
        let mut rng = SimRng::new(1);
        let s = make_hostname(
            HostnameStyle::MacSuffix {
                prefix: "BRW",
                digits: 12,
                upper: true,
            },
            &mac,
            &mut rng,
        );
        assert_eq!(s, "BRW0080775A1B2C");
        let w = make_hostname(
            HostnameStyle::Random {
                prefix: "DESKTOP-",
                len: 7,
            },
            &mac,
            &mut rng,
        );
        assert_eq!(w.len(), 15);
    }

    #[test]
    fn macs_and_ips_are_unique_in_a_large_fleet() {
        let fleet = build(500, 9);
        let mut macs: Vec<_> = fleet.iter().map(|d| d.mac).collect();
        macs.sort();
        macs.dedup();
        assert_eq!(macs.len(), 500);
        let mut ips: Vec<_> = fleet.iter().map(|d| d.ip).collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), 500);
    }
}
