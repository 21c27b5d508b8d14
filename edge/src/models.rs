//! Model versions: checking an uploaded model, and what `GET /api/v1/model` says.

use model::{CLASSES, Classifier, Manifest};

use crate::error::ApiError;

pub use api::{ModelInfo, ReleaseRequest};

/// What `GET /api/v1/model` says of a stored model.
pub fn info(m: &Manifest) -> ModelInfo {
    ModelInfo {
        version: m.model_version,
        classes: m.classes.clone(),
        weights_url: api::path::weights(m.model_version),
        sha256: m.sha256.clone(),
        feature_spec_version: m.feature_spec_version,
        // A parsed manifest serialises back without loss.
        manifest: serde_json::to_string(m).unwrap_or_default(),
    }
}

/// Check an uploaded model before it is stored: the manifest parses, names this version, this
/// build's classes and feature spec, the weights' sha256 matches, and the weights load.
pub fn validate(version: u32, manifest: &str, weights: &[u8]) -> Result<Manifest, ApiError> {
    let bad = |d: String| ApiError::new(422, "bad_model", d);
    let m: Manifest =
        serde_json::from_str(manifest).map_err(|e| bad(format!("manifest.json: {e}")))?;
    if m.model_version != version {
        return Err(bad(format!(
            "the manifest says model_version {}, the URL says {version}",
            m.model_version
        )));
    }
    if m.classes.iter().map(String::as_str).ne(CLASSES) {
        return Err(bad(format!(
            "the manifest's classes {:?} are not this build's {CLASSES:?}",
            m.classes
        )));
    }
    Ok(load(manifest, weights)?.1)
}

/// Load a stored model on the CPU backend, checking the weights against the manifest.
pub fn load(manifest: &str, weights: &[u8]) -> Result<(Classifier, Manifest), ApiError> {
    let device = burn::tensor::Device::flex();
    Classifier::load_verified(manifest, weights, &device)
        .map_err(|e| ApiError::new(422, "bad_model", e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> (String, Vec<u8>) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../public/model");
        (
            std::fs::read_to_string(format!("{dir}/manifest.json")).unwrap(),
            std::fs::read(format!("{dir}/weights.bpk")).unwrap(),
        )
    }

    #[test]
    fn the_shipped_model_is_accepted_and_tampering_is_not() {
        let (m, w) = shipped();
        let v = serde_json::from_str::<Manifest>(&m).unwrap().model_version;
        let man = validate(v, &m, &w).unwrap();
        assert_eq!(info(&man).weights_url, format!("/api/v1/model/{v}/weights"));
        // The manifest it hands out loads the same weights the same way.
        let handed = serde_json::from_str::<Manifest>(&info(&man).manifest).unwrap();
        assert_eq!(handed, man);
        assert_eq!(validate(v + 1, &m, &w).unwrap_err().status, 422);
        let mut bad = w.clone();
        let n = bad.len() / 2;
        bad[n] ^= 1;
        assert!(validate(v, &m, &bad).unwrap_err().detail.contains("sha256"));
        assert_eq!(validate(v, "{", &w).unwrap_err().status, 422);
        // A temperature that is not a positive number is refused.
        let hot = m.replace("\"temperature\": ", "\"temperature\": -");
        assert_ne!(hot, m);
        assert!(
            validate(v, &hot, &w)
                .unwrap_err()
                .detail
                .contains("temperature")
        );
        let renamed = m.replace("\"Scratch\"", "\"Scrape\"");
        assert!(
            validate(v, &renamed, &w)
                .unwrap_err()
                .detail
                .contains("classes")
        );
    }
}
