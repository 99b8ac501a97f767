//! Movement inside the LAN: lateral probing of peers and Modbus from a device that must not speak it.
//!
//! Lateral movement walks a queue of (address, port) pairs — every known
//! host plus empty addresses — on 22/23/445/502: closed ports answer RST,
//! empty addresses only draw ARP requests, open ports get a short session
//! (an SSH banner read, a Modbus device-identification read). The policy
//! violation is a camera polling and writing the PLC's registers.

use std::net::Ipv4Addr;

use super::{actor_device, Actor, Attack, AttackKind, Ctx, Slot, State};
use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::proto::industrial as ind;
use crate::simulate::proto::ssh;
use crate::simulate::rng::SimRng;
use crate::simulate::tcp::Side;
use crate::simulate::wire::{arp_frame, ArpOp, BROADCAST_MAC};

const LATERAL_PORTS: [u16; 4] = [22, 23, 445, 502];

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

pub fn lateral(actor: Actor, slot: &Slot, rng: SimRng) -> Attack {
    let until = slot.bounded(180.0);
    let mut a = base(
        AttackKind::Lateral,
        actor,
        slot,
        until,
        rng,
        State::Lateral { queue: None },
    );
    a.targets = LATERAL_PORTS
        .iter()
        .map(|p| format!("10.0.0.0/16:{p}"))
        .collect();
    a.notes =
        "lateral movement: connection attempts to internal hosts on 22/23/445/502".to_string();
    a
}

fn fill_queue(ctx: &Ctx<'_>, own: Ipv4Addr, rng: &mut SimRng) -> Vec<(Ipv4Addr, u16)> {
    let mut hosts: Vec<Ipv4Addr> = ctx.lan.addresses().filter(|ip| *ip != own).collect();
    for _ in 0..(hosts.len() / 2).clamp(8, 40) {
        hosts.push(Ipv4Addr::new(
            10,
            0,
            1 + rng.below(2) as u8,
            1 + rng.below(254) as u8,
        ));
    }
    for i in (1..hosts.len()).rev() {
        hosts.swap(i, rng.below(i + 1));
    }
    hosts.truncate(60);
    let mut q = Vec::with_capacity(hosts.len() * LATERAL_PORTS.len());
    for ip in hosts {
        for p in LATERAL_PORTS {
            q.push((ip, p));
        }
    }
    q.reverse(); // popped from the end
    q
}

pub fn lateral_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let own = actor_device(ctx.fleet, &mut a.actor)?.ip;
    if let State::Lateral { queue: None } = a.state {
        a.state = State::Lateral {
            queue: Some(fill_queue(ctx, own, &mut a.rng)),
        };
    }
    let State::Lateral { queue: Some(queue) } = &mut a.state else {
        return None;
    };
    let (ip, port) = queue.pop()?;
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let mut end = t;
    match ctx.lan.lookup(ip) {
        None => {
            // Nobody there: the ARP request goes unanswered (the stack asks once per port try).
            ctx.net.em.push(
                t,
                arp_frame(
                    dev.mac,
                    BROADCAST_MAC,
                    ArpOp::Request,
                    (dev.mac, dev.ip),
                    ([0; 6], ip),
                ),
            );
        }
        Some((host, open)) if !open.contains(&port) => {
            let mut s = ctx.net.tcp(dev, host, port, t);
            s.refused(&mut ctx.net.em, dev.profile.tcp);
            end = s.t;
        }
        Some((host, _)) => {
            let mut s = ctx.net.tcp(dev, host, port, t);
            let em = &mut ctx.net.em;
            s.connect(em, dev.profile.tcp);
            match port {
                22 => s.send(
                    em,
                    Side::Server,
                    &ssh::banner("OpenSSH_8.4p1 Debian-5+deb11u1"),
                    5 * MILLI,
                ),
                23 => s.send(
                    em,
                    Side::Server,
                    &ind::telnet_server_greeting("nvr"),
                    3 * MILLI,
                ),
                502 => {
                    s.request(
                        em,
                        Side::Client,
                        &ind::modbus_device_id_request(1, 1),
                        MILLI,
                    );
                    s.send(
                        em,
                        Side::Server,
                        &ind::modbus_device_id_response(1, 1, "Siemens", "S7-1200", "V4.5"),
                        3 * MILLI,
                    );
                }
                _ => {}
            }
            s.close(em, Side::Client, 2 * MILLI);
            end = s.t;
        }
    }
    let State::Lateral { queue: Some(queue) } = &a.state else {
        return None;
    };
    if queue.is_empty() {
        return None;
    }
    let next = end.max(t) + a.rng.range_i64(50 * MILLI, 400 * MILLI);
    (next < a.until).then_some(next)
}

pub fn policy(actor: Actor, slot: &Slot, mut rng: SimRng) -> Attack {
    let polls = 20 + rng.below(40) as u32;
    let until = slot.bounded(60.0 + rng.f64() * 180.0);
    let mut a = base(
        AttackKind::PolicyViolation,
        actor,
        slot,
        until,
        rng,
        State::Policy {
            polls_left: polls,
            conn: None,
            tid: 0,
        },
    );
    a.notes = "segmentation violation: a camera reads and writes PLC registers over Modbus/TCP"
        .to_string();
    a
}

pub fn policy_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let plc = ctx
        .fleet
        .iter()
        .find(|d| d.class() == crate::simulate::fleet::DeviceClass::Plc)
        .map(|d| d.host());
    let State::Policy {
        polls_left,
        conn,
        tid,
    } = &mut a.state
    else {
        return None;
    };
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let target = match plc {
        Some(h) => h,
        None => ctx.net.infra.hmi,
    };
    if a.targets.is_empty() {
        a.targets = vec![format!("{}:{}", target.ip, ind::MODBUS_PORT)];
    }
    if conn.is_none() {
        let mut s = ctx.net.tcp(dev, target, ind::MODBUS_PORT, t);
        s.connect(&mut ctx.net.em, dev.profile.tcp);
        *conn = Some(s);
    }
    let em = &mut ctx.net.em;
    let s = conn.as_mut()?;
    s.t = s.t.max(t);
    *tid = tid.wrapping_add(1);
    *polls_left = polls_left.saturating_sub(1);
    let last = *polls_left == 0 || t + 3 * SEC >= a.until;
    if last {
        // Before leaving, overwrite a block of setpoints.
        let values = [a.rng.next_u16() % 1000, a.rng.next_u16() % 1000, 0, 0xffff];
        s.request(
            em,
            Side::Client,
            &ind::modbus_write_multiple(*tid, 1, 40, &values),
            MILLI,
        );
        s.send(
            em,
            Side::Server,
            &ind::modbus_write_multiple_response(*tid, 1, 40, values.len() as u16),
            4 * MILLI,
        );
        s.close(em, Side::Client, 5 * MILLI);
        return None;
    }
    let values = a.rng.bytes::<8>();
    s.request(
        em,
        Side::Client,
        &ind::modbus_read(*tid, 1, ind::FC_READ_HOLDING, 0, 32),
        MILLI,
    );
    s.send(
        em,
        Side::Server,
        &ind::modbus_read_response(*tid, 1, ind::FC_READ_HOLDING, 32, &values),
        4 * MILLI,
    );
    Some(t + a.rng.range_i64(500 * MILLI, 3 * SEC))
}
