//! `gatewatch devices lifecycle --db PATH [--catalogue FILE]`: the stored
//! inventory (observed devices, declared entries taking precedence for
//! vendor, model and firmware) against the lifecycle catalogue → end-of-life
//! and outdated-firmware findings and the fleet's patch compliance.
//!
//! Exposed admin services need the connections, so they are assessed by
//! `analyze` (written to evidence.jsonl), not here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use gatewatch_engine::lifecycle::{assess, ComplianceReport, ExposureTracker};
use serde_json::json;

use crate::cli::devices::DbArg;
use crate::store::{OpenMode, Store};

#[derive(Debug, Args)]
pub struct LifecycleArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Lifecycle catalogue (YAML); default: the sample shipped with gatewatch.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: LifecycleArgs) -> Result<ExitCode> {
    let catalogue = crate::catalogue::load(args.catalogue.as_deref())?;
    let store = crate::cli::devices::open(&args.db, OpenMode::Existing)?;
    let devices = store.all_devices()?;
    let declared = store.declared()?;
    let now = store.latest_packet_time()?.unwrap_or_default();
    let mut findings = Vec::new();
    let report = assess(
        &devices,
        &declared,
        &catalogue,
        &ExposureTracker::new(),
        now,
        &mut findings,
    );
    let text = if args.json {
        serde_json::to_string_pretty(&json!({"report": report, "findings": findings}))? + "\n"
    } else {
        render(&report, &findings)
    };
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// The compliance figures, then one line per finding.
pub fn render(
    report: &ComplianceReport,
    findings: &[gatewatch_engine::evidence::Evidence],
) -> String {
    let mut s = String::new();
    let pct = report
        .patch_compliance_pct
        .map_or("n/a (no device matched the catalogue)".to_string(), |p| {
            format!("{p:.1}%")
        });
    s.push_str(&format!(
        "devices {}  firmware known {}  in catalogue {}  patch compliance {pct}\n",
        report.devices, report.firmware_known, report.in_catalogue
    ));
    s.push_str(&format!(
        "end of life {}  with known CVEs {}  behind latest {}  compliant {}\n",
        report.end_of_life, report.vulnerable, report.not_latest, report.compliant
    ));
    for f in findings {
        s.push_str(&format!(
            "{:<18} {:<20} sev {:>2}  {}\n",
            f.device.to_string(),
            f.kind,
            f.severity,
            f.summary
        ));
    }
    s
}
