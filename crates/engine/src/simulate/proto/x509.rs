//! Minimal DER X.509 v3 certificates (ECDSA P-256) for TLS 1.2 Certificate messages.
//!
//! Subject/issuer names and validity in → a structurally valid certificate
//! out (dissectors and parsers read every field; the signature is random, as
//! nothing verifies it). Lengths use DER's definite short/long forms.

use super::civil;
use crate::simulate::rng::SimRng;

const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// A DER tag-length-value.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(content.len() + 4);
    b.push(tag);
    let len = content.len();
    if len < 0x80 {
        b.push(len as u8);
    } else if len < 0x100 {
        b.extend_from_slice(&[0x81, len as u8]);
    } else {
        b.push(0x82);
        b.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
    }
    b.extend_from_slice(content);
    b
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A positive INTEGER from big-endian magnitude bytes.
fn positive_integer(mag: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(mag.len() + 1);
    if mag.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(mag);
    tlv(0x02, &v)
}

fn name(country: &str, org: &str, cn: &str) -> Vec<u8> {
    let rdn = |oid: &[u8], tag: u8, val: &str| {
        tlv(0x31, &seq(&[&tlv(0x06, oid), &tlv(tag, val.as_bytes())]))
    };
    seq(&[
        &rdn(OID_COUNTRY, 0x13, country),
        &rdn(OID_ORGANIZATION, 0x0c, org),
        &rdn(OID_COMMON_NAME, 0x0c, cn),
    ])
}

fn utc_time(secs: i64) -> Vec<u8> {
    let c = civil(secs);
    let s = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        c.year.rem_euclid(100),
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second
    );
    tlv(0x17, s.as_bytes())
}

fn ecdsa_signature(rng: &mut SimRng) -> Vec<u8> {
    let r = rng.bytes::<32>();
    let s = rng.bytes::<32>();
    let sig = seq(&[&positive_integer(&r), &positive_integer(&s)]);
    let mut bits = Vec::with_capacity(sig.len() + 1);
    bits.push(0);
    bits.extend_from_slice(&sig);
    tlv(0x03, &bits)
}

/// What a certificate says about its holder.
#[derive(Debug, Clone, Copy)]
pub struct CertSpec<'a> {
    pub subject_cn: &'a str,
    pub subject_org: &'a str,
    pub issuer_cn: &'a str,
    pub issuer_org: &'a str,
    pub not_before: i64,
    pub not_after: i64,
    /// DNS name for the subjectAltName extension.
    pub san: Option<&'a str>,
}

/// A DER certificate for `spec` with a fresh key and serial.
pub fn certificate(spec: &CertSpec<'_>, rng: &mut SimRng) -> Vec<u8> {
    let version = tlv(0xa0, &tlv(0x02, &[2]));
    let serial = positive_integer(&rng.bytes::<16>());
    let alg = seq(&[&tlv(0x06, OID_ECDSA_SHA256)]);
    let issuer = name("US", spec.issuer_org, spec.issuer_cn);
    let validity = seq(&[&utc_time(spec.not_before), &utc_time(spec.not_after)]);
    let subject = name("US", spec.subject_org, spec.subject_cn);
    let mut point = Vec::with_capacity(66);
    point.extend_from_slice(&[0x00, 0x04]);
    point.extend_from_slice(&rng.bytes::<64>());
    let spki = seq(&[
        &seq(&[&tlv(0x06, OID_EC_PUBLIC_KEY), &tlv(0x06, OID_PRIME256V1)]),
        &tlv(0x03, &point),
    ]);
    let mut tbs_parts: Vec<Vec<u8>> = vec![
        version,
        serial,
        alg.clone(),
        issuer,
        validity,
        subject,
        spki,
    ];
    if let Some(dns) = spec.san {
        let general_names = seq(&[&tlv(0x82, dns.as_bytes())]);
        let ext = seq(&[&tlv(0x06, OID_SUBJECT_ALT_NAME), &tlv(0x04, &general_names)]);
        tbs_parts.push(tlv(0xa3, &seq(&[&ext])));
    }
    let tbs = tlv(0x30, &tbs_parts.concat());
    seq(&[&tbs, &alg, &ecdsa_signature(rng)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks one DER element and returns (tag, content length, header length).
    fn element(d: &[u8]) -> Option<(u8, usize, usize)> {
        let tag = *d.first()?;
        let l0 = *d.get(1)?;
        match l0 {
            0..=0x7f => Some((tag, usize::from(l0), 2)),
            0x81 => Some((tag, usize::from(*d.get(2)?), 3)),
            0x82 => Some((
                tag,
                usize::from(u16::from_be_bytes([*d.get(2)?, *d.get(3)?])),
                4,
            )),
            _ => None,
        }
    }

    #[test]
    fn certificate_is_one_der_sequence_of_three() {
        let spec = CertSpec {
            subject_cn: "dev.example.com",
            subject_org: "Example",
            issuer_cn: "Example CA 1",
            issuer_org: "Example",
            not_before: 1_690_000_000,
            not_after: 1_720_000_000,
            san: Some("dev.example.com"),
        };
        let c = certificate(&spec, &mut SimRng::new(1));
        let (tag, len, hl) = element(&c).unwrap_or_default();
        assert_eq!(tag, 0x30);
        assert_eq!(hl + len, c.len());
        let mut inner = c.get(hl..).unwrap_or_default();
        let mut tags = Vec::new();
        while let Some((t, l, h)) = element(inner) {
            tags.push(t);
            inner = inner.get(h + l..).unwrap_or_default();
        }
        assert_eq!(tags, vec![0x30, 0x30, 0x03]);
        assert!(c.windows(15).any(|w| w == b"dev.example.com"));
        assert!(c.windows(13).any(|w| w == b"230722042640Z"));
    }
}
