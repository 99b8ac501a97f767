//! Fast membership tests for the identity stage's hot path: configured
//! networks (local, routed fleet) in → precomputed (network, mask) pairs
//! out, so placing an address is a few AND-and-compare steps per packet
//! instead of re-deriving each mask.

use std::net::IpAddr;

use crate::net::IpNet;

/// A set of networks as masks.
#[derive(Debug, Clone, Default)]
pub struct NetMatcher {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl NetMatcher {
    pub fn new<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> Self {
        let mut m = NetMatcher::default();
        for n in nets {
            match n.addr() {
                IpAddr::V4(a) => {
                    let mask = u32::MAX
                        .checked_shl(32 - u32::from(n.prefix()))
                        .unwrap_or(0);
                    m.v4.push((u32::from(a) & mask, mask));
                }
                IpAddr::V6(a) => {
                    let mask = u128::MAX
                        .checked_shl(128 - u32::from(n.prefix()))
                        .unwrap_or(0);
                    m.v6.push((u128::from(a) & mask, mask));
                }
            }
        }
        m
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|(net, mask)| a & mask == *net)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|(net, mask)| a & mask == *net)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::LocalNets;

    #[test]
    fn agrees_with_local_nets() {
        let l = LocalNets::private_ranges();
        let m = NetMatcher::new(l.nets());
        for ip in [
            "10.1.2.3",
            "8.8.8.8",
            "172.31.0.1",
            "172.32.0.1",
            "fd12::1",
            "2001:db8::1",
            "fe80::1",
            "0.0.0.0",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(Some(m.contains(ip)), l.is_local(ip), "{ip}");
        }
        let all = NetMatcher::new(&["0.0.0.0/0".parse::<IpNet>().unwrap()]);
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
    }
}
