//! Which endpoint a request is for, with every path parameter validated. The paths themselves
//! are built by [`api::path`] (the app and CLI use it too); the tests hold the two together.

use crate::error::ApiError;
use crate::store::WaferHash;

/// A tile of the square pyramid over a wafer (`paint::View::tile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// A layer name in its one canonical form (parsed by [`api::LayerName`]); checked against the
/// wafer's tests later.
pub use api::LayerName;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `PUT /api/v1/wafers`
    Upload,
    /// `GET /api/v1/wafers[?lot=...]`
    List {
        lot: Option<String>,
        cursor: Option<String>,
    },
    /// `GET /api/v1/wafers/{hash}`
    Wafer(WaferHash),
    /// `GET /api/v1/wafers/{hash}/dies`
    Dies(WaferHash),
    /// `GET /api/v1/wafers/{hash}/tiles/{z}/{x}/{y}.png?layer=...`
    Tile {
        wafer: WaferHash,
        tile: TileId,
        layer: LayerName,
    },
    /// `GET /api/v1/wafers/{hash}/prediction`
    WaferPrediction(WaferHash),
    /// `POST /api/v1/predict`
    Predict,
    /// `GET /api/v1/model`
    Model,
    /// `GET /api/v1/model/{version}/weights`
    Weights(u32),
    /// `PUT /api/v1/admin/models/{version}` (multipart: `manifest`, `weights`)
    AdminUpload(u32),
    /// `POST /api/v1/admin/release` (`{"version": N}`)
    AdminRelease,
    /// `GET /api/v1/dev/metrics` (only where the worker runs with `WAFERSCOPE_DEV=1`)
    DevMetrics,
    /// `GET /api/v1/health`
    Health,
}

impl Route {
    /// Parse a request's method, path and query string (without the `?`).
    pub fn parse(method: &str, path: &str, query: &str) -> Result<Route, ApiError> {
        let rest = path
            .strip_prefix(api::path::PREFIX)
            .ok_or_else(|| ApiError::not_found(format!("no endpoint {path}")))?;
        let parts: Vec<&str> = rest.split('/').collect();
        let want = |m: &str, r: Route| {
            if method == m {
                Ok(r)
            } else {
                Err(ApiError::method_not_allowed(method, m))
            }
        };
        match parts.as_slice() {
            ["wafers"] => match method {
                "PUT" => Ok(Route::Upload),
                "GET" => Ok(Route::List {
                    lot: query_param(query, "lot")?,
                    cursor: query_param(query, "cursor")?,
                }),
                _ => Err(ApiError::method_not_allowed(method, "GET or PUT")),
            },
            ["wafers", h] => want("GET", Route::Wafer(wafer_hash(h)?)),
            ["wafers", h, "dies"] => want("GET", Route::Dies(wafer_hash(h)?)),
            ["wafers", h, "prediction"] => want("GET", Route::WaferPrediction(wafer_hash(h)?)),
            ["wafers", h, "tiles", z, x, y] => {
                let wafer = wafer_hash(h)?;
                let tile = tile_id(z, x, y)?;
                let layer = layer_name(query_param(query, "layer")?.as_deref().unwrap_or("hbin"))?;
                want("GET", Route::Tile { wafer, tile, layer })
            }
            ["predict"] => want("POST", Route::Predict),
            ["model"] => want("GET", Route::Model),
            ["model", v, "weights"] => want("GET", Route::Weights(version(v)?)),
            ["admin", "models", v] => want("PUT", Route::AdminUpload(version(v)?)),
            ["admin", "release"] => want("POST", Route::AdminRelease),
            ["dev", "metrics"] => want("GET", Route::DevMetrics),
            ["health"] => want("GET", Route::Health),
            _ => Err(ApiError::not_found(format!("no endpoint {path}"))),
        }
    }
}

fn wafer_hash(s: &str) -> Result<WaferHash, ApiError> {
    WaferHash::from_hex(s).ok_or_else(|| {
        ApiError::bad_request("bad_hash", "a wafer hash is 64 lower-case hex digits")
    })
}

fn version(s: &str) -> Result<u32, ApiError> {
    s.parse::<u32>()
        .ok()
        .filter(|v| *v > 0 && !s.starts_with('0'))
        .ok_or_else(|| {
            ApiError::bad_request("bad_version", "a model version is a positive integer")
        })
}

fn tile_id(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "bad_tile",
            format!(
                "tile {z}/{x}/{y}: use /tiles/Z/X/Y.png with Z in 0..={} and X, Y below 2^Z",
                paint::geometry::MAX_TILE_ZOOM
            ),
        )
    };
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 8 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let y = y.strip_suffix(".png").ok_or_else(bad)?;
    let (z, x, y) = (
        num(z).ok_or_else(bad)?,
        num(x).ok_or_else(bad)?,
        num(y).ok_or_else(bad)?,
    );
    if z > paint::geometry::MAX_TILE_ZOOM as u32 || x >= 1 << z || y >= 1 << z {
        return Err(bad());
    }
    Ok(TileId { z: z as u8, x, y })
}

fn layer_name(s: &str) -> Result<LayerName, ApiError> {
    LayerName::parse(s).map_err(|_| {
        ApiError::bad_request(
            "bad_layer",
            "layer must be hbin, sbin or test:NUMBER (a test number below 2^32)",
        )
    })
}

/// Split a request URL into origin (`scheme://host[:port]`), path and query (without `?`).
pub fn split_url(url: &str) -> (&str, &str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path_at = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    let (origin, rest) = url.split_at(path_at);
    let rest = rest.split('#').next().unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    (origin, if path.is_empty() { "/" } else { path }, query)
}

/// One query parameter, percent-decoded; an undecodable value is a 400.
pub fn query_param(query: &str, name: &str) -> Result<Option<String>, ApiError> {
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            return percent_decode(v).map(Some).ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!("query parameter {name} is not valid UTF-8"),
                )
            });
        }
    }
    Ok(None)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn parse(m: &str, p: &str, q: &str) -> Result<Route, ApiError> {
        Route::parse(m, p, q)
    }

    #[test]
    fn urls_split_into_origin_path_and_query() {
        assert_eq!(
            split_url("http://127.0.0.1:8787/api/v1/wafers?lot=A#x"),
            ("http://127.0.0.1:8787", "/api/v1/wafers", "lot=A")
        );
        assert_eq!(split_url("https://a.b"), ("https://a.b", "/", ""));
    }

    #[test]
    fn every_endpoint_parses() {
        let w = WaferHash::from_hex(H).unwrap();
        assert_eq!(parse("PUT", "/api/v1/wafers", ""), Ok(Route::Upload));
        assert_eq!(
            parse("GET", "/api/v1/wafers", "lot=LOT%202&x=1"),
            Ok(Route::List {
                lot: Some("LOT 2".into()),
                cursor: None
            })
        );
        assert_eq!(
            parse("GET", &format!("/api/v1/wafers/{H}"), ""),
            Ok(Route::Wafer(w))
        );
        assert_eq!(
            parse("GET", &format!("/api/v1/wafers/{H}/dies"), ""),
            Ok(Route::Dies(w))
        );
        assert_eq!(
            parse(
                "GET",
                &format!("/api/v1/wafers/{H}/tiles/2/3/1.png"),
                "layer=test:1000"
            ),
            Ok(Route::Tile {
                wafer: w,
                tile: TileId { z: 2, x: 3, y: 1 },
                layer: LayerName::Test(1000)
            })
        );
        assert_eq!(
            parse("GET", &format!("/api/v1/wafers/{H}/tiles/0/0/0.png"), ""),
            Ok(Route::Tile {
                wafer: w,
                tile: TileId { z: 0, x: 0, y: 0 },
                layer: LayerName::HardBin
            })
        );
        assert_eq!(
            parse("GET", &format!("/api/v1/wafers/{H}/prediction"), ""),
            Ok(Route::WaferPrediction(w))
        );
        assert_eq!(parse("POST", "/api/v1/predict", ""), Ok(Route::Predict));
        assert_eq!(parse("GET", "/api/v1/model", ""), Ok(Route::Model));
        assert_eq!(
            parse("GET", "/api/v1/model/12/weights", ""),
            Ok(Route::Weights(12))
        );
        assert_eq!(
            parse("PUT", "/api/v1/admin/models/2", ""),
            Ok(Route::AdminUpload(2))
        );
        assert_eq!(
            parse("POST", "/api/v1/admin/release", ""),
            Ok(Route::AdminRelease)
        );
        assert_eq!(
            parse("GET", "/api/v1/dev/metrics", ""),
            Ok(Route::DevMetrics)
        );
        assert_eq!(parse("GET", "/api/v1/health", ""), Ok(Route::Health));
    }

    #[test]
    fn paths_built_by_the_api_crate_parse_back() {
        use api::path;
        let w = WaferHash::from_hex(H).unwrap();
        let route = |p: &str, m: &str| {
            let (path, query) = p.split_once('?').unwrap_or((p, ""));
            Route::parse(m, path, query)
        };
        assert_eq!(route(path::WAFERS, "PUT"), Ok(Route::Upload));
        assert_eq!(
            route(&path::wafers_page(Some("L 1:2"), Some("c.d")), "GET"),
            Ok(Route::List {
                lot: Some("L 1:2".into()),
                cursor: Some("c.d".into())
            })
        );
        assert_eq!(route(&path::wafer(H), "GET"), Ok(Route::Wafer(w)));
        assert_eq!(route(&path::dies(H), "GET"), Ok(Route::Dies(w)));
        assert_eq!(
            route(&path::tile(H, LayerName::Test(7), 3, 2, 1), "GET"),
            Ok(Route::Tile {
                wafer: w,
                tile: TileId { z: 3, x: 2, y: 1 },
                layer: LayerName::Test(7)
            })
        );
        assert_eq!(
            route(&path::wafer_prediction(H), "GET"),
            Ok(Route::WaferPrediction(w))
        );
        assert_eq!(route(path::PREDICT, "POST"), Ok(Route::Predict));
        assert_eq!(route(path::MODEL, "GET"), Ok(Route::Model));
        assert_eq!(route(&path::weights(4), "GET"), Ok(Route::Weights(4)));
        assert_eq!(
            route(&path::admin_model(4), "PUT"),
            Ok(Route::AdminUpload(4))
        );
        assert_eq!(route(path::ADMIN_RELEASE, "POST"), Ok(Route::AdminRelease));
        assert_eq!(route(path::DEV_METRICS, "GET"), Ok(Route::DevMetrics));
        assert_eq!(route(path::HEALTH, "GET"), Ok(Route::Health));
    }

    #[test]
    fn layer_names_have_one_canonical_form() {
        let layer = |q: &str| match parse("GET", &format!("/api/v1/wafers/{H}/tiles/0/0/0.png"), q)
        {
            Ok(Route::Tile { layer, .. }) => Ok(layer.to_string()),
            Ok(r) => panic!("{r:?}"),
            Err(e) => Err(e.error),
        };
        assert_eq!(layer("layer=test:007"), Ok("test:7".into()));
        assert_eq!(layer("layer=test:7"), Ok("test:7".into()));
        assert_eq!(layer("layer=test:0000"), Ok("test:0".into()));
        assert_eq!(layer("layer=test:4294967295"), Ok("test:4294967295".into()));
        assert_eq!(layer("layer=test:4294967296"), Err("bad_layer"));
        assert_eq!(layer("layer=sbin"), Ok("sbin".into()));
    }

    #[test]
    fn bad_parameters_are_400_unknown_paths_404_wrong_methods_405() {
        let code = |m, p: &str, q| parse(m, p, q).unwrap_err();
        let tile = |t: &str| format!("/api/v1/wafers/{H}/tiles/{t}");
        for t in [
            "1/2/0.png",
            "1/0/2.png",
            "21/0/0.png",
            "a/0/0.png",
            "0/0/0",
            "0/-1/0.png",
            "0/0/+0.png",
            "99999999999/0/0.png",
            "0/0/0.png.png",
        ] {
            let e = code("GET", &tile(t), "");
            assert_eq!((e.status, e.error), (400, "bad_tile"), "{t}");
        }
        for l in [
            "layer=HBIN",
            "layer=test:",
            "layer=test:1x",
            "layer=../x",
            "layer=%ff",
        ] {
            assert_eq!(code("GET", &tile("0/0/0.png"), l).status, 400, "{l}");
        }
        for h in [
            "abc",
            &H.to_uppercase(),
            &format!("{H}0"),
            &H.replace('0', "g"),
        ] {
            assert_eq!(
                code("GET", &format!("/api/v1/wafers/{h}"), "").error,
                "bad_hash",
                "{h}"
            );
        }
        for v in ["0", "01", "-1", "x", "4294967296"] {
            assert_eq!(
                code("GET", &format!("/api/v1/model/{v}/weights"), "").error,
                "bad_version"
            );
        }
        assert_eq!(code("GET", "/api/v1/nope", "").status, 404);
        assert_eq!(code("GET", "/index.html", "").status, 404);
        assert_eq!(code("GET", "/api/v1/predict", "").status, 405);
        assert_eq!(code("DELETE", "/api/v1/wafers", "").status, 405);
        assert_eq!(code("GET", "/api/v1/admin/release", "").status, 405);
    }
}
