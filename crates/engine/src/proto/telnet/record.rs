//! The `telnet` log (gatewatch's own: Zeek has none), one line per
//! connection: `ts uid id.* options login_attempts failures success
//! usernames banner server_negotiation`. Passwords are never recorded.

use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One Telnet connection's login story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelnetRecord {
    /// First payload byte seen.
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Options either side negotiated (`ECHO`, `NAWS`, `opt-N`), first seen first.
    pub options: Vec<String>,
    /// Passwords typed after a password prompt (plus user names refused
    /// before any password prompt).
    pub login_attempts: u64,
    pub failures: u64,
    /// A success marker or shell prompt followed a password.
    pub success: bool,
    /// Names typed after a login prompt.
    pub usernames: Vec<String>,
    /// First non-empty server line (or the first prompt).
    pub banner: Option<String>,
    /// gatewatch: the server's negotiation commands in order (`DO ECHO`,
    /// `WILL SUPPRESS-GO-AHEAD`, …), a fingerprint of its telnetd.
    pub server_negotiation: Vec<String>,
}

const FIELDS: [Field; 13] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("options", "vector[string]"),
    Field::new("login_attempts", "count"),
    Field::new("failures", "count"),
    Field::new("success", "bool"),
    Field::new("usernames", "vector[string]"),
    Field::new("banner", "string"),
    Field::new("server_negotiation", "vector[string]"),
];

impl LogRecord for TelnetRecord {
    fn path(&self) -> &'static str {
        "telnet"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::StrList(&self.options));
        f(Value::Count(self.login_attempts));
        f(Value::Count(self.failures));
        f(Value::Bool(self.success));
        f(Value::StrList(&self.usernames));
        f(Value::opt_str(self.banner.as_deref()));
        f(Value::StrList(&self.server_negotiation));
    }
}
