//! Command-and-control traffic: jittered beacons, DGA lookups, DNS tunnelling, bulk exfiltration.
//!
//! Beacons are short TLS sessions with an implant's ClientHello (or Mirai's
//! plain TCP heartbeat to its CNC on port 23) at a fixed period ±15 %. DGA
//! bursts ask for random names that mostly do not exist (NXDOMAIN with the
//! TLD's SOA). The tunnel carries base32 data in long query names and TXT
//! answers. Exfiltration uploads megabytes in a few TLS sessions.

use super::{actor_device, Actor, Attack, AttackKind, Ctx, Slot, State};
use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::fleet::tls_profiles::GO_IMPLANT;
use crate::simulate::proto::dns::{self, Owner, Rdata, Record};
use crate::simulate::rng::SimRng;
use crate::simulate::tcp::Side;

const TLDS: [&str; 7] = ["com", "net", "org", "info", "biz", "ru", "top"];

fn letters(rng: &mut SimRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect()
}

/// A plausible-looking but attacker-registered domain.
fn c2_domain(rng: &mut SimRng) -> String {
    const WORDS: [&str; 6] = ["update", "cdn", "sync", "telemetry", "static", "api"];
    let w = rng.pick(&WORDS).copied().unwrap_or("cdn");
    let tld = rng.pick(&TLDS).copied().unwrap_or("top");
    format!("{w}-{}{}.{tld}", letters(rng, 5), rng.range(10, 99))
}

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

pub fn beacon(
    actor: Actor,
    slot: &Slot,
    mut rng: SimRng,
    campaign: Option<&'static str>,
) -> Attack {
    let domain = c2_domain(&mut rng);
    let until = slot.long(2.0 * 3600.0);
    let room_s = (until - slot.start) as f64 / SEC as f64;
    // At least a dozen beacons however short the capture.
    let period_s = (30.0 + rng.f64() * 60.0).min(room_s / 12.0).max(5.0);
    let cnc_port = if campaign.is_some() { 23 } else { 443 };
    let state = State::Beacon {
        domain: domain.clone(),
        period_s,
        cnc_port,
    };
    let mut a = base(AttackKind::Beacon, actor, slot, until, rng, state);
    a.campaign = campaign;
    a.targets = vec![format!("{domain}:{cnc_port}")];
    a.notes = if cnc_port == 23 {
        format!("CNC heartbeat connections to {domain}:23 every ~{period_s:.0} s ±15 %")
    } else {
        format!("C2 beacon over HTTPS to {domain} every ~{period_s:.0} s ±15 % (implant TLS fingerprint)")
    };
    a
}

pub fn beacon_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Beacon {
        domain,
        period_s,
        cnc_port,
    } = &a.state
    else {
        return None;
    };
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let (ip, at) = ctx.net.resolve(dev, t, domain);
    let server = ctx.net.internet(ip);
    if *cnc_port == 443 {
        let down = if a.rng.chance(0.05) {
            a.rng.range(2_000, 20_000)
        } else {
            a.rng.range(80, 400)
        } as usize;
        let up = a.rng.range(150, 300) as usize;
        ctx.net.tls_session(
            dev,
            at,
            (server, 443),
            Some(domain),
            &GO_IMPLANT,
            &[(up, down)],
        );
    } else {
        let mut s = ctx.net.tcp(dev, server, *cnc_port, at);
        s.connect(&mut ctx.net.em, dev.profile.tcp);
        s.request(&mut ctx.net.em, Side::Client, &[0, 0, 0, 1, 0], MILLI);
        s.send(&mut ctx.net.em, Side::Server, &[0, 0], 2 * MILLI);
        s.close(&mut ctx.net.em, Side::Client, 50 * MILLI);
    }
    let next = t + (a.rng.jitter(*period_s, 0.15) * SEC as f64) as Micros;
    (next < a.until).then_some(next)
}

pub fn dga(actor: Actor, slot: &Slot, mut rng: SimRng) -> Attack {
    let queries = 60 + rng.below(140) as u32;
    let until = slot.bounded(60.0 + rng.f64() * 120.0);
    let mut a = base(
        AttackKind::DnsDga,
        actor,
        slot,
        until,
        rng,
        State::Dga {
            queries_left: queries,
        },
    );
    a.targets = vec![format!("{} algorithmically generated names", queries)];
    a.notes = "DGA lookups: random 10–16 letter names, nearly all NXDOMAIN".to_string();
    a
}

pub fn dga_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Dga { queries_left } = &mut a.state else {
        return None;
    };
    let budget = *queries_left;
    *queries_left = queries_left.saturating_sub(1);
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let len = 10 + a.rng.below(7);
    let tld = a.rng.pick(&TLDS).copied().unwrap_or("com");
    let name = format!("{}.{tld}", letters(&mut a.rng, len));
    let resolves = budget == 1 || a.rng.chance(0.02);
    let id = a.rng.next_u16();
    let sport = a.rng.range(1025, 65_000) as u16;
    let resolver = ctx.net.infra.gateway;
    ctx.net.udp(
        t,
        dev.host(),
        resolver,
        sport,
        dns::PORT,
        &dns::query(id, &name, dns::TYPE_A),
    );
    let delay = a.rng.range_i64(15 * MILLI, 80 * MILLI);
    let resp = if resolves {
        let ip = crate::simulate::net::public_ip(ctx.net.seed, &name, 0);
        let ans = [Record {
            owner: Owner::Question,
            ttl: 300,
            cache_flush: false,
            data: Rdata::A(ip),
        }];
        dns::response(id, &name, dns::TYPE_A, dns::RCODE_OK, &ans, &[])
    } else {
        let soa = [Record {
            owner: Owner::Name(tld),
            ttl: 900,
            cache_flush: false,
            data: Rdata::Soa {
                mname: "a.gtld-servers.net",
                rname: "nstld.verisign-grs.com",
                serial: 1_700_000_000,
            },
        }];
        dns::response(id, &name, dns::TYPE_A, dns::RCODE_NXDOMAIN, &[], &soa)
    };
    ctx.net
        .udp(t + delay, resolver, dev.host(), dns::PORT, sport, &resp);
    if budget <= 1 {
        return None;
    }
    let next = t + a.rng.range_i64(100 * MILLI, 2 * SEC);
    (next < a.until).then_some(next)
}

/// RFC 4648 base32 (lower case, no padding), as DNS tunnels encode data.
pub fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(data.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(
                ALPHABET
                    .get(((buffer >> bits) & 31) as usize)
                    .copied()
                    .unwrap_or(b'a'),
            ));
        }
    }
    if bits > 0 {
        out.push(char::from(
            ALPHABET
                .get(((buffer << (5 - bits)) & 31) as usize)
                .copied()
                .unwrap_or(b'a'),
        ));
    }
    out
}

pub fn tunnel(actor: Actor, slot: &Slot, mut rng: SimRng) -> Attack {
    let domain = format!(
        "t.{}.{}",
        letters(&mut rng, 7),
        if rng.chance(0.5) { "info" } else { "xyz" }
    );
    let until = slot.bounded(120.0 + rng.f64() * 180.0);
    let mut a = base(
        AttackKind::DnsTunnel,
        actor,
        slot,
        until,
        rng,
        State::Tunnel {
            domain: domain.clone(),
            seq: 0,
        },
    );
    a.targets = vec![domain.clone()];
    a.notes = format!(
        "DNS tunnel: base32 data in 100+ character query names under {domain}, TXT answers"
    );
    a
}

pub fn tunnel_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Tunnel { domain, seq } = &mut a.state else {
        return None;
    };
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let resolver = ctx.net.infra.gateway;
    let burst = 1 + a.rng.below(4);
    let mut at = t;
    for _ in 0..burst {
        *seq += 1;
        let data = ctx.net.noise_vec(35 + a.rng.below(35));
        let encoded = base32(&data);
        let name = format!("{}.{:04x}.{domain}", dns::split_labels(&encoded, 56), *seq);
        let id = a.rng.next_u16();
        let sport = a.rng.range(1025, 65_000) as u16;
        ctx.net.udp(
            at,
            dev.host(),
            resolver,
            sport,
            dns::PORT,
            &dns::query(id, &name, dns::TYPE_TXT),
        );
        let reply = ctx.net.noise_vec(60 + a.rng.below(90));
        let txt = vec![base32(&reply)];
        let ans = [Record {
            owner: Owner::Question,
            ttl: 0,
            cache_flush: false,
            data: Rdata::Txt(txt),
        }];
        let resp = dns::response(id, &name, dns::TYPE_TXT, dns::RCODE_OK, &ans, &[]);
        let delay = a.rng.range_i64(20 * MILLI, 90 * MILLI);
        ctx.net
            .udp(at + delay, resolver, dev.host(), dns::PORT, sport, &resp);
        at += a.rng.range_i64(30 * MILLI, 200 * MILLI);
    }
    let next = at + a.rng.range_i64(200 * MILLI, 1_200 * MILLI);
    (next < a.until).then_some(next)
}

pub fn exfil(actor: Actor, slot: &Slot, mut rng: SimRng) -> Attack {
    const PREFIX: [&str; 4] = ["files", "dl", "sync", "storage"];
    let host = format!(
        "{}.{}",
        rng.pick(&PREFIX).copied().unwrap_or("files"),
        c2_domain(&mut rng)
    );
    let chunks = 2 + rng.below(2) as u32;
    let until = slot.bounded(300.0);
    let mut a = base(
        AttackKind::Exfil,
        actor,
        slot,
        until,
        rng,
        State::Exfil {
            host: host.clone(),
            chunks_left: chunks,
        },
    );
    a.targets = vec![format!("{host}:443")];
    a.notes = format!("data exfiltration: {chunks} uploads of 0.5–1 MB over TLS to {host}");
    a
}

pub fn exfil_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Exfil { host, chunks_left } = &mut a.state else {
        return None;
    };
    *chunks_left = chunks_left.saturating_sub(1);
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let (ip, at) = ctx.net.resolve(dev, t, host);
    let server = ctx.net.internet(ip);
    let size = a.rng.range(500_000, 1_000_000) as usize;
    let end = ctx.net.tls_session(
        dev,
        at,
        (server, 443),
        Some(host),
        &GO_IMPLANT,
        &[(size, 250)],
    );
    if *chunks_left == 0 {
        return None;
    }
    let next = end + a.rng.range_i64(10 * SEC, 45 * SEC);
    (next < a.until).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }
}
