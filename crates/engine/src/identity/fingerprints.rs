//! The passive fingerprint rule table: observations in (a field and the text
//! seen, e.g. `hostname` = `DCS-935L`) → [`ClassEvidence`] hints out.
//!
//! The rules are data: `rules.txt` beside this file, embedded at build time
//! and parsed once (a malformed line is a bug caught by the tests, and is
//! skipped at run time). Matching is ASCII case-insensitive; a rule may cut
//! a model or firmware token out of the observed text. Limits: observed text
//! is cut to [`MAX_TEXT`](super::config::MAX_TEXT) characters before it is
//! stored in evidence.
#![deny(clippy::indexing_slicing)]

use std::sync::OnceLock;

use super::model::DeviceClass;
use super::record::{ClassEvidence, EvidenceSource};
use super::text::{bounded, find_ascii_ci, token_after, token_from};

/// The embedded rule table.
pub const RULES_TEXT: &str = include_str!("rules.txt");

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    DhcpVendor,
    DhcpParams,
    Hostname,
    Domain,
    UserAgent,
    HttpServer,
    SsdpServer,
    SsdpType,
    MdnsService,
    MqttClient,
    MqttTopic,
    Service,
    Oui,
}

impl Field {
    const ALL: [(Field, &'static str); 13] = [
        (Field::DhcpVendor, "dhcp_vendor"),
        (Field::DhcpParams, "dhcp_params"),
        (Field::Hostname, "hostname"),
        (Field::Domain, "domain"),
        (Field::UserAgent, "user_agent"),
        (Field::HttpServer, "http_server"),
        (Field::SsdpServer, "ssdp_server"),
        (Field::SsdpType, "ssdp_type"),
        (Field::MdnsService, "mdns_service"),
        (Field::MqttClient, "mqtt_client"),
        (Field::MqttTopic, "mqtt_topic"),
        (Field::Service, "service"),
        (Field::Oui, "oui"),
    ];

    /// The name used in `rules.txt` and in evidence (`hostname=…`).
    pub fn name(self) -> &'static str {
        Field::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }

    fn parse(s: &str) -> Option<Field> {
        Field::ALL.iter().find(|(_, n)| *n == s).map(|(f, _)| *f)
    }

    fn index(self) -> usize {
        Field::ALL.iter().position(|(f, _)| *f == self).unwrap_or(0)
    }
}

/// How a rule's pattern is compared with the observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// The name itself or any subdomain of it.
    Domain(String),
}

impl Match {
    fn matches(&self, value: &str) -> bool {
        let v = value.as_bytes();
        match self {
            Match::Exact(p) => v.eq_ignore_ascii_case(p.as_bytes()),
            Match::Prefix(p) => v
                .get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes())),
            Match::Suffix(p) => v
                .len()
                .checked_sub(p.len())
                .and_then(|at| v.get(at..))
                .is_some_and(|t| t.eq_ignore_ascii_case(p.as_bytes())),
            Match::Contains(p) => find_ascii_ci(value, p).is_some(),
            Match::Domain(p) => {
                let value = value.trim_end_matches('.');
                let v = value.as_bytes();
                if v.eq_ignore_ascii_case(p.as_bytes()) {
                    return true;
                }
                let Some(at) = v.len().checked_sub(p.len() + 1) else {
                    return false;
                };
                v.get(at) == Some(&b'.')
                    && v.get(at + 1..)
                        .is_some_and(|t| t.eq_ignore_ascii_case(p.as_bytes()))
            }
        }
    }
}

/// Where a model or firmware hint comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extract {
    Literal(String),
    /// The token starting at this marker.
    From(String),
    /// The token after this marker.
    After(String),
}

impl Extract {
    fn apply(&self, value: &str) -> Option<String> {
        match self {
            Extract::Literal(s) => Some(s.clone()),
            Extract::From(m) => token_from(value, m),
            Extract::After(m) => token_after(value, m),
        }
    }

    fn parse(s: &str) -> Option<Extract> {
        if s == "-" {
            None
        } else if let Some(m) = s.strip_prefix("from:") {
            Some(Extract::From(m.to_string()))
        } else if let Some(m) = s.strip_prefix("after:") {
            Some(Extract::After(m.to_string()))
        } else {
            Some(Extract::Literal(s.to_string()))
        }
    }
}

/// One line of the rule table.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub field: Field,
    pub pattern: Match,
    pub class: Option<DeviceClass>,
    pub vendor: Option<String>,
    pub model: Option<Extract>,
    pub firmware: Option<Extract>,
    pub weight: f64,
}

/// A line of the rule table that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules.txt:{line}: {what}")]
pub struct RuleError {
    pub line: usize,
    pub what: String,
}

/// Parses one non-comment line of the rule table.
fn parse_rule(text: &str, line: usize) -> Result<Rule, RuleError> {
    let err = |what: String| RuleError { line, what };
    let cols: Vec<&str> = text.split('|').map(str::trim).collect();
    let [field, kind, pattern, class, vendor, model, firmware, weight] = cols.as_slice() else {
        return Err(err(format!("expected 8 columns, found {}", cols.len())));
    };
    let field = Field::parse(field).ok_or_else(|| err(format!("unknown field `{field}`")))?;
    let p = pattern.to_ascii_lowercase();
    if p.is_empty() {
        return Err(err("empty pattern".to_string()));
    }
    let pattern = match *kind {
        "exact" => Match::Exact(p),
        "prefix" => Match::Prefix(p),
        "suffix" => Match::Suffix(p),
        "contains" => Match::Contains(p),
        "domain" => Match::Domain(p),
        other => return Err(err(format!("unknown match kind `{other}`"))),
    };
    let class = match *class {
        "-" => None,
        c => Some(c.parse().map_err(|e| err(format!("{e}")))?),
    };
    let vendor = (*vendor != "-").then(|| vendor.to_string());
    let weight: f64 = weight
        .parse()
        .map_err(|_| err(format!("weight `{weight}` is not a number")))?;
    if !(weight > 0.0 && weight <= 1.0) {
        return Err(err(format!("weight {weight} is outside (0, 1]")));
    }
    Ok(Rule {
        field,
        pattern,
        class,
        vendor,
        model: Extract::parse(model),
        firmware: Extract::parse(firmware),
        weight,
    })
}

/// Parses the whole table: the rules and the errors of lines that did not parse.
pub fn parse_rules(text: &str) -> (Vec<Rule>, Vec<RuleError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_text = line.trim();
        if line_text.is_empty() || line_text.starts_with('#') {
            continue;
        }
        match parse_rule(line_text, i + 1) {
            Ok(r) => rules.push(r),
            Err(e) => errors.push(e),
        }
    }
    (rules, errors)
}

/// The rules grouped by field, parsed once.
pub struct RuleSet {
    by_field: Vec<Vec<Rule>>,
    /// `service` rules as (server side, name) and (server side, transport,
    /// port), so a connection whose service no rule names costs no lookup.
    service_names: Vec<(bool, String)>,
    service_ports: Vec<(bool, String, u16)>,
}

impl RuleSet {
    pub fn from_text(text: &str) -> Self {
        let mut by_field: Vec<Vec<Rule>> = vec![Vec::new(); Field::ALL.len()];
        let mut service_names = Vec::new();
        let mut service_ports = Vec::new();
        for r in parse_rules(text).0 {
            if let (Field::Service, Match::Exact(p)) = (r.field, &r.pattern) {
                if let Some((side, rest)) = p.split_once(':') {
                    let server = side == "server";
                    match rest.split_once('/').map(|(t, n)| (t, n.parse::<u16>())) {
                        Some((transport, Ok(port))) => {
                            service_ports.push((server, transport.to_string(), port))
                        }
                        _ => service_names.push((server, rest.to_string())),
                    }
                }
            }
            if let Some(v) = by_field.get_mut(r.field.index()) {
                v.push(r);
            }
        }
        RuleSet {
            by_field,
            service_names,
            service_ports,
        }
    }

    /// Whether a `service` rule names `name` on this side (`server:NAME`).
    pub fn knows_service(&self, server: bool, name: &str) -> bool {
        self.service_names
            .iter()
            .any(|(s, n)| *s == server && n.eq_ignore_ascii_case(name))
    }

    /// Whether a `service` rule names this port (`server:tcp/554`).
    pub fn knows_port(&self, server: bool, transport: &str, port: u16) -> bool {
        self.service_ports
            .iter()
            .any(|(s, t, p)| *s == server && *p == port && t == transport)
    }

    /// The embedded table.
    pub fn builtin() -> &'static RuleSet {
        static RULES: OnceLock<RuleSet> = OnceLock::new();
        RULES.get_or_init(|| RuleSet::from_text(RULES_TEXT))
    }

    /// Every hint the rules give for `value` seen in `field`, as evidence of `source`.
    pub fn hints(
        &self,
        field: Field,
        source: EvidenceSource,
        value: &str,
        out: &mut Vec<ClassEvidence>,
    ) {
        let Some(rules) = self.by_field.get(field.index()) else {
            return;
        };
        for r in rules.iter().filter(|r| r.pattern.matches(value)) {
            out.push(ClassEvidence {
                source,
                observed: bounded(&format!("{}={value}", field.name())),
                class: r.class,
                vendor: r.vendor.clone(),
                model: r.model.as_ref().and_then(|m| m.apply(value)),
                firmware: r.firmware.as_ref().and_then(|m| m.apply(value)),
                weight: r.weight,
            });
        }
    }

    /// The canonical vendor name for an OUI organization, if a rule knows it.
    pub fn canonical_vendor(&self, organization: &str) -> Option<&str> {
        self.by_field
            .get(Field::Oui.index())?
            .iter()
            .find(|r| r.pattern.matches(organization))
            .and_then(|r| r.vendor.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(field: Field, value: &str) -> Vec<ClassEvidence> {
        let mut v = Vec::new();
        RuleSet::builtin().hints(field, EvidenceSource::Dhcp, value, &mut v);
        v
    }

    #[test]
    fn every_line_of_the_table_parses() {
        let (rules, errors) = parse_rules(RULES_TEXT);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(rules.len() > 150, "{}", rules.len());
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let (_, errors) =
            parse_rules("hostname | prefix | x | camera | - | - | - | 2\nfoo | bar\n");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 1);
        assert!(
            errors[1].to_string().starts_with("rules.txt:2:"),
            "{}",
            errors[1]
        );
        let (_, errors) = parse_rules("hostname | prefix | x | toaster | - | - | - | 0.5");
        assert!(errors[0].what.contains("toaster"));
    }

    #[test]
    fn hostnames_give_class_vendor_and_model() {
        let h = hints(Field::Hostname, "DCS-935L");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].class, Some(DeviceClass::Camera));
        assert_eq!(h[0].vendor.as_deref(), Some("D-Link"));
        assert_eq!(h[0].model.as_deref(), Some("DCS-935L"));
        assert_eq!(h[0].observed, "hostname=DCS-935L");
        assert_eq!(
            hints(Field::Hostname, "HS110(EU)")[0].model.as_deref(),
            Some("HS110")
        );
        assert!(hints(Field::Hostname, "my-laptop").is_empty());
    }

    #[test]
    fn domains_match_on_label_boundaries() {
        assert_eq!(
            hints(Field::Domain, "www.fitbit.com")[0].class,
            Some(DeviceClass::Sensor)
        );
        assert_eq!(
            hints(Field::Domain, "fitbit.com.")[0].vendor.as_deref(),
            Some("Fitbit")
        );
        assert!(hints(Field::Domain, "notfitbit.com").is_empty());
        assert!(hints(Field::Domain, "fitbit.com.evil.example").is_empty());
    }

    #[test]
    fn user_agents_carry_firmware_versions() {
        let h = hints(
            Field::UserAgent,
            "Mozilla/5.0 (X11; Linux armv7l) Chrome/114.0.0.0 Safari/537.36 CrKey/1.56.500000",
        );
        let cast = h
            .iter()
            .find(|e| e.vendor.as_deref() == Some("Google"))
            .unwrap();
        assert_eq!(cast.class, Some(DeviceClass::VoiceAssistant));
        assert_eq!(cast.firmware.as_deref(), Some("1.56.500000"));
        let ssdp = hints(Field::SsdpServer, "Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0");
        assert_eq!(ssdp[0].firmware.as_deref(), Some("1.9.0"));
        let iphone = hints(
            Field::UserAgent,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
        );
        assert_eq!(iphone[0].firmware.as_deref(), Some("17_1"));
    }

    #[test]
    fn service_rules_are_indexed_by_name_and_port() {
        let r = RuleSet::builtin();
        assert!(r.knows_service(true, "rtsp"));
        assert!(r.knows_service(false, "modbus"));
        assert!(!r.knows_service(false, "ssl"));
        assert!(r.knows_port(true, "tcp", 9100));
        assert!(!r.knows_port(true, "udp", 9100));
        assert!(!r.knows_port(true, "tcp", 443));
    }

    #[test]
    fn oui_organizations_map_to_canonical_vendors() {
        let r = RuleSet::builtin();
        assert_eq!(
            r.canonical_vendor("Hangzhou Hikvision Digital Technology Co.,Ltd."),
            Some("Hikvision")
        );
        assert_eq!(
            r.canonical_vendor("Belkin International Inc."),
            Some("Belkin")
        );
        assert_eq!(r.canonical_vendor("Acme Widgets"), None);
    }
}
