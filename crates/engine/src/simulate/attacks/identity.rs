//! Identity attacks: a rogue device joining, a cloned MAC with another address, and a
//! firmware update after which a device talks to new places.
//!
//! The rogue and the clone are devices of their own (not enrolled); the
//! clone copies its victim's MAC and host name but keeps its own stack, TLS
//! client and a static address. The firmware change downloads an image from
//! the vendor's server, reboots (a fresh DHCP join) and then keeps contacting
//! destinations and ports the device never used before.

use std::net::Ipv4Addr;

use super::{actor_device, Actor, Attack, AttackKind, Ctx, Slot, State};
use crate::simulate::benign::{arp_announce, dhcp_join};
use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::fleet::catalog::ROGUE;
use crate::simulate::fleet::Device;
use crate::simulate::net::{lease_ip, public_from_hash};
use crate::simulate::net_services::HttpBody;
use crate::simulate::proto::dhcp::{self, ClientIdentity, MessageType};
use crate::simulate::proto::http;
use crate::simulate::rng::SimRng;
use crate::simulate::tcp::Side;
use crate::simulate::wire::{arp_frame, ArpOp, BROADCAST_MAC};

fn base(
    kind: AttackKind,
    actor: Actor,
    slot: &Slot,
    until: Micros,
    rng: SimRng,
    state: State,
) -> Attack {
    Attack {
        kind,
        campaign: None,
        actor,
        start: slot.start,
        until,
        rng,
        targets: Vec::new(),
        notes: String::new(),
        extra_ips: Vec::new(),
        state,
    }
}

/// Sweep range of the rogue's ARP scan.
const SWEEP_PREFIX: [u8; 3] = [10, 0, 1];

pub fn new_device(lease_index: usize, slot: &Slot, mut rng: SimRng, seed: u64) -> Attack {
    let dev = Device::new(
        lease_index,
        &ROGUE,
        lease_ip(lease_index),
        SimRng::derive(seed, "rogue", lease_index as u64),
    );
    let until = slot.bounded(600.0 + rng.f64() * 600.0);
    let mut a = base(
        AttackKind::IdentityNewDevice,
        Actor::Own(Box::new(dev)),
        slot,
        until,
        rng,
        State::NewDevice {
            phase: 0,
            sweep_next: 1,
        },
    );
    a.targets = vec!["10.0.1.0/24 (ARP sweep)".to_string()];
    a.notes = format!("unknown device ({}, host name {}) joined with DHCP, swept the LAN with ARP and reached the internet", ROGUE.model, "kali");
    a
}

pub fn new_device_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::NewDevice { phase, sweep_next } = &mut a.state else {
        return None;
    };
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    match *phase {
        0 => {
            dhcp_join(ctx.net, dev, t);
            *phase = 1;
            Some(t + 5 * SEC)
        }
        1 => {
            let [a0, b0, c0] = SWEEP_PREFIX;
            let mut at = t;
            for _ in 0..25 {
                if *sweep_next > 254 {
                    break;
                }
                let ip = Ipv4Addr::new(a0, b0, c0, *sweep_next as u8);
                *sweep_next += 1;
                if ip == dev.ip {
                    continue;
                }
                ctx.net.em.push(
                    at,
                    arp_frame(
                        dev.mac,
                        BROADCAST_MAC,
                        ArpOp::Request,
                        (dev.mac, dev.ip),
                        ([0; 6], ip),
                    ),
                );
                if let Some((host, _)) = ctx.lan.lookup(ip) {
                    ctx.net.em.push(
                        at + 400,
                        arp_frame(
                            host.mac,
                            dev.mac,
                            ArpOp::Reply,
                            (host.mac, host.ip),
                            (dev.mac, dev.ip),
                        ),
                    );
                }
                at += 20 * MILLI;
            }
            if *sweep_next > 254 {
                *phase = 2;
            }
            Some(at + 100 * MILLI)
        }
        _ => {
            if t + 30 * SEC >= a.until {
                let id = ClientIdentity {
                    mac: dev.mac,
                    hostname: None,
                    vendor_class: None,
                    params: &[],
                    max_message_size: None,
                };
                let release = dhcp::client_message(
                    MessageType::Release,
                    a.rng.next_u32(),
                    0,
                    &id,
                    dev.ip,
                    None,
                    Some(ctx.net.infra.gateway.ip),
                );
                let gw = ctx.net.infra.gateway;
                ctx.net.udp(
                    t,
                    dev.host(),
                    gw,
                    dhcp::CLIENT_PORT,
                    dhcp::SERVER_PORT,
                    &release,
                );
                return None;
            }
            let name = a.rng.pick(ROGUE.cloud).copied().unwrap_or("http.kali.org");
            let (ip, at) = ctx.net.resolve(dev, t, name);
            let server = ctx.net.internet(ip);
            let rounds = [(
                a.rng.range(300, 900) as usize,
                a.rng.range(2_000, 60_000) as usize,
            )];
            let end = ctx
                .net
                .tls_session(dev, at, (server, 443), Some(name), ROGUE.tls, &rounds);
            Some(end.max(t) + a.rng.range_i64(20 * SEC, 90 * SEC))
        }
    }
}

pub fn duplicate(
    victim: usize,
    fleet: &[Device],
    slot: &Slot,
    mut rng: SimRng,
    seed: u64,
) -> Option<Attack> {
    let v = fleet.get(victim)?;
    let clone_ip = lease_ip(fleet.len() + 200 + victim % 1000);
    let mut clone = Device::new(
        victim,
        &ROGUE,
        clone_ip,
        SimRng::derive(seed, "clone", victim as u64),
    );
    clone.mac = v.mac;
    clone.hostname = v.hostname.clone();
    let until = slot.bounded(600.0 + rng.f64() * 600.0);
    let mut a = base(
        AttackKind::IdentityDuplicate,
        Actor::Own(Box::new(clone)),
        slot,
        until,
        rng,
        State::Duplicate,
    );
    a.extra_ips = vec![v.ip];
    a.targets = vec![format!(
        "cloned {} ({}) of {}",
        v.mac_string(),
        v.hostname,
        v.ip
    )];
    a.notes = format!(
        "duplicate identity: {}'s MAC appears at {clone_ip} with a different TCP/TLS stack",
        v.hostname
    );
    Some(a)
}

pub fn duplicate_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let first = t == a.start;
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    if first {
        arp_announce(ctx.net, dev.host(), t);
    }
    let name = a
        .rng
        .pick(ROGUE.cloud)
        .copied()
        .unwrap_or("raw.githubusercontent.com");
    let (ip, at) = ctx.net.resolve(dev, t + 50 * MILLI, name);
    let server = ctx.net.internet(ip);
    let rounds = [(
        a.rng.range(200, 700) as usize,
        a.rng.range(1_000, 30_000) as usize,
    )];
    let end = ctx
        .net
        .tls_session(dev, at, (server, 443), Some(name), ROGUE.tls, &rounds);
    let next = end.max(t) + a.rng.range_i64(20 * SEC, 90 * SEC);
    (next < a.until).then_some(next)
}

pub fn firmware_change(actor: Actor, fleet: &[Device], slot: &Slot, mut rng: SimRng) -> Attack {
    let until = slot.long(2.0 * 3600.0);
    let tld = if rng.chance(0.5) { "cn" } else { "ru" };
    let domain = format!(
        "telemetry.{}{}.{tld}",
        ["iot", "dev", "cloud"]
            .get(rng.below(3))
            .copied()
            .unwrap_or("iot"),
        rng.range(100, 999)
    );
    let raw_ip = public_from_hash(rng.next_u64());
    let (host, version) = match &actor {
        Actor::Fleet(i) => fleet
            .get(*i)
            .map(|d| {
                (
                    d.profile.firmware.0,
                    format!("{}-r2", d.profile.firmware_versions.1),
                )
            })
            .unwrap_or_default(),
        Actor::Own(d) => (
            d.profile.firmware.0,
            d.profile.firmware_versions.1.to_string(),
        ),
    };
    let mut a = base(
        AttackKind::FirmwareBehaviourChange,
        actor,
        slot,
        until,
        rng,
        State::Firmware { phase: 0 },
    );
    a.targets = vec![format!("{domain}:8443"), format!("{raw_ip}:4444")];
    a.notes = format!("firmware {version} downloaded from {host}; after the reboot the device contacts {domain}:8443 and {raw_ip}:4444, never seen before");
    a
}

pub fn firmware_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Firmware { phase } = &mut a.state else {
        return None;
    };
    let targets = a.targets.clone();
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    match *phase {
        0 => {
            let p = dev.profile;
            let version = format!("{}-r2", p.firmware_versions.1);
            let path = p.firmware.1.replace("{v}", &version);
            let (ip, at) = ctx.net.resolve(dev, t, p.firmware.0);
            let server = ctx.net.internet(ip);
            let ua = if p.user_agent.is_empty() {
                "firmware-updater/1.0"
            } else {
                p.user_agent
            };
            let req = http::request(
                "GET",
                p.firmware.0,
                &path,
                ua,
                &[("X-Firmware-Current", dev.firmware_version)],
                &[],
            );
            let size = a.rng.range(400_000, 1_200_000) as usize;
            let head = http::response_head(
                200,
                "OK",
                "nginx",
                "application/octet-stream",
                size,
                at / SEC,
            );
            let end = ctx.net.http_session(
                dev,
                at,
                (server, http::PORT),
                &req,
                &head,
                HttpBody::Noise(size),
            );
            *phase = 1;
            Some(end + a.rng.range_i64(30 * SEC, 90 * SEC))
        }
        1 => {
            dhcp_join(ctx.net, dev, t);
            *phase = 2;
            Some(t + a.rng.range_i64(20 * SEC, 60 * SEC))
        }
        _ => {
            let end = if a.rng.chance(0.5) {
                let domain = targets
                    .first()
                    .and_then(|s| s.split(':').next())
                    .unwrap_or("telemetry.iot.cn")
                    .to_string();
                let (ip, at) = ctx.net.resolve(dev, t, &domain);
                let server = ctx.net.internet(ip);
                let rounds = [(
                    a.rng.range(300, 1500) as usize,
                    a.rng.range(200, 2000) as usize,
                )];
                ctx.net.tls_session(
                    dev,
                    at,
                    (server, 8443),
                    Some(&domain),
                    dev.profile.tls,
                    &rounds,
                )
            } else {
                let ip: Ipv4Addr = targets
                    .get(1)
                    .and_then(|s| s.split(':').next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(Ipv4Addr::new(45, 9, 148, 3));
                let server = ctx.net.internet(ip);
                let mut s = ctx.net.tcp(dev, server, 4444, t);
                s.connect(&mut ctx.net.em, dev.profile.tcp);
                let hello = format!(
                    "{{\"id\":\"{}\",\"fw\":\"r2\",\"up\":{}}}\n",
                    dev.mac_string(),
                    t / SEC
                )
                .into_bytes();
                s.request(&mut ctx.net.em, Side::Client, &hello, MILLI);
                s.send(
                    &mut ctx.net.em,
                    Side::Server,
                    b"{\"cmd\":\"sleep\",\"s\":120}\n",
                    5 * MILLI,
                );
                s.close(&mut ctx.net.em, Side::Client, 20 * MILLI);
                s.t
            };
            let next = end.max(t) + a.rng.range_i64(60 * SEC, 180 * SEC);
            (next < a.until).then_some(next)
        }
    }
}
