//! [`CaptureReader`]: any byte stream in, [`RawPacket`]s out.
//!
//! In: a `Read` (file, pipe, stdin, `&[u8]`; never seeked), optionally gzip.
//! Out: packets borrowed from the reader's buffer until the next call, and
//! [`SourceCounters`]. The format is detected by magic number. A damaged tail
//! ends the stream with one `Err` naming its offset; later calls return
//! `Ok(None)`. Limits: see [`super::MAX_RECORD_LEN`] and the stream buffer.
#![deny(clippy::indexing_slicing)]

use std::io::Read;

use super::counters::SourceCounters;
use super::error::SourceError;
use super::magic::{self, Magic};
use super::pcap::{self, PcapState};
use super::pcapng::{self, NgState};
use super::stream::{Input, StreamBuffer};
use super::{CaptureFormat, LinkType, PacketMeta, RawPacket};

/// Format-specific state.
enum Container {
    Pcap(PcapState),
    PcapNg(NgState),
}

/// Reads packets from a pcap or pcapng stream, gzip-compressed or not.
pub struct CaptureReader<R: Read> {
    stream: StreamBuffer<Input<R>>,
    container: Container,
    format: CaptureFormat,
    compressed: bool,
    counters: SourceCounters,
    /// Set after the clean end or the first error: no more reads.
    finished: bool,
}

impl<R: Read> CaptureReader<R> {
    /// Peeks the magic: gzip (`1f 8b`) is unwrapped transparently, then classic
    /// pcap (µs or ns, either byte order) or pcapng is recognised and its file
    /// header / first section header read. Anything else is
    /// [`SourceError::NotACapture`] with a hint; zero bytes are [`SourceError::Empty`].
    pub fn new(input: R) -> Result<Self, SourceError> {
        let (input, compressed) = match Input::open(input) {
            Ok(Some(opened)) => opened,
            Ok(None) => return Err(SourceError::Empty),
            Err(source) => return Err(SourceError::Io { offset: 0, source }),
        };
        let mut stream = StreamBuffer::new(input);
        // Enough for any magic and for a hint; a shorter stream is judged on what it has.
        stream
            .fill(magic::SHOWN_BYTES)
            .map_err(|source| SourceError::Io { offset: 0, source })?;
        let head = stream.available();
        if head.is_empty() {
            return Err(SourceError::Empty);
        }
        let Some(found) = magic::detect(head) else {
            let shown = head.get(..magic::SHOWN_BYTES).unwrap_or(head);
            return Err(SourceError::NotACapture {
                first_bytes: shown.to_vec(),
                inside_gzip: compressed,
            });
        };
        let mut counters = SourceCounters::default();
        let (container, format) = match found {
            Magic::Pcap { nanos, .. } => {
                let state = pcap::read_header(&mut stream, nanos, &mut counters)?;
                let format = if nanos {
                    CaptureFormat::PcapNanos
                } else {
                    CaptureFormat::PcapMicros
                };
                (Container::Pcap(state), format)
            }
            Magic::PcapNg => {
                let mut state = NgState::default();
                pcapng::read_first_section(&mut stream, &mut state, &mut counters)?;
                (Container::PcapNg(state), CaptureFormat::PcapNg)
            }
        };
        Ok(CaptureReader {
            stream,
            container,
            format,
            compressed,
            counters,
            finished: false,
        })
    }

    /// Next packet, its bytes borrowed from the reader's buffer until the next
    /// call. `Ok(None)` at a clean end. A damaged or cut record returns `Err`
    /// naming its offset (all earlier packets were returned); after that, and
    /// after the clean end, every call returns `Ok(None)`.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError> {
        if self.finished {
            return Ok(None);
        }
        let found = match &mut self.container {
            Container::Pcap(state) => {
                pcap::next_record(&mut self.stream, state, &mut self.counters)
            }
            Container::PcapNg(state) => {
                pcapng::next_packet(&mut self.stream, state, &mut self.counters)
            }
        };
        match found {
            Ok(Some(meta)) => Ok(Some(self.take(meta))),
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                self.counters.damaged_tail += 1;
                Err(e)
            }
        }
    }

    #[inline]
    fn take(&mut self, meta: PacketMeta) -> RawPacket<'_> {
        let data = self
            .stream
            .take_record(meta.record_len, meta.data_start, meta.data_len);
        RawPacket {
            ts: meta.ts,
            data,
            orig_len: meta.orig_len,
            link: meta.link,
            interface: meta.interface,
        }
    }

    /// The container format found by magic number.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Whether the input was gzip-compressed.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Bytes of the (decompressed) capture stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.stream.offset()
    }

    /// What the reader delivered and tolerated so far.
    pub fn counters(&self) -> &SourceCounters {
        &self.counters
    }

    /// Link types seen so far: the file's one for classic pcap; for pcapng the
    /// distinct link types of all interfaces declared so far, in order of appearance.
    pub fn link_types(&self) -> Vec<LinkType> {
        match &self.container {
            Container::Pcap(state) => vec![state.link],
            Container::PcapNg(state) => state.link_types.clone(),
        }
    }
}

impl<R: Read> std::fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format)
            .field("compressed", &self.compressed)
            .field("offset", &self.stream.offset())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
