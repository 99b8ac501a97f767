//! Attacks: placement in time, choice of devices, step-by-step generation, truth.
//!
//! Requested kinds in → [`Attack`] instances, each with an actor (a fleet
//! device, or a device of its own such as a rogue host or a MAC clone), a
//! start after the benign warm-up (the first 25 % of the capture) and a slot
//! of its own, so attacks are spread over the rest of the capture. The
//! simulation loop calls [`step`] when an attack is due; it writes one chunk of
//! packets (tagged with the attack's index, which records first/last packet
//! time) and says when the next chunk is due. [`Attack::truth`] then turns the
//! recorded span into a truth record.

mod c2;
mod credential;
mod identity;
mod kind;
mod mirai;
mod movement;

use std::net::Ipv4Addr;

pub use kind::{AttackKind, ParseAttackError};

use super::emit::Span;
use super::emit::{Micros, SEC};
use super::fleet::{Device, DeviceClass};
use super::net::Host;
use super::net_services::Net;
use super::rng::SimRng;
use super::tcp::TcpSession;

/// Share of the capture kept benign before the first attack.
pub const WARM_UP: f64 = 0.25;
/// Attacks end before this share of the capture.
pub const LAST_END: f64 = 0.95;

/// Who sends an attack's traffic.
pub enum Actor {
    Fleet(usize),
    /// A device that is not part of the enrolled fleet (rogue host, MAC clone).
    Own(Box<Device>),
}

/// Per-kind progress between steps.
pub enum State {
    Scan {
        rate: u32,
    },
    Telnet {
        target: Ipv4Addr,
        sessions_left: u32,
        succeed_last: bool,
    },
    Ssh {
        target: Ipv4Addr,
        sessions_left: u32,
    },
    Mqtt {
        sessions_left: u32,
        version: u8,
    },
    Beacon {
        domain: String,
        period_s: f64,
        cnc_port: u16,
    },
    Dga {
        queries_left: u32,
    },
    Tunnel {
        domain: String,
        seq: u32,
    },
    Exfil {
        host: String,
        chunks_left: u32,
    },
    Flood {
        victim: Ipv4Addr,
        port: u16,
        rate: u32,
        sport: u16,
    },
    /// Targets still to try (filled on the first step, when the LAN is known).
    Lateral {
        queue: Option<Vec<(Ipv4Addr, u16)>>,
    },
    NewDevice {
        phase: u32,
        sweep_next: u32,
    },
    Duplicate,
    Firmware {
        phase: u32,
    },
    Policy {
        polls_left: u32,
        conn: Option<TcpSession>,
        tid: u16,
    },
}

pub struct Attack {
    pub kind: AttackKind,
    /// Campaign the instance belongs to (`mirai`), for the truth notes.
    pub campaign: Option<&'static str>,
    pub actor: Actor,
    pub start: Micros,
    /// The attack stops producing new activity after this time.
    pub until: Micros,
    pub rng: SimRng,
    pub targets: Vec<String>,
    pub notes: String,
    /// Addresses beyond the actor's own that belong in the truth (e.g. a clone's).
    pub extra_ips: Vec<Ipv4Addr>,
    pub state: State,
}

/// What an attacker can learn about the LAN: hosts by address and their open ports.
pub struct LanDirectory {
    hosts: Vec<(Ipv4Addr, Host, &'static [u16])>,
}

impl LanDirectory {
    pub fn new(fleet: &[Device], infra: &super::net_services::Infra) -> Self {
        let mut hosts: Vec<(Ipv4Addr, Host, &'static [u16])> = fleet
            .iter()
            .map(|d| (d.ip, d.host(), open_ports(d)))
            .collect();
        hosts.push((infra.gateway.ip, infra.gateway, &[22, 53, 80, 443]));
        hosts.push((infra.broker.ip, infra.broker, &[22, 1883]));
        hosts.push((infra.nvr.ip, infra.nvr, &[23, 80, 554, 8000]));
        hosts.push((infra.hmi.ip, infra.hmi, &[135, 445, 3389]));
        hosts.push((infra.clinical.ip, infra.clinical, &[22, 443, 2575]));
        hosts.sort_by_key(|h| h.0);
        LanDirectory { hosts }
    }

    /// The host at `ip` and its open TCP ports, if anything lives there.
    pub fn lookup(&self, ip: Ipv4Addr) -> Option<(Host, &'static [u16])> {
        self.hosts
            .binary_search_by_key(&ip, |h| h.0)
            .ok()
            .and_then(|i| self.hosts.get(i))
            .map(|h| (h.1, h.2))
    }

    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.hosts.iter().map(|h| h.0)
    }
}

fn open_ports(d: &Device) -> &'static [u16] {
    match d.class() {
        DeviceClass::IpCamera => &[80, 443, 554],
        DeviceClass::Hub => &[80, 443],
        DeviceClass::Printer => &[80, 443, 631, 9100],
        DeviceClass::Plc => &[102, 502],
        DeviceClass::Laptop if d.profile.ttl == 128 => &[135, 139, 445],
        DeviceClass::VoiceAssistant => &[8009, 8443],
        _ => &[],
    }
}

/// What a step can touch.
pub struct Ctx<'a> {
    pub net: &'a mut Net,
    pub fleet: &'a mut [Device],
    pub lan: &'a LanDirectory,
}

/// The device an attack speaks through.
pub fn actor_device<'a>(fleet: &'a mut [Device], actor: &'a mut Actor) -> Option<&'a mut Device> {
    match actor {
        Actor::Fleet(i) => fleet.get_mut(*i),
        Actor::Own(d) => Some(d.as_mut()),
    }
}

/// Classes preferred as the actor (or victim) of each kind, best first.
fn preferred(kind: AttackKind) -> &'static [DeviceClass] {
    use DeviceClass::*;
    match kind {
        AttackKind::ScanHorizontal
        | AttackKind::Flood
        | AttackKind::BruteforceTelnet
        | AttackKind::Mirai => &[IpCamera, Hub, SmartPlug],
        AttackKind::BruteforceSsh => &[Hub, Thermostat, VoiceAssistant, SmartPlug],
        AttackKind::BruteforceMqtt => &[Laptop, IpCamera, Phone],
        AttackKind::Beacon => &[SmartPlug, Thermostat, VoiceAssistant],
        AttackKind::DnsDga => &[Hub, Printer, SmartPlug],
        AttackKind::DnsTunnel => &[Printer, Laptop, InfusionPump],
        AttackKind::Exfil => &[IpCamera, InfusionPump, Laptop],
        AttackKind::Lateral => &[Laptop, IpCamera],
        AttackKind::IdentityDuplicate => &[SmartPlug, Thermostat, InfusionPump],
        AttackKind::FirmwareBehaviourChange => &[SmartPlug, IpCamera, Hub, Thermostat],
        AttackKind::PolicyViolation => &[IpCamera, Printer, SmartPlug],
        AttackKind::IdentityNewDevice | AttackKind::All => &[],
    }
}

/// Picks a fleet device for `kind`: an unused one of a preferred class, else any unused, else any.
fn choose_device(
    kind: AttackKind,
    fleet: &[Device],
    used: &mut Vec<usize>,
    rng: &mut SimRng,
) -> usize {
    for class in preferred(kind) {
        let free: Vec<usize> = fleet
            .iter()
            .filter(|d| d.class() == *class && !used.contains(&d.index))
            .map(|d| d.index)
            .collect();
        if let Some(&i) = rng.pick(&free) {
            used.push(i);
            return i;
        }
    }
    let preferred_any: Vec<usize> = fleet
        .iter()
        .filter(|d| preferred(kind).contains(&d.class()))
        .map(|d| d.index)
        .collect();
    if let Some(&i) = rng.pick(&preferred_any) {
        return i;
    }
    let free: Vec<usize> = fleet
        .iter()
        .filter(|d| !used.contains(&d.index) && d.class() != DeviceClass::Plc)
        .map(|d| d.index)
        .collect();
    let i = rng.pick(&free).copied().unwrap_or(0);
    used.push(i);
    i
}

/// Expands `all`, drops duplicates, keeps the caller's order otherwise.
fn expand(kinds: &[AttackKind]) -> Vec<AttackKind> {
    let mut out: Vec<AttackKind> = Vec::new();
    for &k in kinds {
        let items: Vec<AttackKind> = if k == AttackKind::All {
            AttackKind::TRUTH_KINDS.to_vec()
        } else {
            vec![k]
        };
        for i in items {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    out
}

/// Places the requested attacks in `[start, end)` and binds them to devices.
pub fn plan(
    kinds: &[AttackKind],
    fleet: &[Device],
    start: Micros,
    end: Micros,
    seed: u64,
) -> Vec<Attack> {
    let mut rng = SimRng::derive(seed, "attack-plan", 0);
    let mut order = expand(kinds);
    // Shuffle (Fisher–Yates) so kinds do not always appear in the same order.
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    // Long-running kinds first, so they have room to show their pattern before the capture ends.
    order.sort_by_key(|k| {
        !matches!(
            k,
            AttackKind::Beacon | AttackKind::FirmwareBehaviourChange | AttackKind::Mirai
        )
    });
    if fleet.is_empty() || order.is_empty() {
        return Vec::new();
    }
    let span = (end - start) as f64;
    let window_start = start + (span * WARM_UP) as Micros;
    let window_end = start + (span * LAST_END) as Micros;
    let slot = (window_end - window_start) / order.len() as Micros;
    let mut used = Vec::new();
    let mut out = Vec::new();
    for (i, &kind) in order.iter().enumerate() {
        let slot_start =
            window_start + slot * i as Micros + (rng.f64() * 0.15 * slot as f64) as Micros;
        let slot_end = (window_start + slot * (i as Micros + 1)).min(window_end);
        let s = Slot {
            start: slot_start,
            end: slot_end,
            window_end,
        };
        let mut attack_rng = SimRng::derive(seed, kind.name(), i as u64);
        if kind == AttackKind::Mirai {
            let cam = choose_device(kind, fleet, &mut used, &mut rng);
            out.extend(mirai::campaign(cam, fleet, &s, &mut attack_rng, seed));
            continue;
        }
        let dev = if kind == AttackKind::IdentityNewDevice {
            None
        } else {
            Some(choose_device(kind, fleet, &mut used, &mut rng))
        };
        if let Some(a) = build(kind, dev, fleet, &s, attack_rng, seed, out.len()) {
            out.push(a);
        }
    }
    out
}

/// The time an attack instance may use.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub start: Micros,
    pub end: Micros,
    /// Long-running attacks (beacons, changed behaviour) may continue up to here.
    pub window_end: Micros,
}

impl Slot {
    /// Up to `nominal` seconds, but within 80 % of the slot.
    pub fn bounded(&self, nominal_s: f64) -> Micros {
        let cap = ((self.end - self.start) as f64 * 0.8) as Micros;
        self.start + ((nominal_s * SEC as f64) as Micros).min(cap).max(2 * SEC)
    }

    /// Up to `nominal` seconds, allowed to run past the slot until the attack window closes.
    pub fn long(&self, nominal_s: f64) -> Micros {
        (self.start + (nominal_s * SEC as f64) as Micros)
            .min(self.window_end)
            .max(self.start + 2 * SEC)
    }
}

fn build(
    kind: AttackKind,
    dev: Option<usize>,
    fleet: &[Device],
    slot: &Slot,
    rng: SimRng,
    seed: u64,
    ordinal: usize,
) -> Option<Attack> {
    let actor = dev.map(Actor::Fleet);
    match kind {
        AttackKind::ScanHorizontal => Some(mirai::scan(actor?, slot, rng, None)),
        AttackKind::BruteforceTelnet => Some(mirai::telnet(actor?, slot, rng, None)),
        AttackKind::Flood => Some(mirai::flood(actor?, slot, rng, None)),
        AttackKind::Beacon => Some(c2::beacon(actor?, slot, rng, None)),
        AttackKind::BruteforceSsh => Some(credential::ssh(actor?, slot, rng)),
        AttackKind::BruteforceMqtt => Some(credential::mqtt(actor?, slot, rng)),
        AttackKind::DnsDga => Some(c2::dga(actor?, slot, rng)),
        AttackKind::DnsTunnel => Some(c2::tunnel(actor?, slot, rng)),
        AttackKind::Exfil => Some(c2::exfil(actor?, slot, rng)),
        AttackKind::Lateral => Some(movement::lateral(actor?, slot, rng)),
        AttackKind::PolicyViolation => Some(movement::policy(actor?, slot, rng)),
        AttackKind::IdentityNewDevice => {
            Some(identity::new_device(fleet.len() + ordinal, slot, rng, seed))
        }
        AttackKind::IdentityDuplicate => identity::duplicate(dev?, fleet, slot, rng, seed),
        AttackKind::FirmwareBehaviourChange => {
            Some(identity::firmware_change(actor?, fleet, slot, rng))
        }
        AttackKind::Mirai | AttackKind::All => None,
    }
}

/// Runs the attack's next chunk at `t`; returns when the next one is due.
pub fn step(ctx: &mut Ctx<'_>, a: &mut Attack, t: Micros) -> Option<Micros> {
    match a.kind {
        AttackKind::ScanHorizontal => mirai::scan_step(ctx, a, t),
        AttackKind::BruteforceTelnet => mirai::telnet_step(ctx, a, t),
        AttackKind::Flood => mirai::flood_step(ctx, a, t),
        AttackKind::Beacon => c2::beacon_step(ctx, a, t),
        AttackKind::BruteforceSsh => credential::ssh_step(ctx, a, t),
        AttackKind::BruteforceMqtt => credential::mqtt_step(ctx, a, t),
        AttackKind::DnsDga => c2::dga_step(ctx, a, t),
        AttackKind::DnsTunnel => c2::tunnel_step(ctx, a, t),
        AttackKind::Exfil => c2::exfil_step(ctx, a, t),
        AttackKind::Lateral => movement::lateral_step(ctx, a, t),
        AttackKind::PolicyViolation => movement::policy_step(ctx, a, t),
        AttackKind::IdentityNewDevice => identity::new_device_step(ctx, a, t),
        AttackKind::IdentityDuplicate => identity::duplicate_step(ctx, a, t),
        AttackKind::FirmwareBehaviourChange => identity::firmware_step(ctx, a, t),
        AttackKind::Mirai | AttackKind::All => None,
    }
}

/// A truth record's content before ids are assigned.
pub struct TruthDraft {
    pub kind: &'static str,
    pub devices: Vec<String>,
    pub ips: Vec<String>,
    pub start: Micros,
    pub end: Micros,
    pub targets: Vec<String>,
    pub notes: String,
}

impl Attack {
    /// The truth for this attack from the packet span it produced; `None` if it produced nothing.
    pub fn truth(&self, span: Span, fleet: &[Device]) -> Option<TruthDraft> {
        let (first, last) = (span.first?, span.last?);
        let dev = match &self.actor {
            Actor::Fleet(i) => fleet.get(*i)?,
            Actor::Own(d) => d.as_ref(),
        };
        let mut ips = vec![dev.ip.to_string()];
        ips.extend(self.extra_ips.iter().map(|ip| ip.to_string()));
        let notes = match self.campaign {
            Some(c) => format!("{c}: {}", self.notes),
            None => self.notes.clone(),
        };
        Some(TruthDraft {
            kind: self.kind.name(),
            devices: vec![dev.mac_string()],
            ips,
            start: first,
            end: last,
            targets: self.targets.clone(),
            notes,
        })
    }

    /// Rogue devices an attack brings onto the LAN (for the device list).
    pub fn own_device(&self) -> Option<&Device> {
        match (&self.actor, self.kind) {
            (Actor::Own(d), AttackKind::IdentityNewDevice) => Some(d.as_ref()),
            _ => None,
        }
    }
}
