//! What the Worker answers when a storage tier fails a call (KV, R2 or the Cache API rejects).
//!
//! A tier that only speeds things up is skipped: a prediction whose KV lookup fails is
//! computed, and one whose KV write fails is still answered. Where the answer cannot be made
//! without the tier (the current model version is in KV; a wafer not in memory is in R2), the
//! answer is a 503 that names the tier and says to retry. Never a body from a half-read, never
//! the runtime's error text (that goes to the log). `cargo xtask bench edge` injects such
//! failures (edge/dev/faults.js) and checks every body against a fault-free answer.
//!
//! Also what `GET /api/v1/health` says when a tier does not answer.
//!
//! Not for: errors of the request itself (4xx), or writes that must not half-happen (uploads).

use crate::error::ApiError;

/// The answer when `tier` ("KV", "R2", "Cache API") failed and nothing else can stand in.
pub fn unavailable(tier: &str) -> ApiError {
    ApiError::new(
        503,
        "unavailable",
        format!("{tier} did not answer; nothing was served from it; retry shortly"),
    )
}

/// `GET /api/v1/health` from whether KV and R2 answered a read each: 200 `ok`, or 503
/// `degraded` with an error body's two fields (the runtime's text goes to the log).
pub fn health(kv_ok: bool, r2_ok: bool, model_version: Option<u32>) -> (u16, api::Health) {
    let word = |ok: bool| if ok { "ok" } else { "error" }.to_string();
    let ok = kv_ok && r2_ok;
    let body = api::Health {
        status: if ok { "ok" } else { "degraded" }.into(),
        worker: "ok".into(),
        kv: word(kv_ok),
        r2: word(r2_ok),
        model_version,
        error: (!ok).then(|| "unhealthy".into()),
        detail: (!ok).then(|| "a storage binding did not answer; see the Worker's log".into()),
    };
    (if ok { 200 } else { 503 }, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_503_degraded_naming_the_tier_that_failed() {
        let (status, h) = health(true, true, Some(2));
        assert_eq!((status, h.status.as_str(), h.error), (200, "ok", None));
        let (status, h) = health(true, false, None);
        assert_eq!((status, h.status.as_str()), (503, "degraded"));
        assert_eq!((h.kv.as_str(), h.r2.as_str()), ("ok", "error"));
        assert_eq!(h.error.as_deref(), Some("unhealthy"));
    }

    #[test]
    fn a_failed_tier_is_a_503_naming_it_without_runtime_text() {
        let e = unavailable("R2");
        assert_eq!(e.status, 503);
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["error"], "unavailable");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .starts_with("R2 did not answer")
        );
    }
}
