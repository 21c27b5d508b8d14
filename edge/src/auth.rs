//! Bearer tokens, compared in constant time.
//!
//! Tokens are Worker secrets. Both sides are hashed first and the digests compared with a fold
//! that looks at every byte, so neither the position of the first difference nor the token's
//! length shows in the timing.

use crate::error::ApiError;

/// Which token a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Upload,
    Admin,
}

impl Role {
    /// The secret's binding name.
    pub fn secret(self) -> &'static str {
        match self {
            Role::Upload => "UPLOAD_TOKEN",
            Role::Admin => "ADMIN_TOKEN",
        }
    }
}

/// Check an `Authorization` header against the configured token: 401 without one, 403 for a
/// wrong one, 503 when the worker has no token configured (then nobody may write).
pub fn check(role: Role, header: Option<&str>, configured: Option<&str>) -> Result<(), ApiError> {
    let configured = configured.filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiError::new(
            503,
            "not_configured",
            format!("the {} secret is not set on this worker", role.secret()),
        )
    })?;
    let given = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                401,
                "unauthorized",
                "this endpoint needs an Authorization: Bearer token",
            )
        })?;
    if constant_time_eq(given.as_bytes(), configured.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "forbidden",
            "the token is not valid here",
        ))
    }
}

/// Equality of two secrets without data-dependent timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (ha, hb) = (blake3::hash(a), blake3::hash(b));
    let diff = ha
        .as_bytes()
        .iter()
        .zip(hb.as_bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_wrong_and_right_tokens() {
        let t = Some("s3cret");
        assert_eq!(check(Role::Admin, None, t).unwrap_err().status, 401);
        assert_eq!(
            check(Role::Admin, Some("Basic x"), t).unwrap_err().status,
            401
        );
        assert_eq!(
            check(Role::Admin, Some("Bearer "), t).unwrap_err().status,
            401
        );
        assert_eq!(
            check(Role::Admin, Some("Bearer s3cre"), t)
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(
            check(Role::Admin, Some("Bearer s3cret!"), t)
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(check(Role::Admin, Some("Bearer s3cret"), t), Ok(()));
        assert_eq!(
            check(Role::Upload, Some("Bearer x"), None)
                .unwrap_err()
                .status,
            503
        );
        assert_eq!(
            check(Role::Upload, Some("Bearer x"), Some(""))
                .unwrap_err()
                .status,
            503
        );
    }

    #[test]
    fn errors_never_echo_the_token() {
        let e = check(Role::Admin, Some("Bearer guess"), Some("s3cret")).unwrap_err();
        assert!(!e.body().contains("s3cret") && !e.body().contains("guess"));
    }
}
