//! The `ntp` log record: one [`NtpRecord`] per NTP message, with Zeek's
//! ntp.log columns (`version` … `num_exts`, same names, types and unit
//! conversions as Zeek's NTP analyzer) and gatewatch's after them: `leap`,
//! and for control (6) / private (7) messages — which Zeek does not log —
//! `control_op`, `private_req` and `response`.
//!
//! In: parsed messages. Out: owned records; the reference id is cut to 4 bytes.
#![deny(clippy::indexing_slicing)]

use std::net::Ipv4Addr;

use super::parser::{NtpBody, NtpMessage, NtpTimestamp};
use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::{Duration, Timestamp};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// One NTP message.
#[derive(Debug, Clone, PartialEq)]
pub struct NtpRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    pub version: u8,
    pub mode: u8,
    /// The fields of the standard header (modes 1–5), else `None`.
    pub std: Option<NtpStandardFields>,
    pub leap: u8,
    /// Mode 6 opcode.
    pub control_op: Option<u8>,
    /// Mode 7 request code (42 = monlist).
    pub private_req: Option<u8>,
    /// Mode 6/7 response bit.
    pub response: Option<bool>,
}

/// The standard-header columns, converted as Zeek does.
#[derive(Debug, Clone, PartialEq)]
pub struct NtpStandardFields {
    pub stratum: u8,
    /// 2^poll seconds.
    pub poll: Duration,
    /// 2^precision seconds.
    pub precision: Duration,
    pub root_delay: Duration,
    pub root_disp: Duration,
    /// Stratum 0: kiss code; 1: reference clock name; above: IPv4 address.
    pub ref_id: String,
    pub ref_time: Timestamp,
    pub org_time: Timestamp,
    pub rec_time: Timestamp,
    pub xmt_time: Timestamp,
    pub num_exts: u32,
}

static FIELDS: [Field; 23] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("version", "count"),
    Field::new("mode", "count"),
    Field::new("stratum", "count"),
    Field::new("poll", "interval"),
    Field::new("precision", "interval"),
    Field::new("root_delay", "interval"),
    Field::new("root_disp", "interval"),
    Field::new("ref_id", "string"),
    Field::new("ref_time", "time"),
    Field::new("org_time", "time"),
    Field::new("rec_time", "time"),
    Field::new("xmt_time", "time"),
    Field::new("num_exts", "count"),
    Field::new("leap", "count"),
    Field::new("control_op", "count"),
    Field::new("private_req", "count"),
    Field::new("response", "bool"),
];

impl NtpRecord {
    pub fn from_message(conn: &ConnId, ts: Timestamp, msg: &NtpMessage) -> Self {
        let mut rec = NtpRecord {
            ts,
            conn: conn.clone(),
            version: msg.version,
            mode: msg.mode,
            std: None,
            leap: msg.leap,
            control_op: None,
            private_req: None,
            response: None,
        };
        match msg.body {
            NtpBody::Standard(s) => {
                rec.std = Some(NtpStandardFields {
                    stratum: s.stratum,
                    poll: pow2(s.poll),
                    precision: pow2(s.precision),
                    root_delay: short_format(s.root_delay),
                    root_disp: short_format(s.root_dispersion),
                    ref_id: ref_id(s.stratum, s.reference_id),
                    ref_time: unix_time(s.reference_ts),
                    org_time: unix_time(s.origin_ts),
                    rec_time: unix_time(s.receive_ts),
                    xmt_time: unix_time(s.transmit_ts),
                    num_exts: s.num_exts,
                });
            }
            NtpBody::Control(c) => {
                rec.control_op = Some(c.opcode);
                rec.response = Some(c.response);
            }
            NtpBody::Private(p) => {
                rec.private_req = Some(p.request_code);
                rec.response = Some(p.response);
            }
            NtpBody::Reserved => {}
        }
        rec
    }
}

/// 2^exp seconds, saturating far outside the range NTP uses.
fn pow2(exp: i8) -> Duration {
    Duration((2f64.powi(i32::from(exp)) * 1e9).round() as i64)
}

/// NTP short format: 16.16 fixed-point seconds.
fn short_format(v: u32) -> Duration {
    let nanos = (u64::from(v) * 1_000_000_000) >> 16;
    Duration(nanos as i64)
}

/// Unix time of an NTP timestamp (era 0, as Zeek); all-zero stays 0.
pub fn unix_time(t: NtpTimestamp) -> Timestamp {
    if t.seconds == 0 && t.fraction == 0 {
        return Timestamp(0);
    }
    let frac_nanos = (u64::from(t.fraction) * 1_000_000_000) >> 32;
    let secs = i64::from(t.seconds) - NTP_UNIX_OFFSET;
    Timestamp(secs * 1_000_000_000 + frac_nanos as i64)
}

/// Zeek's ref_id: the 4 bytes as text for strata 0 (kiss code) and 1
/// (reference clock), else a dotted IPv4 address. Trailing NULs are dropped.
fn ref_id(stratum: u8, id: [u8; 4]) -> String {
    if stratum <= 1 {
        let end = id.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        String::from_utf8_lossy(id.get(..end).unwrap_or_default()).into_owned()
    } else {
        Ipv4Addr::from(id).to_string()
    }
}

impl LogRecord for NtpRecord {
    fn path(&self) -> &'static str {
        "ntp"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::Count(u64::from(self.version)));
        f(Value::Count(u64::from(self.mode)));
        match &self.std {
            Some(s) => {
                f(Value::Count(u64::from(s.stratum)));
                f(Value::Interval(s.poll));
                f(Value::Interval(s.precision));
                f(Value::Interval(s.root_delay));
                f(Value::Interval(s.root_disp));
                f(Value::Str(&s.ref_id));
                f(Value::Time(s.ref_time));
                f(Value::Time(s.org_time));
                f(Value::Time(s.rec_time));
                f(Value::Time(s.xmt_time));
                f(Value::Count(u64::from(s.num_exts)));
            }
            None => {
                for _ in 0..11 {
                    f(Value::Unset);
                }
            }
        }
        f(Value::Count(u64::from(self.leap)));
        f(Value::opt_count(self.control_op.map(u64::from)));
        f(Value::opt_count(self.private_req.map(u64::from)));
        f(Value::opt_bool(self.response));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_zeek() {
        assert_eq!(pow2(6), Duration::from_secs(64));
        assert_eq!(pow2(-20), Duration(954));
        assert_eq!(short_format(0x0001_8000), Duration(1_500_000_000));
        let t = NtpTimestamp {
            seconds: 3_913_056_000,
            fraction: 1 << 31,
        };
        assert_eq!(unix_time(t), Timestamp(1_704_067_200_500_000_000));
        assert_eq!(unix_time(NtpTimestamp::default()), Timestamp(0));
        assert_eq!(ref_id(1, *b"GPS\0"), "GPS");
        assert_eq!(ref_id(2, [192, 0, 2, 1]), "192.0.2.1");
    }
}
