//! The only place that wires the stages together:
//! [`RawPacket`] → [`Decoder`] → ([`CaptureSummary`], [`FlowTable`]) →
//! [`ProtoLayer`] → sinks of [`ConnRecord`]s and [`ProtoRecord`]s.
//!
//! The caller owns the capture reader and the outputs; the pipeline owns the
//! per-stage state and their counters. Protocol analyzers run when
//! [`PipelineConfig::analyzers`] is set; they also fill conn.log's `service`.
//! The identity stage ([`IdentityStage`]) runs when [`PipelineConfig::identity`]
//! is set: it sees every decoded packet, connection record and protocol
//! record, keeps the device table ([`Pipeline::devices`]) and raises identity
//! evidence ([`Pipeline::drain_evidence`]).

use crate::counters::Counters;
use crate::decode::{Decoder, Network};
use crate::evidence::Evidence;
use crate::flow::{ConnRecord, FlowConfig, FlowTable};
use crate::identity::{DeviceRecord, IdentityConfig, IdentityStage};
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
    /// Run the identity stage (device table, classification, identity
    /// evidence); `None` leaves it off. `analyze` turns it on.
    pub identity: Option<IdentityConfig>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            flow: FlowConfig::default(),
            local_nets: LocalNets::default(),
            analyzers: true,
            identity: None,
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
    identity: Option<IdentityStage>,
}

/// Finishes a connection record on its way out: analyzer flush and `service`,
/// then the fields that depend on site configuration.
struct ConnOut<'a, 'b, S, P> {
    nets: &'a LocalNets,
    proto: Option<&'a mut ProtoLayer>,
    proto_out: &'a mut IdentityTap<'b, P>,
    inner: &'a mut S,
}

impl<S: Sink<ConnRecord>, P: Sink<ProtoRecord>> Sink<ConnRecord> for ConnOut<'_, '_, S, P> {
    fn push(&mut self, mut rec: ConnRecord) {
        if let Some(proto) = self.proto.as_deref_mut() {
            proto.on_conn_end(&mut rec, self.proto_out);
        }
        rec.local_orig = self.nets.is_local(rec.orig_h);
        rec.local_resp = self.nets.is_local(rec.resp_h);
        if let Some(identity) = self.proto_out.identity.as_deref_mut() {
            identity.observe_conn(&rec);
        }
        self.inner.push(rec);
    }
}

/// Shows every protocol record to the identity stage on its way out.
struct IdentityTap<'a, P> {
    identity: Option<&'a mut IdentityStage>,
    inner: &'a mut P,
}

impl<P: Sink<ProtoRecord>> Sink<ProtoRecord> for IdentityTap<'_, P> {
    fn push(&mut self, rec: ProtoRecord) {
        if let Some(identity) = self.identity.as_deref_mut() {
            identity.observe_proto(&rec);
        }
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
            identity: config.identity.map(IdentityStage::new),
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
        if let Some(identity) = self.identity.as_mut() {
            identity.observe_packet(&pkt);
        }
        let mut tap = IdentityTap {
            identity: self.identity.as_mut(),
            inner: proto_out,
        };
        if let (Network::Arp(arp), Some(proto)) = (&pkt.network, self.proto.as_mut()) {
            proto.on_arp(&pkt, arp, &mut tap);
        }
        let mut out = ConnOut {
            nets: &self.local_nets,
            proto: self.proto.as_mut(),
            proto_out: &mut tap,
            inner: conn_out,
        };
        let ctx = self.flows.observe(&pkt, &mut out);
        if let (Some(ctx), Some(proto)) = (ctx, self.proto.as_mut()) {
            proto.on_packet(ctx, &pkt, &mut tap);
        }
    }

    /// [`process_all`](Self::process_all), then the identity evidence raised
    /// so far to `evidence_out`.
    pub fn process_with_evidence(
        &mut self,
        raw: &RawPacket<'_>,
        conn_out: &mut impl Sink<ConnRecord>,
        proto_out: &mut impl Sink<ProtoRecord>,
        evidence_out: &mut impl Sink<Evidence>,
    ) {
        self.process_all(raw, conn_out, proto_out);
        self.drain_evidence(evidence_out);
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
        let mut tap = IdentityTap {
            identity: self.identity.as_mut(),
            inner: proto_out,
        };
        let mut out = ConnOut {
            nets: &self.local_nets,
            proto: self.proto.as_mut(),
            proto_out: &mut tap,
            inner: conn_out,
        };
        self.flows.flush(&mut out);
        if let Some(proto) = self.proto.as_mut() {
            proto.finish(&mut tap);
        }
        if let Some(identity) = self.identity.as_mut() {
            identity.finish();
        }
    }

    /// Moves the identity evidence raised so far into `out` (nothing when
    /// the identity stage is off).
    pub fn drain_evidence(&mut self, out: &mut impl Sink<Evidence>) {
        if let Some(identity) = self.identity.as_mut() {
            identity.drain_evidence(out);
        }
    }

    /// The identity stage, when it runs.
    pub fn identity(&self) -> Option<&IdentityStage> {
        self.identity.as_ref()
    }

    /// Every device the identity stage tracks, in no particular order
    /// (none when the stage is off).
    pub fn devices(&self) -> impl Iterator<Item = &DeviceRecord> {
        self.identity.iter().flat_map(IdentityStage::devices)
    }

    /// The tracked devices sorted by key, consuming the pipeline.
    pub fn into_devices(self) -> Vec<DeviceRecord> {
        self.identity
            .map(IdentityStage::into_devices)
            .unwrap_or_default()
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
        if let Some(i) = &self.identity {
            v.extend(i.counters().to_vec());
        }
        v.extend(self.summary.to_vec());
        v
    }
}
