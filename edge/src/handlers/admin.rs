//! Models and operations (wasm32 only): the current model and released weights, model uploads
//! and releases (admin token), the health check and the dev-only counters.

use api::ModelStored;
use features::FeatureHash;
use wasm_bindgen::prelude::*;
use worker::{Cache, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::answer::{Answer, IMMUTABLE};
use crate::auth::Role;
use crate::error::ApiError;
use crate::io::{self, BUCKET, KV, authorize, kverr, r2_get, werr};
use crate::metrics::{self, Probe};
use crate::models::{self, ReleaseRequest};
use crate::release::{self, PURGE_KEYS_PER_REQUEST, PurgeState};
use crate::tiers::Tier;
use crate::{MAX_MODEL_BYTES, glue, keys};

#[wasm_bindgen(inline_js = r#"
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
"#)]
extern "C" {
    fn form_fields(bytes: &[u8], content_type: &str, names: &js_sys::Array) -> js_sys::Promise;
    fn r2_put_if_absent(env: &JsValue, binding: &str, key: &str, bytes: &[u8]) -> js_sys::Promise;
}

/// The released model version every lookup keys with (KV), or 503 `no_model`.
pub(crate) async fn current_version(env: &Env) -> Result<u32, ApiError> {
    let kv = env.kv(KV).map_err(werr)?;
    let v = kv.get(keys::CURRENT_MODEL).text().await.map_err(kverr)?;
    v.and_then(|v| v.parse().ok()).ok_or_else(|| {
        ApiError::new(
            503,
            "no_model",
            "no model version has been released on this edge yet",
        )
    })
}

/// A stored version's manifest (R2), or 404.
async fn manifest(env: &Env, v: u32) -> Result<model::Manifest, ApiError> {
    let text = r2_get(env, &keys::model_manifest(v))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no model version {v}")))?;
    serde_json::from_slice(&text).map_err(|e| ApiError::internal(format!("stored manifest: {e}")))
}

/// `GET /api/v1/model`.
pub(crate) async fn model(env: &Env) -> Result<Answer, ApiError> {
    let v = current_version(env).await?;
    let m = manifest(env, v).await?;
    Ok(Answer::json(200, &models::info(&m)).header("Cache-Control", "no-cache"))
}

/// `GET /api/v1/model/{version}/weights`: released versions only.
pub(crate) async fn weights(env: &Env, v: u32) -> Result<Answer, ApiError> {
    released(env, v).await?;
    let w = r2_get(env, &keys::model_weights(v))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no model version {v}")))?;
    Ok(Answer::bytes(w, "application/octet-stream", Tier::Storage)
        .header("Cache-Control", IMMUTABLE))
}

/// Weights are public once their version was released (or is current, for versions released
/// before releases were recorded); an uploaded, unreleased version is 404.
async fn released(env: &Env, v: u32) -> Result<(), ApiError> {
    let kv = env.kv(KV).map_err(werr)?;
    let marked = kv
        .get(&keys::model_released(v))
        .text()
        .await
        .map_err(kverr)?
        .is_some();
    if marked || current_version(env).await.ok() == Some(v) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no released model version {v}"
        )))
    }
}

/// `PUT /api/v1/admin/models/{version}`: store an immutable model version.
pub(crate) async fn upload(req: &mut Request, env: &Env, v: u32) -> Result<Answer, ApiError> {
    authorize(req, env, Role::Admin)?;
    let body = io::read_body(req, MAX_MODEL_BYTES).await?;
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
    let answer = |status, stored| {
        let sha256 = m.sha256.clone();
        Answer::json_sorted(
            status,
            &ModelStored {
                version: v,
                sha256,
                stored,
            },
        )
    };
    let exists = |stored: &str| {
        if stored == m.sha256 {
            Ok(answer(200, false))
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
    Ok(answer(201, true))
}

/// `POST /api/v1/admin/release` (`{"version": N}`).
pub(crate) async fn release_request(
    req: &mut Request,
    env: &Env,
    origin: &str,
) -> Result<Answer, ApiError> {
    authorize(req, env, Role::Admin)?;
    let body = io::read_body(req, 1024).await?;
    let r: ReleaseRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("bad_json", format!("expected {{\"version\": N}}: {e}"))
    })?;
    // A smaller budget per request only where the Worker runs in dev mode: tests use it to stop
    // a purge part-way, as a request cut off by a limit or an error would.
    let budget = match r.purge_budget {
        Some(b) if io::dev_mode(env) => b.min(PURGE_KEYS_PER_REQUEST),
        _ => PURGE_KEYS_PER_REQUEST,
    };
    release(env, origin, r.version, budget).await
}

/// Make `v` current, then purge the predictions of every other stored version, from the saved
/// cursor on, at most `budget` keys in this request ([`PurgeState`] says which).
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
    let mut deleted = release::Deleted {
        memory: drop_other_models(v) as u64,
        ..Default::default()
    };
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
    let mut left = budget;
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
            deleted.kv += 1;
            let fh = k.name.strip_prefix(&prefix).and_then(FeatureHash::from_hex);
            if let Some(fh) = fh {
                let url = format!("{origin}{}", keys::prediction_cache(old, &fh));
                let out = cache.delete(url.as_str(), false).await.map_err(werr)?;
                if matches!(out, worker::CacheDeletionOutcome::Success) {
                    deleted.cache += 1;
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
    let (status, body) = release::answer(v, previous, &st, deleted, purge_api);
    Ok(Answer::json_sorted(status, &body))
}

/// Drop every memory entry of a model version other than `v` (after a release); returns how
/// many predictions were dropped.
fn drop_other_models(v: u32) -> usize {
    let dropped = glue::predictions_memory().retain(|k| keys::prediction_key_version(k) == Some(v));
    glue::models_memory().retain(|k| k == v.to_string());
    dropped
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
    for e in [kv.as_ref().err(), r2.as_ref().err()].into_iter().flatten() {
        worker::console_error!("health: {e}");
    }
    let r2_ok = r2.is_ok();
    let (kv_ok, model) = match kv {
        Ok(v) => (true, v.and_then(|v| v.parse::<u32>().ok())),
        Err(_) => (false, None),
    };
    let (status, body) = crate::outage::health(kv_ok, r2_ok, model);
    Answer::json_sorted(status, &body).header("Cache-Control", "no-store")
}

/// `GET /api/v1/dev/metrics[?version=V&feature=HASH]` (404 unless `WAFERSCOPE_DEV=1`).
pub(crate) async fn dev_metrics(env: &Env, origin: &str, query: &str) -> Result<Answer, ApiError> {
    if !io::dev_mode(env) {
        return Err(metrics::not_in_production());
    }
    let probe = match metrics::probe_key(query)? {
        Some((v, fh)) => Some(Probe {
            memory: glue::predictions_memory().holds(&keys::prediction_memory(v, &fh)),
            cache: io::cache_get(origin, &keys::prediction_cache(v, &fh))
                .await?
                .is_some(),
            kv: env
                .kv(KV)
                .map_err(werr)?
                .get(&keys::prediction_kv(v, &fh))
                .bytes()
                .await
                .map_err(kverr)?
                .is_some(),
        }),
        None => None,
    };
    Ok(Answer::json(200, &glue::with_metrics(|m| m.report(probe))))
}
