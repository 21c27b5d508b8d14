//! The edge's errors: a status and a JSON body `{"error": "...", "detail": "..."}`
//! ([`api::ErrorBody`], the shape clients read).

use std::fmt;

/// An error answer. `error` is a stable machine-readable code; `detail` says where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub error: &'static str,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: u16, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            detail: detail.into(),
        }
    }
    pub fn bad_request(error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(400, error, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(404, "not_found", detail)
    }
    pub fn method_not_allowed(method: &str, allowed: &str) -> ApiError {
        ApiError::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed here; use {allowed}"),
        )
    }
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            413,
            "too_large",
            format!("the body is larger than the limit of {limit} bytes"),
        )
    }
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError::new(500, "internal", detail)
    }

    /// The JSON body a client gets. An internal error's detail (runtime, KV or R2 text, JS
    /// debug output) is for the log, not the client: the body says only that it happened.
    pub fn body(&self) -> String {
        let body = api::ErrorBody {
            error: self.error.to_string(),
            detail: self.client_detail().to_string(),
        };
        // Through a JSON value: keys sorted, as the edge has always written them.
        serde_json::to_value(body).unwrap_or_default().to_string()
    }

    /// The detail a client may read: an internal error's says only that it happened.
    pub fn client_detail(&self) -> &str {
        if self.is_internal() {
            "an internal error occurred; it was logged"
        } else {
            &self.detail
        }
    }

    /// Whether this is our fault (its detail is logged, never sent).
    pub fn is_internal(&self) -> bool {
        self.status >= 500 && self.error == "internal"
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error, self.detail)
    }
}

impl std::error::Error for ApiError {}

/// Check a declared body length against a limit before reading the body.
pub fn check_length(declared: Option<&str>, limit: usize) -> Result<(), ApiError> {
    match declared.map(|d| d.trim().parse::<u64>()) {
        Some(Ok(n)) if n > limit as u64 => Err(ApiError::too_large(limit)),
        Some(Err(_)) => Err(ApiError::bad_request(
            "bad_length",
            "Content-Length is not a number",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_json_with_code_and_detail() {
        let e = ApiError::bad_request("corrupt_file", "offset 12: \"quoted\"");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["error"], "corrupt_file");
        assert_eq!(v["detail"], "offset 12: \"quoted\"");
    }

    #[test]
    fn internal_details_stay_out_of_bodies() {
        let e = ApiError::internal("KV: JsValue(Error: list failed: cursor x)");
        assert!(e.is_internal());
        assert!(!e.body().contains("KV"), "{}", e.body());
        assert!(e.to_string().contains("cursor x"), "the log keeps it");
        assert!(!ApiError::new(503, "no_model", "none yet").is_internal());
    }

    #[test]
    fn declared_lengths_over_the_limit_are_413() {
        assert_eq!(check_length(Some("10"), 10), Ok(()));
        assert_eq!(check_length(None, 10), Ok(()));
        assert_eq!(check_length(Some("11"), 10).unwrap_err().status, 413);
        assert_eq!(check_length(Some("x"), 10).unwrap_err().status, 400);
    }
}
