//! Attack kinds: the names of `--attacks` and of truth records.
//!
//! A name in → an [`AttackKind`] out. The fourteen truth kinds match the
//! evidence kinds of CONTRACTS.md; `mirai` is a campaign of four of them on
//! one infected camera and `all` stands for every truth kind once.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttackKind {
    ScanHorizontal,
    BruteforceTelnet,
    BruteforceSsh,
    BruteforceMqtt,
    Beacon,
    DnsDga,
    DnsTunnel,
    Exfil,
    Flood,
    Lateral,
    IdentityNewDevice,
    IdentityDuplicate,
    FirmwareBehaviourChange,
    PolicyViolation,
    /// Campaign: scan.horizontal + bruteforce.telnet + beacon + flood on one camera.
    Mirai,
    /// Every truth kind once.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown attack `{name}`: use one of {}, or `mirai`, or `all` (comma-separated)", AttackKind::TRUTH_KINDS.map(AttackKind::name).join(", "))]
pub struct ParseAttackError {
    pub name: String,
}

impl AttackKind {
    /// The kinds that appear in truth records, in canonical order.
    pub const TRUTH_KINDS: [AttackKind; 14] = [
        AttackKind::ScanHorizontal,
        AttackKind::BruteforceTelnet,
        AttackKind::BruteforceSsh,
        AttackKind::BruteforceMqtt,
        AttackKind::Beacon,
        AttackKind::DnsDga,
        AttackKind::DnsTunnel,
        AttackKind::Exfil,
        AttackKind::Flood,
        AttackKind::Lateral,
        AttackKind::IdentityNewDevice,
        AttackKind::IdentityDuplicate,
        AttackKind::FirmwareBehaviourChange,
        AttackKind::PolicyViolation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AttackKind::ScanHorizontal => "scan.horizontal",
            AttackKind::BruteforceTelnet => "bruteforce.telnet",
            AttackKind::BruteforceSsh => "bruteforce.ssh",
            AttackKind::BruteforceMqtt => "bruteforce.mqtt",
            AttackKind::Beacon => "beacon",
            AttackKind::DnsDga => "dns.dga",
            AttackKind::DnsTunnel => "dns.tunnel",
            AttackKind::Exfil => "exfil",
            AttackKind::Flood => "flood",
            AttackKind::Lateral => "lateral",
            AttackKind::IdentityNewDevice => "identity.new_device",
            AttackKind::IdentityDuplicate => "identity.duplicate",
            AttackKind::FirmwareBehaviourChange => "firmware.behaviour_change",
            AttackKind::PolicyViolation => "policy.violation",
            AttackKind::Mirai => "mirai",
            AttackKind::All => "all",
        }
    }

    /// Parses a comma-separated list (`"mirai,dns.dga"`); empty items are ignored.
    pub fn parse_list(list: &str) -> Result<Vec<AttackKind>, ParseAttackError> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl FromStr for AttackKind {
    type Err = ParseAttackError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        [AttackKind::Mirai, AttackKind::All]
            .into_iter()
            .chain(AttackKind::TRUTH_KINDS)
            .find(|k| k.name() == lower)
            .ok_or(ParseAttackError {
                name: s.to_string(),
            })
    }
}

impl fmt::Display for AttackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in AttackKind::TRUTH_KINDS
            .into_iter()
            .chain([AttackKind::Mirai, AttackKind::All])
        {
            assert_eq!(k.name().parse::<AttackKind>(), Ok(k));
        }
        assert_eq!("DNS.DGA".parse::<AttackKind>(), Ok(AttackKind::DnsDga));
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = "portscan"
            .parse::<AttackKind>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("`portscan`") && e.contains("scan.horizontal") && e.contains("mirai"));
        assert_eq!(
            AttackKind::parse_list("mirai, beacon,"),
            Ok(vec![AttackKind::Mirai, AttackKind::Beacon])
        );
    }
}
