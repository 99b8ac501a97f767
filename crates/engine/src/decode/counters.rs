//! Decode counters: one `u64` per protocol seen and per kind of malformed
//! header, bumped by the decoder on the hot path and listed by dotted name
//! through [`Counters`].
//!
//! Two families: the protocol mix (`decode.ipv4`, `decode.tcp`, …) counts what
//! was decoded; the weirds (`decode.ipv4.bad_header_length`, …) count headers
//! whose lengths contradict each other or the frame. A capture cut by its
//! snaplen is expected and counted apart (`decode.truncated_by_snaplen`,
//! `decode.header_cut_by_snaplen`), never as a weird.
#![deny(clippy::indexing_slicing)]

use crate::counters::Counters;

/// Declares the counters struct and its [`Counters`] visit order in one place,
/// so a field can never be missing from `stats`.
macro_rules! decode_counters {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// What the decoder saw and what it could not make sense of.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct DecodeCounters {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl Counters for DecodeCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f($name, self.$field); )*
            }
        }

        impl DecodeCounters {
            /// Every counter name, in visit order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

decode_counters! {
    /// Packets handed to the decoder.
    packets => "decode.packets",
    /// Packets whose wire length exceeds the captured length (snaplen cut; expected).
    truncated_by_snaplen => "decode.truncated_by_snaplen",
    /// A header that exists on the wire but was cut off by the snaplen, so the
    /// layer could not be decoded completely (expected with header-only captures).
    header_cut_by_snaplen => "decode.header_cut_by_snaplen",
    /// Records claiming a wire length below the captured length (the capture length wins).
    wire_len_below_cap_len => "decode.wire_len_below_cap_len",

    /// Link-layer mix.
    ethernet => "decode.ethernet",
    linux_sll => "decode.linux_sll",
    linux_sll2 => "decode.linux_sll2",
    raw_ip => "decode.raw_ip",
    null_loopback => "decode.null_loopback",
    ppp => "decode.ppp",
    chdlc => "decode.chdlc",
    /// PPI headers (the Ethernet frame inside is decoded and counted too).
    ppi => "decode.ppi",
    /// Link types the decoder does not know (network layer left empty).
    unknown_link_type => "decode.unknown_link_type",
    /// Frames shorter than their link-layer header.
    link_header_truncated => "decode.link_header_truncated",
    /// Frames with at least one 802.1Q / 802.1ad tag.
    vlan_tagged => "decode.vlan_tagged",
    /// Frames with two or more VLAN tags.
    qinq => "decode.qinq",
    /// Frames with more VLAN tags than `MAX_VLAN_TAGS`.
    vlan_too_many_tags => "decode.vlan.too_many_tags",
    /// Frames with an MPLS label stack (the IP packet under it is decoded).
    mpls => "decode.mpls",
    /// MPLS stacks deeper than `MAX_MPLS_LABELS`.
    mpls_too_many_labels => "decode.mpls.too_many_labels",
    /// PPPoE session frames (the IP packet inside is decoded).
    pppoe => "decode.pppoe",
    /// IEEE 802.3 frames (length field instead of an ethertype: LLC, STP, …).
    llc => "decode.llc",
    /// Ethertypes (or SLL/PPP protocols) other than IPv4, IPv6, ARP and VLAN.
    other_ethertype => "decode.other_ethertype",
    /// BSD null/loop frames whose address family is neither IPv4 nor IPv6.
    null_unknown_family => "decode.null.unknown_family",
    /// PPP frames carrying something other than IPv4/IPv6 (LCP, IPCP, …).
    ppp_other_protocol => "decode.ppp.other_protocol",

    /// Network-layer mix.
    arp => "decode.arp",
    ipv4 => "decode.ipv4",
    ipv6 => "decode.ipv6",
    /// ARP that is not Ethernet/IPv4 (other hardware or protocol sizes).
    arp_unsupported => "decode.arp.unsupported",
    /// ARP shorter than its address sizes say.
    arp_truncated => "decode.arp.truncated",
    /// An IP header whose version nibble does not match the link's promise.
    ip_bad_version => "decode.ip.bad_version",
    /// IPv4 header longer than the frame on the wire.
    ipv4_truncated_header => "decode.ipv4.truncated_header",
    /// IPv4 IHL below 5 (header shorter than 20 bytes).
    ipv4_bad_header_length => "decode.ipv4.bad_header_length",
    /// IPv4 total length smaller than the header length.
    ipv4_bad_total_length => "decode.ipv4.bad_total_length",
    /// IPv4 total length 0 (TCP segmentation offload); the frame length is used.
    ipv4_zero_total_length => "decode.ipv4.zero_total_length",
    /// IPv4 total length beyond the end of the frame on the wire.
    ipv4_total_length_exceeds_capture => "decode.ipv4.total_length_exceeds_capture",
    /// IPv4 fragments (first and later).
    ipv4_fragments => "decode.ipv4_fragments",
    /// IPv6 fixed header longer than the frame on the wire.
    ipv6_truncated_header => "decode.ipv6.truncated_header",
    /// IPv6 payload length 0 with a next header other than "no next header"
    /// (jumbogram or segmentation offload); the frame length is used.
    ipv6_zero_payload_length => "decode.ipv6.zero_payload_length",
    /// IPv6 payload length beyond the end of the frame on the wire.
    ipv6_payload_length_exceeds_capture => "decode.ipv6.payload_length_exceeds_capture",
    /// An IPv6 extension header running past the IPv6 payload length.
    ipv6_bad_ext_header => "decode.ipv6.bad_ext_header",
    /// More IPv6 extension headers than `MAX_IPV6_EXT_HEADERS`.
    ipv6_too_many_ext_headers => "decode.ipv6.too_many_ext_headers",
    /// IPv6 packets with a fragment header (first and later fragments).
    ipv6_fragments => "decode.ipv6_fragments",

    /// Transport-layer mix.
    tcp => "decode.tcp",
    udp => "decode.udp",
    icmp => "decode.icmp",
    icmpv6 => "decode.icmpv6",
    /// IP-in-IP (protocol 4 / 41): the tunnel is not decoded, only the outer packet.
    ip_in_ip => "decode.ip_in_ip",
    /// IP protocols not decoded (GRE, ESP, SCTP, IGMP, …).
    other_ip_proto => "decode.other_ip_proto",
    /// Non-first fragments: no transport header to decode.
    later_fragments => "decode.later_fragments",
    /// IP length leaves less than 20 bytes for the TCP header.
    tcp_truncated_header => "decode.tcp.truncated_header",
    /// TCP data offset below 5 or beyond the segment.
    tcp_bad_data_offset => "decode.tcp.bad_data_offset",
    /// IP length leaves less than 8 bytes for the UDP header.
    udp_truncated_header => "decode.udp.truncated_header",
    /// UDP length field below 8.
    udp_bad_length => "decode.udp.bad_length",
    /// UDP length field beyond the IP payload (clamped; not counted for first fragments).
    udp_length_exceeds_ip => "decode.udp.length_exceeds_ip",
    /// IP length leaves less than 4 bytes for the ICMP/ICMPv6 header.
    icmp_truncated_header => "decode.icmp.truncated_header",
}

impl DecodeCounters {
    /// Sum of the counters that flag inconsistent headers (not the protocol mix,
    /// not snaplen truncation).
    pub fn weird_total(&self) -> u64 {
        [
            self.wire_len_below_cap_len,
            self.link_header_truncated,
            self.vlan_too_many_tags,
            self.mpls_too_many_labels,
            self.null_unknown_family,
            self.arp_truncated,
            self.ip_bad_version,
            self.ipv4_truncated_header,
            self.ipv4_bad_header_length,
            self.ipv4_bad_total_length,
            self.ipv4_zero_total_length,
            self.ipv4_total_length_exceeds_capture,
            self.ipv6_truncated_header,
            self.ipv6_zero_payload_length,
            self.ipv6_payload_length_exceeds_capture,
            self.ipv6_bad_ext_header,
            self.ipv6_too_many_ext_headers,
            self.tcp_truncated_header,
            self.tcp_bad_data_offset,
            self.udp_truncated_header,
            self.udp_bad_length,
            self.udp_length_exceeds_ip,
            self.icmp_truncated_header,
        ]
        .iter()
        .sum()
    }
}
