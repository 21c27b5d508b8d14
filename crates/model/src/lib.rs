//! The defect-pattern classifier, defined once: the classes, the shipped weights' manifest, the
//! calls made from a prediction, and (feature `network`, on by default) the CNN (`Cnn`) and the
//! `Classifier`, which runs on whatever burn device the caller picks (Flex on the CPU natively,
//! in the worker and as the browser's fallback; WebGPU in the browser). The training data
//! generator is [`synth`]; training is the `train` binary (feature `train`).

#[cfg(feature = "network")]
pub mod average;
pub mod calibration;
mod call;
pub mod eval;
pub mod manifest;
#[cfg(feature = "network")]
mod network;
pub mod radius;
pub mod stats;
pub mod synth;

pub use call::{Call, MIN_DIES, MIN_FILLED, MIN_INSIDE, UNCERTAIN_MARGIN, wafer_shaped};
pub use manifest::Manifest;
#[cfg(feature = "network")]
pub use network::{Classifier, Cnn, LoadError};

/// The WM-811K classes, in the order of the network's outputs, spelt as in WM-811K.
pub const CLASSES: [&str; 9] = [
    "Center",
    "Donut",
    "Edge-Loc",
    "Edge-Ring",
    "Loc",
    "Near-full",
    "Random",
    "Scratch",
    "none",
];

pub const NUM_CLASSES: usize = CLASSES.len();

/// Index of a class name (WM-811K spelling; case and `-`/`_` ignored).
pub fn class_index(name: &str) -> Option<usize> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let n = norm(name);
    CLASSES.iter().position(|c| norm(c) == n)
}

/// How the network's four stages pool. It has no parameters, so the weights file is the same
/// either way: the manifest says which (`pooling`, absent before v3: max).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// 2x2 max-pool after every stage (v1, v2).
    #[default]
    Max,
    /// 2x2 average pool after the first two stages, max after the last two. Defect patterns are
    /// fail densities: a max-pool lights a whole window for one lone fail, so two of them on a
    /// map with 10% background fails light nearly every cell and a faint pattern's contrast is
    /// gone. Averaging keeps the density; the later stages, on features, keep max for the
    /// strongest local evidence (a small cluster, a thin scratch).
    AvgMax,
}

impl Pooling {
    /// As the manifest and `train --pooling` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Max => "max",
            Pooling::AvgMax => "avg-max",
        }
    }

    pub fn parse(s: &str) -> Option<Pooling> {
        [Pooling::Max, Pooling::AvgMax]
            .into_iter()
            .find(|p| p.name() == s)
    }
}

/// One prediction: a probability per class (in [`CLASSES`] order).
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub probabilities: [f32; NUM_CLASSES],
}

impl Prediction {
    pub fn class(&self) -> usize {
        let mut best = 0;
        for (i, &p) in self.probabilities.iter().enumerate() {
            if p > self.probabilities[best] {
                best = i;
            }
        }
        best
    }

    pub fn label(&self) -> &'static str {
        CLASSES[self.class()]
    }

    /// Class indices, most probable first.
    pub fn ranked(&self) -> [usize; NUM_CLASSES] {
        let mut order: [usize; NUM_CLASSES] = std::array::from_fn(|i| i);
        order.sort_by(|&a, &b| self.probabilities[b].total_cmp(&self.probabilities[a]));
        order
    }
}

/// SHA-256 of the weights, lower-case hex, as the manifest records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
