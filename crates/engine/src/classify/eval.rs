//! Evaluation of the device-type model: labelled samples (one per capture
//! file) in → cross-validated predictions, a confusion matrix, per-label
//! accuracy and the most confused pairs out.
//!
//! A sample is the traffic of one device in one capture, so splitting samples
//! is splitting capture files: no capture has packets on both sides of a
//! split. [`stratified_folds`] deals each label's samples round-robin over
//! the folds after a seeded shuffle; [`leave_group_out`] holds out every
//! sample of one group (the person who ran the setup) at a time.
//! Deterministic: the same seed gives the same folds and forests.
#![deny(clippy::indexing_slicing)]

use super::forest::{train, ForestParams, TrainError};
use super::model::{Model, TrainingInfo};

/// One labelled feature vector.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Index into [`Dataset::labels`].
    pub label: usize,
    /// Who or what produced it (IoT Sentinel: the person, `A`/`B`/`C`).
    pub group: String,
    /// Where it came from (capture file), for reports.
    pub source: String,
    pub features: Vec<f64>,
}

/// Labelled samples and the label names.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub labels: Vec<String>,
    pub samples: Vec<Sample>,
}

impl Dataset {
    /// Samples per label, in label order.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for s in &self.samples {
            if let Some(c) = counts.get_mut(s.label) {
                *c += 1;
            }
        }
        counts
    }

    /// Trains a model on every sample.
    pub fn train_model(
        &self,
        params: &ForestParams,
        description: &str,
    ) -> Result<Model, TrainError> {
        let forest = fit(self, &(0..self.samples.len()).collect::<Vec<_>>(), params)?;
        Ok(Model::new(
            self.labels.clone(),
            forest,
            TrainingInfo {
                data: description.to_string(),
                samples: self.samples.len(),
                samples_per_label: self.counts(),
                params: params.clone(),
            },
        ))
    }
}

/// Counts of (true label, predicted label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    pub labels: Vec<String>,
    /// `counts[truth][predicted]`.
    pub counts: Vec<Vec<u32>>,
}

impl Confusion {
    pub fn new(labels: Vec<String>) -> Self {
        let n = labels.len();
        Confusion {
            labels,
            counts: vec![vec![0; n]; n],
        }
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        if let Some(cell) = self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
        {
            *cell += 1;
        }
    }

    pub fn total(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    pub fn correct(&self) -> u32 {
        self.counts
            .iter()
            .enumerate()
            .filter_map(|(i, row)| row.get(i))
            .sum()
    }

    /// Share of samples predicted right (0 when empty).
    pub fn accuracy(&self) -> f64 {
        f64::from(self.correct()) / f64::from(self.total().max(1))
    }

    /// Per label: (correct, samples).
    pub fn per_label(&self) -> Vec<(u32, u32)> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, row)| (row.get(i).copied().unwrap_or(0), row.iter().sum()))
            .collect()
    }

    /// Accuracy when taking `a` for `b` (or `b` for `a`) counts as right,
    /// for each listed pair: the score of a classifier that only has to name
    /// the hardware, not the variant.
    pub fn accuracy_merging(&self, pairs: &[(usize, usize)]) -> f64 {
        let cell = |t: usize, p: usize| {
            self.counts
                .get(t)
                .and_then(|r| r.get(p))
                .copied()
                .unwrap_or(0)
        };
        let extra: u32 = pairs.iter().map(|&(a, b)| cell(a, b) + cell(b, a)).sum();
        f64::from(self.correct() + extra) / f64::from(self.total().max(1))
    }

    /// Unordered label pairs with errors in either direction, most errors
    /// first: (a, b, a taken for b, b taken for a).
    pub fn confused_pairs(&self) -> Vec<(usize, usize, u32, u32)> {
        let cell = |t: usize, p: usize| {
            self.counts
                .get(t)
                .and_then(|r| r.get(p))
                .copied()
                .unwrap_or(0)
        };
        let n = self.labels.len();
        let mut pairs: Vec<(usize, usize, u32, u32)> = (0..n)
            .flat_map(|a| ((a + 1)..n).map(move |b| (a, b)))
            .map(|(a, b)| (a, b, cell(a, b), cell(b, a)))
            .filter(|&(_, _, ab, ba)| ab + ba > 0)
            .collect();
        pairs.sort_by_key(|&(a, b, ab, ba)| (std::cmp::Reverse(ab + ba), a, b));
        pairs
    }
}

/// One held-out prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Index into [`Dataset::samples`].
    pub sample: usize,
    pub predicted: usize,
    pub vote_share: f64,
}

/// Result of an evaluation: the confusion matrix and every prediction.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub confusion: Confusion,
    pub outcomes: Vec<Outcome>,
}

/// Fold (0..k) of every sample: each label's samples shuffled with `seed`,
/// then dealt round-robin, so every fold holds about 1/k of every label.
pub fn stratified_folds(labels: &[usize], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut rng = SplitMix64(seed);
    let mut fold = vec![0; labels.len()];
    let max_label = labels.iter().copied().max().unwrap_or(0);
    let mut next = 0usize;
    for label in 0..=max_label {
        let mut members: Vec<usize> = (0..labels.len())
            .filter(|&i| labels.get(i) == Some(&label))
            .collect();
        // Fisher–Yates with the seeded generator.
        for i in (1..members.len()).rev() {
            let j = usize::try_from(rng.next() % (i as u64 + 1)).unwrap_or(0);
            members.swap(i, j);
        }
        // Continue dealing where the previous label stopped, so small labels
        // do not all land in fold 0.
        for m in members {
            if let Some(slot) = fold.get_mut(m) {
                *slot = next % k;
            }
            next += 1;
        }
    }
    fold
}

/// A train/test split of sample indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// The k splits of stratified k-fold cross-validation.
pub fn fold_splits(ds: &Dataset, k: usize, seed: u64) -> Vec<Split> {
    let labels: Vec<usize> = ds.samples.iter().map(|s| s.label).collect();
    let folds = stratified_folds(&labels, k, seed);
    (0..k.max(1))
        .map(|f| {
            let (train, test) = (0..folds.len()).partition(|&i| folds.get(i) != Some(&f));
            Split { train, test }
        })
        .collect()
}

/// Stratified k-fold cross-validation, one fold after the other (callers
/// with threads run [`fold_splits`] through [`evaluate_split`] themselves).
pub fn cross_validate(
    ds: &Dataset,
    k: usize,
    params: &ForestParams,
    seed: u64,
) -> Result<Evaluation, TrainError> {
    let parts = fold_splits(ds, k, seed)
        .iter()
        .map(|s| evaluate_split(ds, s, params))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Evaluation::merge(ds, parts))
}

/// Per group: trained on every other group, tested on this one.
#[derive(Debug, Clone)]
pub struct GroupResult {
    pub group: String,
    pub evaluation: Evaluation,
    /// Labels of held-out samples that no training sample had (cannot be right).
    pub unseen_labels: Vec<usize>,
}

/// One split per group: the group's samples held out, the rest for training.
pub fn group_splits(ds: &Dataset) -> Vec<(String, Split)> {
    let mut groups: Vec<&str> = ds.samples.iter().map(|s| s.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    groups
        .into_iter()
        .map(|group| {
            let (train, test) = (0..ds.samples.len())
                .partition(|&i| ds.samples.get(i).is_some_and(|s| s.group != group));
            (group.to_string(), Split { train, test })
        })
        .collect()
}

/// Labels of the split's test samples that none of its training samples has.
pub fn unseen_labels(ds: &Dataset, split: &Split) -> Vec<usize> {
    let label = |i: &usize| ds.samples.get(*i).map(|s| s.label);
    let seen: Vec<usize> = split.train.iter().filter_map(label).collect();
    let mut unseen: Vec<usize> = split
        .test
        .iter()
        .filter_map(label)
        .filter(|l| !seen.contains(l))
        .collect();
    unseen.sort_unstable();
    unseen.dedup();
    unseen
}

/// Leave-one-group-out: each group is held out once.
pub fn leave_group_out(
    ds: &Dataset,
    params: &ForestParams,
) -> Result<Vec<GroupResult>, TrainError> {
    group_splits(ds)
        .into_iter()
        .map(|(group, split)| {
            Ok(GroupResult {
                unseen_labels: unseen_labels(ds, &split),
                evaluation: evaluate_split(ds, &split, params)?,
                group,
            })
        })
        .collect()
}

/// Trains on the split's training samples and predicts its test samples.
pub fn evaluate_split(
    ds: &Dataset,
    split: &Split,
    params: &ForestParams,
) -> Result<Evaluation, TrainError> {
    let mut confusion = Confusion::new(ds.labels.clone());
    let mut outcomes = Vec::new();
    if split.test.is_empty() {
        return Ok(Evaluation {
            confusion,
            outcomes,
        });
    }
    let forest = fit(ds, &split.train, params)?;
    for &i in &split.test {
        let Some(s) = ds.samples.get(i) else { continue };
        let votes = forest.votes(&s.features);
        let total = f64::from(votes.iter().sum::<u32>().max(1));
        // The first label with the most votes, as smartcore decides.
        let (predicted, best) =
            votes
                .iter()
                .enumerate()
                .fold((0, 0), |acc, (l, &v)| if v > acc.1 { (l, v) } else { acc });
        confusion.add(s.label, predicted);
        outcomes.push(Outcome {
            sample: i,
            predicted,
            vote_share: f64::from(best) / total,
        });
    }
    Ok(Evaluation {
        confusion,
        outcomes,
    })
}

impl Evaluation {
    /// Adds up evaluations of disjoint test sets.
    pub fn merge(ds: &Dataset, parts: Vec<Evaluation>) -> Evaluation {
        let mut confusion = Confusion::new(ds.labels.clone());
        let mut outcomes = Vec::new();
        for part in parts {
            for (t, row) in part.confusion.counts.iter().enumerate() {
                for (p, &n) in row.iter().enumerate() {
                    if let Some(cell) = confusion.counts.get_mut(t).and_then(|r| r.get_mut(p)) {
                        *cell += n;
                    }
                }
            }
            outcomes.extend(part.outcomes);
        }
        outcomes.sort_by_key(|o| o.sample);
        Evaluation {
            confusion,
            outcomes,
        }
    }
}

fn fit(
    ds: &Dataset,
    idx: &[usize],
    params: &ForestParams,
) -> Result<super::forest::Forest, TrainError> {
    let picked: Vec<&Sample> = idx.iter().filter_map(|&i| ds.samples.get(i)).collect();
    let rows: Vec<Vec<f64>> = picked.iter().map(|s| s.features.clone()).collect();
    let y: Vec<u32> = picked
        .iter()
        .map(|s| u32::try_from(s.label).unwrap_or(u32::MAX))
        .collect();
    train(&rows, &y, ds.labels.len(), params)
}

/// SplitMix64: a tiny, fixed generator for fold shuffles (stable across builds).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_seeded() {
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let folds = stratified_folds(&labels, 5, 9);
        for f in 0..5 {
            for l in 0..3 {
                let n = (0..60).filter(|&i| folds[i] == f && labels[i] == l).count();
                assert_eq!(n, 4, "fold {f} label {l}");
            }
        }
        assert_eq!(folds, stratified_folds(&labels, 5, 9));
        assert_ne!(folds, stratified_folds(&labels, 5, 10));
    }

    #[test]
    fn confusion_counts_pairs_both_ways() {
        let mut c = Confusion::new(vec!["a".into(), "b".into(), "c".into()]);
        for (t, p) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 2), (1, 0)] {
            c.add(t, p);
        }
        assert_eq!(c.total(), 7);
        assert_eq!(c.correct(), 4);
        assert_eq!(c.per_label(), vec![(1, 2), (1, 3), (2, 2)]);
        assert_eq!(c.confused_pairs(), vec![(0, 1, 1, 2)]);
        assert!((c.accuracy_merging(&[(0, 1)]) - 1.0).abs() < 1e-12);
        assert!((c.accuracy_merging(&[(1, 2)]) - 4.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn cross_validation_separates_separable_data() {
        let labels = vec!["low".to_string(), "high".to_string()];
        let samples = (0..40)
            .map(|i| Sample {
                label: i % 2,
                group: if i < 20 { "A" } else { "B" }.to_string(),
                source: format!("s{i}"),
                features: vec![(i % 2) as f64 * 10.0 + (i as f64) * 0.01, 1.0],
            })
            .collect();
        let ds = Dataset { labels, samples };
        let p = ForestParams {
            trees: 5,
            ..ForestParams::default()
        };
        let ev = cross_validate(&ds, 4, &p, 3).unwrap();
        assert_eq!(ev.confusion.total(), 40);
        assert_eq!(ev.confusion.correct(), 40);
        let groups = leave_group_out(&ds, &p).unwrap();
        assert_eq!(groups.len(), 2);
        assert!(groups
            .iter()
            .all(|g| g.evaluation.confusion.accuracy() == 1.0 && g.unseen_labels.is_empty()));
    }
}
