//! The vocabulary shared by identity, the store, detectors and the CLI: how a
//! device is keyed and which classes a device can belong to.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::decode::MacAddr;

/// How a device is named: by MAC on local segments, by IP behind a router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeviceKey {
    Mac(MacAddr),
    Ip(IpAddr),
}

/// Hashes as one integer (the identity stage looks a key up per packet;
/// the derived impl hashed a discriminant, a length and a byte slice).
impl std::hash::Hash for DeviceKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            DeviceKey::Mac(m) => {
                let [a, b, c, d, e, f] = m.0;
                state.write_u64(u64::from_be_bytes([0, 1, a, b, c, d, e, f]));
            }
            DeviceKey::Ip(IpAddr::V4(a)) => state.write_u64((2 << 48) | u64::from(u32::from(*a))),
            DeviceKey::Ip(IpAddr::V6(a)) => state.write_u128(u128::from(*a)),
        }
    }
}

impl fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKey::Mac(m) => m.fmt(f),
            DeviceKey::Ip(ip) => ip.fmt(f),
        }
    }
}

/// A device key that is neither a MAC nor an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither a MAC address (aa:bb:cc:dd:ee:ff) nor an IP address")]
pub struct ParseDeviceKeyError(pub String);

impl FromStr for DeviceKey {
    type Err = ParseDeviceKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(mac) = parse_mac(s) {
            return Ok(DeviceKey::Mac(mac));
        }
        s.parse::<IpAddr>()
            .map(DeviceKey::Ip)
            .map_err(|_| ParseDeviceKeyError(s.to_string()))
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` or `aabb.ccdd.eeff`
/// (any case); `None` for anything else.
pub fn parse_mac(s: &str) -> Option<MacAddr> {
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    let separators = s.len() - hex.len();
    if hex.len() != 12 || !(separators == 0 || separators == 5 || separators == 2) {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = hex.get(i * 2..i * 2 + 2)?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(MacAddr(out))
}

/// True for locally administered MACs (bit 1 of the first octet): randomized
/// phone MACs, virtual machines, cloned addresses.
pub fn is_locally_administered(mac: MacAddr) -> bool {
    mac.0[0] & 0x02 != 0
}

/// True for group (multicast/broadcast) MACs, which never name a device.
pub fn is_group(mac: MacAddr) -> bool {
    mac.0[0] & 0x01 != 0
}

macro_rules! device_classes {
    ($( $variant:ident => $name:literal, )*) => {
        /// What kind of device this is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub enum DeviceClass {
            $( $variant, )*
            #[default]
            Unknown,
        }

        impl DeviceClass {
            /// Every class, `Unknown` last.
            pub const ALL: &'static [DeviceClass] = &[$( DeviceClass::$variant, )* DeviceClass::Unknown];

            /// The name used in files, logs and the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( DeviceClass::$variant => $name, )*
                    DeviceClass::Unknown => "unknown",
                }
            }
        }

        impl FromStr for DeviceClass {
            type Err = ParseDeviceClassError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
                    $( $name => Ok(DeviceClass::$variant), )*
                    "unknown" | "" => Ok(DeviceClass::Unknown),
                    _ => Err(ParseDeviceClassError(s.to_string())),
                }
            }
        }
    };
}

device_classes! {
    Camera => "camera",
    Plug => "plug",
    Thermostat => "thermostat",
    VoiceAssistant => "voice_assistant",
    Hub => "hub",
    Plc => "plc",
    Hmi => "hmi",
    Medical => "medical",
    Printer => "printer",
    Computer => "computer",
    Phone => "phone",
    Sensor => "sensor",
    Appliance => "appliance",
    Network => "network",
}

impl fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A class name that is not one of [`DeviceClass::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device class `{0}` (expected one of: camera, plug, thermostat, voice_assistant, hub, plc, hmi, medical, printer, computer, phone, sensor, appliance, network, unknown)")]
pub struct ParseDeviceClassError(pub String);

impl serde::Serialize for DeviceClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DeviceClass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for DeviceKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_forms_parse_and_print_canonically() {
        for s in [
            "20:F8:5E:CA:91:52",
            "20-f8-5e-ca-91-52",
            "20f8.5eca.9152",
            "20f85eca9152",
        ] {
            let key: DeviceKey = s.parse().unwrap();
            assert_eq!(key.to_string(), "20:f8:5e:ca:91:52", "{s}");
        }
        assert!(parse_mac("20:f8:5e:ca:91").is_none());
        assert!(parse_mac("20:f8:5e:ca:91:5g").is_none());
        assert!(parse_mac("20:f8:5e:ca:91:52:00").is_none());
    }

    #[test]
    fn ip_keys_and_errors() {
        assert_eq!(
            "10.0.0.7".parse::<DeviceKey>().unwrap(),
            DeviceKey::Ip("10.0.0.7".parse().unwrap())
        );
        let err = "printer-3".parse::<DeviceKey>().unwrap_err();
        assert!(err.to_string().contains("printer-3"));
    }

    #[test]
    fn classes_round_trip_and_accept_spelling_variants() {
        for c in DeviceClass::ALL {
            assert_eq!(c.as_str().parse::<DeviceClass>().unwrap(), *c);
        }
        assert_eq!(
            "Voice Assistant".parse::<DeviceClass>().unwrap(),
            DeviceClass::VoiceAssistant
        );
        assert!("toaster".parse::<DeviceClass>().is_err());
    }

    #[test]
    fn mac_bits() {
        assert!(is_locally_administered(
            parse_mac("02:00:00:00:00:01").unwrap()
        ));
        assert!(!is_locally_administered(
            parse_mac("20:f8:5e:ca:91:52").unwrap()
        ));
        assert!(is_group(parse_mac("01:00:5e:00:00:fb").unwrap()));
    }
}
