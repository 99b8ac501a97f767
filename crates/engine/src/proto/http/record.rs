//! The http.log record: one request/response pair with Zeek's columns
//! (base/protocols/http/main.zeek plus the file columns of entities.zeek,
//! which stay unset: no file analysis here), then gatewatch's own columns.
//! RTSP pairs use the same columns and go to `rtsp.log`.
//!
//! In: filled by the transaction pairing in `state.rs`. Out: [`LogRecord`]
//! values. Every string was cut to a named limit before it got here.

use super::parser::Dialect;
use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One HTTP (or RTSP) request/response pair.
///
/// gatewatch columns after Zeek's: `server` (the response's Server header)
/// and `authorization_scheme` (first word of the request's Authorization or
/// Proxy-Authorization header, e.g. `Basic`). `password` is always unset, as
/// with Zeek's default `HTTP::default_capture_password = F`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRecord {
    pub dialect: Dialect,
    /// Time of the request (of the response when no request was seen).
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Position of this pair in the connection, from 1.
    pub trans_depth: u64,
    pub method: Option<String>,
    pub host: Option<String>,
    /// The request URI with `%xx` groups decoded, as Zeek logs it.
    pub uri: Option<String>,
    pub referrer: Option<String>,
    /// The version of the response (`1.1`).
    pub version: Option<String>,
    pub user_agent: Option<String>,
    pub origin: Option<String>,
    /// Body bytes after transfer decoding (chunk framing removed; content
    /// codings such as gzip are not undone).
    pub request_body_len: u64,
    pub response_body_len: u64,
    pub status_code: Option<u64>,
    pub status_msg: Option<String>,
    pub info_code: Option<u64>,
    pub info_msg: Option<String>,
    pub username: Option<String>,
    /// Proxy headers as `NAME -> value` (Zeek's `proxied` set).
    pub proxied: Vec<String>,
    pub server: Option<String>,
    pub authorization_scheme: Option<String>,
}

/// The columns of http.log / rtsp.log.
pub const HTTP_FIELDS: [Field; 32] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("trans_depth", "count"),
    Field::new("method", "string"),
    Field::new("host", "string"),
    Field::new("uri", "string"),
    Field::new("referrer", "string"),
    Field::new("version", "string"),
    Field::new("user_agent", "string"),
    Field::new("origin", "string"),
    Field::new("request_body_len", "count"),
    Field::new("response_body_len", "count"),
    Field::new("status_code", "count"),
    Field::new("status_msg", "string"),
    Field::new("info_code", "count"),
    Field::new("info_msg", "string"),
    Field::new("tags", "set[enum]"),
    Field::new("username", "string"),
    Field::new("password", "string"),
    Field::new("proxied", "set[string]"),
    Field::new("orig_fuids", "vector[string]"),
    Field::new("orig_filenames", "vector[string]"),
    Field::new("orig_mime_types", "vector[string]"),
    Field::new("resp_fuids", "vector[string]"),
    Field::new("resp_filenames", "vector[string]"),
    Field::new("resp_mime_types", "vector[string]"),
    Field::new("server", "string"),
    Field::new("authorization_scheme", "string"),
];

impl HttpRecord {
    pub(super) fn new(dialect: Dialect, ts: Timestamp, conn: ConnId, trans_depth: u64) -> Self {
        HttpRecord {
            dialect,
            ts,
            conn,
            trans_depth,
            method: None,
            host: None,
            uri: None,
            referrer: None,
            version: None,
            user_agent: None,
            origin: None,
            request_body_len: 0,
            response_body_len: 0,
            status_code: None,
            status_msg: None,
            info_code: None,
            info_msg: None,
            username: None,
            proxied: Vec::new(),
            server: None,
            authorization_scheme: None,
        }
    }
}

fn s(v: &Option<String>) -> Value<'_> {
    Value::opt_str(v.as_deref())
}

impl LogRecord for HttpRecord {
    fn path(&self) -> &'static str {
        match self.dialect {
            Dialect::Http => "http",
            Dialect::Rtsp => "rtsp",
        }
    }

    fn fields(&self) -> &'static [Field] {
        &HTTP_FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::Count(self.trans_depth));
        f(s(&self.method));
        f(s(&self.host));
        f(s(&self.uri));
        f(s(&self.referrer));
        f(s(&self.version));
        f(s(&self.user_agent));
        f(s(&self.origin));
        f(Value::Count(self.request_body_len));
        f(Value::Count(self.response_body_len));
        f(Value::opt_count(self.status_code));
        f(s(&self.status_msg));
        f(Value::opt_count(self.info_code));
        f(s(&self.info_msg));
        f(Value::StrList(&[]));
        f(s(&self.username));
        f(Value::Unset);
        if self.proxied.is_empty() {
            f(Value::Unset);
        } else {
            f(Value::StrList(&self.proxied));
        }
        for _file_column in 0..6 {
            f(Value::Unset);
        }
        f(s(&self.server));
        f(s(&self.authorization_scheme));
    }
}
