//! Zeek's connection `history`: letters appended in an inline buffer (no
//! allocation until the record is written), the "seen once" bit mask of
//! `Connection::CheckHistory`, and the logarithmic repeats of
//! `Connection::ScaledHistoryEntry` (a letter at the 1st, 10th, 100th, …
//! occurrence). Originator letters are upper case, responder letters lower
//! case. Limit: [`HISTORY_CAPACITY`] letters; further letters are dropped and
//! the record counts as truncated (counter `flow.history_truncated`).
#![deny(clippy::indexing_slicing)]

/// Letters kept per connection.
pub(crate) const HISTORY_CAPACITY: usize = 26;

// TCP endpoint history masks (Zeek `TCP_Endpoint::HistoryMasks`); the
// responder's are shifted left by 16 bits.
pub(crate) const HIST_SYN_PKT: u32 = 0x1;
pub(crate) const HIST_FIN_PKT: u32 = 0x2;
pub(crate) const HIST_RST_PKT: u32 = 0x4;
pub(crate) const HIST_FIN_RST_PKT: u32 = 0x8;
pub(crate) const HIST_DATA_PKT: u32 = 0x10;
pub(crate) const HIST_ACK_PKT: u32 = 0x20;
pub(crate) const HIST_MULTI_FLAG_PKT: u32 = 0x40;

// UDP connection masks (Zeek `UDPAnalyzer`).
pub(crate) const HIST_UDP_ORIG_DATA_PKT: u32 = 0x1;
pub(crate) const HIST_UDP_RESP_DATA_PKT: u32 = 0x2;

/// The history letters and the seen-mask of one connection (32 bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct History {
    seen: u32,
    len: u8,
    truncated: bool,
    letters: [u8; HISTORY_CAPACITY],
}

impl Default for History {
    fn default() -> Self {
        History {
            seen: 0,
            len: 0,
            truncated: false,
            letters: [0; HISTORY_CAPACITY],
        }
    }
}

impl History {
    /// Appends a letter as given (Zeek `Connection::AddHistory`).
    pub fn add_raw(&mut self, code: u8) {
        match self.letters.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = code;
                self.len += 1;
            }
            None => self.truncated = true,
        }
    }

    /// Appends `code`, lower-cased for the responder (Zeek `TCP_Endpoint::AddHistory`).
    pub fn add(&mut self, code: u8, is_orig: bool) {
        self.add_raw(if is_orig {
            code
        } else {
            code.to_ascii_lowercase()
        });
    }

    /// Zeek `Connection::CheckHistory` with a raw mask: adds `code` the first
    /// time `mask` is seen; returns whether it had been seen before.
    pub fn check_raw(&mut self, mask: u32, code: u8) -> bool {
        if self.seen & mask == 0 {
            self.seen |= mask;
            self.add_raw(code);
            false
        } else {
            true
        }
    }

    /// Zeek `TCP_Endpoint::CheckHistory`: responder masks are shifted by 16
    /// bits and responder letters lower-cased.
    pub fn check(&mut self, mask: u32, code: u8, is_orig: bool) -> bool {
        if is_orig {
            self.check_raw(mask, code)
        } else {
            self.check_raw(mask << 16, code.to_ascii_lowercase())
        }
    }

    pub fn as_str(&self) -> &str {
        let letters = self.letters.get(..usize::from(self.len)).unwrap_or(&[]);
        std::str::from_utf8(letters).unwrap_or("")
    }

    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Zeek's RSTOS0 test: `/^\^?S[^HAFGIQ]*R.*/ == history`.
    pub fn is_syn_then_orig_reset(&self) -> bool {
        let s = self.as_str();
        let s = s.strip_prefix('^').unwrap_or(s);
        let Some(rest) = s.strip_prefix('S') else {
            return false;
        };
        for c in rest.chars() {
            match c {
                'R' => return true,
                'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
                _ => {}
            }
        }
        false
    }
}

/// The events Zeek records logarithmically per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scaled {
    /// `T`: retransmitted payload.
    Retransmit = 0,
    /// `W`: zero window advertised.
    ZeroWindow = 1,
    /// `G`: content gap.
    Gap = 2,
}

impl Scaled {
    fn letter(self) -> u8 {
        match self {
            Scaled::Retransmit => b'T',
            Scaled::ZeroWindow => b'W',
            Scaled::Gap => b'G',
        }
    }
}

/// Counters behind the logarithmic letters of one endpoint: the letter is
/// added when the count reaches 1, 10, 100, … (Zeek `ScaledHistoryEntry`,
/// base 10). Thresholds stop at 10^9.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ScaledCounters {
    count: [u32; 3],
    /// Threshold exponent; 10 means no further letters.
    exp: [u8; 3],
}

const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

impl ScaledCounters {
    /// Counts one event; adds the letter to `history` at each threshold.
    pub fn bump(&mut self, what: Scaled, history: &mut History, is_orig: bool) {
        let i = what as usize;
        let (Some(count), Some(exp)) = (self.count.get_mut(i), self.exp.get_mut(i)) else {
            return;
        };
        *count = count.saturating_add(1);
        let Some(&threshold) = POW10.get(usize::from(*exp)) else {
            return;
        };
        if *count == threshold {
            history.add(what.letter(), is_orig);
            *exp += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_adds_once_per_side() {
        let mut h = History::default();
        assert!(!h.check(HIST_ACK_PKT, b'A', true));
        assert!(h.check(HIST_ACK_PKT, b'A', true));
        assert!(!h.check(HIST_ACK_PKT, b'A', false));
        assert_eq!(h.as_str(), "Aa");
    }

    #[test]
    fn scaled_letters_at_powers_of_ten() {
        let mut h = History::default();
        let mut s = ScaledCounters::default();
        for _ in 0..100 {
            s.bump(Scaled::Retransmit, &mut h, true);
        }
        for _ in 0..9 {
            s.bump(Scaled::ZeroWindow, &mut h, false);
        }
        assert_eq!(h.as_str(), "TTTw");
    }

    #[test]
    fn truncates_without_panic() {
        let mut h = History::default();
        for _ in 0..HISTORY_CAPACITY + 5 {
            h.add_raw(b'F');
        }
        assert_eq!(h.as_str().len(), HISTORY_CAPACITY);
        assert!(h.truncated());
    }

    #[test]
    fn rstos0_pattern() {
        let of = |s: &str| {
            let mut h = History::default();
            s.bytes().for_each(|b| h.add_raw(b));
            h.is_syn_then_orig_reset()
        };
        assert!(of("SR"));
        assert!(of("^SdR"));
        assert!(of("SsR"));
        assert!(of("ShR"), "lower-case letters are not excluded");
        assert!(!of("SHR"));
        assert!(!of("SAR"));
        assert!(!of("R"));
        assert!(!of("S"));
    }
}
