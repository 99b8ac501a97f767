//! MQTT 3.1 / 3.1.1 / 5.0 analyzer: in-order TCP payload of both directions
//! in → [`MqttRecord`]s out (Zeek's mqtt_connect, mqtt_publish and
//! mqtt_subscribe logs), plus [`MqttCounters`]: packets per type, PINGs,
//! refused CONNACKs, payload bytes, and malformed packets per reason.
//!
//! Files: `parser` (fixed header, bounded reader, packet bodies), `framing`
//! (one direction: packets split across or packed into deliveries, oversize
//! packets skipped by length), `state` (the session: CONNECT/CONNACK,
//! QoS exchanges, subscriptions), `record` (the three logs).
//!
//! Limits: [`MAX_MQTT_PACKET`], [`OVERSIZE_HEAD_LEN`],
//! [`MAX_CONSECUTIVE_MALFORMED`], [`MAX_MQTT_STRING`], [`MAX_PAYLOAD_LOG`],
//! [`MAX_TOPICS_PER_SUBSCRIBE`], [`MAX_PENDING_PUBLISHES`],
//! [`MAX_PENDING_SUBSCRIBES`], [`PENDING_EXPIRY`].

mod framing;
pub mod parser;
mod record;
mod state;

pub use framing::{MAX_CONSECUTIVE_MALFORMED, MAX_MQTT_PACKET, OVERSIZE_HEAD_LEN};
pub use record::{
    MqttConnectRecord, MqttPublishRecord, MqttRecord, MqttSubscribeRecord, SubscribeAction,
    MQTT_CONNECT_FIELDS, MQTT_PUBLISH_FIELDS, MQTT_SUBSCRIBE_FIELDS,
};
pub use state::{
    MAX_MQTT_STRING, MAX_PAYLOAD_LOG, MAX_PENDING_PUBLISHES, MAX_PENDING_SUBSCRIBES,
    MAX_TOPICS_PER_SUBSCRIBE, PENDING_EXPIRY,
};

use framing::PacketStream;
use state::{Context, Session};

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

/// conn.log `service`.
pub const SERVICE: &str = "mqtt";

/// Declares the counters struct and its visit order in one place.
macro_rules! mqtt_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the MQTT analyzers saw and refused, summed over connections.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct MqttCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for MqttCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }

        impl MqttCounters {
            /// Every counter name, in visit order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

mqtt_counters! {
    /// Framed packets (readable or not).
    packets => "proto.mqtt.packets",
    connect => "proto.mqtt.connect",
    connack => "proto.mqtt.connack",
    /// CONNACKs with a non-zero return/reason code (credentials refused, …).
    connack_refused => "proto.mqtt.connack_refused",
    /// CONNECTs logged without a CONNACK (next CONNECT or connection end).
    connect_unanswered => "proto.mqtt.connect_unanswered",
    publish => "proto.mqtt.publish",
    /// PUBLISH from the client to a `$` topic (reserved for the server, MQTT
    /// 3.1.1 §4.7.2; e.g. forged `$SYS/…` statistics). Not malformed.
    client_publish_dollar_topic => "proto.mqtt.client_publish_dollar_topic",
    /// Payload bytes of all PUBLISH packets, oversize ones included.
    publish_payload_bytes => "proto.mqtt.publish_payload_bytes",
    puback => "proto.mqtt.puback",
    pubrec => "proto.mqtt.pubrec",
    pubrel => "proto.mqtt.pubrel",
    pubcomp => "proto.mqtt.pubcomp",
    subscribe => "proto.mqtt.subscribe",
    suback => "proto.mqtt.suback",
    /// SUBACKs refusing at least one topic (code 0x80 or above).
    suback_refused => "proto.mqtt.suback_refused",
    unsubscribe => "proto.mqtt.unsubscribe",
    unsuback => "proto.mqtt.unsuback",
    pingreq => "proto.mqtt.pingreq",
    pingresp => "proto.mqtt.pingresp",
    disconnect => "proto.mqtt.disconnect",
    auth => "proto.mqtt.auth",
    /// Acknowledgements matching no pending publish or subscription.
    unmatched_acks => "proto.mqtt.unmatched_acks",
    /// Packets longer than `MAX_MQTT_PACKET` (skipped by length) and their bytes.
    oversize_packets => "proto.mqtt.oversize_packets",
    oversize_bytes => "proto.mqtt.oversize_bytes",
    /// Oversize packets whose kept head was too short to read.
    oversize_unparsed => "proto.mqtt.oversize_unparsed",
    pending_publish_evicted => "proto.mqtt.pending_publish_evicted",
    pending_subscribe_evicted => "proto.mqtt.pending_subscribe_evicted",
    /// Publishes / subscriptions logged unacknowledged after `PENDING_EXPIRY`.
    pending_expired => "proto.mqtt.pending_expired",
    gaps => "proto.mqtt.gaps",
    /// Packets dropped because a gap fell inside them (framing kept).
    gap_packets_lost => "proto.mqtt.gap_packets_lost",
    /// Gaps where the next packet boundary is unknown: the direction stops.
    gap_lost_sync => "proto.mqtt.gap_lost_sync",
    /// Directions no longer parsed (framing lost, or not MQTT).
    directions_stopped => "proto.mqtt.directions_stopped",
    limit_string_truncated => "proto.mqtt.limit.string_truncated",
    limit_topics_dropped => "proto.mqtt.limit.topics_dropped",
    /// A fifth Remaining Length byte (framing lost).
    malformed_remaining_length => "proto.mqtt.malformed.remaining_length",
    /// Packet type 0, or AUTH before MQTT 5.
    malformed_reserved_type => "proto.mqtt.malformed.reserved_type",
    /// Fixed-header flags the type forbids, PUBLISH QoS 3.
    malformed_flags => "proto.mqtt.malformed.flags",
    /// A string, identifier or field running past the packet end.
    malformed_truncated => "proto.mqtt.malformed.truncated",
    malformed_properties => "proto.mqtt.malformed.properties",
    /// Bytes left after the last field of a packet.
    malformed_trailing_bytes => "proto.mqtt.malformed.trailing_bytes",
    /// CONNECT protocol name other than `MQTT` / `MQIsdp`.
    malformed_protocol_name => "proto.mqtt.malformed.protocol_name",
    /// Protocol level not matching the name (or unknown).
    malformed_protocol_version => "proto.mqtt.malformed.protocol_version",
    /// Reserved flag set, will QoS/retain without will, password without user name.
    malformed_connect_flags => "proto.mqtt.malformed.connect_flags",
    /// A client-only packet from the server or the reverse.
    malformed_wrong_direction => "proto.mqtt.malformed.wrong_direction",
    /// A string that is not UTF-8 or contains U+0000.
    malformed_utf8 => "proto.mqtt.malformed.utf8",
    /// PUBLISH topic with a wildcard, or empty before MQTT 5.
    malformed_topic => "proto.mqtt.malformed.topic",
    /// Packet identifier 0 where one is required.
    malformed_packet_id => "proto.mqtt.malformed.packet_id",
    malformed_empty_topic_list => "proto.mqtt.malformed.empty_topic_list",
    malformed_subscription_options => "proto.mqtt.malformed.subscription_options",
}

impl MqttCounters {
    /// All `proto.mqtt.malformed.*` counters added up.
    pub fn malformed_total(&self) -> u64 {
        let mut total = 0;
        self.visit(&mut |name, v| {
            if name.starts_with("proto.mqtt.malformed.") {
                total += v;
            }
        });
        total
    }
}

/// The MQTT state of one TCP connection.
pub struct MqttAnalyzer {
    conn: ConnId,
    orig: PacketStream,
    resp: PacketStream,
    session: Session,
}

impl MqttAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        MqttAnalyzer {
            conn,
            orig: PacketStream::new(),
            resp: PacketStream::new(),
            session: Session::new(),
        }
    }

    /// The next in-order bytes of one direction.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut MqttCounters,
        out: &mut impl Sink<MqttRecord>,
    ) {
        self.session.expire(ts, c, out);
        let stream = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        let session = &mut self.session;
        let mut cx = Context {
            conn: &self.conn,
            ts,
            is_orig,
            out,
        };
        stream.feed(data, c, &mut |h, body, complete, c| {
            session.on_packet(&mut cx, h, body, complete, c)
        });
    }

    /// `len` bytes of one direction were lost.
    pub fn on_gap(&mut self, is_orig: bool, len: u64, c: &mut MqttCounters) {
        let stream = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        stream.on_gap(len, c);
    }

    /// The connection ended: logs the CONNECT still waiting for its CONNACK
    /// and every unacknowledged publish and subscription.
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        c: &mut MqttCounters,
        out: &mut impl Sink<MqttRecord>,
    ) {
        self.session.flush(c, out);
    }

    /// Whether both directions gave up parsing.
    pub fn is_stopped(&self) -> bool {
        self.orig.is_stopped() && self.resp.is_stopped()
    }
}

/// Content detection on the first bytes one side sent. Yes: a CONNECT from
/// the client with protocol name `MQTT` (levels 4, 5) or `MQIsdp` (3).
/// Maybe: a CONNACK-shaped start from the server, or a CONNECT too short to
/// judge. No otherwise (mid-stream pickups rely on the port).
pub fn probe(data: &[u8], is_orig: bool) -> Probe {
    let (h, rest) = match parser::read_fixed_header(data) {
        parser::HeaderRead::Complete(h) => (h, data.get(h.header_len..).unwrap_or_default()),
        parser::HeaderRead::Incomplete => {
            let first = data.first().copied();
            return if first.is_none() || first == Some(if is_orig { 0x10 } else { 0x20 }) {
                Probe::Maybe
            } else {
                Probe::No
            };
        }
        parser::HeaderRead::BadRemainingLength => return Probe::No,
    };
    let first = (h.kind, h.flags);
    if !is_orig {
        let connack_len = h.remaining == 2 || (3..=64).contains(&h.remaining);
        return if first == (Some(parser::PacketType::Connack), 0) && connack_len {
            Probe::Maybe
        } else {
            Probe::No
        };
    }
    if first != (Some(parser::PacketType::Connect), 0) || h.remaining < 10 {
        return Probe::No;
    }
    let known: [&[u8]; 3] = [
        b"\x00\x04MQTT\x04",
        b"\x00\x04MQTT\x05",
        b"\x00\x06MQIsdp\x03",
    ];
    let judged = known.iter().map(|k| {
        let n = k.len().min(rest.len());
        (rest.get(..n) == k.get(..n), n == k.len())
    });
    let mut verdict = Probe::No;
    for (matches, whole) in judged {
        match (matches, whole) {
            (true, true) => return Probe::Yes,
            (true, false) => verdict = Probe::Maybe,
            _ => {}
        }
    }
    verdict
}
