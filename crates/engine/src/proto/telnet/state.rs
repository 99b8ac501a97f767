//! The login conversation of one Telnet connection: decoded events of both
//! directions in → option lists, the banner, typed user names and counts of
//! login attempts, failures and success out.
//!
//! Heuristics (text compared without case): a server line ending in
//! `login:`, `name:` or `user:` is a login prompt, one ending in `password:`
//! or `passwd:` a password prompt — both checked on the unfinished line when
//! a server delivery ends, since prompts wait without a newline. The client
//! line after a login prompt is a user name; after a password prompt it is a
//! login attempt (never recorded). While an attempt awaits its result a
//! server line with `incorrect`, `denied`, `invalid`, `authentication
//! failed`, `login failed` or `bad password` is a failure, as is a new
//! prompt; `welcome`, `last login`, `busybox v`, `built-in shell` or a shell
//! prompt (unfinished line ending in `$`, `#` or `>`) is success, after which
//! nothing more is inferred.
//!
//! Limits: lines keep [`MAX_LINE_LEN`] bytes, the banner
//! [`MAX_BANNER_LEN`], at most [`MAX_USERNAMES`] names of
//! [`MAX_USERNAME_LEN`] bytes, [`MAX_OPTIONS`] option names and
//! [`MAX_NEGOTIATION`] server negotiation entries.
#![deny(clippy::indexing_slicing)]

use super::parser::{self, Event, Verb};
use super::TelnetCounters;
use crate::proto::bounded_string;

/// Bytes kept of one line of text.
pub const MAX_LINE_LEN: usize = 256;
/// Bytes kept of the banner.
pub const MAX_BANNER_LEN: usize = 128;
/// User names kept per connection.
pub const MAX_USERNAMES: usize = 8;
/// Bytes kept of one user name.
pub const MAX_USERNAME_LEN: usize = 64;
/// Distinct option names kept per connection.
pub const MAX_OPTIONS: usize = 32;
/// Server negotiation commands kept (its telnetd's fingerprint).
pub const MAX_NEGOTIATION: usize = 16;

const LOGIN_PROMPTS: [&[u8]; 3] = [b"login:", b"name:", b"user:"];
const PASSWORD_PROMPTS: [&[u8]; 2] = [b"password:", b"passwd:"];
const FAILURE_MARKERS: [&[u8]; 6] = [
    b"incorrect",
    b"denied",
    b"invalid",
    b"authentication failed",
    b"login failed",
    b"bad password",
];
const SUCCESS_MARKERS: [&[u8]; 4] = [b"welcome", b"last login", b"busybox v", b"built-in shell"];
const SHELL_PROMPT_ENDS: [u8; 3] = [b'$', b'#', b'>'];

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

fn ends_with_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .get(hay.len() - needle.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(needle))
}

fn trim(line: &[u8]) -> &[u8] {
    line.trim_ascii()
}

/// A line being typed or printed: CR, LF, CR LF and CR NUL end it;
/// backspace/DEL remove the last byte; bytes beyond the limit are dropped.
#[derive(Debug, Clone, Default)]
pub struct LineBuffer {
    bytes: Vec<u8>,
    after_cr: bool,
    truncated: bool,
}

impl LineBuffer {
    /// Adds one byte; true when it ended a line (read it with [`Self::line`],
    /// then [`Self::clear`]).
    pub fn push(&mut self, b: u8, c: &mut TelnetCounters) -> bool {
        let after_cr = std::mem::replace(&mut self.after_cr, false);
        match b {
            b'\n' | 0 if after_cr => false,
            b'\r' => {
                self.after_cr = true;
                true
            }
            b'\n' => true,
            0x08 | 0x7f => {
                self.bytes.pop();
                false
            }
            _ if self.bytes.len() >= MAX_LINE_LEN => {
                if !self.truncated {
                    self.truncated = true;
                    c.lines_truncated += 1;
                }
                false
            }
            _ => {
                self.bytes.push(b);
                false
            }
        }
    }

    pub fn line(&self) -> &[u8] {
        &self.bytes
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.truncated = false;
    }

    /// Drops the line and a pending CR (after a gap).
    pub fn reset(&mut self) {
        self.clear();
        self.after_cr = false;
    }
}

/// What the server's last prompt asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expect {
    #[default]
    Nothing,
    Username,
    Password,
}

/// Everything recorded about one connection.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub options: Vec<String>,
    pub server_negotiation: Vec<String>,
    pub banner: Option<String>,
    pub usernames: Vec<String>,
    pub login_attempts: u64,
    pub failures: u64,
    pub success: bool,
    expect: Expect,
    /// A user name was typed since the last prompt.
    username_given: bool,
    /// A password was typed and no outcome seen yet.
    awaiting_result: bool,
    pub server_line: LineBuffer,
    pub client_line: LineBuffer,
    /// Server text arrived since the unfinished line was last judged.
    server_line_changed: bool,
}

impl Conversation {
    /// Handles one decoded event of one direction.
    pub fn on_event(&mut self, is_orig: bool, event: Event<'_>, c: &mut TelnetCounters) {
        match event {
            Event::Text(text) => {
                c.text_bytes += text.len() as u64;
                if self.success && self.banner.is_some() {
                    // Nothing more is inferred from a logged-in session.
                    return;
                }
                for &b in text {
                    if is_orig {
                        if self.client_line.push(b, c) {
                            self.on_client_line(c);
                            self.client_line.clear();
                        }
                    } else {
                        self.server_line_changed = true;
                        if self.server_line.push(b, c) {
                            self.on_server_line(c);
                            self.server_line.clear();
                        }
                    }
                }
            }
            Event::Negotiation { verb, option } => {
                c.negotiations += 1;
                self.note_option(option, c);
                if !is_orig {
                    self.note_server_negotiation(verb, option, c);
                }
            }
            Event::Subnegotiation {
                option, overflow, ..
            } => {
                c.subnegotiations += 1;
                if overflow {
                    c.subnegotiation_overflows += 1;
                }
                self.note_option(option, c);
            }
            Event::Command(code) => {
                if code < parser::SE {
                    c.bad_commands += 1;
                } else {
                    c.commands += 1;
                }
            }
        }
    }

    fn note_option(&mut self, option: u8, c: &mut TelnetCounters) {
        let name = parser::option_name(option);
        if self.options.iter().any(|o| *o == name) {
            return;
        }
        if self.options.len() < MAX_OPTIONS {
            self.options.push(name.into_owned());
        } else {
            c.options_dropped += 1;
        }
    }

    fn note_server_negotiation(&mut self, verb: Verb, option: u8, c: &mut TelnetCounters) {
        if self.server_negotiation.len() < MAX_NEGOTIATION {
            self.server_negotiation.push(format!(
                "{} {}",
                verb.as_str(),
                parser::option_name(option)
            ));
        } else {
            c.negotiation_dropped += 1;
        }
    }

    fn on_client_line(&mut self, c: &mut TelnetCounters) {
        if self.success {
            return;
        }
        match self.expect {
            Expect::Username => {
                let name = trim(self.client_line.line());
                if self.usernames.len() < MAX_USERNAMES {
                    self.usernames.push(bounded_string(name, MAX_USERNAME_LEN));
                } else {
                    c.usernames_dropped += 1;
                }
                self.username_given = true;
                self.expect = Expect::Nothing;
            }
            Expect::Password => {
                self.login_attempts += 1;
                c.login_attempts += 1;
                self.awaiting_result = true;
                self.username_given = false;
                self.expect = Expect::Nothing;
            }
            Expect::Nothing => {}
        }
    }

    fn on_server_line(&mut self, c: &mut TelnetCounters) {
        let line = trim(self.server_line.line());
        if line.is_empty() {
            return;
        }
        if self.banner.is_none() {
            self.banner = Some(bounded_string(line, MAX_BANNER_LEN));
        }
        if self.success || !(self.awaiting_result || self.username_given) {
            return;
        }
        if self.awaiting_result
            && SUCCESS_MARKERS
                .iter()
                .any(|m| contains_ignore_case(line, m))
        {
            self.succeed(c);
        } else if FAILURE_MARKERS
            .iter()
            .any(|m| contains_ignore_case(line, m))
        {
            self.fail(c);
        }
    }

    /// The server's delivery ended: an unfinished line may be a prompt
    /// (judged once: a later delivery of commands only does not repeat it).
    pub fn on_server_pause(&mut self, c: &mut TelnetCounters) {
        if !std::mem::replace(&mut self.server_line_changed, false) {
            return;
        }
        let line = trim(self.server_line.line());
        if line.is_empty() || self.success {
            return;
        }
        let prompt = if PASSWORD_PROMPTS
            .iter()
            .any(|p| ends_with_ignore_case(line, p))
        {
            Expect::Password
        } else if LOGIN_PROMPTS.iter().any(|p| ends_with_ignore_case(line, p)) {
            Expect::Username
        } else {
            if self.awaiting_result && line.last().is_some_and(|b| SHELL_PROMPT_ENDS.contains(b)) {
                self.succeed(c);
            }
            return;
        };
        if self.banner.is_none() {
            self.banner = Some(bounded_string(line, MAX_BANNER_LEN));
        }
        if prompt == Expect::Password {
            c.password_prompts += 1;
            if self.awaiting_result {
                self.fail(c);
            }
        } else {
            c.login_prompts += 1;
            if self.awaiting_result || self.username_given {
                self.fail(c);
            }
        }
        self.expect = prompt;
    }

    fn fail(&mut self, c: &mut TelnetCounters) {
        if self.username_given && !self.awaiting_result {
            // A user name refused before any password: still an attempt.
            self.login_attempts += 1;
            c.login_attempts += 1;
        }
        self.failures += 1;
        c.failures += 1;
        self.awaiting_result = false;
        self.username_given = false;
    }

    fn succeed(&mut self, c: &mut TelnetCounters) {
        self.success = true;
        c.successes += 1;
        self.awaiting_result = false;
        self.username_given = false;
        self.expect = Expect::Nothing;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(conv: &mut Conversation, c: &mut TelnetCounters, text: &[u8]) {
        conv.on_event(false, Event::Text(text), c);
        conv.on_server_pause(c);
    }

    fn client(conv: &mut Conversation, c: &mut TelnetCounters, text: &[u8]) {
        conv.on_event(true, Event::Text(text), c);
    }

    #[test]
    fn mirai_style_failure_then_success() {
        let (mut conv, mut c) = (Conversation::default(), TelnetCounters::default());
        server(&mut conv, &mut c, b"\r\nnvr login: ");
        client(&mut conv, &mut c, b"root\r\n");
        server(&mut conv, &mut c, b"root\r\nPassword: ");
        client(&mut conv, &mut c, b"xc3511\r\n");
        server(&mut conv, &mut c, b"\r\nLogin incorrect\r\nnvr login: ");
        assert_eq!(
            (conv.login_attempts, conv.failures, conv.success),
            (1, 1, false)
        );
        client(&mut conv, &mut c, b"admin\r\n");
        server(&mut conv, &mut c, b"admin\r\nPassword: ");
        client(&mut conv, &mut c, b"admin\r\n");
        server(
            &mut conv,
            &mut c,
            b"\r\n\r\nBusyBox v1.19.3 built-in shell (ash)\r\n# ",
        );
        assert_eq!(
            (conv.login_attempts, conv.failures, conv.success),
            (2, 1, true)
        );
        assert_eq!(conv.usernames, ["root", "admin"]);
        assert_eq!(conv.banner.as_deref(), Some("nvr login:"));
        client(&mut conv, &mut c, b"incorrect denied\r\n");
        server(&mut conv, &mut c, b"Login incorrect\r\nlogin: ");
        assert_eq!(conv.failures, 1, "nothing inferred after success");
    }

    #[test]
    fn character_mode_with_backspace_and_shell_prompt() {
        let (mut conv, mut c) = (Conversation::default(), TelnetCounters::default());
        server(&mut conv, &mut c, b"Ubuntu 22.04\r\nhost login: ");
        for b in [b'r', b'o', b'x', 0x7f, b'o', b't', b'\r', 0] {
            client(&mut conv, &mut c, &[b]);
        }
        server(&mut conv, &mut c, b"Password:");
        client(&mut conv, &mut c, b"secret\r\0");
        server(&mut conv, &mut c, b"\r\n");
        server(&mut conv, &mut c, b"user@host:~$ ");
        assert_eq!(conv.usernames, ["root"]);
        assert_eq!(conv.banner.as_deref(), Some("Ubuntu 22.04"));
        assert_eq!(
            (conv.login_attempts, conv.failures, conv.success),
            (1, 0, true)
        );
    }

    #[test]
    fn repeated_prompt_counts_failure_and_limits_hold() {
        let (mut conv, mut c) = (Conversation::default(), TelnetCounters::default());
        for i in 0..(MAX_USERNAMES + 3) {
            server(&mut conv, &mut c, b"Username: ");
            client(
                &mut conv,
                &mut c,
                format!("user{i}{}\n", "x".repeat(100)).as_bytes(),
            );
            server(&mut conv, &mut c, b"Password: ");
            client(&mut conv, &mut c, b"pw\n");
        }
        server(&mut conv, &mut c, b"Username: ");
        assert_eq!(conv.login_attempts, (MAX_USERNAMES + 3) as u64);
        assert_eq!(conv.failures, conv.login_attempts);
        assert_eq!(conv.usernames.len(), MAX_USERNAMES);
        assert!(conv.usernames.iter().all(|u| u.len() == MAX_USERNAME_LEN));
        assert_eq!(c.usernames_dropped, 3);
    }

    #[test]
    fn long_lines_are_cut() {
        let mut l = LineBuffer::default();
        let mut c = TelnetCounters::default();
        for _ in 0..MAX_LINE_LEN + 10 {
            assert!(!l.push(b'a', &mut c));
        }
        assert!(l.push(b'\n', &mut c));
        assert_eq!(l.line().len(), MAX_LINE_LEN);
        assert_eq!(c.lines_truncated, 1);
    }
}
