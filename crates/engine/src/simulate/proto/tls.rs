//! TLS records: ClientHello per client profile, the server's flight, encrypted records.
//!
//! A [`ClientProfile`] fixes everything JA3 reads (version, cipher list,
//! extension order, groups, point formats), so each device class keeps one
//! stable fingerprint; only random, session id and key shares vary. Servers
//! answer TLS 1.3 clients with ServerHello + ChangeCipherSpec + encrypted
//! records, and TLS 1.2 clients with ServerHello, Certificate (DER, see
//! [`super::x509`]), ServerKeyExchange and ServerHelloDone.

use super::{put_noise, put_u16_prefixed};
use crate::simulate::rng::SimRng;

const CONTENT_CCS: u8 = 20;
const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
const CONTENT_APPDATA: u8 = 23;
const GREASE: u16 = 0x0a0a;

pub const EXT_SNI: u16 = 0x0000;
pub const EXT_STATUS_REQUEST: u16 = 0x0005;
pub const EXT_GROUPS: u16 = 0x000a;
pub const EXT_POINT_FORMATS: u16 = 0x000b;
pub const EXT_SIG_ALGS: u16 = 0x000d;
pub const EXT_HEARTBEAT: u16 = 0x000f;
pub const EXT_ALPN: u16 = 0x0010;
pub const EXT_SCT: u16 = 0x0012;
pub const EXT_ENCRYPT_THEN_MAC: u16 = 0x0016;
pub const EXT_EMS: u16 = 0x0017;
pub const EXT_COMPRESS_CERT: u16 = 0x001b;
pub const EXT_SESSION_TICKET: u16 = 0x0023;
pub const EXT_VERSIONS: u16 = 0x002b;
pub const EXT_PSK_MODES: u16 = 0x002d;
pub const EXT_KEY_SHARE: u16 = 0x0033;
pub const EXT_RENEGOTIATION: u16 = 0xff01;
/// Placeholder in an extension list for a GREASE value (RFC 8701).
pub const EXT_GREASE: u16 = 0x0a0a;

/// Everything a client's ClientHello fixes.
#[derive(Debug)]
pub struct ClientProfile {
    pub tls13: bool,
    pub grease: bool,
    pub ciphers: &'static [u16],
    pub extensions: &'static [u16],
    pub groups: &'static [u16],
    pub sig_algs: &'static [u16],
    pub alpn: &'static [&'static str],
    pub session_id: bool,
}

fn record(content: u8, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 5);
    b.push(content);
    b.extend_from_slice(&[0x03, 0x03]);
    put_u16_prefixed(&mut b, body);
    b
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 4);
    b.push(msg_type);
    b.extend_from_slice(
        (body.len() as u32)
            .to_be_bytes()
            .get(1..)
            .unwrap_or_default(),
    );
    b.extend_from_slice(body);
    b
}

fn u16_list(values: &[u16], grease: bool) -> Vec<u8> {
    let mut v = Vec::with_capacity(values.len() * 2 + 2);
    if grease {
        v.extend_from_slice(&GREASE.to_be_bytes());
    }
    for x in values {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

fn extension(buf: &mut Vec<u8>, ext: u16, data: &[u8]) {
    buf.extend_from_slice(&ext.to_be_bytes());
    put_u16_prefixed(buf, data);
}

fn client_extension(
    p: &ClientProfile,
    ext: u16,
    sni: Option<&str>,
    grease_seen: &mut bool,
    rng: &mut SimRng,
) -> Option<Vec<u8>> {
    let mut d = Vec::new();
    match ext {
        EXT_SNI => {
            let name = sni?.as_bytes();
            let mut entry = vec![0u8];
            put_u16_prefixed(&mut entry, name);
            put_u16_prefixed(&mut d, &entry);
        }
        EXT_STATUS_REQUEST => d.extend_from_slice(&[1, 0, 0, 0, 0]),
        EXT_GROUPS => put_u16_prefixed(&mut d, &u16_list(p.groups, p.grease)),
        EXT_POINT_FORMATS => d.extend_from_slice(&[1, 0]),
        EXT_SIG_ALGS => put_u16_prefixed(&mut d, &u16_list(p.sig_algs, false)),
        EXT_HEARTBEAT => d.push(1),
        EXT_ALPN => {
            let mut list = Vec::new();
            for proto in p.alpn {
                list.push(proto.len() as u8);
                list.extend_from_slice(proto.as_bytes());
            }
            put_u16_prefixed(&mut d, &list);
        }
        EXT_VERSIONS => {
            let versions: &[u16] = if p.tls13 {
                &[0x0304, 0x0303]
            } else {
                &[0x0303]
            };
            let list = u16_list(versions, p.grease);
            d.push(list.len() as u8);
            d.extend_from_slice(&list);
        }
        EXT_PSK_MODES => d.extend_from_slice(&[1, 1]),
        EXT_KEY_SHARE => {
            let mut shares = Vec::with_capacity(48);
            if p.grease {
                shares.extend_from_slice(&GREASE.to_be_bytes());
                put_u16_prefixed(&mut shares, &[0]);
            }
            shares.extend_from_slice(&0x001du16.to_be_bytes());
            put_u16_prefixed(&mut shares, &rng.bytes::<32>());
            put_u16_prefixed(&mut d, &shares);
        }
        EXT_COMPRESS_CERT => d.extend_from_slice(&[2, 0, 2]),
        EXT_RENEGOTIATION => d.push(0),
        EXT_GREASE => {
            // First GREASE extension is empty, a second one carries one zero byte (as Chrome does).
            if *grease_seen {
                d.push(0);
            }
            *grease_seen = true;
            return Some(ext_bytes(
                0x1a1a ^ if d.is_empty() { 0 } else { 0x3030 },
                &d,
            ));
        }
        _ => {}
    }
    Some(ext_bytes(ext, &d))
}

fn ext_bytes(ext: u16, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(data.len() + 4);
    extension(&mut b, ext, data);
    b
}

/// A ClientHello record for `profile`, naming `sni` (when the profile sends SNI).
pub fn client_hello(profile: &ClientProfile, sni: Option<&str>, rng: &mut SimRng) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&rng.bytes::<32>());
    if profile.session_id {
        body.push(32);
        body.extend_from_slice(&rng.bytes::<32>());
    } else {
        body.push(0);
    }
    put_u16_prefixed(&mut body, &u16_list(profile.ciphers, profile.grease));
    body.extend_from_slice(&[1, 0]);
    let mut exts = Vec::with_capacity(400);
    let mut grease_seen = false;
    for &e in profile.extensions {
        if let Some(x) = client_extension(profile, e, sni, &mut grease_seen, rng) {
            exts.extend_from_slice(&x);
        }
    }
    put_u16_prefixed(&mut body, &exts);
    let mut rec = record(CONTENT_HANDSHAKE, &handshake(1, &body));
    // The record layer of a first ClientHello says TLS 1.0, as clients do for compatibility.
    if let Some(v) = rec.get_mut(2) {
        *v = 0x01;
    }
    rec
}

/// The cipher a server picks for this client (first suite it supports from a fixed preference list).
pub fn server_choice(profile: &ClientProfile) -> u16 {
    const PREFERENCE_13: [u16; 3] = [0x1301, 0x1302, 0x1303];
    const PREFERENCE_12: [u16; 6] = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0x009c, 0x002f];
    if profile.tls13 {
        if let Some(c) = PREFERENCE_13.iter().find(|c| profile.ciphers.contains(c)) {
            return *c;
        }
    }
    PREFERENCE_12
        .iter()
        .find(|c| profile.ciphers.contains(c))
        .copied()
        .unwrap_or(0x002f)
}

fn server_hello(profile: &ClientProfile, cipher: u16, rng: &mut SimRng) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&rng.bytes::<32>());
    if profile.session_id || !profile.tls13 {
        body.push(32);
        body.extend_from_slice(&rng.bytes::<32>());
    } else {
        body.push(0);
    }
    body.extend_from_slice(&cipher.to_be_bytes());
    body.push(0);
    let mut exts = Vec::new();
    if profile.tls13 {
        extension(&mut exts, EXT_VERSIONS, &[0x03, 0x04]);
        let mut ks = Vec::with_capacity(36);
        ks.extend_from_slice(&0x001du16.to_be_bytes());
        put_u16_prefixed(&mut ks, &rng.bytes::<32>());
        extension(&mut exts, EXT_KEY_SHARE, &ks);
    } else {
        for &e in profile.extensions {
            match e {
                EXT_RENEGOTIATION => extension(&mut exts, e, &[0]),
                EXT_POINT_FORMATS => extension(&mut exts, e, &[1, 0]),
                EXT_EMS | EXT_SESSION_TICKET => extension(&mut exts, e, &[]),
                EXT_ALPN => {
                    if let Some(first) = profile.alpn.first() {
                        let mut list = vec![first.len() as u8];
                        list.extend_from_slice(first.as_bytes());
                        let mut d = Vec::new();
                        put_u16_prefixed(&mut d, &list);
                        extension(&mut exts, e, &d);
                    }
                }
                _ => {}
            }
        }
    }
    put_u16_prefixed(&mut body, &exts);
    record(CONTENT_HANDSHAKE, &handshake(2, &body))
}

/// The server's first flight: TLS 1.3 (hello, CCS, encrypted handshake) or 1.2 (hello … done).
pub fn server_flight(
    profile: &ClientProfile,
    chain: &[Vec<u8>],
    rng: &mut SimRng,
    noise: &[u8],
) -> Vec<u8> {
    let cipher = server_choice(profile);
    let mut out = server_hello(profile, cipher, rng);
    if profile.tls13 {
        out.extend_from_slice(&record(CONTENT_CCS, &[1]));
        let encrypted_len = 2400 + chain.iter().map(Vec::len).sum::<usize>();
        out.extend_from_slice(&app_data(encrypted_len, noise));
        return out;
    }
    let mut certs = Vec::new();
    for c in chain {
        let len = (c.len() as u32).to_be_bytes();
        certs.extend_from_slice(len.get(1..).unwrap_or_default());
        certs.extend_from_slice(c);
    }
    let mut cert_body = Vec::with_capacity(certs.len() + 3);
    cert_body.extend_from_slice(
        (certs.len() as u32)
            .to_be_bytes()
            .get(1..)
            .unwrap_or_default(),
    );
    cert_body.extend_from_slice(&certs);
    out.extend_from_slice(&record(CONTENT_HANDSHAKE, &handshake(11, &cert_body)));
    let mut ske = vec![3, 0x00, 0x1d, 32];
    ske.extend_from_slice(&rng.bytes::<32>());
    ske.extend_from_slice(&0x0403u16.to_be_bytes());
    let mut sig = vec![0x30, 0x44, 0x02, 0x20];
    sig.extend_from_slice(&rng.bytes::<32>());
    sig.extend_from_slice(&[0x02, 0x20]);
    sig.extend_from_slice(&rng.bytes::<32>());
    if let Some(b) = sig.get_mut(4) {
        *b &= 0x7f;
    }
    if let Some(b) = sig.get_mut(38) {
        *b &= 0x7f;
    }
    put_u16_prefixed(&mut ske, &sig);
    out.extend_from_slice(&record(CONTENT_HANDSHAKE, &handshake(12, &ske)));
    out.extend_from_slice(&record(CONTENT_HANDSHAKE, &handshake(14, &[])));
    out
}

/// The client's second flight: 1.2 key exchange + CCS + Finished, or 1.3 CCS + Finished.
pub fn client_finish(profile: &ClientProfile, rng: &mut SimRng, noise: &[u8]) -> Vec<u8> {
    if profile.tls13 {
        let mut out = record(CONTENT_CCS, &[1]);
        out.extend_from_slice(&app_data(53, noise));
        return out;
    }
    let mut cke = vec![32];
    cke.extend_from_slice(&rng.bytes::<32>());
    let mut out = record(CONTENT_HANDSHAKE, &handshake(16, &cke));
    out.extend_from_slice(&record(CONTENT_CCS, &[1]));
    out.extend_from_slice(&record(
        CONTENT_HANDSHAKE,
        noise.get(..40).unwrap_or_default(),
    ));
    out
}

/// The 1.2 server's CCS + Finished (nothing for 1.3: its Finished was in the first flight).
pub fn server_finish(profile: &ClientProfile, noise: &[u8]) -> Vec<u8> {
    if profile.tls13 {
        return Vec::new();
    }
    let mut out = record(CONTENT_CCS, &[1]);
    out.extend_from_slice(&record(
        CONTENT_HANDSHAKE,
        noise.get(..40).unwrap_or_default(),
    ));
    out
}

/// Application data of `len` bytes, split into records of at most 16 KiB + overhead.
pub fn app_data(len: usize, noise: &[u8]) -> Vec<u8> {
    const MAX_RECORD: usize = 16_401;
    let mut out = Vec::with_capacity(len + 5 * (len / MAX_RECORD + 1));
    let mut left = len.max(1);
    let mut offset = 0usize;
    while left > 0 {
        let n = left.min(MAX_RECORD);
        out.push(CONTENT_APPDATA);
        out.extend_from_slice(&[0x03, 0x03]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        put_noise(&mut out, noise, offset, n);
        offset += n;
        left -= n;
    }
    out
}

/// An encrypted close_notify alert (1.2: alert record; 1.3: inside application data).
pub fn close_notify(profile: &ClientProfile, noise: &[u8]) -> Vec<u8> {
    if profile.tls13 {
        record(CONTENT_APPDATA, noise.get(..19).unwrap_or_default())
    } else {
        record(CONTENT_ALERT, noise.get(..26).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: ClientProfile = ClientProfile {
        tls13: true,
        grease: true,
        ciphers: &[0x1301, 0xc02b],
        extensions: &[
            EXT_GREASE,
            EXT_SNI,
            EXT_GROUPS,
            EXT_POINT_FORMATS,
            EXT_ALPN,
            EXT_VERSIONS,
            EXT_KEY_SHARE,
            EXT_GREASE,
        ],
        groups: &[0x001d, 0x0017],
        sig_algs: &[0x0403],
        alpn: &["h2", "http/1.1"],
        session_id: true,
    };

    #[test]
    fn client_hello_lengths_are_consistent() {
        let ch = client_hello(&P, Some("api.example.com"), &mut SimRng::new(1));
        let rec_len = usize::from(u16::from_be_bytes([ch[3], ch[4]]));
        assert_eq!(rec_len + 5, ch.len());
        assert_eq!(ch.get(5), Some(&1));
        let hs_len = u32::from_be_bytes([0, ch[6], ch[7], ch[8]]) as usize;
        assert_eq!(hs_len + 4, rec_len);
        assert!(ch.windows(15).any(|w| w == b"api.example.com"));
    }

    #[test]
    fn same_profile_same_fingerprint_fields() {
        let a = client_hello(&P, Some("x.example"), &mut SimRng::new(1));
        let b = client_hello(&P, Some("x.example"), &mut SimRng::new(2));
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b); // randoms differ, structure does not
        assert_eq!(server_choice(&P), 0x1301);
    }

    #[test]
    fn app_data_splits_into_bounded_records() {
        let noise = vec![7u8; 4096];
        let d = app_data(40_000, &noise);
        assert_eq!(d.len(), 40_000 + 3 * 5);
        assert_eq!(d.first(), Some(&CONTENT_APPDATA));
    }
}
