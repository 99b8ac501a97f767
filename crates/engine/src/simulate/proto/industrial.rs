//! Operational-technology and legacy payloads: Modbus/TCP, HL7 over MLLP, telnet.
//!
//! Function fields in → application data units out. Modbus frames carry a
//! correct MBAP length; HL7 messages are framed with MLLP start/end bytes;
//! telnet option negotiation uses complete IAC sequences.

pub const MODBUS_PORT: u16 = 502;
pub const MLLP_PORT: u16 = 2575;
pub const TELNET_PORT: u16 = 23;

pub const FC_READ_COILS: u8 = 1;
pub const FC_READ_HOLDING: u8 = 3;
pub const FC_READ_INPUT: u8 = 4;
pub const FC_WRITE_SINGLE: u8 = 6;
pub const FC_WRITE_MULTIPLE: u8 = 16;
pub const FC_DEVICE_ID: u8 = 43;

fn mbap(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(7 + pdu.len());
    b.extend_from_slice(&transaction.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    b.push(unit);
    b.extend_from_slice(pdu);
    b
}

/// A read request (coils, holding or input registers) for `count` items at `addr`.
pub fn modbus_read(transaction: u16, unit: u8, function: u8, addr: u16, count: u16) -> Vec<u8> {
    let [a0, a1] = addr.to_be_bytes();
    let [c0, c1] = count.to_be_bytes();
    mbap(transaction, unit, &[function, a0, a1, c0, c1])
}

/// The response to a read: register values (2 bytes each) or packed coil bits.
pub fn modbus_read_response(
    transaction: u16,
    unit: u8,
    function: u8,
    count: u16,
    values: &[u8],
) -> Vec<u8> {
    let bytes = if function == FC_READ_COILS {
        usize::from(count).div_ceil(8)
    } else {
        usize::from(count) * 2
    };
    let mut pdu = Vec::with_capacity(2 + bytes);
    pdu.push(function);
    pdu.push(bytes.min(250) as u8);
    for i in 0..bytes.min(250) {
        pdu.push(values.get(i % values.len().max(1)).copied().unwrap_or(0));
    }
    mbap(transaction, unit, &pdu)
}

/// Write single register; the response echoes the request.
pub fn modbus_write_single(transaction: u16, unit: u8, addr: u16, value: u16) -> Vec<u8> {
    let [a0, a1] = addr.to_be_bytes();
    let [v0, v1] = value.to_be_bytes();
    mbap(transaction, unit, &[FC_WRITE_SINGLE, a0, a1, v0, v1])
}

/// Write multiple registers with the given values.
pub fn modbus_write_multiple(transaction: u16, unit: u8, addr: u16, values: &[u16]) -> Vec<u8> {
    let mut pdu = vec![FC_WRITE_MULTIPLE];
    pdu.extend_from_slice(&addr.to_be_bytes());
    pdu.extend_from_slice(&(values.len() as u16).to_be_bytes());
    pdu.push((values.len() * 2) as u8);
    for v in values {
        pdu.extend_from_slice(&v.to_be_bytes());
    }
    mbap(transaction, unit, &pdu)
}

pub fn modbus_write_multiple_response(
    transaction: u16,
    unit: u8,
    addr: u16,
    count: u16,
) -> Vec<u8> {
    let mut pdu = vec![FC_WRITE_MULTIPLE];
    pdu.extend_from_slice(&addr.to_be_bytes());
    pdu.extend_from_slice(&count.to_be_bytes());
    mbap(transaction, unit, &pdu)
}

/// Read Device Identification (MEI type 14), basic objects.
pub fn modbus_device_id_request(transaction: u16, unit: u8) -> Vec<u8> {
    mbap(transaction, unit, &[FC_DEVICE_ID, 14, 1, 0])
}

pub fn modbus_device_id_response(
    transaction: u16,
    unit: u8,
    vendor: &str,
    product: &str,
    version: &str,
) -> Vec<u8> {
    let mut pdu = vec![FC_DEVICE_ID, 14, 1, 0x01, 0, 0, 3];
    for (id, s) in [vendor, product, version].iter().enumerate() {
        pdu.push(id as u8);
        pdu.push(s.len().min(64) as u8);
        pdu.extend_from_slice(s.as_bytes().get(..s.len().min(64)).unwrap_or_default());
    }
    mbap(transaction, unit, &pdu)
}

/// An HL7 v2 message framed for MLLP (VT … FS CR). Segments are joined with CR.
pub fn mllp(segments: &[String]) -> Vec<u8> {
    let mut b = Vec::with_capacity(segments.iter().map(|s| s.len() + 1).sum::<usize>() + 3);
    b.push(0x0b);
    for s in segments {
        b.extend_from_slice(s.as_bytes());
        b.push(b'\r');
    }
    b.extend_from_slice(&[0x1c, 0x0d]);
    b
}

/// What a BusyBox telnetd sends on connect: option negotiation, then the login prompt.
pub fn telnet_server_greeting(host: &str) -> Vec<u8> {
    let mut b = vec![
        0xff, 0xfd, 0x01, 0xff, 0xfd, 0x1f, 0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03,
    ];
    b.extend_from_slice(format!("\r\n{host} login: ").as_bytes());
    b
}

/// The client's answer to the negotiation (refuses echo/NAWS, accepts server echo/SGA).
pub fn telnet_client_negotiation() -> Vec<u8> {
    vec![
        0xff, 0xfc, 0x01, 0xff, 0xfc, 0x1f, 0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbap_length_counts_unit_and_pdu() {
        let r = modbus_read(7, 1, FC_READ_HOLDING, 100, 10);
        assert_eq!(r, vec![0, 7, 0, 0, 0, 6, 1, 3, 0, 100, 0, 10]);
        let resp = modbus_read_response(7, 1, FC_READ_HOLDING, 10, &[1, 2]);
        assert_eq!(resp.len(), 7 + 2 + 20);
        assert_eq!(resp.get(4..6), Some(&[0, 23][..]));
        let coils = modbus_read_response(8, 1, FC_READ_COILS, 10, &[0xff]);
        assert_eq!(coils.get(8), Some(&2));
    }

    #[test]
    fn mllp_frames_segments() {
        let m = mllp(&["MSH|^~\\&|A".to_string(), "PID|1".to_string()]);
        assert_eq!(m.first(), Some(&0x0b));
        assert_eq!(m.get(m.len() - 2..), Some(&[0x1c, 0x0d][..]));
    }
}
