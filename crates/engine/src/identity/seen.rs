//! A stage-wide cache of observations recently handled (a hash of who and
//! what: address or device, field, value), so a repeated DNS query, MQTT
//! topic or TLS server name costs one probe instead of the binding and
//! device lookups. Direct-mapped, [`SEEN_CACHE_SLOTS`] slots; a collision
//! only costs a recomputation (the device's own memo still dedupes). Cleared
//! whenever an IP binding changes, because "who" in a key may be an address.

use std::net::IpAddr;

/// Slots of the cache (a power of two; 32 KiB).
pub const SEEN_CACHE_SLOTS: usize = 4096;

#[derive(Debug, Clone)]
pub struct SeenCache {
    slots: Vec<u64>,
}

impl Default for SeenCache {
    fn default() -> Self {
        SeenCache {
            slots: vec![0; SEEN_CACHE_SLOTS],
        }
    }
}

impl SeenCache {
    /// True when `hash` was not in the cache (it is now).
    pub fn insert(&mut self, hash: u64) -> bool {
        let hash = hash | 1; // 0 marks an empty slot
        let i = (hash >> 7) as usize & (SEEN_CACHE_SLOTS - 1);
        match self.slots.get_mut(i) {
            Some(s) if *s == hash => false,
            Some(s) => {
                *s = hash;
                true
            }
            None => true,
        }
    }

    pub fn clear(&mut self) {
        self.slots.fill(0);
    }
}

/// Mixes the hash of an observation with who made it.
pub fn with_address(hash: u64, ip: IpAddr) -> u64 {
    let bits = match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a) ^ (1 << 127),
    };
    mix(hash, (bits as u64) ^ ((bits >> 64) as u64).rotate_left(17))
}

/// Mixes two 64-bit values (a multiply-xorshift, as in splitmix64).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_cleared_or_overwritten() {
        let mut c = SeenCache::default();
        let a = with_address(42, "10.0.0.1".parse().unwrap());
        let b = with_address(42, "10.0.0.2".parse().unwrap());
        assert_ne!(a, b);
        assert!(c.insert(a));
        assert!(!c.insert(a));
        assert!(c.insert(b));
        c.clear();
        assert!(c.insert(a));
    }
}
