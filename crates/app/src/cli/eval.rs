//! `gatewatch eval MODE …`: measures gatewatch against ground truth.
//!
//! Modes are subcommands so that each keeps its own arguments: today
//! `eval identify DATA_DIR` (device-type classifier, cross-validated on
//! labelled captures). Detection scoring (`eval CAPTURE --truth FILE`) is to
//! be added as optional arguments of [`EvalArgs`] itself: clap is told that
//! arguments and subcommands conflict, so `eval identify …` selects the mode
//! and any other first word is read as the capture.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use super::eval_identify;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub mode: Option<EvalMode>,
}

#[derive(Debug, Subcommand)]
pub enum EvalMode {
    /// Cross-validate the device-type classifier on labelled captures (DATA_DIR/<Label>/*.pcap).
    Identify(eval_identify::EvalIdentifyArgs),
}

pub fn run(args: EvalArgs, quiet: bool) -> Result<ExitCode> {
    match args.mode {
        Some(EvalMode::Identify(a)) => eval_identify::run(a, quiet),
        None => bail!(
            "eval needs a mode: `gatewatch eval identify DATA_DIR` (see `gatewatch eval --help`)"
        ),
    }
}
