//! The ssl.log record: one per TLS/DTLS connection, written when the session
//! is established (first application data after both sides switched to
//! encryption) or when the connection ends.
//!
//! Columns: Zeek's ssl.log in Zeek's order (`base/protocols/ssl/main.zeek`
//! and `files.zeek`, with `SSL::log_include_server_certificate_subject_issuer`
//! and `..._client_...` on, so `subject`/`issuer`/`client_subject`/
//! `client_issuer` are present), then gatewatch's own columns: the JA3/JA3S/
//! JA4 fingerprints, what the client offered (ciphers, extensions, supported
//! versions, groups, ALPN) and the leaf server certificate's validity,
//! self-signed flag and SHA-1. Certificates are summarised here rather than
//! in a separate x509.log so one record carries everything a detector needs.

use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One ssl.log line.
#[derive(Debug, Clone, PartialEq)]
pub struct SslRecord {
    /// When the first TLS message of the connection was seen.
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Version the server chose (`TLSv12`, `TLSv13`, …).
    pub version: Option<String>,
    /// Cipher suite the server chose (IANA name).
    pub cipher: Option<String>,
    /// ECDH(E) group the server chose (ServerKeyExchange or key_share).
    pub curve: Option<String>,
    /// First host name of the client's SNI extension.
    pub server_name: Option<String>,
    pub resumed: bool,
    pub last_alert: Option<String>,
    /// First protocol of the server's ALPN extension.
    pub next_protocol: Option<String>,
    pub established: bool,
    pub ssl_history: String,
    /// SHA-256 of each server certificate, leaf first.
    pub cert_chain_fps: Vec<String>,
    pub client_cert_chain_fps: Vec<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub client_subject: Option<String>,
    pub client_issuer: Option<String>,
    /// Whether the SNI matches a name of the leaf server certificate.
    pub sni_matches_cert: Option<bool>,
    // gatewatch columns.
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    /// The ClientHello's own version field.
    pub client_version: Option<u64>,
    /// Cipher suites offered, in wire order (GREASE included).
    pub client_ciphers: Vec<u64>,
    /// Extension types offered, in wire order (GREASE included).
    pub client_extensions: Vec<u64>,
    pub client_supported_versions: Vec<u64>,
    pub client_curves: Vec<u64>,
    /// ALPN protocols offered, in order.
    pub client_alpn: Vec<String>,
    pub cert_not_valid_before: Option<Timestamp>,
    pub cert_not_valid_after: Option<Timestamp>,
    pub cert_self_signed: Option<bool>,
    /// SHA-1 of the leaf server certificate, lower-case hex.
    pub cert_sha1: Option<String>,
    /// The client opened with an SSLv2-compatible ClientHello (counted, not decoded).
    pub sslv2_client_hello: bool,
}

/// The columns of ssl.log, in order.
pub const SSL_FIELDS: [Field; 36] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("version", "string"),
    Field::new("cipher", "string"),
    Field::new("curve", "string"),
    Field::new("server_name", "string"),
    Field::new("resumed", "bool"),
    Field::new("last_alert", "string"),
    Field::new("next_protocol", "string"),
    Field::new("established", "bool"),
    Field::new("ssl_history", "string"),
    Field::new("cert_chain_fps", "vector[string]"),
    Field::new("client_cert_chain_fps", "vector[string]"),
    Field::new("subject", "string"),
    Field::new("issuer", "string"),
    Field::new("client_subject", "string"),
    Field::new("client_issuer", "string"),
    Field::new("sni_matches_cert", "bool"),
    Field::new("ja3", "string"),
    Field::new("ja3s", "string"),
    Field::new("ja4", "string"),
    Field::new("client_version", "count"),
    Field::new("client_ciphers", "vector[count]"),
    Field::new("client_extensions", "vector[count]"),
    Field::new("client_supported_versions", "vector[count]"),
    Field::new("client_curves", "vector[count]"),
    Field::new("client_alpn", "vector[string]"),
    Field::new("cert_not_valid_before", "time"),
    Field::new("cert_not_valid_after", "time"),
    Field::new("cert_self_signed", "bool"),
    Field::new("cert_sha1", "string"),
    Field::new("sslv2_client_hello", "bool"),
];

impl LogRecord for SslRecord {
    fn path(&self) -> &'static str {
        "ssl"
    }

    fn fields(&self) -> &'static [Field] {
        &SSL_FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        let t = |v: Option<Timestamp>| v.map_or(Value::Unset, Value::Time);
        self.conn.visit(self.ts, f);
        f(s(&self.version));
        f(s(&self.cipher));
        f(s(&self.curve));
        f(s(&self.server_name));
        f(Value::Bool(self.resumed));
        f(s(&self.last_alert));
        f(s(&self.next_protocol));
        f(Value::Bool(self.established));
        f(Value::Str(&self.ssl_history));
        f(opt_list(&self.cert_chain_fps));
        f(opt_list(&self.client_cert_chain_fps));
        f(s(&self.subject));
        f(s(&self.issuer));
        f(s(&self.client_subject));
        f(s(&self.client_issuer));
        f(Value::opt_bool(self.sni_matches_cert));
        f(s(&self.ja3));
        f(s(&self.ja3s));
        f(s(&self.ja4));
        f(Value::opt_count(self.client_version));
        f(opt_counts(&self.client_ciphers, self.client_version));
        f(opt_counts(&self.client_extensions, self.client_version));
        f(opt_counts(
            &self.client_supported_versions,
            self.client_version,
        ));
        f(opt_counts(&self.client_curves, self.client_version));
        f(if self.client_version.is_some() {
            Value::StrList(&self.client_alpn)
        } else {
            Value::Unset
        });
        f(t(self.cert_not_valid_before));
        f(t(self.cert_not_valid_after));
        f(Value::opt_bool(self.cert_self_signed));
        f(s(&self.cert_sha1));
        f(Value::Bool(self.sslv2_client_hello));
    }
}

fn s(v: &Option<String>) -> Value<'_> {
    Value::opt_str(v.as_deref())
}

/// A string vector, unset when empty (Zeek's `&optional` vectors).
fn opt_list(v: &[String]) -> Value<'_> {
    if v.is_empty() {
        Value::Unset
    } else {
        Value::StrList(v)
    }
}

/// A count vector of the ClientHello, unset when no ClientHello was parsed.
fn opt_counts(v: &[u64], client_version: Option<u64>) -> Value<'_> {
    if client_version.is_some() {
        Value::CountList(v)
    } else {
        Value::Unset
    }
}
