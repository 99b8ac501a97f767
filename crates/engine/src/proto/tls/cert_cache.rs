//! The capture-wide certificate cache: certificate DER in → its SHA-256
//! fingerprint and decoded leaf fields out, computed once per distinct
//! certificate.
//!
//! IoT fleets present the same few server certificates on thousands of
//! connections; hashing and X.509-decoding each copy was a tenth of the whole
//! analyzer cost. Entries are keyed by the full DER (hash lookup, then a byte
//! comparison), so a crafted hash collision cannot make one certificate pass
//! for another. The cache changes speed, never output.
//! Limits: [`MAX_CACHED_CERTS`] entries (the cache is emptied when full,
//! counted as `proto.ssl.cert_cache_resets`), certificates over
//! [`MAX_CACHED_CERT_LEN`] bytes are not cached.

use hashbrown::HashMap;

use super::cert::{self, CertError, LeafCertificate};

/// Distinct certificates remembered at once.
pub const MAX_CACHED_CERTS: usize = 2048;
/// Certificates longer than this are processed every time, not cached.
pub const MAX_CACHED_CERT_LEN: usize = 8192;

/// What is derived from one certificate.
#[derive(Debug, Clone)]
struct Derived {
    sha256: String,
    /// Decoded on first use as a leaf.
    leaf: Option<Result<LeafCertificate, CertError>>,
}

/// Derived fields of recently seen certificates.
#[derive(Debug, Default, Clone)]
pub struct CertCache {
    entries: HashMap<Box<[u8]>, Derived, foldhash::fast::RandomState>,
    pub hits: u64,
    pub resets: u64,
}

/// The cache never takes part in comparisons of counters.
impl PartialEq for CertCache {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
impl Eq for CertCache {}

impl CertCache {
    fn entry(&mut self, der: &[u8]) -> Option<&mut Derived> {
        if der.len() > MAX_CACHED_CERT_LEN {
            return None;
        }
        if self.entries.contains_key(der) {
            self.hits += 1;
        } else {
            if self.entries.len() >= MAX_CACHED_CERTS {
                self.entries.clear();
                self.resets += 1;
            }
            let derived = Derived {
                sha256: cert::sha256_fingerprint(der),
                leaf: None,
            };
            self.entries.insert(der.into(), derived);
        }
        self.entries.get_mut(der)
    }

    /// SHA-256 fingerprint of `der` (lower-case hex).
    pub fn sha256(&mut self, der: &[u8]) -> String {
        match self.entry(der) {
            Some(d) => d.sha256.clone(),
            None => cert::sha256_fingerprint(der),
        }
    }

    /// The decoded leaf fields of `der`.
    pub fn leaf(&mut self, der: &[u8]) -> Result<LeafCertificate, CertError> {
        match self.entry(der) {
            Some(d) => d.leaf.get_or_insert_with(|| cert::parse_leaf(der)).clone(),
            None => cert::parse_leaf(der),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_der_is_derived_once_and_bounded() {
        let mut cache = CertCache::default();
        let a = cache.sha256(b"not a certificate");
        assert_eq!(a, cert::sha256_fingerprint(b"not a certificate"));
        assert!(cache.leaf(b"not a certificate").is_err());
        assert_eq!(cache.hits, 1);
        assert_eq!(cache.sha256(b"not a certificate"), a);
        assert_eq!(cache.hits, 2);
        for i in 0..MAX_CACHED_CERTS + 1 {
            cache.sha256(format!("cert {i}").as_bytes());
        }
        assert!(cache.len() <= MAX_CACHED_CERTS);
        assert_eq!(cache.resets, 1);
        let big = vec![7u8; MAX_CACHED_CERT_LEN + 1];
        assert_eq!(cache.sha256(&big), cert::sha256_fingerprint(&big));
        assert!(cache.len() <= MAX_CACHED_CERTS);
    }
}
