//! The Worker's write side and checks (wasm32 only): bounded body reads, uploads, the listing,
//! model uploads and releases, the per-client rate limit and the health answer. Decisions are
//! in the pure modules (`limits`, `release`, `cursor`, `store`, `models`); this moves bytes.

use features::FeatureHash;
use wasm_bindgen::prelude::*;
use worker::{Cache, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::api::{ApiError, check_length};
use crate::auth::Role;
use crate::glue::{
    Answer, BUCKET, KV, authorize, bytes_of, count_refused_body, current_version,
    drop_other_models, kverr, manifest, r2_get, werr,
};
use crate::models::{self, ReleaseRequest};
use crate::release::{PURGE_KEYS_PER_REQUEST, PurgeState};
use crate::store::{self, StoredWafer};
use crate::{MAX_MODEL_BYTES, MAX_UPLOAD_BYTES, cursor, keys, limits};

// Bodies are read inside one JS promise chain (see glue's note on request contexts), counting
// as they come: past `limit` the stream is cancelled and null returned, so no more than the
// limit plus one chunk is ever held, whatever Content-Length says or when there is none.
#[wasm_bindgen(inline_js = r#"
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
export function form_fields(bytes, contentType, names) {
  return new Response(bytes, { headers: { 'content-type': contentType } }).formData().then((f) =>
    Promise.all(names.map((name) => {
      const v = f.get(name);
      if (v === null) return null;
      if (typeof v === 'string') return new TextEncoder().encode(v);
      return v.arrayBuffer().then((b) => new Uint8Array(b));
    })));
}
export function r2_put_if_absent(env, binding, key, bytes) {
  return env[binding].put(key, bytes, { onlyIf: new Headers({ 'if-none-match': '*' }) })
    .then((o) => o !== null);
}
export function rate_limit(env, binding, key) {
  const b = env[binding];
  if (!b || typeof b.limit !== 'function') return Promise.resolve(null);
  return b.limit({ key }).then((o) => !!o.success);
}
"#)]
extern "C" {
    fn read_limited(req: &JsValue, limit: f64) -> js_sys::Promise;
    fn form_fields(bytes: &[u8], content_type: &str, names: &js_sys::Array) -> js_sys::Promise;
    fn r2_put_if_absent(env: &JsValue, binding: &str, key: &str, bytes: &[u8]) -> js_sys::Promise;
    fn rate_limit(env: &JsValue, binding: &str, key: &str) -> js_sys::Promise;
}

/// The `[[ratelimits]]` binding for anonymous predictions.
const PREDICT_LIMITER: &str = "PREDICT_LIMITER";

/// Read a body of at most `limit` bytes: a declared length over it is refused before reading,
/// and the stream itself is counted and abandoned at `limit + 1`.
pub(crate) async fn read_body(req: &Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req.headers().get("Content-Length").ok().flatten();
    check_length(declared.as_deref(), limit)?;
    let body = bytes_of(read_limited(req.inner(), limit as f64), "request body").await?;
    body.ok_or_else(|| {
        count_refused_body();
        ApiError::too_large(limit)
    })
}

/// 429 when this client made too many anonymous predictions (the binding counts per key).
pub(crate) async fn check_rate(req: &Request, env: &Env) -> Result<(), ApiError> {
    let ip = req.headers().get("CF-Connecting-IP").ok().flatten();
    let key = limits::client_key(ip.as_deref());
    let out = wasm_bindgen_futures::JsFuture::from(rate_limit(env, PREDICT_LIMITER, &key))
        .await
        .map_err(|e| ApiError::internal(format!("rate limiter: {e:?}")))?;
    match out.as_bool() {
        Some(true) => Ok(()),
        Some(false) => Err(limits::rate_limited()),
        None => {
            // A deployment without the binding: serve, and say so where operators look.
            worker::console_error!(
                "no {PREDICT_LIMITER} binding: predictions are not rate-limited"
            );
            Ok(())
        }
    }
}

pub(crate) async fn upload(req: &mut Request, env: &Env) -> Result<Answer, ApiError> {
    authorize(req, env, Role::Upload)?;
    let body = read_body(req, MAX_UPLOAD_BYTES).await?;
    // Parse and plan everything before storing anything: a bad file, or one whose writes would
    // not all fit, leaves no trace.
    let ingest = store::ingest(&body)?;
    drop(body);
    limits::check_upload(&ingest.wafers)?;
    let bucket = env.bucket(BUCKET).map_err(werr)?;
    let kv = env.kv(KV).map_err(werr)?;
    // Dev only: fail the index write of wafer N, as a KV error would, to test what is left.
    let dev = env.var("WAFERSCOPE_DEV").map(|v| v.to_string()).ok();
    let fail_index = req
        .headers()
        .get("X-Waferscope-Fail-Index")
        .ok()
        .flatten()
        .filter(|_| dev.as_deref() == Some("1"))
        .and_then(|n| n.parse::<usize>().ok());
    let mut results = Vec::with_capacity(ingest.wafers.len());
    let mut failed = 0;
    for (i, w) in ingest.wafers.iter().enumerate() {
        let mut r = serde_json::to_value(&w.meta).unwrap_or_default();
        match store_wafer(&bucket, &kv, w, fail_index == Some(i)).await {
            Ok(()) => r["stored"] = true.into(),
            Err(e) => {
                worker::console_error!("upload of wafer {}: {e}", w.meta.hash);
                failed += 1;
                r["stored"] = false.into();
                r["error"] = serde_json::from_str::<serde_json::Value>(&e.body())
                    .unwrap_or_default()["detail"]
                    .clone();
            }
        }
        results.push(r);
    }
    // 207: some wafers are stored (and listed), the others not at all; each says which.
    Ok(Answer::json(
        if failed == 0 { 201 } else { 207 },
        &serde_json::json!({ "wafers": results, "warnings": ingest.warnings }),
    ))
}

/// One wafer's writes, the index last: a wafer is listed only once its data and metadata are
/// stored, and when listing fails its metadata is taken back, so no wafer is stored but
/// unlisted. (An R2 object left by a failure is unreachable and the same upload rewrites it.)
async fn store_wafer(
    bucket: &worker::Bucket,
    kv: &worker::kv::KvStore,
    w: &StoredWafer,
    fail_index: bool,
) -> Result<(), ApiError> {
    bucket
        .put(keys::wafer_object(&w.hash), w.packed.clone())
        .execute()
        .await
        .map_err(werr)?;
    let meta = serde_json::to_string(&w.meta).map_err(|e| ApiError::internal(e.to_string()))?;
    let meta_key = keys::wafer_meta(&w.hash);
    kv.put(&meta_key, meta)
        .map_err(kverr)?
        .execute()
        .await
        .map_err(kverr)?;
    let listed = async {
        if fail_index {
            return Err(ApiError::internal("injected index failure (dev)"));
        }
        kv.put(&keys::lot_entry(&w.meta.lot, &w.hash), "")
            .map_err(kverr)?
            .metadata(&w.meta)
            .map_err(kverr)?
            .execute()
            .await
            .map_err(kverr)
    }
    .await;
    if listed.is_err() {
        let _ = kv.delete(&meta_key).await;
    }
    listed
}

pub(crate) async fn list(
    env: &Env,
    lot: Option<String>,
    cursor: Option<String>,
) -> Result<Answer, ApiError> {
    let kv_cursor = cursor.as_deref().map(cursor::decode).transpose()?;
    let kv = env.kv(KV).map_err(werr)?;
    let mut l = kv
        .list()
        .prefix(keys::lot_prefix(lot.as_deref()))
        .limit(1000);
    let had_cursor = kv_cursor.is_some();
    if let Some(c) = kv_cursor {
        l = l.cursor(c);
    }
    let page = l.execute().await.map_err(|e| {
        // A cursor we issued that KV no longer takes (expired) is the client's to redo.
        if had_cursor {
            worker::console_error!("list with a cursor: {e}");
            ApiError::bad_request("bad_cursor", "the cursor has expired; list from the start")
        } else {
            kverr(e)
        }
    })?;
    let wafers: Vec<serde_json::Value> = page.keys.into_iter().filter_map(|k| k.metadata).collect();
    let next = (!page.list_complete)
        .then_some(page.cursor)
        .flatten()
        .map(|c| cursor::encode(&c));
    Ok(Answer::json(
        200,
        &serde_json::json!({ "wafers": wafers, "cursor": next }),
    ))
}

pub(crate) async fn admin_upload(req: &mut Request, env: &Env, v: u32) -> Result<Answer, ApiError> {
    let body = read_body(req, MAX_MODEL_BYTES).await?;
    let content_type = req
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let bad_form =
        || ApiError::bad_request("bad_form", "expected multipart fields manifest and weights");
    let names = js_sys::Array::of2(&"manifest".into(), &"weights".into());
    let fields = wasm_bindgen_futures::JsFuture::from(form_fields(&body, &content_type, &names))
        .await
        .map_err(|_| bad_form())?;
    let fields = js_sys::Array::from(&fields);
    let field = |i: u32| {
        let v = fields.get(i);
        (!v.is_null() && !v.is_undefined()).then(|| js_sys::Uint8Array::new(&v).to_vec())
    };
    let (Some(manifest_bytes), Some(weights)) = (field(0), field(1)) else {
        return Err(bad_form());
    };
    let text = String::from_utf8(manifest_bytes)
        .map_err(|_| ApiError::new(422, "bad_model", "manifest.json is not UTF-8"))?;
    let m = models::validate(v, &text, &weights)?;
    let exists = |stored: &str| {
        if stored == m.sha256 {
            Ok(Answer::json(
                200,
                &serde_json::json!({ "version": v, "sha256": m.sha256, "stored": false }),
            ))
        } else {
            Err(ApiError::new(
                409,
                "version_exists",
                format!("model version {v} exists with other weights; versions are immutable"),
            ))
        }
    };
    // Versions stored before claims existed have a manifest and no claim.
    if let Ok(existing) = manifest(env, v).await {
        return exists(&existing.sha256);
    }
    // Versions are immutable: the first upload claims the version with its sha256 (put-if-absent),
    // so a racing upload of other weights is 409 and can never overwrite half of this one.
    let claimed = wasm_bindgen_futures::JsFuture::from(r2_put_if_absent(
        env,
        BUCKET,
        &keys::model_claim(v),
        m.sha256.as_bytes(),
    ))
    .await
    .map_err(|e| ApiError::internal(format!("R2 claim: {e:?}")))?;
    if !claimed.as_bool().unwrap_or(false) {
        let owner = r2_get(env, &keys::model_claim(v))
            .await?
            .unwrap_or_default();
        if owner != m.sha256.as_bytes() {
            return exists(&String::from_utf8_lossy(&owner));
        }
        if manifest(env, v).await.is_ok() {
            return exists(&m.sha256);
        }
        // Claimed with these weights but unfinished (an earlier try died): finish it.
    }
    let bucket = env.bucket(BUCKET).map_err(werr)?;
    bucket
        .put(keys::model_weights(v), weights)
        .execute()
        .await
        .map_err(werr)?;
    // The manifest last: its presence marks a complete version.
    bucket
        .put(keys::model_manifest(v), text.into_bytes())
        .execute()
        .await
        .map_err(werr)?;
    Ok(Answer::json(
        201,
        &serde_json::json!({ "version": v, "sha256": m.sha256, "stored": true }),
    ))
}

pub(crate) async fn release_request(
    req: &mut Request,
    env: &Env,
    origin: &str,
) -> Result<Answer, ApiError> {
    let body = read_body(req, 1024).await?;
    let r: ReleaseRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("bad_json", format!("expected {{\"version\": N}}: {e}"))
    })?;
    // A smaller budget per request only where the Worker runs in dev mode: tests use it to stop
    // a purge part-way, as a request cut off by a limit or an error would.
    let dev = env.var("WAFERSCOPE_DEV").map(|v| v.to_string()).ok();
    let budget = match (dev.as_deref(), r.purge_budget) {
        (Some("1"), Some(b)) => b.min(PURGE_KEYS_PER_REQUEST),
        _ => PURGE_KEYS_PER_REQUEST,
    };
    release(env, origin, r.version, budget).await
}

/// Make `v` current, then purge the predictions of every other stored version, from the saved
/// cursor on, at most `budget` keys in this request. 200 when the purge is complete, 202 when
/// more is left (release `v` again to continue).
async fn release(env: &Env, origin: &str, v: u32, budget: u32) -> Result<Answer, ApiError> {
    manifest(env, v).await?;
    let kv = env.kv(KV).map_err(werr)?;
    let previous = current_version(env).await.ok();
    if previous != Some(v) {
        // Weights become public before the version is current.
        kv.put(&keys::model_released(v), "1")
            .map_err(kverr)?
            .execute()
            .await
            .map_err(kverr)?;
        kv.put(keys::CURRENT_MODEL, v.to_string())
            .map_err(kverr)?
            .execute()
            .await
            .map_err(kverr)?;
    }
    // From here every lookup builds keys with `v`: nothing of another version is reachable.
    let memory_dropped = drop_other_models(v);
    let saved = kv
        .get(keys::PURGE_STATE)
        .json::<PurgeState>()
        .await
        .unwrap_or_else(|e| {
            worker::console_error!("purge state unreadable, starting afresh: {e}");
            None
        });
    let mut st = PurgeState::for_release(v, &stored_versions(env).await?, saved);
    let cache = Cache::default();
    let (mut left, mut kv_deleted, mut cache_deleted) = (budget, 0u64, 0u64);
    let mut purge_api = Vec::new();
    // A bound on pages too, so empty pages (eventually consistent lists) cannot spin.
    let mut pages = 0;
    while let Some((old, limit)) = st.next_page(left).filter(|_| pages < 32) {
        pages += 1;
        let prefix = keys::prediction_kv_prefix(old);
        let mut list = kv.list().prefix(prefix.clone()).limit(limit as u64);
        if let Some(c) = st.cursor.clone() {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(kverr)?;
        for k in &page.keys {
            kv.delete(&k.name).await.map_err(kverr)?;
            kv_deleted += 1;
            let fh = k.name.strip_prefix(&prefix).and_then(FeatureHash::from_hex);
            if let Some(fh) = fh {
                let url = format!("{origin}{}", keys::prediction_cache(old, &fh));
                let out = cache.delete(url.as_str(), false).await.map_err(werr)?;
                if matches!(out, worker::CacheDeletionOutcome::Success) {
                    cache_deleted += 1;
                }
            }
        }
        let n = page.keys.len() as u32;
        left = left.saturating_sub(n);
        let next = page.cursor.filter(|_| !page.list_complete);
        if let Some(done) = st.page_done(n, next) {
            purge_api.push(purge_by_tag(env, &keys::prediction_tag(done)).await);
        }
        // Saved after every page: a request that dies later resumes here.
        kv.put(
            keys::PURGE_STATE,
            serde_json::to_string(&st).unwrap_or_default(),
        )
        .map_err(kverr)?
        .execute()
        .await
        .map_err(kverr)?;
    }
    if purge_api.is_empty() {
        purge_api.push(if st.complete() {
            "nothing left to purge".into()
        } else {
            "after the purge completes".into()
        });
    }
    Ok(Answer::json(
        if st.complete() { 200 } else { 202 },
        &serde_json::json!({
            "current": v,
            "previous": previous,
            "invalidated": {
                "model_version": previous.filter(|p| *p != v),
                "by_version": format!("every prediction lookup now uses model version {v}'s keys"),
                "kv_deleted": kv_deleted,
                "cache_deleted": cache_deleted,
                "memory_dropped": memory_dropped,
                "purge_api": purge_api.join("; "),
            },
            "purge": {
                "complete": st.complete(),
                "pending_versions": st.pending,
                "purged_versions": st.done,
                "deleted_by_this_release": st.deleted,
                "next": if st.complete() { "nothing" } else { "release the same version again to continue" },
            }
        }),
    ))
}

/// Every model version with objects in R2 (`models/{v}/`).
async fn stored_versions(env: &Env) -> Result<Vec<u32>, ApiError> {
    let bucket = env.bucket(BUCKET).map_err(werr)?;
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut l = bucket.list().prefix(keys::MODELS_PREFIX).delimiter("/");
        if let Some(c) = cursor.take() {
            l = l.cursor(c);
        }
        let page = l.execute().await.map_err(werr)?;
        out.extend(
            page.delimited_prefixes()
                .iter()
                .filter_map(|p| keys::model_prefix_version(p)),
        );
        match page.cursor().filter(|_| page.truncated()) {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Cloudflare's purge-by-tag, when an API token and zone are configured. Never echoes them.
async fn purge_by_tag(env: &Env, tag: &str) -> String {
    let (Ok(token), Ok(zone)) = (env.secret("CF_API_TOKEN"), env.secret("CF_ZONE_ID")) else {
        return "not configured (set CF_API_TOKEN and CF_ZONE_ID)".into();
    };
    let url = format!(
        "https://api.cloudflare.com/client/v4/zones/{}/purge_cache",
        zone
    );
    let h = Headers::new();
    let _ = h.set("Authorization", &format!("Bearer {token}"));
    let _ = h.set("Content-Type", "application/json");
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(h)
        .with_body(Some(
            serde_json::json!({ "tags": [tag] }).to_string().into(),
        ));
    let sent = match Request::new_with_init(&url, &init) {
        Ok(r) => Fetch::Request(r).send().await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(r) if r.status_code() == 200 => format!("purged tag {tag}"),
        Ok(r) => format!("purge API answered {}", r.status_code()),
        Err(_) => "purge API unreachable".into(),
    }
}

/// `GET /api/v1/health`: whether KV and R2 answer (a read each), 200 or 503.
pub(crate) async fn health(env: &Env) -> Answer {
    let kv = match env.kv(KV) {
        Ok(kv) => kv.get(keys::CURRENT_MODEL).text().await.map_err(kverr),
        Err(e) => Err(werr(e)),
    };
    let r2 = match env.bucket(BUCKET) {
        Ok(b) => b.head("health").await.map(|_| ()).map_err(werr),
        Err(e) => Err(werr(e)),
    };
    let word = |ok: bool| if ok { "ok" } else { "error" };
    for e in [kv.as_ref().err(), r2.as_ref().err()].into_iter().flatten() {
        worker::console_error!("health: {e}");
    }
    let (kv_ok, r2_ok) = (kv.is_ok(), r2.is_ok());
    let ok = kv_ok && r2_ok;
    let model = kv.ok().flatten().and_then(|v| v.parse::<u32>().ok());
    let mut body = serde_json::json!({
        "status": if ok { "ok" } else { "degraded" },
        "worker": "ok",
        "kv": word(kv_ok),
        "r2": word(r2_ok),
        "model_version": model,
    });
    if !ok {
        body["error"] = "unhealthy".into();
        body["detail"] = "a storage binding did not answer; see the Worker's log".into();
    }
    Answer::json(if ok { 200 } else { 503 }, &body).header("Cache-Control", "no-store")
}
