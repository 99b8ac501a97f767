//! Mirai-like behaviour: telnet SYN scanning, telnet brute force, UDP/SYN floods, and the campaign tying them together.
//!
//! The scanner writes raw SYNs whose sequence number equals the target
//! address (Mirai's tell-tale), to random internet addresses and the local
//! /16; local addresses with nobody behind them only draw ARP requests, live
//! hosts answer RST (or SYN-ACK, which the scanner's kernel resets). Brute
//! force sessions walk Mirai's default-credential list against a telnet
//! login. Floods are one-second chunks of packets at a fixed rate.

use std::net::Ipv4Addr;

use super::{actor_device, c2, Actor, Attack, AttackKind, Ctx, Slot, State};
use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::fleet::Device;
use crate::simulate::net::{public_from_hash, Host, NVR_IP};
use crate::simulate::proto::industrial::{
    telnet_client_negotiation, telnet_server_greeting, TELNET_PORT,
};
use crate::simulate::rng::SimRng;
use crate::simulate::tcp::{Side, LINUX};
use crate::simulate::wire::{
    arp_frame, tcp_frame, udp_frame, ArpOp, Ipv4Fields, TcpFields, ACK, BROADCAST_MAC, RST, SYN,
};

/// Mirai's default credentials (a subset of the table in its source).
pub const CREDENTIALS: [(&str, &str); 24] = [
    ("root", "xc3511"),
    ("root", "vizxv"),
    ("admin", "admin"),
    ("root", "888888"),
    ("root", "xmhdipc"),
    ("root", "default"),
    ("root", "juantech"),
    ("root", "123456"),
    ("root", "54321"),
    ("support", "support"),
    ("admin", "password"),
    ("root", "root"),
    ("root", "12345"),
    ("user", "user"),
    ("root", "pass"),
    ("admin", "admin1234"),
    ("root", "1111"),
    ("admin", "smcadmin"),
    ("root", "666666"),
    ("root", "klv123"),
    ("ubnt", "ubnt"),
    ("root", "Zte521"),
    ("root", "hi3518"),
    ("root", "7ujMko0admin"),
];

fn base(
    kind: AttackKind,
    actor: Actor,
    start: Micros,
    until: Micros,
    rng: SimRng,
    campaign: Option<&'static str>,
    state: State,
) -> Attack {
    Attack {
        kind,
        campaign,
        actor,
        start,
        until,
        rng,
        targets: Vec::new(),
        notes: String::new(),
        extra_ips: Vec::new(),
        state,
    }
}

pub fn scan(actor: Actor, slot: &Slot, mut rng: SimRng, campaign: Option<&'static str>) -> Attack {
    let rate = 25 + rng.below(35) as u32;
    let until = slot.bounded(90.0 + rng.f64() * 90.0);
    let mut a = base(
        AttackKind::ScanHorizontal,
        actor,
        slot.start,
        until,
        rng,
        campaign,
        State::Scan { rate },
    );
    a.targets = vec![
        "0.0.0.0/0:23".into(),
        "0.0.0.0/0:2323".into(),
        "10.0.0.0/16:23".into(),
        "10.0.0.0/16:2323".into(),
    ];
    a.notes = format!("telnet SYN scan (seq = target address) at ~{rate} SYN/s across the internet and the local /16");
    a
}

fn seg(ports: (u16, u16), seq: u32, ack: u32, flags: u8, window: u16) -> TcpFields {
    TcpFields {
        sport: ports.0,
        dport: ports.1,
        seq,
        ack,
        flags,
        window,
    }
}

/// A raw TCP segment from `src` to `dst` (the scanner's own packets and the answers to them).
fn raw_tcp(ctx: &mut Ctx<'_>, t: Micros, src: Host, dst: Host, tcp: TcpFields, id: u16) {
    let ip = Ipv4Fields {
        src: src.ip,
        dst: dst.ip,
        ttl: src.ttl,
        id,
        dont_fragment: false,
    };
    ctx.net
        .em
        .push(t, tcp_frame(src.mac, dst.mac, &ip, &tcp, &[], &[]));
}

fn lan_target(rng: &mut SimRng, fleet_len: usize) -> Ipv4Addr {
    let third = if rng.chance(0.6) {
        1 + rng.below(fleet_len / 241 + 1)
    } else {
        rng.below(256)
    };
    Ipv4Addr::new(10, 0, third as u8, 1 + rng.below(254) as u8)
}

pub fn scan_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Scan { rate } = a.state else {
        return None;
    };
    let fleet_len = ctx.fleet.len();
    let src = actor_device(ctx.fleet, &mut a.actor)?.host();
    let gw = ctx.net.infra.gateway;
    let n = a
        .rng
        .range(u64::from(rate) * 8 / 10, u64::from(rate) * 12 / 10) as usize;
    let mut offsets: Vec<Micros> = (0..n).map(|_| a.rng.range_i64(0, SEC - 1)).collect();
    offsets.sort_unstable();
    for off in offsets {
        let at = t + off;
        let port = if a.rng.chance(0.9) { 23 } else { 2323 };
        let sport = a.rng.range(1024, 65_000) as u16;
        let id = a.rng.next_u16();
        let window = a.rng.next_u16() | 0x0400;
        let local = a.rng.chance(0.3);
        let target_ip = if local {
            lan_target(&mut a.rng, fleet_len)
        } else {
            public_from_hash(a.rng.next_u64())
        };
        let seq = u32::from(target_ip);
        if local {
            match ctx.lan.lookup(target_ip) {
                Some((host, open)) if host.ip != src.ip => {
                    raw_tcp(
                        ctx,
                        at,
                        src,
                        host,
                        seg((sport, port), seq, 0, SYN, window),
                        id,
                    );
                    if open.contains(&port) {
                        raw_tcp(
                            ctx,
                            at + 400,
                            host,
                            src,
                            seg(
                                (port, sport),
                                a.rng.next_u32(),
                                seq.wrapping_add(1),
                                SYN | ACK,
                                29_200,
                            ),
                            a.rng.next_u16(),
                        );
                        raw_tcp(
                            ctx,
                            at + 500,
                            src,
                            host,
                            seg((sport, port), seq.wrapping_add(1), 0, RST, 0),
                            a.rng.next_u16(),
                        );
                    } else {
                        raw_tcp(
                            ctx,
                            at + 300,
                            host,
                            src,
                            seg((port, sport), 0, seq.wrapping_add(1), RST | ACK, 0),
                            a.rng.next_u16(),
                        );
                    }
                }
                Some(_) => {}
                None => ctx.net.em.push(
                    at,
                    arp_frame(
                        src.mac,
                        BROADCAST_MAC,
                        ArpOp::Request,
                        (src.mac, src.ip),
                        ([0; 6], target_ip),
                    ),
                ),
            }
            continue;
        }
        let dst = Host {
            mac: gw.mac,
            ip: target_ip,
            ttl: 50,
        };
        raw_tcp(
            ctx,
            at,
            src,
            dst,
            seg((sport, port), seq, 0, SYN, window),
            id,
        );
        let roll = a.rng.f64();
        let rtt = ctx.net.timing(target_ip).server_rtt;
        if roll < 0.02 {
            raw_tcp(
                ctx,
                at + rtt,
                dst,
                src,
                seg((port, sport), 0, seq.wrapping_add(1), RST | ACK, 0),
                a.rng.next_u16(),
            );
        } else if roll < 0.03 {
            raw_tcp(
                ctx,
                at + rtt,
                dst,
                src,
                seg(
                    (port, sport),
                    a.rng.next_u32(),
                    seq.wrapping_add(1),
                    SYN | ACK,
                    5840,
                ),
                a.rng.next_u16(),
            );
            raw_tcp(
                ctx,
                at + rtt + 100,
                src,
                dst,
                seg((sport, port), seq.wrapping_add(1), 0, RST, 0),
                a.rng.next_u16(),
            );
        }
    }
    let next = t + SEC;
    (next < a.until).then_some(next)
}

pub fn telnet(
    actor: Actor,
    slot: &Slot,
    mut rng: SimRng,
    campaign: Option<&'static str>,
) -> Attack {
    let until = slot.bounded(120.0 + rng.f64() * 180.0);
    let sessions = 20 + rng.below(40) as u32;
    let state = State::Telnet {
        target: NVR_IP,
        sessions_left: sessions,
        succeed_last: campaign.is_some(),
    };
    let mut a = base(
        AttackKind::BruteforceTelnet,
        actor,
        slot.start,
        until,
        rng,
        campaign,
        state,
    );
    a.targets = vec![format!("{NVR_IP}:{TELNET_PORT}")];
    a.notes = format!(
        "telnet brute force with Mirai default credentials, up to {sessions} login sessions"
    );
    if campaign.is_some() {
        a.notes
            .push_str("; the last login succeeds and the bot probes busybox");
    }
    a
}

pub fn telnet_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Telnet {
        target,
        sessions_left,
        succeed_last,
    } = &mut a.state
    else {
        return None;
    };
    let (server, _) = ctx.lan.lookup(*target)?;
    let last = *sessions_left <= 1 || t + 4 * SEC >= a.until;
    let success = last && *succeed_last;
    *sessions_left = sessions_left.saturating_sub(1);
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let (user, pass) = CREDENTIALS
        .get(a.rng.below(CREDENTIALS.len()))
        .copied()
        .unwrap_or(("root", "root"));
    let mut s = ctx.net.tcp(dev, server, TELNET_PORT, t);
    let em = &mut ctx.net.em;
    s.connect(em, LINUX);
    s.request(em, Side::Server, &telnet_server_greeting("nvr"), 3 * MILLI);
    let mut first = telnet_client_negotiation();
    first.extend_from_slice(format!("{user}\r\n").as_bytes());
    s.request(em, Side::Client, &first, 20 * MILLI);
    s.request(
        em,
        Side::Server,
        format!("{user}\r\nPassword: ").as_bytes(),
        2 * MILLI,
    );
    s.request(
        em,
        Side::Client,
        format!("{pass}\r\n").as_bytes(),
        15 * MILLI,
    );
    if success {
        s.request(
            em,
            Side::Server,
            b"\r\n\r\nBusyBox v1.19.3 (2016-04-12 10:02:53 CST) built-in shell (ash)\r\n# ",
            200 * MILLI,
        );
        for cmd in ["enable", "system", "shell", "sh"] {
            s.request(
                em,
                Side::Client,
                format!("{cmd}\r\n").as_bytes(),
                30 * MILLI,
            );
            s.request(
                em,
                Side::Server,
                format!("{cmd}\r\n# ").as_bytes(),
                2 * MILLI,
            );
        }
        s.request(em, Side::Client, b"/bin/busybox MIRAI\r\n", 30 * MILLI);
        s.send(
            em,
            Side::Server,
            b"/bin/busybox MIRAI\r\nMIRAI: applet not found\r\n# ",
            2 * MILLI,
        );
    } else {
        let delay = 1_500 * MILLI + a.rng.range_i64(0, SEC);
        s.send(
            em,
            Side::Server,
            b"\r\nLogin incorrect\r\nnvr login: ",
            delay,
        );
    }
    s.close(em, Side::Client, 5 * MILLI);
    if success || *sessions_left == 0 {
        return None;
    }
    let next = s.t + a.rng.range_i64(500 * MILLI, 4 * SEC);
    (next < a.until).then_some(next)
}

pub fn flood(actor: Actor, slot: &Slot, mut rng: SimRng, campaign: Option<&'static str>) -> Attack {
    let victim = public_from_hash(rng.next_u64());
    // Game-server style target ports; with the fixed source ports below no heuristic dissector claims the datagrams.
    const PORTS: [u16; 3] = [8888, 25565, 44444];
    let port = rng.pick(&PORTS).copied().unwrap_or(8888);
    let rate = 80 + rng.below(60) as u32;
    let until = slot.bounded(15.0 + rng.f64() * 15.0);
    // Mirai's plain UDP flood sends from one bound socket: a single source port.
    const SOURCE_PORTS: [u16; 5] = [48000, 51000, 52000, 53000, 54000];
    let sport = rng.pick(&SOURCE_PORTS).copied().unwrap_or(51000);
    let mut a = base(
        AttackKind::Flood,
        actor,
        slot.start,
        until,
        rng,
        campaign,
        State::Flood {
            victim,
            port,
            rate,
            sport,
        },
    );
    a.targets = vec![format!("{victim}:{port}/udp"), format!("{victim}:80/tcp")];
    a.notes = format!("UDP flood (512-byte random payloads) then SYN flood at ~{rate} packets/s against one internet victim");
    a
}

pub fn flood_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Flood {
        victim,
        port,
        rate,
        sport: udp_sport,
    } = a.state
    else {
        return None;
    };
    let src = actor_device(ctx.fleet, &mut a.actor)?.host();
    let dst = Host {
        mac: ctx.net.infra.gateway.mac,
        ip: victim,
        ttl: 50,
    };
    // The last third of the flood switches from UDP to SYN packets.
    let syn_phase = t >= a.start + (a.until - a.start) * 2 / 3;
    let mut payload = ctx.net.noise_vec(512);
    if let Some(head) = payload.get_mut(..4) {
        head.fill(0); // leading zeros: no heuristic dissector takes the datagram for its protocol
    }
    for k in 0..rate {
        let at = t + Micros::from(k) * SEC / Micros::from(rate) + a.rng.range_i64(0, 500);
        let ip = Ipv4Fields {
            src: src.ip,
            dst: victim,
            ttl: 64,
            id: a.rng.next_u16(),
            dont_fragment: false,
        };
        let frame = if syn_phase {
            let sport = a.rng.range(1024, 65_000) as u16;
            let tcp = TcpFields {
                sport,
                dport: 80,
                seq: a.rng.next_u32(),
                ack: 0,
                flags: SYN,
                window: a.rng.next_u16() | 0x1000,
            };
            tcp_frame(src.mac, dst.mac, &ip, &tcp, LINUX.syn_options, &[])
        } else {
            udp_frame(src.mac, dst.mac, &ip, udp_sport, port, &payload)
        };
        ctx.net.em.push(at, frame);
    }
    let next = t + SEC;
    (next < a.until).then_some(next)
}

/// The Mirai campaign on one camera: scan, brute force, C2 beacon, flood — in that order.
pub fn campaign(
    cam: usize,
    fleet: &[Device],
    slot: &Slot,
    rng: &mut SimRng,
    seed: u64,
) -> Vec<Attack> {
    let _ = fleet;
    let room = (slot.window_end - slot.start) as f64;
    let scale = (room / (1500.0 * SEC as f64)).min(1.0);
    let at = |offset_s: f64| slot.start + (offset_s * scale * SEC as f64) as Micros;
    let sub = |start: Micros, end: Micros| Slot {
        start,
        end: end.min(slot.window_end),
        window_end: slot.window_end,
    };
    let name = Some("mirai-like");
    let mut derive = |label: &str| SimRng::derive(seed ^ rng.next_u64(), label, cam as u64);
    vec![
        scan(
            Actor::Fleet(cam),
            &sub(at(0.0), at(180.0)),
            derive("mirai-scan"),
            name,
        ),
        telnet(
            Actor::Fleet(cam),
            &sub(at(30.0), at(330.0)),
            derive("mirai-telnet"),
            name,
        ),
        c2::beacon(
            Actor::Fleet(cam),
            &sub(at(360.0), slot.window_end),
            derive("mirai-beacon"),
            name,
        ),
        flood(
            Actor::Fleet(cam),
            &sub(at(900.0), at(960.0)),
            derive("mirai-flood"),
            name,
        ),
    ]
}
