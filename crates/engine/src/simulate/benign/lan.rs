//! LAN housekeeping: DHCP join and renewal, ARP, NTP, SSDP/mDNS announcements and queries.
//!
//! Device state in → broadcast, multicast and resolver traffic out. A join is
//! the full DISCOVER/OFFER/REQUEST/ACK exchange followed by ARP probing and an
//! announcement, as DHCP clients do before using an address.

use std::net::Ipv4Addr;

use super::LEASE_SECS;
use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::fleet::Device;
use crate::simulate::net::{Host, MDNS_GROUP, SSDP_GROUP};
use crate::simulate::net_services::Net;
use crate::simulate::proto::dhcp::{self, ClientIdentity, Lease, MessageType};
use crate::simulate::proto::dns::{self, Owner, Rdata, Record};
use crate::simulate::proto::{http, ntp};
use crate::simulate::wire::{arp_frame, ArpOp, BROADCAST_MAC};

const LOCAL_DOMAIN: &str = "lan";

fn identity(dev: &Device) -> ClientIdentity<'_> {
    let p = dev.profile;
    ClientIdentity {
        mac: dev.mac,
        hostname: Some(dev.hostname.as_str()),
        vendor_class: p.dhcp_vendor_class,
        params: p.dhcp_params,
        max_message_size: p.dhcp_max_size,
    }
}

fn lease(net: &Net) -> Lease {
    let g = net.infra.gateway.ip;
    Lease {
        server: g,
        router: g,
        dns: g,
        lease_secs: LEASE_SECS,
    }
}

/// DISCOVER, OFFER, REQUEST, ACK; then ARP probe/announcement and the gateway's address.
pub fn dhcp_join(net: &mut Net, dev: &mut Device, t: Micros) {
    let xid = dev.rng.next_u32();
    let delays = [
        dev.rng.range_i64(MILLI, 4 * MILLI),
        dev.rng.range_i64(5 * MILLI, 60 * MILLI),
        dev.rng.range_i64(MILLI, 3 * MILLI),
    ];
    let gw = net.infra.gateway;
    let unbound = Host {
        mac: dev.mac,
        ip: Ipv4Addr::UNSPECIFIED,
        ttl: dev.profile.ttl.min(128),
    };
    let everyone = Host {
        mac: BROADCAST_MAC,
        ip: Ipv4Addr::BROADCAST,
        ttl: 64,
    };
    let id = identity(dev);
    let discover = dhcp::client_message(
        MessageType::Discover,
        xid,
        0,
        &id,
        Ipv4Addr::UNSPECIFIED,
        None,
        None,
    );
    net.udp(
        t,
        unbound,
        everyone,
        dhcp::CLIENT_PORT,
        dhcp::SERVER_PORT,
        &discover,
    );
    let offered = Host {
        mac: dev.mac,
        ip: dev.ip,
        ttl: 64,
    };
    let at = t + delays[0];
    let offer = dhcp::server_message(
        MessageType::Offer,
        xid,
        dev.mac,
        Ipv4Addr::UNSPECIFIED,
        dev.ip,
        &lease(net),
        LOCAL_DOMAIN,
    );
    net.udp(
        at,
        gw,
        offered,
        dhcp::SERVER_PORT,
        dhcp::CLIENT_PORT,
        &offer,
    );
    let at = at + delays[1];
    let request = dhcp::client_message(
        MessageType::Request,
        xid,
        0,
        &id,
        Ipv4Addr::UNSPECIFIED,
        Some(dev.ip),
        Some(gw.ip),
    );
    net.udp(
        at,
        unbound,
        everyone,
        dhcp::CLIENT_PORT,
        dhcp::SERVER_PORT,
        &request,
    );
    let at = at + delays[2];
    let ack = dhcp::server_message(
        MessageType::Ack,
        xid,
        dev.mac,
        Ipv4Addr::UNSPECIFIED,
        dev.ip,
        &lease(net),
        LOCAL_DOMAIN,
    );
    net.udp(at, gw, offered, dhcp::SERVER_PORT, dhcp::CLIENT_PORT, &ack);
    let mut at = at + dev.rng.range_i64(20 * MILLI, 300 * MILLI);
    // RFC 5227 clients probe before using the address; small stacks only announce it.
    if dev.profile.dhcp_params.len() > 8 {
        let probe = arp_frame(
            dev.mac,
            BROADCAST_MAC,
            ArpOp::Request,
            (dev.mac, Ipv4Addr::UNSPECIFIED),
            ([0; 6], dev.ip),
        );
        net.em.push(at, probe);
        at += dev.rng.range_i64(SEC, 2 * SEC);
    }
    arp_announce(net, dev.host(), at);
    at += dev.rng.range_i64(5 * MILLI, 50 * MILLI);
    arp_resolve(net, dev.host(), gw, at);
}

/// A gratuitous ARP: `host` announces its own address.
pub fn arp_announce(net: &mut Net, host: Host, t: Micros) {
    let f = arp_frame(
        host.mac,
        BROADCAST_MAC,
        ArpOp::Request,
        (host.mac, host.ip),
        ([0; 6], host.ip),
    );
    net.em.push(t, f);
}

/// `asker` ARPs for `target`, which replies.
fn arp_resolve(net: &mut Net, asker: Host, target: Host, t: Micros) {
    let who_has = arp_frame(
        asker.mac,
        BROADCAST_MAC,
        ArpOp::Request,
        (asker.mac, asker.ip),
        ([0; 6], target.ip),
    );
    net.em.push(t, who_has);
    let reply = arp_frame(
        target.mac,
        asker.mac,
        ArpOp::Reply,
        (target.mac, target.ip),
        (asker.mac, asker.ip),
    );
    net.em.push(t + 300, reply);
}

/// Unicast REQUEST to the server and its ACK (RENEWING state).
pub fn dhcp_renew(net: &mut Net, dev: &mut Device, t: Micros) {
    let xid = dev.rng.next_u32();
    let gw = net.infra.gateway;
    let id = identity(dev);
    let req = dhcp::client_message(MessageType::Request, xid, 0, &id, dev.ip, None, None);
    net.udp(
        t,
        dev.host(),
        gw,
        dhcp::CLIENT_PORT,
        dhcp::SERVER_PORT,
        &req,
    );
    let ack = dhcp::server_message(
        MessageType::Ack,
        xid,
        dev.mac,
        dev.ip,
        dev.ip,
        &lease(net),
        LOCAL_DOMAIN,
    );
    let at = t + dev.rng.range_i64(MILLI, 3 * MILLI);
    net.udp(
        at,
        gw,
        dev.host(),
        dhcp::SERVER_PORT,
        dhcp::CLIENT_PORT,
        &ack,
    );
}

/// The gateway refreshes its ARP entry for the device (or the device for the gateway).
pub fn arp_refresh(net: &mut Net, dev: &mut Device, t: Micros) {
    let gw = net.infra.gateway;
    if dev.rng.chance(0.5) {
        arp_resolve(net, gw, dev.host(), t);
    } else {
        arp_resolve(net, dev.host(), gw, t);
    }
}

/// One NTP poll to the profile's server (resolved first) or the gateway.
pub fn ntp_sync(net: &mut Net, dev: &mut Device, t: Micros) {
    let (server, at) = match dev.profile.ntp {
        Some(name) => {
            let (ip, at) = net.resolve(dev, t, name);
            (net.internet(ip), at)
        }
        None => (net.infra.gateway, t),
    };
    // Full NTP daemons use port 123 on both ends; SNTP clients pick an ephemeral port.
    let sport = if dev.profile.ttl == 128 || dev.profile.dhcp_params.len() > 10 {
        ntp::PORT
    } else {
        dev.ephemeral_port()
    };
    let req = ntp::client_request(at, 6);
    net.udp(at, dev.host(), server, sport, ntp::PORT, &req);
    let rtt = net.timing(server.ip).server_rtt;
    let rx = at + rtt / 2;
    let reply = ntp::server_reply(&req, rx, rx + 30, Ipv4Addr::new(17, 253, 4, 125));
    net.udp(at + rtt, server, dev.host(), ntp::PORT, sport, &reply);
}

fn uuid_for(dev: &Device) -> String {
    let m = dev.mac_string().replace(':', "");
    format!("2f402f80-da50-11e1-9b23-{m}")
}

/// SSDP alive notifications and/or an mDNS announcement of the device's service.
pub fn announce(net: &mut Net, dev: &mut Device, t: Micros) {
    let host = dev.host();
    let mut at = t;
    if let Some(server) = dev.profile.discovery.ssdp_server {
        let uuid = uuid_for(dev);
        let location = format!("http://{}:80/description.xml", dev.ip);
        let kinds = [
            (
                "upnp:rootdevice".to_string(),
                format!("uuid:{uuid}::upnp:rootdevice"),
            ),
            (format!("uuid:{uuid}"), format!("uuid:{uuid}")),
            (
                "urn:schemas-upnp-org:device:Basic:1".to_string(),
                format!("uuid:{uuid}::urn:schemas-upnp-org:device:Basic:1"),
            ),
        ];
        for (nt, usn) in kinds {
            let msg = http::ssdp_notify(&location, server, &nt, &usn);
            net.multicast(at, host, SSDP_GROUP, 4, http::SSDP_PORT, &msg);
            at += dev.rng.range_i64(MILLI, 30 * MILLI);
        }
    }
    if let Some((service, port)) = dev.profile.discovery.mdns_service {
        let instance = format!("{}.{service}", dev.hostname);
        let target = format!("{}.local", dev.hostname);
        let answers = [
            Record {
                owner: Owner::Name(service),
                ttl: 4500,
                cache_flush: false,
                data: Rdata::Ptr(instance.clone()),
            },
            Record {
                owner: Owner::Name(&instance),
                ttl: 120,
                cache_flush: true,
                data: Rdata::Srv {
                    priority: 0,
                    weight: 0,
                    port,
                    target: target.clone(),
                },
            },
            Record {
                owner: Owner::Name(&instance),
                ttl: 4500,
                cache_flush: true,
                data: Rdata::Txt(vec![
                    format!("md={}", dev.profile.model),
                    format!("fw={}", dev.firmware_version),
                ]),
            },
        ];
        let additional = [Record {
            owner: Owner::Name(&target),
            ttl: 120,
            cache_flush: true,
            data: Rdata::A(dev.ip),
        }];
        let msg = dns::mdns_announcement(&answers, &additional);
        net.multicast(at, host, MDNS_GROUP, 255, dns::MDNS_PORT, &msg);
    }
}

/// A phone or laptop looks for services: mDNS PTR queries and an SSDP search.
pub fn discover_services(net: &mut Net, dev: &mut Device, t: Micros) {
    let q = dns::mdns_query(
        &[
            "_googlecast._tcp.local",
            "_airplay._tcp.local",
            "_ipp._tcp.local",
            "_hue._tcp.local",
        ],
        dns::TYPE_PTR,
    );
    net.multicast(t, dev.host(), MDNS_GROUP, 255, dns::MDNS_PORT, &q);
    let search = http::ssdp_msearch("ssdp:all", dev.profile.user_agent);
    let from = dev.host();
    let sport = dev.ephemeral_port();
    let to = Host {
        mac: crate::simulate::wire::multicast_mac(SSDP_GROUP),
        ip: SSDP_GROUP,
        ttl: 4,
    };
    net.udp(
        t + 20 * MILLI,
        Host { ttl: 4, ..from },
        to,
        sport,
        http::SSDP_PORT,
        &search,
    );
}
