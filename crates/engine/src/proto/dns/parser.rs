//! DNS messages: the bytes of one message (a UDP datagram, or one TCP frame
//! without its length prefix) in → header, first question and the rendered
//! answer section out, written into a reusable [`Message`].
//!
//! Hand-written rather than `hickory-proto` or `simple-dns`: those reject a
//! whole message at the first bad byte and allocate per name and record,
//! while dns.log needs what could be read before the damage (the question of
//! a response whose answers are cut), Zeek's rendering of answers, the raw
//! label bytes for escaping, and a named counter per kind of damage. DNS is
//! small enough that a bounded reader over the message is the simpler path.
//!
//! Only the question and answer sections are read: dns.log shows nothing
//! from the authority and additional sections. Limits: [`MAX_QUESTIONS`]
//! (Zeek's `dns_max_queries`; more means the bytes are not DNS),
//! [`MAX_ANSWERS`] answers rendered per message, the name limits of
//! [`super::name`] and the TXT limit of [`super::rdata`].
#![deny(clippy::indexing_slicing)]

use super::name::{read_name, skip_name, NameInfo};
use super::rdata::{render_rdata, Rdata};
use super::DnsCounters;
use crate::time::Duration;

/// Bytes of the fixed DNS header.
pub const HEADER_LEN: usize = 12;

/// Messages with more questions are not parsed (Zeek's `dns_max_queries`):
/// real resolvers send one, mDNS a handful.
pub const MAX_QUESTIONS: u16 = 25;

/// Answers rendered per message; the rest are counted, not read.
pub const MAX_ANSWERS: usize = 64;

/// Why a message (or the rest of it) could not be read. Each variant has
/// its own counter `proto.dns.malformed.<reason>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("message of {len} bytes is shorter than the 12-byte DNS header")]
    ShortHeader { len: usize },
    #[error(
        "{count} questions exceed the limit of {MAX_QUESTIONS}: the bytes are probably not DNS"
    )]
    TooManyQuestions { count: u16 },
    #[error("question at offset {at} is cut before its type and class")]
    TruncatedQuestion { at: usize },
    #[error("resource record at offset {at} is cut before the end of its header or RDATA")]
    TruncatedRecord { at: usize },
    #[error("name at offset {at}: a label or pointer runs past the end of the message")]
    LabelPastEnd { at: usize },
    #[error(
        "name at offset {at}: compression pointer to offset {target} lies outside the message"
    )]
    BadPointer { at: usize, target: usize },
    #[error("name at offset {at}: label type 0x{kind:02x} is reserved (only plain labels and pointers are valid)")]
    BadLabelType { at: usize, kind: u8 },
    #[error("record at offset {at}: RDATA of type {rtype} does not fit its length {rdlength}")]
    BadRdata {
        at: usize,
        rtype: u16,
        rdlength: u16,
    },
}

/// The fixed header, flags split out as Zeek's `dns_msg` has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    /// Set in responses.
    pub qr: bool,
    pub opcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    /// The three bits after RA (Z, AD, CD), as Zeek's `Z`.
    pub z: u8,
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn parse(msg: &[u8]) -> Result<Header, Malformed> {
        let h: &[u8; HEADER_LEN] = msg
            .first_chunk()
            .ok_or(Malformed::ShortHeader { len: msg.len() })?;
        let [id0, id1, f0, f1, qd0, qd1, an0, an1, ns0, ns1, ar0, ar1] = *h;
        Ok(Header {
            id: u16::from_be_bytes([id0, id1]),
            qr: f0 & 0x80 != 0,
            opcode: (f0 >> 3) & 0x0f,
            aa: f0 & 0x04 != 0,
            tc: f0 & 0x02 != 0,
            rd: f0 & 0x01 != 0,
            ra: f1 & 0x80 != 0,
            z: (f1 >> 4) & 0x07,
            rcode: f1 & 0x0f,
            qdcount: u16::from_be_bytes([qd0, qd1]),
            ancount: u16::from_be_bytes([an0, an1]),
            nscount: u16::from_be_bytes([ns0, ns1]),
            arcount: u16::from_be_bytes([ar0, ar1]),
        })
    }
}

/// The first question of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Question {
    pub qtype: u16,
    pub qclass: u16,
    pub name: NameInfo,
}

/// One parsed message. Reused: [`parse_message`] clears it first, keeping
/// the capacity of its strings.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub header: Header,
    /// The first question, if the message has one.
    pub question: Option<Question>,
    /// Text of the first question's name, original letter case.
    pub qname: String,
    /// Owner name of the first answer (a response without a
    /// question, such as an mDNS announcement, is about this name).
    pub first_owner: String,
    /// What was seen decoding `first_owner` (set when there is an answer).
    pub owner: Option<NameInfo>,
    /// Rendered answers (Zeek's `answers`), in order.
    pub answers: Vec<String>,
    /// TTL of each rendered answer.
    pub ttls: Vec<Duration>,
    /// The damage that stopped reading the answer section, if any; what was
    /// read before it is kept.
    pub answer_error: Option<Malformed>,
    /// Scratch text for names that are decoded but not kept.
    spare: String,
}

impl Message {
    fn clear(&mut self) {
        self.header = Header::default();
        self.question = None;
        self.qname.clear();
        self.first_owner.clear();
        self.owner = None;
        self.answers.clear();
        self.ttls.clear();
        self.answer_error = None;
    }
}

/// Parses one DNS message into `out`, counting every oddity and every
/// malformation (including the one returned) in `c`.
///
/// Errors when the header or the question section cannot be read (then the
/// message gives no transaction). Damage in the answer section only ends the
/// answers early and is left in [`Message::answer_error`]; a record whose
/// RDATA is damaged is skipped.
pub fn parse_message(msg: &[u8], out: &mut Message, c: &mut DnsCounters) -> Result<(), Malformed> {
    let result = parse_sections(msg, out, c);
    if let Err(e) = &result {
        c.note_malformed(e);
    }
    if let Some(e) = &out.answer_error {
        c.note_malformed(e);
    }
    result
}

fn parse_sections(msg: &[u8], out: &mut Message, c: &mut DnsCounters) -> Result<(), Malformed> {
    out.clear();
    let header = Header::parse(msg)?;
    out.header = header;
    if header.qdcount > MAX_QUESTIONS {
        return Err(Malformed::TooManyQuestions {
            count: header.qdcount,
        });
    }
    let mut pos = HEADER_LEN;
    for index in 0..header.qdcount {
        pos = if index == 0 {
            let (question, next) = read_question(msg, pos, &mut out.qname)?;
            c.note_name(question.name);
            out.question = Some(question);
            next
        } else {
            // Rendered only to count oddities; the first question is logged.
            out.spare.clear();
            let (question, next) = read_question(msg, pos, &mut out.spare)?;
            c.note_name(question.name);
            next
        };
    }
    if let Err(e) = read_answers(msg, pos, header.ancount, out, c) {
        out.answer_error = Some(e);
    }
    Ok(())
}

/// Reads a question at `pos`: its name into `qname`, type and class.
fn read_question(
    msg: &[u8],
    pos: usize,
    qname: &mut String,
) -> Result<(Question, usize), Malformed> {
    let (name, next) = read_name(msg, pos, qname)?;
    let fixed: &[u8; 4] = msg
        .get(next..)
        .and_then(|rest| rest.first_chunk())
        .ok_or(Malformed::TruncatedQuestion { at: pos })?;
    let [t0, t1, c0, c1] = *fixed;
    let question = Question {
        qtype: u16::from_be_bytes([t0, t1]),
        qclass: u16::from_be_bytes([c0, c1]),
        name,
    };
    Ok((question, next + 4))
}

/// Reads `count` answer records from `pos`, rendering those Zeek logs.
fn read_answers(
    msg: &[u8],
    mut pos: usize,
    count: u16,
    out: &mut Message,
    c: &mut DnsCounters,
) -> Result<(), Malformed> {
    for index in 0..usize::from(count) {
        if index >= MAX_ANSWERS {
            c.answers_over_limit += 1;
            return Ok(());
        }
        let owner_at = pos;
        let after_owner = if index == 0 {
            let (info, next) = read_name(msg, pos, &mut out.first_owner)?;
            c.note_name(info);
            out.owner = Some(info);
            next
        } else {
            skip_name(msg, pos)?
        };
        let fixed: &[u8; 10] = msg
            .get(after_owner..)
            .and_then(|rest| rest.first_chunk())
            .ok_or(Malformed::TruncatedRecord { at: owner_at })?;
        let [t0, t1, _c0, _c1, l0, l1, l2, l3, r0, r1] = *fixed;
        let rd = Rdata {
            msg,
            owner_at,
            rtype: u16::from_be_bytes([t0, t1]),
            at: after_owner + 10,
            len: u16::from_be_bytes([r0, r1]),
        };
        let rdata_end = rd.at + usize::from(rd.len);
        if rdata_end > msg.len() {
            return Err(Malformed::TruncatedRecord { at: owner_at });
        }
        let mut text = String::new();
        match render_rdata(&rd, &mut text, c) {
            // Zeek logs no empty answer (a name rendering as the root).
            Ok(true) if !text.is_empty() => {
                out.answers.push(text);
                let ttl = u32::from_be_bytes([l0, l1, l2, l3]);
                out.ttls.push(Duration::from_secs(i64::from(ttl)));
            }
            Ok(_) => {}
            Err(e) => c.note_malformed(&e),
        }
        pos = rdata_end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header + one question for `www.example.com` A IN + `answers`.
    fn response(answers: &[u8], ancount: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1];
        m.extend_from_slice(&ancount.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        m.extend_from_slice(answers);
        m
    }

    #[test]
    fn header_flags() {
        let h = Header::parse(&[0xab, 0xcd, 0x87, 0xb3, 0, 1, 0, 2, 0, 3, 0, 4]).unwrap();
        assert_eq!(h.id, 0xabcd);
        assert!(h.qr && h.aa && h.tc && h.rd && h.ra);
        assert_eq!((h.opcode, h.z, h.rcode), (0, 3, 3));
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 2, 3, 4));
        assert_eq!(
            Header::parse(&[0; 11]),
            Err(Malformed::ShortHeader { len: 11 })
        );
    }

    #[test]
    fn question_and_answers() {
        // CNAME -> pointer to the question name, then an A record.
        let mut answers =
            b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x0e\x10\x00\x06\x03WWW\xc0\x10".to_vec();
        answers
            .extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22");
        let msg = response(&answers, 2);
        let mut m = Message::default();
        parse_message(&msg, &mut m, &mut DnsCounters::default()).unwrap();
        let q = m.question.unwrap();
        assert_eq!((q.qtype, q.qclass, q.name.labels), (1, 1, 3));
        assert_eq!(m.qname, "www.example.com");
        assert_eq!(m.first_owner, "www.example.com");
        assert_eq!(m.answers, ["www.example.com", "93.184.216.34"]);
        assert_eq!(m.ttls, [Duration::from_secs(3600), Duration::from_secs(60)]);
        assert_eq!(m.answer_error, None);
    }

    #[test]
    fn cut_answer_keeps_question_and_earlier_answers() {
        let mut answers =
            b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04".to_vec();
        answers.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02");
        let msg = response(&answers, 2);
        let mut m = Message::default();
        parse_message(&msg, &mut m, &mut DnsCounters::default()).unwrap();
        assert_eq!(m.answers, ["1.2.3.4"]);
        assert_eq!(m.answer_error, Some(Malformed::TruncatedRecord { at: 49 }));
    }

    #[test]
    fn too_many_questions_and_cut_question() {
        let mut msg = response(&[], 0);
        msg[4] = 0;
        msg[5] = 26;
        let mut m = Message::default();
        let mut c = DnsCounters::default();
        assert_eq!(
            parse_message(&msg, &mut m, &mut c),
            Err(Malformed::TooManyQuestions { count: 26 })
        );
        assert_eq!(c.malformed_too_many_questions, 1);
        let msg = response(&[], 0);
        assert_eq!(
            parse_message(&msg[..msg.len() - 1], &mut m, &mut c),
            Err(Malformed::TruncatedQuestion { at: 12 })
        );
    }

    #[test]
    fn answers_beyond_limit_are_counted() {
        let one = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04";
        let count = MAX_ANSWERS + 3;
        let answers: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * count)
            .collect();
        let msg = response(&answers, count as u16);
        let mut m = Message::default();
        let mut c = DnsCounters::default();
        parse_message(&msg, &mut m, &mut c).unwrap();
        assert_eq!(m.answers.len(), MAX_ANSWERS);
        assert_eq!(c.answers_over_limit, 1);
    }
}
