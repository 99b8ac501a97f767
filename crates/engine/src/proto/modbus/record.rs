//! The `modbus` log: one line per Modbus/TCP message, as Zeek's modbus.log
//! (`ts uid id.* tid unit func pdu_type exception`), followed by gatewatch
//! fields: `is_response`, the `start_address`/`quantity` a read or write of
//! coils/registers addresses (a read response takes them from its request,
//! paired by transaction id).
//!
//! Differences from Zeek: every message is logged — Zeek drops messages whose
//! function code has bit 0x80 set unless they are one of its fourteen known
//! exception responses from the responder — and an exception code is read in
//! either direction (a device on port 502 that opened the connection itself
//! still answers with exceptions).

use std::borrow::Cow;

use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One Modbus/TCP request or response.
#[derive(Debug, Clone, PartialEq)]
pub struct ModbusRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    /// MBAP transaction id.
    pub tid: u16,
    /// MBAP unit id.
    pub unit: u8,
    /// Function name as Zeek writes it (`READ_COILS`, `…_EXCEPTION`, `unknown-N`).
    pub func: Cow<'static, str>,
    /// The raw function code (not a column: `func` names it; for detectors).
    pub function_code: u8,
    /// `REQ` from the connection's originator, `RESP` from the responder.
    pub pdu_type: &'static str,
    /// Exception name of an exception response.
    pub exception: Option<Cow<'static, str>>,
    /// The raw exception code (not a column).
    pub exception_code: Option<u8>,
    /// gatewatch: the message came from the responder.
    pub is_response: bool,
    /// gatewatch: first coil/register addressed.
    pub start_address: Option<u16>,
    /// gatewatch: number of coils/registers addressed.
    pub quantity: Option<u16>,
}

const FIELDS: [Field; 14] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("tid", "count"),
    Field::new("unit", "count"),
    Field::new("func", "string"),
    Field::new("pdu_type", "string"),
    Field::new("exception", "string"),
    Field::new("is_response", "bool"),
    Field::new("start_address", "count"),
    Field::new("quantity", "count"),
];

impl LogRecord for ModbusRecord {
    fn path(&self) -> &'static str {
        "modbus"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::Count(u64::from(self.tid)));
        f(Value::Count(u64::from(self.unit)));
        f(Value::Str(&self.func));
        f(Value::Str(self.pdu_type));
        f(Value::opt_str(self.exception.as_deref()));
        f(Value::Bool(self.is_response));
        f(Value::opt_count(self.start_address.map(u64::from)));
        f(Value::opt_count(self.quantity.map(u64::from)));
    }
}
