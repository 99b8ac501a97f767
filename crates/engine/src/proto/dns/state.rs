//! Per-connection DNS transactions: whole messages in → dns.log records out.
//!
//! A query waits in a bounded FIFO table until a response with the same
//! transaction id and question name (ASCII case ignored, so 0x20-randomised
//! queries match) arrives; a response without a question matches by id alone,
//! except on mDNS, where announcements (id 0, no question) must not pair with
//! a pending query. The pair becomes one record with the round-trip time. A
//! response nobody asked for is logged alone at once; queries still pending
//! are logged unanswered when the table is full (oldest first) or the
//! connection ends. Query vs response is the QR bit, not the direction (mDNS
//! responders originate their own flows; Zeek does the same).
//!
//! Limits: [`MAX_PENDING_QUERIES`] per connection (counter
//! `proto.dns.pending_evicted`). Only opcode 0 (QUERY) is logged, as in Zeek.
#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;

use super::parser::{parse_message, Malformed, Message};
use super::record::{DnsRecord, DnsTransport};
use super::{DnsCounters, MDNS_PORT};
use crate::log::ConnId;
use crate::sink::Sink;
use crate::time::Timestamp;

/// Queries awaiting a response per connection; beyond it the oldest is
/// logged unanswered. Zeek gives up at 50 per transaction id.
pub const MAX_PENDING_QUERIES: usize = 50;

/// The transactions of one connection.
#[derive(Debug)]
pub struct Transactions {
    conn: ConnId,
    proto: DnsTransport,
    mdns: bool,
    /// The message being handled (reused to keep its buffers).
    scratch: Message,
    /// Queries awaiting a response, oldest first.
    pending: VecDeque<DnsRecord>,
}

impl Transactions {
    pub fn new(conn: ConnId, proto: DnsTransport) -> Self {
        let mdns = conn.orig_p == MDNS_PORT || conn.resp_p == MDNS_PORT;
        Transactions {
            conn,
            proto,
            mdns,
            scratch: Message::default(),
            pending: VecDeque::new(),
        }
    }

    /// Whether this connection is mDNS (port 5353).
    pub fn is_mdns(&self) -> bool {
        self.mdns
    }

    /// Queries awaiting a response.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Handles one whole message. Errors (already counted) when its header
    /// or question could not be read.
    pub fn on_message(
        &mut self,
        ts: Timestamp,
        bytes: &[u8],
        c: &mut DnsCounters,
        out: &mut impl Sink<DnsRecord>,
    ) -> Result<(), Malformed> {
        c.messages += 1;
        c.mdns_messages += u64::from(self.mdns);
        parse_message(bytes, &mut self.scratch, c)?;
        let header = self.scratch.header;
        if header.opcode != 0 {
            c.nonstandard_opcode += 1;
            return Ok(());
        }
        c.multi_question += u64::from(header.qdcount > 1);
        if header.qr {
            self.on_response(ts, c, out);
        } else {
            self.on_query(ts, c, out);
        }
        Ok(())
    }

    /// Logs every pending query as unanswered (the connection ended).
    pub fn flush(&mut self, c: &mut DnsCounters, out: &mut impl Sink<DnsRecord>) {
        while let Some(query) = self.pending.pop_front() {
            c.unanswered_queries += 1;
            emit(query, c, out);
        }
    }

    fn on_query(&mut self, ts: Timestamp, c: &mut DnsCounters, out: &mut impl Sink<DnsRecord>) {
        c.queries += 1;
        let record = self.new_record(ts);
        if self.pending.len() >= MAX_PENDING_QUERIES {
            if let Some(oldest) = self.pending.pop_front() {
                c.pending_evicted += 1;
                c.unanswered_queries += 1;
                emit(oldest, c, out);
            }
        }
        self.pending.push_back(record);
    }

    fn on_response(&mut self, ts: Timestamp, c: &mut DnsCounters, out: &mut impl Sink<DnsRecord>) {
        c.responses += 1;
        let m = &self.scratch;
        let id = m.header.id;
        let qname = m.question.map(|_| m.qname.as_str());
        let id_only = !self.mdns;
        let found = self.pending.iter().position(|p| {
            p.trans_id == id
                && match qname {
                    Some(q) => p
                        .original_query
                        .as_deref()
                        .is_some_and(|o| o.eq_ignore_ascii_case(q)),
                    None => id_only,
                }
        });
        let mut record = match found.and_then(|i| self.pending.remove(i)) {
            Some(mut query) => {
                c.matched += 1;
                query.rtt = Some(ts.since(query.ts));
                query
            }
            None => {
                c.unmatched_responses += 1;
                self.new_record(ts)
            }
        };
        let m = &mut self.scratch;
        let h = m.header;
        record.rcode = Some(h.rcode);
        record.aa = h.aa;
        record.ra = h.ra;
        record.tc |= h.tc;
        record.answers = std::mem::take(&mut m.answers);
        record.ttls = std::mem::take(&mut m.ttls);
        record.rejected = (h.rcode != 0 && h.qdcount == 0)
            || (h.qdcount > 0 && h.ancount == 0 && h.nscount == 0 && h.arcount == 0);
        emit(record, c, out);
    }

    /// A record from the message in `scratch` alone: its question (or, for
    /// a response without one, the first answer's owner) and header flags.
    fn new_record(&self, ts: Timestamp) -> DnsRecord {
        let m = &self.scratch;
        let h = m.header;
        let (name, info) = match (m.question, m.owner) {
            (Some(q), _) => (Some(m.qname.as_str()), Some(q.name)),
            (None, Some(owner)) => (Some(m.first_owner.as_str()), Some(owner)),
            (None, None) => (None, None),
        };
        DnsRecord {
            ts,
            conn: self.conn.clone(),
            proto: self.proto,
            trans_id: h.id,
            rtt: None,
            query: name.map(str::to_ascii_lowercase),
            qclass: m.question.map(|q| q.qclass),
            qtype: m.question.map(|q| q.qtype),
            rcode: None,
            aa: false,
            tc: h.tc,
            rd: h.rd,
            ra: false,
            z: h.z,
            answers: Vec::new(),
            ttls: Vec::new(),
            rejected: false,
            original_query: name.map(str::to_string),
            mdns: self.mdns,
            query_labels: info.map(|i| i.labels),
            query_len: info.map(|i| i.text_len),
        }
    }
}

fn emit(record: DnsRecord, c: &mut DnsCounters, out: &mut impl Sink<DnsRecord>) {
    c.records += 1;
    out.push(record);
}
