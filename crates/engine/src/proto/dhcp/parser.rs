//! DHCPv4 / BOOTP parsing: one UDP datagram in → a [`DhcpMessage`] (fixed
//! BOOTP header plus the options gatewatch logs, borrowed from the datagram)
//! out, or a [`DhcpError`] when the fixed header itself is unusable.
//!
//! Options are walked by hand with bounds checks (RFC 2132 TLVs: pad `0` is
//! one byte, end `255` stops the area). Option overload (52) makes the walker
//! continue into the `file` and then the `sname` field (RFC 2131 §4.1).
//! Problems inside the option areas never fail the message: they are flagged
//! in [`OptionIssues`] and the options read so far are kept.
//!
//! Limits: [`MAX_OPTIONS`] options per message over all areas; a repeated
//! option keeps its first value (flagged as a duplicate), except the
//! parameter request list, whose instances are concatenated (RFC 3396) up to
//! [`MAX_PARAM_LIST`] codes.
#![deny(clippy::indexing_slicing)]

use std::net::Ipv4Addr;

use thiserror::Error;

/// Length of the fixed BOOTP header (op … file), before the magic cookie.
pub const BOOTP_FIXED_LEN: usize = 236;
/// The DHCP magic cookie that follows the fixed header (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Options walked per message, over the options, `file` and `sname` areas;
/// the rest is ignored and flagged (`proto.dhcp.too_many_options`).
pub const MAX_OPTIONS: usize = 128;
/// Codes kept from the parameter request list (55), in order.
pub const MAX_PARAM_LIST: usize = 255;
/// Option codes kept in the order they appeared (the option-order fingerprint).
pub const MAX_OPTION_CODES: usize = MAX_OPTIONS;
/// Addresses kept from list options (routers, DNS servers).
pub const MAX_ADDR_LIST: usize = 8;

const BOOTREQUEST: u8 = 1;
const BOOTREPLY: u8 = 2;
const SNAME_OFFSET: usize = 44;
const SNAME_LEN: usize = 64;
const FILE_OFFSET: usize = SNAME_OFFSET + SNAME_LEN;
const FILE_LEN: usize = 128;

/// Why a datagram is not a DHCPv4/BOOTP message at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DhcpError {
    #[error("DHCP message of {len} bytes is shorter than the {BOOTP_FIXED_LEN}-byte BOOTP header; not BOOTP, or cut by the snaplen")]
    TooShort { len: usize },
    #[error("BOOTP op field at offset 0 is {op}, expected 1 (request) or 2 (reply); not BOOTP")]
    BadOp { op: u8 },
    #[error("BOOTP hlen field at offset 2 is {hlen}, above the 16 bytes of chaddr; not BOOTP")]
    BadHardwareLength { hlen: u8 },
}

/// What went wrong while walking the option areas (the message is still used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionIssues {
    /// No magic cookie after the fixed header: plain BOOTP, no options read.
    pub no_magic_cookie: bool,
    /// An option's length byte is missing or runs past the end of its area.
    pub truncated_option: bool,
    /// More than [`MAX_OPTIONS`] options: the rest was not read.
    pub too_many_options: bool,
    /// The options area ended without an end option (255).
    pub missing_end: bool,
    /// An option with a fixed size (message type, addresses, times) had another length.
    pub bad_option_length: bool,
    /// An option code appeared twice (the first value is kept).
    pub duplicate_option: bool,
    /// Option overload (52) was present and valid.
    pub overload: bool,
}

/// The fixed BOOTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootpHeader {
    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
}

impl BootpHeader {
    pub fn is_request(&self) -> bool {
        self.op == BOOTREQUEST
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr`.
    pub fn hardware_address(&self) -> &[u8] {
        self.chaddr
            .get(..usize::from(self.hlen))
            .unwrap_or(&self.chaddr)
    }
}

/// A list of at most `N` items kept inline, so parsing never allocates; a
/// push beyond `N` is dropped and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundedList<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> Default for BoundedList<T, N> {
    fn default() -> Self {
        BoundedList {
            items: [T::default(); N],
            len: 0,
        }
    }
}

impl<T: Copy + Default, const N: usize> BoundedList<T, N> {
    /// Appends `item`; `false` (and nothing stored) when the list is full.
    pub fn push(&mut self, item: T) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Appends items until the list is full.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        for item in items {
            if !self.push(item) {
                return;
            }
        }
    }

    pub fn as_slice(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The options gatewatch reads (first instance of each), borrowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhcpOptions<'a> {
    /// 53: DHCP message type.
    pub msg_type: Option<u8>,
    /// 12: host name.
    pub host_name: Option<&'a [u8]>,
    /// 81: client FQDN (flags, two rcodes, then the name).
    pub client_fqdn: Option<&'a [u8]>,
    /// 15: domain name.
    pub domain: Option<&'a [u8]>,
    /// 50: requested IP address.
    pub requested_addr: Option<Ipv4Addr>,
    /// 51: lease time in seconds.
    pub lease_time: Option<u32>,
    /// 54: server identifier.
    pub server_id: Option<Ipv4Addr>,
    /// 56: message (error text of a NAK or DECLINE).
    pub message: Option<&'a [u8]>,
    /// 55: parameter request list, in order (the device fingerprint).
    pub param_list: BoundedList<u8, MAX_PARAM_LIST>,
    /// 60: vendor class identifier.
    pub vendor_class: Option<&'a [u8]>,
    /// 61: client identifier (first byte is the hardware type).
    pub client_id: Option<&'a [u8]>,
    /// 57: maximum DHCP message size.
    pub max_msg_size: Option<u16>,
    /// 3: routers.
    pub routers: BoundedList<[u8; 4], MAX_ADDR_LIST>,
    /// 6: DNS servers.
    pub dns_servers: BoundedList<[u8; 4], MAX_ADDR_LIST>,
    /// 161: MUD URL (RFC 8520), what a device says it is.
    pub mud_url: Option<&'a [u8]>,
    /// Codes of every option seen, in order (pad and end excluded).
    pub codes: BoundedList<u8, MAX_OPTION_CODES>,
}

/// One parsed DHCPv4/BOOTP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpMessage<'a> {
    pub header: BootpHeader,
    pub options: DhcpOptions<'a>,
    pub issues: OptionIssues,
}

/// Parses one datagram as DHCPv4/BOOTP.
pub fn parse(data: &[u8]) -> Result<DhcpMessage<'_>, DhcpError> {
    let header = parse_header(data)?;
    let mut options = DhcpOptions::default();
    let mut issues = OptionIssues::default();
    let after_fixed = data.get(BOOTP_FIXED_LEN..).unwrap_or_default();
    match after_fixed.split_first_chunk::<4>() {
        Some((cookie, area)) if *cookie == MAGIC_COOKIE => {
            let mut walked = 0usize;
            let overload = walk_area(area, true, &mut walked, &mut options, &mut issues);
            // RFC 2131 §4.1: the `file` field first, then `sname`.
            if let Some(which @ 1..=3) = overload {
                issues.overload = true;
                if which & 1 != 0 {
                    let file = data.get(FILE_OFFSET..FILE_OFFSET + FILE_LEN);
                    walk_area(
                        file.unwrap_or_default(),
                        false,
                        &mut walked,
                        &mut options,
                        &mut issues,
                    );
                }
                if which & 2 != 0 {
                    let sname = data.get(SNAME_OFFSET..SNAME_OFFSET + SNAME_LEN);
                    walk_area(
                        sname.unwrap_or_default(),
                        false,
                        &mut walked,
                        &mut options,
                        &mut issues,
                    );
                }
            } else if overload.is_some() {
                issues.bad_option_length = true;
            }
        }
        _ => issues.no_magic_cookie = true,
    }
    Ok(DhcpMessage {
        header,
        options,
        issues,
    })
}

fn parse_header(data: &[u8]) -> Result<BootpHeader, DhcpError> {
    let fixed = data
        .first_chunk::<BOOTP_FIXED_LEN>()
        .ok_or(DhcpError::TooShort { len: data.len() })?;
    let (&[op, htype, hlen, hops], rest) = split4(fixed);
    if op != BOOTREQUEST && op != BOOTREPLY {
        return Err(DhcpError::BadOp { op });
    }
    if hlen > 16 {
        return Err(DhcpError::BadHardwareLength { hlen });
    }
    let (xid, rest) = split4(rest);
    let (secs_flags, rest) = split4(rest);
    let (ciaddr, rest) = split4(rest);
    let (yiaddr, rest) = split4(rest);
    let (siaddr, rest) = split4(rest);
    let (giaddr, rest) = split4(rest);
    let chaddr = rest.first_chunk::<16>().copied().unwrap_or_default();
    let [s0, s1, f0, f1] = *secs_flags;
    Ok(BootpHeader {
        op,
        htype,
        hlen,
        hops,
        xid: u32::from_be_bytes(*xid),
        secs: u16::from_be_bytes([s0, s1]),
        flags: u16::from_be_bytes([f0, f1]),
        ciaddr: Ipv4Addr::from(*ciaddr),
        yiaddr: Ipv4Addr::from(*yiaddr),
        siaddr: Ipv4Addr::from(*siaddr),
        giaddr: Ipv4Addr::from(*giaddr),
        chaddr,
    })
}

/// Splits 4 bytes off a slice known to be long enough; a short slice yields zeros.
fn split4(data: &[u8]) -> (&[u8; 4], &[u8]) {
    const ZERO: [u8; 4] = [0; 4];
    data.split_first_chunk::<4>().unwrap_or((&ZERO, &[]))
}

/// One option as it appears in an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    pub code: u8,
    pub value: &'a [u8],
}

/// How walking an area ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaEnd {
    /// The end option (255).
    EndOption,
    /// The area ran out without an end option.
    Exhausted,
    /// An option's length byte is missing or exceeds the area.
    Truncated { offset: usize },
}

/// Iterates over the TLV options of one area, skipping pads; stops at the
/// end option, at the end of the area or at a truncated option (see
/// [`OptionWalker::end`]).
#[derive(Debug, Clone)]
pub struct OptionWalker<'a> {
    rest: &'a [u8],
    offset: usize,
    end: Option<AreaEnd>,
}

impl<'a> OptionWalker<'a> {
    pub fn new(area: &'a [u8]) -> Self {
        OptionWalker {
            rest: area,
            offset: 0,
            end: None,
        }
    }

    /// How the walk ended (`None` while options remain).
    pub fn end(&self) -> Option<AreaEnd> {
        self.end
    }
}

impl<'a> Iterator for OptionWalker<'a> {
    type Item = RawOption<'a>;

    fn next(&mut self) -> Option<RawOption<'a>> {
        loop {
            if self.end.is_some() {
                return None;
            }
            let Some((&code, after_code)) = self.rest.split_first() else {
                self.end = Some(AreaEnd::Exhausted);
                return None;
            };
            match code {
                0 => {
                    self.rest = after_code;
                    self.offset += 1;
                }
                255 => {
                    self.end = Some(AreaEnd::EndOption);
                    return None;
                }
                _ => {
                    let value = after_code
                        .split_first()
                        .and_then(|(&len, body)| body.split_at_checked(usize::from(len)));
                    let Some((value, rest)) = value else {
                        self.end = Some(AreaEnd::Truncated {
                            offset: self.offset,
                        });
                        return None;
                    };
                    self.rest = rest;
                    self.offset += 2 + value.len();
                    return Some(RawOption { code, value });
                }
            }
        }
    }
}

/// Walks one area into `options`; returns the overload option's value when
/// this is the main options area and it carried one.
fn walk_area<'a>(
    area: &'a [u8],
    main: bool,
    walked: &mut usize,
    options: &mut DhcpOptions<'a>,
    issues: &mut OptionIssues,
) -> Option<u8> {
    let mut overload = None;
    let mut walker = OptionWalker::new(area);
    for opt in walker.by_ref() {
        if *walked >= MAX_OPTIONS {
            issues.too_many_options = true;
            return overload;
        }
        *walked += 1;
        if main && opt.code == 52 {
            match opt.value {
                [v] => overload = Some(*v),
                _ => issues.bad_option_length = true,
            }
        }
        apply_option(opt, options, issues);
    }
    match walker.end() {
        Some(AreaEnd::Truncated { .. }) => issues.truncated_option = true,
        // `sname`/`file` areas may legally end without an end option.
        Some(AreaEnd::Exhausted) if main => issues.missing_end = true,
        _ => {}
    }
    overload
}

fn apply_option<'a>(opt: RawOption<'a>, o: &mut DhcpOptions<'a>, issues: &mut OptionIssues) {
    o.codes.push(opt.code);
    let v = opt.value;
    match opt.code {
        53 => set_fixed(
            &mut o.msg_type,
            v.first().copied().filter(|_| v.len() == 1),
            issues,
        ),
        12 => set_first(&mut o.host_name, v, issues),
        81 => set_first(&mut o.client_fqdn, v, issues),
        15 => set_first(&mut o.domain, v, issues),
        50 => set_fixed(&mut o.requested_addr, addr(v), issues),
        51 => set_fixed(&mut o.lease_time, u32_of(v), issues),
        54 => set_fixed(&mut o.server_id, addr(v), issues),
        56 => set_first(&mut o.message, v, issues),
        55 => {
            o.param_list.extend(v.iter().copied());
        }
        60 => set_first(&mut o.vendor_class, v, issues),
        61 => set_first(&mut o.client_id, v, issues),
        57 => {
            let size = v.first_chunk::<2>().filter(|_| v.len() == 2);
            set_fixed(
                &mut o.max_msg_size,
                size.map(|b| u16::from_be_bytes(*b)),
                issues,
            );
        }
        3 => addr_list(&mut o.routers, v, issues),
        6 => addr_list(&mut o.dns_servers, v, issues),
        161 => set_first(&mut o.mud_url, v, issues),
        _ => {}
    }
}

fn set_first<'a>(slot: &mut Option<&'a [u8]>, v: &'a [u8], issues: &mut OptionIssues) {
    if slot.is_some() {
        issues.duplicate_option = true;
    } else {
        *slot = Some(v);
    }
}

/// Stores a fixed-size option; `parsed` is `None` when its length was wrong.
fn set_fixed<T>(slot: &mut Option<T>, parsed: Option<T>, issues: &mut OptionIssues) {
    match parsed {
        None => issues.bad_option_length = true,
        Some(_) if slot.is_some() => issues.duplicate_option = true,
        Some(v) => *slot = Some(v),
    }
}

fn addr(v: &[u8]) -> Option<Ipv4Addr> {
    let b: &[u8; 4] = v.try_into().ok()?;
    Some(Ipv4Addr::from(*b))
}

fn u32_of(v: &[u8]) -> Option<u32> {
    let b: &[u8; 4] = v.try_into().ok()?;
    Some(u32::from_be_bytes(*b))
}

fn addr_list(list: &mut BoundedList<[u8; 4], MAX_ADDR_LIST>, v: &[u8], issues: &mut OptionIssues) {
    if v.is_empty() || v.len() % 4 != 0 {
        issues.bad_option_length = true;
    }
    if !list.is_empty() {
        issues.duplicate_option = true;
        return;
    }
    list.extend(v.chunks_exact(4).filter_map(|c| c.try_into().ok()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(area: &[u8]) -> (Vec<(u8, Vec<u8>)>, Option<AreaEnd>) {
        let mut w = OptionWalker::new(area);
        let opts = w.by_ref().map(|o| (o.code, o.value.to_vec())).collect();
        (opts, w.end())
    }

    #[test]
    fn walker_skips_pads_and_stops_at_end() {
        let (opts, end) = walk(&[0, 0, 12, 2, b'h', b'i', 0, 255, 12, 1, b'x']);
        assert_eq!(opts, vec![(12, b"hi".to_vec())]);
        assert_eq!(end, Some(AreaEnd::EndOption));
    }

    #[test]
    fn walker_reports_truncation_offset() {
        let (opts, end) = walk(&[53, 1, 1, 60, 9, b'a']);
        assert_eq!(opts, vec![(53, vec![1])]);
        assert_eq!(end, Some(AreaEnd::Truncated { offset: 3 }));
        let (_, end) = walk(&[0, 60]);
        assert_eq!(end, Some(AreaEnd::Truncated { offset: 1 }));
        let (_, end) = walk(&[53, 1, 1]);
        assert_eq!(end, Some(AreaEnd::Exhausted));
    }
}
