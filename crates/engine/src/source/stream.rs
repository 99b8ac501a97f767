//! A bounded read buffer over any `std::io::Read`, and gzip unwrapping.
//!
//! In: a byte stream (file, pipe, stdin; never seeked). Out: windows of at
//! least `n` contiguous bytes at the current stream offset, so record parsers
//! see whole records. The buffer starts at [`INITIAL_BUFFER_LEN`] and grows
//! (doubling) only when one record needs it, never beyond [`BUFFER_LIMIT`]:
//! record parsers check lengths against their limits before asking.
//!
//! Hand-written rather than pcap-parser's `circular::Buffer` readers because
//! those (0.17) do a single `read()` in their constructor and fail when it
//! returns fewer bytes than the file header (pipes, 1-byte readers), drop the
//! `io::Error`, and make returning a borrowed packet from a refill loop awkward.
#![deny(clippy::indexing_slicing)]

use std::io::{self, Chain, Cursor, Read};

use flate2::read::MultiGzDecoder;

use super::MAX_BLOCK_LEN;

/// Initial buffer size; also the usual size of one `read()` call.
pub const INITIAL_BUFFER_LEN: usize = 128 * 1024;

/// Largest the buffer ever grows: one maximal pcapng block, rounded up.
pub const BUFFER_LIMIT: usize = MAX_BLOCK_LEN.next_power_of_two();

/// The stream after the first bytes were peeked: plain or gzip-decompressed.
pub(crate) enum Input<R: Read> {
    Plain(Chain<Cursor<Vec<u8>>, R>),
    Gzip(Box<MultiGzDecoder<Chain<Cursor<Vec<u8>>, R>>>),
}

impl<R: Read> Input<R> {
    /// Peeks the first two bytes of `raw` and unwraps gzip when they are its magic.
    /// Returns the input and whether it was gzip; `Ok(None)` when `raw` is empty.
    pub(crate) fn open(mut raw: R) -> io::Result<Option<(Self, bool)>> {
        let mut prefix = [0u8; 2];
        let mut have = 0;
        while let Some(space) = prefix.get_mut(have..).filter(|s| !s.is_empty()) {
            match raw.read(space) {
                Ok(0) => break,
                Ok(n) => have += n.min(space.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let peeked = prefix.get(..have).unwrap_or_default();
        if peeked.is_empty() {
            return Ok(None);
        }
        let gzip = peeked == super::magic::GZIP_MAGIC;
        let chained = Cursor::new(peeked.to_vec()).chain(raw);
        Ok(Some(if gzip {
            (Input::Gzip(Box::new(MultiGzDecoder::new(chained))), true)
        } else {
            (Input::Plain(chained), false)
        }))
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}

/// Buffered bytes of the stream between `start` and `end`; `offset` is the
/// stream position of `buf[start]`.
pub(crate) struct StreamBuffer<R: Read> {
    input: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offset: u64,
    eof: bool,
}

impl<R: Read> StreamBuffer<R> {
    pub(crate) fn new(input: R) -> Self {
        StreamBuffer {
            input,
            buf: vec![0; INITIAL_BUFFER_LEN],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Stream offset of the first unconsumed byte.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The buffered, unconsumed bytes.
    #[inline]
    pub(crate) fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Makes at least `n` bytes available; `Ok(false)` when the stream ends first
    /// (then [`Self::available`] holds what was left). `n` above [`BUFFER_LIMIT`]
    /// is refused with `InvalidInput` (callers check their limits first).
    #[inline]
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        self.fill_slow(n)
    }

    #[cold]
    fn fill_slow(&mut self, n: usize) -> io::Result<bool> {
        if n > BUFFER_LIMIT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "record larger than the read buffer limit",
            ));
        }
        if self.eof {
            return Ok(false);
        }
        if self.start + n > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if n > self.buf.len() {
                let grown = n.max(self.buf.len() * 2).min(BUFFER_LIMIT);
                self.buf.resize(grown, 0);
            }
        }
        while self.end - self.start < n {
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            let room = space.len();
            match self.input.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(k) => self.end += k.min(room),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Consumes a record of `len` bytes (already made available) and returns
    /// the `data_len` bytes at `data_start` inside it. The bytes stay valid
    /// until the next `fill`.
    #[inline]
    pub(crate) fn take_record(&mut self, len: usize, data_start: usize, data_len: usize) -> &[u8] {
        let record = self.start;
        self.consume(len);
        let from = record + data_start;
        self.buf.get(from..from + data_len).unwrap_or_default()
    }

    /// Drops `len` available bytes.
    #[inline]
    pub(crate) fn consume(&mut self, len: usize) {
        let len = len.min(self.end - self.start);
        self.start += len;
        self.offset += len as u64;
    }
}
