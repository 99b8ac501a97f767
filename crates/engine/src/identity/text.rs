//! Small text helpers for identity: bounded copies of packet strings, and
//! the version/model tokens rules cut out of user agents and banners.
//!
//! In: strings from protocol records (already bounded by their analyzers).
//! Out: owned strings of at most [`MAX_TEXT`] characters, tokens of at most
//! [`MAX_TOKEN`] bytes. Nothing here indexes by a computed offset without a
//! checked `get`.
#![deny(clippy::indexing_slicing)]

use super::config::MAX_TEXT;

/// Bytes of a model or firmware token cut out of an observation.
pub const MAX_TOKEN: usize = 48;

/// `s` cut to [`MAX_TEXT`] characters, control characters replaced by spaces.
pub fn bounded(s: &str) -> String {
    s.chars()
        .take(MAX_TEXT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// The token of `value` starting at byte `start`: ASCII letters, digits,
/// `.`, `_` and `-`, without trailing punctuation; `None` when empty.
pub fn token_at(value: &str, start: usize) -> Option<String> {
    let rest = value.get(start..)?;
    let len = rest
        .bytes()
        .take(MAX_TOKEN)
        .take_while(|b| is_token_byte(*b))
        .count();
    let token = rest.get(..len)?.trim_end_matches(['.', '-', '_']);
    (!token.is_empty()).then(|| token.to_string())
}

/// The token right after the first case-insensitive occurrence of `marker`.
pub fn token_after(value: &str, marker: &str) -> Option<String> {
    let at = find_ascii_ci(value, marker)? + marker.len();
    let skipped = value.get(at..)?.bytes().take_while(|b| *b == b' ').count();
    token_at(value, at + skipped)
}

/// The token starting at the first case-insensitive occurrence of `marker`.
pub fn token_from(value: &str, marker: &str) -> Option<String> {
    token_at(value, find_ascii_ci(value, marker)?)
}

/// Byte offset of `needle` in `hay`, ASCII case-insensitive.
pub fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

/// A version-looking token: starts with a digit and holds a dot or only digits.
pub fn looks_like_version(token: &str) -> bool {
    token.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_after_and_from_markers() {
        let ua = "Mozilla/5.0 (X11; Linux armv7l) CrKey/1.56.500000";
        assert_eq!(token_after(ua, "crkey/").as_deref(), Some("1.56.500000"));
        let ssdp = "Linux,    UPnP/1.0 DCS-935L/1.0";
        assert_eq!(token_from(ssdp, "dcs-").as_deref(), Some("DCS-935L"));
        assert_eq!(
            token_after("IpBridge/1.9.0.", "ipbridge/").as_deref(),
            Some("1.9.0")
        );
        assert_eq!(token_after("abc", "zzz"), None);
        assert_eq!(token_after("abc/", "abc/"), None);
    }

    #[test]
    fn bounded_cuts_and_cleans() {
        assert_eq!(bounded("a\tb"), "a b");
        assert_eq!(bounded(&"x".repeat(1000)).len(), MAX_TEXT);
        assert!(looks_like_version("5.7.3"));
        assert!(!looks_like_version("v5"));
    }
}
