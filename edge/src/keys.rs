//! Every storage and cache key, defined in one place.
//!
//! - R2: `wafers/{hash}.wspk` (packed wafer), `models/{v}/weights.bpk`, `models/{v}/manifest.json`.
//! - KV: `wafer:{hash}` (metadata), `idx:{lot}:{hash}` (listing, metadata attached),
//!   `model:current` (the released version), `model:released:{v}` (a version that was ever
//!   released, so its weights are public), `release:purge` (a release's unfinished purge),
//!   `pred:{v}:{feature hash}` (the global prediction tier, for stored wafers only).
//! - Cache API (per location): paths under `/__cache/` on the worker's own origin, so Cloudflare
//!   treats them as the zone's; responses carry `Cache-Tag`s for purging by tag.
//!
//! A prediction key always holds the model version *and* the feature spec version (the hash
//! covers it); a tile key holds [`paint::RENDERER_VERSION`]. Changing either makes new keys.

use features::FeatureHash;

use crate::route::{LayerName, TileId};
use crate::store::WaferHash;

pub const CURRENT_MODEL: &str = "model:current";
/// Where a release's purge state waits between requests (`release::PurgeState`).
pub const PURGE_STATE: &str = "release:purge";

/// Marks version `v` as released: its weights may be served publicly from then on.
pub fn model_released(v: u32) -> String {
    format!("model:released:{v}")
}

/// R2 prefix under which every model version lives.
pub const MODELS_PREFIX: &str = "models/";

/// The version of an R2 `models/{v}/` prefix.
pub fn model_prefix_version(prefix: &str) -> Option<u32> {
    prefix
        .strip_prefix(MODELS_PREFIX)?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// The first writer of version `v` claims it with the sha256 of its weights (an R2 put-if-absent),
/// so two uploads racing on one version cannot mix their weights and manifests.
pub fn model_claim(v: u32) -> String {
    format!("models/{v}/claim")
}

pub fn wafer_object(h: &WaferHash) -> String {
    format!("wafers/{}.wspk", h.to_hex())
}

pub fn wafer_meta(h: &WaferHash) -> String {
    format!("wafer:{}", h.to_hex())
}

/// `:` and `%` in a lot name are escaped so a lot can never reach into another lot's prefix.
pub fn lot_prefix(lot: Option<&str>) -> String {
    match lot {
        None => "idx:".into(),
        Some(l) => format!("idx:{}:", l.replace('%', "%25").replace(':', "%3A")),
    }
}

pub fn lot_entry(lot: &str, h: &WaferHash) -> String {
    format!("{}{}", lot_prefix(Some(lot)), h.to_hex())
}

pub fn model_weights(v: u32) -> String {
    format!("models/{v}/weights.bpk")
}

pub fn model_manifest(v: u32) -> String {
    format!("models/{v}/manifest.json")
}

pub fn prediction_kv(v: u32, f: &FeatureHash) -> String {
    format!("{}{}", prediction_kv_prefix(v), f.to_hex())
}

pub fn prediction_kv_prefix(v: u32) -> String {
    format!("pred:{v}:")
}

/// Cache API path of a prediction; the origin is the worker's own.
pub fn prediction_cache(v: u32, f: &FeatureHash) -> String {
    format!("/__cache/pred/m{v}/{}", f.to_hex())
}

/// The in-isolate key of a prediction (also the in-flight map's).
pub fn prediction_memory(v: u32, f: &FeatureHash) -> String {
    prediction_kv(v, f)
}

/// The model version a prediction memory/KV key belongs to.
pub fn prediction_key_version(key: &str) -> Option<u32> {
    key.strip_prefix("pred:")?.split(':').next()?.parse().ok()
}

pub fn prediction_tag(v: u32) -> String {
    format!("waferscope-pred-m{v}")
}

pub fn tile_cache(w: &WaferHash, layer: &LayerName, t: TileId) -> String {
    format!(
        "/__cache/tile/r{}/{}/{}/{}/{}/{}.png",
        paint::RENDERER_VERSION,
        w.to_hex(),
        layer.to_string().replace(':', "-"),
        t.z,
        t.x,
        t.y
    )
}

/// A tile's picture is a pure function of its key, so its ETag is too: a 304 never needs the
/// picture itself.
pub fn tile_etag(w: &WaferHash, layer: &LayerName, t: TileId) -> String {
    let h = blake3::hash(tile_cache(w, layer, t).as_bytes());
    format!("\"t{}-{}\"", paint::RENDERER_VERSION, &h.to_hex()[..20])
}

pub fn tile_tag() -> String {
    format!("waferscope-tile-r{}", paint::RENDERER_VERSION)
}

pub fn dies_cache(w: &WaferHash) -> String {
    format!("/__cache/dies/p{}/{}", wafer::pack::VERSION, w.to_hex())
}

pub fn wafer_tag(w: &WaferHash) -> String {
    format!("waferscope-wafer-{}", w.to_hex())
}

/// Whether an `If-None-Match` header names this ETag (a list, `*`, or weak forms).
pub fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(h) = if_none_match else {
        return false;
    };
    h.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_keys_differ_by_model_version_and_feature_hash() {
        let (a, b) = (FeatureHash([1; 32]), FeatureHash([2; 32]));
        let all = [
            prediction_kv(1, &a),
            prediction_kv(2, &a),
            prediction_kv(1, &b),
            prediction_cache(1, &a),
            prediction_cache(2, &a),
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
        assert!(prediction_kv(1, &a).starts_with(&prediction_kv_prefix(1)));
        assert!(!prediction_kv(12, &a).starts_with(&prediction_kv_prefix(1)));
        assert_eq!(prediction_key_version(&prediction_memory(7, &a)), Some(7));
    }

    #[test]
    fn model_prefixes_name_their_version() {
        assert_eq!(model_prefix_version("models/12/"), Some(12));
        assert_eq!(model_prefix_version("models/x/"), None);
        assert!(model_weights(3).starts_with(MODELS_PREFIX));
        assert!(model_claim(3).starts_with("models/3/"));
    }

    #[test]
    fn lot_prefixes_cannot_overlap() {
        let h = WaferHash([0; 32]);
        assert!(!lot_entry("A:B", &h).starts_with(&lot_prefix(Some("A"))));
        assert!(lot_entry("A:B", &h).starts_with(&lot_prefix(Some("A:B"))));
        assert!(lot_entry("A", &h).starts_with(&lot_prefix(None)));
    }

    #[test]
    fn tile_keys_and_etags() {
        let w = WaferHash([3; 32]);
        let t = TileId { z: 1, x: 1, y: 0 };
        let l = LayerName::Test(7);
        let key = tile_cache(&w, &l, t);
        assert!(
            key.contains(&format!("/r{}/", paint::RENDERER_VERSION)),
            "{key}"
        );
        assert_ne!(tile_etag(&w, &l, t), tile_etag(&w, &LayerName::HardBin, t));
        let e = tile_etag(&w, &l, t);
        assert!(etag_matches(Some(&e), &e));
        assert!(etag_matches(Some(&format!("\"x\", W/{e}")), &e));
        assert!(etag_matches(Some("*"), &e));
        assert!(!etag_matches(Some("\"x\""), &e));
        assert!(!etag_matches(None, &e));
    }
}
