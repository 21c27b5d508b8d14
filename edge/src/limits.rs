//! The platform's limits that shape a request, checked before anything is written.
//!
//! An upload is planned whole first ([`check_upload`]): the number of storage operations it
//! needs fits one invocation's budget, and every KV key and list-metadata record fits KV's
//! limits. A plan that would fail half-way is refused with a 4xx naming the limit, so nothing
//! is stored. Not for runtime errors of the writes themselves (the glue reports those per wafer).

use crate::error::ApiError;
use crate::keys;
use crate::store::StoredWafer;

/// Storage operations (KV and R2 calls) one Worker invocation may make; Cloudflare counts them
/// against the 1,000 subrequests to its own services.
pub const OPERATIONS_PER_INVOCATION: usize = 1000;
/// Operations an upload needs besides its wafers' writes (token, reads, slack).
pub const UPLOAD_RESERVED_OPERATIONS: usize = 16;
/// Writes per stored wafer: R2 object, KV `wafer:`, KV `idx:`.
pub const OPERATIONS_PER_WAFER: usize = 3;
/// Most wafers one upload may hold, from the operation budget (328).
pub const MAX_WAFERS_PER_UPLOAD: usize =
    (OPERATIONS_PER_INVOCATION - UPLOAD_RESERVED_OPERATIONS) / OPERATIONS_PER_WAFER;
/// KV list metadata, measured as its JSON text.
pub const KV_METADATA_BYTES: usize = 1024;
/// KV key length in bytes.
pub const KV_KEY_BYTES: usize = 512;

/// The isolate's memory tiers, in bytes (an isolate has 128 MB; the rest is for parsing an
/// upload, rendering and the model). Wafers are weighed by [`crate::store::resident_bytes`].
pub const MEMORY_PREDICTION_BYTES: usize = 4 << 20;
pub const MEMORY_TILE_BYTES: usize = 16 << 20;
pub const MEMORY_WAFER_BYTES: usize = 32 << 20;
pub const MEMORY_MODEL_BYTES: usize = 8 << 20;
/// What one loaded classifier is counted as (126,409 f32 parameters plus burn's overhead).
pub const MODEL_RESIDENT_BYTES: usize = 2 << 20;

/// Anonymous `POST /api/v1/predict`: requests per client per period. Must equal the
/// `[[ratelimits]]` binding's `simple` settings in wrangler.toml (the binding enforces them).
pub const PREDICT_RATE_LIMIT: u32 = 100;
pub const PREDICT_RATE_PERIOD_S: u32 = 60;
/// The rate limiter's key when the runtime gives no client address (local runs only; Cloudflare
/// always sets CF-Connecting-IP).
pub const UNKNOWN_CLIENT: &str = "unknown-client";

/// The client a rate limit counts against: CF-Connecting-IP as Cloudflare sets it.
pub fn client_key(cf_connecting_ip: Option<&str>) -> String {
    match cf_connecting_ip.map(str::trim) {
        Some(ip) if !ip.is_empty() && ip.len() <= 64 => format!("predict:{ip}"),
        _ => format!("predict:{UNKNOWN_CLIENT}"),
    }
}

/// The 429 answer of a rate-limited client; its Retry-After is the whole period (the binding
/// does not say when the window ends, and a full period is never too early).
pub fn rate_limited() -> ApiError {
    ApiError::new(
        429,
        "rate_limited",
        format!(
            "more than {PREDICT_RATE_LIMIT} predictions in {PREDICT_RATE_PERIOD_S} s from this \
             client; retry after {PREDICT_RATE_PERIOD_S} s"
        ),
    )
}

/// Check that every write of an upload fits the platform's limits, before the first write.
pub fn check_upload(wafers: &[StoredWafer]) -> Result<(), ApiError> {
    if wafers.len() > MAX_WAFERS_PER_UPLOAD {
        return Err(ApiError::new(
            413,
            "too_many_wafers",
            format!(
                "the file holds {} wafers; one upload stores at most {MAX_WAFERS_PER_UPLOAD} \
                 ({OPERATIONS_PER_WAFER} writes each within {OPERATIONS_PER_INVOCATION} \
                 operations per request); split the file; nothing was stored",
                wafers.len()
            ),
        ));
    }
    for w in wafers {
        let json = serde_json::to_string(&w.meta)
            .map_err(|e| ApiError::internal(format!("wafer metadata: {e}")))?;
        // serde_json escapes control characters as JS does (\u0001 is 6 characters); its UTF-8
        // length is never below the character count KV measures.
        if json.len() > KV_METADATA_BYTES {
            return Err(ApiError::new(
                422,
                "metadata_too_large",
                format!(
                    "wafer {:?} of lot {:?}: its index record is {} bytes of JSON, over KV's \
                     limit of {KV_METADATA_BYTES} (control characters in the lot, sublot, wafer \
                     or part type fields count 6 each); nothing was stored",
                    w.meta.wafer.escape_debug().to_string(),
                    w.meta.lot.escape_debug().to_string(),
                    json.len()
                ),
            ));
        }
        let key = keys::lot_entry(&w.meta.lot, &w.hash);
        if key.len() > KV_KEY_BYTES {
            return Err(ApiError::new(
                422,
                "key_too_long",
                format!(
                    "lot {:?}: its index key is {} bytes, over KV's limit of {KV_KEY_BYTES}; \
                     nothing was stored",
                    w.meta.lot.escape_debug().to_string(),
                    key.len()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{WaferHash, WaferMeta};

    fn wafer(lot: &str) -> StoredWafer {
        StoredWafer {
            hash: WaferHash([7; 32]),
            packed: Vec::new(),
            meta: WaferMeta {
                hash: WaferHash([7; 32]).to_hex(),
                lot: lot.into(),
                sublot: lot.into(),
                wafer: "1".into(),
                part_type: lot.into(),
                dies: 1,
                passing: 1,
                start_time: 0,
                feature_hash: Some(WaferHash([8; 32]).to_hex()),
                feature_spec_version: 1,
                packed_bytes: 10,
            },
        }
    }

    #[test]
    fn the_wafer_count_is_bounded_by_the_operation_budget() {
        assert_eq!(MAX_WAFERS_PER_UPLOAD, 328);
        let ok: Vec<_> = (0..MAX_WAFERS_PER_UPLOAD).map(|_| wafer("L")).collect();
        assert_eq!(check_upload(&ok), Ok(()));
        let many: Vec<_> = (0..=MAX_WAFERS_PER_UPLOAD).map(|_| wafer("L")).collect();
        let e = check_upload(&many).unwrap_err();
        assert_eq!((e.status, e.error), (413, "too_many_wafers"));
        assert!(e.detail.contains("328"), "{}", e.detail);
    }

    #[test]
    fn metadata_is_measured_as_escaped_json() {
        // 64 characters each: plain text fits, control characters grow 6x and do not.
        assert_eq!(check_upload(&[wafer(&"A".repeat(64))]), Ok(()));
        let e = check_upload(&[wafer(&"\u{1}".repeat(64))]).unwrap_err();
        assert_eq!((e.status, e.error), (422, "metadata_too_large"));
        assert!(e.detail.contains("1024"), "{}", e.detail);
    }

    #[test]
    fn clients_are_keyed_by_their_address() {
        assert_eq!(client_key(Some("203.0.113.9")), "predict:203.0.113.9");
        assert_eq!(client_key(None), client_key(Some(" ")));
        assert_eq!(client_key(Some(&"x".repeat(65))), client_key(None));
        assert_eq!(rate_limited().status, 429);
    }
}
