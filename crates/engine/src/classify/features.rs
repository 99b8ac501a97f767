//! The per-device feature extractor: one device's decoded packets,
//! [`ConnRecord`]s and [`ProtoRecord`]s in → a fixed-length, named
//! [`FeatureVector`] out.
//!
//! Feed it everything the pipeline produces for a capture; it keeps what
//! belongs to its MAC: frames sent or received by the MAC, connections whose
//! originator or responder is the MAC, and protocol records whose connection
//! has one of the device's IP addresses (learnt from its own frames) or, for
//! DHCP, whose client MAC is the device's.
//!
//! The features describe behaviour that carries over to another unit of the
//! same model on another network (see `tokens` for text): sizes, timing,
//! protocol mix, destination service ports, IP stack traits, the first
//! packets' sequence, and hashed tokens of DNS names, DHCP fingerprints, TLS
//! JA3, HTTP user agents and SSDP descriptions. Never addresses, ephemeral
//! ports or the MAC itself.
//!
//! Limits: [`MAX_DEVICE_IPS`] addresses per device, [`MAX_REMOTE_IPS`] peers
//! counted; overflow is counted in [`ExtractCounters`].
#![deny(clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::OnceLock;

use crate::counters::Counters;
use crate::decode::{Decoded, MacAddr};
use crate::flow::{ConnRecord, ConnState};
use crate::identity::model::parse_mac;
use crate::log::ConnId;
use crate::proto::dhcp::DhcpRecord;
use crate::proto::dispatch::ProtoRecord;
use crate::proto::dns::DnsRecord;

use super::records::RecordFeatures;
use super::tokens::{TokenBag, Tokenizer};
use super::traffic::TrafficStats;

/// Addresses remembered as the device's own (DHCP renumbering, IPv6 SLAAC).
pub const MAX_DEVICE_IPS: usize = 16;
/// Distinct peers counted; more are counted in `remote_ips_over_limit`.
pub const MAX_REMOTE_IPS: usize = 1024;

/// Destination ports of connections the device opens, counted one by one.
const SERVICE_PORTS: [u16; 15] = [
    53, 67, 80, 123, 137, 443, 1883, 1900, 5353, 5355, 5683, 8080, 8443, 8883, 50443,
];

/// Lowest port of the ephemeral range of Linux (and so of most IoT stacks
/// and phones); destination ports from here up are a peer's client port,
/// noise rather than a service, and are only counted, never hashed.
const EPHEMERAL_START: u16 = 32768;
const EPHEMERAL_START_MINUS_1: u16 = EPHEMERAL_START - 1;

/// The extractor's feature vector: values in the order of [`feature_names`].
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureVector {
    pub values: Vec<f64>,
}

impl FeatureVector {
    /// The value of a named feature (explanations, tests).
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = feature_names().iter().position(|n| n == name)?;
        self.values.get(i).copied()
    }
}

/// Collects feature values in order, and their names when asked to.
#[derive(Debug, Default)]
pub struct FeatureOut {
    values: Vec<f64>,
    names: Option<Vec<String>>,
}

impl FeatureOut {
    /// A feature with a fixed name.
    pub fn put(&mut self, name: &str, value: f64) {
        self.put_with(|| name.to_string(), value);
    }

    /// A feature whose name is built (only when names are collected).
    pub fn put_with(&mut self, name: impl FnOnce() -> String, value: f64) {
        if let Some(names) = &mut self.names {
            names.push(name());
        }
        self.values
            .push(if value.is_finite() { value } else { 0.0 });
    }

    /// One feature per bucket of a token bag: `{prefix}.{i:02}`.
    pub fn bag<const N: usize>(&mut self, prefix: &str, bag: &TokenBag<N>) {
        for (i, &count) in bag.buckets().iter().enumerate() {
            self.put_with(|| format!("{prefix}.{i:02}"), f64::from(count));
        }
    }
}

/// The names of every feature, in vector order (computed once).
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut out = FeatureOut {
            values: Vec::new(),
            names: Some(Vec::new()),
        };
        FeatureExtractor::new(MacAddr::default()).emit(&mut out);
        out.names.unwrap_or_default()
    })
}

/// Number of features (length of every [`FeatureVector`]).
pub fn feature_count() -> usize {
    feature_names().len()
}

/// What the extractor kept out, by limit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExtractCounters {
    pub device_packets: u64,
    pub device_conns: u64,
    pub device_records: u64,
    pub device_ips_over_limit: u64,
    pub remote_ips_over_limit: u64,
}

impl Counters for ExtractCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("classify.device_packets", self.device_packets);
        f("classify.device_conns", self.device_conns);
        f("classify.device_records", self.device_records);
        f("classify.device_ips_over_limit", self.device_ips_over_limit);
        f("classify.remote_ips_over_limit", self.remote_ips_over_limit);
    }
}

/// Which side of a connection the device is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Connection-level statistics of the device.
#[derive(Debug, Clone, Default)]
struct ConnStats {
    originated: u32,
    responded: u32,
    to_local: u32,
    service: [u32; SERVICE_PORTS.len()],
    /// Destination port classes: other well-known, registered, ephemeral.
    port_class: [u32; 3],
    /// Originated: finished, no reply, rejected, other.
    states: [u32; 4],
    duration_sum: f64,
    orig_bytes: u64,
    resp_bytes: u64,
    dst_ports: TokenBag<16>,
    listen_ports: TokenBag<16>,
}

/// Feature extractor for one device (by MAC) over one stretch of traffic.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    mac: MacAddr,
    traffic: TrafficStats,
    records: RecordFeatures,
    device_ips: Vec<IpAddr>,
    remote_ips: BTreeSet<IpAddr>,
    conns: ConnStats,
    counters: ExtractCounters,
}

impl FeatureExtractor {
    pub fn new(mac: MacAddr) -> Self {
        FeatureExtractor {
            mac,
            traffic: TrafficStats::new(mac),
            records: RecordFeatures::new(Tokenizer::new(mac)),
            device_ips: Vec::new(),
            remote_ips: BTreeSet::new(),
            conns: ConnStats::default(),
            counters: ExtractCounters::default(),
        }
    }

    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// One decoded frame; `ethertype` (see [`super::traffic::ethertype`])
    /// lets layer-2 protocols the decoder skips (EAPOL, LLC) be told apart.
    pub fn observe_packet(&mut self, pkt: &Decoded<'_>, ethertype: Option<u16>) {
        if !self.traffic.observe(pkt, ethertype) {
            return;
        }
        self.counters.device_packets += 1;
        let crate::decode::Network::Ip(ip) = &pkt.network else {
            return;
        };
        let (own, peer) = if pkt.src_mac == Some(self.mac) {
            (ip.src, ip.dst)
        } else {
            (ip.dst, ip.src)
        };
        if !own.is_unspecified() && !own.is_multicast() && !self.device_ips.contains(&own) {
            if self.device_ips.len() < MAX_DEVICE_IPS {
                self.device_ips.push(own);
            } else {
                self.counters.device_ips_over_limit += 1;
            }
        }
        if !self.remote_ips.contains(&peer) {
            if self.remote_ips.len() < MAX_REMOTE_IPS {
                self.remote_ips.insert(peer);
            } else {
                self.counters.remote_ips_over_limit += 1;
            }
        }
    }

    /// One finished connection; kept when the device is on either side.
    pub fn observe_conn(&mut self, rec: &ConnRecord) {
        let c = &mut self.conns;
        if rec.orig_l2_addr == Some(self.mac) {
            self.counters.device_conns += 1;
            c.originated += 1;
            c.to_local += u32::from(rec.local_resp == Some(true));
            if let Some(i) = SERVICE_PORTS.iter().position(|&p| p == rec.resp_p) {
                if let Some(slot) = c.service.get_mut(i) {
                    *slot += 1;
                }
            } else {
                let class = match rec.resp_p {
                    0..=1023 => 0,
                    1024..=EPHEMERAL_START_MINUS_1 => 1,
                    _ => 2,
                };
                if let Some(slot) = c.port_class.get_mut(class) {
                    *slot += 1;
                }
            }
            let state = match rec.conn_state {
                ConnState::Finished => 0,
                ConnState::AttemptNoReply => 1,
                ConnState::Rejected => 2,
                _ => 3,
            };
            if let Some(slot) = c.states.get_mut(state) {
                *slot += 1;
            }
            c.duration_sum += rec.duration.map_or(0.0, |d| d.as_secs_f64());
            c.orig_bytes += rec.orig_bytes.unwrap_or(0);
            c.resp_bytes += rec.resp_bytes.unwrap_or(0);
            if rec.resp_p < EPHEMERAL_START {
                c.dst_ports
                    .add(&format!("{}/{}", rec.proto.as_str(), rec.resp_p));
            }
        } else if rec.resp_l2_addr == Some(self.mac) {
            self.counters.device_conns += 1;
            c.responded += 1;
            c.listen_ports
                .add(&format!("{}/{}", rec.proto.as_str(), rec.resp_p));
        }
    }

    /// One protocol record; kept when its connection involves the device.
    pub fn observe_record(&mut self, rec: &ProtoRecord) {
        let side = match rec {
            ProtoRecord::Dhcp(DhcpRecord::V4(d)) => match d.mac.as_deref().and_then(parse_mac) {
                Some(mac) if mac == self.mac => Some(Side::Client),
                Some(_) => None,
                None => self.side(&d.conn),
            },
            ProtoRecord::Dhcp(DhcpRecord::V6(d)) => self.side(&d.conn),
            ProtoRecord::Dns(DnsRecord { conn, .. }) => self.side(conn),
            other => conn_of(other).and_then(|c| self.side(c)),
        };
        if let Some(side) = side {
            self.counters.device_records += 1;
            self.records.observe(rec, side);
        }
    }

    /// The device's side of a connection, by its addresses.
    fn side(&self, conn: &ConnId) -> Option<Side> {
        if self.device_ips.contains(&conn.orig_h) {
            Some(Side::Client)
        } else if self.device_ips.contains(&conn.resp_h) {
            Some(Side::Server)
        } else {
            None
        }
    }

    pub fn counters(&self) -> &ExtractCounters {
        &self.counters
    }

    /// Every token the record bags hold, as `bag/token` (explanations, tests).
    pub fn tokens(&self) -> Vec<String> {
        self.records.tokens()
    }

    /// Frames of the device seen so far.
    pub fn device_packets(&self) -> u64 {
        self.counters.device_packets
    }

    /// The feature vector of everything observed so far.
    pub fn finish(&self) -> FeatureVector {
        let mut out = FeatureOut::default();
        self.emit(&mut out);
        FeatureVector { values: out.values }
    }

    fn emit(&self, out: &mut FeatureOut) {
        self.traffic.emit(out);
        out.put("peers", self.remote_ips.len() as f64);
        out.put("device_ips", self.device_ips.len() as f64);
        let c = &self.conns;
        out.put("conn.originated", f64::from(c.originated));
        out.put("conn.responded", f64::from(c.responded));
        out.put("conn.to_local", f64::from(c.to_local));
        for (port, &count) in SERVICE_PORTS.iter().zip(c.service.iter()) {
            out.put_with(|| format!("conn.dst_port_{port}"), f64::from(count));
        }
        for (name, &count) in ["well_known", "registered", "ephemeral"]
            .iter()
            .zip(c.port_class.iter())
        {
            out.put_with(|| format!("conn.dst_other_{name}"), f64::from(count));
        }
        for (name, &count) in ["finished", "no_reply", "rejected", "other"]
            .iter()
            .zip(c.states.iter())
        {
            out.put_with(|| format!("conn.state_{name}"), f64::from(count));
        }
        let n = f64::from(c.originated.max(1));
        out.put("conn.duration_mean", c.duration_sum / n);
        out.put("conn.orig_bytes_mean", c.orig_bytes as f64 / n);
        out.put("conn.resp_bytes_mean", c.resp_bytes as f64 / n);
        out.bag("conn.dst_port_hash", &c.dst_ports);
        out.bag("conn.listen_port_hash", &c.listen_ports);
        self.records.emit(out);
    }
}

/// The connection of a record of the analyzers without special handling.
fn conn_of(rec: &ProtoRecord) -> Option<&ConnId> {
    use crate::proto::mqtt::MqttRecord;
    Some(match rec {
        ProtoRecord::Dns(r) => &r.conn,
        ProtoRecord::Dhcp(DhcpRecord::V4(r)) => &r.conn,
        ProtoRecord::Dhcp(DhcpRecord::V6(r)) => &r.conn,
        ProtoRecord::Ssdp(r) => &r.conn,
        ProtoRecord::Ntp(r) => &r.conn,
        ProtoRecord::Coap(r) => &r.conn,
        ProtoRecord::Tls(r) => &r.conn,
        ProtoRecord::Http(r) => &r.conn,
        ProtoRecord::Mqtt(MqttRecord::Connect(r)) => &r.conn,
        ProtoRecord::Mqtt(MqttRecord::Publish(r)) => &r.conn,
        ProtoRecord::Mqtt(MqttRecord::Subscribe(r)) => &r.conn,
        ProtoRecord::Ssh(r) => &r.conn,
        ProtoRecord::Telnet(r) => &r.conn,
        ProtoRecord::Modbus(r) => &r.conn,
        ProtoRecord::Dnp3(r) => &r.conn,
        // Not connection-based; ARP is counted from the device's own frames.
        ProtoRecord::Arp(_) => return None,
    })
}
