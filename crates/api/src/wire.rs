//! The JSON bodies the edge answers with and accepts, as the app and the CLI read them.
//!
//! Field names are the wire's; changing one changes the API. Optional fields the edge leaves out
//! are `skip_serializing_if` here, so what the edge writes and what a client reads back are the
//! same shape. Bodies the edge builds as JSON values (the upload, listing, release and health
//! answers) come out with their keys sorted; clients must not depend on key order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every 4xx and 5xx body: a stable machine-readable code and where and why. An internal
/// error's detail is only that one happened (the rest is in the Worker's log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub detail: String,
}

/// A stored wafer's index record (`GET /api/v1/wafers/{hash}`, and each entry of the listing).
/// Kept well under KV's 1 KiB metadata limit by capping the strings at 64 characters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaferMeta {
    pub hash: String,
    pub lot: String,
    pub sublot: String,
    pub wafer: String,
    pub part_type: String,
    pub dies: usize,
    pub passing: usize,
    pub start_time: u32,
    /// The classifier's key for this wafer (absent for a wafer with no dies).
    pub feature_hash: Option<String>,
    pub feature_spec_version: u16,
    /// Size of the packed wafer in bytes.
    pub packed_bytes: usize,
}

/// `GET /api/v1/wafers[?lot=..&cursor=..]`: one page, and the cursor of the next (null on the
/// last page). The edge passes KV's records through as they are (`W` is a JSON value there);
/// clients read [`WaferMeta`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaferList<W = WaferMeta> {
    pub wafers: Vec<W>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `PUT /api/v1/wafers`: 201 when every wafer was stored, 207 when some were not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadAnswer {
    pub wafers: Vec<UploadedWafer>,
    /// The reader's non-fatal warnings about the file.
    pub warnings: Vec<String>,
}

/// One wafer of an upload: its record, whether it was stored and, if not, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadedWafer {
    #[serde(flatten)]
    pub meta: WaferMeta,
    pub stored: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A prediction (`GET /api/v1/wafers/{hash}/prediction`, `POST /api/v1/predict`): the same
/// bytes are cached and served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionBody {
    /// The label shown: the top class, null where the model abstains (`confidence.call`).
    pub label: Option<String>,
    /// Class name to calibrated probability, every class of the model (also when it abstains:
    /// what the network said, for the curious).
    pub probabilities: BTreeMap<String, f32>,
    pub confidence: Confidence,
    pub model_version: u32,
    /// The FeatureHash the edge keyed it with.
    pub feature_hash: String,
    pub feature_spec_version: u16,
}

/// How far to trust a label (`model::Call`): the same object in the CLI's `classify --json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// `label`, `uncertain` (the top two are close), `too_few_dies` or `not_wafer_shaped`.
    pub call: String,
    /// What a person reads: "Edge-Ring 93.0%", "uncertain: Edge-Loc 48.0% or Edge-Ring 41.0%",
    /// "too few dies to classify (16; a pattern needs at least 200)".
    pub text: String,
    pub label: Option<String>,
    /// The label's calibrated probability.
    pub probability: Option<f32>,
    /// The runner-up, when uncertain.
    pub alternative: Option<String>,
    pub alternative_probability: Option<f32>,
}

/// `GET /api/v1/model`: the current model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub version: u32,
    pub classes: Vec<String>,
    /// [`crate::path::weights`] of this version.
    pub weights_url: String,
    pub sha256: String,
    pub feature_spec_version: u16,
    /// The model's whole manifest (`model::Manifest` as JSON text), temperature included: what
    /// a client needs to load the weights as the edge does (the page swaps to a newer model
    /// with it).
    #[serde(default)]
    pub manifest: String,
}

/// `PUT /api/v1/admin/models/{version}`: 201 stored, 200 when these weights were there already.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStored {
    pub version: u32,
    pub sha256: String,
    pub stored: bool,
}

/// `POST /api/v1/admin/release`'s body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequest {
    pub version: u32,
    /// Keys to purge in this request at most; honoured only in dev mode (tests stop a purge
    /// part-way with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_budget: Option<u32>,
}

/// What a release did: 200 when its purge is complete, 202 when more is left (release the same
/// version again to continue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseAnswer {
    pub current: u32,
    pub previous: Option<u32>,
    pub invalidated: Invalidated,
    pub purge: PurgeProgress,
}

/// How a release made older predictions unreachable, and what this request deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalidated {
    /// The version that stopped being current (null when it already was).
    pub model_version: Option<u32>,
    pub by_version: String,
    pub kv_deleted: u64,
    pub cache_deleted: u64,
    pub memory_dropped: u64,
    /// What Cloudflare's purge-by-tag did (or why it did not run).
    pub purge_api: String,
}

/// Where a release's resumable purge stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeProgress {
    pub complete: bool,
    pub pending_versions: Vec<u32>,
    pub purged_versions: Vec<u32>,
    pub deleted_by_this_release: u64,
    pub next: String,
}

/// `GET /api/v1/health`: 200 `ok`, or 503 `degraded` with an error body's two fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub worker: String,
    pub kv: String,
    pub r2: String,
    pub model_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta() -> WaferMeta {
        WaferMeta {
            hash: "ab".into(),
            lot: "L".into(),
            sublot: "S".into(),
            wafer: "1".into(),
            part_type: "P".into(),
            dies: 3,
            passing: 2,
            start_time: 5,
            feature_hash: None,
            feature_spec_version: 1,
            packed_bytes: 10,
        }
    }

    #[test]
    fn an_uploaded_wafer_is_its_record_plus_stored_and_maybe_an_error() {
        let ok = UploadedWafer {
            meta: meta(),
            stored: true,
            error: None,
        };
        let v = serde_json::to_value(&ok).unwrap();
        assert_eq!(v["lot"], "L");
        assert_eq!(v["stored"], true);
        assert!(v.get("error").is_none());
        let failed = UploadedWafer {
            stored: false,
            error: Some("KV".into()),
            ..ok
        };
        let back: UploadedWafer =
            serde_json::from_value(serde_json::to_value(&failed).unwrap()).unwrap();
        assert_eq!(back, failed);
    }

    #[test]
    fn bodies_read_what_the_edge_writes() {
        let list: WaferList = serde_json::from_value(json!({
            "wafers": [serde_json::to_value(meta()).unwrap()], "cursor": null
        }))
        .unwrap();
        assert_eq!((list.wafers[0].dies, list.cursor), (3, None));
        let e: ErrorBody =
            serde_json::from_str(r#"{"detail":"no wafer x","error":"not_found"}"#).unwrap();
        assert_eq!(e.error, "not_found");
        let r = ReleaseRequest {
            version: 2,
            purge_budget: None,
        };
        assert_eq!(serde_json::to_value(&r).unwrap(), json!({ "version": 2 }));
        let r: ReleaseRequest = serde_json::from_str(r#"{"version":2,"purge_budget":3}"#).unwrap();
        assert_eq!(r.purge_budget, Some(3));
        let h = Health {
            status: "ok".into(),
            worker: "ok".into(),
            kv: "ok".into(),
            r2: "ok".into(),
            model_version: Some(1),
            error: None,
            detail: None,
        };
        let v = serde_json::to_value(&h).unwrap();
        assert!(v.get("error").is_none() && v["model_version"] == 1);
    }
}
