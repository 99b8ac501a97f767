//! DHCPv6 parsing (RFC 8415), the basics: one UDP datagram in → a
//! [`Dhcpv6Message`] (message type, transaction id, client/server DUID,
//! client FQDN, option request list, vendor class, IA addresses) out.
//!
//! Options are `code u16, len u16, value` TLVs walked with bounds checks.
//! Relay messages (RELAY-FORW/REPL) are unwrapped through their Relay Message
//! option (9) down to the client or server message inside, at most
//! [`MAX_RELAY_DEPTH`] levels. Limits: [`MAX_V6_OPTIONS`] options per level,
//! [`MAX_ORO`] requested codes, [`MAX_IA_ADDRS`] addresses.
#![deny(clippy::indexing_slicing)]

use thiserror::Error;

use super::parser::BoundedList;

/// Relay levels unwrapped (RFC 8415 §7.6 HOP_COUNT_LIMIT is 8).
pub const MAX_RELAY_DEPTH: usize = 8;
/// Options walked per message level.
pub const MAX_V6_OPTIONS: usize = 64;
/// Codes kept from the Option Request option (6).
pub const MAX_ORO: usize = 64;
/// Addresses kept from IA_NA / IA_TA address options.
pub const MAX_IA_ADDRS: usize = 8;
/// IA_NA / IA_TA options looked into per message.
pub const MAX_IAS: usize = 8;

const RELAY_FORW: u8 = 12;
const RELAY_REPL: u8 = 13;
const RELAY_HEADER_LEN: usize = 34;

/// Why a datagram is not a usable DHCPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Dhcpv6Error {
    #[error("DHCPv6 message of {len} bytes is shorter than its 4-byte header; not DHCPv6, or cut")]
    TooShort { len: usize },
    #[error("DHCPv6 message type 0 at offset 0 is reserved; not DHCPv6")]
    ReservedType,
    #[error("DHCPv6 relay message at depth {depth} has a header shorter than 34 bytes or no Relay Message option")]
    BadRelay { depth: usize },
    #[error("DHCPv6 relay chain deeper than {MAX_RELAY_DEPTH} levels; the rest is ignored")]
    RelayTooDeep,
}

/// Problems inside the options (the message is still used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct V6Issues {
    /// An option header or value runs past the end of its container.
    pub truncated_option: bool,
    /// More than [`MAX_V6_OPTIONS`] options at one level.
    pub too_many_options: bool,
    /// A fixed-format option had an impossible length.
    pub bad_option_length: bool,
}

/// One parsed DHCPv6 message (the innermost one when relayed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dhcpv6Message<'a> {
    pub msg_type: u8,
    pub transaction_id: u32,
    /// Relay levels unwrapped to reach this message.
    pub relay_depth: usize,
    /// 1: client DUID.
    pub client_duid: Option<&'a [u8]>,
    /// 2: server DUID.
    pub server_duid: Option<&'a [u8]>,
    /// 39: client FQDN: flags byte, then the name in DNS wire format.
    pub client_fqdn: Option<&'a [u8]>,
    /// 6: option request list, in order.
    pub oro: BoundedList<u16, MAX_ORO>,
    /// 16: enterprise number and the first vendor class data item.
    pub vendor_class: Option<(u32, &'a [u8])>,
    /// Addresses from IA_NA (3) / IA_TA (4) → IAADDR (5).
    pub ia_addrs: BoundedList<[u8; 16], MAX_IA_ADDRS>,
    pub issues: V6Issues,
}

/// Parses one datagram as DHCPv6.
pub fn parse_v6(data: &[u8]) -> Result<Dhcpv6Message<'_>, Dhcpv6Error> {
    let mut msg = Dhcpv6Message::default();
    let mut current = data;
    for depth in 0..=MAX_RELAY_DEPTH {
        let (&msg_type, _) = current
            .split_first()
            .ok_or(Dhcpv6Error::TooShort { len: current.len() })?;
        if msg_type == 0 {
            return Err(Dhcpv6Error::ReservedType);
        }
        if msg_type == RELAY_FORW || msg_type == RELAY_REPL {
            let options = current
                .get(RELAY_HEADER_LEN..)
                .ok_or(Dhcpv6Error::BadRelay { depth })?;
            let inner = options_of(options, &mut msg.issues)
                .find(|(code, _)| *code == 9)
                .map(|(_, v)| v);
            current = inner.ok_or(Dhcpv6Error::BadRelay { depth })?;
            msg.relay_depth = depth + 1;
            continue;
        }
        let (header, options) = current
            .split_first_chunk::<4>()
            .ok_or(Dhcpv6Error::TooShort { len: current.len() })?;
        let [_, t0, t1, t2] = *header;
        msg.msg_type = msg_type;
        msg.transaction_id = u32::from_be_bytes([0, t0, t1, t2]);
        read_options(options, &mut msg);
        return Ok(msg);
    }
    Err(Dhcpv6Error::RelayTooDeep)
}

/// Iterates over `(code, value)` TLVs; stops at the first truncated option or
/// after [`MAX_V6_OPTIONS`], flagging either in `issues`.
fn options_of<'a, 'i>(
    mut rest: &'a [u8],
    issues: &'i mut V6Issues,
) -> impl Iterator<Item = (u16, &'a [u8])> + use<'a, 'i> {
    let mut count = 0usize;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if count >= MAX_V6_OPTIONS {
            issues.too_many_options = true;
            return None;
        }
        let parsed = rest.split_first_chunk::<4>().and_then(|(head, body)| {
            let [c0, c1, l0, l1] = *head;
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            body.split_at_checked(len)
                .map(|(value, after)| (u16::from_be_bytes([c0, c1]), value, after))
        });
        let Some((code, value, after)) = parsed else {
            issues.truncated_option = true;
            rest = &[];
            return None;
        };
        count += 1;
        rest = after;
        Some((code, value))
    })
}

fn read_options<'a>(options: &'a [u8], msg: &mut Dhcpv6Message<'a>) {
    let mut issues = msg.issues;
    let mut ia_options: BoundedList<&'a [u8], MAX_IAS> = BoundedList::default();
    for (code, value) in options_of(options, &mut issues) {
        match code {
            1 => msg.client_duid = msg.client_duid.or(Some(value)),
            2 => msg.server_duid = msg.server_duid.or(Some(value)),
            39 => msg.client_fqdn = msg.client_fqdn.or(Some(value)),
            6 => {
                let codes = value.chunks_exact(2).filter_map(|c| c.try_into().ok());
                msg.oro.extend(codes.map(u16::from_be_bytes));
            }
            16 if msg.vendor_class.is_none() => msg.vendor_class = vendor_class(value),
            // IA_NA: IAID, T1, T2 then options; IA_TA: IAID then options.
            3 => {
                ia_options.push(value.get(12..).unwrap_or_default());
            }
            4 => {
                ia_options.push(value.get(4..).unwrap_or_default());
            }
            _ => {}
        }
    }
    let mut bad_length = false;
    for &ia in ia_options.as_slice() {
        for (code, value) in options_of(ia, &mut issues) {
            if code != 5 {
                continue;
            }
            match value.first_chunk::<16>() {
                Some(a) => {
                    msg.ia_addrs.push(*a);
                }
                None => bad_length = true,
            }
        }
    }
    issues.bad_option_length |= bad_length;
    msg.issues = issues;
}

/// Option 16: enterprise number, then `len u16, data` items; keeps the first item.
fn vendor_class(value: &[u8]) -> Option<(u32, &[u8])> {
    let (enterprise, items) = value.split_first_chunk::<4>()?;
    let first = items
        .split_first_chunk::<2>()
        .and_then(|(len, rest)| rest.get(..usize::from(u16::from_be_bytes(*len))))
        .unwrap_or_default();
    Some((u32::from_be_bytes(*enterprise), first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_is_unwrapped() {
        let inner = [1u8, 0xaa, 0xbb, 0xcc, 0, 6, 0, 2, 0, 23];
        let mut relay = vec![RELAY_FORW, 0];
        relay.extend_from_slice(&[0; 32]);
        relay.extend_from_slice(&[0, 9, 0, inner.len() as u8]);
        relay.extend_from_slice(&inner);
        let msg = parse_v6(&relay).unwrap();
        assert_eq!(msg.msg_type, 1);
        assert_eq!(msg.transaction_id, 0xaabbcc);
        assert_eq!(msg.relay_depth, 1);
        assert_eq!(msg.oro.as_slice(), &[23]);
    }

    #[test]
    fn truncated_option_is_flagged() {
        let msg = parse_v6(&[1, 0, 0, 1, 0, 1, 0, 9, 1, 2]).unwrap();
        assert!(msg.issues.truncated_option);
        assert_eq!(msg.client_duid, None);
    }
}
