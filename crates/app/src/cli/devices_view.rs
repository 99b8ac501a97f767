//! Text rendering for `gatewatch devices`: listings as an aligned table,
//! one device in full, and the reconciliation report. Values that came from
//! packets (hostnames, vendors, user agents) are printed with control
//! characters escaped and cut to [`MAX_CELL_CHARS`] in tables.

use std::fmt::Write as _;

use gatewatch_engine::identity::reconcile::{MismatchField, Reconciliation};
use gatewatch_engine::identity::{DeclaredDevice, DeviceRecord};
use gatewatch_engine::Timestamp;

use crate::store::{DeviceDetail, DeviceListing, RunRow, StoreCounts};

/// Widest table cell; longer values end in `…`.
pub const MAX_CELL_CHARS: usize = 40;

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn utc(ts: Timestamp) -> String {
    let secs = ts.as_nanos().div_euclid(1_000_000_000);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ts.to_string())
}

/// Control characters escaped as `\xNN`.
fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn cell(s: Option<&str>) -> String {
    let s = clean(s.unwrap_or("-"));
    if s.chars().count() > MAX_CELL_CHARS {
        let mut cut: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// The device list as an aligned table with a header row.
pub fn table(rows: &[DeviceListing]) -> String {
    const HEADER: [&str; 9] = [
        "KEY",
        "IP",
        "HOSTNAME",
        "CLASS",
        "VENDOR",
        "MODEL",
        "CONF",
        "LAST SEEN (UTC)",
        "DECLARED",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.key.to_string(),
                r.ip.map_or_else(|| "-".to_string(), |ip| ip.to_string()),
                cell(r.hostname.as_deref()),
                r.class.as_str().to_string(),
                cell(r.vendor.as_deref()),
                cell(r.model.as_deref()),
                format!("{:.2}", r.confidence),
                utc(r.last_seen),
                cell(r.declared_name.as_deref()),
            ]
        })
        .collect();
    aligned(&HEADER, &cells, "")
}

/// Rows under a header, each column as wide as its widest cell plus two
/// spaces; every line starts with `indent`.
fn aligned<R: AsRef<[String]>>(header: &[&str], rows: &[R], indent: &str) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::with_capacity((rows.len() + 1) * 160);
    let mut line = |row: &[String]| {
        out.push_str(indent);
        for (i, (c, w)) in row.iter().zip(&widths).enumerate() {
            out.push_str(c);
            if i + 1 < row.len() {
                let pad = w.saturating_sub(c.chars().count()) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for row in rows {
        line(row.as_ref());
    }
    out
}

/// Everything about one device, in sections.
pub fn detail(d: &DeviceDetail) -> String {
    let mut out = String::new();
    observed(&mut out, &d.observed);
    declared(&mut out, d.declared.as_ref());
    let r = &d.observed;
    outln!(out, "\nclassification evidence ({})", r.evidence.len());
    for e in &r.evidence {
        let mut points = Vec::new();
        if let Some(c) = e.class {
            points.push(format!("class {c}"));
        }
        for (what, v) in [
            ("vendor", &e.vendor),
            ("model", &e.model),
            ("firmware", &e.firmware),
        ] {
            if let Some(v) = v {
                points.push(format!("{what} {}", clean(v)));
            }
        }
        let source = serde_json::to_value(e.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        outln!(
            out,
            "  {:.2}  {:<16} {}  -> {}",
            e.weight,
            source,
            clean(&e.observed),
            if points.is_empty() {
                "-".to_string()
            } else {
                points.join(", ")
            }
        );
    }
    outln!(out, "\nrecent evidence ({})", d.evidence.len());
    for e in &d.evidence {
        outln!(
            out,
            "  {}  sev {:>2}  score {:.2}  {:<24} [{}] {}",
            utc(e.ts),
            e.severity,
            e.score,
            e.kind,
            e.detector,
            clean(&e.summary)
        );
    }
    out
}

fn observed(out: &mut String, r: &DeviceRecord) {
    let or_dash = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_string(), clean);
    outln!(out, "device {}", r.key);
    outln!(
        out,
        "  class        {} (confidence {:.2})",
        r.class,
        r.confidence
    );
    outln!(out, "  vendor       {}", or_dash(&r.vendor));
    outln!(out, "  model        {}", or_dash(&r.model));
    outln!(out, "  firmware     {}", or_dash(&r.firmware));
    if let Some(mac) = r.mac {
        let kind = if r.mac_randomized {
            " (locally administered: randomized, virtual or cloned)"
        } else {
            ""
        };
        outln!(out, "  mac          {mac}{kind}");
    }
    outln!(out, "  first seen   {} UTC", utc(r.first_seen));
    outln!(out, "  last seen    {} UTC", utc(r.last_seen));
    for ip in &r.ips {
        outln!(
            out,
            "  ip           {:<39} {} – {}",
            ip.value,
            utc(ip.first),
            utc(ip.last)
        );
    }
    for h in &r.hostnames {
        outln!(
            out,
            "  hostname     {:<39} {} – {}",
            clean(&h.value),
            utc(h.first),
            utc(h.last)
        );
    }
    if !r.vlans.is_empty() {
        let v: Vec<String> = r.vlans.iter().map(u16::to_string).collect();
        outln!(out, "  vlans        {}", v.join(", "));
    }
    if !r.sites.is_empty() {
        let s: Vec<String> = r.sites.iter().map(|s| clean(s)).collect();
        outln!(out, "  sites        {}", s.join(", "));
    }
    if let Some(dhcp) = &r.dhcp {
        let params: Vec<String> = dhcp.params.iter().map(u8::to_string).collect();
        outln!(
            out,
            "  dhcp         options {}; vendor class {}; client id {}; hostname {}",
            if params.is_empty() {
                "-".to_string()
            } else {
                params.join(",")
            },
            or_dash(&dhcp.vendor_class),
            or_dash(&dhcp.client_id),
            or_dash(&dhcp.hostname)
        );
    }
    let t = &r.traffic;
    outln!(
        out,
        "  traffic      out {} packets / {} bytes / {} conns; in {} packets / {} bytes / {} conns",
        t.packets_out,
        t.bytes_out,
        t.conns_out,
        t.packets_in,
        t.bytes_in,
        t.conns_in
    );
}

fn declared(out: &mut String, d: Option<&DeclaredDevice>) {
    let Some(d) = d else {
        outln!(out, "\ndeclared: not in the declared inventory");
        return;
    };
    outln!(out, "\ndeclared");
    let key = d.key.map_or_else(|| "-".to_string(), |k| k.to_string());
    outln!(out, "  key          {key}");
    if let Some(ip) = d.ip {
        outln!(out, "  ip           {ip}");
    }
    for (label, v) in [
        ("name", &d.name),
        ("owner", &d.owner),
        ("site", &d.site),
        ("vendor", &d.vendor),
        ("model", &d.model),
        ("firmware", &d.firmware),
        ("role", &d.role),
        ("criticality", &d.criticality),
        ("support end", &d.support_end),
    ] {
        if let Some(v) = v {
            outln!(out, "  {label:<12} {}", clean(v));
        }
    }
    if let Some(c) = d.class {
        outln!(out, "  class        {c}");
    }
}

/// The reconciliation report.
pub fn reconciliation(r: &Reconciliation, now: Timestamp, missing_days: f64) -> String {
    let mut out = String::new();
    let universe = r.observed + r.declared - r.matched;
    outln!(
        out,
        "inventory accuracy {:.1}% ({} correct of {universe} devices seen or declared; {} seen, {} declared, {} matched)",
        r.inventory_accuracy * 100.0,
        r.correct,
        r.observed,
        r.declared,
        r.matched
    );
    if now == Timestamp::ZERO {
        outln!(out, "no capture analysed into this database yet: every declared device counts as never seen");
    } else {
        outln!(
            out,
            "as of {} UTC (latest packet time in the store)",
            utc(now)
        );
    }
    let dash = || "-".to_string();
    outln!(
        out,
        "\nunknown devices: seen, not declared ({})",
        r.unknown.len()
    );
    let rows: Vec<Vec<String>> = r
        .unknown
        .iter()
        .map(|u| {
            vec![
                u.key.to_string(),
                u.ip.map_or_else(dash, |ip| ip.to_string()),
                cell(u.hostname.as_deref()),
                u.class.as_str().to_string(),
                cell(u.vendor.as_deref()),
                utc(u.first_seen),
                utc(u.last_seen),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let header = [
            "KEY",
            "IP",
            "HOSTNAME",
            "CLASS",
            "VENDOR",
            "FIRST SEEN (UTC)",
            "LAST SEEN (UTC)",
        ];
        out.push_str(&aligned(&header, &rows, "  "));
    }
    outln!(
        out,
        "\nmissing devices: declared, not seen for {missing_days} days ({})",
        r.missing.len()
    );
    let rows: Vec<Vec<String>> = r
        .missing
        .iter()
        .map(|m| {
            let (last, silent) = match (m.last_seen, m.silent_for) {
                (Some(t), Some(d)) => (utc(t), format!("{:.1}", d.as_secs_f64() / 86_400.0)),
                _ => ("never seen".to_string(), dash()),
            };
            vec![
                m.key.map_or_else(dash, |k| k.to_string()),
                cell(m.name.as_deref()),
                last,
                silent,
            ]
        })
        .collect();
    if !rows.is_empty() {
        let header = ["KEY", "DECLARED NAME", "LAST SEEN (UTC)", "DAYS SILENT"];
        out.push_str(&aligned(&header, &rows, "  "));
    }
    outln!(
        out,
        "\nmismatches: declared vs observed ({})",
        r.mismatches.len()
    );
    let rows: Vec<Vec<String>> = r
        .mismatches
        .iter()
        .map(|m| {
            let field = match m.field {
                MismatchField::Class => "class",
                MismatchField::Vendor => "vendor",
            };
            vec![
                m.observed_key.to_string(),
                cell(m.name.as_deref()),
                field.to_string(),
                cell(Some(&m.declared)),
                cell(Some(&m.observed)),
                format!("{:.2}", m.confidence),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let header = [
            "KEY",
            "DECLARED NAME",
            "FIELD",
            "DECLARED",
            "OBSERVED",
            "CONF",
        ];
        out.push_str(&aligned(&header, &rows, "  "));
    }
    out
}

/// The stored runs and row counts.
pub fn runs(runs: &[RunRow], counts: &StoreCounts, schema_version: i64) -> String {
    let mut out = String::new();
    outln!(
        out,
        "schema version {schema_version}: {} devices ({} not declared), {} declared, {} evidence, {} runs",
        counts.devices,
        counts.undeclared,
        counts.declared,
        counts.evidence,
        counts.runs
    );
    for r in runs {
        let span = match (r.info.first_packet, r.info.last_packet) {
            (Some(a), Some(b)) => format!("{} – {} UTC", utc(a), utc(b)),
            _ => "no packets".to_string(),
        };
        outln!(
            out,
            "  run {:<5} {:<32} {:>10} packets  {:>7} devices  {:>8} evidence  {span}",
            r.id,
            cell(Some(&r.info.source)),
            r.info.packets,
            r.devices,
            r.evidence
        );
    }
    out
}
