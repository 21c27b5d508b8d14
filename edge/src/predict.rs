//! A prediction as the edge answers and caches it ([`api::PredictionBody`]).

use features::FeatureHash;
use model::{CLASSES, Prediction};

pub use api::PredictionBody;

/// The body of prediction `p` by model version `model_version` of the grid hashed `fh`: these
/// bytes are cached (memory, Cache API, KV) and served.
pub fn body_json(p: &Prediction, model_version: u32, fh: &FeatureHash) -> Vec<u8> {
    let body = PredictionBody {
        label: p.label().to_string(),
        probabilities: CLASSES
            .iter()
            .zip(p.probabilities)
            .map(|(c, p)| (c.to_string(), p))
            .collect(),
        model_version,
        feature_hash: fh.to_hex(),
        feature_spec_version: features::SPEC_VERSION,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}
