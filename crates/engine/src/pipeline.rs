//! The only place that wires the stages together:
//! [`RawPacket`] → [`Decoder`] → ([`CaptureSummary`], [`FlowTable`]) → [`ConnRecord`] sink.
//!
//! The caller owns the capture reader and the output; the pipeline owns the
//! per-stage state and their counters.

use crate::counters::Counters;
use crate::decode::Decoder;
use crate::flow::{ConnRecord, FlowConfig, FlowTable};
use crate::net::LocalNets;
use crate::sink::Sink;
use crate::source::RawPacket;
use crate::stats::CaptureSummary;

/// What the pipeline is built from.
#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    pub flow: FlowConfig,
    /// Networks that count as local for `local_orig` / `local_resp`.
    pub local_nets: LocalNets,
}

/// Decoder, capture summary and flow table, driven one packet at a time.
pub struct Pipeline {
    decoder: Decoder,
    summary: CaptureSummary,
    flows: FlowTable,
    local_nets: LocalNets,
}

/// Fills the fields that depend on site configuration before a record leaves.
struct Localise<'a, S> {
    nets: &'a LocalNets,
    inner: &'a mut S,
}

impl<S: Sink<ConnRecord>> Sink<ConnRecord> for Localise<'_, S> {
    fn push(&mut self, mut rec: ConnRecord) {
        rec.local_orig = self.nets.is_local(rec.orig_h);
        rec.local_resp = self.nets.is_local(rec.resp_h);
        self.inner.push(rec);
    }
}

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            decoder: Decoder::new(),
            summary: CaptureSummary::new(),
            flows: FlowTable::new(config.flow),
            local_nets: config.local_nets,
        }
    }

    /// Accounts one packet; connections that end go to `out`.
    pub fn process(&mut self, raw: &RawPacket<'_>, out: &mut impl Sink<ConnRecord>) {
        let pkt = self.decoder.decode(raw);
        self.summary.observe(&pkt);
        let mut out = Localise {
            nets: &self.local_nets,
            inner: out,
        };
        self.flows.observe(&pkt, &mut out);
    }

    /// End of input: every open connection goes to `out`.
    pub fn finish(&mut self, out: &mut impl Sink<ConnRecord>) {
        let mut out = Localise {
            nets: &self.local_nets,
            inner: out,
        };
        self.flows.flush(&mut out);
    }

    pub fn summary(&self) -> &CaptureSummary {
        &self.summary
    }

    pub fn flows(&self) -> &FlowTable {
        &self.flows
    }

    /// Every stage's counters, in pipeline order.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        let mut v = self.decoder.counters().to_vec();
        v.extend(self.flows.counters().to_vec());
        v.extend(self.summary.to_vec());
        v
    }
}
