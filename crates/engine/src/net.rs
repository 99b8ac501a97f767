//! Address helpers: which networks count as local (Zeek's `Site::local_nets`).
//!
//! In: configured CIDR strings. Out: a membership test used to fill conn.log's
//! `local_orig` / `local_resp`.

use std::net::IpAddr;
use std::str::FromStr;

use thiserror::Error;

/// An IPv4 or IPv6 network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NetParseError {
    #[error("'{0}' is not a network: expected ADDRESS/PREFIX such as 10.0.0.0/8 or fd00::/8")]
    Syntax(String),
    #[error("'{0}': prefix length too long for the address family")]
    Prefix(String),
}

impl FromStr for IpNet {
    type Err = NetParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .parse()
            .map_err(|_| NetParseError::Syntax(s.to_string()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.parse::<u8>()
                .map_err(|_| NetParseError::Syntax(s.to_string()))?
        };
        if prefix > max {
            return Err(NetParseError::Prefix(s.to_string()));
        }
        Ok(IpNet { addr, prefix })
    }
}

impl IpNet {
    /// The network address as configured.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The set of local networks; empty means "unknown" (fields stay unset, as in Zeek).
#[derive(Debug, Clone, Default)]
pub struct LocalNets {
    nets: Vec<IpNet>,
}

impl LocalNets {
    pub fn new(nets: Vec<IpNet>) -> Self {
        LocalNets { nets }
    }

    /// RFC 1918, RFC 6598 shared space, link-local, IPv6 ULA and link-local:
    /// the networks an IoT gateway watches by default.
    pub fn private_ranges() -> Self {
        let nets = [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
        ]
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
        LocalNets { nets }
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The configured networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// `None` when no local networks are configured.
    pub fn is_local(&self, ip: IpAddr) -> Option<bool> {
        if self.nets.is_empty() {
            None
        } else {
            Some(self.nets.iter().any(|n| n.contains(ip)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let l = LocalNets::private_ranges();
        assert_eq!(l.is_local("10.1.2.3".parse().unwrap()), Some(true));
        assert_eq!(l.is_local("8.8.8.8".parse().unwrap()), Some(false));
        assert_eq!(l.is_local("fd12::1".parse().unwrap()), Some(true));
        assert_eq!(l.is_local("2001:db8::1".parse().unwrap()), Some(false));
        assert_eq!(
            LocalNets::default().is_local("10.0.0.1".parse().unwrap()),
            None
        );
    }

    #[test]
    fn parse_errors() {
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("banana".parse::<IpNet>().is_err());
        let n: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(n.contains("1.2.3.4".parse().unwrap()));
    }
}
