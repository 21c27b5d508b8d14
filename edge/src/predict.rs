//! A prediction as the edge answers and caches it ([`api::PredictionBody`]).

use features::FeatureGrid;
use model::{CLASSES, Call, Prediction};

pub use api::PredictionBody;

/// The body of prediction `p` by model version `model_version` of `grid`: these bytes are
/// cached (memory, Cache API, KV) and served. The grid alone decides them, as it decides the
/// cache key: the call knows no die count here, so only the shape rule can abstain
/// ([`too_few_dies`] adds the die rule where the wafer is known).
pub fn body_json(p: &Prediction, model_version: u32, grid: &FeatureGrid) -> Vec<u8> {
    let call = Call::new(p, None, grid);
    let body = PredictionBody {
        label: call.label().map(String::from),
        probabilities: CLASSES
            .iter()
            .zip(p.probabilities)
            .map(|(c, p)| (c.to_string(), p))
            .collect(),
        confidence: call.confidence(),
        model_version,
        feature_hash: grid.hash().to_hex(),
        feature_spec_version: features::SPEC_VERSION,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A cached body for a stored wafer of `dies` dies: unchanged at [`model::MIN_DIES`] or more,
/// else with no label and the call "too few dies". Applied after the caches, so the cached
/// bytes stay the grid's alone.
pub fn too_few_dies(body: Vec<u8>, dies: usize) -> Vec<u8> {
    if dies >= model::MIN_DIES {
        return body;
    }
    let Ok(mut b) = serde_json::from_slice::<PredictionBody>(&body) else {
        return body;
    };
    b.label = None;
    b.confidence = Call::TooFewDies { dies }.confidence();
    serde_json::to_vec(&b).unwrap_or(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use features::Die;

    fn disc() -> FeatureGrid {
        FeatureGrid::from_fn(40, 40, |r, c| {
            let (y, x) = (r as f32 - 19.5, c as f32 - 19.5);
            if x * x + y * y <= 400.0 {
                Die::Pass
            } else {
                Die::None
            }
        })
        .unwrap()
    }

    #[test]
    fn a_small_stored_wafer_loses_its_label_and_says_why() {
        let mut probabilities = [0.01; model::NUM_CLASSES];
        probabilities[5] = 0.92;
        let p = Prediction { probabilities };
        let g = disc();
        let body = body_json(&p, 2, &g);
        let read: PredictionBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(read.label.as_deref(), Some("Near-full"));
        assert_eq!(read.confidence.call, "label");
        assert_eq!(read.feature_hash, g.hash().to_hex());
        assert_eq!(too_few_dies(body.clone(), 1256), body);
        let small: PredictionBody = serde_json::from_slice(&too_few_dies(body, 16)).unwrap();
        assert_eq!(small.label, None);
        assert_eq!(small.confidence.call, "too_few_dies");
        assert!(
            small
                .confidence
                .text
                .contains("too few dies to classify (16;")
        );
        assert_eq!(small.probabilities.len(), model::NUM_CLASSES);
    }
}
