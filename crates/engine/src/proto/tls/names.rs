//! Numbers on the wire in → the strings Zeek's ssl.log prints for them
//! (`base/protocols/ssl/consts.zeek`): protocol versions, cipher suites
//! (IANA names, taken from `tls-parser`'s registry), named curves and alert
//! descriptions. Unknown numbers print as Zeek's `unknown-<n>`.

use std::borrow::Cow;

use tls_parser::{TlsCipherKx, TlsCipherSuite};

/// Zeek's `version_strings`.
pub fn version(v: u16) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        0xfeff => "DTLSv10",
        0xfefd => "DTLSv12",
        0xfefc => "DTLSv13",
        // TLS 1.3 drafts: 0x7fNN.
        _ if v >> 8 == 0x7f => return Cow::Owned(format!("TLSv13-draft{}", v & 0xff)),
        _ => return Cow::Owned(format!("unknown-{v}")),
    })
}

/// Zeek's `cipher_desc`: the IANA name of a cipher suite.
pub fn cipher(id: u16) -> Cow<'static, str> {
    match TlsCipherSuite::from_id(id) {
        Some(suite) => Cow::Borrowed(suite.name),
        None => Cow::Owned(format!("unknown-{id}")),
    }
}

/// Whether a cipher suite's key exchange is (EC)DH with ephemeral or static
/// elliptic-curve keys, i.e. its ServerKeyExchange carries a named curve.
pub fn cipher_uses_ecdh(id: u16) -> bool {
    TlsCipherSuite::from_id(id).is_some_and(|s| {
        matches!(
            s.kx,
            TlsCipherKx::Ecdhe | TlsCipherKx::Ecdh | TlsCipherKx::Aecdh
        )
    })
}

/// Zeek's `ec_curves`.
pub fn curve(id: u16) -> Cow<'static, str> {
    const SECT_SECP: [&str; 30] = [
        "sect163k1",
        "sect163r1",
        "sect163r2",
        "sect193r1",
        "sect193r2",
        "sect233k1",
        "sect233r1",
        "sect239k1",
        "sect283k1",
        "sect283r1",
        "sect409k1",
        "sect409r1",
        "sect571k1",
        "sect571r1",
        "secp160k1",
        "secp160r1",
        "secp160r2",
        "secp192k1",
        "secp192r1",
        "secp224k1",
        "secp224r1",
        "secp256k1",
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
        "x25519",
        "x448",
    ];
    if let Some(name) = usize::from(id)
        .checked_sub(1)
        .and_then(|i| SECT_SECP.get(i))
    {
        return Cow::Borrowed(name);
    }
    Cow::Borrowed(match id {
        31 => "brainpoolP256r1tls13",
        32 => "brainpoolP384r1tls13",
        33 => "brainpoolP512r1tls13",
        34 => "GC256A",
        35 => "GC256B",
        36 => "GC256C",
        37 => "GC256D",
        38 => "GC512A",
        39 => "GC512B",
        40 => "GC512C",
        41 => "curveSM2",
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        259 => "ffdhe6144",
        260 => "ffdhe8192",
        512 => "MLKEM512",
        513 => "MLKEM768",
        514 => "MLKEM1024",
        4587 => "SecP256r1MLKEM768",
        4588 => "X25519MLKEM768",
        4589 => "SecP384r1MLKEM1024",
        4590 => "curveSM2MLKEM768",
        16696 => "CECPQ2",
        25497 => "X25519Kyber768Draft00",
        25498 => "SecP256r1Kyber768Draft00",
        0xff01 => "arbitrary_explicit_prime_curves",
        0xff02 => "arbitrary_explicit_char2_curves",
        _ if super::fingerprint::is_grease(id) => {
            return Cow::Owned(format!("grease_0x{id:04X}"));
        }
        _ => return Cow::Owned(format!("unknown-{id}")),
    })
}

/// Zeek's `alert_descriptions`.
pub fn alert_description(desc: u8) -> Cow<'static, str> {
    Cow::Borrowed(match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        117 => "general_error",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => return Cow::Owned(format!("unknown-{desc}")),
    })
}

/// The letter Zeek's `ssl_history` uses for a handshake message type
/// (lower case; upper-cased for the client).
pub fn history_letter(msg_type: u8) -> char {
    match msg_type {
        0 => 'h',
        1 => 'c',
        2 => 's',
        3 => 'v',
        4 => 't',
        5 => 'e',
        6 => 'j',
        8 => 'o',
        11 => 'x',
        12 => 'k',
        13 => 'r',
        14 => 'n',
        15 => 'y',
        16 => 'g',
        20 => 'f',
        21 => 'w',
        22 => 'u',
        23 => 'a',
        24 => 'p',
        254 => 'm',
        _ => 'z',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_strings() {
        assert_eq!(version(0x0303), "TLSv12");
        assert_eq!(version(0x7f17), "TLSv13-draft23");
        assert_eq!(version(0x1234), "unknown-4660");
        assert_eq!(cipher(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(cipher(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(cipher(0xfefe), "unknown-65278");
        assert!(cipher_uses_ecdh(0xc02f));
        assert!(!cipher_uses_ecdh(0x002f));
        assert_eq!(curve(23), "secp256r1");
        assert_eq!(curve(29), "x25519");
        assert_eq!(curve(30), "x448");
        assert_eq!(curve(1), "sect163k1");
        assert_eq!(curve(0x0a0a), "grease_0x0A0A");
        assert_eq!(curve(0), "unknown-0");
        assert_eq!(alert_description(40), "handshake_failure");
        assert_eq!(alert_description(200), "unknown-200");
        assert_eq!(history_letter(11), 'x');
        assert_eq!(history_letter(99), 'z');
    }
}
