//! `gatewatch devices list|show|import|export|reconcile --db PATH`: the
//! device inventory in the store.
//!
//! `list` and `show` read observed devices (with their declared entry);
//! `import` replaces the declared inventory from a CSV or YAML file (all or
//! nothing: any bad line → exit 2, every problem listed as `FILE:LINE: …`,
//! the store untouched); `export` writes it back in either format;
//! `reconcile` compares declared with observed (unknown, missing,
//! mismatched devices, inventory accuracy); `runs` lists the analyses
//! stored. Text rendering is in
//! `devices_view.rs`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use gatewatch_engine::identity::reconcile::{reconcile, ReconcileConfig};
use gatewatch_engine::identity::{DeviceClass, DeviceKey};
use gatewatch_engine::time::Duration;

use crate::cli::devices_view;
use crate::inventory::{self, InventoryFormat};
use crate::store::{
    DeviceFilter, OpenMode, SqliteStore, Store, DEFAULT_RECENT_EVIDENCE, MAX_LIST_LIMIT,
};

#[derive(Debug, Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    pub command: DevicesCommand,
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// List observed devices as a table (or JSON), ordered by key.
    List(ListArgs),
    /// Everything known about one device: observed, declared, classification evidence, recent evidence.
    Show(ShowArgs),
    /// Replace the declared inventory with a CSV or YAML file (nothing imported if any line is bad).
    Import(ImportArgs),
    /// Write the declared inventory as CSV or YAML.
    Export(ExportArgs),
    /// Compare declared with observed: unknown, missing and mismatched devices, inventory accuracy.
    Reconcile(ReconcileArgs),
    /// The analysis runs stored in the database, the schema version and row counts.
    Runs(RunsArgs),
    /// Firmware lifecycle: end-of-life and outdated firmware against a catalogue, patch compliance.
    Lifecycle(crate::cli::lifecycle::LifecycleArgs),
}

/// The database every `devices` subcommand works on.
#[derive(Debug, Args)]
pub struct DbArg {
    /// The gatewatch database (SQLite file written by `analyze --db` or `devices import`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Only devices of this class (camera, plug, …, unknown).
    #[arg(long)]
    pub class: Option<DeviceClass>,
    /// Only devices whose vendor contains this text (case-insensitive).
    #[arg(long)]
    pub vendor: Option<String>,
    /// Only devices the declared inventory does not list.
    #[arg(long)]
    pub undeclared: bool,
    /// At most this many devices.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Skip this many devices first (paging with --limit).
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Device key: its MAC, or an IP (a MAC-keyed device currently on that IP is found too).
    pub key: DeviceKey,
    #[command(flatten)]
    pub db: DbArg,
    /// Pieces of recent evidence to show.
    #[arg(long, default_value_t = DEFAULT_RECENT_EVIDENCE)]
    pub evidence: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Inventory file (.csv, .yaml or .yml).
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArg,
    /// File format, when the extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<InventoryFormat>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Output file; `-` writes to stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// File format (default: from the extension; CSV for stdout).
    #[arg(long, value_enum)]
    pub format: Option<InventoryFormat>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// A declared device not seen for this many days (packet time) is missing.
    #[arg(long, default_value_t = 7.0)]
    pub missing_days: f64,
    /// Observed class/vendor confidence from which it contradicts the inventory.
    #[arg(long, default_value_t = gatewatch_engine::identity::reconcile::DEFAULT_MISMATCH_CONFIDENCE)]
    pub min_confidence: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub db: DbArg,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DevicesArgs, quiet: bool) -> Result<ExitCode> {
    match args.command {
        DevicesCommand::List(a) => list(a, quiet),
        DevicesCommand::Show(a) => show(a),
        DevicesCommand::Import(a) => import(a, quiet),
        DevicesCommand::Export(a) => export(a, quiet),
        DevicesCommand::Reconcile(a) => reconcile_cmd(a),
        DevicesCommand::Runs(a) => runs(a),
        DevicesCommand::Lifecycle(a) => crate::cli::lifecycle::run(a),
    }
}

pub(crate) fn open(db: &DbArg, mode: OpenMode) -> Result<SqliteStore> {
    Ok(SqliteStore::open(&db.db, mode)?)
}

fn list(args: ListArgs, quiet: bool) -> Result<ExitCode> {
    let store = open(&args.db, OpenMode::Existing)?;
    if args.limit.is_some_and(|l| l > MAX_LIST_LIMIT) {
        anyhow::bail!("--limit: at most {MAX_LIST_LIMIT} devices per listing");
    }
    let filter = DeviceFilter {
        class: args.class,
        vendor: args.vendor.clone(),
        undeclared_only: args.undeclared,
        limit: args.limit,
        offset: args.offset,
    };
    let rows = store.list_devices(&filter)?;
    let text = if args.json {
        serde_json::to_string_pretty(&rows)? + "\n"
    } else {
        devices_view::table(&rows)
    };
    crate::emit(&text)?;
    if !quiet && !args.json {
        eprintln!(
            "{} of {} stored devices shown",
            rows.len(),
            store.device_count()?
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ShowArgs) -> Result<ExitCode> {
    let store = open(&args.db, OpenMode::Existing)?;
    let Some(detail) = store.device(&args.key, args.evidence)? else {
        anyhow::bail!(
            "{}: no device {} (list them with `gatewatch devices list --db {}`)",
            args.db.db.display(),
            args.key,
            args.db.db.display()
        );
    };
    let text = if args.json {
        serde_json::to_string_pretty(&detail)? + "\n"
    } else {
        devices_view::detail(&detail)
    };
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs, quiet: bool) -> Result<ExitCode> {
    // Check the whole file before the database is even opened.
    let devices = inventory::read_file(&args.file, args.format)?;
    let mut store = open(&args.db, OpenMode::Create)?;
    let replaced = store.replace_declared(&devices)?;
    if args.json {
        let v = serde_json::json!({"file": args.file.display().to_string(),
            "imported": devices.len(), "replaced": replaced});
        crate::emit(&(serde_json::to_string_pretty(&v)? + "\n"))?;
    } else if !quiet {
        eprintln!(
            "{}: {} declared devices imported into {} (replacing {replaced})",
            args.file.display(),
            devices.len(),
            args.db.db.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export(args: ExportArgs, quiet: bool) -> Result<ExitCode> {
    let to_stdout = args.out.as_os_str() == "-";
    let format = match (args.format, to_stdout) {
        (Some(f), _) => f,
        (None, true) => InventoryFormat::Csv,
        (None, false) => InventoryFormat::from_path(&args.out).with_context(|| {
            format!(
                "{}: cannot tell the format from the extension: name it .csv, .yaml or .yml, or give --format csv|yaml",
                args.out.display()
            )
        })?,
    };
    let store = open(&args.db, OpenMode::Existing)?;
    let declared = store.declared()?;
    let bytes = inventory::render(&declared, format)?;
    if to_stdout {
        crate::emit(&String::from_utf8_lossy(&bytes))?;
    } else {
        write_file(&args.out, &bytes)?;
    }
    if args.json && !to_stdout {
        let v =
            serde_json::json!({"file": args.out.display().to_string(), "exported": declared.len()});
        crate::emit(&(serde_json::to_string_pretty(&v)? + "\n"))?;
    } else if !quiet && !to_stdout {
        eprintln!(
            "{} declared devices written to {}",
            declared.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes through a temporary file in the same directory, so an interrupted
/// export never leaves half a file under the final name.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("export"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("{}: cannot write", path.display()))
    })
}

fn reconcile_cmd(args: ReconcileArgs) -> Result<ExitCode> {
    if !(args.missing_days.is_finite() && args.missing_days >= 0.0) {
        anyhow::bail!("--missing-days: expected a number of days ≥ 0");
    }
    let store = open(&args.db, OpenMode::Existing)?;
    let observed = store.all_devices()?;
    let declared = store.declared()?;
    let now = store.latest_packet_time()?.unwrap_or_default();
    let config = ReconcileConfig {
        missing_after: Duration((args.missing_days * 86_400e9) as i64),
        mismatch_confidence: args.min_confidence,
    };
    let result = reconcile(&observed, &declared, now, &config);
    let text = if args.json {
        let mut v = serde_json::to_value(&result)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("now".into(), serde_json::to_value(now)?);
            obj.insert("missing_days".into(), args.missing_days.into());
        }
        serde_json::to_string_pretty(&v)? + "\n"
    } else {
        devices_view::reconciliation(&result, now, args.missing_days)
    };
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn runs(args: RunsArgs) -> Result<ExitCode> {
    let store = open(&args.db, OpenMode::Existing)?;
    let runs = store.runs()?;
    let counts = store.counts()?;
    let version = store.schema_version()?;
    let text = if args.json {
        let v = serde_json::json!({"schema_version": version, "counts": counts, "runs": runs});
        serde_json::to_string_pretty(&v)? + "\n"
    } else {
        devices_view::runs(&runs, &counts, version)
    };
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
