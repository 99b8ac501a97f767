//! Service discovery: what a device announces about itself over mDNS /
//! DNS-SD (service types, host names, TXT model and firmware keys) and SSDP
//! (SERVER header, device and service types; M-SEARCH user agents).
//!
//! In: mDNS `DnsRecord`s and `SsdpRecord`s. Out: hints through the rule
//! table and host-name history. Periodic re-announcements cost one probe of
//! the observation cache.
#![deny(clippy::indexing_slicing)]

use super::fingerprints::Field;
use super::record::{ClassEvidence, EvidenceSource};
use super::seen::with_address;
use super::stage::IdentityStage;
use super::table::observation_hash_iter;
use super::text::{bounded, token_at};
use crate::proto::dns::DnsRecord;
use crate::proto::ssdp::SsdpRecord;

const MDNS_PORT: u16 = 5353;
const SSDP_PORT: u16 = 1900;
/// DNS QTYPE ANY: mDNS probes ask it for the names they are about to claim.
const QTYPE_ANY: u16 = 255;
/// Observation-cache tag of whole mDNS records.
const TAG_MDNS: u8 = 0xd1;

impl IdentityStage {
    /// mDNS: announced service types, host names and TXT model/firmware keys
    /// of the responder.
    pub(super) fn mdns(&mut self, r: &DnsRecord) {
        let offered = !r.answers.is_empty() || r.qtype == Some(QTYPE_ANY) || r.aa;
        if !offered {
            return;
        }
        let multicast = r.conn.resp_h.is_multicast();
        let both_mdns = r.conn.orig_p == MDNS_PORT && r.conn.resp_p == MDNS_PORT;
        let sender = if multicast || both_mdns || r.answers.is_empty() {
            r.conn.orig_h
        } else {
            r.conn.resp_h
        };
        // Periodic re-announcements repeat themselves: one probe.
        let names = r.original_query.iter().chain(r.answers.iter());
        let digest = observation_hash_iter(TAG_MDNS, names.map(String::as_str));
        if !self.seen.insert(with_address(digest, sender)) {
            return;
        }
        let Some(k) = self.attributed(sender) else {
            return;
        };
        let names = r.original_query.iter().chain(r.answers.iter());
        let mut hints = Vec::new();
        let mut hosts = Vec::new();
        let mut services = Vec::new();
        for name in names {
            if name.starts_with("TXT ") {
                for txt in txt_strings(name) {
                    txt_hints(txt, &mut hints);
                }
            } else if let Some((instance, service)) = split_service(name) {
                services.push(service.to_string());
                if !instance.is_empty() {
                    hosts.push((instance.to_string(), false));
                }
            } else if let Some(host) = name.strip_suffix(".local") {
                if !host.starts_with('_') && !host.contains('.') && !host.is_empty() {
                    hosts.push((host.to_string(), true));
                }
            }
        }
        for s in services {
            self.hint(k, Field::MdnsService, EvidenceSource::Mdns, &s);
        }
        for (h, is_host_name) in hosts {
            if is_host_name {
                if let Some(e) = self.devices.get_mut(&k) {
                    e.note_hostname(&h, r.ts);
                }
            }
            self.hint(k, Field::Hostname, EvidenceSource::Mdns, &h);
        }
        if !hints.is_empty() {
            self.add_hints(k, &mut hints);
        }
    }

    pub(super) fn ssdp(&mut self, r: &SsdpRecord) {
        let c = &r.conn;
        let is_response = r.status_code.is_some();
        let sender = if is_response && c.resp_p == SSDP_PORT && c.orig_p != SSDP_PORT {
            c.resp_h
        } else {
            c.orig_h
        };
        let Some(k) = self.attributed(sender) else {
            return;
        };
        let search = r.method.as_deref() == Some("M-SEARCH");
        if search {
            if let Some(ua) = &r.user_agent {
                self.hint(k, Field::UserAgent, EvidenceSource::Ssdp, ua);
            }
            return;
        }
        if let Some(s) = &r.server {
            self.hint(k, Field::SsdpServer, EvidenceSource::Ssdp, s);
        }
        for t in [&r.nt, &r.usn, &r.st].into_iter().flatten() {
            // USNs carry the device type after `::`; the uuid alone says nothing.
            let typ = t.rsplit_once("::").map_or(t.as_str(), |(_, ty)| ty);
            if typ.starts_with("urn:") {
                self.hint(k, Field::SsdpType, EvidenceSource::Ssdp, typ);
            }
        }
    }
}

/// `instance._svc._tcp.local` → (`instance`, `_svc._tcp`).
fn split_service(name: &str) -> Option<(&str, &str)> {
    let base = name.strip_suffix(".local")?;
    let proto_at = base.rfind("._tcp").or_else(|| base.rfind("._udp"))?;
    let head = base.get(..proto_at)?;
    let svc_at = head.rfind('_')?;
    let service = base.get(svc_at..)?;
    let instance = head.get(..svc_at)?.trim_end_matches('.');
    if !service.ends_with("._tcp") && !service.ends_with("._udp") {
        return None;
    }
    Some((instance, service))
}

/// The strings of a rendered TXT answer: `TXT 5 hello TXT 3 a b` → `hello`, `a b`.
fn txt_strings(rendered: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = rendered;
    while let Some(after) = rest.strip_prefix("TXT ") {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let Some(len) = after.get(..digits).and_then(|d| d.parse::<usize>().ok()) else {
            break;
        };
        let body = after.get(digits + 1..).unwrap_or_default();
        // The printed length counts the original bytes; fall back to the next
        // ` TXT ` when the text was cut or re-encoded.
        let (text, next) = match (body.get(..len), body.get(len..)) {
            (Some(t), Some(n)) if n.is_empty() || n.starts_with(" TXT ") => (t, n),
            _ => match body.find(" TXT ") {
                Some(at) => (
                    body.get(..at).unwrap_or_default(),
                    body.get(at..).unwrap_or_default(),
                ),
                None => (body, ""),
            },
        };
        out.push(text);
        rest = next.strip_prefix(' ').unwrap_or(next);
    }
    out
}

/// One TXT string (`md=LaserJet Pro M404dn`) → model/firmware hints.
fn txt_hints(body: &str, out: &mut Vec<ClassEvidence>) {
    let (key, value) = match body.split_once('=') {
        Some(kv) => kv,
        None => return,
    };
    let value = bounded(value.trim());
    if value.is_empty() {
        return;
    }
    let (model, firmware) = match key.to_ascii_lowercase().as_str() {
        "md" | "model" | "ty" | "usb_mdl" => (Some(value.clone()), None),
        "fw" | "fv" | "firmware" | "fwversion" => (None, token_at(&value, 0)),
        _ => return,
    };
    out.push(ClassEvidence {
        source: EvidenceSource::Mdns,
        observed: bounded(&format!("txt={body}")),
        class: None,
        vendor: None,
        model,
        firmware,
        weight: 0.5,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_split_into_instance_and_type() {
        assert_eq!(
            split_service("hp531298._ipp._tcp.local"),
            Some(("hp531298", "_ipp._tcp"))
        );
        assert_eq!(split_service("_hap._tcp.local"), Some(("", "_hap._tcp")));
        assert_eq!(
            split_service("philips hue - 2476ff._hap._tcp.local"),
            Some(("philips hue - 2476ff", "_hap._tcp"))
        );
        assert_eq!(split_service("dcs-935l.local"), None);
        assert_eq!(split_service("x._tcp"), None);
    }

    #[test]
    fn txt_keys_give_model_and_firmware() {
        let rendered = "TXT 22 md=LaserJet Pro M404dn TXT 12 fw=002_2310A TXT 3 x=1";
        assert_eq!(
            txt_strings(rendered),
            vec!["md=LaserJet Pro M404dn", "fw=002_2310A", "x=1"]
        );
        assert_eq!(txt_strings("TXT 99 short TXT 2 ab"), vec!["short", "ab"]);
        assert_eq!(txt_strings("TXT x"), Vec::<&str>::new());
        let mut v = Vec::new();
        for t in txt_strings(rendered) {
            txt_hints(t, &mut v);
        }
        txt_hints("nonsense", &mut v);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].model.as_deref(), Some("LaserJet Pro M404dn"));
        assert_eq!(v[1].firmware.as_deref(), Some("002_2310A"));
    }
}
