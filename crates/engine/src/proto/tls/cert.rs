//! X.509 certificates of a TLS ≤ 1.2 Certificate message: DER bytes in →
//! fingerprints and the leaf's subject, issuer, validity, names out.
//!
//! Parsing is `x509-parser`'s (fuzzed upstream; a certificate it rejects is
//! counted by the caller, never a panic). Subject and issuer are printed as
//! Zeek prints them (OpenSSL `X509_NAME_print_ex` with `XN_FLAG_RFC2253`):
//! RDNs in reverse order joined by `,`, short attribute names, RFC 2253
//! escaping, bytes ≥ 0x80 of the UTF-8 value as `\XX`, unknown attribute
//! types as the dotted OID and unknown value types as `#` + DER hex.
//! Limits: [`MAX_NAME_LEN`] characters per printed name, [`MAX_CERT_NAMES`]
//! DNS names kept for SNI matching.
#![deny(clippy::indexing_slicing)]

use std::fmt::Write as _;

use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use x509_parser::der_parser::asn1_rs::{Any, Tag};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer as _, X509Certificate, X509Name};

use crate::time::Timestamp;

/// Longest subject/issuer string kept, in bytes (longer ones are cut).
pub const MAX_NAME_LEN: usize = 1024;
/// DNS names (SAN entries and CNs) kept per certificate for SNI matching.
pub const MAX_CERT_NAMES: usize = 256;

/// What the log keeps of a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafCertificate {
    pub subject: String,
    pub issuer: String,
    pub not_valid_before: Timestamp,
    pub not_valid_after: Timestamp,
    /// Subject and issuer are the same name (byte-identical DER).
    pub self_signed: bool,
    /// SHA-1 of the DER, lower-case hex (what nDPI and many blocklists print).
    pub sha1: String,
    /// DNS names of the subjectAltName extension, or the subject CNs when it has none.
    pub dns_names: Vec<String>,
}

/// The certificate could not be decoded (DER or X.509 structure error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate of {len} bytes is not valid X.509 DER: {reason}")]
pub struct CertError {
    pub len: usize,
    pub reason: String,
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of the DER, lower-case hex: Zeek's `cert_chain_fps` entry.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

/// Decodes a leaf certificate.
pub fn parse_leaf(der: &[u8]) -> Result<LeafCertificate, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError {
        len: der.len(),
        reason: e.to_string(),
    })?;
    let validity = cert.validity();
    Ok(LeafCertificate {
        subject: format_name(cert.subject()),
        issuer: format_name(cert.issuer()),
        not_valid_before: Timestamp::from_secs_nanos(validity.not_before.timestamp(), 0),
        not_valid_after: Timestamp::from_secs_nanos(validity.not_after.timestamp(), 0),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        sha1: hex(&Sha1::digest(der)),
        dns_names: dns_names(&cert),
    })
}

/// SAN DNS names, or the subject's CNs when the certificate has no DNS SAN.
fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                if names.len() < MAX_CERT_NAMES {
                    names.push(dns.to_ascii_lowercase());
                }
            }
        }
    }
    if names.is_empty() {
        for cn in cert.subject().iter_common_name() {
            if let Ok(s) = cn.as_str() {
                if names.len() < MAX_CERT_NAMES {
                    names.push(s.to_ascii_lowercase());
                }
            }
        }
    }
    names
}

/// Whether `host` (the SNI) matches one of the certificate's names; a `*` is
/// allowed in the leftmost label only and matches within that label.
pub fn hostname_matches(names: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    names.iter().any(|pattern| name_matches(pattern, &host))
}

fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    if !pattern.contains('*') {
        return pattern == host;
    }
    let (Some((p_first, p_rest)), Some((h_first, h_rest))) =
        (pattern.split_once('.'), host.split_once('.'))
    else {
        return false;
    };
    // The wildcard must cover a label of its own domain: "*.com" or "*" alone never match.
    if p_rest.contains('*') || !p_rest.contains('.') || p_rest != h_rest {
        return false;
    }
    let Some((prefix, suffix)) = p_first.split_once('*') else {
        return false;
    };
    !suffix.contains('*')
        && h_first.len() >= prefix.len() + suffix.len()
        && h_first.starts_with(prefix)
        && h_first.ends_with(suffix)
}

/// OpenSSL's short name for an attribute type, by dotted OID.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// A name printed as Zeek prints it (see the module comment).
pub fn format_name(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let attrs: Vec<_> = rdn.iter().collect();
        for (j, attr) in attrs.iter().rev().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attr.attr_type().to_id_string();
            match short_name(&oid) {
                Some(short) => {
                    out.push_str(short);
                    out.push('=');
                    push_value(&mut out, attr.attr_value());
                }
                None => {
                    out.push_str(&oid);
                    out.push('=');
                    push_der_dump(&mut out, attr.attr_value());
                }
            }
        }
        if out.len() > MAX_NAME_LEN {
            break;
        }
    }
    truncate_at_char(&mut out, MAX_NAME_LEN);
    out
}

fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// A string value decoded to characters, escaped per RFC 2253 + ESC_MSB.
fn push_value(out: &mut String, value: &Any<'_>) {
    let data = value.data;
    let text: String = match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        // T.61 is read as Latin-1, as OpenSSL does.
        Tag::T61String => data.iter().map(|&b| char::from(b)).collect(),
        Tag::BmpString => char::decode_utf16(
            data.chunks_exact(2)
                .map(|p| p.iter().fold(0u16, |a, &b| (a << 8) | u16::from(b))),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect(),
        Tag::UniversalString => data
            .chunks_exact(4)
            .map(|p| p.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
            .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
        _ => return push_der_dump(out, value),
    };
    let bytes = text.as_bytes();
    let last = bytes.len().saturating_sub(1);
    for (i, &b) in bytes.iter().enumerate() {
        let special = matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || (i == 0 && (b == b'#' || b == b' '))
            || (i == last && b == b' ');
        if !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\{b:02X}");
        } else if special {
            out.push('\\');
            out.push(char::from(b));
        } else {
            out.push(char::from(b));
        }
        if out.len() > MAX_NAME_LEN {
            return;
        }
    }
}

/// `#` and the upper-case hex of the value's DER encoding.
fn push_der_dump(out: &mut String, value: &Any<'_>) {
    let data = value.data;
    out.push('#');
    let _ = write!(out, "{:02X}", (value.tag().0 & 0x1f) as u8);
    let len = data.len();
    if len < 0x80 {
        let _ = write!(out, "{len:02X}");
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        let significant = be.get(skip..).unwrap_or(&[]);
        let _ = write!(out, "{:02X}", 0x80 | significant.len());
        for b in significant {
            let _ = write!(out, "{b:02X}");
        }
    }
    for b in data.iter().take(MAX_NAME_LEN / 2) {
        let _ = write!(out, "{b:02X}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_leftmost_label() {
        let names = vec!["*.zeek.org".to_owned(), "zeek.org".to_owned()];
        assert!(hostname_matches(&names, "www.zeek.org"));
        assert!(hostname_matches(&names, "ZEEK.org."));
        assert!(!hostname_matches(&names, "a.b.zeek.org"));
        assert!(!hostname_matches(&names, "zeek.com"));
        let partial = vec!["ww*.zeek.org".to_owned()];
        assert!(hostname_matches(&partial, "www.zeek.org"));
        assert!(!hostname_matches(&partial, "wa.zeek.org"));
        assert!(!hostname_matches(&["*.com".to_owned()], "zeek.com"));
        assert!(!hostname_matches(&["*".to_owned()], "zeek"));
        assert!(!hostname_matches(&["*.*.com".to_owned()], "a.b.com"));
        assert!(!hostname_matches(&names, ""));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = parse_leaf(&[0x30, 0x03, 1, 2, 3]).unwrap_err();
        assert_eq!(err.len, 5);
        assert!(parse_leaf(&[]).is_err());
    }
}
