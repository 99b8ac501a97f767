//! Per-connection SSH state: identification lines and cleartext packets in →
//! the facts of one [`SshRecord`] (versions, KEXINIT offers, HASSH, host key,
//! negotiated algorithms) and, once both sides encrypt, Zeek's guess at the
//! authentication outcome from the sizes of encrypted deliveries.
//!
//! Limits: identification strings keep [`MAX_IDENT_LEN`] bytes, each
//! name-list [`MAX_NAME_LIST_LEN`] bytes (HASSH is computed over the full
//! lists first), at most [`MAX_LINES_BEFORE_IDENT`] server lines are skipped
//! before its identification. Nothing grows with the traffic.
#![deny(clippy::indexing_slicing)]

use std::fmt::Write as _;

use md5::{Digest, Md5};

use super::parser::{self, KexInit, LineFraming, Packet, PacketFraming};
use super::record::SshRecord;
use super::SshCounters;
use crate::log::ConnId;
use crate::proto::bounded_string;
use crate::proto::stream_buffer::Step;
use crate::time::Timestamp;

/// Identification strings are at most 255 bytes (RFC 4253 §4.2).
pub const MAX_IDENT_LEN: usize = 255;
/// Bytes kept of each KEXINIT name-list.
pub const MAX_NAME_LIST_LEN: usize = 2048;
/// Bytes kept of a `hasshAlgorithms` string.
pub const MAX_HASSH_ALGORITHMS_LEN: usize = 4 * MAX_NAME_LIST_LEN;
/// Lines a server may send before its identification (RFC 4253 §4.2 allows some).
pub const MAX_LINES_BEFORE_IDENT: usize = 32;
/// Version of the HASSH recipe (the Zeek package's `hasshVersion`).
pub const HASSH_VERSION: &str = "1.1";

/// Zeek's `SSH::compression_algorithms`: with these the size heuristic is off.
const COMPRESSION_ALGORITHMS: [&str; 2] = ["zlib", "zlib@openssh.com"];

/// Where one direction's parsing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Waiting for `SSH-…` (a server may send other lines first).
    #[default]
    Identification,
    /// Cleartext binary packets (key exchange).
    Packets,
    /// After NEWKEYS: only delivery sizes are looked at.
    Encrypted,
    /// Not SSH-2 (or garbage): nothing more is parsed.
    Stopped,
}

/// Parse state of one direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Side {
    pub phase: Phase,
    lines_before_ident: usize,
}

/// One side's KEXINIT, as logged and as needed for negotiation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Offer {
    kex: String,
    host_key: String,
    enc_c2s: String,
    enc_s2c: String,
    mac_c2s: String,
    mac_s2c: String,
    cmp_c2s: String,
    cmp_s2c: String,
    /// md5 hex of the HASSH string for this side's role.
    hassh: String,
    /// The HASSH string (bounded).
    hassh_algorithms: String,
}

impl Offer {
    fn new(k: &KexInit<'_>, is_client: bool) -> Self {
        let list = |b: &[u8]| bounded_string(b, MAX_NAME_LIST_LEN);
        let (enc, mac, cmp) = if is_client {
            (k.encryption_c2s, k.mac_c2s, k.compression_c2s)
        } else {
            (k.encryption_s2c, k.mac_s2c, k.compression_s2c)
        };
        let parts = [k.kex_algorithms, enc, mac, cmp];
        let mut md5 = Md5::new();
        let mut joined = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                md5.update(b";");
                joined.push(b';');
            }
            md5.update(part);
            let room = MAX_HASSH_ALGORITHMS_LEN.saturating_sub(joined.len());
            joined.extend_from_slice(part.get(..room).unwrap_or(part));
        }
        Offer {
            kex: list(k.kex_algorithms),
            host_key: list(k.server_host_key_algorithms),
            enc_c2s: list(k.encryption_c2s),
            enc_s2c: list(k.encryption_s2c),
            mac_c2s: list(k.mac_c2s),
            mac_s2c: list(k.mac_s2c),
            cmp_c2s: list(k.compression_c2s),
            cmp_s2c: list(k.compression_s2c),
            hassh: hex(&md5.finalize(), ""),
            hassh_algorithms: bounded_string(&joined, MAX_HASSH_ALGORITHMS_LEN),
        }
    }
}

fn hex(bytes: &[u8], sep: &str) -> String {
    let mut s = String::with_capacity(bytes.len() * (2 + sep.len()));
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Zeek's `find_alg`: the first client algorithm the server also offers.
fn find_alg(client: &str, server: &str) -> String {
    fn names(list: &str) -> impl Iterator<Item = &str> {
        list.split(',').filter(|n| !n.is_empty())
    }
    names(client)
        .find(|c| names(server).any(|s| s == *c))
        .map_or_else(
            || "Algorithm negotiation failed".to_string(),
            str::to_string,
        )
}

/// Zeek's `find_bidirectional_alg`.
fn find_bidirectional_alg(c2s: (&str, &str), s2c: (&str, &str)) -> String {
    let to_server = find_alg(c2s.0, c2s.1);
    let to_client = find_alg(s2c.0, s2c.1);
    if to_server == to_client {
        to_server
    } else {
        format!("To server: {to_server}, to client: {to_client}")
    }
}

/// The algorithms both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Negotiated {
    cipher: String,
    mac: String,
    compression: String,
    kex: String,
    host_key: String,
}

fn negotiate(client: &Offer, server: &Offer) -> Negotiated {
    Negotiated {
        cipher: find_bidirectional_alg(
            (&client.enc_c2s, &server.enc_c2s),
            (&client.enc_s2c, &server.enc_s2c),
        ),
        mac: find_bidirectional_alg(
            (&client.mac_c2s, &server.mac_c2s),
            (&client.mac_s2c, &server.mac_s2c),
        ),
        compression: find_bidirectional_alg(
            (&client.cmp_c2s, &server.cmp_c2s),
            (&client.cmp_s2c, &server.cmp_s2c),
        ),
        kex: find_alg(&client.kex, &server.kex),
        host_key: find_alg(&client.host_key, &server.host_key),
    }
}

/// Zeek's `set_version` (ssh.log `version`) from both identification strings.
pub fn log_version(client: &[u8], server: &[u8]) -> Option<u64> {
    let (Some(&c4), Some(&s4)) = (client.get(4), server.get(4)) else {
        return None;
    };
    let is_199 = |v: &[u8]| v.get(6) == Some(&b'9') && v.get(7) == Some(&b'9');
    match (c4, s4) {
        (b'1', b'2') => Some(if is_199(client) { 2 } else { 0 }),
        (b'2', b'1') => Some(if is_199(server) { 2 } else { 0 }),
        (b'1', b'1') if is_199(server) && is_199(client) => Some(2),
        (b'1', b'1') => Some(1),
        (b'2', b'2') => Some(2),
        _ => None,
    }
}

/// Zeek's guess at the authentication outcome from the sizes of encrypted
/// deliveries (`SSH_Analyzer::ProcessEncrypted`): the server's first
/// encrypted delivery after the client's is SERVICE_ACCEPT; one 16 bytes
/// shorter is USERAUTH_SUCCESS; the first other size is remembered as
/// USERAUTH_FAILURE (deliveries over 256 bytes longer once skipped as a
/// banner) and each later delivery of that size is a failed attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthHeuristic {
    saw_client_data: bool,
    service_accept_size: usize,
    userauth_failure_size: usize,
    skipped_banner: bool,
    pub decided: bool,
}

impl AuthHeuristic {
    /// One encrypted delivery of `len` bytes; `Some(authenticated)` when it
    /// is taken as an authentication attempt.
    pub fn on_encrypted(&mut self, len: usize, is_orig: bool) -> Option<bool> {
        if self.decided || len == 0 {
            return None;
        }
        if is_orig {
            self.saw_client_data = true;
            return None;
        }
        if !self.saw_client_data {
            return None;
        }
        if self.service_accept_size == 0 {
            self.service_accept_size = len;
            return None;
        }
        let success = len + 16 == self.service_accept_size;
        if self.userauth_failure_size == 0 {
            if success {
                self.decided = true;
                return Some(true);
            }
            if !self.skipped_banner && len > self.service_accept_size + 256 {
                self.skipped_banner = true;
                return None;
            }
            self.userauth_failure_size = len;
            return None;
        }
        if len == self.userauth_failure_size {
            return Some(false);
        }
        if success {
            self.decided = true;
            return Some(true);
        }
        None
    }
}

/// What is known about the connection so far.
#[derive(Debug, Clone, Default)]
pub struct Session {
    started: Option<Timestamp>,
    client: Option<String>,
    server: Option<String>,
    client_offer: Option<Offer>,
    server_offer: Option<Offer>,
    negotiated: Option<Negotiated>,
    host_key: Option<String>,
    pub auth: AuthHeuristic,
    auth_success: Option<bool>,
    auth_attempts: u64,
    /// The record was emitted (at authentication success).
    pub logged: bool,
}

impl Session {
    fn start(&mut self, ts: Timestamp) {
        self.started.get_or_insert(ts);
    }

    /// Whether both sides speak SSH-2 (the heuristic applies only then).
    pub fn is_ssh2(&self) -> bool {
        let (Some(c), Some(s)) = (&self.client, &self.server) else {
            return false;
        };
        log_version(c.as_bytes(), s.as_bytes()) == Some(2)
    }

    /// Zeek's `ssh_auth_attempted` handler; true when the record should be
    /// emitted now (a success).
    pub fn on_auth_attempt(&mut self, authenticated: bool, c: &mut SshCounters) -> bool {
        if self.auth_success == Some(true) {
            return false;
        }
        let compressed = self
            .negotiated
            .as_ref()
            .is_some_and(|n| COMPRESSION_ALGORITHMS.contains(&n.compression.as_str()));
        if compressed {
            return false;
        }
        self.auth_success = Some(authenticated);
        self.auth_attempts += 1;
        c.auth_attempts += 1;
        if authenticated {
            c.auth_successes += 1;
        }
        authenticated && !self.logged
    }

    fn on_ident(&mut self, ts: Timestamp, is_orig: bool, text: &[u8], c: &mut SshCounters) {
        self.start(ts);
        c.identifications += 1;
        let slot = if is_orig {
            &mut self.client
        } else {
            &mut self.server
        };
        slot.get_or_insert_with(|| bounded_string(text, MAX_IDENT_LEN));
    }

    fn on_packet(&mut self, ts: Timestamp, is_orig: bool, p: &Packet<'_>, c: &mut SshCounters) {
        match p.msg_type {
            parser::MSG_KEXINIT => match parser::kexinit(p.body) {
                Ok(k) => {
                    c.kexinits += 1;
                    let slot = if is_orig {
                        &mut self.client_offer
                    } else {
                        &mut self.server_offer
                    };
                    slot.get_or_insert_with(|| Offer::new(&k, is_orig));
                    if let (Some(cl), Some(sv), None) =
                        (&self.client_offer, &self.server_offer, &self.negotiated)
                    {
                        self.negotiated = Some(negotiate(cl, sv));
                    }
                }
                Err(_) => c.malformed_kexinits += 1,
            },
            parser::MSG_NEWKEYS => {
                c.newkeys += 1;
                self.start(ts);
            }
            parser::MSG_KEX_REPLY | parser::MSG_KEX_DH_GEX_REPLY if !is_orig => {
                self.on_kex_reply(p, c);
            }
            _ => {}
        }
    }

    /// The server's KEX reply carries the host key blob first. Which message
    /// that is depends on the key exchange: GEX replies with 33 (31 is its
    /// GROUP message), every other method with 31. Unlike Zeek, which knows
    /// only the DH group1/14-sha1, GEX, ECDH and curve25519 methods, this also
    /// fingerprints the host key of newer methods (group14/16-sha256/512,
    /// sntrup761, mlkem768), whose reply has the same layout.
    fn on_kex_reply(&mut self, p: &Packet<'_>, c: &mut SshCounters) {
        if self.host_key.is_some() {
            return;
        }
        let Some(n) = &self.negotiated else {
            return;
        };
        let wanted = if n.kex.starts_with("diffie-hellman-group-exchange") {
            parser::MSG_KEX_DH_GEX_REPLY
        } else if n.kex.starts_with("gss-") {
            return;
        } else {
            parser::MSG_KEX_REPLY
        };
        if p.msg_type != wanted {
            return;
        }
        match parser::host_key_blob(p.body) {
            Ok(blob) => {
                c.host_keys += 1;
                self.host_key = Some(hex(&Md5::digest(blob), ":"));
            }
            Err(_) => c.malformed_kex_replies += 1,
        }
    }

    /// Whether anything SSH was seen (Zeek logs only then).
    pub fn started(&self) -> bool {
        self.started.is_some()
    }

    /// The log record for what is known now.
    pub fn record(&self, conn: &ConnId) -> SshRecord {
        let n = self.negotiated.as_ref();
        let version = match (&self.client, &self.server) {
            (Some(c), Some(s)) => log_version(c.as_bytes(), s.as_bytes()),
            _ => None,
        };
        let co = self.client_offer.as_ref();
        let so = self.server_offer.as_ref();
        SshRecord {
            ts: self.started.unwrap_or_default(),
            conn: conn.clone(),
            version,
            auth_success: self.auth_success,
            auth_attempts: self.auth_attempts,
            client: self.client.clone(),
            server: self.server.clone(),
            cipher_alg: n.map(|n| n.cipher.clone()),
            mac_alg: n.map(|n| n.mac.clone()),
            compression_alg: n.map(|n| n.compression.clone()),
            kex_alg: n.map(|n| n.kex.clone()),
            host_key_alg: n.map(|n| n.host_key.clone()),
            host_key: self.host_key.clone(),
            hassh_version: (co.is_some() || so.is_some()).then_some(HASSH_VERSION),
            hassh: co.map(|o| o.hassh.clone()),
            hassh_server: so.map(|o| o.hassh.clone()),
            cshka: co.map(|o| o.host_key.clone()),
            hassh_algorithms: co.map(|o| o.hassh_algorithms.clone()),
            sshka: so.map(|o| o.host_key.clone()),
            hassh_server_algorithms: so.map(|o| o.hassh_algorithms.clone()),
        }
    }
}

/// Parses the frame at the head of one direction's stream.
pub fn step(
    side: &mut Side,
    session: &mut Session,
    ts: Timestamp,
    is_orig: bool,
    bytes: &[u8],
    c: &mut SshCounters,
) -> Step {
    match side.phase {
        Phase::Identification => match parser::line(bytes) {
            LineFraming::Line { text, len } if text.starts_with(b"SSH-") => {
                session.on_ident(ts, is_orig, text, c);
                if parser::ident_version(text)
                    .is_some_and(|(major, minor)| major < 2 && minor != 99)
                {
                    c.ssh1 += 1;
                    side.phase = Phase::Stopped;
                    return Step::Stop { consumed: len };
                }
                side.phase = Phase::Packets;
                Step::Consumed(len)
            }
            LineFraming::Line { len, .. }
                if !is_orig && side.lines_before_ident < MAX_LINES_BEFORE_IDENT =>
            {
                side.lines_before_ident += 1;
                c.lines_before_ident += 1;
                Step::Consumed(len)
            }
            LineFraming::Line { .. } | LineFraming::TooLong => {
                c.not_ssh += 1;
                side.phase = Phase::Stopped;
                Step::Stop { consumed: 0 }
            }
            LineFraming::Incomplete => Step::Incomplete,
        },
        Phase::Packets => match parser::packet(bytes) {
            PacketFraming::Packet { packet, len } => {
                session.on_packet(ts, is_orig, &packet, c);
                if packet.msg_type == parser::MSG_NEWKEYS {
                    side.phase = Phase::Encrypted;
                    return Step::Stop { consumed: len };
                }
                Step::Consumed(len)
            }
            PacketFraming::Incomplete => Step::Incomplete,
            PacketFraming::Malformed => {
                c.malformed_packets += 1;
                side.phase = Phase::Stopped;
                Step::Stop { consumed: 0 }
            }
        },
        Phase::Encrypted | Phase::Stopped => Step::Stop { consumed: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_client_preference() {
        assert_eq!(find_alg("a,b,c", "c,b"), "b");
        assert_eq!(find_alg("a", "b"), "Algorithm negotiation failed");
        assert_eq!(
            find_bidirectional_alg(("a,b", "b"), ("a,b", "a")),
            "To server: b, to client: a"
        );
    }

    #[test]
    fn versions_like_zeek() {
        assert_eq!(log_version(b"SSH-2.0-a", b"SSH-2.0-b"), Some(2));
        assert_eq!(log_version(b"SSH-1.99-a", b"SSH-2.0-b"), Some(2));
        assert_eq!(log_version(b"SSH-1.5-a", b"SSH-2.0-b"), Some(0));
        assert_eq!(log_version(b"SSH-1.5-a", b"SSH-1.99-b"), Some(1));
        assert_eq!(log_version(b"SSH-1.99-a", b"SSH-1.99-b"), Some(2));
        assert_eq!(log_version(b"SSH", b"SSH-2.0"), None);
    }

    #[test]
    fn heuristic_counts_failures_then_success() {
        let mut h = AuthHeuristic::default();
        assert_eq!(
            h.on_encrypted(64, false),
            None,
            "server data before client is ignored"
        );
        assert_eq!(h.on_encrypted(52, true), None);
        assert_eq!(h.on_encrypted(52, false), None, "service accept");
        assert_eq!(
            h.on_encrypted(68, false),
            None,
            "first failure only sets the size"
        );
        assert_eq!(h.on_encrypted(68, false), Some(false));
        assert_eq!(h.on_encrypted(100, false), None);
        assert_eq!(h.on_encrypted(36, false), Some(true));
        assert!(h.decided);
        assert_eq!(h.on_encrypted(68, false), None);
    }

    #[test]
    fn heuristic_none_auth_and_banner_skip() {
        let mut h = AuthHeuristic::default();
        h.on_encrypted(10, true);
        h.on_encrypted(52, false);
        assert_eq!(h.on_encrypted(36, false), Some(true));
        let mut h = AuthHeuristic::default();
        h.on_encrypted(10, true);
        h.on_encrypted(52, false);
        assert_eq!(h.on_encrypted(52 + 300, false), None, "banner skipped");
        assert_eq!(h.on_encrypted(84, false), None);
        assert_eq!(h.on_encrypted(84, false), Some(false));
    }
}
