//! The runtime's storage, as the handlers use it (wasm32 only): R2 and Cache API reads, Cache
//! API writes, bounded request bodies, the follower's timer, tokens, and [`Stored`], the Cache
//! API and KV as tiers of [`crate::tiers`]. Bytes in, bytes out; no decisions.
//!
//! Bodies are read to the end inside one JS promise chain. Reading them chunk by chunk from
//! Rust (workers-rs' `bytes()`) polls the stream from whichever request's task runs the shared
//! wasm-bindgen executor, and under load workerd refuses: "Cannot perform I/O on behalf of a
//! different request" (seen in `cargo xtask bench edge`). Cache entries are built and stored in
//! one JS call for the same reason.

use std::future::Future;

use futures_util::FutureExt;
use wasm_bindgen::prelude::*;
use worker::{Env, Request};

use crate::answer::IMMUTABLE;
use crate::auth::{self, Role};
use crate::error::{ApiError, check_length};
use crate::flight::FOLLOWER_TIMEOUT_MS;
use crate::tiers::{Store, Tier};

/// The R2 bucket of wafers and models.
pub(crate) const BUCKET: &str = "WAFERS";
/// The KV namespace of metadata, listings, model versions and predictions.
pub(crate) const KV: &str = "INDEX";

// `read_limited` counts a body as it comes: past `limit` the stream is cancelled and null
// returned, so no more than the limit plus one chunk is ever held, whatever Content-Length says
// or when there is none.
#[wasm_bindgen(inline_js = r#"
export function r2_bytes(env, binding, key) {
  return env[binding].get(key).then((o) => (o === null ? null : o.arrayBuffer()));
}
export function cache_store(url, bytes, headers) {
  return caches.default.put(url, new Response(bytes, { headers }));
}
export function cache_bytes(url) {
  return caches.default.match(url).then((r) => (r === undefined ? null : r.arrayBuffer()));
}
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
export function read_limited(req, limit) {
  const body = req.body;
  if (body === null) return Promise.resolve(new Uint8Array(0));
  const reader = body.getReader();
  const chunks = [];
  let n = 0;
  const next = () => reader.read().then(({ done, value }) => {
    if (done) {
      const out = new Uint8Array(n);
      let at = 0;
      for (const c of chunks) { out.set(c, at); at += c.byteLength; }
      return out;
    }
    n += value.byteLength;
    if (n > limit) return reader.cancel().then(() => null, () => null);
    chunks.push(value);
    return next();
  });
  return next();
}
"#)]
extern "C" {
    fn sleep(ms: u32) -> js_sys::Promise;
    fn r2_bytes(env: &JsValue, binding: &str, key: &str) -> js_sys::Promise;
    fn cache_bytes(url: &str) -> js_sys::Promise;
    fn cache_store(url: &str, bytes: &[u8], headers: &js_sys::Array) -> js_sys::Promise;
    fn read_limited(req: &JsValue, limit: f64) -> js_sys::Promise;
}

pub(crate) fn werr(e: worker::Error) -> ApiError {
    ApiError::internal(format!("runtime: {e}"))
}

pub(crate) fn kverr(e: worker::KvError) -> ApiError {
    worker::console_error!("KV: {e}");
    crate::outage::unavailable("KV")
}

/// The bytes a JS promise resolves to (null: none); a rejection is `what` being unavailable.
pub(crate) async fn bytes_of(p: js_sys::Promise, what: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let v = wasm_bindgen_futures::JsFuture::from(p).await.map_err(|e| {
        worker::console_error!("{what}: {e:?}");
        crate::outage::unavailable(what)
    })?;
    Ok((!v.is_null() && !v.is_undefined()).then(|| js_sys::Uint8Array::new(&v).to_vec()))
}

pub(crate) async fn r2_get(env: &Env, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
    bytes_of(r2_bytes(env, BUCKET, key), "R2").await
}

/// What a follower of an in-flight key waits for before giving up ([`crate::flight`]).
pub(crate) fn follower_timeout() -> impl Future<Output = ()> {
    wasm_bindgen_futures::JsFuture::from(sleep(FOLLOWER_TIMEOUT_MS)).map(|_| ())
}

/// Read a body of at most `limit` bytes: a declared length over it is refused before reading,
/// and the stream itself is counted and abandoned at `limit + 1`.
pub(crate) async fn read_body(req: &Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req.headers().get("Content-Length").ok().flatten();
    check_length(declared.as_deref(), limit)?;
    let body = bytes_of(read_limited(req.inner(), limit as f64), "request body").await?;
    body.ok_or_else(|| {
        crate::glue::count(|m| &m.refused_bodies);
        ApiError::too_large(limit)
    })
}

pub(crate) fn authorize(req: &Request, env: &Env, role: Role) -> Result<(), ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    let configured = env.secret(role.secret()).ok().map(|s| s.to_string());
    auth::check(role, header.as_deref(), configured.as_deref())
}

/// Whether the Worker runs with `WAFERSCOPE_DEV=1` ([`crate::metrics::dev_mode`]).
pub(crate) fn dev_mode(env: &Env) -> bool {
    let var = env.var("WAFERSCOPE_DEV").map(|v| v.to_string()).ok();
    crate::metrics::dev_mode(var.as_deref())
}

/// One key in the Cache API or KV, as a tier of [`crate::tiers`].
pub(crate) enum Stored {
    /// `path` on this `origin` (the zone's cache), stored with `content_type`, an immutable
    /// Cache-Control and `extra` headers (ETag, Cache-Tag). Its failures answer.
    Cache {
        origin: String,
        path: String,
        content_type: &'static str,
        extra: Vec<(&'static str, String)>,
    },
    /// `key` in KV; it only speeds things up, so its failures are skipped.
    Kv {
        kv: worker::kv::KvStore,
        key: String,
    },
}

impl Store for Stored {
    fn tier(&self) -> Tier {
        match self {
            Stored::Cache { .. } => Tier::Cache,
            Stored::Kv { .. } => Tier::Kv,
        }
    }

    fn skippable(&self) -> bool {
        matches!(self, Stored::Kv { .. })
    }

    async fn get(&self) -> Result<Option<Vec<u8>>, ApiError> {
        match self {
            Stored::Cache { origin, path, .. } => cache_get(origin, path).await,
            Stored::Kv { kv, key } => kv.get(key).bytes().await.map_err(kverr),
        }
    }

    async fn put(&self, body: &[u8]) -> Result<(), ApiError> {
        match self {
            Stored::Cache {
                origin,
                path,
                content_type,
                extra,
            } => cache_put(origin, path, body, content_type, extra).await,
            Stored::Kv { kv, key } => kv
                .put_bytes(key, body)
                .map_err(kverr)?
                .execute()
                .await
                .map_err(kverr),
        }
    }
}

/// A response body to keep in the Cache API under `path` on this origin.
async fn cache_put(
    origin: &str,
    path: &str,
    body: &[u8],
    content_type: &str,
    extra: &[(&str, String)],
) -> Result<(), ApiError> {
    let pairs = js_sys::Array::new();
    let set = |k: &str, v: &str| pairs.push(&js_sys::Array::of2(&k.into(), &v.into()));
    set("Content-Type", content_type);
    set("Cache-Control", IMMUTABLE);
    for (k, v) in extra {
        set(k, v);
    }
    wasm_bindgen_futures::JsFuture::from(cache_store(&format!("{origin}{path}"), body, &pairs))
        .await
        .map(|_| ())
        .map_err(|e| ApiError::internal(format!("Cache API put: {e:?}")))
}

pub(crate) async fn cache_get(origin: &str, path: &str) -> Result<Option<Vec<u8>>, ApiError> {
    bytes_of(cache_bytes(&format!("{origin}{path}")), "Cache API").await
}
