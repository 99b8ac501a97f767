//! Lifecycle and firmware compliance: the inventory ([`DeviceRecord`]s, with
//! the operator's [`DeclaredDevice`] entries taking precedence for vendor,
//! model and firmware), a [`Catalogue`] of products, and the admin services
//! devices answered ([`ExposureTracker`]) in → [`Evidence`] findings
//! (`firmware.eol`, `firmware.outdated`, `exposure.telnet`,
//! `exposure.http_admin`) and a [`ComplianceReport`] out.
//!
//! Patch compliance is the share of devices with a known vendor and firmware
//! matched in the catalogue that are both supported (not past end of life) and
//! on a version without known CVEs. Devices whose firmware is unknown are
//! counted apart, never as compliant.

pub mod catalogue;
pub mod exposure;
pub mod version;

use std::collections::HashMap;

use serde::Serialize;

pub use catalogue::{parse_date, Catalogue, CatalogueError, Product, VulnerableRange};
pub use exposure::{AdminService, ExposedService, ExposureTracker, HostExposure};
pub use version::compare_versions;

use crate::evidence::{AttrValue, Evidence};
use crate::identity::{DeclaredDevice, DeviceKey, DeviceRecord};
use crate::time::Timestamp;

/// The sample catalogue shipped with gatewatch (YAML, [`Catalogue`] format):
/// the products of the simulated fleet, see the file's header.
pub const BUILTIN_CATALOGUE_YAML: &str = include_str!("../../data/lifecycle-catalogue.yaml");

/// The fleet's lifecycle figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ComplianceReport {
    pub devices: usize,
    /// Devices whose vendor and firmware are known (observed or declared).
    pub firmware_known: usize,
    /// Of those, devices matched to a catalogue product.
    pub in_catalogue: usize,
    pub end_of_life: usize,
    pub vulnerable: usize,
    /// Older than the product's latest release (vulnerable or not).
    pub not_latest: usize,
    pub compliant: usize,
    /// `compliant / in_catalogue` × 100; `None` when nothing matched.
    pub patch_compliance_pct: Option<f64>,
    pub exposed_telnet: usize,
    pub exposed_http: usize,
}

/// Vendor, model and firmware of a device as the assessment sees them.
struct Effective<'a> {
    vendor: Option<&'a str>,
    model: Option<&'a str>,
    firmware: Option<&'a str>,
}

fn effective<'a>(d: &'a DeviceRecord, declared: Option<&'a DeclaredDevice>) -> Effective<'a> {
    let pick = |decl: Option<&'a String>, obs: Option<&'a String>| {
        decl.or(obs)
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    Effective {
        vendor: pick(declared.and_then(|x| x.vendor.as_ref()), d.vendor.as_ref()),
        model: pick(declared.and_then(|x| x.model.as_ref()), d.model.as_ref()),
        firmware: pick(
            declared.and_then(|x| x.firmware.as_ref()),
            d.firmware.as_ref(),
        ),
    }
}

/// Assesses every device at packet time `now`; findings go to `out`.
pub fn assess(
    devices: &[DeviceRecord],
    declared: &[DeclaredDevice],
    catalogue: &Catalogue,
    exposure: &ExposureTracker,
    now: Timestamp,
    out: &mut Vec<Evidence>,
) -> ComplianceReport {
    let declared_by_key: HashMap<DeviceKey, &DeclaredDevice> = declared
        .iter()
        .filter_map(|d| d.key.map(|k| (k, d)))
        .collect();
    let mut report = ComplianceReport {
        devices: devices.len(),
        ..ComplianceReport::default()
    };
    for d in devices {
        let eff = effective(d, declared_by_key.get(&d.key).copied());
        let product = eff.vendor.and_then(|v| catalogue.lookup(v, eff.model));
        let ip = d.current_ip();
        let finding = |kind: &str, severity: u8, summary: String| {
            let mut e = Evidence::new(now, d.key, kind, "lifecycle", severity, 0.9, summary);
            e.ip = ip;
            if let Some(v) = eff.vendor {
                e.attrs.insert("vendor".into(), v.into());
            }
            if let Some(m) = eff.model {
                e.attrs.insert("model".into(), m.into());
            }
            if let Some(f) = eff.firmware {
                e.attrs.insert("firmware".into(), f.into());
            }
            e
        };
        let default_creds = product.is_some_and(|p| p.default_credentials);
        if let (Some(_), Some(fw)) = (eff.vendor, eff.firmware) {
            report.firmware_known += 1;
            if let Some(p) = product {
                report.in_catalogue += 1;
                let name = product_name(&eff);
                let eol = p.end_of_life_ts().filter(|t| *t <= now);
                if let (Some(_), Some(date)) = (eol, p.end_of_life.as_deref()) {
                    report.end_of_life += 1;
                    out.push(
                        finding(
                            "firmware.eol",
                            5,
                            format!("{name} is past end of vendor support ({date})"),
                        )
                        .with_attr("end_of_life", date),
                    );
                }
                let cves = p.cves_for(fw);
                let behind = p
                    .latest
                    .as_deref()
                    .filter(|l| compare_versions(fw, l).is_lt());
                if behind.is_some() {
                    report.not_latest += 1;
                }
                if !cves.is_empty() {
                    report.vulnerable += 1;
                }
                if !cves.is_empty() || behind.is_some() {
                    let latest = behind.map_or(String::new(), |l| format!(", latest {l}"));
                    let known = if cves.is_empty() {
                        String::new()
                    } else {
                        format!("; known vulnerabilities {}", cves.join(", "))
                    };
                    let mut e = finding(
                        "firmware.outdated",
                        if cves.is_empty() { 3 } else { 6 },
                        format!("{name} runs firmware {fw}{latest}{known}"),
                    );
                    if !cves.is_empty() {
                        let list = cves.iter().map(|c| AttrValue::from(*c)).collect();
                        e.attrs.insert("cves".into(), AttrValue::List(list));
                    }
                    if let Some(l) = behind {
                        e.attrs.insert("latest".into(), l.into());
                    }
                    out.push(e);
                }
                if eol.is_none() && cves.is_empty() {
                    report.compliant += 1;
                }
            }
        }
        let exposed = ip.and_then(|ip| exposure.get(&ip));
        for s in exposed.map(|h| h.services.as_slice()).unwrap_or_default() {
            let (kind, base) = match s.service {
                AdminService::Telnet => {
                    report.exposed_telnet += 1;
                    ("exposure.telnet", 6)
                }
                AdminService::Http => {
                    report.exposed_http += 1;
                    ("exposure.http_admin", 4)
                }
            };
            let creds = if default_creds {
                "; the product ships with default credentials"
            } else {
                ""
            };
            let mut e = finding(
                kind,
                if default_creds { base + 2 } else { base },
                format!(
                    "device answers {} on port {} ({} connection{}){creds}",
                    s.service.as_str(),
                    s.port,
                    s.connections,
                    if s.connections == 1 { "" } else { "s" }
                ),
            )
            .with_attr("port", s.port)
            .with_attr("connections", s.connections)
            .with_attr("default_credentials", default_creds);
            e.ts = s.first_seen.max(d.first_seen);
            e.add_uid(&s.example_uid);
            out.push(e);
        }
    }
    report.patch_compliance_pct = (report.in_catalogue > 0)
        .then(|| report.compliant as f64 * 100.0 / report.in_catalogue as f64);
    report
}

fn product_name(eff: &Effective<'_>) -> String {
    match (eff.vendor, eff.model) {
        (Some(v), Some(m)) => format!("{v} {m}"),
        (Some(v), None) => v.to_string(),
        _ => "device".to_string(),
    }
}
