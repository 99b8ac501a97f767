//! JSON Lines writer for conn.log: [`ConnRecord`]s in → one JSON object per
//! line with Zeek's JSON field names (`id.orig_h`, …); unset fields omitted,
//! as Zeek's JSON writer does.

use std::io::{self, Write};

use gatewatch_engine::flow::ConnRecord;
use gatewatch_engine::Sink;

/// Writes one object per record; the first I/O error is kept for `finish`.
pub struct JsonConnWriter<W: Write> {
    out: W,
    error: Option<io::Error>,
    pub records: u64,
}

impl<W: Write> JsonConnWriter<W> {
    pub fn new(out: W) -> Self {
        JsonConnWriter {
            out,
            error: None,
            records: 0,
        }
    }

    fn line(&mut self, r: &ConnRecord) -> io::Result<()> {
        let o = &mut self.out;
        write!(
            o,
            "{{\"ts\":{},\"uid\":\"{}\",\"id.orig_h\":\"{}\",\"id.orig_p\":{},\"id.resp_h\":\"{}\",\"id.resp_p\":{},\"proto\":\"{}\"",
            r.ts, r.uid, r.orig_h, r.orig_p, r.resp_h, r.resp_p, r.proto.as_str()
        )?;
        if !r.service.is_empty() {
            write!(o, ",\"service\":\"{}\"", r.service.join(","))?;
        }
        if let Some(d) = r.duration {
            write!(o, ",\"duration\":{d}")?;
        }
        if let Some(b) = r.orig_bytes {
            write!(o, ",\"orig_bytes\":{b}")?;
        }
        if let Some(b) = r.resp_bytes {
            write!(o, ",\"resp_bytes\":{b}")?;
        }
        write!(o, ",\"conn_state\":\"{}\"", r.conn_state.code())?;
        if let Some(l) = r.local_orig {
            write!(o, ",\"local_orig\":{l}")?;
        }
        if let Some(l) = r.local_resp {
            write!(o, ",\"local_resp\":{l}")?;
        }
        write!(o, ",\"missed_bytes\":{}", r.missed_bytes)?;
        if !r.history.is_empty() {
            write!(o, ",\"history\":\"{}\"", r.history)?;
        }
        write!(
            o,
            ",\"orig_pkts\":{},\"orig_ip_bytes\":{},\"resp_pkts\":{},\"resp_ip_bytes\":{}",
            r.orig_pkts, r.orig_ip_bytes, r.resp_pkts, r.resp_ip_bytes
        )?;
        if let Some(v) = r.vlan {
            write!(o, ",\"vlan\":{v}")?;
        }
        if let Some(v) = r.inner_vlan {
            write!(o, ",\"inner_vlan\":{v}")?;
        }
        if let Some(m) = r.orig_l2_addr {
            write!(o, ",\"orig_l2_addr\":\"{m}\"")?;
        }
        if let Some(m) = r.resp_l2_addr {
            write!(o, ",\"resp_l2_addr\":\"{m}\"")?;
        }
        writeln!(
            o,
            ",\"orig_l2_bytes\":{},\"resp_l2_bytes\":{}}}",
            r.orig_l2_bytes, r.resp_l2_bytes
        )
    }

    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Sink<ConnRecord> for JsonConnWriter<W> {
    fn push(&mut self, r: ConnRecord) {
        if self.error.is_some() {
            return;
        }
        self.records += 1;
        if let Err(e) = self.line(&r) {
            self.error = Some(e);
        }
    }
}
