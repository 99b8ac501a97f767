//! Reads of the SQLite store: device listings (indexed columns only, the
//! declared name joined by key or current IP), one device with its declared
//! entry and recent evidence, the declared inventory, runs and counts.

use std::net::IpAddr;
use std::str::FromStr;

use gatewatch_engine::decode::MacAddr;
use gatewatch_engine::identity::{DeclaredDevice, DeviceClass, DeviceKey, DeviceRecord};
use gatewatch_engine::Timestamp;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::backend;
use crate::store::{
    DeviceDetail, DeviceFilter, DeviceListing, RunInfo, RunRow, StoreCounts, StoreError,
    StoredEvidence, MAX_LIST_LIMIT,
};

/// A stored text column that must parse (`key`, `class`, `ip`).
fn parse_col<T: FromStr>(
    path: &str,
    what: &'static str,
    key: &str,
    text: &str,
) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| StoreError::Damaged {
        path: path.to_string(),
        what,
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn parse_opt<T: FromStr>(
    path: &str,
    what: &'static str,
    key: &str,
    text: Option<String>,
) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.map(|t| parse_col(path, what, key, &t)).transpose()
}

pub fn list_devices(
    conn: &Connection,
    path: &str,
    filter: &DeviceFilter,
) -> Result<Vec<DeviceListing>, StoreError> {
    let err = |e| backend(path, "listing devices", e);
    let mut sql = String::from(
        "SELECT v.key, v.ip, v.hostname, v.class, v.vendor, v.model, v.firmware, v.confidence,
                v.first_seen, v.last_seen, coalesce(d1.name, d2.name)
         FROM devices v
         LEFT JOIN declared d1 ON d1.key = v.key
         LEFT JOIN declared d2 ON d2.key = v.ip
         WHERE 1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(class) = filter.class {
        sql.push_str(" AND v.class = ?");
        args.push(Value::Text(class.as_str().to_string()));
    }
    if let Some(vendor) = &filter.vendor {
        sql.push_str(" AND instr(lower(v.vendor), lower(?)) > 0");
        args.push(Value::Text(vendor.clone()));
    }
    if filter.undeclared_only {
        sql.push_str(" AND d1.key IS NULL AND d2.key IS NULL");
    }
    sql.push_str(" ORDER BY v.key LIMIT ? OFFSET ?");
    let limit = filter.limit.unwrap_or(MAX_LIST_LIMIT).min(MAX_LIST_LIMIT);
    args.push(Value::Integer(limit as i64));
    args.push(Value::Integer(
        i64::try_from(filter.offset).unwrap_or(i64::MAX),
    ));
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        out.push(listing(path, row).map_err(|e| match e {
            RowError::Sql(e) => err(e),
            RowError::Store(e) => e,
        })?);
    }
    Ok(out)
}

enum RowError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for RowError {
    fn from(e: rusqlite::Error) -> Self {
        RowError::Sql(e)
    }
}

impl From<rusqlite::types::FromSqlError> for RowError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        RowError::Sql(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::new(e),
        ))
    }
}

impl From<StoreError> for RowError {
    fn from(e: StoreError) -> Self {
        RowError::Store(e)
    }
}

/// A stored key: the canonical `aa:bb:cc:dd:ee:ff` the store writes is read
/// without allocating; anything else goes through `DeviceKey::from_str`.
fn stored_key(path: &str, text: &str) -> Result<DeviceKey, StoreError> {
    let b = text.as_bytes();
    if b.len() == 17 && b.iter().skip(2).step_by(3).all(|&c| c == b':') {
        let mut mac = [0u8; 6];
        let mut ok = true;
        for (i, byte) in mac.iter_mut().enumerate() {
            match text
                .get(i * 3..i * 3 + 2)
                .map(|h| u8::from_str_radix(h, 16))
            {
                Some(Ok(v)) => *byte = v,
                _ => ok = false,
            }
        }
        if ok {
            return Ok(DeviceKey::Mac(MacAddr(mac)));
        }
    }
    parse_col(path, "device", text, text)
}

/// A stored class name (always the canonical `as_str` form) without allocating.
fn stored_class(path: &str, key: &str, text: &str) -> Result<DeviceClass, StoreError> {
    match DeviceClass::ALL.iter().find(|c| c.as_str() == text) {
        Some(c) => Ok(*c),
        None => parse_col(path, "device", key, text),
    }
}

fn listing(path: &str, row: &Row<'_>) -> Result<DeviceListing, RowError> {
    let key_ref = row.get_ref(0)?.as_str()?;
    let key = stored_key(path, key_ref)?;
    let ip = match row.get_ref(1)?.as_str_or_null()? {
        Some(t) => Some(parse_col::<IpAddr>(path, "device", key_ref, t)?),
        None => None,
    };
    let class = stored_class(path, key_ref, row.get_ref(3)?.as_str()?)?;
    Ok(DeviceListing {
        key,
        ip,
        hostname: row.get(2)?,
        class,
        vendor: row.get(4)?,
        model: row.get(5)?,
        firmware: row.get(6)?,
        confidence: row.get(7)?,
        first_seen: Timestamp(row.get(8)?),
        last_seen: Timestamp(row.get(9)?),
        declared_name: row.get(10)?,
    })
}

fn parse_record(path: &str, key: &str, json: &str) -> Result<DeviceRecord, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Damaged {
        path: path.to_string(),
        what: "device",
        key: key.to_string(),
        reason: e.to_string(),
    })
}

pub fn device(
    conn: &Connection,
    path: &str,
    key: &DeviceKey,
    recent_evidence: usize,
) -> Result<Option<DeviceDetail>, StoreError> {
    let err = |e| backend(path, "reading a device", e);
    let wanted = key.to_string();
    // By key; an IP also finds the MAC-keyed device currently using it.
    let found: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT r.key, r.record FROM device_records r WHERE r.key = (
                 SELECT key FROM devices WHERE key = ?1
                 UNION ALL SELECT key FROM devices WHERE ip = ?1 AND key <> ?1
                 LIMIT 1)",
        )
        .and_then(|mut s| {
            s.query_row([&wanted], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(err)?;
    let Some((key_text, json)) = found else {
        return Ok(None);
    };
    let observed = parse_record(path, &key_text, &json)?;
    let ip = observed.current_ip().map(|ip| ip.to_string());
    let declared = conn
        .prepare_cached(&format!(
            "SELECT {DECLARED_COLUMNS} FROM declared WHERE key = ?1 OR key = ?2 OR ip = ?2
             ORDER BY key = ?1 DESC, key = ?2 DESC LIMIT 1"
        ))
        .and_then(|mut s| {
            s.query_row(params![key_text, ip], |r| Ok(declared_row(r)))
                .optional()
        })
        .map_err(err)?
        .transpose()
        .map_err(|e| with_path(path, e))?;
    let evidence = evidence_of(conn, path, &key_text, recent_evidence)?;
    Ok(Some(DeviceDetail {
        observed,
        declared,
        evidence,
    }))
}

fn evidence_of(
    conn: &Connection,
    path: &str,
    key: &str,
    limit: usize,
) -> Result<Vec<StoredEvidence>, StoreError> {
    let err = |e| backend(path, "reading evidence", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, run_id, ts, kind, detector, severity, score, summary, record
             FROM evidence WHERE device = ?1 ORDER BY ts DESC, id DESC LIMIT ?2",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map(params![key, limit as i64], |r| {
            let json: String = r.get(8)?;
            Ok(StoredEvidence {
                id: r.get(0)?,
                run_id: r.get(1)?,
                ts: Timestamp(r.get(2)?),
                kind: r.get(3)?,
                detector: r.get(4)?,
                severity: r.get(5)?,
                score: r.get(6)?,
                summary: r.get(7)?,
                record: serde_json::from_str(&json).unwrap_or(serde_json::Value::Null),
            })
        })
        .map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

const DECLARED_COLUMNS: &str =
    "key, ip, name, owner, site, vendor, model, firmware, class, role, criticality, support_end";

fn declared_row(r: &Row<'_>) -> Result<DeclaredDevice, StoreError> {
    // Errors here are type mismatches of our own schema: report as damage.
    let text = |i: usize| -> Result<Option<String>, StoreError> {
        r.get(i).map_err(|e: rusqlite::Error| StoreError::Damaged {
            path: String::new(),
            what: "declared entry",
            key: String::new(),
            reason: e.to_string(),
        })
    };
    let key_text = text(0)?.unwrap_or_default();
    Ok(DeclaredDevice {
        key: Some(parse_col("", "declared entry", &key_text, &key_text)?),
        ip: parse_opt("", "declared entry", &key_text, text(1)?)?,
        name: text(2)?,
        owner: text(3)?,
        site: text(4)?,
        vendor: text(5)?,
        model: text(6)?,
        firmware: text(7)?,
        class: parse_opt("", "declared entry", &key_text, text(8)?)?,
        role: text(9)?,
        criticality: text(10)?,
        support_end: text(11)?,
    })
}

/// Fills in the database path of a damage report raised while reading a row.
fn with_path(path: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Damaged {
            what, key, reason, ..
        } => StoreError::Damaged {
            path: path.to_string(),
            what,
            key,
            reason,
        },
        other => other,
    }
}

pub fn declared(conn: &Connection, path: &str) -> Result<Vec<DeclaredDevice>, StoreError> {
    let err = |e| backend(path, "reading the declared inventory", e);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {DECLARED_COLUMNS} FROM declared ORDER BY position"
        ))
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        out.push(declared_row(row).map_err(|e| with_path(path, e))?);
    }
    Ok(out)
}

pub fn all_devices(conn: &Connection, path: &str) -> Result<Vec<DeviceRecord>, StoreError> {
    let err = |e| backend(path, "reading devices", e);
    let mut stmt = conn
        .prepare_cached("SELECT key, record FROM device_records ORDER BY key")
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let key: String = row.get(0).map_err(err)?;
        let json: String = row.get(1).map_err(err)?;
        out.push(parse_record(path, &key, &json)?);
    }
    Ok(out)
}

pub fn latest_packet_time(conn: &Connection, path: &str) -> Result<Option<Timestamp>, StoreError> {
    conn.query_row(
        "SELECT max(coalesce((SELECT max(last_packet) FROM runs), 0),
                    coalesce((SELECT max(last_seen) FROM devices), 0))",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|ns| (ns != 0).then_some(Timestamp(ns)))
    .map_err(|e| backend(path, "reading the latest packet time", e))
}

pub fn runs(conn: &Connection, path: &str) -> Result<Vec<RunRow>, StoreError> {
    let err = |e| backend(path, "reading runs", e);
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, source, packets, first_packet, last_packet, devices, evidence, recorded_at
             FROM runs ORDER BY id",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                info: RunInfo {
                    source: r.get(1)?,
                    packets: r.get::<_, i64>(2)?.max(0) as u64,
                    first_packet: r.get::<_, Option<i64>>(3)?.map(Timestamp),
                    last_packet: r.get::<_, Option<i64>>(4)?.map(Timestamp),
                },
                devices: r.get::<_, i64>(5)?.max(0) as u64,
                evidence: r.get::<_, i64>(6)?.max(0) as u64,
                recorded_at: r.get(7)?,
            })
        })
        .map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

pub fn counts(conn: &Connection, path: &str) -> Result<StoreCounts, StoreError> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM devices),
                (SELECT count(*) FROM devices v
                    LEFT JOIN declared d1 ON d1.key = v.key
                    LEFT JOIN declared d2 ON d2.key = v.ip
                    WHERE d1.key IS NULL AND d2.key IS NULL),
                (SELECT count(*) FROM declared),
                (SELECT count(*) FROM evidence),
                (SELECT count(*) FROM runs)",
        [],
        |r| {
            let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(StoreCounts {
                devices: n(0)?,
                undeclared: n(1)?,
                declared: n(2)?,
                evidence: n(3)?,
                runs: n(4)?,
            })
        },
    )
    .map_err(|e| backend(path, "counting rows", e))
}
