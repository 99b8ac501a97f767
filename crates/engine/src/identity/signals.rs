//! What connection and protocol records say about the devices at their
//! ends: traffic counts, services offered and used, DHCP fingerprints and
//! host names, vendor domains (DNS, TLS server names, HTTP hosts), user
//! agents and Server headers, MQTT client ids and topics, and the
//! identifiers behind duplicate-identity checks (DHCP client id, TLS client
//! certificate). mDNS and SSDP announcements are in `discovery.rs`.
//!
//! In: [`ConnRecord`]s and [`ProtoRecord`]s. Out: hints on the devices (via
//! the rule table, memoized per device and in the stage's observation
//! cache), host-name history, DHCP fingerprints, and `identity.duplicate` /
//! `identity.change.hostname` findings. A record's device is found by MAC
//! where the record carries one (DHCP, conn), else through the IP → MAC
//! index; records about remote hosts name no device.
#![deny(clippy::indexing_slicing)]

use std::net::IpAddr;

use super::findings::{Finding, FindingKind};
use super::fingerprints::Field;
use super::model::{is_group, parse_mac};
use super::record::{DhcpFingerprint, EvidenceSource};
use super::seen::mix;
use super::stage::{key_bits, IdBinding, IdentityStage, Place};
use super::text::bounded;
use super::DeviceKey;
use crate::decode::MacAddr;
use crate::flow::{ConnRecord, ConnState, Proto};
use crate::proto::dhcp::{DhcpRecord, Dhcpv4Record, Dhcpv6Record};
use crate::proto::dispatch::ProtoRecord;
use crate::proto::dns::DnsRecord;
use crate::proto::http::{Dialect, HttpRecord};
use crate::proto::mqtt::MqttRecord;
use crate::proto::tls::SslRecord;
use crate::time::Timestamp;

/// Responder ports above this are ephemeral: not a service the device offers.
const MAX_SERVICE_PORT: u16 = 49_151;
/// Which DHCP message types a client sends.
const DHCP_CLIENT_MESSAGES: [&str; 5] = ["DISCOVER", "REQUEST", "INFORM", "DECLINE", "RELEASE"];

/// Observation-cache tag of whole DHCP records (above the rule fields' tags).
const TAG_DHCP: u8 = 0xd0;

/// A digest of what a DHCP client message says about its sender.
fn dhcp_digest(r: &Dhcpv4Record, sender: MacAddr) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(u64::from(TAG_DHCP)).build_hasher();
    h.write(&sender.0);
    for s in [&r.mac, &r.host_name, &r.vendor_class, &r.client_id] {
        h.write(s.as_deref().unwrap_or_default().as_bytes());
        h.write_u8(0xff);
    }
    for p in &r.param_list {
        h.write_u64(*p);
    }
    h.finish()
}

/// Which identifier table a duplicate check uses.
#[derive(Clone, Copy)]
enum IdKind {
    DhcpClientId,
    TlsClientCert,
}

impl IdentityStage {
    /// The device a record's address names, if it is tracked.
    /// The device a record's address names (the caller's lookup of the
    /// key fails quietly if that device was evicted since).
    pub(super) fn device_of_ip(&self, ip: IpAddr) -> Option<DeviceKey> {
        match self.place(ip) {
            Place::Routed => Some(DeviceKey::Ip(ip)),
            Place::Local => Some(DeviceKey::Mac(self.ip_index.get(&ip)?.mac)),
            Place::Unspecified | Place::Remote => None,
        }
    }

    /// The device at one end of a connection (its first packet's MAC when local).
    fn device_of_end(&self, ip: IpAddr, mac: Option<MacAddr>) -> Option<DeviceKey> {
        match (self.place(ip), mac) {
            (Place::Local, Some(m)) if !is_group(m) => Some(DeviceKey::Mac(m)),
            _ => self.device_of_ip(ip),
        }
    }

    /// Accounts one finished connection: counts and services.
    pub fn observe_conn(&mut self, c: &ConnRecord) {
        let orig = self.device_of_end(c.orig_h, c.orig_l2_addr);
        let resp = self.device_of_end(c.resp_h, c.resp_l2_addr);
        // Traffic totals come from connection records, not packets: exact
        // counts at no per-packet cost, accounted when the connection ends.
        if let Some(e) = orig.and_then(|k| self.devices.get_mut(&k)) {
            let t = &mut e.record.traffic;
            t.conns_out += 1;
            t.packets_out += c.orig_pkts;
            t.bytes_out += c.orig_l2_bytes;
            t.packets_in += c.resp_pkts;
            t.bytes_in += c.resp_l2_bytes;
        }
        if let Some(e) = resp.and_then(|k| self.devices.get_mut(&k)) {
            let t = &mut e.record.traffic;
            t.conns_in += 1;
            t.packets_out += c.resp_pkts;
            t.bytes_out += c.resp_l2_bytes;
            t.packets_in += c.orig_pkts;
            t.bytes_in += c.orig_l2_bytes;
        }
        let answered = c.resp_pkts > 0
            && !matches!(
                c.conn_state,
                ConnState::Rejected | ConnState::AttemptNoReply
            );
        if !answered || c.proto == Proto::Icmp {
            return;
        }
        let mut digits = [0u8; 5];
        let port = decimal(c.resp_p, &mut digits);
        let proto = c.proto.as_str();
        let rules = self.rules;
        for (k, server, side) in [(resp, true, "server:"), (orig, false, "client:")] {
            let Some(k) = k else { continue };
            for s in &c.service {
                if rules.knows_service(server, s) {
                    self.hint_parts(k, Field::Service, EvidenceSource::Service, &[side, s]);
                }
            }
            if c.resp_p <= MAX_SERVICE_PORT && rules.knows_port(server, proto, c.resp_p) {
                self.hint_parts(
                    k,
                    Field::Service,
                    EvidenceSource::Service,
                    &[side, proto, "/", port],
                );
            }
        }
    }

    /// Takes what one protocol record says about its devices.
    pub fn observe_proto(&mut self, rec: &ProtoRecord) {
        match rec {
            ProtoRecord::Dhcp(DhcpRecord::V4(r)) => self.dhcp_v4(r),
            ProtoRecord::Dhcp(DhcpRecord::V6(r)) => self.dhcp_v6(r),
            ProtoRecord::Dns(r) if r.mdns => self.mdns(r),
            ProtoRecord::Dns(r) => self.dns(r),
            ProtoRecord::Tls(r) => self.tls(r),
            ProtoRecord::Http(r) => self.http(r),
            ProtoRecord::Mqtt(r) => self.mqtt(r),
            ProtoRecord::Ssdp(r) => self.ssdp(r),
            _ => {}
        }
    }

    pub(super) fn attributed(&mut self, ip: IpAddr) -> Option<DeviceKey> {
        let k = self.device_of_ip(ip);
        if k.is_none() && self.place(ip) == Place::Local {
            self.counters.records_unattributed += 1;
        }
        k
    }

    fn dhcp_v4(&mut self, r: &Dhcpv4Record) {
        if !DHCP_CLIENT_MESSAGES.contains(&r.msg_type.as_str()) {
            if let Some(router) = r.router {
                self.note_gateway(IpAddr::V4(router));
            }
            if let Some(k) = r.server_addr.and_then(|s| self.device_of_ip(IpAddr::V4(s))) {
                self.hint(k, Field::Service, EvidenceSource::Service, "server:dhcp");
            }
            return;
        }
        let Some(mac) = r
            .mac
            .as_deref()
            .and_then(parse_mac)
            .filter(|m| !is_group(*m))
        else {
            return;
        };
        let key = match r.client_addr.map(IpAddr::V4) {
            Some(ip) if self.place(ip) == Place::Routed => DeviceKey::Ip(ip),
            _ => DeviceKey::Mac(mac),
        };
        let ts = r.ts;
        // The frame's source MAC, unless a relay forwarded the message.
        let direct = r.relay_addr.is_none() && r.hops == 0 && self.packet.ts == ts;
        let sender = self
            .packet
            .src_mac
            .filter(|m| direct && !is_group(*m))
            .unwrap_or(mac);
        // A client repeating itself (renewals) changes nothing: one probe.
        if !self.seen.insert(mix(dhcp_digest(r, sender), key_bits(key))) {
            if let Some(e) = self.devices.get_mut(&key) {
                e.record.last_seen = e.record.last_seen.max(ts);
                if let Some(h) = &r.host_name {
                    e.note_hostname(h, ts);
                }
            }
            return;
        }
        let e = self.device_entry(key, ts);
        e.record.last_seen = e.record.last_seen.max(ts);
        let fp = e.record.dhcp.get_or_insert_with(DhcpFingerprint::default);
        if !r.param_list.is_empty() {
            fp.params = r
                .param_list
                .iter()
                .filter_map(|p| u8::try_from(*p).ok())
                .collect();
        }
        if let Some(v) = &r.vendor_class {
            fp.vendor_class = Some(bounded(v));
        }
        if let Some(c) = &r.client_id {
            fp.client_id = Some(bounded(c));
        }
        let old_name = fp.hostname.clone();
        if let Some(h) = &r.host_name {
            fp.hostname = Some(bounded(h));
            e.note_hostname(h, ts);
        }
        if let (Some(old), Some(new)) = (old_name, &r.host_name) {
            if old != bounded(new) {
                let f = Finding::new(
                    FindingKind::ChangeHostname,
                    ts,
                    key,
                    0.9,
                    format!("{key} now calls itself {} (was {old})", bounded(new)),
                )
                .attr("previous_hostname", old);
                self.raise(f);
            }
        }
        if let Some(v) = &r.vendor_class {
            self.hint(key, Field::DhcpVendor, EvidenceSource::Dhcp, v);
        }
        if !r.param_list.is_empty() {
            let list: Vec<String> = r.param_list.iter().map(u64::to_string).collect();
            self.hint(
                key,
                Field::DhcpParams,
                EvidenceSource::Dhcp,
                &list.join(","),
            );
        }
        if let Some(h) = &r.host_name {
            self.hint(key, Field::Hostname, EvidenceSource::Dhcp, h);
        }
        if let Some(cid) = &r.client_id {
            self.check_identifier(IdKind::DhcpClientId, cid, sender, ts);
        }
    }

    fn dhcp_v6(&mut self, r: &Dhcpv6Record) {
        let key = match r
            .mac
            .as_deref()
            .and_then(parse_mac)
            .filter(|m| !is_group(*m))
        {
            Some(mac) => {
                let k = DeviceKey::Mac(mac);
                if !self.devices.contains_key(&k) {
                    return;
                }
                k
            }
            None => match self.attributed(r.conn.orig_h) {
                Some(k) => k,
                None => return,
            },
        };
        if let Some(fqdn) = &r.fqdn {
            let host = fqdn.split('.').next().unwrap_or(fqdn);
            if let Some(e) = self.devices.get_mut(&key) {
                e.note_hostname(host, r.ts);
            }
            self.hint(key, Field::Hostname, EvidenceSource::Dhcp, host);
        }
        if let Some(v) = &r.vendor_class {
            self.hint(key, Field::DhcpVendor, EvidenceSource::Dhcp, v);
        }
    }

    fn dns(&mut self, r: &DnsRecord) {
        let Some(q) = r.query.as_deref() else { return };
        if q.ends_with(".arpa") || !q.contains('.') {
            return;
        }
        self.hint_at(r.conn.orig_h, Field::Domain, EvidenceSource::Domain, &[q]);
    }

    fn tls(&mut self, r: &SslRecord) {
        if let Some(sni) = &r.server_name {
            self.hint_at(r.conn.orig_h, Field::Domain, EvidenceSource::Tls, &[sni]);
        }
        if let Some(fp) = r.client_cert_chain_fps.first() {
            if let Some(DeviceKey::Mac(mac)) = self.attributed(r.conn.orig_h) {
                self.check_identifier(IdKind::TlsClientCert, fp, mac, r.ts);
            }
        }
    }

    fn http(&mut self, r: &HttpRecord) {
        let (client, server) = (r.conn.orig_h, r.conn.resp_h);
        let local_server = self.place(server) != Place::Remote;
        if r.dialect == Dialect::Rtsp && local_server {
            self.hint_at(
                server,
                Field::Service,
                EvidenceSource::Service,
                &["server:rtsp"],
            );
        }
        if let (Some(s), true) = (&r.server, local_server) {
            self.hint_at(server, Field::HttpServer, EvidenceSource::HttpServer, &[s]);
        }
        if let Some(ua) = &r.user_agent {
            self.hint_at(
                client,
                Field::UserAgent,
                EvidenceSource::HttpUserAgent,
                &[ua],
            );
        }
        if let Some(host) = &r.host {
            let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
            if name.parse::<IpAddr>().is_err() {
                self.hint_at(client, Field::Domain, EvidenceSource::Domain, &[name]);
            }
        }
    }

    fn mqtt(&mut self, r: &MqttRecord) {
        match r {
            MqttRecord::Connect(c) => {
                if let Some(id) = &c.client_id {
                    self.hint_at(
                        c.conn.orig_h,
                        Field::MqttClient,
                        EvidenceSource::Mqtt,
                        &[id],
                    );
                }
            }
            MqttRecord::Publish(p) if p.from_client => {
                // The first topic level names the firmware's namespace.
                let level = p.topic.split('/').next().unwrap_or_default();
                self.hint_at(
                    p.conn.orig_h,
                    Field::MqttTopic,
                    EvidenceSource::Mqtt,
                    &[level, "/"],
                );
            }
            _ => {}
        }
    }

    fn note_gateway(&mut self, ip: IpAddr) {
        if self.gateway_ips.len() < super::config::MAX_GATEWAY_IPS
            && !self.gateway_ips.contains(&ip)
        {
            self.gateway_ips.push(ip);
        }
    }

    /// Duplicate identity: an identifier (DHCP client id, TLS client
    /// certificate) presented by `mac` while another active MAC holds it.
    fn check_identifier(&mut self, kind: IdKind, id: &str, mac: MacAddr, ts: Timestamp) {
        let window = self.cfg.binding_active_window;
        let table = match kind {
            IdKind::DhcpClientId => &mut self.client_ids,
            IdKind::TlsClientCert => &mut self.client_certs,
        };
        let id = bounded(id);
        let previous = table.get(&id).copied();
        let mut evicted = Vec::new();
        table.insert(id.clone(), IdBinding { mac, last: ts }, &mut evicted);
        self.counters.identifiers_evicted += evicted.len() as u64;
        let Some(prev) = previous.filter(|p| p.mac != mac) else {
            return;
        };
        let other_active = self
            .devices
            .get(&DeviceKey::Mac(prev.mac))
            .is_some_and(|o| ts.since(o.record.last_seen).0 <= window.0);
        if !other_active {
            return;
        }
        let (what, reason) = match kind {
            IdKind::DhcpClientId => ("DHCP client id", "dhcp_client_id"),
            IdKind::TlsClientCert => ("TLS client certificate", "tls_client_cert"),
        };
        let f = Finding::new(
            FindingKind::Duplicate,
            ts,
            DeviceKey::Mac(mac),
            0.8,
            format!("{what} {id} presented by {mac} while {} holds it", prev.mac),
        )
        .attr("reason", reason)
        .attr("other_mac", prev.mac.to_string());
        self.raise(f);
    }
}

/// `port` in decimal, written into `buf` (no allocation).
fn decimal(port: u16, buf: &mut [u8; 5]) -> &str {
    let mut n = port;
    let mut at = buf.len();
    loop {
        at -= 1;
        if let Some(b) = buf.get_mut(at) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(at..).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_print_in_decimal() {
        let mut b = [0u8; 5];
        assert_eq!(decimal(0, &mut b), "0");
        assert_eq!(decimal(554, &mut b), "554");
        assert_eq!(decimal(65535, &mut b), "65535");
    }
}
