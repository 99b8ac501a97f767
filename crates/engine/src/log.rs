//! The log model shared by every record that becomes a Zeek-style log line:
//! a record lists its fields (name + Zeek type) once and hands out its values
//! in that order; the binary's writers turn them into Zeek TSV or JSON Lines.
//!
//! In: records from the flow table and the protocol analyzers. Out: typed
//! [`Value`]s; no formatting happens here.

use std::net::IpAddr;

use crate::time::{Duration, Timestamp};

/// One column of a log: its name and Zeek type (`time`, `string`, `addr`,
/// `port`, `count`, `int`, `double`, `bool`, `interval`, `enum`,
/// `set[string]`, `vector[string]`, `vector[count]`, `vector[interval]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: &'static str,
}

impl Field {
    pub const fn new(name: &'static str, ty: &'static str) -> Self {
        Field { name, ty }
    }
}

/// One value of a log line. `Unset` prints as `-` in TSV and is omitted in JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Unset,
    Time(Timestamp),
    Interval(Duration),
    Str(&'a str),
    Addr(IpAddr),
    Port(u16),
    Count(u64),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// A set or vector of strings (`(empty)` in TSV when empty).
    StrList(&'a [String]),
    /// A vector of counts.
    CountList(&'a [u64]),
    /// A vector of intervals (dns.log `TTLs`).
    IntervalList(&'a [Duration]),
}

impl<'a> Value<'a> {
    /// `Str` for `Some`, `Unset` for `None`.
    pub fn opt_str(v: Option<&'a str>) -> Self {
        v.map_or(Value::Unset, Value::Str)
    }

    pub fn opt_count(v: Option<u64>) -> Self {
        v.map_or(Value::Unset, Value::Count)
    }

    pub fn opt_bool(v: Option<bool>) -> Self {
        v.map_or(Value::Unset, Value::Bool)
    }
}

/// A record that is written as one line of the log named by `path`.
pub trait LogRecord {
    /// The log's name (`conn`, `dns`, `mqtt_connect`, …): file `<path>.log`.
    fn path(&self) -> &'static str;
    /// The columns, in order.
    fn fields(&self) -> &'static [Field];
    /// Calls `f` once per column, in the order of [`LogRecord::fields`].
    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>));
}

/// The connection a protocol record belongs to: Zeek's `uid` and `id` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnId {
    pub uid: String,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
}

/// The six leading columns every protocol log shares with Zeek's.
pub const CONN_ID_FIELDS: [Field; 6] = [
    Field::new("ts", "time"),
    Field::new("uid", "string"),
    Field::new("id.orig_h", "addr"),
    Field::new("id.orig_p", "port"),
    Field::new("id.resp_h", "addr"),
    Field::new("id.resp_p", "port"),
];

impl ConnId {
    /// Visits `ts` and the five `uid`/`id.*` values, matching [`CONN_ID_FIELDS`].
    pub fn visit(&self, ts: Timestamp, f: &mut dyn FnMut(Value<'_>)) {
        f(Value::Time(ts));
        f(Value::Str(&self.uid));
        f(Value::Addr(self.orig_h));
        f(Value::Port(self.orig_p));
        f(Value::Addr(self.resp_h));
        f(Value::Port(self.resp_p));
    }
}
