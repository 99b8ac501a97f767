//! SSH-2 (RFC 4253) handshake messages: banners, KEXINIT, curve25519 key exchange, NEWKEYS.
//!
//! Algorithm lists in → binary packets with correct length and padding
//! (block size 8, at least 4 bytes of padding). After NEWKEYS the traffic is
//! encrypted, so callers send noise of the right shape.

use crate::simulate::rng::SimRng;

pub const PORT: u16 = 22;
const MSG_KEXINIT: u8 = 20;
const MSG_NEWKEYS: u8 = 21;
const MSG_KEX_ECDH_INIT: u8 = 30;
const MSG_KEX_ECDH_REPLY: u8 = 31;

/// One side's algorithm offer.
#[derive(Debug, Clone, Copy)]
pub struct KexOffer {
    pub kex: &'static str,
    pub host_key: &'static str,
    pub cipher: &'static str,
    pub mac: &'static str,
}

pub const OPENSSH_SERVER: KexOffer = KexOffer {
    kex: "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
    host_key: "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
    cipher: "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    mac: "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
};

/// A brute-force tool's client offer (Go x/crypto/ssh style).
pub const TOOL_CLIENT: KexOffer = KexOffer {
    kex: "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha1",
    host_key: "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-256,ssh-rsa",
    cipher: "aes128-ctr,aes192-ctr,aes256-ctr",
    mac: "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
};

pub fn banner(software: &str) -> Vec<u8> {
    format!("SSH-2.0-{software}\r\n").into_bytes()
}

fn put_string(b: &mut Vec<u8>, s: &[u8]) {
    b.extend_from_slice(&(s.len() as u32).to_be_bytes());
    b.extend_from_slice(s);
}

/// Wraps a payload in the binary packet format (length, padding length, payload, padding).
pub fn binary_packet(payload: &[u8], rng: &mut SimRng) -> Vec<u8> {
    let unpadded = 4 + 1 + payload.len();
    let mut pad = 8 - unpadded % 8;
    if pad < 4 {
        pad += 8;
    }
    let mut b = Vec::with_capacity(unpadded + pad);
    b.extend_from_slice(&((1 + payload.len() + pad) as u32).to_be_bytes());
    b.push(pad as u8);
    b.extend_from_slice(payload);
    for _ in 0..pad {
        b.push(rng.next_u8());
    }
    b
}

pub fn kexinit(offer: &KexOffer, rng: &mut SimRng) -> Vec<u8> {
    let mut p = vec![MSG_KEXINIT];
    p.extend_from_slice(&rng.bytes::<16>());
    for list in [
        offer.kex,
        offer.host_key,
        offer.cipher,
        offer.cipher,
        offer.mac,
        offer.mac,
        "none,zlib@openssh.com",
        "none,zlib@openssh.com",
        "",
        "",
    ] {
        put_string(&mut p, list.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&[0; 4]);
    binary_packet(&p, rng)
}

pub fn ecdh_init(rng: &mut SimRng) -> Vec<u8> {
    let mut p = vec![MSG_KEX_ECDH_INIT];
    put_string(&mut p, &rng.bytes::<32>());
    binary_packet(&p, rng)
}

/// The server's reply: ed25519 host key, its ephemeral key and a signature; then NEWKEYS.
pub fn ecdh_reply_and_newkeys(host_key: &[u8; 32], rng: &mut SimRng) -> Vec<u8> {
    let mut key_blob = Vec::with_capacity(51);
    put_string(&mut key_blob, b"ssh-ed25519");
    put_string(&mut key_blob, host_key);
    let mut sig_blob = Vec::with_capacity(83);
    put_string(&mut sig_blob, b"ssh-ed25519");
    put_string(&mut sig_blob, &rng.bytes::<64>());
    let mut p = vec![MSG_KEX_ECDH_REPLY];
    put_string(&mut p, &key_blob);
    put_string(&mut p, &rng.bytes::<32>());
    put_string(&mut p, &sig_blob);
    let mut out = binary_packet(&p, rng);
    out.extend_from_slice(&newkeys(rng));
    out
}

pub fn newkeys(rng: &mut SimRng) -> Vec<u8> {
    binary_packet(&[MSG_NEWKEYS], rng)
}

/// Length of the hmac-sha2-256 tag.
const MAC_LEN: usize = 32;

/// An encrypted packet for aes-ctr with an encrypt-then-MAC tag (the negotiated
/// suite): clear length, ciphertext in 16-byte blocks, 32-byte MAC. `payload`
/// is the plaintext size it stands for.
pub fn encrypted_packet(payload: usize, rng: &mut SimRng) -> Vec<u8> {
    let body = (1 + payload + 4).div_ceil(16) * 16;
    let mut b = Vec::with_capacity(4 + body + MAC_LEN);
    b.extend_from_slice(&(body as u32).to_be_bytes());
    for _ in 0..body + MAC_LEN {
        b.push(rng.next_u8());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_packets_are_block_aligned_with_enough_padding() {
        let mut rng = SimRng::new(1);
        for len in 0..40 {
            let p = binary_packet(&vec![1u8; len], &mut rng);
            assert_eq!(p.len() % 8, 0);
            let pad = usize::from(p[4]);
            assert!(pad >= 4);
            assert_eq!(
                u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize,
                p.len() - 4
            );
        }
        let e = encrypted_packet(40, &mut rng);
        assert_eq!(
            u32::from_be_bytes([e[0], e[1], e[2], e[3]]) as usize,
            e.len() - 4 - MAC_LEN
        );
        assert_eq!((e.len() - 4 - MAC_LEN) % 16, 0);
        let k = kexinit(&OPENSSH_SERVER, &mut rng);
        assert_eq!(k[5], MSG_KEXINIT);
    }
}
