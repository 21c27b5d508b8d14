//! A prediction as the edge answers and caches it.

use std::collections::BTreeMap;

use features::FeatureHash;
use model::{CLASSES, Prediction};
use serde::{Deserialize, Serialize};

/// The JSON body of a prediction: the same bytes are cached and served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionBody {
    pub label: String,
    pub probabilities: BTreeMap<String, f32>,
    pub model_version: u32,
    pub feature_hash: String,
    pub feature_spec_version: u16,
}

impl PredictionBody {
    pub fn new(p: &Prediction, model_version: u32, fh: &FeatureHash) -> PredictionBody {
        PredictionBody {
            label: p.label().to_string(),
            probabilities: CLASSES
                .iter()
                .zip(p.probabilities)
                .map(|(c, p)| (c.to_string(), p))
                .collect(),
            model_version,
            feature_hash: fh.to_hex(),
            feature_spec_version: features::SPEC_VERSION,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a prediction serialises")
    }
}
