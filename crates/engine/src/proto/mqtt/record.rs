//! The three logs of Zeek's MQTT analyzer (policy/protocols/mqtt/main.zeek):
//! mqtt_connect.log, mqtt_publish.log, mqtt_subscribe.log, with Zeek's
//! columns first and gatewatch's after them, plus [`MqttRecord`], the one
//! type the analyzer pushes.
//!
//! In: filled by the session state in `state.rs`. Out: [`LogRecord`] values.
//! Strings were cut to their named limits before they got here.

use crate::log::{ConnId, Field, LogRecord, Value, CONN_ID_FIELDS};
use crate::time::Timestamp;

/// One CONNECT and the server's CONNACK (either may be missing).
///
/// gatewatch columns after Zeek's: `username_present`, `password_present`,
/// `keep_alive` (seconds), `clean_session` (clean start in MQTT 5) and
/// `connack_code` (the CONNACK return / reason code as a number; 4 and 5 in
/// MQTT 3.1.1, 0x86 and 0x87 in MQTT 5 are refused credentials).
#[derive(Debug, Clone, PartialEq)]
pub struct MqttConnectRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    pub proto_name: Option<String>,
    /// `3.1`, `3.1.1`, `5.0` or `unknown-version-N`, as Zeek prints it.
    pub proto_version: Option<String>,
    pub client_id: Option<String>,
    /// Zeek's text for the CONNACK code (`Connection Accepted`, `Refused: …`).
    pub connect_status: Option<String>,
    pub will_topic: Option<String>,
    pub will_payload: Option<String>,
    pub username_present: Option<bool>,
    pub password_present: Option<bool>,
    pub keep_alive: Option<u64>,
    pub clean_session: Option<bool>,
    pub connack_code: Option<u64>,
}

/// One PUBLISH and, for QoS 1 and 2, its acknowledgements.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttPublishRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    pub from_client: bool,
    pub retain: bool,
    /// `at most once`, `at least once`, `exactly once`.
    pub qos: &'static str,
    /// `ok`, or `incomplete_qos` when the QoS exchange was not seen to the end.
    pub status: &'static str,
    pub topic: String,
    /// The first `MAX_PAYLOAD_LOG` bytes of the payload.
    pub payload: String,
    /// The full payload size in bytes.
    pub payload_len: u64,
}

/// Zeek's `MQTT::SubUnsub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeAction {
    Subscribe,
    Unsubscribe,
}

/// One SUBSCRIBE or UNSUBSCRIBE and its acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttSubscribeRecord {
    pub ts: Timestamp,
    pub conn: ConnId,
    pub action: SubscribeAction,
    pub topics: Vec<String>,
    /// Requested QoS per topic (SUBSCRIBE only).
    pub qos_levels: Option<Vec<u64>>,
    /// The first return code of the SUBACK (0x80 and above: refused).
    pub granted_qos_level: Option<u64>,
    pub ack: bool,
}

/// What the MQTT analyzer emits: one line of one of the three logs.
#[derive(Debug, Clone, PartialEq)]
pub enum MqttRecord {
    Connect(MqttConnectRecord),
    Publish(MqttPublishRecord),
    Subscribe(MqttSubscribeRecord),
}

pub const MQTT_CONNECT_FIELDS: [Field; 17] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("proto_name", "string"),
    Field::new("proto_version", "string"),
    Field::new("client_id", "string"),
    Field::new("connect_status", "string"),
    Field::new("will_topic", "string"),
    Field::new("will_payload", "string"),
    Field::new("username_present", "bool"),
    Field::new("password_present", "bool"),
    Field::new("keep_alive", "count"),
    Field::new("clean_session", "bool"),
    Field::new("connack_code", "count"),
];

pub const MQTT_PUBLISH_FIELDS: [Field; 13] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("from_client", "bool"),
    Field::new("retain", "bool"),
    Field::new("qos", "string"),
    Field::new("status", "string"),
    Field::new("topic", "string"),
    Field::new("payload", "string"),
    Field::new("payload_len", "count"),
];

pub const MQTT_SUBSCRIBE_FIELDS: [Field; 11] = [
    CONN_ID_FIELDS[0],
    CONN_ID_FIELDS[1],
    CONN_ID_FIELDS[2],
    CONN_ID_FIELDS[3],
    CONN_ID_FIELDS[4],
    CONN_ID_FIELDS[5],
    Field::new("action", "enum"),
    Field::new("topics", "vector[string]"),
    Field::new("qos_levels", "vector[count]"),
    Field::new("granted_qos_level", "count"),
    Field::new("ack", "bool"),
];

fn s(v: &Option<String>) -> Value<'_> {
    Value::opt_str(v.as_deref())
}

impl LogRecord for MqttRecord {
    fn path(&self) -> &'static str {
        match self {
            MqttRecord::Connect(_) => "mqtt_connect",
            MqttRecord::Publish(_) => "mqtt_publish",
            MqttRecord::Subscribe(_) => "mqtt_subscribe",
        }
    }

    fn fields(&self) -> &'static [Field] {
        match self {
            MqttRecord::Connect(_) => &MQTT_CONNECT_FIELDS,
            MqttRecord::Publish(_) => &MQTT_PUBLISH_FIELDS,
            MqttRecord::Subscribe(_) => &MQTT_SUBSCRIBE_FIELDS,
        }
    }

    fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
        match self {
            MqttRecord::Connect(r) => {
                r.conn.visit(r.ts, f);
                f(s(&r.proto_name));
                f(s(&r.proto_version));
                f(s(&r.client_id));
                f(s(&r.connect_status));
                f(s(&r.will_topic));
                f(s(&r.will_payload));
                f(Value::opt_bool(r.username_present));
                f(Value::opt_bool(r.password_present));
                f(Value::opt_count(r.keep_alive));
                f(Value::opt_bool(r.clean_session));
                f(Value::opt_count(r.connack_code));
            }
            MqttRecord::Publish(r) => {
                r.conn.visit(r.ts, f);
                f(Value::Bool(r.from_client));
                f(Value::Bool(r.retain));
                f(Value::Str(r.qos));
                f(Value::Str(r.status));
                f(Value::Str(&r.topic));
                f(Value::Str(&r.payload));
                f(Value::Count(r.payload_len));
            }
            MqttRecord::Subscribe(r) => {
                r.conn.visit(r.ts, f);
                f(Value::Str(match r.action {
                    SubscribeAction::Subscribe => "MQTT::SUBSCRIBE",
                    SubscribeAction::Unsubscribe => "MQTT::UNSUBSCRIBE",
                }));
                f(Value::StrList(&r.topics));
                f(r.qos_levels
                    .as_deref()
                    .map_or(Value::Unset, Value::CountList));
                f(Value::opt_count(r.granted_qos_level));
                f(Value::Bool(r.ack));
            }
        }
    }
}

/// Zeek's `MQTT::versions`.
pub fn version_name(level: u8) -> String {
    match level {
        3 => "3.1".into(),
        4 => "3.1.1".into(),
        5 => "5.0".into(),
        n => format!("unknown-version-{n}"),
    }
}

/// Zeek's `MQTT::qos_levels` (QoS 3 never reaches a record).
pub fn qos_name(qos: u8) -> &'static str {
    match qos {
        0 => "at most once",
        1 => "at least once",
        _ => "exactly once",
    }
}

/// Zeek's `MQTT::return_codes` for MQTT 3.x; MQTT 5 reason codes (§3.2.2.2)
/// in the same `Refused: …` style so one text means one thing across versions.
pub fn connect_status(version: u8, code: u8) -> String {
    let text = match (version >= 5, code) {
        (_, 0) => "Connection Accepted",
        (false, 1) => "Refused: unacceptable protocol version",
        (false, 2) => "Refused: identifier rejected",
        (false, 3) => "Refused: server unavailable",
        (false, 4) => "Refused: bad user name or password",
        (false, 5) => "Refused: not authorized",
        (true, 0x80) => "Refused: unspecified error",
        (true, 0x81) => "Refused: malformed packet",
        (true, 0x82) => "Refused: protocol error",
        (true, 0x83) => "Refused: implementation specific error",
        (true, 0x84) => "Refused: unacceptable protocol version",
        (true, 0x85) => "Refused: identifier rejected",
        (true, 0x86) => "Refused: bad user name or password",
        (true, 0x87) => "Refused: not authorized",
        (true, 0x88) => "Refused: server unavailable",
        (true, 0x89) => "Refused: server busy",
        (true, 0x8a) => "Refused: banned",
        (true, 0x8c) => "Refused: bad authentication method",
        (true, 0x90) => "Refused: topic name invalid",
        (true, 0x95) => "Refused: packet too large",
        (true, 0x97) => "Refused: quota exceeded",
        (true, 0x99) => "Refused: payload format invalid",
        (true, 0x9a) => "Refused: retain not supported",
        (true, 0x9b) => "Refused: QoS not supported",
        (true, 0x9c) => "Refused: use another server",
        (true, 0x9d) => "Refused: server moved",
        (true, 0x9f) => "Refused: connection rate exceeded",
        _ => return format!("unknown-return-code-{code}"),
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_texts() {
        assert_eq!(version_name(4), "3.1.1");
        assert_eq!(version_name(9), "unknown-version-9");
        assert_eq!(connect_status(4, 4), "Refused: bad user name or password");
        assert_eq!(
            connect_status(5, 0x86),
            "Refused: bad user name or password"
        );
        assert_eq!(connect_status(4, 0x86), "unknown-return-code-134");
        assert_eq!(qos_name(2), "exactly once");
    }
}
