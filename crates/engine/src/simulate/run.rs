//! The event loop: devices' activities and attack steps in one time-ordered queue.
//!
//! Config in → packets into the sink (via the pending queue) and the summary
//! out. Each event runs at its time, writes the packets of what it starts and
//! schedules its successor; before an event runs, every pending packet up to
//! its time is released, which keeps the output in time order. Events after
//! the capture end are not run; sessions already started finish.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::attacks::{self, Attack, Ctx, LanDirectory};
use super::benign::{self, Activity, Schedule};
use super::emit::{Micros, SEC};
use super::fleet::{self, Device, DeviceClass};
use super::net::{mac_with_oui, Host, BROKER_IP, CLINICAL_IP, GATEWAY_IP, HMI_IP, NVR_IP};
use super::net_services::{Infra, Net};
use super::rng::SimRng;
use super::{SimConfig, SimDevice, SimPacket, SimSummary, TruthRecord};
use crate::sink::Sink;

/// Devices join within this long after the capture starts.
const JOIN_SPREAD: Micros = 90 * SEC;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Join(usize),
    Activity { dev: usize, sched: usize },
    Attack(usize),
}

struct Queue {
    heap: BinaryHeap<Reverse<(Micros, u64, Event)>>,
    seq: u64,
}

impl Queue {
    fn push(&mut self, t: Micros, ev: Event) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, ev)));
    }
}

fn infrastructure(seed: u64) -> (Infra, Vec<SimDevice>) {
    let mut rng = SimRng::derive(seed, "infrastructure", 0);
    let mut host = |oui: [u8; 3], ip, ttl| Host {
        mac: mac_with_oui(oui, &mut rng),
        ip,
        ttl,
    };
    let infra = Infra {
        gateway: host([0x24, 0xa4, 0x3c], GATEWAY_IP, 64),
        broker: host([0xdc, 0xa6, 0x32], BROKER_IP, 64),
        nvr: host([0xc0, 0x56, 0xe3], NVR_IP, 64),
        hmi: host([0x00, 0x1b, 0x1b], HMI_IP, 128),
        clinical: host([0xf8, 0xbc, 0x12], CLINICAL_IP, 64),
    };
    let describe = |h: Host, class, vendor, model, hostname: &str| SimDevice {
        mac: super::net::mac_string(&h.mac),
        ip: h.ip,
        class,
        vendor,
        model,
        hostname: hostname.to_string(),
        enrolled: true,
    };
    let list = vec![
        describe(
            infra.gateway,
            DeviceClass::Gateway,
            "Ubiquiti",
            "EdgeRouter X (DHCP, DNS)",
            "gateway",
        ),
        describe(
            infra.broker,
            DeviceClass::MqttBroker,
            "Raspberry Pi Foundation",
            "Raspberry Pi 4 (Mosquitto)",
            "mqtt-broker",
        ),
        describe(
            infra.nvr,
            DeviceClass::Nvr,
            "Hikvision",
            "DS-7608NI-K2",
            "nvr",
        ),
        describe(
            infra.hmi,
            DeviceClass::Hmi,
            "Siemens",
            "SIMATIC IPC477E (WinCC)",
            "hmi-line1",
        ),
        describe(
            infra.clinical,
            DeviceClass::ClinicalGateway,
            "Dell",
            "PowerEdge R650 (HL7 interface engine)",
            "hl7-engine",
        ),
    ];
    (infra, list)
}

fn describe(d: &Device, enrolled: bool) -> SimDevice {
    SimDevice {
        mac: d.mac_string(),
        ip: d.ip,
        class: d.class(),
        vendor: d.profile.vendor,
        model: d.profile.model,
        hostname: d.hostname.clone(),
        enrolled,
    }
}

pub fn run(cfg: &SimConfig, out: &mut impl Sink<SimPacket>) -> SimSummary {
    let start = cfg.start.as_nanos().div_euclid(1000);
    let end = start + (cfg.hours * 3600.0 * SEC as f64) as Micros;
    let mut fleet = fleet::build(cfg.devices, cfg.seed);
    let (infra, infra_list) = infrastructure(cfg.seed);
    let lan = LanDirectory::new(&fleet, &infra);
    let mut attack_list = attacks::plan(&cfg.attacks, &fleet, start, end, cfg.seed);
    let mut net = Net::new(cfg.seed, start, infra, attack_list.len());
    net.printers = fleet
        .iter()
        .filter(|d| d.class() == DeviceClass::Printer)
        .map(Device::host)
        .collect();
    let schedules: Vec<Vec<Schedule>> = fleet.iter().map(benign::schedules).collect();

    let mut queue = Queue {
        heap: BinaryHeap::new(),
        seq: 0,
    };
    let mut join_rng = SimRng::derive(cfg.seed, "join", 0);
    for d in &fleet {
        queue.push(
            start + join_rng.range_i64(0, JOIN_SPREAD),
            Event::Join(d.index),
        );
    }
    for (i, a) in attack_list.iter().enumerate() {
        queue.push(a.start, Event::Attack(i));
    }

    while let Some(Reverse((t, _, ev))) = queue.heap.pop() {
        if t > end {
            break;
        }
        net.em.release_until(t, out);
        match ev {
            Event::Join(i) => {
                let Some(dev) = fleet.get_mut(i) else {
                    continue;
                };
                benign::perform(&mut net, dev, Activity::Join, t);
                let list = schedules.get(i).map(Vec::as_slice).unwrap_or_default();
                for (k, s) in list.iter().enumerate() {
                    queue.push(
                        benign::first_time(s, dev, t),
                        Event::Activity { dev: i, sched: k },
                    );
                }
            }
            Event::Activity { dev: i, sched: k } => {
                let (Some(dev), Some(s)) =
                    (fleet.get_mut(i), schedules.get(i).and_then(|v| v.get(k)))
                else {
                    continue;
                };
                benign::perform(&mut net, dev, s.activity, t);
                queue.push(benign::next_time(s, dev, t), ev);
            }
            Event::Attack(i) => {
                let Some(a) = attack_list.get_mut(i) else {
                    continue;
                };
                net.em.set_tag(Some(i));
                let mut ctx = Ctx {
                    net: &mut net,
                    fleet: &mut fleet,
                    lan: &lan,
                };
                let next = attacks::step(&mut ctx, a, t);
                net.em.set_tag(None);
                if let Some(n) = next {
                    queue.push(n.max(t + 1), ev);
                }
            }
        }
    }
    net.em.release_all(out);
    summarize(&net, &fleet, &attack_list, infra_list)
}

fn summarize(
    net: &Net,
    fleet: &[Device],
    attacks: &[Attack],
    infrastructure: Vec<SimDevice>,
) -> SimSummary {
    let mut drafts: Vec<_> = attacks
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.truth(net.em.span(i), fleet))
        .collect();
    drafts.sort_by_key(|d| (d.start, d.end));
    let secs = |us: Micros| us as f64 / 1e6;
    let truth = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| TruthRecord {
            id: format!("a{}", i + 1),
            kind: d.kind.to_string(),
            devices: d.devices,
            ips: d.ips,
            start: secs(d.start),
            end: secs(d.end),
            targets: d.targets,
            notes: d.notes,
        })
        .collect();
    let mut devices: Vec<SimDevice> = fleet.iter().map(|d| describe(d, true)).collect();
    devices.extend(
        attacks
            .iter()
            .filter_map(Attack::own_device)
            .map(|d| describe(d, false)),
    );
    SimSummary {
        truth,
        packets: net.em.released(),
        bytes: net.em.released_bytes(),
        devices,
        infrastructure,
        first_ts: net.em.first_released(),
        last_ts: net.em.last_released(),
    }
}
