//! Picking up TCP connections whose start was not seen (the capture began
//! mid-connection): first payloads of both sides in → an MQTT verdict with
//! the side that is the client out.
//!
//! A session joined mid-stream has no CONNECT for the MQTT probe to see, so
//! the dispatcher collects framing evidence instead: every payload of a side
//! must be a whole number of well-formed MQTT control packets (valid type,
//! flags and remaining length, PUBLISH topics that are plain UTF-8 names),
//! both sides must have sent such a payload, and the packet types must not
//! contradict one client and one server (PINGREQ, SUBSCRIBE, … from one;
//! PINGRESP, SUBACK, … from the other). A payload that is not MQTT from
//! either side ends the vote.
//!
//! Limits: one payload is walked packet by packet, at most
//! [`MAX_MIDSTREAM_PACKETS`] packets; nothing is allocated.
#![deny(clippy::indexing_slicing)]

use crate::proto::mqtt::parser::{check_flags, read_fixed_header, HeaderRead, PacketType};

/// MQTT packets of one payload inspected before the payload counts as framed.
pub const MAX_MIDSTREAM_PACKETS: usize = 64;

/// What one side's payloads said so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct SideEvidence {
    framed: bool,
    client_only: bool,
    server_only: bool,
}

/// The MQTT framing vote of one connection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct MqttMidstream {
    sides: [SideEvidence; 2],
    rejected: bool,
    decided: bool,
}

impl MqttMidstream {
    /// The vote has named a client.
    pub(super) fn decided(&self) -> bool {
        self.decided
    }

    /// Adds one payload of the side `is_orig`; returns `Some(client_is_orig)`
    /// once both sides have sent MQTT framing that fits one client and one
    /// server. With no type that only one role sends, the side with the
    /// higher port (`orig_p` vs `resp_p`) is taken as the client.
    pub(super) fn vote(
        &mut self,
        data: &[u8],
        is_orig: bool,
        orig_p: u16,
        resp_p: u16,
    ) -> Option<bool> {
        if self.rejected {
            return None;
        }
        let Some(seen) = framing(data) else {
            self.rejected = true;
            return None;
        };
        let side = self.sides.get_mut(usize::from(!is_orig))?;
        side.framed = true;
        side.client_only |= seen.client_only;
        side.server_only |= seen.server_only;
        let [orig, resp] = self.sides;
        if !(orig.framed && resp.framed) {
            return None;
        }
        let orig_client = !orig.server_only && !resp.client_only;
        let resp_client = !resp.server_only && !orig.client_only;
        let decided = orig.client_only || orig.server_only || resp.client_only || resp.server_only;
        let verdict = match (orig_client, resp_client) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            (true, true) if !decided => Some(orig_p > resp_p),
            _ => None,
        };
        self.rejected = verdict.is_none();
        self.decided = verdict.is_some();
        verdict
    }
}

/// The roles a payload's packets imply, or `None` when it is not a whole
/// number of well-formed MQTT packets.
fn framing(data: &[u8]) -> Option<SideEvidence> {
    let mut seen = SideEvidence {
        framed: true,
        ..SideEvidence::default()
    };
    let mut rest = data;
    for _ in 0..MAX_MIDSTREAM_PACKETS {
        if rest.is_empty() {
            return Some(seen);
        }
        let HeaderRead::Complete(h) = read_fixed_header(rest) else {
            return None;
        };
        let kind = h.kind?;
        check_flags(kind, h.flags).ok()?;
        let len = usize::try_from(h.remaining).ok()?;
        let (_, after_header) = rest.split_at_checked(h.header_len)?;
        let (body, after) = after_header.split_at_checked(len)?;
        if !body_fits(kind, body) {
            return None;
        }
        match kind.sent_by_client() {
            Some(true) => seen.client_only = true,
            Some(false) => seen.server_only = true,
            None => {}
        }
        rest = after;
    }
    Some(seen)
}

/// Length rules of MQTT 3.1.1 / 5 that a packet body must meet.
fn body_fits(kind: PacketType, body: &[u8]) -> bool {
    match kind {
        PacketType::Pingreq | PacketType::Pingresp => body.is_empty(),
        PacketType::Puback
        | PacketType::Pubrec
        | PacketType::Pubrel
        | PacketType::Pubcomp
        | PacketType::Unsuback
        | PacketType::Connack => body.len() >= 2,
        PacketType::Subscribe | PacketType::Unsubscribe | PacketType::Suback => body.len() >= 3,
        PacketType::Publish => publish_topic_ok(body),
        PacketType::Connect => body.len() >= 10,
        PacketType::Disconnect | PacketType::Auth => true,
    }
}

/// A PUBLISH starts with a topic name: 2-byte length, then printable UTF-8
/// without wildcards.
fn publish_topic_ok(body: &[u8]) -> bool {
    let Some((len, rest)) = body.split_first_chunk::<2>() else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes(*len));
    let Some(topic) = rest.get(..len) else {
        return false;
    };
    len > 0
        && std::str::from_utf8(topic)
            .is_ok_and(|t| !t.chars().any(|c| c.is_control() || c == '+' || c == '#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_exchange_names_the_client() {
        let mut v = MqttMidstream::default();
        assert_eq!(v.vote(&[0xc0, 0x00], true, 53522, 17501), None);
        assert_eq!(v.vote(&[0xd0, 0x00], false, 53522, 17501), Some(true));
        // Responder pinging: the responder is the client.
        let mut v = MqttMidstream::default();
        assert_eq!(v.vote(&[0xc0, 0x00], false, 1883, 40000), None);
        assert_eq!(v.vote(&[0xd0, 0x00], true, 1883, 40000), Some(false));
    }

    #[test]
    fn publish_and_puback_fall_back_to_the_higher_port() {
        let mut publish = vec![0x32, 0x0c, 0x00, 0x08];
        publish.extend_from_slice(b"Bus17Cmd");
        publish.extend_from_slice(&[0x00, 0x02]);
        let mut v = MqttMidstream::default();
        assert_eq!(v.vote(&publish, false, 53524, 17501), None);
        assert_eq!(
            v.vote(&[0x40, 0x02, 0x00, 0x02], true, 53524, 17501),
            Some(true)
        );
    }

    #[test]
    fn non_mqtt_or_contradicting_roles_end_the_vote() {
        let mut v = MqttMidstream::default();
        assert_eq!(v.vote(b"GET / HTTP/1.1\r\n\r\n", true, 40000, 80), None);
        assert_eq!(v.vote(&[0xd0, 0x00], false, 40000, 80), None);
        // Both sides send PINGREQ: no client/server split.
        let mut v = MqttMidstream::default();
        assert_eq!(v.vote(&[0xc0, 0x00], true, 1, 2), None);
        assert_eq!(v.vote(&[0xc0, 0x00], false, 1, 2), None);
        assert_eq!(v.vote(&[0xd0, 0x00], false, 1, 2), None);
        // Trailing bytes, bad flags, a wildcard topic.
        assert!(framing(&[0xc0, 0x00, 0x01]).is_none());
        assert!(framing(&[0xc1, 0x00]).is_none());
        assert!(framing(&[0x30, 0x03, 0x00, 0x01, b'#']).is_none());
        assert!(framing(&[0x30, 0x03, 0x00, 0x01, b'a']).is_some());
    }
}
