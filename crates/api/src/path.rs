//! Every endpoint's path, built in one place (the edge's `route` module parses them back; its
//! tests hold the two together). Hashes are the 64 lower-case hex digits the edge names wafers
//! by; the builders do not check them, the edge does.

use crate::LayerName;

/// What every endpoint's path starts with.
pub const PREFIX: &str = "/api/v1/";
/// `PUT` a tester file; `GET` the listing (see [`wafers_page`] for its query).
pub const WAFERS: &str = "/api/v1/wafers";
/// `POST` a 64x64 feature grid (4,096 bytes) for its prediction.
pub const PREDICT: &str = "/api/v1/predict";
/// `GET` the current model ([`crate::ModelInfo`]).
pub const MODEL: &str = "/api/v1/model";
/// `POST` a [`crate::ReleaseRequest`] (admin token).
pub const ADMIN_RELEASE: &str = "/api/v1/admin/release";
/// `GET` the dev-only counters (only where the Worker runs with `WAFERSCOPE_DEV=1`).
pub const DEV_METRICS: &str = "/api/v1/dev/metrics";
/// `GET` whether the Worker's storage answers ([`crate::Health`]).
pub const HEALTH: &str = "/api/v1/health";

/// `GET` one page of the listing, of one lot or all, from a cursor the previous page gave.
pub fn wafers_page(lot: Option<&str>, cursor: Option<&str>) -> String {
    let mut out = WAFERS.to_string();
    let params = [("lot", lot), ("cursor", cursor)];
    for (i, (k, v)) in params
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .enumerate()
    {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        percent_encode(v, &mut out);
    }
    out
}

/// Whether `s` is a content hash as the API writes it (a stored wafer's, a FeatureHash): 64
/// lower-case hex digits. Anything else from outside never becomes part of a path.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `GET` a stored wafer's metadata ([`crate::WaferMeta`]).
pub fn wafer(hash: &str) -> String {
    format!("{WAFERS}/{hash}")
}

/// `GET` a stored wafer, packed (`wafer::pack`).
pub fn dies(hash: &str) -> String {
    format!("{WAFERS}/{hash}/dies")
}

/// `GET` tile `z/x/y` (PNG) of a stored wafer's square pyramid, showing `layer`.
pub fn tile(hash: &str, layer: LayerName, z: u8, x: u32, y: u32) -> String {
    format!("{WAFERS}/{hash}/tiles/{z}/{x}/{y}.png?layer={layer}")
}

/// `GET` the prediction of a stored wafer ([`crate::PredictionBody`]).
pub fn wafer_prediction(hash: &str) -> String {
    format!("{WAFERS}/{hash}/prediction")
}

/// `GET` the weights of a released model version.
pub fn weights(version: u32) -> String {
    format!("{MODEL}/{version}/weights")
}

/// `PUT` a model version (multipart `manifest` and `weights`; admin token).
pub fn admin_model(version: u32) -> String {
    format!("{PREFIX}admin/models/{version}")
}

/// Query-string escaping: everything but unreserved characters as `%XX`.
fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn paths_name_their_endpoint() {
        assert_eq!(wafer(H), format!("/api/v1/wafers/{H}"));
        assert_eq!(dies(H), format!("/api/v1/wafers/{H}/dies"));
        assert_eq!(
            wafer_prediction(H),
            format!("/api/v1/wafers/{H}/prediction")
        );
        assert_eq!(
            tile(H, LayerName::Test(7), 2, 3, 1),
            format!("/api/v1/wafers/{H}/tiles/2/3/1.png?layer=test:7")
        );
        assert_eq!(weights(3), "/api/v1/model/3/weights");
        assert_eq!(admin_model(3), "/api/v1/admin/models/3");
    }

    #[test]
    fn listing_queries_are_escaped() {
        assert_eq!(wafers_page(None, None), "/api/v1/wafers");
        assert_eq!(
            wafers_page(Some("LOT 2&x"), None),
            "/api/v1/wafers?lot=LOT%202%26x"
        );
        assert_eq!(
            wafers_page(None, Some("ab.c")),
            "/api/v1/wafers?cursor=ab.c"
        );
        assert_eq!(
            wafers_page(Some("A"), Some("c")),
            "/api/v1/wafers?lot=A&cursor=c"
        );
    }
}
