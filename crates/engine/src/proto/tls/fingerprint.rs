//! TLS fingerprints: a parsed hello in → JA3 / JA3S (MD5 hex, Salesforce
//! definition) and JA4 (FoxIO spec, `t13d1516h2_8daaf6152771_e5627efa2ab1`)
//! strings out.
//!
//! GREASE values (RFC 8701: `0x?a?a` with equal bytes) are left out of every
//! list, as both specs require. JA4's version comes from the highest
//! supported_versions entry when that extension is present, else from the
//! hello's version; its cipher and extension parts are sorted, SNI and ALPN
//! are left out of the extension part, and signature algorithms are appended
//! in wire order. An empty sorted list hashes to `000000000000` (spec).
//! Limits: the lists are bounded by the hello itself (at most 64 KiB); one
//! string per fingerprint is allocated per hello.
#![deny(clippy::indexing_slicing)]

use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::parser::{self, extension_type as ext, ClientHello, ServerHello};

/// Whether `v` is a GREASE value (RFC 8701 §2).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// How the hello travelled: the first character of JA4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ja4Transport {
    Tcp,
    Dtls,
}

/// Lower-case hex of a digest.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Appends `values` to `out` in decimal, joined by `-`.
fn push_dash_list(out: &mut String, values: impl Iterator<Item = u16>) {
    let mut first = true;
    for v in values {
        if !first {
            out.push('-');
        }
        first = false;
        let _ = write!(out, "{v}");
    }
}

/// The JA3 input string: `version,ciphers,extensions,curves,point_formats`.
pub fn ja3_string(hello: &ClientHello<'_>) -> String {
    let mut curves: &[u8] = &[];
    let mut point_formats: &[u8] = &[];
    for (ty, body) in hello.extensions() {
        match ty {
            ext::SUPPORTED_GROUPS => curves = parser::u16_list16(body),
            ext::EC_POINT_FORMATS => point_formats = parser::u8_list8(body),
            _ => {}
        }
    }
    let mut s = String::with_capacity(64 + hello.cipher_bytes.len() * 3);
    let _ = write!(s, "{},", hello.version);
    push_dash_list(&mut s, hello.ciphers().filter(|&c| !is_grease(c)));
    s.push(',');
    push_dash_list(
        &mut s,
        hello
            .extensions()
            .map(|(t, _)| t)
            .filter(|&t| !is_grease(t)),
    );
    s.push(',');
    push_dash_list(&mut s, parser::u16s(curves).filter(|&c| !is_grease(c)));
    s.push(',');
    push_dash_list(&mut s, point_formats.iter().map(|&p| u16::from(p)));
    s
}

/// The JA3S input string: `version,cipher,extensions`.
pub fn ja3s_string(hello: &ServerHello<'_>) -> String {
    let mut s = String::with_capacity(48);
    let _ = write!(s, "{},{},", hello.version, hello.cipher);
    push_dash_list(
        &mut s,
        hello
            .extensions()
            .map(|(t, _)| t)
            .filter(|&t| !is_grease(t)),
    );
    s
}

/// MD5 hex of a JA3/JA3S input string.
pub fn md5_hex(input: &str) -> String {
    hex(&Md5::digest(input.as_bytes()))
}

pub fn ja3(hello: &ClientHello<'_>) -> String {
    md5_hex(&ja3_string(hello))
}

pub fn ja3s(hello: &ServerHello<'_>) -> String {
    md5_hex(&ja3s_string(hello))
}

/// The first 12 hex characters of SHA-256, or `000000000000` for an empty input list.
fn truncated_sha256(input: &str) -> String {
    if input.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = hex(&Sha256::digest(input.as_bytes()));
    h.truncate(12);
    h
}

/// Two characters for a TLS/DTLS version number (JA4 "TLS and DTLS version").
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0x0100 => "s1",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// First and last character of the first ALPN value; hex digits of the
/// value's first and last byte when either character is not alphanumeric.
fn ja4_alpn(first: Option<&[u8]>) -> [char; 2] {
    let Some(value) = first else {
        return ['0', '0'];
    };
    let (Some(&a), Some(&z)) = (value.first(), value.last()) else {
        return ['0', '0'];
    };
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        [char::from(a), char::from(z)]
    } else {
        let digit = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
        [digit(a >> 4), digit(z & 0x0f)]
    }
}

/// Comma-joined 4-digit lower-case hex of `values`.
fn hex_list(values: &[u16]) -> String {
    let mut s = String::with_capacity(values.len() * 5);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
    s
}

/// The JA4 fingerprint of a ClientHello.
pub fn ja4(hello: &ClientHello<'_>, transport: Ja4Transport) -> String {
    let mut has_sni = false;
    let mut first_alpn = None;
    let mut best_version: Option<u16> = None;
    let mut sig_algs: &[u8] = &[];
    let mut extensions: Vec<u16> = Vec::new();
    let mut ext_count = 0usize;
    for (ty, body) in hello.extensions() {
        if is_grease(ty) {
            continue;
        }
        ext_count += 1;
        match ty {
            ext::SERVER_NAME => has_sni = true,
            ext::ALPN => first_alpn = parser::alpn_protocols(body).next(),
            ext::SIGNATURE_ALGORITHMS => sig_algs = parser::u16_list16(body),
            ext::SUPPORTED_VERSIONS => {
                let versions = parser::u16s(parser::client_supported_versions(body));
                best_version = versions.filter(|&v| !is_grease(v)).fold(None, |best, v| {
                    Some(best.map_or(v, |b| newer_version(b, v)))
                });
            }
            _ => {}
        }
        if ty != ext::SERVER_NAME && ty != ext::ALPN {
            extensions.push(ty);
        }
    }
    let mut ciphers: Vec<u16> = hello.ciphers().filter(|&c| !is_grease(c)).collect();
    ciphers.sort_unstable();
    extensions.sort_unstable();
    let sigs: Vec<u16> = parser::u16s(sig_algs).filter(|&s| !is_grease(s)).collect();

    let version = best_version.unwrap_or(hello.version);
    let alpn = ja4_alpn(first_alpn);
    let mut a = String::with_capacity(10);
    a.push(match transport {
        Ja4Transport::Tcp => 't',
        Ja4Transport::Dtls => 'd',
    });
    a.push_str(ja4_version(version));
    a.push(if has_sni { 'd' } else { 'i' });
    let _ = write!(a, "{:02}{:02}", ciphers.len().min(99), ext_count.min(99));
    a.extend(alpn);

    let b = truncated_sha256(&hex_list(&ciphers));
    let c = if extensions.is_empty() {
        truncated_sha256("")
    } else if sigs.is_empty() {
        truncated_sha256(&hex_list(&extensions))
    } else {
        truncated_sha256(&format!("{}_{}", hex_list(&extensions), hex_list(&sigs)))
    };
    format!("{a}_{b}_{c}")
}

/// The newer of two protocol versions (DTLS numbers count down: 0xfefc is DTLS 1.3).
fn newer_version(a: u16, b: u16) -> u16 {
    let dtls = |v: u16| v >> 8 == 0xfe;
    match (dtls(a), dtls(b)) {
        (true, true) => a.min(b),
        (false, false) => a.max(b),
        (true, false) => a,
        (false, true) => b,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a));
        assert!(is_grease(0xfafa));
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x1301));
    }

    /// The worked example of the FoxIO JA4 spec (technical_details/JA4.md).
    #[test]
    fn ja4_spec_example_hashes() {
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let mut sorted = ciphers.to_vec();
        sorted.sort_unstable();
        assert_eq!(truncated_sha256(&hex_list(&sorted)), "8daaf6152771");
        let exts = [
            0x0005, 0x000a, 0x000b, 0x000d, 0x0012, 0x0015, 0x0017, 0x001b, 0x0023, 0x002b, 0x002d,
            0x0033, 0x4469, 0xff01,
        ];
        let sigs = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let c = format!("{}_{}", hex_list(&exts), hex_list(&sigs));
        assert_eq!(truncated_sha256(&c), "e5627efa2ab1");
        assert_eq!(truncated_sha256(&hex_list(&exts)), "6d807ffa2a79");
    }

    #[test]
    fn ja3_md5_of_known_string() {
        // From a published JA3 example (Chrome 143 as seen by a fingerprinting service).
        let s = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0";
        assert_eq!(md5_hex(s), "98487aa16281980e7d1120d399efb6a4");
    }

    #[test]
    fn alpn_characters() {
        assert_eq!(ja4_alpn(Some(b"h2")), ['h', '2']);
        assert_eq!(ja4_alpn(Some(b"http/1.1")), ['h', '1']);
        assert_eq!(ja4_alpn(Some(b"h")), ['h', 'h']);
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), ['a', 'd']);
        assert_eq!(ja4_alpn(Some(b"")), ['0', '0']);
        assert_eq!(ja4_alpn(None), ['0', '0']);
    }

    #[test]
    fn version_ordering() {
        assert_eq!(newer_version(0x0303, 0x0304), 0x0304);
        assert_eq!(newer_version(0xfeff, 0xfefd), 0xfefd);
        assert_eq!(ja4_version(0x7f17), "00");
    }
}
