//! Deterministic connection uids: (flow key, first packet time, seed) in →
//! `C` + base62 of a 96-bit hash out, like Zeek's `C…` uids but stable: the
//! same capture and seed always give the same uids.
//!
//! The hash is a small splitmix64-style mixer written here, because std's
//! `DefaultHasher` may change between Rust releases. A `salt` separates two
//! connections on one 5-tuple that start at the same instant (port reuse
//! within one timestamp): [`RecentRemovals`] remembers the last
//! [`RECENT_REMOVALS`] removed connections (direct-mapped by key).
#![deny(clippy::indexing_slicing)]

use super::key::FlowKey;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Absorbs 64-bit words into two independent lanes.
struct Hasher96 {
    a: u64,
    b: u64,
}

impl Hasher96 {
    fn new(seed: u64) -> Self {
        Hasher96 {
            a: mix(seed ^ GOLDEN),
            b: mix(seed.wrapping_add(GOLDEN.wrapping_mul(3))),
        }
    }

    fn word(&mut self, w: u64) {
        self.a = mix(self.a.wrapping_add(GOLDEN) ^ w);
        self.b = mix(self.b ^ w.rotate_left(29).wrapping_add(GOLDEN.wrapping_mul(5)));
    }

    fn finish(&self) -> u128 {
        let hi = mix(self.a ^ self.b.rotate_left(17));
        let lo = mix(self.b ^ self.a.rotate_left(41)) >> 32;
        (u128::from(hi) << 32) | u128::from(lo)
    }
}

fn word_at(bytes: &[u8; 16], half: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = bytes.get(half * 8..half * 8 + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// The 96-bit hash behind a uid.
pub(crate) fn uid_hash(seed: u64, key: &FlowKey, start_nanos: i64, salt: u8) -> u128 {
    let mut h = Hasher96::new(seed);
    for addr in &key.addr {
        h.word(word_at(addr, 0));
        h.word(word_at(addr, 1));
    }
    let ports = (u64::from(key.port[0]) << 16) | u64::from(key.port[1]);
    h.word(
        ports
            | (u64::from(key.proto) << 32)
            | (u64::from(key.flags) << 40)
            | (u64::from(salt) << 48),
    );
    h.word(start_nanos as u64);
    h.finish()
}

/// Removed connections remembered to salt the uid of a successor that starts
/// at the same instant on the same key.
pub(crate) const RECENT_REMOVALS: usize = 64;

/// A small direct-mapped memory of (key, start, salt) of removed connections.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecentRemovals {
    slots: Vec<(FlowKey, i64, u8)>,
}

fn slot_of(key: &FlowKey) -> usize {
    let mut h = Hasher96::new(0);
    h.word((u64::from(key.port[0]) << 16) | u64::from(key.port[1]));
    h.word(word_at(&key.addr[0], 1) ^ word_at(&key.addr[1], 1).rotate_left(32));
    (h.a % RECENT_REMOVALS as u64) as usize
}

impl RecentRemovals {
    pub fn removed(&mut self, key: &FlowKey, start: i64, salt: u8) {
        if self.slots.is_empty() {
            let empty = FlowKey {
                addr: [[0; 16]; 2],
                port: [0; 2],
                proto: 0,
                flags: 0,
            };
            self.slots = vec![(empty, i64::MIN, 0); RECENT_REMOVALS];
        }
        if let Some(slot) = self.slots.get_mut(slot_of(key)) {
            *slot = (*key, start, salt);
        }
    }

    /// The salt for a new connection on `key` starting at `start`.
    pub fn salt_for(&self, key: &FlowKey, start: i64) -> u8 {
        match self.slots.get(slot_of(key)) {
            Some((k, s, salt)) if k == key && *s == start => salt.wrapping_add(1),
            _ => 0,
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// 62^10, the largest power of 62 below 2^64.
const B62_POW10: u128 = 839_299_365_868_340_224;

/// Appends the base62 digits of `v`, at least `min_digits` (zero padded).
fn push_base62(out: &mut [u8; 24], n: &mut usize, mut v: u64, min_digits: usize) {
    let mut written = 0;
    while v > 0 || written < min_digits {
        if let (Some(slot), Some(&c)) = (out.get_mut(*n), BASE62.get((v % 62) as usize)) {
            *slot = c;
        }
        *n += 1;
        written += 1;
        v /= 62;
    }
}

/// `C` followed by the base62 digits of `value` (most significant first).
/// A connection uid before formatting: cheap to copy and keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uid(pub u128);

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_uid(self.0))
    }
}

pub(crate) fn format_uid(value: u128) -> String {
    // One 128-bit division; the rest in 64 bits (values below 2^128 / 62^10
    // fit in the upper part for the 96-bit uids used here).
    let low = (value % B62_POW10) as u64;
    let high = u64::try_from(value / B62_POW10).unwrap_or(u64::MAX);
    let mut digits = [0u8; 24];
    let mut n = 0;
    if high == 0 {
        push_base62(&mut digits, &mut n, low, 1);
    } else {
        push_base62(&mut digits, &mut n, low, 10);
        push_base62(&mut digits, &mut n, high, 0);
    }
    let mut s = String::with_capacity(n + 1);
    s.push('C');
    for &c in digits.iter().take(n).rev() {
        s.push(char::from(c));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(port: u16) -> FlowKey {
        FlowKey {
            addr: [[1; 16], [2; 16]],
            port: [port, 80],
            proto: 6,
            flags: 0,
        }
    }

    #[test]
    fn stable_value() {
        // Pinned: a change here changes every uid in every log.
        let h = uid_hash(0, &key(1234), 1_700_000_000_000_000_000, 0);
        assert_eq!(format_uid(h), "C1ZpEJfdal6DOgCn90");
        assert!(h < (1u128 << 96));
        assert_eq!(format_uid(0), "C0");
        assert_eq!(format_uid(61), "Cz");
        assert_eq!(format_uid(62), "C10");
        let big = (1u128 << 96) - 1;
        assert_eq!(format_uid(big), "C".to_owned() + &slow_base62(big));
        assert_eq!(format_uid(B62_POW10), "C1".to_owned() + &"0".repeat(10));
    }

    fn slow_base62(mut v: u128) -> String {
        let mut d = Vec::new();
        while v > 0 {
            d.push(BASE62.get((v % 62) as usize).copied().unwrap_or(b'?'));
            v /= 62;
        }
        d.iter().rev().map(|&c| char::from(c)).collect()
    }

    #[test]
    fn inputs_separate_uids() {
        let base = uid_hash(0, &key(1234), 5, 0);
        assert_ne!(base, uid_hash(1, &key(1234), 5, 0));
        assert_ne!(base, uid_hash(0, &key(1235), 5, 0));
        assert_ne!(base, uid_hash(0, &key(1234), 6, 0));
        assert_ne!(base, uid_hash(0, &key(1234), 5, 1));
    }
}
