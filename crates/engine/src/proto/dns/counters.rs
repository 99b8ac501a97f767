//! What the DNS analyzer saw and refused, as `proto.dns.*` counters.
//!
//! In: bumps from the parser (malformations by reason, name oddities) and
//! the transaction table (matching, eviction). Out: named values through
//! [`crate::counters::Counters`].

use super::name::NameInfo;
use super::parser::Malformed;
use crate::counters::Counters;

/// Counters of every DNS connection, summed by whoever owns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsCounters {
    /// Messages handed to the parser (UDP datagrams, TCP frames).
    pub messages: u64,
    /// Of which on port 5353 (mDNS).
    pub mdns_messages: u64,
    /// Of which framed from TCP.
    pub tcp_messages: u64,
    /// Standard queries (QR = 0, opcode 0) read.
    pub queries: u64,
    /// Standard responses (QR = 1, opcode 0) read.
    pub responses: u64,
    /// Responses paired with a pending query.
    pub matched: u64,
    /// Responses without a pending query (logged alone).
    pub unmatched_responses: u64,
    /// Queries logged without a response (at the end or on eviction).
    pub unanswered_queries: u64,
    /// Pending queries pushed out of a full table (logged unanswered).
    pub pending_evicted: u64,
    /// Messages with an opcode other than QUERY (not logged, like Zeek).
    pub nonstandard_opcode: u64,
    /// Messages with more than one question (the first one is logged).
    pub multi_question: u64,
    /// Messages with more answers than `MAX_ANSWERS` (the rest not read).
    pub answers_over_limit: u64,
    /// Answers whose TXT/SPF text was cut at `MAX_TXT_BYTES`.
    pub txt_truncated: u64,
    /// Names longer than `MAX_NAME_LEN` (cut).
    pub names_too_long: u64,
    /// Names whose compression pointers looped (`MAX_POINTER_HOPS`).
    pub compression_loops: u64,
    /// RDATA names that end before or after the RDATA length (kept).
    pub rdata_length_mismatch: u64,
    pub malformed_short_header: u64,
    pub malformed_too_many_questions: u64,
    pub malformed_truncated_question: u64,
    pub malformed_truncated_record: u64,
    pub malformed_label_past_end: u64,
    pub malformed_bad_pointer: u64,
    pub malformed_bad_label_type: u64,
    pub malformed_bad_rdata: u64,
    /// TCP frames announcing a zero length (the direction is abandoned).
    pub tcp_zero_length: u64,
    /// TCP gaps reported by the reassembler.
    pub tcp_gaps: u64,
    /// TCP directions no longer parsed (garbage, or no frame after a gap).
    pub tcp_abandoned: u64,
    /// TCP directions ending inside a frame.
    pub tcp_incomplete_at_end: u64,
    /// dns.log records written.
    pub records: u64,
}

impl DnsCounters {
    /// Counts one malformation by its reason.
    pub fn note_malformed(&mut self, e: &Malformed) {
        let slot = match e {
            Malformed::ShortHeader { .. } => &mut self.malformed_short_header,
            Malformed::TooManyQuestions { .. } => &mut self.malformed_too_many_questions,
            Malformed::TruncatedQuestion { .. } => &mut self.malformed_truncated_question,
            Malformed::TruncatedRecord { .. } => &mut self.malformed_truncated_record,
            Malformed::LabelPastEnd { .. } => &mut self.malformed_label_past_end,
            Malformed::BadPointer { .. } => &mut self.malformed_bad_pointer,
            Malformed::BadLabelType { .. } => &mut self.malformed_bad_label_type,
            Malformed::BadRdata { .. } => &mut self.malformed_bad_rdata,
        };
        *slot += 1;
    }

    /// Counts what was odd about one decoded name.
    pub fn note_name(&mut self, info: NameInfo) {
        self.names_too_long += u64::from(info.too_long);
        self.compression_loops += u64::from(info.looped);
    }

    /// All malformations, whatever the reason.
    pub fn malformed(&self) -> u64 {
        self.malformed_short_header
            + self.malformed_too_many_questions
            + self.malformed_truncated_question
            + self.malformed_truncated_record
            + self.malformed_label_past_end
            + self.malformed_bad_pointer
            + self.malformed_bad_label_type
            + self.malformed_bad_rdata
    }
}

impl Counters for DnsCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        let c = self;
        for (name, value) in [
            ("proto.dns.messages", c.messages),
            ("proto.dns.mdns_messages", c.mdns_messages),
            ("proto.dns.tcp_messages", c.tcp_messages),
            ("proto.dns.queries", c.queries),
            ("proto.dns.responses", c.responses),
            ("proto.dns.matched", c.matched),
            ("proto.dns.unmatched_responses", c.unmatched_responses),
            ("proto.dns.unanswered_queries", c.unanswered_queries),
            ("proto.dns.pending_evicted", c.pending_evicted),
            ("proto.dns.nonstandard_opcode", c.nonstandard_opcode),
            ("proto.dns.multi_question", c.multi_question),
            ("proto.dns.answers_over_limit", c.answers_over_limit),
            ("proto.dns.txt_truncated", c.txt_truncated),
            ("proto.dns.names_too_long", c.names_too_long),
            ("proto.dns.compression_loops", c.compression_loops),
            ("proto.dns.rdata_length_mismatch", c.rdata_length_mismatch),
            ("proto.dns.malformed.short_header", c.malformed_short_header),
            (
                "proto.dns.malformed.too_many_questions",
                c.malformed_too_many_questions,
            ),
            (
                "proto.dns.malformed.truncated_question",
                c.malformed_truncated_question,
            ),
            (
                "proto.dns.malformed.truncated_record",
                c.malformed_truncated_record,
            ),
            (
                "proto.dns.malformed.label_past_end",
                c.malformed_label_past_end,
            ),
            ("proto.dns.malformed.bad_pointer", c.malformed_bad_pointer),
            (
                "proto.dns.malformed.bad_label_type",
                c.malformed_bad_label_type,
            ),
            ("proto.dns.malformed.bad_rdata", c.malformed_bad_rdata),
            ("proto.dns.tcp_zero_length", c.tcp_zero_length),
            ("proto.dns.tcp_gaps", c.tcp_gaps),
            ("proto.dns.tcp_abandoned", c.tcp_abandoned),
            ("proto.dns.tcp_incomplete_at_end", c.tcp_incomplete_at_end),
            ("proto.dns.records", c.records),
        ] {
            f(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let names: Vec<_> = DnsCounters::default()
            .to_vec()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| n.starts_with("proto.dns.")));
    }

    #[test]
    fn malformed_by_reason() {
        let mut c = DnsCounters::default();
        c.note_malformed(&Malformed::BadPointer { at: 1, target: 2 });
        c.note_malformed(&Malformed::ShortHeader { len: 3 });
        assert_eq!(c.malformed_bad_pointer, 1);
        assert_eq!(c.malformed(), 2);
    }
}
