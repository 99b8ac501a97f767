//! The device-type model: a [`FeatureVector`] in → a [`Prediction`] (label,
//! vote share, runner-up, and for known labels class/vendor/model) out; and
//! the versioned model file that carries it.
//!
//! File format (JSON, one object): `header` — `format`
//! ([`MODEL_FORMAT`]), `format_version` ([`MODEL_FORMAT_VERSION`]),
//! `feature_set_version` ([`FEATURE_SET_VERSION`]), `trained_with` (learning
//! crate and version), `feature_names`, `labels`, `training` (data
//! description, sample counts, forest parameters) — then `forest` (compact
//! trees, see `forest`). Loading checks, in this order, that the bytes are
//! JSON, the format name, the format version, the feature set (names and
//! count against this build's extractor) and every tree, and says what to do
//! when one fails. Trees are written one per line so the file diffs well.
//!
//! [`Model::builtin`] is the model trained on the IoT Sentinel captures and
//! shipped in `crates/engine/models/` (regenerate with
//! `gatewatch train identify ../shared/data/iot-sentinel`).
#![deny(clippy::indexing_slicing)]

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::identity::model::DeviceClass;

use super::features::{feature_names, FeatureVector};
use super::forest::{Forest, ForestParams};
use super::labels::device_type;

/// The `format` field of every model file.
pub const MODEL_FORMAT: &str = "gatewatch-identify-model";
/// Layout of the file; bumped when fields change meaning.
pub const MODEL_FORMAT_VERSION: u32 = 1;
/// Version of the feature extractor's vector; bumped whenever a feature is
/// added, removed or computed differently (names alone may not change).
pub const FEATURE_SET_VERSION: u32 = 1;
/// The learning crate, recorded in the header (`Cargo.toml` pins the same).
pub const TRAINED_WITH: &str = "smartcore 0.7";

/// Path of the shipped model inside the engine crate.
pub const BUILTIN_MODEL_PATH: &str = "models/identify-iot-sentinel-v1.json";

static BUILTIN: &[u8] = include_bytes!("../../models/identify-iot-sentinel-v1.json");

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Free text: dataset, how samples were cut (one per capture file), …
    pub data: String,
    pub samples: usize,
    /// Training samples per label, in label order.
    pub samples_per_label: Vec<usize>,
    pub params: ForestParams,
}

/// Everything in the file but the trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    pub format: String,
    pub format_version: u32,
    pub feature_set_version: u32,
    pub trained_with: String,
    pub feature_names: Vec<String>,
    pub labels: Vec<String>,
    pub training: TrainingInfo,
}

/// A model file that cannot be used, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file is not valid JSON at line {line}, column {column}: {detail}")]
    NotJson {
        line: usize,
        column: usize,
        detail: String,
    },
    #[error("not a gatewatch identify model: `format` is {found}, expected \"{MODEL_FORMAT}\"")]
    WrongFormat { found: String },
    #[error("model file format version {found}, this gatewatch reads version {MODEL_FORMAT_VERSION}: retrain it with `gatewatch train identify DATA --out FILE`")]
    FormatVersion { found: String },
    #[error("model was built for feature set version {found}, this gatewatch extracts version {FEATURE_SET_VERSION}: retrain it with `gatewatch train identify DATA --out FILE`")]
    FeatureSetVersion { found: u32 },
    #[error("model expects {model} features, this gatewatch extracts {ours} (first difference at #{index}: model `{model_name}`, extractor `{our_name}`): retrain it with `gatewatch train identify DATA --out FILE`")]
    FeatureMismatch {
        model: usize,
        ours: usize,
        index: usize,
        model_name: String,
        our_name: String,
    },
    #[error("model file field `{field}`: {detail}")]
    Invalid { field: &'static str, detail: String },
    #[error("feature vector has {found} values, the model expects {expected}")]
    VectorLength { found: usize, expected: usize },
}

/// The model's answer for one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: String,
    /// Share of trees that voted for `label` (0–1).
    pub vote_share: f64,
    /// The second most voted label and its share, when any tree voted for it.
    pub runner_up: Option<(String, f64)>,
    /// Class, vendor and model for the IoT Sentinel labels.
    pub class: DeviceClass,
    pub vendor: Option<&'static str>,
    pub model: Option<&'static str>,
}

/// A trained, checked model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub header: ModelHeader,
    pub forest: Forest,
}

impl Model {
    /// A model from a freshly trained forest (header filled from this build).
    pub fn new(labels: Vec<String>, forest: Forest, training: TrainingInfo) -> Model {
        Model {
            header: ModelHeader {
                format: MODEL_FORMAT.to_string(),
                format_version: MODEL_FORMAT_VERSION,
                feature_set_version: FEATURE_SET_VERSION,
                trained_with: TRAINED_WITH.to_string(),
                feature_names: feature_names().to_vec(),
                labels,
                training,
            },
            forest,
        }
    }

    /// The model shipped with gatewatch (parsed once).
    pub fn builtin() -> Result<&'static Model, &'static ModelError> {
        static MODEL: OnceLock<Result<Model, ModelError>> = OnceLock::new();
        MODEL.get_or_init(|| Model::from_json(BUILTIN)).as_ref()
    }

    /// Reads and checks a model file.
    pub fn from_json(bytes: &[u8]) -> Result<Model, ModelError> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| ModelError::NotJson {
            line: e.line(),
            column: e.column(),
            detail: e.to_string(),
        })?;
        let header = doc.get("header");
        let field = |name: &str| header.and_then(|h| h.get(name));
        let format = field("format");
        if format.and_then(Value::as_str) != Some(MODEL_FORMAT) {
            return Err(ModelError::WrongFormat {
                found: format.map_or_else(|| "missing".to_string(), Value::to_string),
            });
        }
        let version = field("format_version");
        if version.and_then(Value::as_u64) != Some(u64::from(MODEL_FORMAT_VERSION)) {
            return Err(ModelError::FormatVersion {
                found: version.map_or_else(|| "missing".to_string(), Value::to_string),
            });
        }
        let model: Model = serde_json::from_value(doc).map_err(|e| ModelError::Invalid {
            field: "header/forest",
            detail: e.to_string(),
        })?;
        model.check()?;
        Ok(model)
    }

    /// Feature set, labels and trees against this build.
    fn check(&self) -> Result<(), ModelError> {
        let h = &self.header;
        if h.feature_set_version != FEATURE_SET_VERSION {
            return Err(ModelError::FeatureSetVersion {
                found: h.feature_set_version,
            });
        }
        let ours = feature_names();
        if h.feature_names.as_slice() != ours {
            let index = h
                .feature_names
                .iter()
                .zip(ours.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(h.feature_names.len().min(ours.len()));
            let name = |v: &[String]| {
                v.get(index)
                    .cloned()
                    .unwrap_or_else(|| "(none)".to_string())
            };
            return Err(ModelError::FeatureMismatch {
                model: h.feature_names.len(),
                ours: ours.len(),
                index,
                model_name: name(&h.feature_names),
                our_name: name(ours),
            });
        }
        if h.labels.len() < 2 || h.labels.len() != self.forest.labels {
            return Err(ModelError::Invalid {
                field: "labels",
                detail: format!(
                    "{} labels in the header, {} in the forest (at least 2 needed)",
                    h.labels.len(),
                    self.forest.labels
                ),
            });
        }
        self.forest
            .validate(ours.len())
            .map_err(|detail| ModelError::Invalid {
                field: "forest",
                detail,
            })
    }

    /// The file's bytes: header pretty-printed, one tree per line.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = String::from("{\n\"header\": ");
        s.push_str(&serde_json::to_string_pretty(&self.header)?);
        s.push_str(",\n\"forest\": {\n\"labels\": ");
        s.push_str(&self.forest.labels.to_string());
        s.push_str(",\n\"trees\": [\n");
        for (i, tree) in self.forest.trees.iter().enumerate() {
            if i > 0 {
                s.push_str(",\n");
            }
            s.push_str(&serde_json::to_string(tree)?);
        }
        s.push_str("\n]\n}\n}\n");
        Ok(s)
    }

    /// Features by the number of splits that test them, most used first
    /// (unused features left out): what the model looks at.
    pub fn feature_usage(&self) -> Vec<(&str, u32)> {
        let names = &self.header.feature_names;
        let mut usage: Vec<(&str, u32)> = names
            .iter()
            .map(String::as_str)
            .zip(self.forest.split_counts(names.len()))
            .filter(|&(_, n)| n > 0)
            .collect();
        usage.sort_by_key(|&(name, n)| (std::cmp::Reverse(n), name));
        usage
    }

    pub fn labels(&self) -> &[String] {
        &self.header.labels
    }

    /// Votes of every tree, per label (same order as [`Model::labels`]).
    pub fn votes(&self, features: &FeatureVector) -> Result<Vec<u32>, ModelError> {
        let expected = self.header.feature_names.len();
        if features.values.len() != expected {
            return Err(ModelError::VectorLength {
                found: features.values.len(),
                expected,
            });
        }
        Ok(self.forest.votes(&features.values))
    }

    /// The most voted label (ties: the first label), its vote share and the runner-up.
    pub fn predict(&self, features: &FeatureVector) -> Result<Prediction, ModelError> {
        let votes = self.votes(features)?;
        let total = f64::from(votes.iter().sum::<u32>().max(1));
        let mut order: Vec<usize> = (0..votes.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(votes.get(i).copied().unwrap_or(0)), i));
        let share = |i: usize| f64::from(votes.get(i).copied().unwrap_or(0)) / total;
        let name = |i: usize| self.header.labels.get(i).cloned().unwrap_or_default();
        let best = order.first().copied().unwrap_or(0);
        let runner_up = order
            .get(1)
            .filter(|&&i| votes.get(i).is_some_and(|&v| v > 0))
            .map(|&i| (name(i), share(i)));
        let label = name(best);
        let known = device_type(&label);
        Ok(Prediction {
            vote_share: share(best),
            runner_up,
            class: known.map_or(DeviceClass::Unknown, |t| t.class),
            vendor: known.map(|t| t.vendor),
            model: known.map(|t| t.model),
            label,
        })
    }
}
