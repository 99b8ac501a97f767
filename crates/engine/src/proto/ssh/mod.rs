//! SSH analyzer: the in-order bytes of each direction in → one [`SshRecord`]
//! (Zeek's ssh.log plus the HASSH columns) per connection out.
//!
//! Each direction is read as its identification line, then cleartext binary
//! packets (`parser`) until its NEWKEYS; KEXINITs give the offered and
//! negotiated algorithms and HASSH/HASSHServer, the server's KEX reply the
//! host key fingerprint (`state`). After NEWKEYS only the size of each
//! delivery is used, for Zeek's authentication heuristic — which assumes one
//! `on_data` call per TCP segment, as Zeek's analyzer sees them. The record
//! is emitted when authentication succeeds (as Zeek logs then) or at the
//! connection's end. Limits: [`parser::MAX_PACKET_LEN`] bytes buffered per
//! direction; the string limits of `state`.

pub mod parser;
pub mod record;
pub mod state;

pub use record::SshRecord;

use crate::counters::Counters;
use crate::log::ConnId;
use crate::proto::stream_buffer::{Fed, StreamBuffer};
use crate::proto::Probe;
use crate::sink::Sink;
use crate::time::Timestamp;

use state::{Phase, Session, Side};

/// The `service` name in conn.log.
pub const SERVICE: &str = "ssh";
/// The well-known SSH port (a hint; the probe decides).
pub const PORT: u16 = 22;

/// What the SSH analyzers saw, summed over connections.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SshCounters {
    /// `SSH-` identification lines.
    pub identifications: u64,
    /// Server lines skipped before its identification.
    pub lines_before_ident: u64,
    /// Directions that did not start like SSH (direction stopped).
    pub not_ssh: u64,
    /// Sides announcing SSH-1 (only the identification is read).
    pub ssh1: u64,
    pub kexinits: u64,
    pub malformed_kexinits: u64,
    pub newkeys: u64,
    /// Server host keys fingerprinted.
    pub host_keys: u64,
    pub malformed_kex_replies: u64,
    /// Cleartext packets with an impossible length (direction stopped).
    pub malformed_packets: u64,
    /// Frames larger than the buffer (direction stopped).
    pub overflows: u64,
    /// Authentication attempts and successes inferred from sizes.
    pub auth_attempts: u64,
    pub auth_successes: u64,
    /// Directions whose cleartext phase was cut by a gap.
    pub gaps: u64,
    /// Bytes ignored in stopped directions.
    pub skipped_bytes: u64,
    /// Bytes after NEWKEYS.
    pub encrypted_bytes: u64,
}

impl Counters for SshCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("proto.ssh.identifications", self.identifications);
        f("proto.ssh.lines_before_ident", self.lines_before_ident);
        f("proto.ssh.not_ssh", self.not_ssh);
        f("proto.ssh.ssh1", self.ssh1);
        f("proto.ssh.kexinits", self.kexinits);
        f("proto.ssh.malformed_kexinits", self.malformed_kexinits);
        f("proto.ssh.newkeys", self.newkeys);
        f("proto.ssh.host_keys", self.host_keys);
        f(
            "proto.ssh.malformed_kex_replies",
            self.malformed_kex_replies,
        );
        f("proto.ssh.malformed_packets", self.malformed_packets);
        f("proto.ssh.overflows", self.overflows);
        f("proto.ssh.auth_attempts", self.auth_attempts);
        f("proto.ssh.auth_successes", self.auth_successes);
        f("proto.ssh.gaps", self.gaps);
        f("proto.ssh.skipped_bytes", self.skipped_bytes);
        f("proto.ssh.encrypted_bytes", self.encrypted_bytes);
    }
}

#[derive(Debug, Clone)]
struct Direction {
    stream: StreamBuffer,
    side: Side,
    /// A gap was reported: Zeek stops all analysis of the connection then.
    had_gap: bool,
}

impl Direction {
    fn new() -> Self {
        Direction {
            stream: StreamBuffer::new(parser::MAX_PACKET_LEN + parser::MAX_LINE_LEN),
            side: Side::default(),
            had_gap: false,
        }
    }
}

/// The SSH state of one connection.
#[derive(Debug, Clone)]
pub struct SshAnalyzer {
    conn: ConnId,
    orig: Direction,
    resp: Direction,
    session: Session,
}

impl SshAnalyzer {
    pub fn new(conn: ConnId) -> Self {
        SshAnalyzer {
            conn,
            orig: Direction::new(),
            resp: Direction::new(),
            session: Session::default(),
        }
    }

    /// The next in-order bytes of one direction (one TCP segment per call
    /// for the authentication heuristic to match Zeek's).
    pub fn on_data(
        &mut self,
        ts: Timestamp,
        is_orig: bool,
        data: &[u8],
        c: &mut SshCounters,
        out: &mut impl Sink<SshRecord>,
    ) {
        if self.orig.had_gap || self.resp.had_gap {
            c.skipped_bytes += data.len() as u64;
            return;
        }
        let dir = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        let encrypted = match dir.side.phase {
            Phase::Encrypted => data.len(),
            _ => {
                let (side, session) = (&mut dir.side, &mut self.session);
                let fed = dir.stream.feed(data, |bytes| {
                    state::step(side, session, ts, is_orig, bytes, c)
                });
                match fed {
                    Fed::Buffered => 0,
                    Fed::Stopped { unparsed } if dir.side.phase == Phase::Encrypted => unparsed,
                    Fed::Stopped { unparsed } => {
                        c.skipped_bytes += unparsed as u64;
                        0
                    }
                    Fed::Overflow => {
                        c.overflows += 1;
                        dir.side.phase = Phase::Stopped;
                        0
                    }
                }
            }
        };
        if encrypted > 0 {
            self.on_encrypted(encrypted, is_orig, c, out);
        }
    }

    fn on_encrypted(
        &mut self,
        len: usize,
        is_orig: bool,
        c: &mut SshCounters,
        out: &mut impl Sink<SshRecord>,
    ) {
        c.encrypted_bytes += len as u64;
        if !self.session.is_ssh2() {
            return;
        }
        let Some(authenticated) = self.session.auth.on_encrypted(len, is_orig) else {
            return;
        };
        if self.session.on_auth_attempt(authenticated, c) {
            self.session.logged = true;
            out.push(self.session.record(&self.conn));
        }
    }

    /// Bytes of one direction are lost; like Zeek, nothing more of the
    /// connection is analysed (the record keeps what was seen).
    pub fn on_gap(&mut self, is_orig: bool, _len: u64, c: &mut SshCounters) {
        let dir = if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        };
        if !dir.had_gap {
            c.gaps += 1;
            dir.had_gap = true;
            dir.stream.stop();
        }
    }

    /// The connection ended: emit the record unless authentication success
    /// already did.
    pub fn on_end(&mut self, _ts: Timestamp, _c: &mut SshCounters, out: &mut impl Sink<SshRecord>) {
        if self.session.started() && !self.session.logged {
            self.session.logged = true;
            out.push(self.session.record(&self.conn));
        }
    }
}

/// Content detection: `SSH-` is `Yes`; a prefix of it is `Maybe`; a server
/// may send text lines before its identification, so printable server text
/// is `Maybe` too.
pub fn probe(data: &[u8], is_orig: bool) -> Probe {
    const MAGIC: &[u8] = b"SSH-";
    if data.starts_with(MAGIC) {
        return Probe::Yes;
    }
    if MAGIC.starts_with(data) {
        return Probe::Maybe;
    }
    let printable = data
        .iter()
        .take(parser::MAX_LINE_LEN)
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if !is_orig && printable {
        Probe::Maybe
    } else {
        Probe::No
    }
}
