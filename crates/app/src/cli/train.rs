//! `gatewatch train identify DATA_DIR`: labelled captures in
//! (`DATA_DIR/<Label>/*.pcap` plus `DATA_DIR/<Label>/_iotdevice-mac.txt`)
//! → a device-type model file out (`--out`, default `identify-model.json`).
//!
//! One sample per capture file: the features of the labelled MAC's own
//! traffic in it. Folder names are labels, with the IoT Sentinel units of one
//! type merged (see the engine's `classify::labels`). The same data, trees
//! and seed give a byte-identical file. Captures are read on all cores.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gatewatch_engine::classify::{self, label_for_folder, Dataset, ForestParams, Sample};
use gatewatch_engine::decode::MacAddr;
use gatewatch_engine::identity::model::parse_mac;

/// Name of the file holding a label folder's device MAC.
pub const MAC_FILE: &str = "_iotdevice-mac.txt";

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    pub what: TrainWhat,
}

#[derive(Debug, Subcommand)]
pub enum TrainWhat {
    /// Train the device-type classifier on labelled captures (DATA_DIR/<Label>/*.pcap).
    Identify(TrainIdentifyArgs),
}

/// Forest options shared by `train identify` and `eval identify`.
#[derive(Debug, Clone, Args)]
pub struct ForestOptions {
    /// Trees in the forest.
    #[arg(long, default_value_t = 100)]
    pub trees: u16,
    /// Deepest split level of a tree (keep it above the number of labels).
    #[arg(long, default_value_t = 32)]
    pub max_depth: u16,
    /// Random seed: the same seed gives the same forest.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl ForestOptions {
    pub fn params(&self) -> Result<ForestParams> {
        if self.trees == 0 || self.max_depth == 0 {
            bail!("--trees and --max-depth must be at least 1");
        }
        Ok(ForestParams {
            trees: self.trees,
            max_depth: self.max_depth,
            seed: self.seed,
            ..ForestParams::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct TrainIdentifyArgs {
    /// Directory with one folder per label, each with captures and _iotdevice-mac.txt.
    pub data: PathBuf,
    /// Model file to write.
    #[arg(long, default_value = "identify-model.json")]
    pub out: PathBuf,
    #[command(flatten)]
    pub forest: ForestOptions,
}

pub fn run(args: TrainArgs, quiet: bool) -> Result<ExitCode> {
    let TrainWhat::Identify(args) = args.what;
    let params = args.forest.params()?;
    let loaded = load_dataset(&args.data, quiet)?;
    let description = format!(
        "{}: one sample per capture file (the labelled MAC's frames, connections and protocol records), {} captures of {} labels",
        dataset_name(&args.data),
        loaded.samples.len(),
        loaded.labels.len()
    );
    let model = loaded
        .train_model(&params, &description)
        .with_context(|| format!("{}: training failed", args.data.display()))?;
    let json = model.to_json().context("serialising the model")?;
    fs::write(&args.out, &json)
        .with_context(|| format!("{}: cannot write the model", args.out.display()))?;
    let trees = model.forest.trees.len();
    let nodes: usize = model.forest.trees.iter().map(|t| t.feature.len()).sum();
    let mut out = String::new();
    outln!(
        out,
        "wrote {}: {} labels, {} samples, {} features, {trees} trees, {nodes} nodes, {} bytes",
        args.out.display(),
        model.labels().len(),
        loaded.samples.len(),
        classify::feature_count(),
        json.len()
    );
    let usage = model.feature_usage();
    let top: Vec<String> = usage
        .iter()
        .take(12)
        .map(|(name, n)| format!("{name} ({n})"))
        .collect();
    outln!(out, "most used features (splits): {}", top.join(", "));
    crate::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The last path component, for descriptions that must not hold machine paths.
pub fn dataset_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string())
}

/// One capture to read: its label, group and the MAC to follow.
struct Job {
    path: PathBuf,
    label: String,
    group: String,
    mac: MacAddr,
}

/// Reads every labelled capture under `dir` into a dataset (one sample per file).
pub fn load_dataset(dir: &Path, quiet: bool) -> Result<Dataset> {
    let jobs = list_jobs(dir)?;
    if jobs.is_empty() {
        bail!(
            "{}: no captures found; expected DIR/<Label>/*.pcap with DIR/<Label>/{MAC_FILE}",
            dir.display()
        );
    }
    let mut labels: Vec<String> = jobs.iter().map(|j| j.label.clone()).collect();
    labels.sort_by_key(|l| label_order(l));
    labels.dedup();
    let features = extract_all(&jobs, quiet)?;
    let samples = jobs
        .into_iter()
        .zip(features)
        .map(|(job, features)| Sample {
            label: labels.iter().position(|l| *l == job.label).unwrap_or(0),
            group: job.group,
            source: job.path.display().to_string(),
            features,
        })
        .collect();
    Ok(Dataset { labels, samples })
}

/// IoT Sentinel labels in the dataset's order, others after them by name.
fn label_order(label: &str) -> (usize, String) {
    let known = classify::IOT_SENTINEL_TYPES
        .iter()
        .position(|t| t.label == label);
    (known.unwrap_or(usize::MAX), label.to_string())
}

fn list_jobs(dir: &Path) -> Result<Vec<Job>> {
    let entries = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the data directory", dir.display()))?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut jobs = Vec::new();
    for folder in folders {
        let mut captures: Vec<PathBuf> = fs::read_dir(&folder)
            .with_context(|| format!("{}: cannot list", folder.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_capture(p))
            .collect();
        if captures.is_empty() {
            continue;
        }
        captures.sort();
        let mac = read_mac(&folder)?;
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = label_for_folder(&name).to_string();
        for path in captures {
            let group = setup_person(&path);
            jobs.push(Job {
                path,
                label: label.clone(),
                group,
                mac,
            });
        }
    }
    Ok(jobs)
}

fn is_capture(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    p.is_file()
        && [".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// The MAC in `<folder>/_iotdevice-mac.txt` (the first word that parses).
fn read_mac(folder: &Path) -> Result<MacAddr> {
    let path = folder.join(MAC_FILE);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read; every label folder needs the device's MAC in {MAC_FILE}",
            path.display()
        )
    })?;
    text.split_whitespace()
        .find_map(parse_mac)
        .with_context(|| {
            format!(
                "{}: no MAC address (aa:bb:cc:dd:ee:ff) in the file",
                path.display()
            )
        })
}

/// `Setup-C-12-STA.pcap` → `C` (the person who ran the setup); `-` otherwise.
fn setup_person(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_prefix("Setup-")
        .and_then(|rest| rest.split('-').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("-")
        .to_string()
}

/// Extracts every job's features, on all cores, in job order.
fn extract_all(jobs: &[Job], quiet: bool) -> Result<Vec<Vec<f64>>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let chunk = jobs.len().div_ceil(workers);
    let results: Vec<Result<Vec<f64>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk.max(1))
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|j| extract_one(j, quiet))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(anyhow::anyhow!("a feature extraction thread panicked"))]
                })
            })
            .collect()
    });
    results.into_iter().collect()
}

fn extract_one(job: &Job, quiet: bool) -> Result<Vec<f64>> {
    let name = job.path.display();
    let file = fs::File::open(&job.path).with_context(|| format!("{name}: cannot open"))?;
    let got =
        classify::extract_capture(file, job.mac).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    if !quiet {
        if let Some(e) = &got.damaged_tail {
            tracing::warn!(
                "{name}: stopped reading: {e}; the {} packets before it were used",
                got.packets
            );
        }
        if got.device_packets == 0 {
            tracing::warn!(
                "{name}: no frame of {} (label {}) in the capture",
                job.mac,
                job.label
            );
        }
    }
    Ok(got.features.values)
}
