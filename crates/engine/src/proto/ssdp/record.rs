//! The `ssdp` log record (gatewatch only; Zeek has no SSDP log): one
//! [`SsdpRecord`] per NOTIFY, M-SEARCH or search response, with the headers
//! that identify UPnP devices (SERVER, USN, NT/ST, LOCATION, USER-AGENT).
//!
//! In: parsed messages. Out: owned records; every text value is cut to
//! [`MAX_VALUE`] bytes.
#![deny(clippy::indexing_slicing)]

use super::parser::{decimal, max_age, SsdpMessage, StartLine};
use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::proto::bounded_string;
use crate::time::Timestamp;

/// Bytes kept of any header value or of the method and reason.
pub const MAX_VALUE: usize = 512;

/// One SSDP message.
#[derive(Debug, Clone, PartialEq)]
pub struct SsdpRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Request method (`NOTIFY`, `M-SEARCH`); unset for responses.
    pub method: Option<String>,
    /// Response status code; unset for requests.
    pub status_code: Option<u16>,
    pub host: Option<String>,
    pub nt: Option<String>,
    pub nts: Option<String>,
    pub st: Option<String>,
    pub usn: Option<String>,
    pub server: Option<String>,
    pub location: Option<String>,
    pub user_agent: Option<String>,
    /// CACHE-CONTROL max-age, seconds.
    pub max_age: Option<u64>,
    pub man: Option<String>,
    pub mx: Option<u64>,
}

static FIELDS: [Field; 19] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("method", "string"),
    Field::new("status_code", "count"),
    Field::new("host", "string"),
    Field::new("nt", "string"),
    Field::new("nts", "string"),
    Field::new("st", "string"),
    Field::new("usn", "string"),
    Field::new("server", "string"),
    Field::new("location", "string"),
    Field::new("user_agent", "string"),
    Field::new("max_age", "count"),
    Field::new("man", "string"),
    Field::new("mx", "count"),
];

impl SsdpRecord {
    pub fn from_message(conn: &ConnId, ts: Timestamp, msg: &SsdpMessage<'_>) -> Self {
        let text = |v: Option<&[u8]>| v.map(|b| bounded_string(b, MAX_VALUE));
        let (method, status_code) = match msg.start {
            StartLine::Request { method, .. } => (Some(bounded_string(method, MAX_VALUE)), None),
            StartLine::Response { status, .. } => (None, Some(status)),
        };
        SsdpRecord {
            ts,
            conn: conn.clone(),
            method,
            status_code,
            host: text(msg.host),
            nt: text(msg.nt),
            nts: text(msg.nts),
            st: text(msg.st),
            usn: text(msg.usn),
            server: text(msg.server),
            location: text(msg.location),
            user_agent: text(msg.user_agent),
            max_age: msg.cache_control.and_then(max_age),
            man: text(msg.man),
            mx: msg.mx.and_then(decimal),
        }
    }
}

impl LogRecord for SsdpRecord {
    fn path(&self) -> &'static str {
        "ssdp"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::opt_str(self.method.as_deref()));
        f(Value::opt_count(self.status_code.map(u64::from)));
        f(Value::opt_str(self.host.as_deref()));
        f(Value::opt_str(self.nt.as_deref()));
        f(Value::opt_str(self.nts.as_deref()));
        f(Value::opt_str(self.st.as_deref()));
        f(Value::opt_str(self.usn.as_deref()));
        f(Value::opt_str(self.server.as_deref()));
        f(Value::opt_str(self.location.as_deref()));
        f(Value::opt_str(self.user_agent.as_deref()));
        f(Value::opt_count(self.max_age));
        f(Value::opt_str(self.man.as_deref()));
        f(Value::opt_count(self.mx));
    }
}
