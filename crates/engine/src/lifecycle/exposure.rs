//! Management services a device answers: connection records in → for each
//! responder, the admin services (telnet, HTTP) it accepted connections on.
//!
//! A service counts as exposed when the device completed a TCP handshake for
//! it (history has `h`) and the analyzers named the service, or the port is a
//! telnet port. Who connected is kept as a count of originators.
//! Limits: [`MAX_EXPOSED_HOSTS`] responders tracked (later ones counted as
//! `lifecycle.exposure_table_full`), [`MAX_SERVICES_PER_HOST`] services each.

use std::net::IpAddr;

use hashbrown::HashMap;

use crate::decode::MacAddr;
use crate::flow::{ConnRecord, Proto};
use crate::time::Timestamp;

/// Responders whose exposed services are remembered.
pub const MAX_EXPOSED_HOSTS: usize = 100_000;
/// Distinct (port, service) pairs kept per responder.
pub const MAX_SERVICES_PER_HOST: usize = 16;

/// Which admin interface a device offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdminService {
    Telnet,
    Http,
}

impl AdminService {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminService::Telnet => "telnet",
            AdminService::Http => "http",
        }
    }
}

/// One admin service a device answered on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposedService {
    pub service: AdminService,
    pub port: u16,
    pub first_seen: Timestamp,
    pub connections: u64,
    /// The first connection's uid, to show in evidence.
    pub example_uid: String,
}

/// Admin services per responding host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostExposure {
    pub mac: Option<MacAddr>,
    pub services: Vec<ExposedService>,
}

/// Tracks which hosts answered admin services.
#[derive(Debug, Default)]
pub struct ExposureTracker {
    hosts: HashMap<IpAddr, HostExposure>,
    pub table_full: u64,
}

/// The admin service a connection was, if any.
fn admin_service(rec: &ConnRecord) -> Option<AdminService> {
    if rec.proto != Proto::Tcp || !rec.history.contains('h') {
        return None;
    }
    if rec.service.contains(&"telnet") || matches!(rec.resp_p, 23 | 2323) {
        return Some(AdminService::Telnet);
    }
    if rec.service.contains(&"http") {
        return Some(AdminService::Http);
    }
    None
}

impl ExposureTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accounts one finished connection.
    pub fn observe(&mut self, rec: &ConnRecord) {
        let Some(service) = admin_service(rec) else {
            return;
        };
        if !self.hosts.contains_key(&rec.resp_h) && self.hosts.len() >= MAX_EXPOSED_HOSTS {
            self.table_full += 1;
            return;
        }
        let host = self
            .hosts
            .entry(rec.resp_h)
            .or_insert_with(|| HostExposure {
                mac: rec.resp_l2_addr,
                services: Vec::new(),
            });
        if let Some(s) = host
            .services
            .iter_mut()
            .find(|s| s.service == service && s.port == rec.resp_p)
        {
            s.connections += 1;
            s.first_seen = s.first_seen.min(rec.ts);
        } else if host.services.len() < MAX_SERVICES_PER_HOST {
            host.services.push(ExposedService {
                service,
                port: rec.resp_p,
                first_seen: rec.ts,
                connections: 1,
                example_uid: rec.uid.clone(),
            });
        }
    }

    /// What `ip` exposes, if anything.
    pub fn get(&self, ip: &IpAddr) -> Option<&HostExposure> {
        self.hosts.get(ip)
    }

    /// Every exposed host, in address order (deterministic output).
    pub fn hosts(&self) -> Vec<(IpAddr, &HostExposure)> {
        let mut v: Vec<_> = self.hosts.iter().map(|(ip, h)| (*ip, h)).collect();
        v.sort_by_key(|(ip, _)| *ip);
        v
    }
}
