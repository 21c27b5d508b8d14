//! What the Worker answers when a storage tier fails a call (KV, R2 or the Cache API rejects).
//!
//! A tier that only speeds things up is skipped: a prediction whose KV lookup fails is
//! computed, and one whose KV write fails is still answered. Where the answer cannot be made
//! without the tier (the current model version is in KV; a wafer not in memory is in R2), the
//! answer is a 503 that names the tier and says to retry. Never a body from a half-read, never
//! the runtime's error text (that goes to the log). `cargo xtask bench edge` injects such
//! failures (edge/dev/faults.js) and checks every body against a fault-free answer.
//!
//! Not for: errors of the request itself (4xx), or writes that must not half-happen (uploads).

use crate::api::ApiError;

/// The answer when `tier` ("KV", "R2", "Cache API") failed and nothing else can stand in.
pub fn unavailable(tier: &str) -> ApiError {
    ApiError::new(
        503,
        "unavailable",
        format!("{tier} did not answer; nothing was served from it; retry shortly"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
