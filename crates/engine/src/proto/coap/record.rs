//! The `coap` log record (gatewatch only; Zeek has no CoAP log): one
//! [`CoapRecord`] per CoAP message with its header, the URI options joined
//! (`/a/b`, `k=v&x`), content format and Observe; a response also names the
//! request it answers (method, path, round-trip time) when the flow saw it.
//!
//! In: parsed messages. Out: owned records; text cut to [`MAX_URI`] bytes.
#![deny(clippy::indexing_slicing)]

use super::parser::{uint_value, CoapMessage};
use super::state::PendingRequest;
use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::proto::bounded_string;
use crate::time::{Duration, Timestamp};

/// Bytes kept of a joined URI path or query, or of the host.
pub const MAX_URI: usize = 255;

const URI_HOST: u32 = 3;
const OBSERVE: u32 = 6;
const URI_PORT: u32 = 7;
const URI_PATH: u32 = 11;
const CONTENT_FORMAT: u32 = 12;
const URI_QUERY: u32 = 15;

/// One CoAP message.
#[derive(Debug, Clone, PartialEq)]
pub struct CoapRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    pub version: u8,
    /// `CON`, `NON`, `ACK` or `RST`.
    pub msg_type: &'static str,
    /// Method name for requests (`GET` …), `EMPTY`, else `class.detail` (`2.05`).
    pub code: String,
    pub message_id: u16,
    pub token_len: u8,
    /// Token as lowercase hex.
    pub token: String,
    pub uri_host: Option<String>,
    pub uri_port: Option<u32>,
    /// Uri-Path segments joined as `/a/b`.
    pub uri_path: Option<String>,
    /// Uri-Query segments joined with `&`.
    pub uri_query: Option<String>,
    pub content_format: Option<u32>,
    pub observe: Option<u32>,
    pub payload_len: u64,
    /// For a response: the answered request's method.
    pub request_method: Option<String>,
    /// For a response: the answered request's Uri-Path.
    pub request_uri_path: Option<String>,
    /// For a response: time since the answered request.
    pub rtt: Option<Duration>,
}

static FIELDS: [Field; 22] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("version", "count"),
    Field::new("msg_type", "string"),
    Field::new("code", "string"),
    Field::new("message_id", "count"),
    Field::new("token_len", "count"),
    Field::new("token", "string"),
    Field::new("uri_host", "string"),
    Field::new("uri_port", "count"),
    Field::new("uri_path", "string"),
    Field::new("uri_query", "string"),
    Field::new("content_format", "count"),
    Field::new("observe", "count"),
    Field::new("payload_len", "count"),
    Field::new("request_method", "string"),
    Field::new("request_uri_path", "string"),
    Field::new("rtt", "interval"),
];

/// The method or response name of a code byte.
pub fn code_name(code: u8) -> String {
    let method = match code {
        0 => "EMPTY",
        1 => "GET",
        2 => "POST",
        3 => "PUT",
        4 => "DELETE",
        5 => "FETCH",
        6 => "PATCH",
        7 => "iPATCH",
        _ => return format!("{}.{:02}", code >> 5, code & 0x1f),
    };
    method.to_string()
}

/// Appends `segment` to `joined` after `sep`, staying within [`MAX_URI`].
fn join_into(joined: &mut Option<String>, sep: char, leading: bool, segment: &[u8]) {
    let s = joined.get_or_insert_with(String::new);
    if s.len() >= MAX_URI {
        return;
    }
    if leading || !s.is_empty() {
        s.push(sep);
    }
    let room = MAX_URI.saturating_sub(s.len());
    let mut text = bounded_string(segment, room);
    // Replacement characters can make the text longer than `room` bytes.
    while text.len() > room {
        text.pop();
    }
    s.push_str(&text);
}

impl CoapRecord {
    /// The record of `msg`; `answered` is the request a response answers.
    pub fn from_message(
        conn: &ConnId,
        ts: Timestamp,
        msg: &CoapMessage<'_>,
        answered: Option<PendingRequest>,
    ) -> Self {
        let mut rec = CoapRecord {
            ts,
            conn: conn.clone(),
            version: msg.version,
            msg_type: msg.msg_type.name(),
            code: code_name(msg.code),
            message_id: msg.message_id,
            token_len: msg.token.len() as u8,
            token: msg.token.iter().map(|b| format!("{b:02x}")).collect(),
            uri_host: None,
            uri_port: None,
            uri_path: None,
            uri_query: None,
            content_format: None,
            observe: None,
            payload_len: msg.payload.len() as u64,
            request_method: None,
            request_uri_path: None,
            rtt: None,
        };
        for (number, value) in msg.option_iter() {
            match number {
                URI_HOST if rec.uri_host.is_none() => {
                    rec.uri_host = Some(bounded_string(value, MAX_URI));
                }
                URI_PORT => rec.uri_port = rec.uri_port.or(uint_value(value)),
                URI_PATH => join_into(&mut rec.uri_path, '/', true, value),
                URI_QUERY => join_into(&mut rec.uri_query, '&', false, value),
                CONTENT_FORMAT => rec.content_format = rec.content_format.or(uint_value(value)),
                OBSERVE => rec.observe = rec.observe.or(uint_value(value)),
                _ => {}
            }
        }
        if let Some(req) = answered {
            rec.request_method = Some(code_name(req.code));
            rec.rtt = Some(ts.since(req.ts));
            rec.request_uri_path = req.uri_path;
        }
        rec
    }
}

impl LogRecord for CoapRecord {
    fn path(&self) -> &'static str {
        "coap"
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        self.conn.visit(self.ts, f);
        f(Value::Count(u64::from(self.version)));
        f(Value::Str(self.msg_type));
        f(Value::Str(&self.code));
        f(Value::Count(u64::from(self.message_id)));
        f(Value::Count(u64::from(self.token_len)));
        f(Value::Str(&self.token));
        f(Value::opt_str(self.uri_host.as_deref()));
        f(Value::opt_count(self.uri_port.map(u64::from)));
        f(Value::opt_str(self.uri_path.as_deref()));
        f(Value::opt_str(self.uri_query.as_deref()));
        f(Value::opt_count(self.content_format.map(u64::from)));
        f(Value::opt_count(self.observe.map(u64::from)));
        f(Value::Count(self.payload_len));
        f(Value::opt_str(self.request_method.as_deref()));
        f(Value::opt_str(self.request_uri_path.as_deref()));
        f(self.rtt.map_or(Value::Unset, Value::Interval));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names() {
        assert_eq!(code_name(1), "GET");
        assert_eq!(code_name(0x45), "2.05");
        assert_eq!(code_name(0x84), "4.04");
        assert_eq!(code_name(0), "EMPTY");
    }

    #[test]
    fn joined_path_is_bounded() {
        let mut p = None;
        for _ in 0..100 {
            join_into(&mut p, '/', true, b"segment\xff\xff");
        }
        let p = p.unwrap();
        assert!(p.len() <= MAX_URI, "{}", p.len());
        assert!(p.starts_with("/segment\u{fffd}\u{fffd}/segment"));
    }
}
