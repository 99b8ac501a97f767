//! Zeek's originator heuristic: a port set (`likely_server_ports`) in → the
//! decision whether a new connection's roles are flipped out.
//!
//! Zeek makes the sender of a connection's first packet the originator, then
//! (`WantConnection` in the TCP and UDP analyzers) flips the roles when that
//! packet looks like it came from a server: for UDP when the source port is a
//! likely server port and the destination port is not; for TCP only when the
//! first packet is not a plain SYN (a partial connection or a SYN-ACK) and the
//! source port is a likely server port — if both ports are, only a non-SYN
//! packet whose source port is the lower one is flipped. A packet to the IPv4
//! broadcast address is never flipped. ICMP and other protocols never flip.
//!
//! The set is two 65536-bit maps (16 KiB), shared by the table.
#![deny(clippy::indexing_slicing)]

use crate::decode::TcpFlags;

const WORDS: usize = 65536 / 64;

/// Ports Zeek's base scripts add to `likely_server_ports` (`redef
/// likely_server_ports += …` in the protocol scripts), as (port, is_tcp).
const ZEEK_DEFAULT: &[(u16, bool)] = &[
    // TCP
    (21, true),    // ftp
    (22, true),    // ssh
    (25, true),    // smtp
    (53, true),    // dns
    (80, true),    // http
    (81, true),    // http
    (88, true),    // krb
    (110, true),   // pop3
    (135, true),   // dce-rpc
    (139, true),   // smb
    (143, true),   // imap
    (389, true),   // ldap
    (443, true),   // ssl
    (445, true),   // smb
    (502, true),   // modbus
    (563, true),   // ssl (nntps)
    (585, true),   // ssl
    (587, true),   // smtp submission
    (614, true),   // ssl
    (631, true),   // http (ipp)
    (636, true),   // ssl (ldaps)
    (989, true),   // ssl (ftps)
    (990, true),   // ssl (ftps)
    (992, true),   // ssl (telnets)
    (993, true),   // ssl (imaps)
    (995, true),   // ssl (pop3s)
    (1080, true),  // http / socks
    (1434, true),  // mysql
    (2811, true),  // gridftp
    (3128, true),  // http proxy
    (3268, true),  // ldap global catalog
    (3306, true),  // mysql
    (3389, true),  // rdp
    (5222, true),  // xmpp
    (5223, true),  // ssl
    (5269, true),  // xmpp
    (5432, true),  // postgresql
    (6666, true),  // irc
    (6667, true),  // irc
    (6668, true),  // irc
    (6669, true),  // irc
    (8000, true),  // http
    (8080, true),  // http
    (8888, true),  // http
    (20000, true), // dnp3
    // UDP
    (53, false),    // dns
    (67, false),    // dhcp server
    (88, false),    // krb
    (123, false),   // ntp
    (137, false),   // netbios-ns
    (161, false),   // snmp
    (162, false),   // snmp trap
    (389, false),   // ldap (cldap)
    (443, false),   // quic
    (514, false),   // syslog
    (1812, false),  // radius
    (2123, false),  // gtpv1-c
    (2152, false),  // gtpv1-u
    (3478, false),  // stun
    (3544, false),  // teredo
    (4789, false),  // vxlan
    (5060, false),  // sip
    (5072, false),  // ayiya
    (5247, false),  // capwap
    (5353, false),  // mdns
    (5355, false),  // llmnr
    (6081, false),  // geneve
    (20000, false), // dnp3
];

/// Ports that mark the server side of a TCP or UDP connection.
#[derive(Clone, PartialEq, Eq)]
pub struct LikelyServerPorts {
    tcp: Box<[u64; WORDS]>,
    udp: Box<[u64; WORDS]>,
}

impl std::fmt::Debug for LikelyServerPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |m: &[u64; WORDS]| m.iter().map(|w| w.count_ones()).sum::<u32>();
        f.debug_struct("LikelyServerPorts")
            .field("tcp_ports", &count(&self.tcp))
            .field("udp_ports", &count(&self.udp))
            .finish()
    }
}

fn bit(map: &[u64; WORDS], port: u16) -> bool {
    map.get(usize::from(port) / 64)
        .is_some_and(|w| w & (1u64 << (port % 64)) != 0)
}

fn set(map: &mut [u64; WORDS], port: u16) {
    if let Some(w) = map.get_mut(usize::from(port) / 64) {
        *w |= 1u64 << (port % 64);
    }
}

impl LikelyServerPorts {
    /// No likely server ports: the first packet's sender is always the originator.
    pub fn empty() -> Self {
        LikelyServerPorts {
            tcp: Box::new([0; WORDS]),
            udp: Box::new([0; WORDS]),
        }
    }

    /// The ports Zeek's base scripts register.
    pub fn zeek_default() -> Self {
        let mut p = Self::empty();
        for &(port, is_tcp) in ZEEK_DEFAULT {
            if is_tcp {
                p.add_tcp(port);
            } else {
                p.add_udp(port);
            }
        }
        p
    }

    pub fn add_tcp(&mut self, port: u16) {
        set(&mut self.tcp, port);
    }

    pub fn add_udp(&mut self, port: u16) {
        set(&mut self.udp, port);
    }

    pub fn is_tcp(&self, port: u16) -> bool {
        bit(&self.tcp, port)
    }

    pub fn is_udp(&self, port: u16) -> bool {
        bit(&self.udp, port)
    }

    /// Zeek `TCPAnalyzer::WantConnection`: flip the first packet's roles?
    pub(crate) fn flip_tcp(&self, flags: TcpFlags, src_port: u16, dst_port: u16) -> bool {
        let partial_or_syn_ack = !flags.syn() || flags.ack();
        if !partial_or_syn_ack || !self.is_tcp(src_port) {
            return false;
        }
        if self.is_tcp(dst_port) {
            !flags.syn() && src_port < dst_port
        } else {
            true
        }
    }

    /// Zeek `UDPAnalyzer::WantConnection`: flip the first packet's roles?
    pub(crate) fn flip_udp(&self, src_port: u16, dst_port: u16) -> bool {
        self.is_udp(src_port) && !self.is_udp(dst_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_flips_server_source_only() {
        let p = LikelyServerPorts::zeek_default();
        assert!(p.flip_udp(53, 51234));
        assert!(!p.flip_udp(51234, 53));
        assert!(!p.flip_udp(53, 53));
        assert!(!p.flip_udp(40000, 40001));
    }

    #[test]
    fn tcp_flips_partial_and_syn_ack_from_server_port() {
        let p = LikelyServerPorts::zeek_default();
        let syn = TcpFlags(TcpFlags::SYN);
        let syn_ack = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
        let ack = TcpFlags(TcpFlags::ACK);
        assert!(!p.flip_tcp(syn, 80, 51234), "a SYN is never flipped");
        assert!(p.flip_tcp(syn_ack, 80, 51234));
        assert!(p.flip_tcp(ack, 443, 51234));
        assert!(!p.flip_tcp(ack, 51234, 443));
        // Both likely: only non-SYN packets from the lower port.
        assert!(p.flip_tcp(ack, 80, 443));
        assert!(!p.flip_tcp(ack, 443, 80));
        assert!(!p.flip_tcp(syn_ack, 80, 443));
    }
}
