//! Predictions (wasm32 only): of a stored wafer (`GET /api/v1/wafers/{hash}/prediction`) and of
//! a posted 64x64 feature grid (`POST /api/v1/predict`, rate-limited per client), through the
//! tiers: memory, Cache API, KV (stored wafers only: anonymous posted grids would make KV's key
//! space anyone's to fill), then the classifier.

use std::rc::Rc;

use features::{FeatureGrid, FeatureHash};
use model::Classifier;
use wasm_bindgen::prelude::*;
use worker::{Env, Request};

use super::admin::current_version;
use crate::answer::Answer;
use crate::error::ApiError;
use crate::io::{self, KV, Stored, r2_get, werr};
use crate::store::WaferHash;
use crate::{glue, keys, limits, models, predict, tiers};

#[wasm_bindgen(inline_js = r#"
export function rate_limit(env, binding, key) {
  const b = env[binding];
  if (!b || typeof b.limit !== 'function') return Promise.resolve(null);
  return b.limit({ key }).then((o) => !!o.success);
}
"#)]
extern "C" {
    fn rate_limit(env: &JsValue, binding: &str, key: &str) -> js_sys::Promise;
}

/// The `[[ratelimits]]` binding for anonymous predictions.
const PREDICT_LIMITER: &str = "PREDICT_LIMITER";

/// Where the grid of a prediction comes from on a miss.
enum GridSource {
    Grid(FeatureGrid),
    Wafer(WaferHash),
}

/// `GET /api/v1/wafers/{hash}/prediction`.
pub(crate) async fn of_wafer(env: &Env, origin: &str, h: WaferHash) -> Result<Answer, ApiError> {
    let meta = super::wafers::meta(env, &h).await?;
    let fh = meta
        .feature_hash
        .as_deref()
        .and_then(FeatureHash::from_hex)
        .ok_or_else(|| ApiError::new(422, "no_dies", "the wafer has no dies to classify"))?;
    let mut answer = prediction(env, origin, fh, GridSource::Wafer(h)).await?;
    if meta.dies < model::MIN_DIES {
        answer.body = predict::too_few_dies(answer.body.to_vec(), meta.dies).into();
    }
    Ok(answer)
}

/// `POST /api/v1/predict` (a body of exactly 4,096 bytes).
pub(crate) async fn of_grid(req: &Request, env: &Env, origin: &str) -> Result<Answer, ApiError> {
    check_rate(req, env).await?;
    let body = io::read_body(req, features::SIZE * features::SIZE).await?;
    let grid = FeatureGrid::from_bytes(&body)
        .map_err(|e| ApiError::bad_request("bad_tensor", e.to_string()))?;
    prediction(env, origin, grid.hash(), GridSource::Grid(grid)).await
}

/// 429 when this client made too many anonymous predictions (the binding counts per key).
async fn check_rate(req: &Request, env: &Env) -> Result<(), ApiError> {
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

async fn prediction(
    env: &Env,
    origin: &str,
    fh: FeatureHash,
    source: GridSource,
) -> Result<Answer, ApiError> {
    let v = current_version(env).await?;
    let mut stores = vec![Stored::Cache {
        origin: origin.to_string(),
        path: keys::prediction_cache(v, &fh),
        content_type: "application/json",
        extra: vec![("Cache-Tag", keys::prediction_tag(v))],
    }];
    if let GridSource::Wafer(_) = source {
        stores.push(Stored::Kv {
            kv: env.kv(KV).map_err(werr)?,
            key: keys::prediction_kv(v, &fh),
        });
    }
    let env = env.clone();
    let compute = async move {
        let grid = match source {
            GridSource::Grid(g) => g,
            GridSource::Wafer(h) => {
                let f = super::wafers::load(&env, h).await?;
                FeatureGrid::from_dies(&f.wafers[0].dies)
                    .map_err(|e| ApiError::new(422, "no_dies", e.to_string()))?
            }
        };
        if grid.hash() != fh {
            return Err(ApiError::internal(
                "the stored feature hash does not match the wafer",
            ));
        }
        let c = classifier(&env, v).await?;
        let p = c
            .predict_async(&[&grid])
            .await
            .map_err(|e| ApiError::internal(format!("inference: {e}")))?;
        glue::count(|m| &m.predictions);
        Ok(predict::body_json(&p[0], v, &grid))
    };
    let memory = glue::predictions_memory();
    let key = keys::prediction_memory(v, &fh);
    let (body, tier) = tiers::lookup(memory, key, stores, compute, io::follower_timeout).await?;
    Ok(Answer::bytes(body, "application/json", tier))
}

/// Model version `v`, loaded once per isolate (the memory tier of models).
async fn classifier(env: &Env, v: u32) -> Result<Rc<Classifier>, ApiError> {
    let env = env.clone();
    let make = move || async move {
        glue::count(|m| &m.model_loads);
        let not_found = || ApiError::internal(format!("model version {v} is incomplete in R2"));
        let m = r2_get(&env, &keys::model_manifest(v))
            .await?
            .ok_or_else(not_found)?;
        let w = r2_get(&env, &keys::model_weights(v))
            .await?
            .ok_or_else(not_found)?;
        let m = String::from_utf8(m).map_err(|_| not_found())?;
        let (c, _) = models::load(&m, &w)?;
        Ok(Rc::new(c))
    };
    let (r, _) = glue::models_memory()
        .once(v.to_string(), make, io::follower_timeout)
        .await;
    r
}
