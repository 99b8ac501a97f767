//! Session state of one TLS/DTLS connection: framing events of both
//! directions in → the fields of one [`SslRecord`] out.
//!
//! Follows Zeek's `base/protocols/ssl` scripts: `ssl_history` letters (client
//! upper case, `^` when the responder sent the ClientHello), the version from
//! the server's supported_versions extension over the ServerHello's, resumption
//! by session id, by session ticket (non-empty ticket, empty session id, client
//! CCS before any ClientKeyExchange) or by an accepted PSK, and `established`
//! once application data flows after both sides switched to encryption (CCS,
//! or for TLS 1.3 the ServerHello and the client's first encrypted record).
//! Limits: [`MAX_HISTORY`] letters, [`MAX_SERVER_NAME`] bytes of SNI,
//! [`MAX_OFFERED`] entries per offered list, [`MAX_ALPN`] ALPN names,
//! [`MAX_CHAIN_FPS`] fingerprints per chain.
#![deny(clippy::indexing_slicing)]

use super::cert;
use super::fingerprint::{self, Ja4Transport};
use super::framing::{EventSink, TlsEvent};
use super::names;
use super::parser::{self, extension_type as ext, handshake_type as hs, ClientHello, ServerHello};
use super::record::SslRecord;
use super::TlsCounters;
use crate::log::ConnId;
use crate::proto::bounded_string;
use crate::time::Timestamp;

/// Letters kept in `ssl_history` (Zeek's `SSL::max_ssl_history_length`).
pub const MAX_HISTORY: usize = 100;
/// Bytes of the SNI host name kept.
pub const MAX_SERVER_NAME: usize = 255;
/// Entries kept per offered list (ciphers, extensions, versions, groups).
pub const MAX_OFFERED: usize = 512;
/// ALPN protocol names kept from the ClientHello.
pub const MAX_ALPN: usize = 16;
/// Bytes kept per ALPN protocol name.
pub const MAX_ALPN_NAME: usize = 64;
/// Certificate fingerprints kept per chain.
pub const MAX_CHAIN_FPS: usize = 16;

/// Everything known about one connection so far.
#[derive(Debug)]
pub struct Session {
    record: SslRecord,
    dtls: bool,
    now: Timestamp,
    seen_any: bool,
    /// Whether the responder sent the ClientHello (decided by the first hello).
    flipped: bool,
    hello_seen: bool,
    client_encrypted: bool,
    server_encrypted: bool,
    tls13: bool,
    history_full: bool,
    client_session_id: Vec<u8>,
    client_ticket_empty_session: bool,
    client_key_exchange_seen: bool,
    client_psk: bool,
    cipher: Option<u16>,
    server_chain_seen: bool,
    client_chain_seen: bool,
    leaf_names: Option<Vec<String>>,
}

impl Session {
    pub fn new(conn: ConnId) -> Self {
        Session {
            record: SslRecord {
                ts: Timestamp::ZERO,
                conn,
                version: None,
                cipher: None,
                curve: None,
                server_name: None,
                resumed: false,
                last_alert: None,
                next_protocol: None,
                established: false,
                ssl_history: String::new(),
                cert_chain_fps: Vec::new(),
                client_cert_chain_fps: Vec::new(),
                subject: None,
                issuer: None,
                client_subject: None,
                client_issuer: None,
                sni_matches_cert: None,
                ja3: None,
                ja3s: None,
                ja4: None,
                client_version: None,
                client_ciphers: Vec::new(),
                client_extensions: Vec::new(),
                client_supported_versions: Vec::new(),
                client_curves: Vec::new(),
                client_alpn: Vec::new(),
                cert_not_valid_before: None,
                cert_not_valid_after: None,
                cert_self_signed: None,
                cert_sha1: None,
                sslv2_client_hello: false,
            },
            dtls: false,
            now: Timestamp::ZERO,
            seen_any: false,
            flipped: false,
            hello_seen: false,
            client_encrypted: false,
            server_encrypted: false,
            tls13: false,
            history_full: false,
            client_session_id: Vec::new(),
            client_ticket_empty_session: false,
            client_key_exchange_seen: false,
            client_psk: false,
            cipher: None,
            server_chain_seen: false,
            client_chain_seen: false,
            leaf_names: None,
        }
    }

    /// Sets the packet time of the events that follow, and the transport.
    pub fn set_context(&mut self, now: Timestamp, dtls: bool) {
        self.now = now;
        self.dtls = dtls;
    }

    /// Whether any TLS message was seen (a record is worth writing).
    pub fn seen_any(&self) -> bool {
        self.seen_any
    }

    pub fn established(&self) -> bool {
        self.record.established
    }

    /// The record as it stands.
    pub fn finish(&mut self) -> SslRecord {
        if let (Some(names), Some(sni)) = (&self.leaf_names, &self.record.server_name) {
            self.record.sni_matches_cert = Some(cert::hostname_matches(names, sni));
        }
        self.record.clone()
    }

    fn is_client(&self, is_orig: bool) -> bool {
        is_orig != self.flipped
    }

    fn add_history(&mut self, is_client: bool, letter: char, c: &mut TlsCounters) {
        if self.record.ssl_history.len() >= MAX_HISTORY {
            if !self.history_full {
                self.history_full = true;
                c.history_truncated += 1;
            }
            return;
        }
        let letter = if is_client {
            letter.to_ascii_uppercase()
        } else {
            letter
        };
        self.record.ssl_history.push(letter);
    }

    fn handshake(
        &mut self,
        is_orig: bool,
        msg_type: u8,
        body: &[u8],
        truncated: bool,
        c: &mut TlsCounters,
    ) {
        if msg_type == hs::CLIENT_HELLO && !self.hello_seen && !is_orig {
            // The responder opened the handshake (Zeek: "direction flipped").
            self.flipped = true;
            self.record.ssl_history.push('^');
        }
        let is_client = self.is_client(is_orig);
        match msg_type {
            hs::CLIENT_HELLO => {
                self.hello_seen = true;
                self.add_history(is_client, 'c', c);
                self.client_hello(body, c);
            }
            hs::SERVER_HELLO => {
                self.hello_seen = true;
                self.server_hello(is_client, body, c);
            }
            hs::CERTIFICATE => {
                self.add_history(is_client, 'x', c);
                if truncated {
                    c.cert_chain_too_large += 1;
                }
                self.certificates(is_client, body, c);
            }
            hs::SERVER_KEY_EXCHANGE => {
                self.add_history(is_client, 'k', c);
                if self.cipher.is_some_and(names::cipher_uses_ecdh) {
                    if let Some(group) = parser::ecdh_named_curve(body) {
                        self.record.curve = Some(names::curve(group).into_owned());
                    }
                }
            }
            hs::CLIENT_KEY_EXCHANGE => {
                self.add_history(is_client, 'g', c);
                if is_client {
                    self.client_key_exchange_seen = true;
                }
            }
            other => self.add_history(is_client, names::history_letter(other), c),
        }
    }

    fn client_hello(&mut self, body: &[u8], c: &mut TlsCounters) {
        c.client_hellos += 1;
        let hello = match ClientHello::parse(body, self.dtls) {
            Ok(hello) => hello,
            Err(_) => {
                c.malformed_hellos += 1;
                return;
            }
        };
        let r = &mut self.record;
        r.client_version = Some(u64::from(hello.version));
        r.client_ciphers.clear();
        r.client_extensions.clear();
        r.client_supported_versions.clear();
        r.client_curves.clear();
        r.client_alpn.clear();
        let mut cut = false;
        for cipher in hello.ciphers() {
            cut |= push_bounded(&mut r.client_ciphers, u64::from(cipher));
        }
        let real_session_id = !hello.session_id.is_empty() && hello.session_id != [0u8; 32];
        self.client_session_id.clear();
        if real_session_id {
            self.client_session_id.extend_from_slice(hello.session_id);
        }
        let mut extensions = hello.extensions();
        for (ty, data) in extensions.by_ref() {
            cut |= push_bounded(&mut r.client_extensions, u64::from(ty));
            match ty {
                ext::SERVER_NAME => {
                    if let Some(name) = parser::sni_host_name(data) {
                        if name.len() > MAX_SERVER_NAME {
                            c.strings_truncated += 1;
                        }
                        r.server_name = Some(bounded_string(name, MAX_SERVER_NAME));
                    }
                }
                ext::ALPN => {
                    for name in parser::alpn_protocols(data) {
                        if r.client_alpn.len() >= MAX_ALPN {
                            cut = true;
                            break;
                        }
                        r.client_alpn.push(bounded_string(name, MAX_ALPN_NAME));
                    }
                }
                ext::SUPPORTED_VERSIONS => {
                    for v in parser::u16s(parser::client_supported_versions(data)) {
                        cut |= push_bounded(&mut r.client_supported_versions, u64::from(v));
                    }
                }
                ext::SUPPORTED_GROUPS => {
                    for g in parser::u16s(parser::u16_list16(data)) {
                        cut |= push_bounded(&mut r.client_curves, u64::from(g));
                    }
                }
                ext::SESSION_TICKET => {
                    self.client_ticket_empty_session = !data.is_empty() && !real_session_id;
                }
                ext::PRE_SHARED_KEY => self.client_psk = true,
                _ => {}
            }
        }
        if extensions.truncated() {
            c.malformed_extensions += 1;
        }
        if cut {
            c.lists_truncated += 1;
        }
        r.ja3 = Some(fingerprint::ja3(&hello));
        let transport = if self.dtls {
            Ja4Transport::Dtls
        } else {
            Ja4Transport::Tcp
        };
        r.ja4 = Some(fingerprint::ja4(&hello, transport));
    }

    fn server_hello(&mut self, is_client: bool, body: &[u8], c: &mut TlsCounters) {
        c.server_hellos += 1;
        let hello = match ServerHello::parse(body) {
            Ok(hello) => hello,
            Err(_) => {
                self.add_history(is_client, 's', c);
                c.malformed_hellos += 1;
                return;
            }
        };
        let retry = hello.is_hello_retry_request();
        if retry {
            c.hello_retry_requests += 1;
        }
        self.add_history(is_client, if retry { 'j' } else { 's' }, c);
        let mut version = hello.version;
        let mut extensions = hello.extensions();
        for (ty, data) in extensions.by_ref() {
            match ty {
                ext::SUPPORTED_VERSIONS => {
                    if let Some(v) = parser::u16s(data).next() {
                        version = v;
                    }
                }
                ext::ALPN => {
                    if let Some(name) = parser::alpn_protocols(data).next() {
                        self.record.next_protocol = Some(bounded_string(name, MAX_ALPN_NAME));
                    }
                }
                ext::KEY_SHARE => {
                    if let Some(group) = parser::u16s(data).next() {
                        self.record.curve = Some(names::curve(group).into_owned());
                    }
                }
                ext::PRE_SHARED_KEY if self.client_psk => self.record.resumed = true,
                _ => {}
            }
        }
        if extensions.truncated() {
            c.malformed_extensions += 1;
        }
        let tls13 = version == 0x0304 || version == 0xfefc || version >> 8 == 0x7f;
        let r = &mut self.record;
        r.version = Some(names::version(version).into_owned());
        r.cipher = Some(names::cipher(hello.cipher).into_owned());
        r.ja3s = Some(fingerprint::ja3s(&hello));
        self.cipher = Some(hello.cipher);
        if !tls13
            && !self.client_session_id.is_empty()
            && self.client_session_id == hello.session_id
        {
            r.resumed = true;
        }
        if tls13 && !retry {
            self.tls13 = true;
            // Everything the server sends after its TLS 1.3 ServerHello is encrypted.
            self.set_encrypted(false);
        }
    }

    fn certificates(&mut self, is_client: bool, body: &[u8], c: &mut TlsCounters) {
        let seen = if is_client {
            &mut self.client_chain_seen
        } else {
            &mut self.server_chain_seen
        };
        if std::mem::replace(seen, true) {
            return;
        }
        for (i, der) in parser::certificate_list(body).enumerate() {
            c.certificates += 1;
            let fps = if is_client {
                &mut self.record.client_cert_chain_fps
            } else {
                &mut self.record.cert_chain_fps
            };
            if i < MAX_CHAIN_FPS {
                fps.push(c.cert_cache.sha256(der));
            }
            if i != 0 {
                continue;
            }
            match c.cert_cache.leaf(der) {
                Ok(leaf) if is_client => {
                    self.record.client_subject = Some(leaf.subject);
                    self.record.client_issuer = Some(leaf.issuer);
                }
                Ok(leaf) => {
                    let r = &mut self.record;
                    r.subject = Some(leaf.subject);
                    r.issuer = Some(leaf.issuer);
                    r.cert_not_valid_before = Some(leaf.not_valid_before);
                    r.cert_not_valid_after = Some(leaf.not_valid_after);
                    r.cert_self_signed = Some(leaf.self_signed);
                    r.cert_sha1 = Some(leaf.sha1);
                    self.leaf_names = Some(leaf.dns_names);
                }
                Err(_) => c.certificate_parse_errors += 1,
            }
        }
    }

    fn set_encrypted(&mut self, is_client: bool) {
        if is_client {
            self.client_encrypted = true;
        } else {
            self.server_encrypted = true;
        }
    }

    fn change_cipher_spec(&mut self, is_client: bool, c: &mut TlsCounters) {
        self.add_history(is_client, 'i', c);
        if is_client && self.client_ticket_empty_session && !self.client_key_exchange_seen {
            self.record.resumed = true;
        }
        self.set_encrypted(is_client);
    }

    fn application_data(&mut self, is_client: bool, c: &mut TlsCounters) {
        if is_client && self.tls13 && self.server_encrypted {
            // TLS 1.3 without the compatibility CCS: the client's Finished is its first encrypted record.
            self.client_encrypted = true;
        }
        if self.client_encrypted && self.server_encrypted && !self.record.established {
            self.record.established = true;
            c.established += 1;
        }
    }
}

/// Pushes `v` unless `list` is full; returns whether it was dropped.
fn push_bounded(list: &mut Vec<u64>, v: u64) -> bool {
    if list.len() < MAX_OFFERED {
        list.push(v);
        false
    } else {
        true
    }
}

impl EventSink for Session {
    fn encrypted(&self, is_orig: bool) -> bool {
        if self.is_client(is_orig) {
            self.client_encrypted
        } else {
            self.server_encrypted
        }
    }

    fn event(&mut self, is_orig: bool, event: TlsEvent<'_>, c: &mut TlsCounters) {
        // Application data alone (a capture that starts mid-session) is not worth a record.
        if !self.seen_any && event != TlsEvent::ApplicationData {
            self.seen_any = true;
            self.record.ts = self.now;
        }
        let is_client = self.is_client(is_orig);
        match event {
            TlsEvent::Handshake {
                msg_type,
                body,
                truncated,
            } => self.handshake(is_orig, msg_type, body, truncated, c),
            TlsEvent::ChangeCipherSpec => self.change_cipher_spec(is_client, c),
            TlsEvent::Alert { description, .. } => {
                c.alerts += 1;
                self.add_history(is_client, 'l', c);
                self.record.last_alert = Some(names::alert_description(description).into_owned());
            }
            TlsEvent::ApplicationData => self.application_data(is_client, c),
            TlsEvent::Heartbeat => self.add_history(is_client, 'b', c),
            TlsEvent::Sslv2ClientHello => {
                self.hello_seen = true;
                self.record.sslv2_client_hello = true;
                self.add_history(is_client, 'c', c);
            }
        }
    }
}
