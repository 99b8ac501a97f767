//! Shared network services every generator uses: DNS resolution, TCP/TLS/HTTP sessions, UDP.
//!
//! [`Net`] owns the packet queue, the infrastructure hosts and a block of
//! seeded noise (stand-in for encrypted or compressed bytes). A device asks
//! it to resolve a name (query and answer on the wire, honouring the device's
//! cache), to run a TLS or HTTP conversation, or to send a datagram; each call
//! returns the capture time its last packet was written at.

use std::net::Ipv4Addr;

use super::emit::{Emitter, Micros, MILLI};
use super::fleet::{Device, MAX_DNS_CACHE};
use super::net::{internet_host, is_lan, public_ip, Host};
use super::proto::dns::{self, Owner, Rdata, Record};
use super::proto::tls::{self, ClientProfile};
use super::proto::{put_noise, x509};
use super::rng::{hash_bytes, SimRng};
use super::tcp::{Side, TcpSession, Timing};
use super::wire::{udp_frame, Ipv4Fields};

/// Size of the seeded noise block that encrypted payloads are cut from.
pub const NOISE_LEN: usize = 1 << 16;

/// The fixed infrastructure of the LAN.
#[derive(Debug, Clone, Copy)]
pub struct Infra {
    pub gateway: Host,
    pub broker: Host,
    pub nvr: Host,
    pub hmi: Host,
    pub clinical: Host,
}

pub struct Net {
    pub seed: u64,
    pub start: Micros,
    pub em: Emitter,
    pub infra: Infra,
    noise: Vec<u8>,
    noise_pos: usize,
    /// Resolver-side randomness (server delays).
    pub rng: SimRng,
    /// Printers of the fleet (print jobs go to one of them).
    pub printers: Vec<Host>,
}

/// One request/response round inside a session: bytes up, bytes down.
pub type Round = (usize, usize);

impl Net {
    pub fn new(seed: u64, start: Micros, infra: Infra, tags: usize) -> Self {
        let mut noise_rng = SimRng::derive(seed, "noise", 0);
        let mut noise = vec![0u8; NOISE_LEN];
        noise_rng.fill(&mut noise);
        Net {
            seed,
            start,
            em: Emitter::new(tags),
            infra,
            noise,
            noise_pos: 0,
            rng: SimRng::derive(seed, "net", 0),
            printers: Vec::new(),
        }
    }

    /// `n` bytes of noise (a different stretch each call).
    pub fn noise_vec(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n);
        put_noise(&mut v, &self.noise, self.noise_pos, n);
        self.advance_noise(n);
        v
    }

    fn advance_noise(&mut self, n: usize) {
        self.noise_pos = (self.noise_pos + n.max(1) * 7 + 13) % NOISE_LEN;
    }

    fn noise_slice(&mut self) -> &[u8] {
        let pos = self.noise_pos.min(NOISE_LEN - 4096);
        self.advance_noise(97);
        self.noise.get(pos..).unwrap_or_default()
    }

    /// An internet host on the LAN wire (behind the gateway).
    pub fn internet(&self, ip: Ipv4Addr) -> Host {
        internet_host(self.infra.gateway.mac, ip)
    }

    /// Round-trip behaviour towards `ip`: LAN or an internet distance stable per address.
    pub fn timing(&self, ip: Ipv4Addr) -> Timing {
        if is_lan(ip) {
            Timing::lan()
        } else {
            let h = hash_bytes(self.seed, &ip.octets());
            Timing::internet(8 * MILLI + (h % 90_000) as Micros)
        }
    }

    /// One UDP datagram from `from` to `to` at `t`.
    pub fn udp(&mut self, t: Micros, from: Host, to: Host, sport: u16, dport: u16, payload: &[u8]) {
        let ip = Ipv4Fields {
            src: from.ip,
            dst: to.ip,
            ttl: from.ttl,
            id: self.em.ip_id(),
            dont_fragment: from.ttl != 255,
        };
        let f = udp_frame(from.mac, to.mac, &ip, sport, dport, payload);
        self.em.push(t, f);
    }

    /// A UDP datagram to a multicast group (`ttl` as the protocol sets it).
    pub fn multicast(
        &mut self,
        t: Micros,
        from: Host,
        group: Ipv4Addr,
        ttl: u8,
        port: u16,
        payload: &[u8],
    ) {
        let to = Host {
            mac: super::wire::multicast_mac(group),
            ip: group,
            ttl,
        };
        let from = Host { ttl, ..from };
        self.udp(t, from, to, port, port, payload);
    }

    /// A TCP session from `dev` to `server:port` starting at `t`.
    pub fn tcp(&self, dev: &mut Device, server: Host, port: u16, t: Micros) -> TcpSession {
        let cport = dev.ephemeral_port();
        let isn = (dev.rng.next_u32(), dev.rng.next_u32());
        TcpSession::new(
            dev.host(),
            server,
            cport,
            port,
            isn,
            self.timing(server.ip),
            t,
        )
    }

    /// Resolves `name` for `dev` through the gateway's resolver; returns the address and the time the answer was seen.
    pub fn resolve(&mut self, dev: &mut Device, t: Micros, name: &str) -> (Ipv4Addr, Micros) {
        let key = hash_bytes(0, name.as_bytes());
        let ip = public_ip(self.seed, name, 0);
        if dev.profile.dns_cache {
            if let Some(&(_, expiry)) = dev.dns_cache.iter().find(|(k, _)| *k == key) {
                if expiry > t {
                    return (ip, t);
                }
            }
        }
        let client = dev.host();
        let resolver = self.infra.gateway;
        let sport = dev.rng.range(1025, 65_000) as u16;
        let ttl = 60 + (hash_bytes(self.seed, name.as_bytes()) % 241) as u32;
        let mut at = t;
        let qtypes: &[u16] = if dev.profile.dns_aaaa {
            &[dns::TYPE_A, dns::TYPE_AAAA]
        } else {
            &[dns::TYPE_A]
        };
        let mut last = t;
        for (k, &qtype) in qtypes.iter().enumerate() {
            let id = dev.rng.next_u16();
            let q = dns::query(id, name, qtype);
            let port = sport.wrapping_add(k as u16);
            self.udp(at, client, resolver, port, dns::PORT, &q);
            let delay = if self.rng.chance(0.6) {
                self.rng.range_i64(300, 2 * MILLI)
            } else {
                self.rng.range_i64(8 * MILLI, 45 * MILLI)
            };
            let answers = self.answers(name, qtype, ttl);
            let r = dns::response(id, name, qtype, dns::RCODE_OK, &answers, &[]);
            let resolver_host = Host {
                ttl: 64,
                ..resolver
            };
            self.udp(at + delay, resolver_host, client, dns::PORT, port, &r);
            last = last.max(at + delay);
            at += 150;
        }
        if dev.profile.dns_cache {
            if dev.dns_cache.len() >= MAX_DNS_CACHE {
                dev.dns_cache.remove(0);
            }
            dev.dns_cache.retain(|(k, _)| *k != key);
            dev.dns_cache.push((key, last + i64::from(ttl) * 1_000_000));
        }
        (ip, last + 200)
    }

    /// The answer records for `name`: sometimes a CDN CNAME, then one or two addresses.
    fn answers<'a>(&self, name: &'a str, qtype: u16, ttl: u32) -> Vec<Record<'a>> {
        let h = hash_bytes(self.seed ^ 0xd15, name.as_bytes());
        let mut out = Vec::with_capacity(3);
        if h % 4 == 0 {
            out.push(Record {
                owner: Owner::Question,
                ttl,
                cache_flush: false,
                data: Rdata::Cname(cdn_alias(h)),
            });
        }
        let count = 1 + (h >> 8) % 2;
        let owner = if out.is_empty() {
            Owner::Question
        } else {
            Owner::Name(cdn_alias(h))
        };
        for k in 0..count {
            let data = if qtype == dns::TYPE_AAAA {
                let mut a = [0u8; 16];
                a[..4].copy_from_slice(&[0x26, 0x06, 0x47, 0x00]);
                a[8..].copy_from_slice(&hash_bytes(self.seed ^ k, name.as_bytes()).to_be_bytes());
                Rdata::Aaaa(a)
            } else {
                Rdata::A(public_ip(self.seed, name, k))
            };
            out.push(Record {
                owner,
                ttl,
                cache_flush: false,
                data,
            });
        }
        out
    }

    /// A TLS session: handshake for `profile`, `rounds` of application data, close_notify and FIN.
    pub fn tls_session(
        &mut self,
        dev: &mut Device,
        t: Micros,
        (server, port): (Host, u16),
        sni: Option<&str>,
        profile: &ClientProfile,
        rounds: &[Round],
    ) -> Micros {
        let mut s = self.tcp(dev, server, port, t);
        s.connect(&mut self.em, dev.profile.tcp);
        let hello = tls::client_hello(profile, sni, &mut dev.rng);
        s.request(&mut self.em, Side::Client, &hello, 0);
        let chain = if profile.tls13 {
            Vec::new()
        } else {
            self.cert_chain(sni.unwrap_or("device.local"))
        };
        let flight = tls::server_flight(profile, &chain, &mut dev.rng, self.noise_slice());
        s.request(&mut self.em, Side::Server, &flight, 2 * MILLI);
        let finish = tls::client_finish(profile, &mut dev.rng, self.noise_slice());
        let server_finish = tls::server_finish(profile, self.noise_slice());
        if server_finish.is_empty() {
            s.send(&mut self.em, Side::Client, &finish, MILLI);
        } else {
            s.request(&mut self.em, Side::Client, &finish, MILLI);
            s.send(&mut self.em, Side::Server, &server_finish, MILLI);
        }
        for &(up, down) in rounds {
            let req = tls::app_data(up, self.noise_slice());
            s.request(
                &mut self.em,
                Side::Client,
                &req,
                dev.rng.range_i64(200, 20 * MILLI),
            );
            let resp = tls::app_data(down, self.noise_slice());
            s.send(
                &mut self.em,
                Side::Server,
                &resp,
                dev.rng.range_i64(MILLI, 30 * MILLI),
            );
        }
        let bye = tls::close_notify(profile, self.noise_slice());
        s.send(
            &mut self.em,
            Side::Client,
            &bye,
            dev.rng.range_i64(5 * MILLI, 200 * MILLI),
        );
        s.close(&mut self.em, Side::Client, MILLI);
        s.t
    }

    /// Leaf and intermediate certificate for `name`: a pure function of seed and name.
    fn cert_chain(&self, name: &str) -> Vec<Vec<u8>> {
        let mut rng = SimRng::derive(self.seed, name, 509);
        let org = registrable(name);
        // (intermediate, organisation, root): ECDSA chains, matching the P-256 leaf keys.
        let issuer = if org.len() % 2 == 0 {
            (
                "DigiCert Global G3 TLS ECC SHA384 2020 CA1",
                "DigiCert Inc",
                "DigiCert Global Root G3",
            )
        } else {
            ("Amazon ECDSA 256 M02", "Amazon", "Amazon Root CA 3")
        };
        let leaf = x509::CertSpec {
            subject_cn: name,
            subject_org: org,
            issuer_cn: issuer.0,
            issuer_org: issuer.1,
            not_before: self.start / 1_000_000 - 86_400 * 60,
            not_after: self.start / 1_000_000 + 86_400 * 300,
            san: Some(name),
        };
        let ca = x509::CertSpec {
            subject_cn: issuer.0,
            subject_org: issuer.1,
            issuer_cn: issuer.2,
            issuer_org: issuer.1,
            not_before: self.start / 1_000_000 - 86_400 * 1200,
            not_after: self.start / 1_000_000 + 86_400 * 1500,
            san: None,
        };
        vec![
            x509::certificate(&leaf, &mut rng),
            x509::certificate(&ca, &mut rng),
        ]
    }

    /// An HTTP/1.1 request and a response of `head` + `body_len` bytes of body (noise unless `body` given).
    pub fn http_session(
        &mut self,
        dev: &mut Device,
        t: Micros,
        (server, port): (Host, u16),
        request: &[u8],
        head: &[u8],
        body: HttpBody<'_>,
    ) -> Micros {
        let mut s = self.tcp(dev, server, port, t);
        s.connect(&mut self.em, dev.profile.tcp);
        let mut resp = Vec::with_capacity(head.len() + body.len());
        resp.extend_from_slice(head);
        match body {
            HttpBody::Bytes(b) => resp.extend_from_slice(b),
            HttpBody::Noise(n) => {
                put_noise(&mut resp, &self.noise, self.noise_pos, n);
                self.advance_noise(n);
            }
        }
        s.exchange(
            &mut self.em,
            request,
            &resp,
            dev.rng.range_i64(MILLI, 40 * MILLI),
        );
        s.close(&mut self.em, Side::Server, MILLI);
        s.t
    }
}

/// The body of an HTTP response.
#[derive(Debug, Clone, Copy)]
pub enum HttpBody<'a> {
    Bytes(&'a [u8]),
    /// `n` opaque bytes (binary downloads).
    Noise(usize),
}

impl HttpBody<'_> {
    pub fn len(&self) -> usize {
        match self {
            HttpBody::Bytes(b) => b.len(),
            HttpBody::Noise(n) => *n,
        }
    }
}

/// A CloudFront-style alias for CNAME answers.
fn cdn_alias(h: u64) -> &'static str {
    const ALIASES: [&str; 6] = [
        "d3ag4hukkh62yn.cloudfront.net",
        "dualstack.a-0001.a-msedge.net",
        "star-mini.c10r.facebook.com",
        "e6858.dscx.akamaiedge.net",
        "edge-lb.l.googleusercontent.com",
        "prod.fastly-edge.net",
    ];
    ALIASES
        .get((h >> 16) as usize % ALIASES.len())
        .copied()
        .unwrap_or("prod.fastly-edge.net")
}

/// The registrable part of a host name (last two labels).
pub fn registrable(name: &str) -> &str {
    let mut dots = name.rmatch_indices('.');
    match (dots.next(), dots.next()) {
        (Some(_), Some((i, _))) => name.get(i + 1..).unwrap_or(name),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_keeps_two_labels() {
        assert_eq!(registrable("a.b.example.com"), "example.com");
        assert_eq!(registrable("example.com"), "example.com");
        assert_eq!(registrable("localhost"), "localhost");
    }
}
