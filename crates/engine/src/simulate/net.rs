//! The simulated network: the LAN plan, infrastructure hosts and internet addresses.
//!
//! The LAN is 10.0.0.0/16. Fixed infrastructure lives in 10.0.0.0/24
//! (gateway = DHCP server and DNS resolver, MQTT broker, NVR, HMI, clinical
//! interface engine); DHCP hands out 10.0.1.10 upwards. Internet names resolve
//! to stable public addresses derived from the seed and the name, so the same
//! name always maps to the same address within a run. Internet hosts appear on
//! the LAN behind the gateway's MAC.

use std::net::Ipv4Addr;

use super::rng::{hash_bytes, SimRng};
use super::wire::Mac;

pub const GATEWAY_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const BROKER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const NVR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
pub const HMI_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 4);
pub const CLINICAL_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
pub const SSDP_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
pub const MDNS_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
/// Devices DHCP can hand out before the pool wraps (10.0.1.10 … 10.0.200.250).
pub const DHCP_POOL_SIZE: usize = 200 * 241;

/// One end of a conversation as seen on the LAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// The MAC on the wire: the host's own on the LAN, the gateway's for internet hosts.
    pub mac: Mac,
    pub ip: Ipv4Addr,
    /// IPv4 TTL of packets from this host as they reach the capture point.
    pub ttl: u8,
}

/// The address DHCP leases to the `n`-th client.
pub fn lease_ip(n: usize) -> Ipv4Addr {
    let n = n % DHCP_POOL_SIZE;
    let third = 1 + n / 241;
    let fourth = 10 + n % 241;
    Ipv4Addr::new(10, 0, third as u8, fourth as u8)
}

pub fn is_lan(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    a == 10 && b == 0
}

/// A MAC with the given OUI and the low three bytes from `rng`.
pub fn mac_with_oui(oui: [u8; 3], rng: &mut SimRng) -> Mac {
    let [a, b, c] = oui;
    let [d, e, f] = rng.bytes::<3>();
    [a, b, c, d, e, f]
}

/// A random locally administered unicast MAC (phones' private addresses).
pub fn private_mac(rng: &mut SimRng) -> Mac {
    let mut m = rng.bytes::<6>();
    if let Some(first) = m.first_mut() {
        *first = (*first & 0xfc) | 0x02;
    }
    m
}

pub fn mac_string(mac: &Mac) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// First octets of large, real, publicly routed blocks (cloud and CDN providers).
const PUBLIC_FIRST_OCTETS: [u8; 16] = [
    3, 13, 18, 20, 23, 34, 35, 44, 52, 54, 104, 142, 151, 157, 185, 199,
];

/// A stable public address for `name` (index `k` among its addresses).
pub fn public_ip(seed: u64, name: &str, k: u64) -> Ipv4Addr {
    let h = hash_bytes(seed ^ k.wrapping_mul(0x51_7CC1_B727_220A), name.as_bytes());
    public_from_hash(h)
}

/// A public address from 64 random bits.
pub fn public_from_hash(h: u64) -> Ipv4Addr {
    let first = PUBLIC_FIRST_OCTETS
        .get((h % 16) as usize)
        .copied()
        .unwrap_or(52);
    let b = (h >> 8) as u8;
    let c = (h >> 16) as u8;
    let d = ((h >> 24) as u8).clamp(1, 254);
    Ipv4Addr::new(first, b, c, d)
}

/// An internet host as seen on the LAN (behind the gateway MAC).
pub fn internet_host(gateway_mac: Mac, ip: Ipv4Addr) -> Host {
    let hops = (u32::from(ip) % 12) as u8;
    Host {
        mac: gateway_mac,
        ip,
        ttl: 52 - hops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_stay_in_the_lan_and_avoid_infrastructure() {
        for n in [0, 1, 240, 241, 5000, DHCP_POOL_SIZE - 1] {
            let ip = lease_ip(n);
            assert!(is_lan(ip));
            assert_ne!(ip.octets()[2], 0);
            assert!(ip.octets()[3] >= 10 && ip.octets()[3] <= 250);
        }
        assert_ne!(lease_ip(0), lease_ip(1));
    }

    #[test]
    fn public_addresses_are_stable_and_public() {
        let a = public_ip(1, "example.com", 0);
        assert_eq!(a, public_ip(1, "example.com", 0));
        assert_ne!(a, public_ip(1, "example.org", 0));
        for i in 0..1000u64 {
            let ip = public_from_hash(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            assert!(!ip.is_private() && !ip.is_loopback() && !ip.is_multicast());
        }
    }

    #[test]
    fn private_macs_are_locally_administered_unicast() {
        let mut r = SimRng::new(3);
        let m = private_mac(&mut r);
        assert_eq!(m[0] & 0x03, 0x02);
        assert_eq!(
            mac_string(&[0, 0x1b, 0x1b, 1, 2, 0xff]),
            "00:1b:1b:01:02:ff"
        );
    }
}
