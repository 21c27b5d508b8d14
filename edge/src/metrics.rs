//! Per-isolate counters for the dev-only `GET /api/v1/dev/metrics` (404 unless the Worker runs
//! with `WAFERSCOPE_DEV=1`): how often this isolate computed, and, with
//! `?version=V&feature=HASH`, which tiers hold that prediction key. Tests read it to show that
//! 50 concurrent requests compute once, and where a prediction was kept.
//!
//! Not for production monitoring (the runtime's analytics do that), and nothing here is secret.

use std::cell::Cell;

use features::FeatureHash;
use serde::Serialize;

use crate::error::ApiError;
use crate::route;

/// The counters, one set per isolate.
#[derive(Default)]
pub struct Metrics {
    pub predictions: Cell<u64>,
    pub tiles: Cell<u64>,
    pub wafer_loads: Cell<u64>,
    pub model_loads: Cell<u64>,
    /// Bodies abandoned past their limit (without reading the rest).
    pub refused_bodies: Cell<u64>,
}

/// Which tiers hold one prediction key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub memory: bool,
    pub cache: bool,
    pub kv: bool,
}

/// Count one.
pub fn bump(c: &Cell<u64>) {
    c.set(c.get() + 1);
}

/// Whether the Worker runs in dev mode (`WAFERSCOPE_DEV` is `1`): dev-only endpoints and knobs.
pub fn dev_mode(var: Option<&str>) -> bool {
    var == Some("1")
}

/// The 404 of the metrics endpoint outside dev mode (as if it did not exist).
pub fn not_in_production() -> ApiError {
    ApiError::not_found("no endpoint /api/v1/dev/metrics")
}

/// The prediction key a metrics request asks to probe: `version` and `feature` both valid, or
/// none (a probe of nothing, not an error).
pub fn probe_key(query: &str) -> Result<Option<(u32, FeatureHash)>, ApiError> {
    let version = route::query_param(query, "version")?.and_then(|v| v.parse::<u32>().ok());
    let feature = route::query_param(query, "feature")?.and_then(|f| FeatureHash::from_hex(&f));
    Ok(version.zip(feature))
}

impl Metrics {
    /// The endpoint's body.
    pub fn report(&self, probe: Option<Probe>) -> serde_json::Value {
        serde_json::json!({
            "computes": {
                "predictions": self.predictions.get(),
                "tiles": self.tiles.get(),
                "wafer_loads": self.wafer_loads.get(),
                "model_loads": self.model_loads.get(),
            },
            "probe": probe,
            "refused_bodies": self.refused_bodies.get(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_counts_computes_and_says_where_a_key_is() {
        let m = Metrics::default();
        bump(&m.tiles);
        bump(&m.tiles);
        bump(&m.refused_bodies);
        let r = m.report(None);
        assert_eq!(r["computes"]["tiles"], 2);
        assert_eq!(r["computes"]["predictions"], 0);
        assert_eq!(r["refused_bodies"], 1);
        assert!(r["probe"].is_null());
        let p = Probe {
            memory: true,
            cache: false,
            kv: true,
        };
        assert_eq!(m.report(Some(p))["probe"]["kv"], true);
    }

    #[test]
    fn a_probe_needs_a_version_and_a_feature_hash() {
        let fh = FeatureHash([9; 32]);
        let q = format!("version=3&feature={}", fh.to_hex());
        assert_eq!(probe_key(&q), Ok(Some((3, fh))));
        assert_eq!(probe_key("version=3"), Ok(None));
        assert_eq!(probe_key("version=x&feature=y"), Ok(None));
        assert_eq!(probe_key("version=%ff").unwrap_err().status, 400);
        assert!(dev_mode(Some("1")) && !dev_mode(Some("0")) && !dev_mode(None));
    }
}
