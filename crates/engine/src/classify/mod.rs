//! Device-type classification from traffic: one device's decoded packets,
//! connection records and protocol records in → a named feature vector
//! (`features`, `traffic`, `records`, `tokens`) → a trained random forest
//! (`forest`, `model`) → a label with its vote share and, for the IoT
//! Sentinel types (`labels`), a class, vendor and model.
//!
//! `capture` runs one capture (a `Read` handed in) through the pipeline for
//! one MAC; `eval` cross-validates by capture file. Training and evaluation
//! are driven by `gatewatch train identify` / `gatewatch eval identify`; the
//! model trained on the IoT Sentinel captures ships in `models/` and loads
//! through [`Model::builtin`].

pub mod capture;
pub mod eval;
pub mod features;
pub mod forest;
pub mod labels;
pub mod model;
pub mod records;
pub mod tokens;
pub mod traffic;

pub use capture::{extract_capture, CaptureFeatures};
pub use eval::{
    cross_validate, leave_group_out, stratified_folds, Confusion, Dataset, Evaluation, Sample,
};
pub use features::{feature_count, feature_names, FeatureExtractor, FeatureVector};
pub use forest::{Forest, ForestParams, TrainError};
pub use labels::{device_type, label_for_folder, DeviceType, IOT_SENTINEL_TYPES};
pub use model::{Model, ModelError, Prediction};
