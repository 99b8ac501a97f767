//! The embedded store: observed devices ([`DeviceRecord`]), the operator's
//! declared inventory ([`DeclaredDevice`]), [`Evidence`] and one row per
//! analysis run in; listings, device details and counts out.
//!
//! [`Store`] is the data-access layer the CLI (and later the web console)
//! talk to; [`SqliteStore`] implements it on an embedded SQLite file (WAL
//! journal, busy timeout, one writer, versioned migrations in
//! `store/migrations/NNN_name.sql`). A PostgreSQL implementation can be added
//! behind the same trait. Every write method is one transaction: a process
//! killed mid-write leaves the previous consistent state.
//!
//! Limits: [`MAX_LIST_LIMIT`] rows per listing call; device lists inside a
//! record are bounded by the engine's `MAX_RECORD_*` limits on merge.

pub mod migrations;
pub mod sqlite;

use std::net::IpAddr;

use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{DeclaredDevice, DeviceClass, DeviceKey, DeviceRecord};
use gatewatch_engine::Timestamp;
use serde::Serialize;

pub use sqlite::{OpenMode, SqliteStore};

/// Rows one listing call returns at most (a page; use `offset` for more).
pub const MAX_LIST_LIMIT: usize = 1_000_000;
/// Evidence rows `show` returns by default.
pub const DEFAULT_RECENT_EVIDENCE: usize = 20;

/// What went wrong with the store. Messages name the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a gatewatch database: {reason}; the file was left unchanged")]
    NotADatabase { path: String, reason: String },
    #[error(
        "{path} has schema version {found}, newer than this gatewatch supports (up to version \
         {supported}): it was written by a newer release; upgrade gatewatch to open it \
         (the file was left unchanged)"
    )]
    FutureVersion {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path}: no such database (create one with `gatewatch analyze FILE --db {path}` or \
         `gatewatch devices import FILE --db {path}`)"
    )]
    Missing { path: String },
    #[error("{path}: {doing}: {source}")]
    Backend {
        path: String,
        doing: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{path}: stored {what} `{key}` is damaged ({reason}); nothing was changed")]
    Damaged {
        path: String,
        what: &'static str,
        key: String,
        reason: String,
    },
}

/// One analysis run, as persisted by `analyze --db`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    /// The capture's file name as given on the command line.
    pub source: String,
    pub packets: u64,
    pub first_packet: Option<Timestamp>,
    pub last_packet: Option<Timestamp>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    #[serde(flatten)]
    pub info: RunInfo,
    pub devices: u64,
    pub evidence: u64,
    /// Wall clock when the run was written, seconds since the epoch.
    pub recorded_at: i64,
}

/// Which devices a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceFilter {
    pub class: Option<DeviceClass>,
    /// Case-insensitive substring of the vendor.
    pub vendor: Option<String>,
    /// Only devices the declared inventory does not list.
    pub undeclared_only: bool,
    /// At most this many rows (capped at [`MAX_LIST_LIMIT`]); `None` for all.
    pub limit: Option<usize>,
    pub offset: usize,
}

/// One row of `devices list`, ordered by key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceListing {
    pub key: DeviceKey,
    pub ip: Option<IpAddr>,
    pub hostname: Option<String>,
    pub class: DeviceClass,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    pub confidence: f64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The declared name (inventory entry with this key, or this IP).
    pub declared_name: Option<String>,
}

/// A stored piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvidence {
    pub id: i64,
    pub run_id: Option<i64>,
    pub ts: Timestamp,
    pub kind: String,
    pub detector: String,
    pub severity: u8,
    pub score: f64,
    pub summary: String,
    /// The full evidence.jsonl line.
    pub record: serde_json::Value,
}

/// Everything the store knows about one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceDetail {
    pub observed: DeviceRecord,
    pub declared: Option<DeclaredDevice>,
    /// Most recent first.
    pub evidence: Vec<StoredEvidence>,
}

/// Row counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    pub devices: u64,
    /// Observed devices the declared inventory does not list (by key or current IP).
    pub undeclared: u64,
    pub declared: u64,
    pub evidence: u64,
    pub runs: u64,
}

/// The data-access layer. Writes take `&mut self` (one writer); each write
/// method is a single transaction.
pub trait Store {
    /// Writes one analysis: a `runs` row, the devices merged into what is
    /// stored ([`DeviceRecord::merge`]) and the evidence, all in ONE
    /// transaction. Returns the run id.
    fn record_analysis(
        &mut self,
        run: &RunInfo,
        devices: &[DeviceRecord],
        evidence: &[Evidence],
    ) -> Result<i64, StoreError>;
    /// Merges a batch of devices into the store (one transaction); returns how many were new.
    fn upsert_devices(&mut self, devices: &[DeviceRecord]) -> Result<usize, StoreError>;
    /// Appends evidence (one transaction, no run attached).
    fn insert_evidence(&mut self, evidence: &[Evidence]) -> Result<usize, StoreError>;
    /// Replaces the whole declared inventory (one transaction); returns how many entries it replaced.
    fn replace_declared(&mut self, declared: &[DeclaredDevice]) -> Result<usize, StoreError>;
    /// The declared inventory in import order.
    fn declared(&self) -> Result<Vec<DeclaredDevice>, StoreError>;
    fn list_devices(&self, filter: &DeviceFilter) -> Result<Vec<DeviceListing>, StoreError>;
    /// One device by key, or by its current IP; with its declared entry and
    /// up to `recent_evidence` pieces of evidence, newest first.
    fn device(
        &self,
        key: &DeviceKey,
        recent_evidence: usize,
    ) -> Result<Option<DeviceDetail>, StoreError>;
    /// Every stored device record (for reconciliation).
    fn all_devices(&self) -> Result<Vec<DeviceRecord>, StoreError>;
    /// The latest packet time the store knows (runs and devices): "now" for reconciliation.
    fn latest_packet_time(&self) -> Result<Option<Timestamp>, StoreError>;
    fn runs(&self) -> Result<Vec<RunRow>, StoreError>;
    fn counts(&self) -> Result<StoreCounts, StoreError>;
    /// Observed devices stored (cheaper than [`Store::counts`]).
    fn device_count(&self) -> Result<u64, StoreError>;
}

/// Persists one analysis run: what the integration calls at the end of
/// `analyze --db`, fed with the identity stage's devices and the run's
/// evidence. One transaction: a kill before it commits leaves the store as it was.
pub fn persist_analysis(
    store: &mut dyn Store,
    run: &RunInfo,
    devices: &[DeviceRecord],
    evidence: &[Evidence],
) -> Result<i64, StoreError> {
    store.record_analysis(run, devices, evidence)
}
