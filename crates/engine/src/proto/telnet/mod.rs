//! Telnet analyzer: the in-order bytes of each direction in → one
//! [`TelnetRecord`] per connection out (gatewatch's telnet log; Zeek has
//! none), the raw material of brute-force detection (Mirai and kin).
//!
//! `parser` strips the in-band commands (option negotiation, bounded
//! subnegotiations, `IAC IAC`) statefully across calls; `state` follows the
//! login conversation on the remaining text: prompts, typed user names,
//! attempts, failure and success markers. Each server delivery's end is when
//! an unfinished line is judged as a prompt. Limits: see `parser` and
//! `state`; nothing grows with the traffic beyond those bounds.

pub mod parser;
pub mod record;
pub mod state;

pub use record::TelnetRecord;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use parser::Decoder;
use state::Conversation;

/// The `service` name in conn.log.
pub const SERVICE: &str = "telnet";
/// The well-known Telnet port (a hint; the probe decides). IoT devices also
/// listen on 2323.
pub const PORT: u16 = 23;

/// What the Telnet analyzers saw, summed over connections.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TelnetCounters {
    /// Text bytes after command removal.
    pub text_bytes: u64,
    /// WILL/WONT/DO/DONT commands.
    pub negotiations: u64,
    pub subnegotiations: u64,
    /// Subnegotiations abandoned without `IAC SE` within the limit.
    pub subnegotiation_overflows: u64,
    /// Other commands (NOP, GA, AYT, …).
    pub commands: u64,
    /// `IAC` followed by a byte that is no command.
    pub bad_commands: u64,
    /// Lines longer than `state::MAX_LINE_LEN` (tail dropped).
    pub lines_truncated: u64,
    pub login_prompts: u64,
    pub password_prompts: u64,
    pub login_attempts: u64,
    pub failures: u64,
    pub successes: u64,
    /// User names beyond `state::MAX_USERNAMES`.
    pub usernames_dropped: u64,
    /// Option names beyond `state::MAX_OPTIONS`.
    pub options_dropped: u64,
    /// Server negotiation entries beyond `state::MAX_NEGOTIATION`.
    pub negotiation_dropped: u64,
    /// Gaps (the half-read command and line are dropped).
    pub gaps: u64,
}

impl Counters for TelnetCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("proto.telnet.text_bytes", self.text_bytes);
        f("proto.telnet.negotiations", self.negotiations);
        f("proto.telnet.subnegotiations", self.subnegotiations);
        f(
            "proto.telnet.subnegotiation_overflows",
            self.subnegotiation_overflows,
        );
        f("proto.telnet.commands", self.commands);
        f("proto.telnet.bad_commands", self.bad_commands);
        f("proto.telnet.lines_truncated", self.lines_truncated);
        f("proto.telnet.login_prompts", self.login_prompts);
        f("proto.telnet.password_prompts", self.password_prompts);
        f("proto.telnet.login_attempts", self.login_attempts);
        f("proto.telnet.failures", self.failures);
        f("proto.telnet.successes", self.successes);
        f("proto.telnet.usernames_dropped", self.usernames_dropped);
        f("proto.telnet.options_dropped", self.options_dropped);
        f("proto.telnet.negotiation_dropped", self.negotiation_dropped);
        f("proto.telnet.gaps", self.gaps);
    }
}

/// The Telnet state of one connection.
#[derive(Debug, Clone)]
pub struct TelnetAnalyzer {
    conn: ConnId,
    /// Time of the first payload byte.
    first: Option<Timestamp>,
    orig: Decoder,
    resp: Decoder,
    conversation: Conversation,
}

impl TelnetAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        TelnetAnalyzer {
            conn,
            first: None,
            orig: Decoder::default(),
            resp: Decoder::default(),
            conversation: Conversation::default(),
        }
    }

    /// The next in-order bytes of one direction.
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut TelnetCounters,
        _out: &mut impl Sink<TelnetRecord>,
    ) {
        if data.is_empty() {
            return;
        }
        self.first.get_or_insert(ts);
        let decoder = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        let conversation = &mut self.conversation;
        decoder.decode(data, |event| conversation.on_event(is_orig, event, c));
        if !is_orig {
            self.conversation.on_server_pause(c);
        }
    }

    /// Bytes of one direction are lost: drop the half-read command and line.
    pub fn on_gap(&mut self, is_orig: bool, _len: u64, c: &mut TelnetCounters) {
        c.gaps += 1;
        if is_orig {
            self.orig.reset();
            self.conversation.client_line.reset();
        } else {
            self.resp.reset();
            self.conversation.server_line.reset();
        }
    }

    /// The connection ended: emit its record (when any payload was seen).
    pub fn on_end(
        &mut self,
        _ts: Timestamp,
        _c: &mut TelnetCounters,
        out: &mut impl Sink<TelnetRecord>,
    ) {
        let Some(ts) = self.first.take() else {
            return;
        };
        let conv = std::mem::take(&mut self.conversation);
        out.push(TelnetRecord {
            ts,
            conn: self.conn.clone(),
            options: conv.options,
            login_attempts: conv.login_attempts,
            failures: conv.failures,
            success: conv.success,
            usernames: conv.usernames,
            banner: conv.banner,
            server_negotiation: conv.server_negotiation,
        });
    }
}

/// Content detection: `IAC` followed by a negotiation or `SB` is `Yes`;
/// printable text (a banner or prompt) is `Maybe`; anything else `No`.
pub fn probe(data: &[u8], _is_orig: bool) -> Probe {
    match data {
        [] | [parser::IAC] => Probe::Maybe,
        [parser::IAC, second, ..] if (parser::SB..=parser::DONT).contains(second) => Probe::Yes,
        _ if data
            .iter()
            .take(64)
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace()) =>
        {
            Probe::Maybe
        }
        _ => Probe::No,
    }
}
