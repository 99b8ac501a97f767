//! The MQTT session of one connection: packets of both directions in →
//! [`MqttRecord`]s out, with Zeek's logging rules: a CONNECT is logged with
//! its CONNACK; a QoS 0 PUBLISH at once, QoS 1 at its PUBACK, QoS 2 at its
//! PUBCOMP, or with status `incomplete_qos` after [`PENDING_EXPIRY`] of
//! packet time or at connection end; a (UN)SUBSCRIBE at its (UN)SUBACK or
//! likewise on expiry. Unlike Zeek, acknowledgements are matched to the
//! publisher's side as well as the packet identifier.
//!
//! Protocol violations that leave the packet readable (unknown protocol name
//! or level, reserved connect flag, wildcard in a PUBLISH topic, zero packet
//! identifier, bad subscription options, invalid UTF-8, a packet sent by the
//! wrong side, trailing bytes) are counted and the packet is still logged.
//!
//! Limits: strings cut at [`MAX_MQTT_STRING`], logged payloads at
//! [`MAX_PAYLOAD_LOG`], topics per subscription at
//! [`MAX_TOPICS_PER_SUBSCRIBE`]; at most [`MAX_PENDING_PUBLISHES`] and
//! [`MAX_PENDING_SUBSCRIBES`] wait for acknowledgement (oldest logged early).
#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;

use super::framing::Verdict;
use super::parser::{self, Connect, FixedHeader, Malformed, Packet, PacketType, Publish};
use super::record::{
    self, MqttConnectRecord, MqttPublishRecord, MqttRecord, MqttSubscribeRecord, SubscribeAction,
};
use super::MqttCounters;
use crate::log::ConnId;
use crate::proto::bounded_string;
use crate::sink::Sink;
use crate::time::{Duration, Timestamp};

/// Longest topic, client id, protocol name or will topic kept (bytes).
pub const MAX_MQTT_STRING: usize = 1024;
/// Payload bytes logged per PUBLISH and will (Zeek's `MQTT::max_payload_size`).
pub const MAX_PAYLOAD_LOG: usize = 100;
/// Topic filters logged per (UN)SUBSCRIBE.
pub const MAX_TOPICS_PER_SUBSCRIBE: usize = 32;
/// QoS 1/2 publishes waiting for their acknowledgements per connection.
pub const MAX_PENDING_PUBLISHES: usize = 64;
/// (Un)subscriptions waiting for their acknowledgement per connection.
pub const MAX_PENDING_SUBSCRIBES: usize = 32;
/// Packet time after which an unacknowledged publish or subscription is
/// logged as it is (Zeek's `&write_expire=5secs`).
pub const PENDING_EXPIRY: Duration = Duration::from_secs(5);

struct PendingPublish {
    from_client: bool,
    packet_id: u16,
    qos: u8,
    received: bool,
    released: bool,
    record: MqttPublishRecord,
}

struct PendingSubscribe {
    packet_id: u16,
    record: MqttSubscribeRecord,
}

/// Per-connection MQTT state.
pub struct Session {
    /// Protocol level from the CONNECT (4 until one is seen).
    version: u8,
    connect: Option<MqttConnectRecord>,
    publishes: VecDeque<PendingPublish>,
    subscribes: VecDeque<PendingSubscribe>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

fn is_mqtt_utf8(b: &[u8]) -> bool {
    !b.contains(&0) && std::str::from_utf8(b).is_ok()
}

fn string(b: &[u8], c: &mut MqttCounters) -> String {
    if b.len() > MAX_MQTT_STRING {
        c.limit_string_truncated += 1;
    }
    bounded_string(b, MAX_MQTT_STRING)
}

/// Everything one packet needs besides the session.
pub struct Context<'a, S> {
    pub conn: &'a ConnId,
    pub ts: Timestamp,
    pub is_orig: bool,
    pub out: &'a mut S,
}

impl Session {
    pub fn new() -> Self {
        Session {
            version: 4,
            connect: None,
            publishes: VecDeque::new(),
            subscribes: VecDeque::new(),
        }
    }

    /// Handles one framed packet (`complete` false: the head of an oversize one).
    pub fn on_packet<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        h: &FixedHeader,
        body: &[u8],
        complete: bool,
        c: &mut MqttCounters,
    ) -> Verdict {
        c.packets += 1;
        let (packet, leftover) =
            match parser::parse_packet(h, body, u64::from(h.remaining), self.version) {
                Ok(parsed) => parsed,
                Err(Malformed::Truncated) if !complete => {
                    c.oversize_unparsed += 1;
                    return Verdict::Readable;
                }
                Err(e) => {
                    match e {
                        Malformed::RemainingLength => c.malformed_remaining_length += 1,
                        Malformed::ReservedType => c.malformed_reserved_type += 1,
                        Malformed::Flags => c.malformed_flags += 1,
                        Malformed::Truncated => c.malformed_truncated += 1,
                        Malformed::Properties => c.malformed_properties += 1,
                    }
                    return Verdict::Unreadable;
                }
            };
        if leftover > 0 {
            c.malformed_trailing_bytes += 1;
        }
        if h.kind.and_then(PacketType::sent_by_client) == Some(!cx.is_orig) {
            c.malformed_wrong_direction += 1;
        }
        match packet {
            Packet::Connect(p) => self.on_connect(cx, &p, c),
            Packet::Connack { code, .. } => self.on_connack(cx, code, c),
            Packet::Publish(p) => self.on_publish(cx, &p, c),
            Packet::Ack { kind, packet_id } => self.on_ack(cx, kind, packet_id, c),
            Packet::Subscribe { packet_id, filters } => {
                c.subscribe += 1;
                self.on_subscribe(cx, SubscribeAction::Subscribe, packet_id, filters, c);
            }
            Packet::Unsubscribe { packet_id, filters } => {
                c.unsubscribe += 1;
                self.on_subscribe(cx, SubscribeAction::Unsubscribe, packet_id, filters, c);
            }
            Packet::Suback { packet_id, codes } => {
                c.suback += 1;
                if codes.iter().any(|&g| g >= 0x80) {
                    c.suback_refused += 1;
                }
                self.on_subscribe_ack(
                    cx,
                    SubscribeAction::Subscribe,
                    packet_id,
                    codes.first().copied(),
                    c,
                );
            }
            Packet::Unsuback { packet_id } => {
                c.unsuback += 1;
                self.on_subscribe_ack(cx, SubscribeAction::Unsubscribe, packet_id, None, c);
            }
            Packet::Pingreq => c.pingreq += 1,
            Packet::Pingresp => c.pingresp += 1,
            Packet::Disconnect => c.disconnect += 1,
            Packet::Auth => c.auth += 1,
        }
        Verdict::Readable
    }

    fn on_connect<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        p: &Connect<'_>,
        c: &mut MqttCounters,
    ) {
        c.connect += 1;
        match (p.protocol_name, p.version) {
            (b"MQTT", 4 | 5) | (b"MQIsdp", 3) => {}
            (b"MQTT" | b"MQIsdp", _) => c.malformed_protocol_version += 1,
            _ => c.malformed_protocol_name += 1,
        }
        let will_qos = (p.flags >> 3) & 0x03;
        let will = p.flags & 0x04 != 0;
        let bad_flags = p.flags & 0x01 != 0
            || will_qos == 3
            || (!will && (will_qos != 0 || p.flags & 0x20 != 0))
            || (p.version < 5 && p.username.is_none() && p.password.is_some());
        if bad_flags {
            c.malformed_connect_flags += 1;
        }
        let strings = [
            Some(p.protocol_name),
            Some(p.client_id),
            p.will.map(|w| w.0),
            p.username,
        ];
        if strings.iter().flatten().any(|s| !is_mqtt_utf8(s)) {
            c.malformed_utf8 += 1;
        }
        if (3..=5).contains(&p.version) {
            self.version = p.version;
        }
        if let Some(old) = self.connect.take() {
            c.connect_unanswered += 1;
            cx.out.push(MqttRecord::Connect(old));
        }
        self.connect = Some(MqttConnectRecord {
            ts: cx.ts,
            conn: cx.conn.clone(),
            proto_name: Some(string(p.protocol_name, c)),
            proto_version: Some(record::version_name(p.version)),
            client_id: Some(string(p.client_id, c)),
            connect_status: None,
            will_topic: p.will.map(|(t, _)| string(t, c)),
            will_payload: p.will.map(|(_, m)| bounded_string(m, MAX_PAYLOAD_LOG)),
            username_present: Some(p.username.is_some()),
            password_present: Some(p.password.is_some()),
            keep_alive: Some(u64::from(p.keep_alive)),
            clean_session: Some(p.clean_session()),
            connack_code: None,
        });
    }

    fn on_connack<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        code: u8,
        c: &mut MqttCounters,
    ) {
        c.connack += 1;
        if code != 0 {
            c.connack_refused += 1;
        }
        let mut rec = self.connect.take().unwrap_or_else(|| MqttConnectRecord {
            ts: cx.ts,
            conn: cx.conn.clone(),
            proto_name: None,
            proto_version: None,
            client_id: None,
            connect_status: None,
            will_topic: None,
            will_payload: None,
            username_present: None,
            password_present: None,
            keep_alive: None,
            clean_session: None,
            connack_code: None,
        });
        rec.connect_status = Some(record::connect_status(self.version, code));
        rec.connack_code = Some(u64::from(code));
        cx.out.push(MqttRecord::Connect(rec));
    }

    fn on_publish<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        p: &Publish<'_>,
        c: &mut MqttCounters,
    ) {
        c.publish += 1;
        c.publish_payload_bytes += p.payload_len;
        let wildcard = p.topic.iter().any(|&b| b == b'+' || b == b'#');
        if wildcard || (p.topic.is_empty() && self.version < 5) {
            c.malformed_topic += 1;
        }
        if p.packet_id == Some(0) {
            c.malformed_packet_id += 1;
        }
        if cx.is_orig && p.topic.first() == Some(&b'$') {
            c.client_publish_dollar_topic += 1;
        }
        if !is_mqtt_utf8(p.topic) {
            c.malformed_utf8 += 1;
        }
        let record = MqttPublishRecord {
            ts: cx.ts,
            conn: cx.conn.clone(),
            from_client: cx.is_orig,
            retain: p.retain,
            qos: record::qos_name(p.qos),
            status: if p.qos == 0 { "ok" } else { "incomplete_qos" },
            topic: string(p.topic, c),
            payload: bounded_string(p.payload, MAX_PAYLOAD_LOG),
            payload_len: p.payload_len,
        };
        let Some(packet_id) = p.packet_id.filter(|_| p.qos > 0) else {
            cx.out.push(MqttRecord::Publish(record));
            return;
        };
        let same = |q: &PendingPublish| q.from_client == cx.is_orig && q.packet_id == packet_id;
        if let Some(at) = self.publishes.iter().position(same) {
            if let Some(old) = self.publishes.remove(at) {
                cx.out.push(MqttRecord::Publish(old.record));
            }
        }
        if self.publishes.len() >= MAX_PENDING_PUBLISHES {
            if let Some(old) = self.publishes.pop_front() {
                c.pending_publish_evicted += 1;
                cx.out.push(MqttRecord::Publish(old.record));
            }
        }
        self.publishes.push_back(PendingPublish {
            from_client: cx.is_orig,
            packet_id,
            qos: p.qos,
            received: false,
            released: false,
            record,
        });
    }

    fn on_ack<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        kind: PacketType,
        id: u16,
        c: &mut MqttCounters,
    ) {
        // PUBREL comes from the publisher, the other acknowledgements from its peer.
        let publisher_is_client = if kind == PacketType::Pubrel {
            cx.is_orig
        } else {
            !cx.is_orig
        };
        match kind {
            PacketType::Puback => c.puback += 1,
            PacketType::Pubrec => c.pubrec += 1,
            PacketType::Pubrel => c.pubrel += 1,
            _ => c.pubcomp += 1,
        }
        let Some(at) = self
            .publishes
            .iter()
            .position(|q| q.from_client == publisher_is_client && q.packet_id == id)
        else {
            c.unmatched_acks += 1;
            return;
        };
        let Some(q) = self.publishes.get_mut(at) else {
            return;
        };
        let done = match kind {
            PacketType::Puback => {
                if q.qos == 1 {
                    q.record.status = "ok";
                }
                q.qos == 1
            }
            PacketType::Pubrec => {
                q.received = true;
                false
            }
            PacketType::Pubrel => {
                q.released = true;
                false
            }
            _ => {
                if q.qos == 2 && q.received && q.released {
                    q.record.status = "ok";
                }
                true
            }
        };
        if done {
            if let Some(q) = self.publishes.remove(at) {
                cx.out.push(MqttRecord::Publish(q.record));
            }
        }
    }

    fn on_subscribe<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        action: SubscribeAction,
        packet_id: u16,
        filters: &[u8],
        c: &mut MqttCounters,
    ) {
        let with_options = action == SubscribeAction::Subscribe;
        let mut topics = Vec::new();
        let mut qos_levels = Vec::new();
        let mut total = 0usize;
        for (topic, options) in parser::topic_filters(filters, with_options) {
            total += 1;
            if !is_mqtt_utf8(topic) {
                c.malformed_utf8 += 1;
            }
            if let Some(o) = options {
                let reserved = if self.version >= 5 { 0xc0 } else { 0xfc };
                if o & reserved != 0 || o & 0x03 == 3 || (self.version >= 5 && (o >> 4) & 0x03 == 3)
                {
                    c.malformed_subscription_options += 1;
                }
            }
            if topics.len() < MAX_TOPICS_PER_SUBSCRIBE {
                topics.push(string(topic, c));
                if let Some(o) = options {
                    qos_levels.push(u64::from(o & 0x03));
                }
            } else {
                c.limit_topics_dropped += 1;
            }
        }
        if total == 0 {
            c.malformed_empty_topic_list += 1;
        }
        if packet_id == 0 {
            c.malformed_packet_id += 1;
        }
        if let Some(at) = self
            .subscribes
            .iter()
            .position(|q| q.packet_id == packet_id)
        {
            if let Some(old) = self.subscribes.remove(at) {
                cx.out.push(MqttRecord::Subscribe(old.record));
            }
        }
        if self.subscribes.len() >= MAX_PENDING_SUBSCRIBES {
            if let Some(old) = self.subscribes.pop_front() {
                c.pending_subscribe_evicted += 1;
                cx.out.push(MqttRecord::Subscribe(old.record));
            }
        }
        self.subscribes.push_back(PendingSubscribe {
            packet_id,
            record: MqttSubscribeRecord {
                ts: cx.ts,
                conn: cx.conn.clone(),
                action,
                topics,
                qos_levels: with_options.then_some(qos_levels),
                granted_qos_level: None,
                ack: false,
            },
        });
    }

    fn on_subscribe_ack<S: Sink<MqttRecord>>(
        &mut self,
        cx: &mut Context<'_, S>,
        action: SubscribeAction,
        packet_id: u16,
        granted: Option<u8>,
        c: &mut MqttCounters,
    ) {
        let found = self
            .subscribes
            .iter()
            .position(|q| q.packet_id == packet_id && q.record.action == action);
        let Some(mut q) = found.and_then(|at| self.subscribes.remove(at)) else {
            c.unmatched_acks += 1;
            return;
        };
        q.record.ack = true;
        q.record.granted_qos_level = granted.map(u64::from);
        cx.out.push(MqttRecord::Subscribe(q.record));
    }

    /// Logs publishes and subscriptions unacknowledged for [`PENDING_EXPIRY`].
    pub fn expire(
        &mut self,
        now: Timestamp,
        c: &mut MqttCounters,
        out: &mut impl Sink<MqttRecord>,
    ) {
        let old = |ts: Timestamp| now.since(ts) > PENDING_EXPIRY;
        while self.publishes.front().is_some_and(|q| old(q.record.ts)) {
            if let Some(q) = self.publishes.pop_front() {
                c.pending_expired += 1;
                out.push(MqttRecord::Publish(q.record));
            }
        }
        while self.subscribes.front().is_some_and(|q| old(q.record.ts)) {
            if let Some(q) = self.subscribes.pop_front() {
                c.pending_expired += 1;
                out.push(MqttRecord::Subscribe(q.record));
            }
        }
    }

    /// Logs everything still open (connection end).
    pub fn flush(&mut self, c: &mut MqttCounters, out: &mut impl Sink<MqttRecord>) {
        if let Some(rec) = self.connect.take() {
            c.connect_unanswered += 1;
            out.push(MqttRecord::Connect(rec));
        }
        for q in self.publishes.drain(..) {
            out.push(MqttRecord::Publish(q.record));
        }
        for q in self.subscribes.drain(..) {
            out.push(MqttRecord::Subscribe(q.record));
        }
    }
}
