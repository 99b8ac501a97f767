//! Writes of the SQLite store: device batches merged into what is stored,
//! evidence, the declared inventory and runs. Each public entry point runs
//! inside one `BEGIN IMMEDIATE` transaction (see [`in_transaction`]); a
//! failure anywhere rolls the whole batch back.

use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{DeclaredDevice, DeviceRecord};
use gatewatch_engine::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::backend;
use crate::store::{RunInfo, StoreError};

/// Runs `f` in one immediate transaction; commits only when it succeeds.
pub fn in_transaction<T>(
    conn: &mut Connection,
    path: &str,
    doing: &str,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| backend(path, doing, e))?;
    let out = f(&tx)?;
    tx.commit().map_err(|e| backend(path, doing, e))?;
    Ok(out)
}

/// The `runs` row, the devices and the evidence of one analysis, together.
pub fn record_analysis(
    conn: &mut Connection,
    path: &str,
    run: &RunInfo,
    devices: &[DeviceRecord],
    evidence: &[Evidence],
) -> Result<i64, StoreError> {
    in_transaction(conn, path, "storing the analysis run", |tx| {
        let recorded_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        tx.execute(
            "INSERT INTO runs (source, packets, first_packet, last_packet, devices, evidence, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run.source,
                i64::try_from(run.packets).unwrap_or(i64::MAX),
                run.first_packet.map(Timestamp::as_nanos),
                run.last_packet.map(Timestamp::as_nanos),
                devices.len() as i64,
                evidence.len() as i64,
                recorded_at,
            ],
        )
        .map_err(|e| backend(path, "storing the analysis run", e))?;
        let run_id = tx.last_insert_rowid();
        upsert_devices(tx, path, devices, Some(run_id))?;
        insert_evidence(tx, path, evidence, Some(run_id))?;
        Ok(run_id)
    })
}

/// Merges each record with the stored one (if any) and writes it; returns
/// how many keys were new.
pub fn upsert_devices(
    tx: &Transaction<'_>,
    path: &str,
    devices: &[DeviceRecord],
    run_id: Option<i64>,
) -> Result<usize, StoreError> {
    let err = |e| backend(path, "storing devices", e);
    let mut select = tx
        .prepare_cached("SELECT record FROM device_records WHERE key = ?1")
        .map_err(err)?;
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO devices (key, mac, ip, hostname, class, vendor, model, firmware,
                 confidence, mac_randomized, first_seen, last_seen, last_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (key) DO UPDATE SET
                 mac = excluded.mac, ip = excluded.ip, hostname = excluded.hostname,
                 class = excluded.class, vendor = excluded.vendor, model = excluded.model,
                 firmware = excluded.firmware, confidence = excluded.confidence,
                 mac_randomized = excluded.mac_randomized, first_seen = excluded.first_seen,
                 last_seen = excluded.last_seen,
                 last_run = coalesce(excluded.last_run, devices.last_run)",
        )
        .map_err(err)?;
    let mut upsert_record = tx
        .prepare_cached(
            "INSERT INTO device_records (key, record) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET record = excluded.record",
        )
        .map_err(err)?;
    let mut new = 0;
    for incoming in devices {
        let key = incoming.key.to_string();
        let stored: Option<String> = select
            .query_row([&key], |r| r.get(0))
            .optional()
            .map_err(err)?;
        let mut record = match stored {
            Some(json) => {
                let mut old: DeviceRecord =
                    serde_json::from_str(&json).map_err(|e| StoreError::Damaged {
                        path: path.to_string(),
                        what: "device",
                        key: key.clone(),
                        reason: e.to_string(),
                    })?;
                old.merge(incoming);
                old
            }
            None => {
                new += 1;
                incoming.clone()
            }
        };
        sanitize(&mut record);
        let json = serde_json::to_string(&record).map_err(|e| StoreError::Damaged {
            path: path.to_string(),
            what: "device",
            key: key.clone(),
            reason: e.to_string(),
        })?;
        upsert
            .execute(params![
                key,
                record.mac.map(|m| m.to_string()),
                record.current_ip().map(|ip| ip.to_string()),
                record.current_hostname(),
                record.class.as_str(),
                record.vendor,
                record.model,
                record.firmware,
                record.confidence,
                record.mac_randomized,
                record.first_seen.as_nanos(),
                record.last_seen.as_nanos(),
                run_id,
            ])
            .map_err(err)?;
        upsert_record.execute(params![key, json]).map_err(err)?;
    }
    Ok(new)
}

/// Replaces non-finite numbers (which JSON and SQLite REAL cannot hold) by 0.
fn sanitize(record: &mut DeviceRecord) {
    if !record.confidence.is_finite() {
        record.confidence = 0.0;
    }
    for e in &mut record.evidence {
        if !e.weight.is_finite() {
            e.weight = 0.0;
        }
    }
}

/// Appends evidence rows.
pub fn insert_evidence(
    tx: &Transaction<'_>,
    path: &str,
    evidence: &[Evidence],
    run_id: Option<i64>,
) -> Result<usize, StoreError> {
    let err = |e| backend(path, "storing evidence", e);
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO evidence (run_id, ts, device, ip, kind, family, detector, severity,
                 score, summary, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(err)?;
    for e in evidence {
        let score = if e.score.is_finite() { e.score } else { 0.0 };
        let json = serde_json::to_string(e).map_err(|x| StoreError::Damaged {
            path: path.to_string(),
            what: "evidence of",
            key: e.device.to_string(),
            reason: x.to_string(),
        })?;
        insert
            .execute(params![
                run_id,
                e.ts.as_nanos(),
                e.device.to_string(),
                e.ip.map(|ip| ip.to_string()),
                e.kind,
                e.family,
                e.detector,
                e.severity,
                score,
                e.summary,
                json,
            ])
            .map_err(err)?;
    }
    Ok(evidence.len())
}

/// Deletes the declared inventory and writes `declared` in its place, in file
/// order. Entries without a key cannot be stored (the importer rejects them).
pub fn replace_declared(
    tx: &Transaction<'_>,
    path: &str,
    declared: &[DeclaredDevice],
) -> Result<usize, StoreError> {
    let err = |e| backend(path, "replacing the declared inventory", e);
    let replaced = tx.execute("DELETE FROM declared", []).map_err(err)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO declared (key, position, ip, name, owner, site, vendor, model, firmware,
                 class, role, criticality, support_end)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(err)?;
    for (i, d) in declared.iter().enumerate() {
        let Some(key) = d.key else {
            return Err(StoreError::Damaged {
                path: path.to_string(),
                what: "declared entry",
                key: format!("#{}", i + 1),
                reason: "it has neither a MAC nor an IP".to_string(),
            });
        };
        insert
            .execute(params![
                key.to_string(),
                i as i64,
                d.ip.map(|ip| ip.to_string()),
                d.name,
                d.owner,
                d.site,
                d.vendor,
                d.model,
                d.firmware,
                d.class.map(|c| c.as_str()),
                d.role,
                d.criticality,
                d.support_end,
            ])
            .map_err(err)?;
    }
    Ok(replaced)
}
