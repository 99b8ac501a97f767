//! [`SqliteStore`]: the [`Store`] on an embedded SQLite file.
//!
//! Opening checks before anything is written: a file that does not start
//! with the SQLite header, an SQLite file of another program, or a database
//! of a newer schema version is refused with a message naming the file, and
//! left byte-identical. Then: WAL journal (readers never block the writer,
//! a killed writer leaves the last committed state), `synchronous=NORMAL`,
//! a busy timeout of [`BUSY_TIMEOUT`], a page cache of [`CACHE_KIB`] KiB, and
//! the migrations. Writes are
//! `BEGIN IMMEDIATE` transactions through the one connection (one writer).

mod read;
mod write;

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use gatewatch_engine::evidence::Evidence;
use gatewatch_engine::identity::{DeclaredDevice, DeviceKey, DeviceRecord};
use gatewatch_engine::Timestamp;
use rusqlite::{Connection, OpenFlags};

use super::migrations::{self, MigrateError, APPLICATION_ID};
use super::{
    DeviceDetail, DeviceFilter, DeviceListing, RunInfo, RunRow, Store, StoreCounts, StoreError,
};

/// How long a statement waits for another process's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite page cache of the connection, KiB.
pub const CACHE_KIB: u32 = 32 * 1024;

/// The 16 bytes every SQLite 3 database file starts with.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether opening may create the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create (and initialise) the database when the file does not exist.
    Create,
    /// The database must exist (read commands: `devices list`, `show`, …).
    Existing,
}

/// The store on one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`, checks it is a gatewatch
    /// database this build can read, and migrates it to the latest schema.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        check_file(path, &name, mode)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)
            .map_err(|e| backend(&name, "opening the database", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| backend(&name, "setting the busy timeout", e))?;
        check_schema(&conn, &name)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| backend(&name, "switching to the WAL journal", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                "{name}: journal mode is {mode}, not WAL (file system without shared memory?)"
            );
        }
        // Statement sub-journals in memory and a page cache that holds a large
        // batch keep big write transactions from spilling to temporary files.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{CACHE_KIB};"
        ))
        .map_err(|e| backend(&name, "setting pragmas", e))?;
        migrations::migrate(&mut conn).map_err(|e| match e {
            MigrateError::Future { found } => StoreError::FutureVersion {
                path: name.clone(),
                found,
                supported: migrations::latest_version(),
            },
            MigrateError::Sql { file, source } => {
                backend(&name, &format!("applying migration {file}"), source)
            }
        })?;
        Ok(SqliteStore { conn, path: name })
    }

    /// Copies the WAL into the database file and truncates the WAL (the file
    /// size then is the database size).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| backend(&self.path, "checkpointing the WAL", e))
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| backend(&self.path, "reading the schema version", e))
    }
}

fn backend(path: &str, doing: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Backend {
        path: path.to_string(),
        doing: doing.to_string(),
        source: Box::new(e),
    }
}

/// Refuses, before SQLite touches it, anything that is not an SQLite file.
fn check_file(path: &Path, name: &str, mode: OpenMode) -> Result<(), StoreError> {
    let not_db = |reason: String| StoreError::NotADatabase {
        path: name.to_string(),
        reason,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match mode {
                OpenMode::Create => Ok(()),
                OpenMode::Existing => Err(StoreError::Missing {
                    path: name.to_string(),
                }),
            };
        }
        Err(e) => return Err(not_db(format!("cannot read it ({e})"))),
    };
    if meta.is_dir() {
        return Err(not_db("it is a directory".to_string()));
    }
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .map_err(|e| not_db(format!("cannot read it ({e})")))?;
    // An empty file is an empty database to SQLite: it gets initialised.
    if !head.is_empty() && head.as_slice() != SQLITE_HEADER.as_slice() {
        return Err(not_db(describe_header(&head)));
    }
    Ok(())
}

/// What the first bytes of a file that is not SQLite look like.
fn describe_header(head: &[u8]) -> String {
    let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let hint = if head.starts_with(b"PK\x03\x04") {
        " (a zip archive)"
    } else if head.starts_with(&[0x1f, 0x8b]) {
        " (gzip-compressed)"
    } else if head.starts_with(&[0xd4, 0xc3, 0xb2, 0xa1])
        || head.starts_with(&[0xa1, 0xb2, 0xc3, 0xd4])
        || head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a])
    {
        " (a packet capture)"
    } else if head.starts_with(b"SQLite format") {
        " (an SQLite header of an unsupported version)"
    } else if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        " (text)"
    } else {
        ""
    };
    format!(
        "it does not start with the SQLite header; first bytes {}{hint}",
        hex.join(" ")
    )
}

/// Refuses an SQLite file of another program or of a newer schema, reading only.
fn check_schema(conn: &Connection, name: &str) -> Result<(), StoreError> {
    let not_db = |reason: String| StoreError::NotADatabase {
        path: name.to_string(),
        reason,
    };
    let read = |pragma: &str| -> Result<i64, StoreError> {
        conn.pragma_query_value(None, pragma, |r| r.get(0))
            .map_err(|e| not_db(format!("SQLite cannot read it ({e})")))
    };
    let version = read("user_version")?;
    let app = read("application_id")?;
    if app != 0 && app != APPLICATION_ID {
        return Err(not_db(format!(
            "it is an SQLite database of another program (application_id {app:#x})"
        )));
    }
    if version > migrations::latest_version() {
        return Err(StoreError::FutureVersion {
            path: name.to_string(),
            found: version,
            supported: migrations::latest_version(),
        });
    }
    if version == 0 {
        let tables = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 6")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| not_db(format!("SQLite cannot read it ({e})")))?;
        if !tables.is_empty() {
            return Err(not_db(format!(
                "it is an SQLite database without a gatewatch schema version, holding tables {}",
                tables.join(", ")
            )));
        }
    } else if app != APPLICATION_ID {
        return Err(not_db(format!(
            "schema version {version} but no gatewatch application id"
        )));
    }
    Ok(())
}

impl Store for SqliteStore {
    fn record_analysis(
        &mut self,
        run: &RunInfo,
        devices: &[DeviceRecord],
        evidence: &[Evidence],
    ) -> Result<i64, StoreError> {
        write::record_analysis(&mut self.conn, &self.path, run, devices, evidence)
    }

    fn upsert_devices(&mut self, devices: &[DeviceRecord]) -> Result<usize, StoreError> {
        write::in_transaction(&mut self.conn, &self.path, "storing devices", |tx| {
            write::upsert_devices(tx, &self.path, devices, None)
        })
    }

    fn insert_evidence(&mut self, evidence: &[Evidence]) -> Result<usize, StoreError> {
        write::in_transaction(&mut self.conn, &self.path, "storing evidence", |tx| {
            write::insert_evidence(tx, &self.path, evidence, None)
        })
    }

    fn replace_declared(&mut self, declared: &[DeclaredDevice]) -> Result<usize, StoreError> {
        write::in_transaction(
            &mut self.conn,
            &self.path,
            "replacing the declared inventory",
            |tx| write::replace_declared(tx, &self.path, declared),
        )
    }

    fn declared(&self) -> Result<Vec<DeclaredDevice>, StoreError> {
        read::declared(&self.conn, &self.path)
    }

    fn list_devices(&self, filter: &DeviceFilter) -> Result<Vec<DeviceListing>, StoreError> {
        read::list_devices(&self.conn, &self.path, filter)
    }

    fn device(
        &self,
        key: &DeviceKey,
        recent_evidence: usize,
    ) -> Result<Option<DeviceDetail>, StoreError> {
        read::device(&self.conn, &self.path, key, recent_evidence)
    }

    fn all_devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        read::all_devices(&self.conn, &self.path)
    }

    fn latest_packet_time(&self) -> Result<Option<Timestamp>, StoreError> {
        read::latest_packet_time(&self.conn, &self.path)
    }

    fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        read::runs(&self.conn, &self.path)
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        read::counts(&self.conn, &self.path)
    }

    fn device_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM devices", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| backend(&self.path, "counting devices", e))
    }
}

#[cfg(test)]
mod tests;
