//! Credential guessing against SSH servers and the MQTT broker.
//!
//! SSH: each session exchanges banners, KEXINIT, the curve25519 key
//! exchange and NEWKEYS, then a few encrypted password attempts that fail
//! before the client gives up. MQTT: each session is one CONNECT with a
//! guessed user name and password, refused with CONNACK "not authorized"
//! (3.1.1 return code 5, or 5.0 reason 0x87), after which the broker closes.

use super::{actor_device, Actor, Attack, AttackKind, Ctx, Slot, State};
use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::net::{public_from_hash, BROKER_IP};
use crate::simulate::proto::{mqtt, ssh};
use crate::simulate::rng::SimRng;
use crate::simulate::tcp::Side;

const USERS: [&str; 8] = [
    "admin",
    "root",
    "mqtt",
    "guest",
    "user",
    "test",
    "homeassistant",
    "pi",
];
const PASSWORDS: [&str; 10] = [
    "admin",
    "123456",
    "password",
    "mqtt",
    "public",
    "12345678",
    "raspberry",
    "changeme",
    "letmein",
    "qwerty",
];

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

pub fn ssh(actor: Actor, slot: &Slot, mut rng: SimRng) -> Attack {
    let target = public_from_hash(rng.next_u64());
    let sessions = 30 + rng.below(50) as u32;
    let until = slot.bounded(180.0 + rng.f64() * 220.0);
    let mut a = base(
        AttackKind::BruteforceSsh,
        actor,
        slot,
        until,
        rng,
        State::Ssh {
            target,
            sessions_left: sessions,
        },
    );
    a.targets = vec![format!("{target}:22")];
    a.notes = format!("SSH password guessing: up to {sessions} sessions, 2–3 failed attempts each");
    a
}

pub fn ssh_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Ssh {
        target,
        sessions_left,
    } = &mut a.state
    else {
        return None;
    };
    *sessions_left = sessions_left.saturating_sub(1);
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let server = ctx.net.internet(*target);
    let mut s = ctx.net.tcp(dev, server, ssh::PORT, t);
    let host_key =
        SimRng::derive(ctx.net.seed, "ssh-host-key", u64::from(u32::from(*target))).bytes::<32>();
    let em = &mut ctx.net.em;
    s.connect(em, dev.profile.tcp);
    s.request(
        em,
        Side::Server,
        &ssh::banner("OpenSSH_8.9p1 Ubuntu-3ubuntu0.4"),
        5 * MILLI,
    );
    s.request(em, Side::Client, &ssh::banner("Go"), MILLI);
    s.request(
        em,
        Side::Client,
        &ssh::kexinit(&ssh::TOOL_CLIENT, &mut a.rng),
        0,
    );
    s.request(
        em,
        Side::Server,
        &ssh::kexinit(&ssh::OPENSSH_SERVER, &mut a.rng),
        MILLI,
    );
    s.request(em, Side::Client, &ssh::ecdh_init(&mut a.rng), MILLI);
    s.request(
        em,
        Side::Server,
        &ssh::ecdh_reply_and_newkeys(&host_key, &mut a.rng),
        3 * MILLI,
    );
    s.request(em, Side::Client, &ssh::newkeys(&mut a.rng), MILLI);
    // Encrypted service request / accept, then password attempts that fail.
    s.request(
        em,
        Side::Client,
        &ssh::encrypted_packet(17, &mut a.rng),
        MILLI,
    );
    s.request(
        em,
        Side::Server,
        &ssh::encrypted_packet(17, &mut a.rng),
        MILLI,
    );
    let attempts = 2 + a.rng.below(2);
    for _ in 0..attempts {
        let auth = ssh::encrypted_packet(60 + 8 * a.rng.below(4), &mut a.rng);
        s.request(em, Side::Client, &auth, 5 * MILLI);
        let fail = ssh::encrypted_packet(40, &mut a.rng);
        s.request(
            em,
            Side::Server,
            &fail,
            1_800 * MILLI + a.rng.range_i64(0, 800 * MILLI),
        );
    }
    s.close(em, Side::Client, 10 * MILLI);
    if *sessions_left == 0 {
        return None;
    }
    let next = s.t + a.rng.range_i64(500 * MILLI, 5 * SEC);
    (next < a.until).then_some(next)
}

pub fn mqtt(actor: Actor, slot: &Slot, mut rng: SimRng) -> Attack {
    let version = if rng.chance(0.5) { 5 } else { 4 };
    let sessions = 50 + rng.below(100) as u32;
    let until = slot.bounded(60.0 + rng.f64() * 120.0);
    let mut a = base(
        AttackKind::BruteforceMqtt,
        actor,
        slot,
        until,
        rng,
        State::Mqtt {
            sessions_left: sessions,
            version,
        },
    );
    a.targets = vec![format!("{BROKER_IP}:{}", mqtt::PORT)];
    let code = if version == 5 {
        "reason 0x87"
    } else {
        "return code 5"
    };
    a.notes = format!("MQTT {} credential guessing against the broker: up to {sessions} CONNECTs refused with {code}", if version == 5 { "5.0" } else { "3.1.1" });
    a
}

pub fn mqtt_step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    let State::Mqtt {
        sessions_left,
        version,
    } = &mut a.state
    else {
        return None;
    };
    *sessions_left = sessions_left.saturating_sub(1);
    let version = *version;
    let dev = actor_device(ctx.fleet, &mut a.actor)?;
    let broker = ctx.net.infra.broker;
    let mut s = ctx.net.tcp(dev, broker, mqtt::PORT, t);
    let user = a.rng.pick(&USERS).copied().unwrap_or("admin");
    let pass = a.rng.pick(&PASSWORDS).copied().unwrap_or("admin");
    let client_id = format!("mqtt-explorer-{:08x}", a.rng.next_u32());
    let em = &mut ctx.net.em;
    s.connect(em, dev.profile.tcp);
    s.request(
        em,
        Side::Client,
        &mqtt::connect(&client_id, Some(user), Some(pass), 60, version),
        MILLI,
    );
    let code = if version == 5 {
        mqtt::RC5_NOT_AUTHORIZED
    } else {
        mqtt::RC_NOT_AUTHORIZED
    };
    s.request(em, Side::Server, &mqtt::connack(code, version), MILLI);
    s.close(em, Side::Server, MILLI);
    if *sessions_left == 0 {
        return None;
    }
    let next = s.t + a.rng.range_i64(200 * MILLI, 2 * SEC);
    (next < a.until).then_some(next)
}
