//! Builders for tiny hand-made pcap and pcapng files, shared by the `source_*` tests.
#![allow(dead_code)]

use std::io::{self, Read};
use std::path::PathBuf;

/// Deterministic packet bytes of length `len` (distinct per `seed`).
pub fn frame(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
}

fn put_u16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put_u32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A classic pcap file under construction.
pub struct Pcap {
    pub bytes: Vec<u8>,
    be: bool,
}

impl Pcap {
    /// File header with version 2.4, thiszone 0, snaplen 65535.
    pub fn new(be: bool, nanos: bool, link: u32) -> Self {
        Self::with_version(be, nanos, link, 2, 4)
    }

    pub fn with_version(be: bool, nanos: bool, link: u32, major: u16, minor: u16) -> Self {
        let mut bytes = Vec::new();
        put_u32(
            &mut bytes,
            if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 },
            be,
        );
        put_u16(&mut bytes, major, be);
        put_u16(&mut bytes, minor, be);
        put_u32(&mut bytes, 0, be);
        put_u32(&mut bytes, 0, be);
        put_u32(&mut bytes, 65535, be);
        put_u32(&mut bytes, link, be);
        Pcap { bytes, be }
    }

    /// A well-formed record: caplen = data length.
    pub fn packet(mut self, sec: u32, frac: u32, data: &[u8], orig_len: u32) -> Self {
        self.record(sec, frac, data.len() as u32, orig_len, data);
        self
    }

    /// A record with arbitrary length fields (for malformed files).
    pub fn record(&mut self, sec: u32, frac: u32, caplen: u32, orig_len: u32, data: &[u8]) {
        let be = self.be;
        put_u32(&mut self.bytes, sec, be);
        put_u32(&mut self.bytes, frac, be);
        put_u32(&mut self.bytes, caplen, be);
        put_u32(&mut self.bytes, orig_len, be);
        self.bytes.extend_from_slice(data);
    }
}

/// A pcapng file under construction, in one byte order.
pub struct PcapNg {
    pub bytes: Vec<u8>,
    be: bool,
}

pub const OPT_IF_TSRESOL: u16 = 9;
pub const OPT_IF_TSOFFSET: u16 = 14;

impl PcapNg {
    /// Starts with a section header block.
    pub fn new(be: bool) -> Self {
        PcapNg {
            bytes: Vec::new(),
            be,
        }
        .shb()
    }

    /// Appends a block: type, length, body padded to 4 bytes, length.
    pub fn block(mut self, block_type: u32, body: &[u8]) -> Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let be = self.be;
        put_u32(&mut self.bytes, block_type, be);
        put_u32(&mut self.bytes, len, be);
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        put_u32(&mut self.bytes, len, be);
        self
    }

    /// A new section header block (version 1.0, unknown section length).
    pub fn shb(self) -> Self {
        let be = self.be;
        let mut body = Vec::new();
        put_u32(&mut body, 0x1a2b_3c4d, be);
        put_u16(&mut body, 1, be);
        put_u16(&mut body, 0, be);
        body.extend_from_slice(&if be {
            (-1i64).to_be_bytes()
        } else {
            (-1i64).to_le_bytes()
        });
        self.block(0x0a0d_0d0a, &body)
    }

    /// Interface description with options `(code, value)`.
    pub fn idb(self, link: u16, snaplen: u32, options: &[(u16, &[u8])]) -> Self {
        let be = self.be;
        let mut body = Vec::new();
        put_u16(&mut body, link, be);
        put_u16(&mut body, 0, be);
        put_u32(&mut body, snaplen, be);
        if !options.is_empty() {
            for (code, value) in options {
                put_u16(&mut body, *code, be);
                put_u16(&mut body, value.len() as u16, be);
                body.extend_from_slice(value);
                body.resize(body.len().div_ceil(4) * 4, 0);
            }
            body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        }
        self.block(1, &body)
    }

    /// `if_tsoffset` option value in this file's byte order.
    pub fn tsoffset(&self, secs: i64) -> Vec<u8> {
        if self.be {
            secs.to_be_bytes()
        } else {
            secs.to_le_bytes()
        }
        .to_vec()
    }

    /// Enhanced packet block; `ticks` in the interface's resolution.
    pub fn epb(self, interface: u32, ticks: u64, data: &[u8], orig_len: u32) -> Self {
        let body = self.packet_body(interface, ticks, data.len() as u32, orig_len, data);
        self.block(6, &body)
    }

    /// Enhanced packet block with an `epb_flags` option (forces an options list).
    pub fn epb_with_flags(self, interface: u32, ticks: u64, data: &[u8]) -> Self {
        let be = self.be;
        let mut body =
            self.packet_body(interface, ticks, data.len() as u32, data.len() as u32, data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        put_u16(&mut body, 2, be);
        put_u16(&mut body, 4, be);
        put_u32(&mut body, 1, be);
        put_u32(&mut body, 0, be);
        self.block(6, &body)
    }

    /// Obsolete packet block (type 2): 16-bit interface id, 16-bit drop count.
    pub fn opb(self, interface: u16, ticks: u64, data: &[u8]) -> Self {
        let be = self.be;
        let mut body = Vec::new();
        put_u16(&mut body, interface, be);
        put_u16(&mut body, 0, be);
        put_u32(&mut body, (ticks >> 32) as u32, be);
        put_u32(&mut body, ticks as u32, be);
        put_u32(&mut body, data.len() as u32, be);
        put_u32(&mut body, data.len() as u32, be);
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    /// Simple packet block: original length, then data.
    pub fn spb(self, data: &[u8], orig_len: u32) -> Self {
        let be = self.be;
        let mut body = Vec::new();
        put_u32(&mut body, orig_len, be);
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    /// EPB fields and data with arbitrary caplen.
    pub fn packet_body(
        &self,
        interface: u32,
        ticks: u64,
        caplen: u32,
        orig_len: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let be = self.be;
        let mut body = Vec::new();
        put_u32(&mut body, interface, be);
        put_u32(&mut body, (ticks >> 32) as u32, be);
        put_u32(&mut body, ticks as u32, be);
        put_u32(&mut body, caplen, be);
        put_u32(&mut body, orig_len, be);
        body.extend_from_slice(data);
        body
    }

    /// Raw bytes appended as they are.
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    pub fn u32_bytes(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
}

/// A reader that hands out one byte per `read()` call, and reports
/// `Interrupted` before every third byte (both must be retried by the reader).
pub struct OneByteReader<'a> {
    pub bytes: &'a [u8],
    pub calls: usize,
}

impl Read for OneByteReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 3 == 0 {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "try again"));
        }
        match (self.bytes.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.bytes = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// `../shared/data` seen from the engine crate, or `None` (with the reason printed).
pub fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: shared test data not found at {}", dir.display());
        None
    }
}
