//! Text seen in a device's protocol records (DNS names, DHCP host names and
//! vendor classes, user agents, SSDP server strings, JA3 hashes) in → a fixed
//! number of hashed buckets out (feature hashing), so the feature vector has
//! the same length whatever the device says.
//!
//! Tokens must describe the *kind* of device, not the one unit that was
//! captured, or the classifier learns serial numbers: the device's own MAC
//! (in any case, as a substring of a token, e.g. `ESP_07AEFB`, `dchE143`) is
//! replaced by `#mac`, and pure numbers, long hex runs (serials, hashes) and
//! over-long tokens (base64 blobs) are dropped.
//!
//! The hash is FNV-1a 64 (written out here, not a `std`/`foldhash` hasher):
//! a model file stores which bucket means what, so the hash must never change
//! between builds or platforms.
//!
//! Limits: [`MAX_TOKENS_PER_BAG`] distinct tokens per bag (more are counted
//! in `tokens_over_limit`), [`MAX_TOKEN_LEN`] bytes per token.
#![deny(clippy::indexing_slicing)]

use std::collections::BTreeSet;

use crate::decode::MacAddr;

/// Distinct tokens one bag remembers; further new tokens are counted and dropped.
pub const MAX_TOKENS_PER_BAG: usize = 1024;
/// Longer tokens are random data (base64, URL-encoded blobs), not names.
pub const MAX_TOKEN_LEN: usize = 24;
/// Characters of a text looked at; the rest is ignored.
pub const MAX_TEXT_LEN: usize = 512;

/// FNV-1a, 64-bit: stable across builds, platforms and Rust versions.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Distinct tokens of one kind (e.g. DNS names) hashed into `N` buckets.
#[derive(Debug, Clone)]
pub struct TokenBag<const N: usize> {
    seen: BTreeSet<String>,
    buckets: [u32; N],
    /// New tokens dropped because the bag was full.
    pub over_limit: u64,
}

impl<const N: usize> Default for TokenBag<N> {
    fn default() -> Self {
        TokenBag {
            seen: BTreeSet::new(),
            buckets: [0; N],
            over_limit: 0,
        }
    }
}

impl<const N: usize> TokenBag<N> {
    /// Adds one token (already normalised); a token seen before changes nothing.
    pub fn add(&mut self, token: &str) {
        if token.is_empty() || self.seen.contains(token) {
            return;
        }
        if self.seen.len() >= MAX_TOKENS_PER_BAG {
            self.over_limit += 1;
            return;
        }
        self.seen.insert(token.to_string());
        let bucket = usize::try_from(fnv1a(token.as_bytes()) % N as u64).unwrap_or(0);
        if let Some(slot) = self.buckets.get_mut(bucket) {
            *slot += 1;
        }
    }

    /// Adds `prefix:token` for every token of `text` (see [`Tokenizer`]).
    pub fn add_text(&mut self, tok: &Tokenizer, prefix: &str, text: &str) {
        tok.for_each(text, |t| self.add(&format!("{prefix}:{t}")));
    }

    /// Adds `prefix:value` for a value taken whole (a JA3 hash, a number list).
    pub fn add_whole(&mut self, prefix: &str, value: &str) {
        let value: String = value.chars().take(MAX_TEXT_LEN).collect();
        self.add(&format!("{prefix}:{}", value.to_ascii_lowercase()));
    }

    /// Number of distinct tokens that fell into each bucket.
    pub fn buckets(&self) -> &[u32; N] {
        &self.buckets
    }

    /// Distinct tokens held (for explanations and tests).
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.seen.iter().map(String::as_str)
    }
}

/// Splits text into lower-case alphanumeric tokens, masking the device's MAC.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// Lower-case hex of the MAC (12 characters).
    mac_hex: String,
}

/// Shortest tail of the MAC's hex taken as the MAC inside a token
/// (`dchE143` ends in the last two bytes of `…:e1:43`).
const MAC_TAIL_MIN: usize = 4;

impl Tokenizer {
    pub fn new(mac: MacAddr) -> Self {
        let mac_hex = mac.0.iter().map(|b| format!("{b:02x}")).collect();
        Tokenizer { mac_hex }
    }

    /// Calls `f` with every kept token of `text`, in order.
    pub fn for_each(&self, text: &str, mut f: impl FnMut(&str)) {
        let text: String = text
            .chars()
            .take(MAX_TEXT_LEN)
            .collect::<String>()
            .to_ascii_lowercase();
        for raw in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            if let Some(token) = self.normalise(raw) {
                f(&token);
            }
        }
    }

    /// The token as kept in a bag, or `None` when it identifies one unit or
    /// carries no meaning.
    fn normalise(&self, raw: &str) -> Option<String> {
        if raw.len() < 2 || raw.len() > MAX_TOKEN_LEN {
            return None;
        }
        let token = self.mask_mac(raw);
        let plain = token.replace("#mac", "");
        if plain.bytes().all(|b| b.is_ascii_digit()) && token != plain {
            // Nothing but the MAC (and digits) left: keep the fact, not the value.
            return Some("#mac".to_string());
        }
        if plain.is_empty() || plain.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if longest_hex_run_with_digit(&plain) >= 8 {
            return None;
        }
        Some(token)
    }

    /// Replaces the longest tail of the MAC's hex found in `token` by `#mac`.
    fn mask_mac(&self, token: &str) -> String {
        for len in (MAC_TAIL_MIN..=self.mac_hex.len()).rev() {
            let Some(tail) = self.mac_hex.get(self.mac_hex.len() - len..) else {
                continue;
            };
            if token.contains(tail) {
                return token.replacen(tail, "#mac", 1);
            }
        }
        token.to_string()
    }
}

/// Length of the longest run of hex digits that contains a decimal digit
/// (serial numbers and hashes; `cafe` or `dead` alone are words).
fn longest_hex_run_with_digit(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut has_digit = false;
    for b in s.bytes() {
        if b.is_ascii_hexdigit() {
            run += 1;
            has_digit |= b.is_ascii_digit();
            if has_digit {
                best = best.max(run);
            }
        } else {
            run = 0;
            has_digit = false;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(mac: [u8; 6], text: &str) -> Vec<String> {
        let mut v = Vec::new();
        Tokenizer::new(MacAddr(mac)).for_each(text, |t| v.push(t.to_string()));
        v
    }

    const COFFEE: [u8; 6] = [0x5c, 0xcf, 0x7f, 0x07, 0xae, 0xfb];
    const DLINK: [u8; 6] = [0x90, 0x8d, 0x78, 0xa8, 0xe1, 0x43];

    #[test]
    fn model_names_survive_and_mac_suffixes_are_masked() {
        assert_eq!(tokens(COFFEE, "ESP_07AEFB"), ["esp", "#mac"]);
        assert_eq!(tokens(DLINK, "DCH-S150"), ["dch", "s150"]);
        assert_eq!(tokens(DLINK, "dchE143.local"), ["dch#mac", "local"]);
        assert_eq!(tokens(DLINK, "HS100(EU)"), ["hs100", "eu"]);
    }

    #[test]
    fn numbers_serials_and_blobs_are_dropped() {
        // Reverse-lookup labels of an IP, a firmware hash, a serial.
        assert_eq!(
            tokens(DLINK, "72.10.10.10.in-addr.arpa"),
            ["in", "addr", "arpa"]
        );
        assert!(tokens(DLINK, "ec812a3636b020221d3ea6501e117f5d").is_empty());
        assert_eq!(tokens(DLINK, "serialNumber=20F85ECA9152"), ["serialnumber"]);
        assert!(tokens(DLINK, "YYhLXWA8JCVLsowbXNiNefq6oJp8Kj2WXuVtN39Sq").is_empty());
    }

    #[test]
    fn bag_counts_distinct_tokens_per_bucket() {
        let mut bag = TokenBag::<8>::default();
        bag.add("dns:tplinkcloud");
        bag.add("dns:tplinkcloud");
        bag.add("dns:pool");
        assert_eq!(bag.buckets().iter().sum::<u32>(), 2);
        let b = usize::try_from(fnv1a(b"dns:pool") % 8).unwrap_or(0);
        assert!(bag.buckets()[b] >= 1);
    }

    #[test]
    fn bag_is_bounded() {
        let mut bag = TokenBag::<4>::default();
        for i in 0..MAX_TOKENS_PER_BAG + 10 {
            bag.add(&format!("t{i}"));
        }
        assert_eq!(bag.over_limit, 10);
        assert_eq!(bag.tokens().count(), MAX_TOKENS_PER_BAG);
    }

    #[test]
    fn fnv_is_the_published_function() {
        // Test vectors of FNV-1a 64 (draft-eastlake-fnv).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
