//! NTP v4 (RFC 5905) client requests and server replies, timestamps from packet time.
//!
//! Packet time in microseconds → 48-byte NTP messages whose timestamps agree
//! with the capture's own clock.

use std::net::Ipv4Addr;

pub const PORT: u16 = 123;
/// Seconds between the NTP era (1900) and the Unix epoch.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp for `micros` since the Unix epoch.
pub fn ntp_timestamp(micros: i64) -> [u8; 8] {
    let us = micros.max(0) as u64;
    let secs = us / 1_000_000 + NTP_UNIX_OFFSET;
    let frac = ((us % 1_000_000) << 32) / 1_000_000;
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&(secs as u32).to_be_bytes());
    b[4..].copy_from_slice(&(frac as u32).to_be_bytes());
    b
}

/// A client (mode 3) request sent at `now`; SNTP clients leave everything else zero.
pub fn client_request(now: i64, poll: u8) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = 0x23; // LI 0, version 4, mode 3
    b[2] = poll;
    b[3] = 0xe9; // precision 2^-23
    b[40..48].copy_from_slice(&ntp_timestamp(now));
    b
}

/// A server (mode 4, stratum 2) reply to `request`, received at `rx` and sent at `tx`.
pub fn server_reply(request: &[u8], rx: i64, tx: i64, upstream: Ipv4Addr) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = 0x24;
    b[1] = 2;
    b[2] = request.get(2).copied().unwrap_or(6);
    b[3] = 0xe8;
    b[4..8].copy_from_slice(&[0, 0, 0x01, 0x20]); // root delay ≈ 4 ms
    b[8..12].copy_from_slice(&[0, 0, 0x02, 0x10]); // root dispersion ≈ 8 ms
    b[12..16].copy_from_slice(&upstream.octets());
    b[16..24].copy_from_slice(&ntp_timestamp(rx - 64 * 1_000_000));
    if let Some(origin) = request.get(40..48) {
        b[24..32].copy_from_slice(origin);
    }
    b[32..40].copy_from_slice(&ntp_timestamp(rx));
    b[40..48].copy_from_slice(&ntp_timestamp(tx));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_the_ntp_era() {
        let t = ntp_timestamp(1_700_000_000_500_000);
        assert_eq!(
            u32::from_be_bytes([t[0], t[1], t[2], t[3]]),
            (1_700_000_000u64 + NTP_UNIX_OFFSET) as u32
        );
        assert_eq!(u32::from_be_bytes([t[4], t[5], t[6], t[7]]), 1u32 << 31);
    }

    #[test]
    fn reply_echoes_origin() {
        let req = client_request(1_700_000_000_000_000, 6);
        let rep = server_reply(
            &req,
            1_700_000_000_020_000,
            1_700_000_000_020_050,
            Ipv4Addr::new(192, 0, 2, 1),
        );
        assert_eq!(rep[0] & 7, 4);
        assert_eq!(&rep[24..32], &req[40..48]);
    }
}
