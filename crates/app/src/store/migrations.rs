//! Schema migrations: the SQL files in `store/migrations/NNN_name.sql`,
//! embedded in the binary, applied in order inside one transaction; the
//! version reached is kept in SQLite's `PRAGMA user_version`.
//!
//! To change the schema, add the next `NNN_name.sql` file and one line to
//! [`MIGRATIONS`]; never edit a migration that has shipped.

use rusqlite::{Connection, TransactionBehavior};

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The `user_version` reached after this step (the file's NNN).
    pub version: i64,
    /// The file name, for messages.
    pub file: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order; versions are 1, 2, 3, … without gaps.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    file: "001_initial.sql",
    sql: include_str!("migrations/001_initial.sql"),
}];

/// The schema version this build creates and understands.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// `application_id` written by migration 001: marks a gatewatch database.
pub const APPLICATION_ID: i64 = 0x6777_7477;

/// Why migrating failed.
#[derive(Debug)]
pub enum MigrateError {
    /// The database is newer than this build (another process may have raced us).
    Future { found: i64 },
    Sql {
        file: &'static str,
        source: rusqlite::Error,
    },
}

/// Brings the schema to [`latest_version`] in one immediate transaction;
/// returns the version found before.
pub fn migrate(conn: &mut Connection) -> Result<i64, MigrateError> {
    let sql_err = |file| move |source| MigrateError::Sql { file, source };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err("BEGIN"))?;
    // Read again inside the write lock: another writer may have migrated meanwhile.
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql_err("PRAGMA user_version"))?;
    if found > latest_version() {
        return Err(MigrateError::Future { found });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql).map_err(sql_err(m.file))?;
        tx.pragma_update(None, "user_version", m.version)
            .map_err(sql_err(m.file))?;
    }
    tx.commit().map_err(sql_err("COMMIT"))?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_and_match_file_names() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.file);
            assert!(
                m.file.starts_with(&format!("{:03}_", m.version)),
                "{} does not start with its version",
                m.file
            );
            assert!(m.file.ends_with(".sql"));
        }
        assert!(latest_version() >= 1);
    }

    #[test]
    fn applies_from_empty_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn).unwrap(), latest_version());
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest_version());
        let app: i64 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap();
        assert_eq!(app, APPLICATION_ID);
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            tables,
            ["declared", "device_records", "devices", "evidence", "runs"]
        );
    }

    #[test]
    fn a_failing_step_leaves_the_version_unchanged() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE devices (x)").unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(
            err,
            MigrateError::Sql {
                file: "001_initial.sql",
                ..
            }
        ));
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 0);
        let runs: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'runs'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(runs, 0, "the partial migration was rolled back");
    }
}
