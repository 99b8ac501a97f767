//! DHCP (RFC 2131/2132) messages: DISCOVER/REQUEST from clients, OFFER/ACK from the server.
//!
//! Client fingerprint fields in (option 55 order, 60 vendor class, 12 host
//! name, 61 client id) → a BOOTP message padded to the 300-byte minimum.

use std::net::Ipv4Addr;

use crate::simulate::wire::Mac;

pub const CLIENT_PORT: u16 = 68;
pub const SERVER_PORT: u16 = 67;
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
const BOOTP_MIN_LEN: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Ack = 5,
    Release = 7,
}

/// What a client puts in its messages: the DHCP fingerprint of its OS.
#[derive(Debug, Clone, Copy)]
pub struct ClientIdentity<'a> {
    pub mac: Mac,
    pub hostname: Option<&'a str>,
    pub vendor_class: Option<&'a str>,
    pub params: &'a [u8],
    pub max_message_size: Option<u16>,
}

/// Server-side lease parameters.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub server: Ipv4Addr,
    pub router: Ipv4Addr,
    pub dns: Ipv4Addr,
    pub lease_secs: u32,
}

/// The fixed BOOTP part; `addrs` are ciaddr, yiaddr, siaddr. Flags stay 0 (unicast replies).
fn header(op: u8, xid: u32, secs: u16, addrs: [Ipv4Addr; 3], mac: Mac) -> Vec<u8> {
    let [ciaddr, yiaddr, siaddr] = addrs;
    let mut b = Vec::with_capacity(BOOTP_MIN_LEN + 64);
    b.extend_from_slice(&[op, 1, 6, 0]);
    b.extend_from_slice(&xid.to_be_bytes());
    b.extend_from_slice(&secs.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&ciaddr.octets());
    b.extend_from_slice(&yiaddr.octets());
    b.extend_from_slice(&siaddr.octets());
    b.extend_from_slice(&[0; 4]); // giaddr
    b.extend_from_slice(&mac);
    b.extend_from_slice(&[0; 10]); // chaddr padding
    b.extend_from_slice(&[0; 64]); // sname
    b.extend_from_slice(&[0; 128]); // file
    b.extend_from_slice(&MAGIC_COOKIE);
    b
}

fn opt(b: &mut Vec<u8>, code: u8, data: &[u8]) {
    let len = data.len().min(255);
    b.push(code);
    b.push(len as u8);
    b.extend_from_slice(data.get(..len).unwrap_or_default());
}

fn finish(mut b: Vec<u8>) -> Vec<u8> {
    b.push(255);
    if b.len() < BOOTP_MIN_LEN {
        b.resize(BOOTP_MIN_LEN, 0);
    }
    b
}

/// DISCOVER, REQUEST (selecting/renewing) or RELEASE from a client.
pub fn client_message(
    kind: MessageType,
    xid: u32,
    secs: u16,
    id: &ClientIdentity<'_>,
    ciaddr: Ipv4Addr,
    requested: Option<Ipv4Addr>,
    server: Option<Ipv4Addr>,
) -> Vec<u8> {
    let mut b = header(
        1,
        xid,
        secs,
        [ciaddr, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED],
        id.mac,
    );
    opt(&mut b, 53, &[kind as u8]);
    let mut client_id = [1u8; 7];
    if let Some(rest) = client_id.get_mut(1..) {
        rest.copy_from_slice(&id.mac);
    }
    opt(&mut b, 61, &client_id);
    if let Some(ip) = requested {
        opt(&mut b, 50, &ip.octets());
    }
    if let Some(ip) = server {
        opt(&mut b, 54, &ip.octets());
    }
    if kind != MessageType::Release {
        if let Some(size) = id.max_message_size {
            opt(&mut b, 57, &size.to_be_bytes());
        }
        if let Some(h) = id.hostname {
            opt(&mut b, 12, h.as_bytes());
        }
        if let Some(v) = id.vendor_class {
            opt(&mut b, 60, v.as_bytes());
        }
        opt(&mut b, 55, id.params);
    }
    finish(b)
}

/// OFFER or ACK from the server for `yiaddr`.
pub fn server_message(
    kind: MessageType,
    xid: u32,
    mac: Mac,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    lease: &Lease,
    domain: &str,
) -> Vec<u8> {
    let mut b = header(2, xid, 0, [ciaddr, yiaddr, lease.server], mac);
    opt(&mut b, 53, &[kind as u8]);
    opt(&mut b, 54, &lease.server.octets());
    opt(&mut b, 51, &lease.lease_secs.to_be_bytes());
    opt(&mut b, 58, &(lease.lease_secs / 2).to_be_bytes());
    opt(&mut b, 59, &(lease.lease_secs / 8 * 7).to_be_bytes());
    opt(&mut b, 1, &[255, 255, 0, 0]);
    opt(&mut b, 28, &[10, 0, 255, 255]);
    opt(&mut b, 3, &lease.router.octets());
    opt(&mut b, 6, &lease.dns.octets());
    opt(&mut b, 15, domain.as_bytes());
    finish(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_carries_the_fingerprint_options_in_order() {
        let id = ClientIdentity {
            mac: [0x44, 0x19, 0xb6, 1, 2, 3],
            hostname: Some("cam-1"),
            vendor_class: Some("udhcp 1.24.2"),
            params: &[1, 3, 6, 12, 15, 28, 42],
            max_message_size: Some(576),
        };
        let m = client_message(
            MessageType::Discover,
            0x1234,
            0,
            &id,
            Ipv4Addr::UNSPECIFIED,
            None,
            None,
        );
        assert_eq!(m.len(), BOOTP_MIN_LEN);
        assert_eq!(m.get(236..240), Some(&MAGIC_COOKIE[..]));
        assert_eq!(m.get(240..243), Some(&[53, 1, 1][..]));
        let p55 = m
            .windows(9)
            .position(|w| w == [55, 7, 1, 3, 6, 12, 15, 28, 42]);
        assert!(p55.is_some());
        assert!(m.windows(12).any(|w| w == b"udhcp 1.24.2"));
    }
}
