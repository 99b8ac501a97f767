//! MQTT 3.1.1 / 5.0 control packets: CONNECT/CONNACK, PUBLISH/PUBACK, SUBSCRIBE/SUBACK, PING, DISCONNECT.
//!
//! Fields in → one control packet out, with the variable-length "remaining
//! length" computed. Version 5 packets carry an empty property block.

pub const PORT: u16 = 1883;
/// CONNACK return code (3.1.1): not authorized.
pub const RC_NOT_AUTHORIZED: u8 = 5;
/// CONNACK reason code (5.0): not authorized.
pub const RC5_NOT_AUTHORIZED: u8 = 0x87;

fn remaining_length(buf: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        buf.push(byte);
        if len == 0 {
            break;
        }
    }
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 5);
    b.push(first);
    remaining_length(&mut b, body.len());
    b.extend_from_slice(body);
    b
}

fn put_str(b: &mut Vec<u8>, s: &[u8]) {
    super::put_u16_prefixed(b, s);
}

/// CONNECT with optional credentials; `version` 4 (3.1.1) or 5.
pub fn connect(
    client_id: &str,
    username: Option<&str>,
    password: Option<&str>,
    keepalive: u16,
    version: u8,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(32 + client_id.len());
    put_str(&mut body, b"MQTT");
    body.push(version);
    let mut flags = 0x02; // clean session
    if username.is_some() {
        flags |= 0x80;
    }
    if password.is_some() {
        flags |= 0x40;
    }
    body.push(flags);
    body.extend_from_slice(&keepalive.to_be_bytes());
    if version >= 5 {
        body.push(0); // properties
    }
    put_str(&mut body, client_id.as_bytes());
    if let Some(u) = username {
        put_str(&mut body, u.as_bytes());
    }
    if let Some(p) = password {
        put_str(&mut body, p.as_bytes());
    }
    packet(0x10, &body)
}

/// CONNACK with a return (3.1.1) or reason (5.0) code.
pub fn connack(code: u8, version: u8) -> Vec<u8> {
    if version >= 5 {
        packet(0x20, &[0, code, 0])
    } else {
        packet(0x20, &[0, code])
    }
}

/// PUBLISH at QoS 0 (no packet id) or QoS 1 (with `packet_id`).
pub fn publish(topic: &str, payload: &[u8], qos: u8, packet_id: u16, version: u8) -> Vec<u8> {
    let mut body = Vec::with_capacity(topic.len() + payload.len() + 6);
    put_str(&mut body, topic.as_bytes());
    if qos > 0 {
        body.extend_from_slice(&packet_id.to_be_bytes());
    }
    if version >= 5 {
        body.push(0);
    }
    body.extend_from_slice(payload);
    packet(0x30 | ((qos & 3) << 1), &body)
}

pub fn puback(packet_id: u16) -> Vec<u8> {
    let [a, b] = packet_id.to_be_bytes();
    packet(0x40, &[a, b])
}

pub fn subscribe(packet_id: u16, topic: &str, qos: u8, version: u8) -> Vec<u8> {
    let mut body = Vec::with_capacity(topic.len() + 6);
    body.extend_from_slice(&packet_id.to_be_bytes());
    if version >= 5 {
        body.push(0);
    }
    put_str(&mut body, topic.as_bytes());
    body.push(qos & 3);
    packet(0x82, &body)
}

pub fn suback(packet_id: u16, qos: u8, version: u8) -> Vec<u8> {
    let [a, b] = packet_id.to_be_bytes();
    if version >= 5 {
        packet(0x90, &[a, b, 0, qos])
    } else {
        packet(0x90, &[a, b, qos])
    }
}

pub fn pingreq() -> Vec<u8> {
    vec![0xc0, 0]
}

pub fn pingresp() -> Vec<u8> {
    vec![0xd0, 0]
}

pub fn disconnect(version: u8) -> Vec<u8> {
    if version >= 5 {
        vec![0xe0, 1, 0]
    } else {
        vec![0xe0, 0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_has_protocol_name_and_credentials() {
        let c = connect("plug-1", Some("u"), Some("p"), 60, 4);
        assert_eq!(c.first(), Some(&0x10));
        assert_eq!(usize::from(c.get(1).copied().unwrap_or(0)), c.len() - 2);
        assert_eq!(c.get(2..8), Some(&[0, 4, b'M', b'Q', b'T', b'T'][..]));
        assert_eq!(c.get(8..10), Some(&[4, 0xc2][..]));
    }

    #[test]
    fn remaining_length_uses_continuation_bytes() {
        let p = publish("t", &[0u8; 200], 0, 0, 4);
        assert_eq!(p.get(..3), Some(&[0x30, 0xcb, 0x01][..])); // 203 = (75 | 0x80), 1
        assert_eq!(connack(RC_NOT_AUTHORIZED, 4), vec![0x20, 2, 0, 5]);
        assert_eq!(connack(RC5_NOT_AUTHORIZED, 5), vec![0x20, 3, 0, 0x87, 0]);
    }
}
