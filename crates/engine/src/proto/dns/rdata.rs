//! Answer RDATA → the text Zeek's base DNS script puts in dns.log `answers`.
//!
//! A/AAAA: the address; NS/CNAME/PTR/MX/SRV: the (lowercased) target name;
//! SOA: the primary server; TXT/SPF: `TXT <len> <text>` per string, joined by
//! spaces; DNSSEC types as Zeek's handlers print them (`RRSIG <type covered>
//! <signer>`, `DNSKEY <alg>`, `DS <alg> <digest type>`, `NSEC <owner>
//! <next>`, `NSEC3`, `NSEC3PARAM`); SSHFP, LOC, BIND9 signing signal; types
//! Zeek parses but does not log (WKS, HINFO, CAA, OPT, TSIG, SVCB, HTTPS,
//! NB) give no answer; any other type `<unknown type=N>`.
//!
//! Limits: [`MAX_TXT_BYTES`] bytes of TXT/SPF text rendered per answer.
#![deny(clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::name::{push_text, read_name};
use super::parser::Malformed;
use super::DnsCounters;

/// Text rendered per TXT/SPF answer, and bytes of an SSHFP fingerprint
/// shown (the printed TXT lengths stay the real ones); the rest is cut
/// (counter: `proto.dns.txt_truncated`).
pub const MAX_TXT_BYTES: usize = 1024;

// Record types with their own rendering.
const A: u16 = 1;
const NS: u16 = 2;
const CNAME: u16 = 5;
const SOA: u16 = 6;
const WKS: u16 = 11;
const PTR: u16 = 12;
const HINFO: u16 = 13;
const MX: u16 = 15;
const TXT: u16 = 16;
const AAAA: u16 = 28;
const LOC: u16 = 29;
const NB: u16 = 32;
const SRV: u16 = 33;
const OPT: u16 = 41;
const DS: u16 = 43;
const SSHFP: u16 = 44;
const RRSIG: u16 = 46;
const NSEC: u16 = 47;
const DNSKEY: u16 = 48;
const NSEC3: u16 = 50;
const NSEC3PARAM: u16 = 51;
const SVCB: u16 = 64;
const HTTPS: u16 = 65;
const SPF: u16 = 99;
const TSIG: u16 = 250;
const CAA: u16 = 257;
const BINDS: u16 = 65534;

/// Where one record's RDATA lies in its message.
#[derive(Debug, Clone, Copy)]
pub struct Rdata<'a> {
    /// The whole message (names in RDATA may point anywhere in it).
    pub msg: &'a [u8],
    /// Offset of the record's owner name.
    pub owner_at: usize,
    pub rtype: u16,
    pub at: usize,
    pub len: u16,
}

impl Rdata<'_> {
    fn bytes(&self) -> &[u8] {
        self.msg
            .get(self.at..self.at + usize::from(self.len))
            .unwrap_or_default()
    }

    fn bad(&self) -> Malformed {
        Malformed::BadRdata {
            at: self.owner_at,
            rtype: self.rtype,
            rdlength: self.len,
        }
    }

    /// The fixed-size start of the RDATA, or `BadRdata` when it is shorter.
    fn fixed<const N: usize>(&self) -> Result<[u8; N], Malformed> {
        self.bytes()
            .first_chunk()
            .copied()
            .ok_or_else(|| self.bad())
    }

    /// Renders the (lowercased) name `skip` bytes into the RDATA into `out`.
    /// `last`: the name should end the RDATA (else more fields follow it).
    fn name_at(
        &self,
        skip: usize,
        last: bool,
        out: &mut String,
        c: &mut DnsCounters,
    ) -> Result<(), Malformed> {
        if skip >= usize::from(self.len) {
            return Err(self.bad());
        }
        let start = out.len();
        let (info, end) = read_name(self.msg, self.at + skip, out)?;
        c.note_name(info);
        let rdata_end = self.at + usize::from(self.len);
        if (last && end != rdata_end) || end > rdata_end {
            // Zeek's DNS_RR_length_mismatch: the name is kept.
            c.rdata_length_mismatch += 1;
        }
        if let Some(text) = out.get_mut(start..) {
            text.make_ascii_lowercase();
        }
        Ok(())
    }
}

/// Renders `rd` into `out`. `Ok(false)`: this type gives no answer in
/// dns.log. Errors leave `out` in an unspecified state; the caller counts
/// them and moves on to the next record (its end is known).
pub fn render_rdata(
    rd: &Rdata<'_>,
    out: &mut String,
    c: &mut DnsCounters,
) -> Result<bool, Malformed> {
    match rd.rtype {
        A => {
            let b: [u8; 4] = rd.bytes().try_into().map_err(|_| rd.bad())?;
            let _ = write!(out, "{}", Ipv4Addr::from(b));
        }
        AAAA => {
            let b: [u8; 16] = rd.bytes().try_into().map_err(|_| rd.bad())?;
            let _ = write!(out, "{}", Ipv6Addr::from(b));
        }
        NS | CNAME | PTR => rd.name_at(0, true, out, c)?,
        SOA => rd.name_at(0, false, out, c)?,
        MX => rd.name_at(2, true, out, c)?,
        SRV => rd.name_at(6, true, out, c)?,
        TXT => render_strings(rd, "TXT", out, c)?,
        SPF => render_strings(rd, "SPF", out, c)?,
        RRSIG => {
            let [t0, t1] = rd.fixed::<2>()?;
            let covered = u16::from_be_bytes([t0, t1]);
            let _ = write!(out, "RRSIG {covered} ");
            let signer_at = out.len();
            rd.name_at(18, false, out, c)?;
            if out.len() == signer_at {
                out.push_str("<Root>");
            }
        }
        DNSKEY => {
            let [_, _, _, algorithm] = rd.fixed::<4>()?;
            let _ = write!(out, "DNSKEY {algorithm}");
        }
        DS => {
            let [_, _, algorithm, digest] = rd.fixed::<4>()?;
            let _ = write!(out, "DS {algorithm} {digest}");
        }
        NSEC => {
            out.push_str("NSEC ");
            let start = out.len();
            let (info, _) = read_name(rd.msg, rd.owner_at, out)?;
            c.note_name(info);
            if let Some(owner) = out.get_mut(start..) {
                owner.make_ascii_lowercase();
            }
            out.push(' ');
            rd.name_at(0, false, out, c)?;
        }
        NSEC3 => out.push_str("NSEC3"),
        NSEC3PARAM => out.push_str("NSEC3PARAM"),
        BINDS => out.push_str("BIND9 signing signal"),
        SSHFP => {
            let fingerprint = rd.bytes().get(2..).ok_or_else(|| rd.bad())?;
            let fingerprint = fingerprint.get(..MAX_TXT_BYTES / 2).unwrap_or(fingerprint);
            out.push_str("SSHFP: ");
            for b in fingerprint {
                let _ = write!(out, "{b:02x}");
            }
        }
        LOC => {
            let [_version, size, horizontal, vertical] = rd.fixed::<4>()?;
            let _ = write!(out, "LOC:  {size} {horizontal} {vertical}");
        }
        WKS | HINFO | CAA | OPT | TSIG | SVCB | HTTPS | NB => return Ok(false),
        other => {
            let _ = write!(out, "<unknown type={other}>");
        }
    }
    Ok(true)
}

/// TXT/SPF character-strings: `<tag> <len> <text>` each, joined by spaces,
/// until the rendered answer reaches [`MAX_TXT_BYTES`].
fn render_strings(
    rd: &Rdata<'_>,
    tag: &str,
    out: &mut String,
    c: &mut DnsCounters,
) -> Result<(), Malformed> {
    let start = out.len();
    let mut rest = rd.bytes();
    let mut cut = false;
    while let Some((&len, tail)) = rest.split_first() {
        let (text, tail) = tail
            .split_at_checked(usize::from(len))
            .ok_or_else(|| rd.bad())?;
        rest = tail;
        if out.len() - start >= MAX_TXT_BYTES {
            cut = true;
            continue; // still checked for damage
        }
        if out.len() > start {
            out.push(' ');
        }
        let _ = write!(out, "{tag} {len} ");
        let budget = MAX_TXT_BYTES.saturating_sub(out.len() - start);
        let shown = text.get(..budget).unwrap_or(text);
        push_text(shown, out);
        cut |= shown.len() < text.len();
    }
    c.txt_truncated += u64::from(cut);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders RDATA `data` of type `rtype` placed after `prefix`.
    fn render(
        prefix: &[u8],
        rtype: u16,
        data: &[u8],
    ) -> (Result<bool, Malformed>, String, DnsCounters) {
        let mut msg = prefix.to_vec();
        let at = msg.len();
        msg.extend_from_slice(data);
        let rd = Rdata {
            msg: &msg,
            owner_at: 0,
            rtype,
            at,
            len: data.len() as u16,
        };
        let mut out = String::new();
        let mut c = DnsCounters::default();
        let r = render_rdata(&rd, &mut out, &mut c);
        (r, out, c)
    }

    fn text(rtype: u16, data: &[u8]) -> String {
        let (r, out, _) = render(b"\x05owner\x00", rtype, data);
        assert_eq!(r, Ok(true), "type {rtype}");
        out
    }

    #[test]
    fn addresses() {
        assert_eq!(text(A, &[10, 0, 0, 1]), "10.0.0.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[15] = 1;
        assert_eq!(text(AAAA, &v6), "2001::1");
        let (r, _, _) = render(b"", A, &[1, 2, 3]);
        assert!(matches!(
            r,
            Err(Malformed::BadRdata {
                rtype: A,
                rdlength: 3,
                ..
            })
        ));
    }

    #[test]
    fn names_are_lowercased() {
        assert_eq!(text(CNAME, b"\x03WwW\xc0\x00"), "www.owner");
        assert_eq!(text(MX, b"\x00\x0a\x02mx\x00"), "mx");
        assert_eq!(text(SRV, b"\x00\x01\x00\x02\x01\xbb\x03srv\x00"), "srv");
        assert_eq!(text(SOA, b"\x02ns\x00\x04host\x00"), "ns");
    }

    #[test]
    fn name_shorter_than_rdlength_is_counted() {
        let (r, out, c) = render(b"", PTR, b"\x01a\x00\xff");
        assert_eq!((r, out.as_str()), (Ok(true), "a"));
        assert_eq!(c.rdata_length_mismatch, 1);
        // A name followed by more fields is no mismatch; one running past is.
        let (_, _, c) = render(b"", SOA, b"\x01a\x00\x01b\x00serial");
        assert_eq!(c.rdata_length_mismatch, 0);
        let msg = b"\x01a\x00";
        let rd = Rdata {
            msg,
            owner_at: 0,
            rtype: SOA,
            at: 0,
            len: 2,
        };
        let mut c = DnsCounters::default();
        assert_eq!(render_rdata(&rd, &mut String::new(), &mut c), Ok(true));
        assert_eq!(c.rdata_length_mismatch, 1);
    }

    #[test]
    fn txt_strings() {
        assert_eq!(text(TXT, b"\x05hello\x03a\tb"), "TXT 5 hello TXT 3 a\tb");
        assert_eq!(text(SPF, b"\x00"), "SPF 0 ");
        let (r, _, _) = render(b"", TXT, b"\x05hi");
        assert!(matches!(r, Err(Malformed::BadRdata { .. })));
        // Long TXT is cut at the byte budget; lengths stay the real ones.
        let mut data = Vec::new();
        for _ in 0..5 {
            data.push(255);
            data.extend_from_slice(&[b'x'; 255]);
        }
        let (r, out, c) = render(b"", TXT, &data);
        assert_eq!(r, Ok(true));
        assert_eq!(out.len(), MAX_TXT_BYTES);
        assert_eq!(out.matches("TXT 255 ").count(), 4);
        assert_eq!(c.txt_truncated, 1);
        // Many empty strings are bounded too, and still checked to the end.
        let (r, out, _) = render(b"", TXT, &[0; 4000]);
        assert_eq!(r, Ok(true));
        assert!(out.len() <= MAX_TXT_BYTES + " TXT 0 ".len());
        let mut bad = vec![0; 4000];
        bad.push(9);
        let (r, _, _) = render(b"", TXT, &bad);
        assert!(matches!(r, Err(Malformed::BadRdata { .. })));
    }

    #[test]
    fn dnssec_and_others() {
        let mut rrsig = vec![0, 1, 8, 2, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        rrsig.extend_from_slice(b"\x00");
        assert_eq!(text(RRSIG, &rrsig), "RRSIG 1 <Root>");
        assert_eq!(text(DNSKEY, &[1, 1, 3, 13, 9]), "DNSKEY 13");
        assert_eq!(text(DS, &[0, 1, 8, 2, 9]), "DS 8 2");
        assert_eq!(text(NSEC, b"\x04Next\x00\x00"), "NSEC owner next");
        assert_eq!(text(SSHFP, &[1, 2, 0xab, 0x01]), "SSHFP: ab01");
        assert_eq!(text(LOC, &[0, 18, 22, 19]), "LOC:  18 22 19");
        assert_eq!(text(10, b"iodine"), "<unknown type=10>");
        let (r, _, _) = render(b"", HINFO, b"\x01a\x01b");
        assert_eq!(r, Ok(false));
    }
}
