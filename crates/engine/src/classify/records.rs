//! Protocol-record features of one device: the [`ProtoRecord`]s of its
//! connections (already attributed by `features`) in → message counts and
//! hashed token bags out.
//!
//! Bags (see `tokens`): DNS query names; mDNS names the device asks for or
//! announces; the DHCP fingerprint (host name, vendor class, option-55 list
//! and its order, option list, maximum message size); TLS (JA3/JA3S, SNI,
//! version); HTTP (user agent, host, method, path as client; server header,
//! path and status as server); UPnP/SSDP (server, NT/ST, USN type, location
//! path). Query strings and UUIDs are left out: they name one unit.
//! Limits: those of [`TokenBag`].
#![deny(clippy::indexing_slicing)]

use crate::proto::dhcp::DhcpRecord;
use crate::proto::dispatch::ProtoRecord;
use crate::proto::dns::DnsRecord;
use crate::proto::http::HttpRecord;
use crate::proto::mqtt::MqttRecord;
use crate::proto::ssdp::SsdpRecord;
use crate::proto::tls::SslRecord;

use super::features::{FeatureOut, Side};
use super::tokens::{TokenBag, Tokenizer};

/// Message counts, by protocol and role.
#[derive(Debug, Clone, Default)]
struct Counts {
    dns_queries: u32,
    dns_nxdomain: u32,
    dns_served: u32,
    mdns: u32,
    dhcp: u32,
    dhcp_param_list_len: u32,
    dhcp_options_len: u32,
    dhcp_max_msg_size: u32,
    dhcpv6: u32,
    ntp_client: u32,
    ntp_version: u32,
    ntp_served: u32,
    http_requests: u32,
    http_served: u32,
    tls_client: u32,
    tls_server: u32,
    tls_established: u32,
    ssdp: u32,
    ssdp_notify: u32,
    ssdp_search: u32,
    mqtt: u32,
    coap: u32,
    other: u32,
}

/// Everything the device said in protocol records.
#[derive(Debug, Clone)]
pub struct RecordFeatures {
    tok: Tokenizer,
    n: Counts,
    dns: TokenBag<32>,
    mdns: TokenBag<32>,
    dhcp: TokenBag<32>,
    tls: TokenBag<16>,
    http: TokenBag<32>,
    upnp: TokenBag<16>,
}

impl RecordFeatures {
    pub fn new(tok: Tokenizer) -> Self {
        RecordFeatures {
            tok,
            n: Counts::default(),
            dns: TokenBag::default(),
            mdns: TokenBag::default(),
            dhcp: TokenBag::default(),
            tls: TokenBag::default(),
            http: TokenBag::default(),
            upnp: TokenBag::default(),
        }
    }

    /// One record of a connection the device is on (`side` says which end).
    pub fn observe(&mut self, rec: &ProtoRecord, side: Side) {
        match rec {
            ProtoRecord::Dns(r) => self.dns(r, side),
            ProtoRecord::Dhcp(DhcpRecord::V4(r))
                if side == Side::Client && is_client_message(&r.msg_type) =>
            {
                let n = &mut self.n;
                n.dhcp += 1;
                n.dhcp_param_list_len = n.dhcp_param_list_len.max(len_u32(r.param_list.len()));
                n.dhcp_options_len = n.dhcp_options_len.max(len_u32(r.options.len()));
                n.dhcp_max_msg_size = n.dhcp_max_msg_size.max(r.max_msg_size.map_or(0, u32::from));
                let bag = &mut self.dhcp;
                for text in [&r.host_name, &r.client_fqdn].into_iter().flatten() {
                    bag.add_text(&self.tok, "host", text);
                }
                if let Some(vc) = &r.vendor_class {
                    bag.add_text(&self.tok, "vc", vc);
                    bag.add_whole("vc_whole", vc);
                }
                if !r.param_list.is_empty() {
                    bag.add_whole("p55", &join(&r.param_list));
                    for code in &r.param_list {
                        bag.add(&format!("p55_has:{code}"));
                    }
                }
                if !r.options.is_empty() {
                    bag.add_whole("opts", &join(&r.options));
                }
                if let Some(size) = r.max_msg_size {
                    bag.add(&format!("maxsize:{size}"));
                }
            }
            ProtoRecord::Dhcp(DhcpRecord::V6(r)) if side == Side::Client => {
                self.n.dhcpv6 += 1;
                if !r.oro.is_empty() {
                    self.dhcp.add_whole("v6oro", &join(&r.oro));
                }
                if let Some(vc) = &r.vendor_class {
                    self.dhcp.add_text(&self.tok, "v6vc", vc);
                }
            }
            ProtoRecord::Dhcp(_) => {}
            ProtoRecord::Ntp(r) => match side {
                Side::Client => {
                    self.n.ntp_client += 1;
                    self.n.ntp_version = self.n.ntp_version.max(u32::from(r.version));
                }
                Side::Server => self.n.ntp_served += 1,
            },
            ProtoRecord::Tls(r) => self.tls(r, side),
            ProtoRecord::Http(r) => self.http(r, side),
            ProtoRecord::Ssdp(r) if side == Side::Client => self.ssdp(r),
            ProtoRecord::Ssdp(_) => {}
            ProtoRecord::Mqtt(r) => {
                self.n.mqtt += 1;
                if let MqttRecord::Connect(c) = r {
                    if let Some(v) = &c.proto_version {
                        self.http.add_whole("mqtt_version", v);
                    }
                }
            }
            ProtoRecord::Coap(_) => self.n.coap += 1,
            ProtoRecord::Ssh(_)
            | ProtoRecord::Telnet(_)
            | ProtoRecord::Modbus(_)
            | ProtoRecord::Dnp3(_) => {
                self.n.other += 1;
            }
            // ARP is counted from the device's own frames (traffic features);
            // the arp.log lines add nothing the model was trained on.
            ProtoRecord::Arp(_) => {}
        }
    }

    fn dns(&mut self, r: &DnsRecord, side: Side) {
        if side == Side::Server && !r.mdns {
            self.n.dns_served += 1;
            return;
        }
        if r.mdns {
            if side == Side::Server {
                return;
            }
            self.n.mdns += 1;
            if let Some(q) = &r.query {
                self.mdns.add_text(&self.tok, "q", q);
            }
            for a in &r.answers {
                self.mdns.add_text(&self.tok, "a", a);
            }
            return;
        }
        self.n.dns_queries += 1;
        self.n.dns_nxdomain += u32::from(r.is_nxdomain());
        if let Some(q) = &r.query {
            self.dns.add_text(&self.tok, "q", q);
        }
        if let Some(t) = r.qtype {
            self.dns.add(&format!("qtype:{t}"));
        }
    }

    fn tls(&mut self, r: &SslRecord, side: Side) {
        self.n.tls_established += u32::from(r.established);
        let bag = &mut self.tls;
        match side {
            Side::Client => {
                self.n.tls_client += 1;
                if let Some(ja3) = &r.ja3 {
                    bag.add_whole("ja3", ja3);
                }
                if let Some(sni) = &r.server_name {
                    bag.add_text(&self.tok, "sni", sni);
                }
                if let Some(v) = r.client_version {
                    bag.add(&format!("client_version:{v}"));
                }
            }
            Side::Server => {
                self.n.tls_server += 1;
                if let Some(ja3s) = &r.ja3s {
                    bag.add_whole("ja3s", ja3s);
                }
            }
        }
        if let Some(v) = &r.version {
            bag.add_whole("version", v);
        }
        if let Some(c) = &r.cipher {
            bag.add_whole("cipher", c);
        }
    }

    fn http(&mut self, r: &HttpRecord, side: Side) {
        let bag = &mut self.http;
        let path = r
            .uri
            .as_deref()
            .map(|u| u.split(['?', '#']).next().unwrap_or(""));
        match side {
            Side::Client => {
                self.n.http_requests += 1;
                if let Some(ua) = &r.user_agent {
                    bag.add_text(&self.tok, "ua", ua);
                    bag.add_whole("ua_whole", ua);
                }
                if let Some(host) = &r.host {
                    bag.add_text(&self.tok, "host", host);
                }
                if let Some(m) = &r.method {
                    bag.add_whole("method", m);
                }
                if let Some(p) = path {
                    bag.add_text(&self.tok, "path", p);
                }
            }
            Side::Server => {
                self.n.http_served += 1;
                if let Some(s) = &r.server {
                    bag.add_text(&self.tok, "server", s);
                    bag.add_whole("server_whole", s);
                }
                if let Some(p) = path {
                    bag.add_text(&self.tok, "served_path", p);
                }
                if let Some(code) = r.status_code {
                    bag.add(&format!("status:{code}"));
                }
            }
        }
    }

    fn ssdp(&mut self, r: &SsdpRecord) {
        self.n.ssdp += 1;
        let method = r.method.as_deref().unwrap_or("");
        self.n.ssdp_notify += u32::from(method.eq_ignore_ascii_case("NOTIFY"));
        self.n.ssdp_search += u32::from(method.eq_ignore_ascii_case("M-SEARCH"));
        let bag = &mut self.upnp;
        if !method.is_empty() {
            bag.add_whole("method", method);
        }
        if let Some(s) = &r.server {
            bag.add_text(&self.tok, "server", s);
            bag.add_whole("server_whole", s);
        }
        for (prefix, v) in [("nt", &r.nt), ("st", &r.st), ("ua", &r.user_agent)] {
            if let Some(v) = v {
                bag.add_text(&self.tok, prefix, v);
            }
        }
        // `uuid:<unit>::urn:…:device:Type:1`: only the type after `::`.
        if let Some(usn) = &r.usn {
            if let Some((_, kind)) = usn.split_once("::") {
                bag.add_text(&self.tok, "usn", kind);
            }
        }
        // `http://10.0.0.5:49153/setup.xml`: only the path.
        if let Some(loc) = &r.location {
            let after_scheme = loc.split_once("://").map_or(loc.as_str(), |(_, rest)| rest);
            if let Some((_, path)) = after_scheme.split_once('/') {
                bag.add_text(&self.tok, "location", path);
            }
        }
    }

    /// Writes the record features in their fixed order.
    pub fn emit(&self, out: &mut FeatureOut) {
        let n = &self.n;
        let counts: [(&str, u32); 23] = [
            ("dns.queries", n.dns_queries),
            ("dns.nxdomain", n.dns_nxdomain),
            ("dns.served", n.dns_served),
            ("mdns.messages", n.mdns),
            ("dhcp.messages", n.dhcp),
            ("dhcp.param_list_len", n.dhcp_param_list_len),
            ("dhcp.options_len", n.dhcp_options_len),
            ("dhcp.max_msg_size", n.dhcp_max_msg_size),
            ("dhcpv6.messages", n.dhcpv6),
            ("ntp.client", n.ntp_client),
            ("ntp.version", n.ntp_version),
            ("ntp.served", n.ntp_served),
            ("http.requests", n.http_requests),
            ("http.served", n.http_served),
            ("tls.client", n.tls_client),
            ("tls.server", n.tls_server),
            ("tls.established", n.tls_established),
            ("ssdp.messages", n.ssdp),
            ("ssdp.notify", n.ssdp_notify),
            ("ssdp.search", n.ssdp_search),
            ("mqtt.records", n.mqtt),
            ("coap.records", n.coap),
            ("other_proto.records", n.other),
        ];
        for (name, value) in counts {
            out.put(name, f64::from(value));
        }
        out.bag("dns.token", &self.dns);
        out.bag("mdns.token", &self.mdns);
        out.bag("dhcp.token", &self.dhcp);
        out.bag("tls.token", &self.tls);
        out.bag("http.token", &self.http);
        out.bag("upnp.token", &self.upnp);
    }

    /// Every token kept, as `bag/token` (explanations and tests).
    pub fn tokens(&self) -> Vec<String> {
        let bags: [(&str, Box<dyn Iterator<Item = &str> + '_>); 6] = [
            ("dns", Box::new(self.dns.tokens())),
            ("mdns", Box::new(self.mdns.tokens())),
            ("dhcp", Box::new(self.dhcp.tokens())),
            ("tls", Box::new(self.tls.tokens())),
            ("http", Box::new(self.http.tokens())),
            ("upnp", Box::new(self.upnp.tokens())),
        ];
        bags.into_iter()
            .flat_map(|(bag, it)| it.map(move |t| format!("{bag}/{t}")))
            .collect()
    }
}

/// DHCPv4 messages a client sends (server answers carry the server's options).
fn is_client_message(msg_type: &str) -> bool {
    matches!(
        msg_type,
        "DISCOVER" | "REQUEST" | "DECLINE" | "RELEASE" | "INFORM" | "BOOTP"
    )
}

fn join(codes: &[u64]) -> String {
    codes
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
