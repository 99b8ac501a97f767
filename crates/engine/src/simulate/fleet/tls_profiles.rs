//! The TLS client fingerprints of the fleet: one fixed ClientHello shape per software stack.
//!
//! Static data only. Each profile is what JA3/JA4 would read for that stack;
//! device classes point at one of these, so a class keeps a stable
//! fingerprint and a compromised device's implant shows a foreign one.

use crate::simulate::proto::tls::{
    ClientProfile, EXT_ALPN, EXT_COMPRESS_CERT, EXT_EMS, EXT_ENCRYPT_THEN_MAC, EXT_GREASE,
    EXT_GROUPS, EXT_HEARTBEAT, EXT_KEY_SHARE, EXT_POINT_FORMATS, EXT_PSK_MODES, EXT_RENEGOTIATION,
    EXT_SCT, EXT_SESSION_TICKET, EXT_SIG_ALGS, EXT_SNI, EXT_STATUS_REQUEST, EXT_VERSIONS,
};

const SIG_MODERN: &[u16] = &[
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];
const SIG_OPENSSL_102: &[u16] = &[
    0x0601, 0x0602, 0x0603, 0x0501, 0x0502, 0x0503, 0x0401, 0x0402, 0x0403, 0x0301, 0x0302, 0x0303,
    0x0201, 0x0202, 0x0203,
];
const SIG_OPENSSL_111: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303,
    0x0203, 0x0301, 0x0201,
];
const SIG_MBEDTLS: &[u16] = &[
    0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301, 0x0203, 0x0201,
];

/// Chrome on Windows laptops.
pub static CHROME: ClientProfile = ClientProfile {
    tls13: true,
    grease: true,
    ciphers: &[
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ],
    extensions: &[
        EXT_GREASE,
        EXT_SNI,
        EXT_EMS,
        EXT_RENEGOTIATION,
        EXT_GROUPS,
        EXT_POINT_FORMATS,
        EXT_SESSION_TICKET,
        EXT_ALPN,
        EXT_STATUS_REQUEST,
        EXT_SIG_ALGS,
        EXT_SCT,
        EXT_KEY_SHARE,
        EXT_PSK_MODES,
        EXT_VERSIONS,
        EXT_COMPRESS_CERT,
        EXT_GREASE,
    ],
    groups: &[0x001d, 0x0017, 0x0018],
    sig_algs: SIG_MODERN,
    alpn: &["h2", "http/1.1"],
    session_id: true,
};

/// Safari / Apple system networking (iPhones, MacBooks).
pub static APPLE: ClientProfile = ClientProfile {
    tls13: true,
    grease: true,
    ciphers: &[
        0x1301, 0x1302, 0x1303, 0xc02c, 0xc02b, 0xcca9, 0xc030, 0xc02f, 0xcca8, 0xc00a, 0xc009,
        0xc014, 0xc013, 0x009d, 0x009c, 0x0035, 0x002f, 0xc008, 0xc012, 0x000a,
    ],
    extensions: &[
        EXT_GREASE,
        EXT_SNI,
        EXT_EMS,
        EXT_RENEGOTIATION,
        EXT_GROUPS,
        EXT_POINT_FORMATS,
        EXT_ALPN,
        EXT_STATUS_REQUEST,
        EXT_SIG_ALGS,
        EXT_SCT,
        EXT_KEY_SHARE,
        EXT_PSK_MODES,
        EXT_VERSIONS,
        EXT_COMPRESS_CERT,
        EXT_GREASE,
    ],
    groups: &[0x001d, 0x0017, 0x0018, 0x0019],
    sig_algs: SIG_MODERN,
    alpn: &["h2", "http/1.1"],
    session_id: true,
};

/// Android apps (OkHttp / Conscrypt).
pub static ANDROID: ClientProfile = ClientProfile {
    tls13: true,
    grease: false,
    ciphers: &[
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ],
    extensions: &[
        EXT_SNI,
        EXT_EMS,
        EXT_RENEGOTIATION,
        EXT_GROUPS,
        EXT_POINT_FORMATS,
        EXT_SESSION_TICKET,
        EXT_ALPN,
        EXT_SIG_ALGS,
        EXT_KEY_SHARE,
        EXT_PSK_MODES,
        EXT_VERSIONS,
    ],
    groups: &[0x001d, 0x0017, 0x0018],
    sig_algs: SIG_MODERN,
    alpn: &["h2", "http/1.1"],
    session_id: true,
};

/// Embedded Linux with OpenSSL 1.0.2 (older cameras, printers): TLS 1.2 only, heartbeat extension.
pub static OPENSSL_102: ClientProfile = ClientProfile {
    tls13: false,
    grease: false,
    ciphers: &[
        0xc030, 0xc02c, 0xc028, 0xc024, 0xc014, 0xc00a, 0x009f, 0x006b, 0x0039, 0x009d, 0x003d,
        0x0035, 0xc02f, 0xc02b, 0xc027, 0xc023, 0xc013, 0xc009, 0x009e, 0x0067, 0x0033, 0x009c,
        0x003c, 0x002f, 0x00ff,
    ],
    extensions: &[
        EXT_SNI,
        EXT_POINT_FORMATS,
        EXT_GROUPS,
        EXT_SESSION_TICKET,
        EXT_SIG_ALGS,
        EXT_HEARTBEAT,
    ],
    groups: &[0x0017, 0x0019, 0x0018],
    sig_algs: SIG_OPENSSL_102,
    alpn: &[],
    session_id: false,
};

/// Embedded Linux with OpenSSL 1.1.1 (newer cameras, bridges, voice assistants' daemons).
pub static OPENSSL_111: ClientProfile = ClientProfile {
    tls13: true,
    grease: false,
    ciphers: &[
        0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f,
        0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009,
        0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
    ],
    extensions: &[
        EXT_SNI,
        EXT_POINT_FORMATS,
        EXT_GROUPS,
        EXT_SESSION_TICKET,
        EXT_ENCRYPT_THEN_MAC,
        EXT_EMS,
        EXT_SIG_ALGS,
        EXT_VERSIONS,
        EXT_PSK_MODES,
        EXT_KEY_SHARE,
    ],
    groups: &[0x001d, 0x0017, 0x001e, 0x0019, 0x0018],
    sig_algs: SIG_OPENSSL_111,
    alpn: &[],
    session_id: true,
};

/// mbedTLS on microcontrollers (plugs, thermostats, medical devices): TLS 1.2, short list.
pub static MBEDTLS: ClientProfile = ClientProfile {
    tls13: false,
    grease: false,
    ciphers: &[
        0xc02c, 0xc02b, 0xc030, 0xc02f, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014,
        0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
    ],
    extensions: &[
        EXT_SNI,
        EXT_SIG_ALGS,
        EXT_GROUPS,
        EXT_POINT_FORMATS,
        EXT_ENCRYPT_THEN_MAC,
        EXT_EMS,
    ],
    groups: &[0x0017, 0x0018, 0x0019, 0x001d],
    sig_algs: SIG_MBEDTLS,
    alpn: &[],
    session_id: false,
};

/// BoringSSL in smart speakers (TLS 1.3, ALPN h2, no GREASE).
pub static BORINGSSL_DEVICE: ClientProfile = ClientProfile {
    tls13: true,
    grease: false,
    ciphers: &[
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013,
        0xc00a, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ],
    extensions: &[
        EXT_SNI,
        EXT_EMS,
        EXT_RENEGOTIATION,
        EXT_GROUPS,
        EXT_POINT_FORMATS,
        EXT_SESSION_TICKET,
        EXT_ALPN,
        EXT_STATUS_REQUEST,
        EXT_SIG_ALGS,
        EXT_KEY_SHARE,
        EXT_PSK_MODES,
        EXT_VERSIONS,
    ],
    groups: &[0x001d, 0x0017, 0x0018],
    sig_algs: SIG_MODERN,
    alpn: &["h2"],
    session_id: true,
};

/// A Go implant's default client (what a compromised device's C2 traffic looks like).
pub static GO_IMPLANT: ClientProfile = ClientProfile {
    tls13: true,
    grease: false,
    ciphers: &[
        0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0xc00a, 0xc014, 0x009c,
        0x009d, 0x002f, 0x0035, 0xc012, 0x000a, 0x1301, 0x1302, 0x1303,
    ],
    extensions: &[
        EXT_SNI,
        EXT_STATUS_REQUEST,
        EXT_GROUPS,
        EXT_POINT_FORMATS,
        EXT_SIG_ALGS,
        EXT_RENEGOTIATION,
        EXT_SCT,
        EXT_VERSIONS,
        EXT_KEY_SHARE,
    ],
    groups: &[0x001d, 0x0017, 0x0018, 0x0019],
    sig_algs: &[
        0x0804, 0x0403, 0x0807, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0503, 0x0603, 0x0201,
        0x0203,
    ],
    alpn: &[],
    session_id: true,
};
