//! Telnet's in-band commands (RFC 854/855): one direction's bytes in →
//! [`Event`]s out — runs of text, option negotiations (WILL/WONT/DO/DONT),
//! subnegotiations (`IAC SB … IAC SE`) and other commands. `IAC IAC` is a
//! literal 0xff in the text. The decoder keeps its state across calls, so a
//! command split over two segments is still recognised.
//!
//! Limit: a subnegotiation longer than [`MAX_SUBNEGOTIATION_LEN`] bytes
//! without its `IAC SE` is abandoned (reported with `overflow: true`) and
//! decoding returns to text; nothing is buffered or allocated.
#![deny(clippy::indexing_slicing)]

/// Interpret As Command.
pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
/// Subnegotiation begin and end.
pub const SB: u8 = 250;
pub const SE: u8 = 240;

/// Subnegotiation bytes accepted before `IAC SE` must have come.
pub const MAX_SUBNEGOTIATION_LEN: usize = 1024;

/// An option negotiation verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Will,
    Wont,
    Do,
    Dont,
}

impl Verb {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            WILL => Verb::Will,
            WONT => Verb::Wont,
            DO => Verb::Do,
            DONT => Verb::Dont,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Will => "WILL",
            Verb::Wont => "WONT",
            Verb::Do => "DO",
            Verb::Dont => "DONT",
        }
    }
}

/// What the decoder found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Text bytes (commands removed, `IAC IAC` unescaped).
    Text(&'a [u8]),
    Negotiation {
        verb: Verb,
        option: u8,
    },
    /// A finished (or abandoned, `overflow`) subnegotiation of `len` bytes.
    Subnegotiation {
        option: u8,
        len: usize,
        overflow: bool,
    },
    /// Another command (NOP, DM, BRK, IP, AO, AYT, EC, EL, GA) or, for a
    /// byte below 240, an invalid one.
    Command(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    /// After IAC.
    Iac,
    /// After IAC WILL/WONT/DO/DONT.
    Option(Verb),
    /// After IAC SB.
    SubOption,
    /// Inside a subnegotiation.
    Sub { option: u8, len: usize },
    /// After IAC inside a subnegotiation.
    SubIac { option: u8, len: usize },
}

/// The command decoder of one direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decoder {
    state: State,
}

impl Decoder {
    /// Forgets a half-read command (after a gap).
    pub fn reset(&mut self) {
        self.state = State::Text;
    }

    /// Decodes `data`, calling `f` for each event in order.
    pub fn decode<'a>(&mut self, data: &'a [u8], mut f: impl FnMut(Event<'a>)) {
        let mut text_start = 0;
        for (i, &b) in data.iter().enumerate() {
            self.state = match self.state {
                State::Text if b == IAC => {
                    if let Some(run) = data.get(text_start..i).filter(|r| !r.is_empty()) {
                        f(Event::Text(run));
                    }
                    State::Iac
                }
                State::Text => continue,
                State::Iac => match b {
                    IAC => {
                        f(Event::Text(&[IAC]));
                        State::Text
                    }
                    SB => State::SubOption,
                    _ => match Verb::from_byte(b) {
                        Some(verb) => State::Option(verb),
                        None => {
                            f(Event::Command(b));
                            State::Text
                        }
                    },
                },
                State::Option(verb) => {
                    f(Event::Negotiation { verb, option: b });
                    State::Text
                }
                State::SubOption => State::Sub { option: b, len: 0 },
                State::Sub { option, len } if b == IAC => State::SubIac { option, len },
                State::Sub { option, len } => self.sub_byte(option, len + 1, &mut f),
                State::SubIac { option, len } => match b {
                    SE => {
                        f(Event::Subnegotiation {
                            option,
                            len,
                            overflow: false,
                        });
                        State::Text
                    }
                    // IAC IAC is a data byte of the subnegotiation; anything
                    // else is a protocol error we read past.
                    _ => self.sub_byte(option, len + 1, &mut f),
                },
            };
            if self.state == State::Text {
                text_start = i + 1;
            }
        }
        if self.state == State::Text {
            if let Some(run) = data.get(text_start..).filter(|r| !r.is_empty()) {
                f(Event::Text(run));
            }
        }
    }

    fn sub_byte<'a>(&self, option: u8, len: usize, f: &mut impl FnMut(Event<'a>)) -> State {
        if len > MAX_SUBNEGOTIATION_LEN {
            f(Event::Subnegotiation {
                option,
                len,
                overflow: true,
            });
            State::Text
        } else {
            State::Sub { option, len }
        }
    }
}

/// The name of a Telnet option (IANA registry), `opt-<n>` when unlisted.
pub fn option_name(option: u8) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Borrowed(match option {
        0 => "BINARY",
        1 => "ECHO",
        2 => "RECONNECTION",
        3 => "SUPPRESS-GO-AHEAD",
        5 => "STATUS",
        6 => "TIMING-MARK",
        7 => "RCTE",
        10 => "NAOCRD",
        17 => "EXTEND-ASCII",
        18 => "LOGOUT",
        19 => "BYTE-MACRO",
        20 => "DATA-ENTRY-TERMINAL",
        23 => "SEND-LOCATION",
        24 => "TERMINAL-TYPE",
        25 => "END-OF-RECORD",
        26 => "TUID",
        27 => "OUTMRK",
        28 => "TTYLOC",
        29 => "3270-REGIME",
        30 => "X.3-PAD",
        31 => "NAWS",
        32 => "TERMINAL-SPEED",
        33 => "TOGGLE-FLOW-CONTROL",
        34 => "LINEMODE",
        35 => "X-DISPLAY-LOCATION",
        36 => "ENVIRON",
        37 => "AUTHENTICATION",
        38 => "ENCRYPT",
        39 => "NEW-ENVIRON",
        40 => "TN3270E",
        42 => "CHARSET",
        44 => "COM-PORT-OPTION",
        46 => "START-TLS",
        47 => "KERMIT",
        255 => "EXOPL",
        _ => return std::borrow::Cow::Owned(format!("opt-{option}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(d: &mut Decoder, data: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        d.decode(data, |e| {
            out.push(match e {
                Event::Text(t) => format!("text:{}", String::from_utf8_lossy(t)),
                Event::Negotiation { verb, option } => format!("{} {option}", verb.as_str()),
                Event::Subnegotiation {
                    option,
                    len,
                    overflow,
                } => format!("sb {option} {len} {overflow}"),
                Event::Command(c) => format!("cmd {c}"),
            })
        });
        out
    }

    #[test]
    fn strips_negotiation_and_keeps_text() {
        let mut d = Decoder::default();
        let data = [
            IAC, DO, 1, IAC, WILL, 3, b'h', b'i', IAC, IAC, b'!', IAC, SB, 24, 1, IAC, SE, b'x',
            IAC, 241,
        ];
        assert_eq!(
            events(&mut d, &data),
            [
                "DO 1",
                "WILL 3",
                "text:hi",
                "text:\u{fffd}",
                "text:!",
                "sb 24 1 false",
                "text:x",
                "cmd 241"
            ]
        );
    }

    #[test]
    fn commands_split_across_calls() {
        let mut d = Decoder::default();
        let data = [
            b'a', IAC, DONT, 31, IAC, SB, 31, 0, 80, IAC, IAC, IAC, SE, b'b',
        ];
        let mut all = Vec::new();
        for b in data {
            all.extend(events(&mut d, &[b]));
        }
        assert_eq!(all, ["text:a", "DONT 31", "sb 31 3 false", "text:b"]);
    }

    #[test]
    fn endless_subnegotiation_is_abandoned() {
        let mut d = Decoder::default();
        let mut data = vec![IAC, SB, 24];
        data.extend(std::iter::repeat_n(b'z', MAX_SUBNEGOTIATION_LEN + 5));
        let ev = events(&mut d, &data);
        assert_eq!(ev[0], format!("sb 24 {} true", MAX_SUBNEGOTIATION_LEN + 1));
        assert_eq!(ev[1], "text:zzzz");
    }

    #[test]
    fn names() {
        assert_eq!(option_name(31), "NAWS");
        assert_eq!(option_name(200), "opt-200");
    }
}
