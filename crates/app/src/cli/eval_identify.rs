//! `gatewatch eval identify DATA_DIR`: labelled captures in (the layout of
//! `train identify`) → stratified K-fold cross-validation by capture file
//! (every capture is one sample, so no capture is on both sides), plus
//! leave-one-person-out when file names say who ran the setup. Out: overall
//! and per-type accuracy, the confusion matrix with four-letter codes, the
//! most confused pairs and the misclassified captures; `--json` for machines.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_engine::classify::eval::{
    evaluate_split, fold_splits, group_splits, unseen_labels, GroupResult, Split,
};
use gatewatch_engine::classify::labels::{short_code, SAME_TRAFFIC_PAIRS};
use gatewatch_engine::classify::{Confusion, Dataset, Evaluation, ForestParams};
use serde_json::{json, Value};

use super::train::{dataset_name, load_dataset, ForestOptions};

#[derive(Debug, Args)]
pub struct EvalIdentifyArgs {
    /// Directory with one folder per label, each with captures and _iotdevice-mac.txt.
    pub data: PathBuf,
    /// Cross-validation folds (stratified by label, split by capture file).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    #[command(flatten)]
    pub forest: ForestOptions,
    /// Skip leave-one-person-out (Setup-<person>-<n> file names).
    #[arg(long)]
    pub no_by_person: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: EvalIdentifyArgs, quiet: bool) -> Result<ExitCode> {
    if args.folds < 2 {
        anyhow::bail!("--folds must be at least 2");
    }
    let params = args.forest.params()?;
    let ds = load_dataset(&args.data, quiet)?;
    let folds = fold_splits(&ds, args.folds, args.forest.seed);
    let parts = evaluate_all(&ds, &folds, &params)
        .with_context(|| format!("{}: cross-validation failed", args.data.display()))?;
    let cv = Evaluation::merge(&ds, parts);
    let groups = group_splits(&ds);
    let by_person = if args.no_by_person || groups.len() < 2 {
        Vec::new()
    } else {
        let splits: Vec<Split> = groups.iter().map(|(_, s)| s.clone()).collect();
        let parts = evaluate_all(&ds, &splits, &params).context("leave-one-person-out failed")?;
        groups
            .into_iter()
            .zip(parts)
            .map(|((group, split), evaluation)| GroupResult {
                unseen_labels: unseen_labels(&ds, &split),
                evaluation,
                group,
            })
            .collect()
    };
    let title = format!(
        "{}: {} captures, {} types, {}-fold cross-validation by capture file (seed {}, {} trees, depth {})",
        dataset_name(&args.data),
        ds.samples.len(),
        ds.labels.len(),
        args.folds,
        params.seed,
        params.trees,
        params.max_depth
    );
    let text = if args.json {
        let mut s =
            serde_json::to_string_pretty(&to_json(&ds, &cv, &by_person, args.folds, params.seed))?;
        s.push('\n');
        s
    } else {
        report(&title, &ds, &cv, &by_person)
    };
    crate::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Trains and tests every split, on all cores; results in split order.
fn evaluate_all(ds: &Dataset, splits: &[Split], params: &ForestParams) -> Result<Vec<Evaluation>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, splits.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<Evaluation>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(split) = splits.get(i) else { break };
                        mine.push((
                            i,
                            evaluate_split(ds, split, params).map_err(anyhow::Error::from),
                        ));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        usize::MAX,
                        Err(anyhow::anyhow!("an evaluation thread panicked")),
                    )]
                })
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Label index pairs of [`SAME_TRAFFIC_PAIRS`] present in the dataset.
fn same_traffic_pairs(ds: &Dataset) -> Vec<(usize, usize)> {
    let find = |l: &str| ds.labels.iter().position(|x| x == l);
    SAME_TRAFFIC_PAIRS
        .iter()
        .filter_map(|(a, b)| Some((find(a)?, find(b)?)))
        .collect()
}

/// The text report.
pub fn report(title: &str, ds: &Dataset, cv: &Evaluation, by_person: &[GroupResult]) -> String {
    let c = &cv.confusion;
    let mut out = String::new();
    outln!(out, "{title}");
    outln!(
        out,
        "accuracy: {:.4} ({}/{})",
        c.accuracy(),
        c.correct(),
        c.total()
    );
    let pairs = same_traffic_pairs(ds);
    if !pairs.is_empty() {
        let names: Vec<String> = pairs
            .iter()
            .map(|&(a, b)| {
                format!(
                    "{}={}",
                    ds.labels.get(a).map_or("", String::as_str),
                    ds.labels.get(b).map_or("", String::as_str)
                )
            })
            .collect();
        outln!(
            out,
            "accuracy counting types with indistinguishable setup traffic as one ({}): {:.4}",
            names.join(", "),
            c.accuracy_merging(&pairs)
        );
    }
    outln!(out);
    outln!(out, "per type:");
    outln!(
        out,
        "  {:<4}  {:<20} {:>7}  {:>8}  most often taken for",
        "code",
        "type",
        "right",
        "accuracy"
    );
    for (i, (right, total)) in c.per_label().into_iter().enumerate() {
        let label = ds.labels.get(i).map_or("", String::as_str);
        let worst = c
            .counts
            .get(i)
            .and_then(|row| {
                row.iter()
                    .enumerate()
                    .filter(|&(j, &n)| j != i && n > 0)
                    .max_by_key(|&(j, &n)| (n, std::cmp::Reverse(j)))
            })
            .map(|(j, n)| format!("{} ({n})", ds.labels.get(j).map_or("", String::as_str)))
            .unwrap_or_default();
        let acc = f64::from(right) / f64::from(total.max(1));
        outln!(
            out,
            "  {:<4}  {:<20} {:>3}/{:<3}  {:>8.3}  {worst}",
            short_code(label),
            label,
            right,
            total,
            acc
        );
    }
    outln!(out);
    outln!(
        out,
        "confusion matrix (rows: true type, columns: predicted type, `.` = 0):"
    );
    matrix(&mut out, c);
    outln!(out);
    outln!(out, "most confused pairs (a taken for b + b taken for a):");
    let pairs = c.confused_pairs();
    if pairs.is_empty() {
        outln!(out, "  none");
    }
    for (a, b, ab, ba) in pairs.iter().take(12) {
        let name = |i: usize| ds.labels.get(i).map_or("", String::as_str);
        outln!(out, "  {:<20} <-> {:<20} {ab} + {ba}", name(*a), name(*b));
    }
    let wrong: Vec<_> = cv
        .outcomes
        .iter()
        .filter(|o| {
            ds.samples
                .get(o.sample)
                .is_some_and(|s| s.label != o.predicted)
        })
        .collect();
    outln!(out);
    outln!(out, "misclassified captures ({}):", wrong.len());
    for o in wrong {
        let Some(s) = ds.samples.get(o.sample) else {
            continue;
        };
        let name = |i: usize| ds.labels.get(i).map_or("", String::as_str);
        outln!(
            out,
            "  {}: {} taken for {} (vote share {:.2})",
            short_source(&s.source),
            name(s.label),
            name(o.predicted),
            o.vote_share
        );
    }
    if !by_person.is_empty() {
        outln!(out);
        outln!(
            out,
            "leave-one-person-out (train on the other persons' captures, test on this person's):"
        );
        for g in by_person {
            let e = &g.evaluation.confusion;
            let unseen: Vec<&str> = g
                .unseen_labels
                .iter()
                .filter_map(|&l| ds.labels.get(l).map(String::as_str))
                .collect();
            let unseen_n: u32 = g
                .unseen_labels
                .iter()
                .filter_map(|&l| e.counts.get(l))
                .map(|r| r.iter().sum::<u32>())
                .sum();
            let seen_total = e.total() - unseen_n;
            let seen_acc = f64::from(e.correct()) / f64::from(seen_total.max(1));
            outln!(
                out,
                "  person {}: accuracy {:.4} ({}/{}); over types present in training {:.4} ({}/{}){}",
                g.group,
                e.accuracy(),
                e.correct(),
                e.total(),
                seen_acc,
                e.correct(),
                seen_total,
                if unseen.is_empty() { String::new() } else { format!("; no training capture of: {}", unseen.join(", ")) }
            );
            for (t, row) in e.counts.iter().enumerate() {
                for (p, &n) in row.iter().enumerate() {
                    if p != t && n > 0 {
                        let name = |i: usize| ds.labels.get(i).map_or("", String::as_str);
                        outln!(out, "    {} taken for {}: {n}", name(t), name(p));
                    }
                }
            }
        }
    }
    out
}

/// `…/iot-sentinel/HueSwitch/Setup-A-3-STA.pcap` → `HueSwitch/Setup-A-3-STA.pcap`.
fn short_source(source: &str) -> String {
    let parts: Vec<&str> = source.rsplitn(3, ['/', '\\']).collect();
    match parts.as_slice() {
        [file, folder, ..] => format!("{folder}/{file}"),
        _ => source.to_string(),
    }
}

fn matrix(out: &mut String, c: &Confusion) {
    let codes: Vec<String> = c.labels.iter().map(|l| short_code(l)).collect();
    let mut head = String::from("        ");
    for code in &codes {
        head.push_str(&format!("{code:>5}"));
    }
    outln!(out, "{head}");
    for (i, row) in c.counts.iter().enumerate() {
        let mut line = format!("  {:<6}", codes.get(i).map_or("", String::as_str));
        for &n in row {
            if n == 0 {
                line.push_str(&format!("{:>5}", "."));
            } else {
                line.push_str(&format!("{n:>5}"));
            }
        }
        outln!(out, "{line}");
    }
    outln!(out, "  codes:");
    for (code, label) in codes.iter().zip(&c.labels) {
        outln!(out, "    {code:<5} {label}");
    }
}

fn to_json(
    ds: &Dataset,
    cv: &Evaluation,
    by_person: &[GroupResult],
    folds: usize,
    seed: u64,
) -> Value {
    let c = &cv.confusion;
    let name = |i: usize| ds.labels.get(i).cloned().unwrap_or_default();
    let per_type: Vec<Value> = c
        .per_label()
        .into_iter()
        .enumerate()
        .map(|(i, (right, total))| {
            json!({"label": name(i), "code": short_code(&name(i)), "correct": right, "total": total,
                   "accuracy": f64::from(right) / f64::from(total.max(1))})
        })
        .collect();
    let pairs: Vec<Value> = c
        .confused_pairs()
        .into_iter()
        .map(|(a, b, ab, ba)| json!({"a": name(a), "b": name(b), "a_as_b": ab, "b_as_a": ba}))
        .collect();
    let wrong: Vec<Value> = cv
        .outcomes
        .iter()
        .filter_map(|o| ds.samples.get(o.sample).filter(|s| s.label != o.predicted).map(|s| (o, s)))
        .map(|(o, s)| json!({"capture": short_source(&s.source), "truth": name(s.label), "predicted": name(o.predicted), "vote_share": o.vote_share}))
        .collect();
    let persons: Vec<Value> = by_person
        .iter()
        .map(|g| {
            let e = &g.evaluation.confusion;
            json!({"held_out": g.group, "accuracy": e.accuracy(), "correct": e.correct(), "total": e.total(),
                   "labels_without_training_sample": g.unseen_labels.iter().map(|&l| name(l)).collect::<Vec<_>>()})
        })
        .collect();
    json!({
        "captures": ds.samples.len(),
        "types": ds.labels.len(),
        "folds": folds,
        "seed": seed,
        "accuracy": c.accuracy(),
        "correct": c.correct(),
        "accuracy_same_traffic_pairs_merged": c.accuracy_merging(&same_traffic_pairs(ds)),
        "per_type": per_type,
        "confusion": {"labels": c.labels, "codes": c.labels.iter().map(|l| short_code(l)).collect::<Vec<_>>(), "matrix": c.counts},
        "confused_pairs": pairs,
        "misclassified": wrong,
        "leave_one_person_out": persons,
    })
}
