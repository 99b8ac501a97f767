//! Packet-level statistics of one device: its decoded frames in → sizes,
//! histograms, timing, layer-2/3/4 protocol counts, IP stack traits (TTL,
//! TCP window) and the protocol/size sequence of its first packets (IoT
//! Sentinel's fingerprint idea) out, written through [`FeatureOut`].
//!
//! Nothing here depends on addresses or ports that one capture happens to
//! use (assigned IPs, ephemeral ports): only on how the device behaves.
//! Limits: [`FIRST_PACKETS`] packets in the sequence; the TTL tables are
//! indexed by `u8` and so bounded by construction.
#![deny(clippy::indexing_slicing)]

use crate::decode::{ArpOperation, Decoded, MacAddr, Network, Transport};
use crate::source::{LinkType, RawPacket};
use crate::time::Timestamp;

use super::features::FeatureOut;

/// Packets the device sent whose protocol and size form the sequence features.
pub const FIRST_PACKETS: usize = 12;

/// Upper bounds (bytes on the wire) of the frame-size histogram bins; one
/// more bin holds everything larger.
const SIZE_BINS: [u32; 7] = [60, 90, 130, 200, 350, 600, 1000];

/// Inter-packet gaps shorter than this count as a burst.
const BURST_GAP_SECS: f64 = 0.010;

const ETHERTYPE_EAPOL: u16 = 0x888e;
/// Ethertype field values below this are IEEE 802.3 lengths (LLC frames).
const ETHERTYPE_MIN: u16 = 0x0600;

/// The ethertype of an Ethernet frame (after 802.1Q tags), for layer-2
/// protocols the decoder does not decode (EAPOL, LLC). `None` for other links.
pub fn ethertype(raw: &RawPacket<'_>) -> Option<u16> {
    if raw.link != LinkType::ETHERNET {
        return None;
    }
    let mut at = 12;
    loop {
        let field = raw.data.get(at..at + 2)?;
        let value = u16::from_be_bytes([*field.first()?, *field.get(1)?]);
        if value == 0x8100 || value == 0x88a8 {
            at += 4;
            if at > 12 + 4 * 4 {
                return None;
            }
            continue;
        }
        return Some(value);
    }
}

/// What a packet is, coarsely: the category of the sequence features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketKind {
    Eapol = 1,
    ArpRequest,
    ArpReply,
    Dhcp,
    Dns,
    Mdns,
    Ssdp,
    Ntp,
    Http,
    Tls,
    OtherTcp,
    OtherUdp,
    Icmp,
    Icmpv6,
    Igmp,
    Llc,
    OtherL2,
    OtherIp,
}

impl PacketKind {
    /// Classifies one frame by its layers and well-known ports.
    pub fn of(pkt: &Decoded<'_>, ethertype: Option<u16>) -> PacketKind {
        match &pkt.network {
            Network::Arp(arp) => match arp.operation {
                ArpOperation::Reply => PacketKind::ArpReply,
                _ => PacketKind::ArpRequest,
            },
            Network::Ip(ip) => match ip.transport {
                Transport::Tcp(t) => match t.src_port.min(t.dst_port) {
                    80 | 8080 => PacketKind::Http,
                    443 | 8443 => PacketKind::Tls,
                    _ => PacketKind::OtherTcp,
                },
                Transport::Udp(u) => match (u.src_port, u.dst_port) {
                    (67 | 68, _) | (_, 67 | 68) => PacketKind::Dhcp,
                    (5353, _) | (_, 5353) => PacketKind::Mdns,
                    (53, _) | (_, 53) => PacketKind::Dns,
                    (1900, _) | (_, 1900) => PacketKind::Ssdp,
                    (123, _) | (_, 123) => PacketKind::Ntp,
                    _ => PacketKind::OtherUdp,
                },
                Transport::Icmp(i) if i.v6 => PacketKind::Icmpv6,
                Transport::Icmp(_) => PacketKind::Icmp,
                _ if ip.protocol == 2 => PacketKind::Igmp,
                _ => PacketKind::OtherIp,
            },
            Network::None => match ethertype {
                Some(ETHERTYPE_EAPOL) => PacketKind::Eapol,
                Some(t) if t < ETHERTYPE_MIN => PacketKind::Llc,
                _ => PacketKind::OtherL2,
            },
        }
    }
}

/// Size statistics of the frames of one direction.
#[derive(Debug, Clone, Default)]
struct SizeStats {
    packets: u64,
    bytes: u64,
    sum_sq: f64,
    min: u32,
    max: u32,
    bins: [u32; SIZE_BINS.len() + 1],
}

impl SizeStats {
    fn add(&mut self, len: u32) {
        if self.packets == 0 || len < self.min {
            self.min = len;
        }
        self.max = self.max.max(len);
        self.packets += 1;
        self.bytes += u64::from(len);
        self.sum_sq += f64::from(len) * f64::from(len);
        let bin = SIZE_BINS
            .iter()
            .position(|&b| len <= b)
            .unwrap_or(SIZE_BINS.len());
        if let Some(slot) = self.bins.get_mut(bin) {
            *slot += 1;
        }
    }

    fn emit(&self, dir: &str, out: &mut FeatureOut) {
        let n = self.packets as f64;
        let mean = if self.packets > 0 {
            self.bytes as f64 / n
        } else {
            0.0
        };
        let var = if self.packets > 0 {
            (self.sum_sq / n - mean * mean).max(0.0)
        } else {
            0.0
        };
        out.put_with(|| format!("{dir}.packets"), n);
        out.put_with(|| format!("{dir}.bytes"), self.bytes as f64);
        out.put_with(|| format!("{dir}.size_mean"), mean);
        out.put_with(|| format!("{dir}.size_std"), var.sqrt());
        out.put_with(|| format!("{dir}.size_min"), f64::from(self.min));
        out.put_with(|| format!("{dir}.size_max"), f64::from(self.max));
        for (i, &count) in self.bins.iter().enumerate() {
            let share = if self.packets > 0 {
                f64::from(count) / n
            } else {
                0.0
            };
            out.put_with(
                || match SIZE_BINS.get(i) {
                    Some(b) => format!("{dir}.size_share_le_{b}"),
                    None => format!(
                        "{dir}.size_share_gt_{}",
                        SIZE_BINS.last().copied().unwrap_or(0)
                    ),
                },
                share,
            );
        }
    }
}

/// Gaps between consecutive packets the device sent.
#[derive(Debug, Clone, Default)]
struct Gaps {
    last: Option<Timestamp>,
    count: u64,
    sum: f64,
    sum_sq: f64,
    max: f64,
    bursts: u64,
}

impl Gaps {
    fn add(&mut self, ts: Timestamp) {
        if let Some(last) = self.last {
            let gap = ts.since(last).as_secs_f64().max(0.0);
            self.count += 1;
            self.sum += gap;
            self.sum_sq += gap * gap;
            self.max = self.max.max(gap);
            self.bursts += u64::from(gap < BURST_GAP_SECS);
        }
        self.last = Some(ts);
    }
}

/// Everything packet-level about one device.
#[derive(Debug, Clone)]
pub struct TrafficStats {
    mac: MacAddr,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    sent: SizeStats,
    received: SizeStats,
    gaps: Gaps,
    /// Packets sent per [`PacketKind`] (index = discriminant).
    kinds: [u32; 19],
    to_broadcast: u32,
    to_multicast: u32,
    ipv4: u32,
    ipv6: u32,
    arp_probes: u32,
    arp_announcements: u32,
    icmpv6_types: [u32; 5],
    tcp_syn: u32,
    tcp_syn_ack: u32,
    tcp_rst: u32,
    tcp_fin: u32,
    syn_received: u32,
    ttl: Box<[u32; 256]>,
    hop_limit: Box<[u32; 256]>,
    first_syn_window: Option<u16>,
    first_syn_ack_window: Option<u16>,
    window_sum: f64,
    window_count: u32,
    first: Vec<(PacketKind, u32)>,
}

impl TrafficStats {
    pub fn new(mac: MacAddr) -> Self {
        TrafficStats {
            mac,
            first_ts: None,
            last_ts: None,
            sent: SizeStats::default(),
            received: SizeStats::default(),
            gaps: Gaps::default(),
            kinds: [0; 19],
            to_broadcast: 0,
            to_multicast: 0,
            ipv4: 0,
            ipv6: 0,
            arp_probes: 0,
            arp_announcements: 0,
            icmpv6_types: [0; 5],
            tcp_syn: 0,
            tcp_syn_ack: 0,
            tcp_rst: 0,
            tcp_fin: 0,
            syn_received: 0,
            ttl: Box::new([0; 256]),
            hop_limit: Box::new([0; 256]),
            first_syn_window: None,
            first_syn_ack_window: None,
            window_sum: 0.0,
            window_count: 0,
            first: Vec::with_capacity(FIRST_PACKETS),
        }
    }

    /// Accounts one frame; `true` when it was the device's (sent or received).
    pub fn observe(&mut self, pkt: &Decoded<'_>, ethertype: Option<u16>) -> bool {
        let sent = pkt.src_mac == Some(self.mac);
        let received = !sent && pkt.dst_mac == Some(self.mac);
        if !sent && !received {
            return false;
        }
        self.first_ts.get_or_insert(pkt.ts);
        self.last_ts = Some(pkt.ts);
        if received {
            self.received.add(pkt.wire_len);
            if let Network::Ip(ip) = &pkt.network {
                if let Transport::Tcp(t) = ip.transport {
                    self.syn_received += u32::from(t.flags.syn() && !t.flags.ack());
                }
            }
            return true;
        }
        self.sent.add(pkt.wire_len);
        self.gaps.add(pkt.ts);
        let kind = PacketKind::of(pkt, ethertype);
        if let Some(slot) = self.kinds.get_mut(kind as usize) {
            *slot += 1;
        }
        if self.first.len() < FIRST_PACKETS {
            self.first.push((kind, pkt.wire_len));
        }
        if let Some(dst) = pkt.dst_mac {
            if dst.0 == [0xff; 6] {
                self.to_broadcast += 1;
            } else if crate::identity::model::is_group(dst) {
                self.to_multicast += 1;
            }
        }
        match &pkt.network {
            Network::Arp(arp) => {
                let unspecified = arp.sender_ip.is_unspecified();
                self.arp_probes += u32::from(unspecified);
                self.arp_announcements += u32::from(!unspecified && arp.sender_ip == arp.target_ip);
            }
            Network::Ip(ip) => self.observe_ip(ip),
            Network::None => {}
        }
        true
    }

    fn observe_ip(&mut self, ip: &crate::decode::IpPacket<'_>) {
        let table = if ip.src.is_ipv4() {
            self.ipv4 += 1;
            &mut self.ttl
        } else {
            self.ipv6 += 1;
            &mut self.hop_limit
        };
        if let Some(slot) = table.get_mut(usize::from(ip.ttl)) {
            *slot += 1;
        }
        match ip.transport {
            Transport::Tcp(t) => {
                let (syn, ack) = (t.flags.syn(), t.flags.ack());
                if syn && !ack {
                    self.tcp_syn += 1;
                    self.first_syn_window.get_or_insert(t.window);
                }
                if syn && ack {
                    self.tcp_syn_ack += 1;
                    self.first_syn_ack_window.get_or_insert(t.window);
                }
                self.tcp_rst += u32::from(t.flags.rst());
                self.tcp_fin += u32::from(t.flags.fin());
                self.window_sum += f64::from(t.window);
                self.window_count += 1;
            }
            Transport::Icmp(i) if i.v6 => {
                let slot = match i.icmp_type {
                    130 | 131 | 143 => 0,
                    133 => 1,
                    135 => 2,
                    136 => 3,
                    _ => 4,
                };
                if let Some(c) = self.icmpv6_types.get_mut(slot) {
                    *c += 1;
                }
            }
            _ => {}
        }
    }

    /// Writes the packet-level features in their fixed order.
    pub fn emit(&self, out: &mut FeatureOut) {
        let span = match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => b.since(a).as_secs_f64().max(0.0),
            _ => 0.0,
        };
        out.put("duration", span);
        self.sent.emit("sent", out);
        self.received.emit("received", out);
        let sent = self.sent.packets.max(1) as f64;
        let g = &self.gaps;
        let n = g.count.max(1) as f64;
        let mean = g.sum / n;
        out.put("gap.mean", mean);
        out.put("gap.std", (g.sum_sq / n - mean * mean).max(0.0).sqrt());
        out.put("gap.max", g.max);
        out.put("gap.burst_share", g.bursts as f64 / n);
        for (i, name) in KIND_NAMES.iter().enumerate() {
            let count = self.kinds.get(i + 1).copied().unwrap_or(0);
            out.put_with(|| format!("sent.kind.{name}"), f64::from(count));
        }
        out.put("sent.broadcast_share", f64::from(self.to_broadcast) / sent);
        out.put("sent.multicast_share", f64::from(self.to_multicast) / sent);
        out.put("sent.ipv4", f64::from(self.ipv4));
        out.put("sent.ipv6", f64::from(self.ipv6));
        out.put("sent.arp_probes", f64::from(self.arp_probes));
        out.put("sent.arp_announcements", f64::from(self.arp_announcements));
        for (name, &count) in [
            "mld",
            "router_solicit",
            "neighbor_solicit",
            "neighbor_advert",
            "other",
        ]
        .iter()
        .zip(self.icmpv6_types.iter())
        {
            out.put_with(|| format!("sent.icmpv6.{name}"), f64::from(count));
        }
        out.put("tcp.syn_sent", f64::from(self.tcp_syn));
        out.put("tcp.syn_ack_sent", f64::from(self.tcp_syn_ack));
        out.put("tcp.rst_sent", f64::from(self.tcp_rst));
        out.put("tcp.fin_sent", f64::from(self.tcp_fin));
        out.put("tcp.syn_received", f64::from(self.syn_received));
        out.put(
            "tcp.first_syn_window",
            self.first_syn_window.map_or(-1.0, f64::from),
        );
        out.put(
            "tcp.first_syn_ack_window",
            self.first_syn_ack_window.map_or(-1.0, f64::from),
        );
        let mean_window = if self.window_count > 0 {
            self.window_sum / f64::from(self.window_count)
        } else {
            -1.0
        };
        out.put("tcp.window_mean", mean_window);
        emit_ttl("ip.ttl", &self.ttl, out);
        emit_ttl("ip.hop_limit", &self.hop_limit, out);
        for i in 0..FIRST_PACKETS {
            let (kind, size) = self
                .first
                .get(i)
                .map_or((0.0, 0.0), |(k, s)| (f64::from(*k as u8), f64::from(*s)));
            out.put_with(|| format!("first.{i:02}.kind"), kind);
            out.put_with(|| format!("first.{i:02}.size"), size);
        }
    }
}

/// Names of [`PacketKind`]s in discriminant order (1, 2, …).
const KIND_NAMES: [&str; 18] = [
    "eapol",
    "arp_request",
    "arp_reply",
    "dhcp",
    "dns",
    "mdns",
    "ssdp",
    "ntp",
    "http",
    "tls",
    "other_tcp",
    "other_udp",
    "icmp",
    "icmpv6",
    "igmp",
    "llc",
    "other_l2",
    "other_ip",
];

/// Most common value, lowest and highest seen (−1 when none).
fn emit_ttl(name: &str, table: &[u32; 256], out: &mut FeatureOut) {
    let seen = || table.iter().enumerate().filter(|(_, &c)| c > 0);
    let mode = seen()
        .max_by_key(|(v, &c)| (c, std::cmp::Reverse(*v)))
        .map(|(v, _)| v);
    let min = seen().next().map(|(v, _)| v);
    let max = seen().next_back().map(|(v, _)| v);
    let f = |v: Option<usize>| v.map_or(-1.0, |v| v as f64);
    out.put_with(|| format!("{name}.mode"), f(mode));
    out.put_with(|| format!("{name}.min"), f(min));
    out.put_with(|| format!("{name}.max"), f(max));
}
