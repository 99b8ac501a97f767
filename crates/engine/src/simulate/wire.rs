//! Frame building: Ethernet II + IPv4 + TCP/UDP, and ARP, with correct checksums.
//!
//! Header fields and a payload in → one complete Ethernet frame (`Vec<u8>`)
//! out, padded to the 60-byte Ethernet minimum like frames seen on a mirror
//! port. IPv4 header, TCP and UDP checksums are computed here (RFC 1071), so
//! every frame the simulator writes verifies. No options in the IPv4 header.

use std::net::Ipv4Addr;

pub type Mac = [u8; 6];

pub const BROADCAST_MAC: Mac = [0xff; 6];
pub const ETH_HEADER_LEN: usize = 14;
pub const IPV4_HEADER_LEN: usize = 20;
pub const UDP_HEADER_LEN: usize = 8;
pub const TCP_HEADER_LEN: usize = 20;
/// Smallest Ethernet frame without the FCS; shorter frames are zero-padded.
pub const MIN_FRAME_LEN: usize = 60;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// The multicast MAC an IPv4 group maps to (01:00:5e + low 23 bits).
pub fn multicast_mac(group: Ipv4Addr) -> Mac {
    let [_, b, c, d] = group.octets();
    [0x01, 0x00, 0x5e, b & 0x7f, c, d]
}

/// The IPv4 header fields that vary between packets.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Fields {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub id: u16,
    pub dont_fragment: bool,
}

/// The TCP header fields (options are passed separately, already padded to 4 bytes).
#[derive(Debug, Clone, Copy)]
pub struct TcpFields {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// Adds `data` as big-endian 16-bit words to a running ones' complement sum.
fn sum_words(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        if let [a, b] = w {
            acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*a, *b])));
        }
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The internet checksum of `data` (RFC 1071).
pub fn internet_checksum(data: &[u8]) -> u16 {
    fold(sum_words(0, data))
}

fn push_eth(buf: &mut Vec<u8>, src: Mac, dst: Mac, ethertype: u16) {
    buf.extend_from_slice(&dst);
    buf.extend_from_slice(&src);
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

fn push_ipv4(buf: &mut Vec<u8>, ip: &Ipv4Fields, proto: u8, payload_len: usize) {
    let start = buf.len();
    let total = (IPV4_HEADER_LEN + payload_len).min(usize::from(u16::MAX)) as u16;
    let flags: u16 = if ip.dont_fragment { 0x4000 } else { 0 };
    buf.push(0x45);
    buf.push(0);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&ip.id.to_be_bytes());
    buf.extend_from_slice(&flags.to_be_bytes());
    buf.push(ip.ttl);
    buf.push(proto);
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&ip.src.octets());
    buf.extend_from_slice(&ip.dst.octets());
    let csum = internet_checksum(buf.get(start..).unwrap_or_default());
    if let Some(slot) = buf.get_mut(start + 10..start + 12) {
        slot.copy_from_slice(&csum.to_be_bytes());
    }
}

/// Sum of the IPv4 pseudo-header used by TCP and UDP checksums.
fn pseudo_header_sum(ip: &Ipv4Fields, proto: u8, len: usize) -> u32 {
    let mut acc = sum_words(0, &ip.src.octets());
    acc = sum_words(acc, &ip.dst.octets());
    acc = acc.wrapping_add(u32::from(proto));
    acc.wrapping_add(len as u32)
}

fn pad_to_minimum(buf: &mut Vec<u8>) {
    if buf.len() < MIN_FRAME_LEN {
        buf.resize(MIN_FRAME_LEN, 0);
    }
}

/// An Ethernet + IPv4 + TCP frame. `options` must be a multiple of 4 bytes.
pub fn tcp_frame(
    src_mac: Mac,
    dst_mac: Mac,
    ip: &Ipv4Fields,
    tcp: &TcpFields,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let tcp_len = TCP_HEADER_LEN + options.len() + payload.len();
    let mut buf =
        Vec::with_capacity((ETH_HEADER_LEN + IPV4_HEADER_LEN + tcp_len).max(MIN_FRAME_LEN));
    push_eth(&mut buf, src_mac, dst_mac, ETHERTYPE_IPV4);
    push_ipv4(&mut buf, ip, PROTO_TCP, tcp_len);
    let start = buf.len();
    let data_offset = (((TCP_HEADER_LEN + options.len()) / 4) as u8) << 4;
    buf.extend_from_slice(&tcp.sport.to_be_bytes());
    buf.extend_from_slice(&tcp.dport.to_be_bytes());
    buf.extend_from_slice(&tcp.seq.to_be_bytes());
    buf.extend_from_slice(&tcp.ack.to_be_bytes());
    buf.push(data_offset);
    buf.push(tcp.flags);
    buf.extend_from_slice(&tcp.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]);
    buf.extend_from_slice(options);
    buf.extend_from_slice(payload);
    let acc = sum_words(
        pseudo_header_sum(ip, PROTO_TCP, tcp_len),
        buf.get(start..).unwrap_or_default(),
    );
    let csum = fold(acc);
    if let Some(slot) = buf.get_mut(start + 16..start + 18) {
        slot.copy_from_slice(&csum.to_be_bytes());
    }
    pad_to_minimum(&mut buf);
    buf
}

/// An Ethernet + IPv4 + UDP frame with the UDP checksum filled in.
pub fn udp_frame(
    src_mac: Mac,
    dst_mac: Mac,
    ip: &Ipv4Fields,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = UDP_HEADER_LEN + payload.len();
    let mut buf =
        Vec::with_capacity((ETH_HEADER_LEN + IPV4_HEADER_LEN + udp_len).max(MIN_FRAME_LEN));
    push_eth(&mut buf, src_mac, dst_mac, ETHERTYPE_IPV4);
    push_ipv4(&mut buf, ip, PROTO_UDP, udp_len);
    let start = buf.len();
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&(udp_len as u16).to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(payload);
    let acc = sum_words(
        pseudo_header_sum(ip, PROTO_UDP, udp_len),
        buf.get(start..).unwrap_or_default(),
    );
    let mut csum = fold(acc);
    if csum == 0 {
        csum = 0xffff; // zero means "no checksum" in UDP
    }
    if let Some(slot) = buf.get_mut(start + 6..start + 8) {
        slot.copy_from_slice(&csum.to_be_bytes());
    }
    pad_to_minimum(&mut buf);
    buf
}

/// ARP operation codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOp {
    Request = 1,
    Reply = 2,
}

/// An Ethernet ARP frame for IPv4 over Ethernet.
pub fn arp_frame(
    src_mac: Mac,
    dst_mac: Mac,
    op: ArpOp,
    sender: (Mac, Ipv4Addr),
    target: (Mac, Ipv4Addr),
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(MIN_FRAME_LEN);
    push_eth(&mut buf, src_mac, dst_mac, ETHERTYPE_ARP);
    buf.extend_from_slice(&[0x00, 0x01, 0x08, 0x00, 6, 4]);
    buf.extend_from_slice(&(op as u16).to_be_bytes());
    buf.extend_from_slice(&sender.0);
    buf.extend_from_slice(&sender.1.octets());
    buf.extend_from_slice(&target.0);
    buf.extend_from_slice(&target.1.octets());
    pad_to_minimum(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip() -> Ipv4Fields {
        Ipv4Fields {
            src: Ipv4Addr::new(10, 0, 1, 5),
            dst: Ipv4Addr::new(93, 184, 216, 34),
            ttl: 64,
            id: 7,
            dont_fragment: true,
        }
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let f = udp_frame([2; 6], [4; 6], &ip(), 5000, 53, b"hello");
        let hdr = f.get(14..34).unwrap_or_default();
        assert_eq!(internet_checksum(hdr), 0);
    }

    #[test]
    fn udp_checksum_verifies_with_pseudo_header() {
        let f = udp_frame([2; 6], [4; 6], &ip(), 5000, 53, b"hello world");
        let seg = f.get(34..34 + 19).unwrap_or_default();
        let acc = sum_words(pseudo_header_sum(&ip(), PROTO_UDP, seg.len()), seg);
        assert_eq!(fold(acc), 0);
    }

    #[test]
    fn tcp_frame_has_options_and_pads_short_frames() {
        let tcp = TcpFields {
            sport: 40000,
            dport: 443,
            seq: 1,
            ack: 0,
            flags: SYN,
            window: 64240,
        };
        let f = tcp_frame([2; 6], [4; 6], &ip(), &tcp, &[2, 4, 5, 0xb4], &[]);
        assert_eq!(f.len(), MIN_FRAME_LEN); // 58 bytes padded to 60
        assert_eq!(f.get(46), Some(&0x60)); // data offset 6 words
        let seg = f.get(34..58).unwrap_or_default();
        assert_eq!(
            fold(sum_words(
                pseudo_header_sum(&ip(), PROTO_TCP, seg.len()),
                seg
            )),
            0
        );
        let small = arp_frame(
            [2; 6],
            BROADCAST_MAC,
            ArpOp::Request,
            ([2; 6], ip().src),
            ([0; 6], ip().dst),
        );
        assert_eq!(small.len(), MIN_FRAME_LEN);
    }

    #[test]
    fn multicast_mac_maps_low_bits() {
        assert_eq!(
            multicast_mac(Ipv4Addr::new(239, 255, 255, 250)),
            [1, 0, 0x5e, 0x7f, 0xff, 0xfa]
        );
        assert_eq!(
            multicast_mac(Ipv4Addr::new(224, 0, 0, 251)),
            [1, 0, 0x5e, 0, 0, 0xfb]
        );
    }
}
