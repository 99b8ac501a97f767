//! Identity findings from hand-built inputs, one scenario per kind: new
//! device, duplicate identity (MAC on two IPs, IP on two MACs, DHCP client
//! id, TLS client certificate), ARP spoofing (takeover, gateway claim),
//! changes of IP and host name, unexpected VLAN; suppression; router and
//! routed-subnet keying.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod tls_support;

use std::net::{IpAddr, Ipv4Addr};

use etherparse::PacketBuilder;
use gatewatch_engine::decode::{
    ArpOperation, ArpPacket, Decoded, IpPacket, MacAddr, Network, Transport,
};
use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{DeviceClass, DeviceKey, IdentityConfig, IdentityStage};
use gatewatch_engine::pipeline::{Pipeline, PipelineConfig};
use gatewatch_engine::proto::dispatch::ProtoRecord;
use gatewatch_engine::proto::tls::{TlsAnalyzer, TlsCounters};
use gatewatch_engine::sink::CountingSink;
use gatewatch_engine::source::{LinkType, RawPacket};
use gatewatch_engine::time::{Duration, Timestamp};

const T0: i64 = 1_700_000_000;

fn t(s: i64) -> Timestamp {
    Timestamp::from_secs_nanos(T0 + s, 0)
}

fn mac(last: u8) -> MacAddr {
    MacAddr([0x00, 0x17, 0x88, 0x00, 0x00, last])
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn packet(ts: i64, src_mac: MacAddr, src: &str, dst: &str, vlan: Option<u16>) -> Decoded<'static> {
    Decoded {
        ts: t(ts),
        wire_len: 100,
        cap_len: 100,
        link: LinkType::ETHERNET,
        src_mac: Some(src_mac),
        dst_mac: Some(mac(0xfe)),
        vlan,
        inner_vlan: None,
        network: Network::Ip(IpPacket {
            src: ip(src),
            dst: ip(dst),
            protocol: 17,
            ttl: 64,
            ip_len: 86,
            fragment: None,
            transport: Transport::Other,
        }),
    }
}

fn arp(
    ts: i64,
    sender: MacAddr,
    sender_ip: &str,
    target_ip: &str,
    reply: bool,
) -> Decoded<'static> {
    let target_ip: Ipv4Addr = target_ip.parse().unwrap();
    Decoded {
        ts: t(ts),
        wire_len: 60,
        cap_len: 60,
        link: LinkType::ETHERNET,
        src_mac: Some(sender),
        dst_mac: Some(MacAddr([0xff; 6])),
        vlan: None,
        inner_vlan: None,
        network: Network::Arp(ArpPacket {
            operation: if reply {
                ArpOperation::Reply
            } else {
                ArpOperation::Request
            },
            sender_mac: sender,
            sender_ip: sender_ip.parse().unwrap(),
            target_mac: MacAddr([0; 6]),
            target_ip,
        }),
    }
}

fn stage() -> IdentityStage {
    IdentityStage::new(IdentityConfig {
        learning_period: Duration::from_secs(60),
        ..IdentityConfig::default()
    })
}

fn drain(s: &mut IdentityStage) -> Vec<Evidence> {
    let mut v = Vec::new();
    s.drain_evidence(&mut v);
    v
}

fn kinds(ev: &[Evidence]) -> Vec<&str> {
    ev.iter().map(|e| e.kind.as_str()).collect()
}

#[test]
fn new_devices_after_the_learning_period_only() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.1", "10.0.0.2", None));
    s.observe_packet(&packet(59, mac(2), "10.0.0.2", "10.0.0.1", None));
    s.observe_packet(&packet(120, mac(3), "10.0.0.3", "10.0.0.1", None));
    assert!(
        drain(&mut s).is_empty(),
        "reported after settling, not at first sight"
    );
    s.observe_packet(&packet(151, mac(1), "10.0.0.1", "10.0.0.3", None));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.new_device"]);
    assert_eq!(ev[0].device, DeviceKey::Mac(mac(3)));
    assert_eq!(ev[0].ip, Some(ip("10.0.0.3")));
    assert_eq!(ev[0].severity, 3);
    assert!(ev[0].summary.contains("Philips"), "{}", ev[0].summary);
    // A device that appears right before the end is reported by finish().
    s.observe_packet(&packet(200, mac(4), "10.0.0.4", "10.0.0.1", None));
    s.finish();
    assert_eq!(kinds(&drain(&mut s)), ["identity.new_device"]);
    assert_eq!(s.counters().devices, 4);
}

#[test]
fn one_mac_alternating_between_two_addresses_is_a_duplicate() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.5", "10.0.0.1", None));
    s.observe_packet(&packet(10, mac(1), "10.0.0.99", "10.0.0.1", None));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.change.ip"]);
    assert!(ev[0].severity < 4);
    s.observe_packet(&packet(20, mac(1), "10.0.0.5", "10.0.0.1", None));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.duplicate"]);
    assert_eq!(ev[0].severity, 5);
    assert_eq!(ev[0].attrs["reason"], "mac_on_two_ips".into());
    // Suppressed within the interval, however often it alternates.
    for i in 0..10 {
        let a = if i % 2 == 0 { "10.0.0.99" } else { "10.0.0.5" };
        s.observe_packet(&packet(30 + i, mac(1), a, "10.0.0.1", None));
    }
    assert!(drain(&mut s).is_empty());
    assert!(s.counters().findings_suppressed > 0);
    let d = s.device(&DeviceKey::Mac(mac(1))).unwrap();
    assert_eq!(d.ips.len(), 2);
}

#[test]
fn alternation_faster_than_the_packet_memo_is_still_seen() {
    let mut s = stage();
    let at = |ms: i64, ip: &str| {
        let mut p = packet(0, mac(1), ip, "10.0.0.1", None);
        p.ts = Timestamp::from_secs_nanos(T0 + ms / 1000, (ms % 1000) as u32 * 1_000_000);
        p
    };
    s.observe_packet(&at(0, "10.0.0.5"));
    s.observe_packet(&at(100, "10.0.0.5"));
    s.observe_packet(&at(200, "10.0.0.99"));
    s.observe_packet(&at(300, "10.0.0.5"));
    assert_eq!(
        kinds(&drain(&mut s)),
        ["identity.change.ip", "identity.duplicate"]
    );
    assert_eq!(s.counters().packets_repeated, 1);
}

#[test]
fn a_device_on_its_setup_network_and_the_lan_is_not_a_duplicate() {
    // IoT Sentinel setups: the device serves 192.168.0.20 on its own access
    // point while it joins the LAN as 10.10.10.58.
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "192.168.0.20", "192.168.0.100", None));
    s.observe_packet(&packet(10, mac(1), "10.10.10.58", "10.10.10.1", None));
    s.observe_packet(&packet(20, mac(1), "192.168.0.20", "192.168.0.100", None));
    assert_eq!(kinds(&drain(&mut s)), ["identity.change.ip"]);
}

#[test]
fn a_clean_address_change_is_not_a_duplicate() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.5", "10.0.0.1", None));
    s.observe_packet(&packet(1000, mac(1), "10.0.0.6", "10.0.0.1", None));
    s.observe_packet(&packet(1010, mac(1), "10.0.0.6", "10.0.0.1", None));
    assert_eq!(kinds(&drain(&mut s)), ["identity.change.ip"]);
    assert_eq!(
        s.device(&DeviceKey::Mac(mac(1))).unwrap().current_ip(),
        Some(ip("10.0.0.6"))
    );
}

#[test]
fn one_address_on_two_active_macs_is_an_ip_conflict_but_reuse_is_not() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.5", "10.0.0.1", None));
    s.observe_packet(&packet(10, mac(2), "10.0.0.5", "10.0.0.1", None));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.duplicate"]);
    assert_eq!(ev[0].device, DeviceKey::Mac(mac(2)));
    assert_eq!(ev[0].attrs["reason"], "ip_conflict".into());
    // 10.0.0.7 is handed to a new device long after its old owner went quiet.
    s.observe_packet(&packet(20, mac(3), "10.0.0.7", "10.0.0.1", None));
    s.observe_packet(&packet(2000, mac(4), "10.0.0.7", "10.0.0.1", None));
    assert!(drain(&mut s).is_empty());
}

#[test]
fn arp_takeover_of_an_active_address_is_spoofing() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.5", "10.0.0.1", None));
    s.observe_packet(&arp(5, mac(9), "10.0.0.5", "10.0.0.1", true));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.arp_spoof"]);
    assert_eq!(ev[0].device, DeviceKey::Mac(mac(9)));
    assert_eq!(ev[0].severity, 7);
    assert_eq!(ev[0].attrs["other_mac"], mac(1).to_string().into());
    // Ordinary ARP (requests, own address) says nothing.
    s.observe_packet(&arp(6, mac(2), "10.0.0.6", "10.0.0.5", false));
    s.observe_packet(&arp(7, mac(2), "10.0.0.6", "10.0.0.6", true));
    assert!(drain(&mut s).is_empty());
}

#[test]
fn a_router_is_recognised_and_a_claim_on_its_address_is_spoofing() {
    let mut s = stage();
    let gw = mac(1);
    s.observe_packet(&packet(0, gw, "10.0.0.1", "10.0.0.5", None));
    for i in 0..40u8 {
        s.observe_packet(&packet(
            1 + i64::from(i),
            gw,
            &format!("93.184.216.{i}"),
            "10.0.0.5",
            None,
        ));
    }
    let g = s.device(&DeviceKey::Mac(gw)).unwrap();
    assert_eq!(g.class, DeviceClass::Network, "{g:#?}");
    assert_eq!(g.ips.len(), 1, "remote addresses are never bound");
    assert_eq!(s.counters().routers, 1);
    s.observe_packet(&arp(50, mac(7), "10.0.0.1", "10.0.0.1", true));
    let ev = drain(&mut s);
    assert!(
        ev.iter()
            .any(|e| e.kind == "identity.arp_spoof" && e.severity == 8),
        "{ev:#?}"
    );
}

#[test]
fn a_new_vlan_is_unexpected() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.5", "10.0.0.1", Some(10)));
    s.observe_packet(&packet(1, mac(1), "10.0.0.5", "10.0.0.1", Some(10)));
    assert!(drain(&mut s).is_empty());
    s.observe_packet(&packet(2, mac(1), "10.0.0.5", "10.0.0.1", Some(20)));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.unexpected_vlan"]);
    assert_eq!(
        s.device(&DeviceKey::Mac(mac(1))).unwrap().vlans,
        vec![10, 20]
    );
}

#[test]
fn routed_fleet_subnets_are_keyed_by_ip() {
    let mut s = IdentityStage::new(IdentityConfig {
        routed_fleet_nets: vec!["10.9.0.0/16".parse().unwrap()],
        ..IdentityConfig::default()
    });
    let router = mac(1);
    s.observe_packet(&packet(0, router, "10.9.1.1", "10.0.0.5", None));
    s.observe_packet(&packet(1, router, "10.9.1.2", "10.0.0.5", None));
    s.observe_packet(&packet(2, mac(5), "10.0.0.5", "10.9.1.1", None));
    let a = s.device(&DeviceKey::Ip(ip("10.9.1.1"))).unwrap();
    assert_eq!(a.mac, None);
    assert_eq!(a.ips.len(), 1);
    assert!(s.device(&DeviceKey::Ip(ip("10.9.1.2"))).is_some());
    // The router's MAC carries no routed address.
    assert!(s
        .device(&DeviceKey::Mac(router))
        .is_none_or(|r| r.ips.is_empty()));
}

/// A DHCP client message: BOOTP header, magic cookie, options.
fn dhcp_frame(
    src: MacAddr,
    msg_type: u8,
    client_id: MacAddr,
    hostname: &str,
    vendor: &str,
) -> Vec<u8> {
    let mut p = vec![1u8, 1, 6, 0];
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend_from_slice(&[0; 4]);
    p.extend_from_slice(&[0; 16]);
    p.extend_from_slice(&client_id.0);
    p.extend_from_slice(&[0; 10 + 64 + 128]);
    p.extend_from_slice(&[99, 130, 83, 99, 53, 1, msg_type]);
    p.extend_from_slice(&[61, 7, 1]);
    p.extend_from_slice(&client_id.0);
    p.extend_from_slice(&[12, hostname.len() as u8]);
    p.extend_from_slice(hostname.as_bytes());
    p.extend_from_slice(&[60, vendor.len() as u8]);
    p.extend_from_slice(vendor.as_bytes());
    p.extend_from_slice(&[55, 7, 1, 3, 6, 12, 15, 28, 42, 255]);
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(src.0, [0xff; 6])
        .ipv4([0, 0, 0, 0], [255, 255, 255, 255], 64)
        .udp(68, 67)
        .write(&mut frame, &p)
        .unwrap();
    frame
}

fn run(frames: &[(i64, Vec<u8>)]) -> (Pipeline, Vec<Evidence>) {
    let mut pipe = Pipeline::new(PipelineConfig {
        identity: Some(IdentityConfig::default()),
        ..PipelineConfig::default()
    });
    let (mut c, mut p, mut ev) = (CountingSink::default(), CountingSink::default(), Vec::new());
    for (ts, f) in frames {
        let raw = RawPacket {
            ts: t(*ts),
            data: f,
            orig_len: f.len() as u32,
            link: LinkType::ETHERNET,
            interface: 0,
        };
        pipe.process_with_evidence(&raw, &mut c, &mut p, &mut ev);
    }
    pipe.finish_all(&mut c, &mut p);
    pipe.drain_evidence(&mut ev);
    (pipe, ev)
}

#[test]
fn dhcp_fingerprint_hostname_change_and_classification() {
    let cam = MacAddr([0xb0, 0xc5, 0x54, 0x25, 0x5b, 0x0e]);
    let (pipe, ev) = run(&[
        (0, dhcp_frame(cam, 1, cam, "DCS-935L", "udhcp 1.22.1")),
        (5, dhcp_frame(cam, 3, cam, "DCS-935L", "udhcp 1.22.1")),
        (60, dhcp_frame(cam, 3, cam, "DCS-935L-2", "udhcp 1.22.1")),
    ]);
    assert_eq!(kinds(&ev), ["identity.change.hostname"], "{ev:#?}");
    let d = pipe
        .devices()
        .find(|d| d.key == DeviceKey::Mac(cam))
        .unwrap();
    assert_eq!(d.class, DeviceClass::Camera);
    assert_eq!(d.vendor.as_deref(), Some("D-Link"));
    assert_eq!(d.model.as_deref(), Some("DCS-935L"));
    let fp = d.dhcp.as_ref().unwrap();
    assert_eq!(fp.params, vec![1, 3, 6, 12, 15, 28, 42]);
    assert_eq!(fp.vendor_class.as_deref(), Some("udhcp 1.22.1"));
    assert_eq!(fp.client_id.as_deref(), Some("01b0c554255b0e"));
    assert_eq!(d.hostnames.len(), 2);
}

#[test]
fn one_dhcp_client_id_from_two_macs_is_a_duplicate() {
    let a = MacAddr([0x02, 0, 0, 0, 0, 0xa]);
    let b = MacAddr([0x02, 0, 0, 0, 0, 0xb]);
    let (_, ev) = run(&[
        (0, dhcp_frame(a, 1, a, "plug", "")),
        (10, dhcp_frame(b, 1, a, "plug", "")),
    ]);
    let dup: Vec<&Evidence> = ev
        .iter()
        .filter(|e| e.kind == "identity.duplicate")
        .collect();
    assert_eq!(dup.len(), 1, "{ev:#?}");
    assert_eq!(dup[0].device, DeviceKey::Mac(b));
    assert_eq!(dup[0].attrs["reason"], "dhcp_client_id".into());
}

#[test]
fn one_tls_client_certificate_from_two_macs_is_a_duplicate() {
    let mut s = stage();
    s.observe_packet(&packet(0, mac(1), "10.0.0.1", "10.0.0.9", None));
    s.observe_packet(&packet(1, mac(2), "10.0.0.2", "10.0.0.9", None));
    let mut a = TlsAnalyzer::new(tls_support::conn());
    let (mut c, mut out) = (TlsCounters::default(), Vec::new());
    for (is_orig, bytes) in tls_support::tls12_connection() {
        tls_support::feed(&mut a, is_orig, &bytes, 4096, &mut c, &mut out);
    }
    a.on_end(tls_support::ts(9), &mut c, &mut out);
    let mut rec = out.pop().expect("an ssl record");
    rec.client_cert_chain_fps = vec!["f00d".to_string()];
    rec.ts = t(2);
    s.observe_proto(&ProtoRecord::Tls(rec.clone()));
    rec.conn.orig_h = ip("10.0.0.2");
    rec.ts = t(3);
    s.observe_proto(&ProtoRecord::Tls(rec));
    let ev = drain(&mut s);
    assert_eq!(kinds(&ev), ["identity.duplicate"]);
    assert_eq!(ev[0].device, DeviceKey::Mac(mac(2)));
    assert_eq!(ev[0].attrs["reason"], "tls_client_cert".into());
}
