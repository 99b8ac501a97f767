//! Application payload builders: protocol fields in → message bytes out.
//!
//! Each file writes one protocol's messages exactly as the RFC or spec lays
//! them out (lengths computed, never guessed), so every dissector reads them
//! as well-formed. Nothing here knows about devices or timing.

pub mod dhcp;
pub mod dns;
pub mod http;
pub mod industrial;
pub mod mqtt;
pub mod ntp;
pub mod ssh;
pub mod tls;
pub mod x509;

/// Calendar fields of a Unix time in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// Converts seconds since the epoch to a UTC calendar date (Howard Hinnant's algorithm).
pub fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem / 60 % 60) as u32,
        second: (rem % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

/// RFC 7231 date, e.g. `Tue, 14 Nov 2023 22:13:20 GMT`.
pub fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(secs);
    let wd = DAYS.get(c.weekday as usize).copied().unwrap_or("Mon");
    let mo = MONTHS
        .get(c.month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    format!(
        "{wd}, {:02} {mo} {} {:02}:{:02}:{:02} GMT",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

/// Appends a big-endian u16 length followed by `data`.
pub fn put_u16_prefixed(buf: &mut Vec<u8>, data: &[u8]) {
    buf.extend_from_slice(&(data.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    buf.extend_from_slice(data);
}

/// Appends `n` bytes of `noise` starting at `offset` (wrapping around): stand-in for encrypted or compressed data.
pub fn put_noise(out: &mut Vec<u8>, noise: &[u8], offset: usize, n: usize) {
    if noise.is_empty() {
        out.resize(out.len() + n, 0);
        return;
    }
    let mut pos = offset % noise.len();
    let mut left = n;
    while left > 0 {
        let chunk = noise.get(pos..).unwrap_or_default();
        let take = chunk.len().min(left);
        out.extend_from_slice(chunk.get(..take).unwrap_or_default());
        left -= take;
        pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_matches_known_dates() {
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        let c = civil(951_782_400); // 2000-02-29
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
    }

    #[test]
    fn noise_wraps_around() {
        let mut out = Vec::new();
        put_noise(&mut out, &[1, 2, 3], 2, 5);
        assert_eq!(out, vec![3, 1, 2, 3, 1]);
    }
}
