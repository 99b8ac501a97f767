//! The only place that wires the stages together:
//! [`RawPacket`] → [`Decoder`] → ([`CaptureSummary`], [`FlowTable`]) →
//! [`ProtoLayer`] → sinks of [`ConnRecord`]s and [`ProtoRecord`]s.
//!
//! The caller owns the capture reader and the outputs; the pipeline owns the
//! per-stage state and their counters. Protocol analyzers run when
//! [`PipelineConfig::analyzers`] is set; they also fill conn.log's `service`.

use crate::counters::Counters;
use crate::decode::{Decoder, Network};
use crate::flow::{ConnRecord, FlowConfig, FlowTable};
use crate::net::LocalNets;
use crate::proto::dispatch::{ProtoLayer, ProtoRecord};
use crate::sink::Sink;
use crate::source::RawPacket;
use crate::stats::CaptureSummary;

/// What the pipeline is built from.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub flow: FlowConfig,
    /// Networks that count as local for `local_orig` / `local_resp`.
    pub local_nets: LocalNets,
    /// Run the protocol analyzers (DNS, TLS, HTTP, MQTT, …).
    pub analyzers: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            flow: FlowConfig::default(),
            local_nets: LocalNets::default(),
            analyzers: true,
        }
    }
}

/// Decoder, capture summary, flow table and analyzers, driven one packet at a time.
pub struct Pipeline {
    decoder: Decoder,
    summary: CaptureSummary,
    flows: FlowTable,
    proto: Option<ProtoLayer>,
    local_nets: LocalNets,
}

/// Finishes a connection record on its way out: analyzer flush and `service`,
/// then the fields that depend on site configuration.
struct ConnOut<'a, S, P> {
    nets: &'a LocalNets,
    proto: Option<&'a mut ProtoLayer>,
    proto_out: &'a mut P,
    inner: &'a mut S,
}

impl<S: Sink<ConnRecord>, P: Sink<ProtoRecord>> Sink<ConnRecord> for ConnOut<'_, S, P> {
    fn push(&mut self, mut rec: ConnRecord) {
        if let Some(proto) = self.proto.as_deref_mut() {
            proto.on_conn_end(&mut rec, self.proto_out);
        }
        rec.local_orig = self.nets.is_local(rec.orig_h);
        rec.local_resp = self.nets.is_local(rec.resp_h);
        self.inner.push(rec);
    }
}

/// Drops protocol records (for commands that only want connections).
struct Discard;

impl<T> Sink<T> for Discard {
    fn push(&mut self, _item: T) {}
}

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            decoder: Decoder::new(),
            summary: CaptureSummary::new(),
            flows: FlowTable::new(config.flow),
            proto: config.analyzers.then(ProtoLayer::new),
            local_nets: config.local_nets,
        }
    }

    /// Accounts one packet; connections that end go to `out`, protocol records are dropped.
    pub fn process(&mut self, raw: &RawPacket<'_>, out: &mut impl Sink<ConnRecord>) {
        self.process_all(raw, out, &mut Discard);
    }

    /// Accounts one packet; connections that end go to `conn_out`, protocol
    /// records to `proto_out`.
    pub fn process_all(
        &mut self,
        raw: &RawPacket<'_>,
        conn_out: &mut impl Sink<ConnRecord>,
        proto_out: &mut impl Sink<ProtoRecord>,
    ) {
        let pkt = self.decoder.decode(raw);
        self.summary.observe(&pkt);
        if let (Network::Arp(arp), Some(proto)) = (&pkt.network, self.proto.as_mut()) {
            proto.on_arp(&pkt, arp, proto_out);
        }
        let mut out = ConnOut {
            nets: &self.local_nets,
            proto: self.proto.as_mut(),
            proto_out: &mut *proto_out,
            inner: conn_out,
        };
        let ctx = self.flows.observe(&pkt, &mut out);
        if let (Some(ctx), Some(proto)) = (ctx, self.proto.as_mut()) {
            proto.on_packet(ctx, &pkt, proto_out);
        }
    }

    /// End of input: every open connection goes to `out`.
    pub fn finish(&mut self, out: &mut impl Sink<ConnRecord>) {
        self.finish_all(out, &mut Discard);
    }

    /// End of input: open connections to `conn_out`, pending protocol records to `proto_out`.
    pub fn finish_all(
        &mut self,
        conn_out: &mut impl Sink<ConnRecord>,
        proto_out: &mut impl Sink<ProtoRecord>,
    ) {
        let mut out = ConnOut {
            nets: &self.local_nets,
            proto: self.proto.as_mut(),
            proto_out,
            inner: conn_out,
        };
        self.flows.flush(&mut out);
        if let Some(proto) = self.proto.as_mut() {
            proto.finish(proto_out);
        }
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
        if let Some(p) = &self.proto {
            v.extend(p.counters().to_vec());
        }
        v.extend(self.summary.to_vec());
        v
    }
}
