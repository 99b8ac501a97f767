//! The `dnp3` log, as Zeek's dnp3.log: `ts uid id.* fc_request fc_reply iin`,
//! one line per request/response pair (a response without a request, e.g.
//! an unsolicited one, and a request never answered get a line of their own).

use std::borrow::Cow;

use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One DNP3 application-layer exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Dnp3Record {
    /// Time of the message that completed the line (the response when there
    /// is one, as Zeek does).
    pub ts: Timestamp,
    pub conn: ConnId,
    /// Request function name (`READ`, `DIRECT_OPERATE`, `unknown-N`, …).
    pub fc_request: Option<Cow<'static, str>>,
    /// Response function name (`RESPONSE`, `UNSOLICITED_RESPONSE`, …).
    pub fc_reply: Option<Cow<'static, str>>,
    /// The response's internal indications (IIN1 in the high byte).
    pub iin: Option<u16>,
    /// The raw request function code (not a column; for detectors).
    pub request_code: Option<u8>,
    /// The raw response function code (not a column).
    pub reply_code: Option<u8>,
}

const FIELDS: [Field; 9] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("fc_request", "string"),
    Field::new("fc_reply", "string"),
    Field::new("iin", "count"),
];

impl LogRecord for Dnp3Record {
    fn path(&self) -> &'static str {
        "dnp3"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::opt_str(self.fc_request.as_deref()));
        f(Value::opt_str(self.fc_reply.as_deref()));
        f(Value::opt_count(self.iin.map(u64::from)));
    }
}
