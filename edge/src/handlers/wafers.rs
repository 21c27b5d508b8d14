//! Stored wafers: upload, listing, metadata and the packed dies (wasm32 only); and loading a
//! stored wafer into the memory tier for tiles and predictions.

use std::rc::Rc;

use api::{UploadAnswer, UploadedWafer, WaferList};
use wafer::TestFile;
use worker::{Env, Request};

use crate::answer::{Answer, IMMUTABLE};
use crate::auth::Role;
use crate::error::ApiError;
use crate::io::{self, BUCKET, KV, Stored, authorize, kverr, r2_get, werr};
use crate::store::{self, StoredWafer, WaferHash, WaferMeta};
use crate::tiers::{self, Tier};
use crate::{MAX_UPLOAD_BYTES, cursor, glue, keys, limits};

/// `PUT /api/v1/wafers`: parse and plan the whole file, then store each wafer, index last.
pub(crate) async fn upload(req: &mut Request, env: &Env) -> Result<Answer, ApiError> {
    authorize(req, env, Role::Upload)?;
    let body = io::read_body(req, MAX_UPLOAD_BYTES).await?;
    // Parse and plan everything before storing anything: a bad file, or one whose writes would
    // not all fit, leaves no trace.
    let ingest = store::ingest(&body)?;
    drop(body);
    limits::check_upload(&ingest.wafers)?;
    let bucket = env.bucket(BUCKET).map_err(werr)?;
    let kv = env.kv(KV).map_err(werr)?;
    // Dev only: fail the index write of wafer N, as a KV error would, to test what is left.
    let fail_index = req
        .headers()
        .get("X-Waferscope-Fail-Index")
        .ok()
        .flatten()
        .filter(|_| io::dev_mode(env))
        .and_then(|n| n.parse::<usize>().ok());
    let mut results = Vec::with_capacity(ingest.wafers.len());
    for (i, w) in ingest.wafers.iter().enumerate() {
        let stored = store_wafer(&bucket, &kv, w, fail_index == Some(i)).await;
        if let Err(e) = &stored {
            worker::console_error!("upload of wafer {}: {e}", w.meta.hash);
        }
        results.push(UploadedWafer {
            meta: w.meta.clone(),
            stored: stored.is_ok(),
            error: stored.err().map(|e| e.client_detail().to_string()),
        });
    }
    // 207: some wafers are stored (and listed), the others not at all; each says which.
    let status = if results.iter().all(|r| r.stored) {
        201
    } else {
        207
    };
    let answer = UploadAnswer {
        wafers: results,
        warnings: ingest.warnings,
    };
    Ok(Answer::json_sorted(status, &answer))
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

/// `GET /api/v1/wafers[?lot=..&cursor=..]`: one page of KV's index, records as stored.
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
    let list: WaferList<serde_json::Value> = WaferList {
        wafers: page.keys.into_iter().filter_map(|k| k.metadata).collect(),
        cursor: (!page.list_complete)
            .then_some(page.cursor)
            .flatten()
            .map(|c| cursor::encode(&c)),
    };
    Ok(Answer::json_sorted(200, &list))
}

/// A stored wafer's metadata (KV), or 404.
pub(crate) async fn meta(env: &Env, h: &WaferHash) -> Result<WaferMeta, ApiError> {
    let kv = env.kv(KV).map_err(werr)?;
    kv.get(&keys::wafer_meta(h))
        .json::<WaferMeta>()
        .await
        .map_err(kverr)?
        .ok_or_else(|| ApiError::not_found(format!("no wafer {}", h.to_hex())))
}

/// `GET /api/v1/wafers/{hash}/dies`: the packed wafer, from the Cache API or R2.
pub(crate) async fn dies(env: &Env, origin: &str, h: &WaferHash) -> Result<Answer, ApiError> {
    let etag = format!("\"{}\"", h.to_hex());
    let cache = Stored::Cache {
        origin: origin.to_string(),
        path: keys::dies_cache(h),
        content_type: "application/octet-stream",
        extra: vec![("Cache-Tag", keys::wafer_tag(h)), ("ETag", etag.clone())],
    };
    let from_r2 = async {
        r2_get(env, &keys::wafer_object(h))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no wafer {}", h.to_hex())))
    };
    let (body, tier) = tiers::through(&[cache], Tier::Storage, from_r2).await?;
    Ok(Answer::bytes(body, "application/octet-stream", tier)
        .header("Cache-Control", IMMUTABLE)
        .header("ETag", etag))
}

/// A stored wafer, unpacked, once per isolate (the memory tier of wafers).
pub(crate) async fn load(env: &Env, h: WaferHash) -> Result<Rc<TestFile>, ApiError> {
    let env = env.clone();
    let make = move || async move {
        glue::count(|m| &m.wafer_loads);
        let packed = r2_get(&env, &keys::wafer_object(&h))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no wafer {}", h.to_hex())))?;
        Ok(Rc::new(store::unpack(&packed)?))
    };
    let (r, _) = glue::wafers_memory()
        .once(h.to_hex(), make, io::follower_timeout)
        .await;
    r
}
