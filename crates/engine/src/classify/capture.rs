//! One capture in (a `Read` handed in by the caller) → the feature vector of
//! one device in it (by MAC) out.
//!
//! Runs the ordinary pipeline (decode → flows → protocol analyzers) over the
//! capture and feeds the device's [`FeatureExtractor`] every decoded frame,
//! connection record and protocol record. Frames are decoded a second time
//! for the extractor (the pipeline does not hand out its decoded packets);
//! decoding is cheap next to the analyzers.
//!
//! A damaged tail ends the capture early: the features of what came before
//! are returned together with the error, as the rest of gatewatch does.
#![deny(clippy::indexing_slicing)]

use std::io::Read;

use crate::decode::{Decoder, MacAddr};
use crate::flow::ConnRecord;
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::proto::dispatch::ProtoRecord;
use crate::source::{CaptureReader, SourceError};

use super::features::{FeatureExtractor, FeatureVector};
use super::traffic::ethertype;

/// The features of one device in one capture.
#[derive(Debug)]
pub struct CaptureFeatures {
    pub features: FeatureVector,
    /// Packets in the capture.
    pub packets: u64,
    /// Frames sent or received by the device.
    pub device_packets: u64,
    /// Set when the capture ended in a damaged record.
    pub damaged_tail: Option<SourceError>,
}

/// Reads the whole capture and extracts the features of `mac`. Fails only
/// when the input is not a capture at all.
pub fn extract_capture<R: Read>(input: R, mac: MacAddr) -> Result<CaptureFeatures, SourceError> {
    let mut extractor = FeatureExtractor::new(mac);
    let outcome = run_capture(input, &mut extractor)?;
    Ok(CaptureFeatures {
        features: extractor.finish(),
        packets: outcome.0,
        device_packets: extractor.device_packets(),
        damaged_tail: outcome.1,
    })
}

/// Feeds every packet and record of a capture to `extractor`; returns the
/// packet count and the damage that ended the capture early, if any.
pub fn run_capture<R: Read>(
    input: R,
    extractor: &mut FeatureExtractor,
) -> Result<(u64, Option<SourceError>), SourceError> {
    let mut reader = CaptureReader::new(input)?;
    let mut pipeline = Pipeline::new(PipelineConfig::default());
    let mut decoder = Decoder::new();
    let mut conns: Vec<ConnRecord> = Vec::new();
    let mut records: Vec<ProtoRecord> = Vec::new();
    let mut packets = 0u64;
    let damage = loop {
        match reader.next_packet() {
            Ok(Some(raw)) => {
                packets += 1;
                let pkt = decoder.decode(&raw);
                extractor.observe_packet(&pkt, ethertype(&raw));
                pipeline.process_all(&raw, &mut conns, &mut records);
                drain(extractor, &mut conns, &mut records);
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    pipeline.finish_all(&mut conns, &mut records);
    drain(extractor, &mut conns, &mut records);
    Ok((packets, damage))
}

/// Hands the records produced so far to the extractor, records first (a
/// connection's protocol records are written before its conn record).
fn drain(
    extractor: &mut FeatureExtractor,
    conns: &mut Vec<ConnRecord>,
    records: &mut Vec<ProtoRecord>,
) {
    for rec in records.drain(..) {
        extractor.observe_record(&rec);
    }
    for rec in conns.drain(..) {
        extractor.observe_conn(&rec);
    }
}
