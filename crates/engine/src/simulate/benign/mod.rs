//! Benign behaviour: what each device class does on its own, event by event.
//!
//! A device's [`schedules`] list its recurring activities (DHCP renewals,
//! NTP, MQTT telemetry, cloud TLS, discovery, camera streams, Modbus polls,
//! browsing, …) with mean intervals. The simulation loop calls [`perform`]
//! when an activity is due and [`next_time`] for when it is due again;
//! people-driven activities are thinned by time of day ([`activity_level`]).

mod iot;
mod lan;
mod people;

use super::emit::{Micros, SEC};
use super::fleet::{Device, DeviceClass};
use super::net_services::Net;

pub use lan::{arp_announce, dhcp_join};

/// Lease the gateway hands out; clients renew at half of it.
pub const LEASE_SECS: u32 = 4 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Join,
    Renew,
    Arp,
    Ntp,
    Cloud,
    Mqtt,
    HttpCheck,
    Discovery,
    Firmware,
    CameraStream,
    Snapshot,
    ModbusPoll,
    Hl7,
    Browse,
    MdnsQuery,
    PrintJob,
}

/// One recurring activity and how often it happens.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub activity: Activity,
    /// Mean interval in seconds.
    pub mean_s: f64,
    /// Fixed period with ±5 % jitter (true) or Poisson arrivals (false).
    pub periodic: bool,
}

const fn every(activity: Activity, mean_s: f64) -> Schedule {
    Schedule {
        activity,
        mean_s,
        periodic: true,
    }
}

const fn poisson(activity: Activity, mean_s: f64) -> Schedule {
    Schedule {
        activity,
        mean_s,
        periodic: false,
    }
}

/// The recurring activities of `dev` (its join is scheduled separately).
pub fn schedules(dev: &Device) -> Vec<Schedule> {
    let p = dev.profile;
    let class = p.class;
    let mut v = vec![
        every(Activity::Renew, f64::from(LEASE_SECS) / 2.0),
        poisson(Activity::Arp, 1500.0),
        poisson(Activity::Firmware, 4.0 * 86_400.0),
    ];
    v.push(every(Activity::Ntp, p.ntp_period_s));
    if let Some(m) = p.mqtt {
        v.push(every(Activity::Mqtt, m.period_s));
    }
    if !p.cloud.is_empty() {
        let mean = match class {
            DeviceClass::IpCamera => 300.0,
            DeviceClass::SmartPlug => 420.0,
            DeviceClass::Thermostat => 300.0,
            DeviceClass::VoiceAssistant => 150.0,
            DeviceClass::Hub => 600.0,
            DeviceClass::InfusionPump => 1800.0,
            DeviceClass::Printer => 1200.0,
            _ => 900.0,
        };
        v.push(poisson(Activity::Cloud, mean));
    }
    if p.http_check.is_some() {
        let mean = if class == DeviceClass::IpCamera {
            300.0
        } else {
            1800.0
        };
        v.push(poisson(Activity::HttpCheck, mean));
    }
    if p.discovery.ssdp_server.is_some() || p.discovery.mdns_service.is_some() {
        v.push(every(Activity::Discovery, p.discovery.period_s));
    }
    match class {
        DeviceClass::IpCamera => {
            v.push(poisson(Activity::CameraStream, 1200.0));
            v.push(poisson(Activity::Snapshot, 300.0));
        }
        DeviceClass::Plc => v.push(every(Activity::ModbusPoll, 5.0)),
        DeviceClass::InfusionPump => v.push(poisson(Activity::Hl7, 120.0)),
        DeviceClass::Laptop | DeviceClass::Phone => {
            v.push(poisson(
                Activity::Browse,
                if class == DeviceClass::Laptop {
                    240.0
                } else {
                    300.0
                },
            ));
            v.push(poisson(Activity::MdnsQuery, 1800.0));
            if class == DeviceClass::Laptop {
                v.push(poisson(Activity::PrintJob, 4.0 * 3600.0));
            }
        }
        _ => {}
    }
    v
}

/// How active people-driven devices are at `t` (0.03 at night … 1.0 in the day); 1.0 for machines.
pub fn activity_level(class: DeviceClass, t: Micros) -> f64 {
    if !class.follows_people() {
        return 1.0;
    }
    let hour = (t / SEC).rem_euclid(86_400) as f64 / 3600.0;
    match hour {
        h if h < 6.0 => 0.03,
        h if h < 8.0 => 0.03 + (h - 6.0) * 0.45,
        h if h < 18.0 => 1.0,
        h if h < 23.0 => 0.7,
        _ => 0.2,
    }
}

/// When `sched` is due again after `t`.
pub fn next_time(sched: &Schedule, dev: &mut Device, t: Micros) -> Micros {
    let secs = if sched.periodic {
        dev.rng.jitter(sched.mean_s, 0.05)
    } else {
        dev.rng.exp(sched.mean_s)
    };
    t + ((secs.max(0.5)) * SEC as f64) as Micros
}

/// When `sched` first runs after the device joined at `joined`.
pub fn first_time(sched: &Schedule, dev: &mut Device, joined: Micros) -> Micros {
    let boot = matches!(
        sched.activity,
        Activity::Ntp
            | Activity::Mqtt
            | Activity::Cloud
            | Activity::HttpCheck
            | Activity::Discovery
    );
    let secs = if boot {
        1.0 + dev.rng.f64() * sched.mean_s.min(20.0)
    } else {
        2.0 + dev.rng.f64() * sched.mean_s
    };
    joined + (secs * SEC as f64) as Micros
}

fn people_driven(activity: Activity) -> bool {
    matches!(
        activity,
        Activity::Browse
            | Activity::PrintJob
            | Activity::MdnsQuery
            | Activity::Cloud
            | Activity::HttpCheck
    )
}

/// Runs `activity` for `dev` at `t`.
pub fn perform(net: &mut Net, dev: &mut Device, activity: Activity, t: Micros) {
    if people_driven(activity) && !dev.rng.chance(activity_level(dev.class(), t)) {
        return;
    }
    match activity {
        Activity::Join => lan::dhcp_join(net, dev, t),
        Activity::Renew => lan::dhcp_renew(net, dev, t),
        Activity::Arp => lan::arp_refresh(net, dev, t),
        Activity::Ntp => lan::ntp_sync(net, dev, t),
        Activity::Discovery => lan::announce(net, dev, t),
        Activity::MdnsQuery => lan::discover_services(net, dev, t),
        Activity::Cloud => iot::cloud_session(net, dev, t),
        Activity::Mqtt => iot::mqtt_tick(net, dev, t),
        Activity::HttpCheck => iot::http_check(net, dev, t),
        Activity::Firmware => {
            iot::firmware_update(net, dev, t);
        }
        Activity::CameraStream => iot::camera_stream(net, dev, t),
        Activity::Snapshot => iot::camera_snapshot(net, dev, t),
        Activity::ModbusPoll => iot::modbus_poll(net, dev, t),
        Activity::Hl7 => iot::hl7_report(net, dev, t),
        Activity::Browse => people::browse(net, dev, t),
        Activity::PrintJob => people::print_job(net, dev, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_sleep_machines_do_not() {
        let night = 3 * 3600 * SEC;
        let noon = 12 * 3600 * SEC;
        assert!(activity_level(DeviceClass::Phone, night) < 0.1);
        assert_eq!(activity_level(DeviceClass::Phone, noon), 1.0);
        assert_eq!(activity_level(DeviceClass::Plc, night), 1.0);
    }
}
