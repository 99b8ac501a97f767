//! The random forest: training rows (feature vectors, label indices) in → a
//! [`Forest`] of compact decision trees out; a feature vector in → votes per
//! label out.
//!
//! Learning is smartcore's `RandomForestClassifier` (bootstrap rows, a random
//! subset of features per split, Gini splits). Why smartcore rather than
//! linfa-trees: it ships a real random forest (linfa-trees only single
//! trees; bagging lives in a separate crate on ndarray), it is pure Rust with
//! few dependencies, and its forest is seeded, so a fixed seed gives the same
//! model file on every run.
//!
//! The fitted forest is converted into [`Tree`]s of our own (parallel arrays
//! per node, read from smartcore's serde form right after fitting): the model
//! file stays small, is checked node by node when loaded (a damaged file is an
//! error, never an out-of-bounds walk), and does not depend on smartcore's
//! internal layout when it is read back. The test `matches_smartcore_predictions`
//! checks the conversion against smartcore's own `predict`.
//! Limits: [`MAX_TREES`], [`MAX_NODES`] per tree (load-time checks).
#![deny(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

/// Trees accepted in a model file.
pub const MAX_TREES: usize = 4096;
/// Nodes accepted per tree.
pub const MAX_NODES: usize = 1 << 16;

/// How the forest is grown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    pub trees: u16,
    /// Deepest split level. Trees over many classes grow as chains that peel
    /// off a class or two per split, so this must stay well above the number
    /// of labels: a low limit ends trees in nodes of mixed labels, which vote
    /// for the first of their labels.
    pub max_depth: u16,
    pub min_samples_leaf: usize,
    /// Features tried per split; `None` = √(feature count).
    pub features_per_split: Option<usize>,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 100,
            max_depth: 32,
            min_samples_leaf: 1,
            features_per_split: None,
            seed: 1,
        }
    }
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("no training samples")]
    Empty,
    #[error("training needs at least two labels with samples, found {0}")]
    OneLabel(usize),
    #[error("sample {index} has {found} features, the others {expected}")]
    Ragged {
        index: usize,
        found: usize,
        expected: usize,
    },
    #[error("smartcore could not fit the forest: {0}")]
    Fit(String),
    #[error("smartcore's fitted forest has an unexpected form ({0}); the smartcore version changed: adapt classify/forest.rs")]
    Convert(String),
}

/// One decision tree; node 0 is the root. At a split node, a feature value
/// `<= threshold` goes to `true_child`, else to `false_child`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Split feature per node, −1 at leaves.
    pub feature: Vec<i32>,
    pub threshold: Vec<f64>,
    pub true_child: Vec<u32>,
    pub false_child: Vec<u32>,
    /// Label index voted for at a leaf (majority label at split nodes).
    pub label: Vec<u32>,
}

impl Tree {
    /// The label index this tree votes for. Every step goes to a higher node
    /// index (checked by [`Tree::validate`]), so the walk ends.
    pub fn vote(&self, x: &[f64]) -> Option<u32> {
        let mut node = 0usize;
        loop {
            let feature = *self.feature.get(node)?;
            let Ok(feature) = usize::try_from(feature) else {
                return self.label.get(node).copied();
            };
            let value = x.get(feature).copied().unwrap_or(0.0);
            let child = if value <= *self.threshold.get(node)? {
                self.true_child.get(node)?
            } else {
                self.false_child.get(node)?
            };
            node = usize::try_from(*child).ok()?;
        }
    }

    /// Checks that every walk ends inside the tree with a known label.
    pub fn validate(&self, features: usize, labels: usize) -> Result<(), String> {
        let n = self.feature.len();
        if n == 0 || n > MAX_NODES {
            return Err(format!("{n} nodes (1 to {MAX_NODES} allowed)"));
        }
        let lens = [
            self.threshold.len(),
            self.true_child.len(),
            self.false_child.len(),
            self.label.len(),
        ];
        if lens.iter().any(|&l| l != n) {
            return Err(format!(
                "node arrays of different lengths ({n} features, {lens:?})"
            ));
        }
        for node in 0..n {
            let label = self.label.get(node).copied().unwrap_or(u32::MAX);
            if usize::try_from(label).map_or(true, |l| l >= labels) {
                return Err(format!(
                    "node {node}: label {label} but the model has {labels} labels"
                ));
            }
            let feature = self.feature.get(node).copied().unwrap_or(-1);
            if feature < 0 {
                continue;
            }
            if usize::try_from(feature).map_or(true, |f| f >= features) {
                return Err(format!(
                    "node {node}: feature {feature} but the model has {features}"
                ));
            }
            for child in [self.true_child.get(node), self.false_child.get(node)]
                .into_iter()
                .flatten()
            {
                let c = usize::try_from(*child).unwrap_or(usize::MAX);
                if c <= node || c >= n {
                    return Err(format!(
                        "node {node}: child {child} must be after it and below {n}"
                    ));
                }
            }
            if !self.threshold.get(node).is_some_and(|t| t.is_finite()) {
                return Err(format!("node {node}: threshold is not a finite number"));
            }
        }
        Ok(())
    }
}

/// A fitted forest over `labels` label indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    pub labels: usize,
    pub trees: Vec<Tree>,
}

impl Forest {
    /// Votes per label index.
    pub fn votes(&self, x: &[f64]) -> Vec<u32> {
        let mut votes = vec![0u32; self.labels];
        for tree in &self.trees {
            if let Some(slot) = tree
                .vote(x)
                .and_then(|l| votes.get_mut(usize::try_from(l).ok()?))
            {
                *slot += 1;
            }
        }
        votes
    }

    /// How many split nodes test each feature, over all trees (`features` long).
    pub fn split_counts(&self, features: usize) -> Vec<u32> {
        let mut counts = vec![0u32; features];
        for f in self.trees.iter().flat_map(|t| t.feature.iter()) {
            if let Some(slot) = usize::try_from(*f).ok().and_then(|f| counts.get_mut(f)) {
                *slot += 1;
            }
        }
        counts
    }

    /// Checks every tree (model files).
    pub fn validate(&self, features: usize) -> Result<(), String> {
        if self.trees.is_empty() || self.trees.len() > MAX_TREES {
            return Err(format!(
                "{} trees (1 to {MAX_TREES} allowed)",
                self.trees.len()
            ));
        }
        for (i, tree) in self.trees.iter().enumerate() {
            tree.validate(features, self.labels)
                .map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(())
    }
}

/// Fits a forest on `rows` with label indices `y` (below `labels`).
pub fn train(
    rows: &[Vec<f64>],
    y: &[u32],
    labels: usize,
    p: &ForestParams,
) -> Result<Forest, TrainError> {
    let (_, json) = fit_smartcore(rows, y, p)?;
    convert(&json, labels)
}

type SmartForest = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// smartcore's forest and its serde form.
fn fit_smartcore(
    rows: &[Vec<f64>],
    y: &[u32],
    p: &ForestParams,
) -> Result<(SmartForest, Value), TrainError> {
    let x = matrix(rows)?;
    let mut distinct = y.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(TrainError::OneLabel(distinct.len()));
    }
    let mut params = RandomForestClassifierParameters::default()
        .with_n_trees(p.trees)
        .with_max_depth(p.max_depth)
        .with_min_samples_leaf(p.min_samples_leaf)
        .with_seed(p.seed);
    if let Some(m) = p.features_per_split {
        params = params.with_m(m);
    }
    let fitted =
        SmartForest::fit(&x, &y.to_vec(), params).map_err(|e| TrainError::Fit(e.to_string()))?;
    let json = serde_json::to_value(&fitted).map_err(|e| TrainError::Convert(e.to_string()))?;
    Ok((fitted, json))
}

/// Row-major matrix of the training rows.
fn matrix(rows: &[Vec<f64>]) -> Result<DenseMatrix<f64>, TrainError> {
    let width = rows.first().map(Vec::len).ok_or(TrainError::Empty)?;
    let mut flat = Vec::with_capacity(rows.len() * width);
    for (index, row) in rows.iter().enumerate() {
        if row.len() != width {
            return Err(TrainError::Ragged {
                index,
                found: row.len(),
                expected: width,
            });
        }
        flat.extend_from_slice(row);
    }
    DenseMatrix::new(rows.len(), width, flat, false).map_err(|e| TrainError::Fit(e.to_string()))
}

/// Reads smartcore's serde form: `{trees: [{nodes: [{output, split_feature,
/// split_value, true_child, false_child, …}], classes: [..]}], classes}`.
fn convert(json: &Value, labels: usize) -> Result<Forest, TrainError> {
    let bad = |what: &str| TrainError::Convert(what.to_string());
    let trees = json
        .get("trees")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `trees` array"))?;
    let mut out = Vec::with_capacity(trees.len());
    for tree in trees {
        let classes: Vec<u32> = tree
            .get("classes")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("tree without `classes`"))?
            .iter()
            .map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("non-integer class"))?;
        let nodes = tree
            .get("nodes")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("tree without `nodes`"))?;
        let mut t = Tree {
            feature: Vec::with_capacity(nodes.len()),
            threshold: Vec::with_capacity(nodes.len()),
            true_child: Vec::with_capacity(nodes.len()),
            false_child: Vec::with_capacity(nodes.len()),
            label: Vec::with_capacity(nodes.len()),
        };
        for node in nodes {
            let int = |k: &str| node.get(k).and_then(Value::as_u64);
            let output = int("output").ok_or_else(|| bad("node without `output`"))?;
            let label = usize::try_from(output)
                .ok()
                .and_then(|o| classes.get(o))
                .copied()
                .ok_or_else(|| bad("node output outside `classes`"))?;
            t.label.push(label);
            match (int("true_child"), int("false_child")) {
                (Some(a), Some(b)) => {
                    let feature =
                        int("split_feature").ok_or_else(|| bad("split without feature"))?;
                    let value = node
                        .get("split_value")
                        .and_then(Value::as_f64)
                        .ok_or_else(|| bad("split without value"))?;
                    t.feature
                        .push(i32::try_from(feature).map_err(|_| bad("feature index too large"))?);
                    t.threshold.push(value);
                    t.true_child
                        .push(u32::try_from(a).map_err(|_| bad("child index too large"))?);
                    t.false_child
                        .push(u32::try_from(b).map_err(|_| bad("child index too large"))?);
                }
                _ => {
                    t.feature.push(-1);
                    t.threshold.push(0.0);
                    t.true_child.push(0);
                    t.false_child.push(0);
                }
            }
        }
        out.push(t);
    }
    let forest = Forest { labels, trees: out };
    let width = json
        .get("trees")
        .and_then(|t| t.get(0))
        .and_then(|t| t.get("num_features"))
        .and_then(Value::as_u64);
    let width = width
        .and_then(|w| usize::try_from(w).ok())
        .unwrap_or(usize::MAX);
    forest.validate(width).map_err(TrainError::Convert)?;
    Ok(forest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three noisy clusters in four dimensions, deterministic.
    fn blobs(n: usize) -> (Vec<Vec<f64>>, Vec<u32>) {
        let mut state = 7u64;
        let mut noise = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f64 / f64::from(1u32 << 31)) - 0.5
        };
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let label = (i % 3) as u32;
            let c = f64::from(label) * 2.0;
            rows.push(vec![
                c + noise() * 3.0,
                -c + noise() * 3.0,
                noise(),
                c * 0.5 + noise(),
            ]);
            y.push(label);
        }
        (rows, y)
    }

    #[test]
    fn matches_smartcore_predictions() {
        let (rows, y) = blobs(150);
        let p = ForestParams {
            trees: 15,
            ..ForestParams::default()
        };
        let (fitted, json) = fit_smartcore(&rows, &y, &p).unwrap();
        let forest = convert(&json, 3).unwrap();
        let (test, _) = blobs(301);
        let theirs = fitted.predict(&matrix(&test).unwrap()).unwrap();
        for (row, want) in test.iter().zip(theirs) {
            let votes = forest.votes(row);
            let best = votes
                .iter()
                .enumerate()
                .max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)))
                .unwrap()
                .0;
            assert_eq!(best as u32, want, "votes {votes:?} for {row:?}");
        }
    }

    #[test]
    fn same_seed_same_forest() {
        let (rows, y) = blobs(90);
        let p = ForestParams {
            trees: 5,
            ..ForestParams::default()
        };
        assert_eq!(
            train(&rows, &y, 3, &p).unwrap(),
            train(&rows, &y, 3, &p).unwrap()
        );
        let other = ForestParams {
            seed: 2,
            ..p.clone()
        };
        assert_ne!(
            train(&rows, &y, 3, &p).unwrap(),
            train(&rows, &y, 3, &other).unwrap()
        );
    }

    #[test]
    fn damaged_trees_are_rejected() {
        let (rows, y) = blobs(60);
        let forest = train(
            &rows,
            &y,
            3,
            &ForestParams {
                trees: 2,
                ..ForestParams::default()
            },
        )
        .unwrap();
        let mut bad = forest.clone();
        bad.trees[0].true_child[0] = 0; // a cycle back to the root
        assert!(bad.validate(4).unwrap_err().contains("child"));
        let mut bad = forest.clone();
        bad.trees[1].label[0] = 9;
        assert!(bad.validate(4).unwrap_err().contains("label 9"));
        assert!(forest.validate(1).unwrap_err().contains("feature"));
        assert!(forest.validate(4).is_ok());
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(
            train(&[], &[], 2, &ForestParams::default()),
            Err(TrainError::Empty)
        ));
        let rows = vec![vec![1.0, 2.0], vec![1.0]];
        assert!(matches!(
            train(&rows, &[0, 1], 2, &ForestParams::default()),
            Err(TrainError::Ragged { index: 1, .. })
        ));
        let rows = vec![vec![1.0], vec![2.0]];
        assert!(matches!(
            train(&rows, &[0, 0], 1, &ForestParams::default()),
            Err(TrainError::OneLabel(1))
        ));
    }
}
