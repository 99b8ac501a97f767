//! Chooses and drives the protocol analyzer of each connection.
//!
//! In: decoded packets with the flow table's [`PacketContext`], and each
//! [`ConnRecord`] as its connection ends. Out: [`ProtoRecord`]s (one per log
//! line of any analyzer) and the `service` field of conn.log.
//!
//! Selection is by content, with ports as hints (Zeek's dynamic protocol
//! detection in small): the first payload of a connection is offered to the
//! analyzers whose well-known port matches (accepted unless their probe says
//! `No`), then to every analyzer whose probe says `Yes`. Up to
//! [`MAX_PROBE_ATTEMPTS`] payloads are tried before giving up. TCP payload goes
//! through a [`StreamCursor`] per direction (in order, holes reported as gaps).
//!
//! TCP connections whose first packet was not a SYN (the capture began
//! mid-connection) may have their roles the wrong way round: their payload is
//! also probed as if sent by the other side, and MQTT sessions, whose probe
//! needs a CONNECT, are recognised by their framing on both sides
//! (`midstream`). When the analyzer's view is the reverse of conn.log's, it
//! runs with the roles swapped (its records name the client as `orig`),
//! counted as `proto.midstream_flipped`.
//!
//! ARP packets go to one capture-wide [`arp::ArpAnalyzer`] ([`ProtoLayer::on_arp`],
//! flushed by [`ProtoLayer::finish`]).
//!
//! Limits: at most [`MAX_PROTO_FLOWS`] connections carry analyzer state; the
//! state of a connection is dropped when its conn record passes through.

use hashbrown::HashMap;

use crate::counters::Counters;
use crate::decode::{ArpPacket, Decoded, Network, Transport};
use crate::flow::{ConnRecord, PacketContext, Uid};
use crate::log::{ConnId, Field, LogRecord, Value};
use crate::sink::Sink;
use crate::time::Timestamp;

use super::stream::StreamCursor;

mod midstream;

use super::{arp, coap, dhcp, dnp3, dns, http, modbus, mqtt, ntp, ssdp, ssh, telnet, tls, Probe};
use midstream::MqttMidstream;

/// Connections with analyzer state at once (the flow table's default limit).
pub const MAX_PROTO_FLOWS: usize = crate::flow::DEFAULT_MAX_FLOWS;
/// Payloads offered to the probes before a connection is left unidentified.
pub const MAX_PROBE_ATTEMPTS: u8 = 4;
/// Bytes of a side held back for probing while no analyzer is chosen.
pub const MAX_HELD_BYTES: usize = 512;

/// Adapts a sink of one record type into the sink of [`ProtoRecord`]s.
struct Wrap<'a, S, F> {
    inner: &'a mut S,
    wrap: F,
}

impl<R, S: Sink<ProtoRecord>, F: Fn(R) -> ProtoRecord> Sink<R> for Wrap<'_, S, F> {
    fn push(&mut self, item: R) {
        self.inner.push((self.wrap)(item));
    }
}

/// Declares, for every analyzer, the enum variants and counter fields that
/// dispatch needs, so adding a protocol is one line here.
/// Capture-wide analyzers (ARP) follow `@capture`: they get a record variant
/// and counters but no per-connection state.
macro_rules! analyzers {
    ($( $variant:ident: $module:ident :: $analyzer:ident, $counters:ident, $record:ident; )*
     @capture $( $cvariant:ident: $cmodule:ident, $ccounters:ident, $crecord:ident; )*) => {
        /// The analyzer attached to one connection.
        enum Analyzer {
            $( $variant(Box<$module::$analyzer>), )*
        }

        /// One log line from any analyzer.
        #[derive(Debug, Clone)]
        pub enum ProtoRecord {
            $( $variant($module::$record), )*
            $( $cvariant($cmodule::$crecord), )*
        }

        impl LogRecord for ProtoRecord {
            fn path(&self) -> &'static str {
                match self {
                    $( ProtoRecord::$variant(r) => r.path(), )*
                    $( ProtoRecord::$cvariant(r) => r.path(), )*
                }
            }
            fn fields(&self) -> &'static [Field] {
                match self {
                    $( ProtoRecord::$variant(r) => r.fields(), )*
                    $( ProtoRecord::$cvariant(r) => r.fields(), )*
                }
            }
            fn visit_values(&self, f: &mut dyn FnMut(Value<'_>)) {
                match self {
                    $( ProtoRecord::$variant(r) => r.visit_values(f), )*
                    $( ProtoRecord::$cvariant(r) => r.visit_values(f), )*
                }
            }
        }

        /// Every analyzer's counters plus the dispatcher's own.
        #[derive(Debug, Default)]
        pub struct ProtoCounters {
            pub dispatch: DispatchCounters,
            $( pub $module: $module::$counters, )*
            $( pub $cmodule: $cmodule::$ccounters, )*
        }

        impl Counters for ProtoCounters {
            fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
                self.dispatch.visit(f);
                $( self.$module.visit(f); )*
                $( self.$cmodule.visit(f); )*
            }
        }

        impl Analyzer {
            fn on_data(&mut self, ts: Timestamp, is_orig: bool, data: &[u8],
                       c: &mut ProtoCounters, out: &mut impl Sink<ProtoRecord>) {
                match self {
                    $( Analyzer::$variant(a) => a.on_data(ts, is_orig, data, &mut c.$module,
                        &mut Wrap { inner: out, wrap: ProtoRecord::$variant }), )*
                }
            }
            fn on_gap(&mut self, is_orig: bool, len: u64, c: &mut ProtoCounters) {
                match self { $( Analyzer::$variant(a) => a.on_gap(is_orig, len, &mut c.$module), )* }
            }
            fn on_end(&mut self, ts: Timestamp, c: &mut ProtoCounters, out: &mut impl Sink<ProtoRecord>) {
                match self {
                    $( Analyzer::$variant(a) => a.on_end(ts, &mut c.$module,
                        &mut Wrap { inner: out, wrap: ProtoRecord::$variant }), )*
                }
            }
        }
    };
}

analyzers! {
    Dns: dns::DnsAnalyzer, DnsCounters, DnsRecord;
    Dhcp: dhcp::DhcpAnalyzer, DhcpCounters, DhcpRecord;
    Ssdp: ssdp::SsdpAnalyzer, SsdpCounters, SsdpRecord;
    Ntp: ntp::NtpAnalyzer, NtpCounters, NtpRecord;
    Coap: coap::CoapAnalyzer, CoapCounters, CoapRecord;
    Tls: tls::TlsAnalyzer, TlsCounters, SslRecord;
    Http: http::HttpAnalyzer, HttpCounters, HttpRecord;
    Mqtt: mqtt::MqttAnalyzer, MqttCounters, MqttRecord;
    Ssh: ssh::SshAnalyzer, SshCounters, SshRecord;
    Telnet: telnet::TelnetAnalyzer, TelnetCounters, TelnetRecord;
    Modbus: modbus::ModbusAnalyzer, ModbusCounters, ModbusRecord;
    Dnp3: dnp3::Dnp3Analyzer, Dnp3Counters, Dnp3Record;
    @capture
    Arp: arp, ArpCounters, ArpRecord;
}

/// What the dispatcher itself saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DispatchCounters {
    pub identified: u64,
    pub unidentified: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub table_full: u64,
    /// Connections picked up mid-stream whose analyzer runs with the roles swapped.
    pub midstream_flipped: u64,
    /// Mid-stream MQTT sessions recognised by their framing on both sides.
    pub midstream_mqtt: u64,
}

impl Counters for DispatchCounters {
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64)) {
        f("proto.identified_connections", self.identified);
        f("proto.unidentified_connections", self.unidentified);
        f("proto.stream_gaps", self.gaps);
        f("proto.stream_gap_bytes", self.gap_bytes);
        f("proto.table_full", self.table_full);
        f("proto.midstream_flipped", self.midstream_flipped);
        f("proto.midstream_mqtt", self.midstream_mqtt);
    }
}

/// Which transport a candidate analyzer runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Tcp,
    Udp,
}

/// A protocol the dispatcher can start: service name, carrier, well-known ports, probe.
struct Candidate {
    service: &'static str,
    carrier: Carrier,
    ports: &'static [u16],
    probe: fn(&[u8], bool) -> Probe,
    start: fn(ConnId) -> Analyzer,
}

/// In order of preference when several probes say `Yes`.
const CANDIDATES: &[Candidate] = &[
    Candidate {
        service: dns::SERVICE,
        carrier: Carrier::Udp,
        ports: &[53, 5353, 5355],
        probe: dns::probe,
        start: |c| Analyzer::Dns(Box::new(dns::DnsAnalyzer::new(c))),
    },
    Candidate {
        service: dhcp::SERVICE,
        carrier: Carrier::Udp,
        ports: &[67, 68, 546, 547],
        probe: dhcp::probe,
        start: |c| Analyzer::Dhcp(Box::new(dhcp::DhcpAnalyzer::new(c))),
    },
    Candidate {
        service: ssdp::SERVICE,
        carrier: Carrier::Udp,
        ports: &[1900],
        probe: ssdp::probe,
        start: |c| Analyzer::Ssdp(Box::new(ssdp::SsdpAnalyzer::new(c))),
    },
    Candidate {
        service: ntp::SERVICE,
        carrier: Carrier::Udp,
        ports: &[123],
        probe: ntp::probe,
        start: |c| Analyzer::Ntp(Box::new(ntp::NtpAnalyzer::new(c))),
    },
    Candidate {
        service: coap::SERVICE,
        carrier: Carrier::Udp,
        ports: &[5683],
        probe: coap::probe,
        start: |c| Analyzer::Coap(Box::new(coap::CoapAnalyzer::new(c))),
    },
    Candidate {
        service: tls::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[443, 8443, 8883, 993, 995, 465, 636],
        probe: tls::probe,
        start: |c| Analyzer::Tls(Box::new(tls::TlsAnalyzer::new(c))),
    },
    Candidate {
        service: ssh::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[22, 2222],
        probe: ssh::probe,
        start: |c| Analyzer::Ssh(Box::new(ssh::SshAnalyzer::new(c))),
    },
    Candidate {
        service: mqtt::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[1883],
        probe: mqtt::probe,
        start: |c| Analyzer::Mqtt(Box::new(mqtt::MqttAnalyzer::new(c))),
    },
    Candidate {
        service: http::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[80, 8080, 8000, 8008, 8081, 554, 8554],
        probe: http::probe,
        start: |c| Analyzer::Http(Box::new(http::HttpAnalyzer::new(c))),
    },
    Candidate {
        service: modbus::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[502],
        probe: modbus::probe,
        start: |c| Analyzer::Modbus(Box::new(modbus::ModbusAnalyzer::new(c))),
    },
    Candidate {
        service: dnp3::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[20000],
        probe: dnp3::probe,
        start: |c| Analyzer::Dnp3(Box::new(dnp3::Dnp3Analyzer::new(c))),
    },
    Candidate {
        service: telnet::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[23, 2323],
        probe: telnet::probe,
        start: |c| Analyzer::Telnet(Box::new(telnet::TelnetAnalyzer::new(c))),
    },
    Candidate {
        service: dns::SERVICE,
        carrier: Carrier::Tcp,
        ports: &[53],
        probe: dns::probe,
        start: |c| Analyzer::Dns(Box::new(dns::DnsAnalyzer::new_tcp(c))),
    },
];

/// Analyzer state of one connection.
struct FlowProto {
    uid: Uid,
    cursors: [StreamCursor; 2],
    analyzer: Option<Analyzer>,
    service: Option<&'static str>,
    attempts: u8,
    /// First bytes of one side kept while no probe said yes (TCP only).
    held: Vec<u8>,
    held_orig: bool,
    /// TCP connection whose first packet was not a SYN.
    midstream: bool,
    /// The analyzer sees the roles the other way round from conn.log.
    flipped: bool,
    mqtt_vote: MqttMidstream,
}

/// Per-connection analyzers, keyed by the flow table's `flow_id`.
pub struct ProtoLayer {
    flows: HashMap<u64, FlowProto, foldhash::fast::RandomState>,
    /// ARP is not connection-based: one analyzer for the whole capture.
    arp: arp::ArpAnalyzer,
    counters: ProtoCounters,
}

impl Default for ProtoLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ProtoLayer {
    pub fn new() -> Self {
        ProtoLayer {
            flows: HashMap::default(),
            arp: arp::ArpAnalyzer::new(),
            counters: ProtoCounters::default(),
        }
    }

    /// Accounts one ARP packet (arp.log).
    pub fn on_arp(&mut self, pkt: &Decoded<'_>, a: &ArpPacket, out: &mut impl Sink<ProtoRecord>) {
        self.arp.on_packet(
            pkt.ts,
            pkt,
            a,
            &mut self.counters.arp,
            &mut Wrap {
                inner: out,
                wrap: ProtoRecord::Arp,
            },
        );
    }

    /// End of input for the capture-wide analyzers (requests still waiting for a reply).
    pub fn finish(&mut self, out: &mut impl Sink<ProtoRecord>) {
        self.arp.on_end(
            &mut self.counters.arp,
            &mut Wrap {
                inner: out,
                wrap: ProtoRecord::Arp,
            },
        );
    }

    pub fn counters(&self) -> &ProtoCounters {
        &self.counters
    }

    /// Accounts one packet of a TCP or UDP connection.
    pub fn on_packet(
        &mut self,
        ctx: PacketContext,
        pkt: &Decoded<'_>,
        out: &mut impl Sink<ProtoRecord>,
    ) {
        let Network::Ip(ip) = &pkt.network else {
            return;
        };
        let (carrier, data, side_ports) = match &ip.transport {
            Transport::Tcp(t) => (Carrier::Tcp, None, (t.src_port, t.dst_port)),
            Transport::Udp(u) => (Carrier::Udp, Some(u.payload), (u.src_port, u.dst_port)),
            _ => return,
        };
        // A TCP connection not opened by a bare SYN was joined mid-stream.
        let midstream =
            matches!(&ip.transport, Transport::Tcp(t) if !t.flags.syn() || t.flags.ack());
        if let Some(uid) = ctx.uid {
            if self.flows.len() >= MAX_PROTO_FLOWS {
                self.counters.dispatch.table_full += 1;
            } else {
                self.flows.insert(
                    ctx.flow_id,
                    FlowProto {
                        uid,
                        cursors: Default::default(),
                        analyzer: None,
                        service: None,
                        attempts: 0,
                        held: Vec::new(),
                        held_orig: false,
                        midstream,
                        flipped: false,
                        mqtt_vote: MqttMidstream::default(),
                    },
                );
            }
        }
        let Some(fp) = self.flows.get_mut(&ctx.flow_id) else {
            return;
        };
        let side = usize::from(!ctx.is_orig);
        let (data, gap_before, gap_after) = match (&ip.transport, data) {
            (Transport::Tcp(t), _) => {
                let Some(cursor) = fp.cursors.get_mut(side) else {
                    return;
                };
                let d = cursor.accept(t);
                (d.data, d.gap_before, d.gap_after)
            }
            (_, Some(d)) => (d, 0, 0),
            _ => return,
        };
        let c = &mut self.counters;
        // Until an analyzer is chosen, a short TCP first chunk ("POST ") is
        // held and probed again together with the next one from that side.
        let mut joined: Vec<u8>;
        let mut data = data;
        if fp.analyzer.is_none() {
            if data.is_empty() || fp.attempts >= MAX_PROBE_ATTEMPTS {
                return;
            }
            fp.attempts += 1;
            if !fp.held.is_empty() && fp.held_orig == ctx.is_orig && gap_before == 0 {
                joined = std::mem::take(&mut fp.held);
                joined.extend_from_slice(data);
                data = &joined;
            }
            // Ports as the originator sees them: (orig port, resp port).
            let (orig_p, resp_p) = if ctx.is_orig {
                side_ports
            } else {
                (side_ports.1, side_ports.0)
            };
            let (orig_h, resp_h) = if ctx.is_orig {
                (ip.src, ip.dst)
            } else {
                (ip.dst, ip.src)
            };
            let chosen = choose(carrier, orig_p, resp_p, data, ctx.is_orig)
                .map(|cand| (cand, false))
                .or_else(|| {
                    let view = Midstream {
                        orig_p,
                        resp_p,
                        data,
                        is_orig: ctx.is_orig,
                    };
                    fp.midstream
                        .then(|| view.choose(carrier, &mut fp.mqtt_vote))?
                });
            match chosen {
                Some((cand, flipped)) => {
                    c.dispatch.identified += 1;
                    if flipped {
                        c.dispatch.midstream_flipped += 1;
                    }
                    if cand.service == mqtt::SERVICE && fp.midstream {
                        c.dispatch.midstream_mqtt += u64::from(fp.mqtt_vote.decided());
                    }
                    fp.service = Some(cand.service);
                    fp.flipped = flipped;
                    let conn = if flipped {
                        ConnId {
                            uid: fp.uid.to_string(),
                            orig_h: resp_h,
                            orig_p: resp_p,
                            resp_h: orig_h,
                            resp_p: orig_p,
                        }
                    } else {
                        ConnId {
                            uid: fp.uid.to_string(),
                            orig_h,
                            orig_p,
                            resp_h,
                            resp_p,
                        }
                    };
                    fp.analyzer = Some((cand.start)(conn));
                }
                None => {
                    if fp.attempts >= MAX_PROBE_ATTEMPTS {
                        c.dispatch.unidentified += 1;
                        fp.held = Vec::new();
                    } else if carrier == Carrier::Tcp && data.len() <= MAX_HELD_BYTES {
                        fp.held = data.to_vec();
                        fp.held_orig = ctx.is_orig;
                    }
                    return;
                }
            }
        }
        // The side as the analyzer sees it.
        let is_orig = ctx.is_orig != fp.flipped;
        let Some(a) = fp.analyzer.as_mut() else {
            return;
        };
        if gap_before > 0 {
            c.dispatch.gaps += 1;
            c.dispatch.gap_bytes += gap_before;
            a.on_gap(is_orig, gap_before, c);
        }
        if !data.is_empty() {
            a.on_data(pkt.ts, is_orig, data, c, out);
        }
        if gap_after > 0 {
            c.dispatch.gaps += 1;
            c.dispatch.gap_bytes += gap_after;
            a.on_gap(is_orig, gap_after, c);
        }
    }

    /// A connection ended: flush its analyzer and fill conn.log's `service`.
    pub fn on_conn_end(&mut self, rec: &mut ConnRecord, out: &mut impl Sink<ProtoRecord>) {
        let Some(mut fp) = self.flows.remove(&rec.flow_id) else {
            return;
        };
        // HTTP's grammar also carries RTSP: the analyzer knows which it saw.
        let service = match &fp.analyzer {
            Some(Analyzer::Http(h)) => Some(h.service()),
            _ => fp.service,
        };
        if let Some(service) = service {
            rec.service.push(service);
        }
        if let Some(a) = fp.analyzer.as_mut() {
            let end = rec.ts.plus(rec.duration.unwrap_or_default());
            a.on_end(end, &mut self.counters, out);
        }
    }
}

/// A payload of a connection whose start was not seen, with conn.log's view of it.
struct Midstream<'d> {
    orig_p: u16,
    resp_p: u16,
    data: &'d [u8],
    is_orig: bool,
}

impl Midstream<'_> {
    /// The analyzer for a mid-stream payload the ordinary probes refused,
    /// and whether it runs with the roles swapped: first the probes with the
    /// payload as if sent by the other side, then the MQTT framing vote.
    fn choose(
        &self,
        carrier: Carrier,
        mqtt_vote: &mut MqttMidstream,
    ) -> Option<(&'static Candidate, bool)> {
        if let Some(cand) = choose(carrier, self.resp_p, self.orig_p, self.data, !self.is_orig) {
            return Some((cand, true));
        }
        if carrier != Carrier::Tcp {
            return None;
        }
        let client_is_orig = mqtt_vote.vote(self.data, self.is_orig, self.orig_p, self.resp_p)?;
        let mqtt = CANDIDATES.iter().find(|c| c.service == mqtt::SERVICE)?;
        Some((mqtt, !client_is_orig))
    }
}

/// Picks the analyzer for a connection's first payload, or none.
fn choose(
    carrier: Carrier,
    orig_p: u16,
    resp_p: u16,
    data: &[u8],
    is_orig: bool,
) -> Option<&'static Candidate> {
    let on_carrier = || CANDIDATES.iter().filter(move |c| c.carrier == carrier);
    let by_port = on_carrier().find(|c| {
        (c.ports.contains(&resp_p) || c.ports.contains(&orig_p))
            && (c.probe)(data, is_orig) != Probe::No
    });
    by_port.or_else(|| on_carrier().find(|c| (c.probe)(data, is_orig) == Probe::Yes))
}
