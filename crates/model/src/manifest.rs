//! `public/model/manifest.json`: what the shipped weights are and how well they did.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Bumped on every release of new weights; part of the edge's cache keys.
    pub model_version: u32,
    /// File name of the weights next to the manifest.
    pub weights: String,
    pub sha256: String,
    pub classes: Vec<String>,
    /// `features::SPEC_VERSION` the model was trained on.
    pub feature_spec_version: u16,
    pub parameters: usize,
    /// How the network pools (absent before v3: max after every stage).
    #[serde(default)]
    pub pooling: crate::Pooling,
    /// Whether the network has batch normalisation after each convolution (absent before v3:
    /// none). Its statistics are in the weights; loading folds them into the convolutions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch_norm: bool,
    /// Whether the network reads a radius channel beside the map (`Cnn::input`; absent before
    /// v3: no).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub radial: bool,
    /// The softmax temperature that calibrates the probabilities, fitted on synthetic
    /// validation maps after training (1 for weights from before calibration).
    #[serde(default = "one")]
    pub temperature: f32,
    pub training: Training,
    /// `waferscope eval-wm811k` on the dev set with these weights.
    pub evaluation: Evaluation,
}

fn one() -> f32 {
    1.0
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Training {
    pub seed: u64,
    /// Synthetic maps seen per epoch (freshly generated each epoch).
    pub samples_per_epoch: usize,
    pub epochs: usize,
    /// Total synthetic maps seen.
    pub training_set_size: usize,
    pub synthetic_validation_accuracy: f32,
    pub seconds: f32,
    pub command: String,
    /// The generator's settings (`synth::Config`).
    #[serde(default)]
    pub generator: crate::synth::Config,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Evaluation {
    pub dataset: String,
    pub n: usize,
    pub accuracy: f32,
    pub macro_f1: f32,
    /// Expected calibration error of the top probability (10 bins); absent before v2.
    #[serde(default)]
    pub ece: f32,
}
