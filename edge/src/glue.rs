//! The Worker glue (wasm32 only): moves bytes between the runtime (R2, KV, Cache API, secrets)
//! and the pure modules of this crate. Decisions live in those modules, not here.
//!
//! Tiers, fastest first: this isolate's memory, the Cache API (per location), KV (global; for
//! predictions), then compute. Memory doubles as the in-flight map: concurrent requests for one
//! cold key join the same future, so the key is computed once per isolate.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use features::{FeatureGrid, FeatureHash};
use futures_channel::oneshot;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use model::Classifier;
use wafer::TestFile;
use wasm_bindgen::prelude::*;
use worker::{Date, Env, Request};

use crate::api::ApiError;
use crate::auth::{self, Role};
use crate::lru::ByteLru;
use crate::models::{self, ModelInfo};
use crate::ops;
use crate::predict::PredictionBody;
use crate::route::{self, LayerName, Route, TileId};
use crate::store::{self, WaferHash, WaferMeta};
use crate::{TILE_SIZE, keys, limits, tiles};

pub(crate) const BUCKET: &str = "WAFERS";
pub(crate) const KV: &str = "INDEX";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    Memory,
    Cache,
    Kv,
    Storage,
    Computed,
}

impl Tier {
    fn name(self) -> &'static str {
        match self {
            Tier::Memory => "memory",
            Tier::Cache => "cache",
            Tier::Kv => "kv",
            Tier::Storage => "r2",
            Tier::Computed => "computed",
        }
    }
    /// `X-Cache`: a hit is anything served without computing or reading primary storage.
    fn hit(self) -> bool {
        matches!(self, Tier::Memory | Tier::Cache | Tier::Kv)
    }
}

/// What followers of an in-flight key wait on: a plain channel, never the leader's future.
/// Workers bind I/O objects (bodies, streams) to the request that made them; a follower polling
/// the leader's future would touch them from its own request ("Cannot perform I/O on behalf of
/// a different request"). So the leader does all I/O in its own request and sends the result.
type Flight<T> = Shared<oneshot::Receiver<Result<T, ApiError>>>;

/// A memory tier: the keys in flight (shared futures followers wait on) and the resolved values,
/// in an LRU capped by bytes (`weigh` sizes a value).
struct Flights<T: Clone> {
    flying: HashMap<String, Flight<T>>,
    done: ByteLru<T>,
    weigh: fn(&T) -> usize,
}

impl<T: Clone + 'static> Flights<T> {
    fn new(cap_bytes: usize, weigh: fn(&T) -> usize) -> Self {
        Flights {
            flying: HashMap::new(),
            done: ByteLru::new(cap_bytes),
            weigh,
        }
    }

    fn holds(&self, key: &str) -> bool {
        self.done.contains(key)
    }

    fn retain(&mut self, keep: impl Fn(&str) -> bool) -> usize {
        self.flying.retain(|k, _| keep(k));
        self.done.retain(keep)
    }
}

fn weigh_bytes((b, _): &(Rc<Vec<u8>>, Tier)) -> usize {
    b.len()
}

/// How long a follower waits for the leader of its key before giving up with a 503: a leader
/// stuck on slow storage must not hold every follower for as long as the runtime allows.
const FOLLOWER_TIMEOUT_MS: u32 = 20_000;

/// Run `make` once per key per isolate: the first caller (the leader) runs it in its own
/// request; later callers wait for its result (at most [`FOLLOWER_TIMEOUT_MS`]), or take it at
/// once when it is already in memory. Failures are not kept, so a retry computes again; if the
/// leader's request goes away, a follower computes itself. The bool says whether the result was
/// already there (a memory hit).
async fn once<T: Clone + 'static>(
    flights: &'static std::thread::LocalKey<RefCell<Flights<T>>>,
    key: String,
    make: impl FnOnce() -> LocalBoxFuture<'static, Result<T, ApiError>>,
) -> (Result<T, ApiError>, bool) {
    if let Some(v) = flights.with(|f| f.borrow_mut().done.get(&key)) {
        return (Ok(v), true);
    }
    if let Some(f) = flights.with(|f| f.borrow().flying.get(&key).cloned()) {
        let timeout = wasm_bindgen_futures::JsFuture::from(sleep(FOLLOWER_TIMEOUT_MS));
        match futures_util::future::select(f, timeout).await {
            futures_util::future::Either::Left((Ok(out), _)) => return (out, false),
            // The leader was dropped (its client went away): lead ourselves.
            futures_util::future::Either::Left((Err(_), _)) => {}
            futures_util::future::Either::Right(_) => {
                return (
                    Err(ApiError::new(
                        503,
                        "busy",
                        format!(
                            "this answer is being computed by another request and took over \
                             {} s; retry",
                            FOLLOWER_TIMEOUT_MS / 1000
                        ),
                    )),
                    false,
                );
            }
        }
    }
    let (tx, rx) = oneshot::channel();
    flights.with(|m| m.borrow_mut().flying.insert(key.clone(), rx.shared()));
    let out = make().await;
    flights.with(|m| {
        let mut m = m.borrow_mut();
        m.flying.remove(&key);
        if let Ok(v) = &out {
            let bytes = (m.weigh)(v);
            m.done.insert(key.clone(), v.clone(), bytes);
        }
    });
    let _ = tx.send(out.clone());
    (out, false)
}

/// Counters for the dev-only metrics endpoint (per isolate).
#[derive(Default)]
struct Metrics {
    predictions: Cell<u64>,
    tiles: Cell<u64>,
    wafer_loads: Cell<u64>,
    model_loads: Cell<u64>,
    /// Bodies abandoned past their limit (without reading the rest).
    refused_bodies: Cell<u64>,
}

// Memory tiers, capped by bytes: an isolate has 128 MB, and the wasm heap never shrinks.
thread_local! {
    static PREDICTIONS: RefCell<Flights<(Rc<Vec<u8>>, Tier)>> =
        RefCell::new(Flights::new(limits::MEMORY_PREDICTION_BYTES, weigh_bytes));
    static TILES: RefCell<Flights<(Rc<Vec<u8>>, Tier)>> =
        RefCell::new(Flights::new(limits::MEMORY_TILE_BYTES, weigh_bytes));
    static WAFERS: RefCell<Flights<Rc<TestFile>>> =
        RefCell::new(Flights::new(limits::MEMORY_WAFER_BYTES, |f| store::resident_bytes(f)));
    static MODELS: RefCell<Flights<Rc<Classifier>>> =
        RefCell::new(Flights::new(limits::MEMORY_MODEL_BYTES, |_| limits::MODEL_RESIDENT_BYTES));
    static METRICS: Metrics = Metrics::default();
    /// Requests being served by this isolate, and the waitUntil promises to settle at zero.
    static ACTIVE: Cell<u32> = const { Cell::new(0) };
    static DRAIN: RefCell<Vec<js_sys::Function>> = const { RefCell::new(Vec::new()) };
}

fn bump(c: impl Fn(&Metrics) -> &Cell<u64>) {
    METRICS.with(|m| c(m).set(c(m).get() + 1));
}

pub(crate) fn count_refused_body() {
    bump(|m| &m.refused_bodies);
}

/// An answer before it becomes a `Response`.
pub(crate) struct Answer {
    status: u16,
    /// Shared with the memory tier: a hit serves the cached bytes without copying them.
    body: Rc<Vec<u8>>,
    content_type: &'static str,
    tier: Option<Tier>,
    headers: Vec<(&'static str, String)>,
}

impl Answer {
    pub(crate) fn json(status: u16, v: &impl serde::Serialize) -> Answer {
        Answer {
            status,
            body: Rc::new(serde_json::to_vec(v).unwrap_or_default()),
            content_type: "application/json",
            tier: None,
            headers: Vec::new(),
        }
    }
    fn bytes(body: impl Into<Rc<Vec<u8>>>, content_type: &'static str, tier: Tier) -> Answer {
        Answer {
            status: 200,
            body: body.into(),
            content_type,
            tier: Some(tier),
            headers: Vec::new(),
        }
    }
    pub(crate) fn header(mut self, k: &'static str, v: impl Into<String>) -> Answer {
        self.headers.push((k, v.into()));
        self
    }
}

pub(crate) fn werr(e: worker::Error) -> ApiError {
    ApiError::internal(format!("runtime: {e}"))
}

pub(crate) fn kverr(e: worker::KvError) -> ApiError {
    worker::console_error!("KV: {e}");
    crate::outage::unavailable("KV")
}

// The Worker's entry point, written out instead of `#[event(fetch)]`: the wasm-bindgen executor
// polls every request's future from whichever request's callback runs it, and workerd binds a
// Response body to the request context that creates it. A response built in Rust could belong to
// another request and fail to stream ("Cannot perform I/O on behalf of a different request", seen
// under load when followers of an in-flight key are woken by their leader). So Rust hands back
// the parts, and a `.then` registered while this request's own call is on the stack builds the
// Response in this request's context.
#[wasm_bindgen(inline_js = r#"
export function respond_in_own_context(parts) {
  return parts.then(([status, headers, body]) => new Response(body, { status, headers }));
}
"#)]
extern "C" {
    fn respond_in_own_context(parts: js_sys::Promise) -> js_sys::Promise;
}

#[wasm_bindgen]
pub fn fetch(
    req: worker::worker_sys::web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> js_sys::Promise {
    // The same executor issue for I/O: a task polled from another request's callback issues its
    // I/O in that request's context, and workerd cancels a context's I/O once its response is
    // done. So every request keeps its context alive (waitUntil) until the isolate has no
    // request in flight; the response itself is not delayed.
    ACTIVE.with(|a| a.set(a.get() + 1));
    let drained =
        js_sys::Promise::new(&mut |resolve, _| DRAIN.with_borrow_mut(|d| d.push(resolve)));
    let _ = ctx.wait_until(&drained);
    let parts = wasm_bindgen_futures::future_to_promise(async move {
        let served = serve(Request::from(req), env).await;
        if ACTIVE.with(|a| {
            a.set(a.get() - 1);
            a.get() == 0
        }) {
            for resolve in DRAIN.with_borrow_mut(std::mem::take) {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
        let (status, headers, body) = served;
        let pairs = js_sys::Array::new();
        for (k, v) in headers {
            pairs.push(&js_sys::Array::of2(&k.into(), &v.into()));
        }
        let body = match body {
            Some(b) => js_sys::Uint8Array::from(&b[..]).into(),
            None => JsValue::NULL,
        };
        Ok(js_sys::Array::of3(&status.into(), &pairs, &body).into())
    });
    respond_in_own_context(parts)
}

type Parts = (u16, Vec<(String, String)>, Option<Rc<Vec<u8>>>);

async fn serve(mut req: Request, env: Env) -> Parts {
    let t0 = Date::now().as_millis();
    let url = req.inner().url();
    let (origin, path, query) = route::split_url(&url);
    let (origin, path, query) = (origin.to_string(), path.to_string(), query.to_string());
    let cors = allowed_origin(&req, &env);
    let method = req.method().to_string();
    let answer = if method == "OPTIONS" {
        Ok(preflight(cors.is_some()))
    } else {
        match Route::parse(&method, &path, &query) {
            Ok(r) => handle(r, &mut req, &env, &origin, &query).await,
            Err(e) => Err(e),
        }
    };
    let answer = answer.unwrap_or_else(|e| {
        // The detail of an internal error goes to the log only (`ApiError::body` hides it).
        if e.status >= 500 {
            worker::console_error!("{} {path}: {e}", method);
        }
        let mut headers = Vec::new();
        if e.status == 429 {
            headers.push(("Retry-After", limits::PREDICT_RATE_PERIOD_S.to_string()));
        }
        if e.status == 503 && e.error == "busy" {
            headers.push(("Retry-After", "1".to_string()));
        }
        Answer {
            status: e.status,
            body: Rc::new(e.body().into_bytes()),
            content_type: "application/json",
            tier: None,
            headers,
        }
    });
    respond(answer, t0, cors)
}

fn respond(a: Answer, t0: u64, cors: Option<String>) -> Parts {
    let mut h: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: &str| h.push((k.to_string(), v.to_string()));
    set("Content-Type", a.content_type);
    let hit = a.tier.is_some_and(Tier::hit);
    set("X-Cache", if hit { "HIT" } else { "MISS" });
    // Workers' clock only moves across I/O, so this is I/O time; CPU time shows client-side.
    let mut timing = format!("total;dur={}", Date::now().as_millis().saturating_sub(t0));
    if let Some(t) = a.tier {
        timing.push_str(&format!(", tier;desc=\"{}\"", t.name()));
    }
    set("Server-Timing", &timing);
    set("X-Content-Type-Options", "nosniff");
    for (k, v) in &a.headers {
        set(k, v);
    }
    if !a.headers.iter().any(|(k, _)| *k == "Cache-Control") {
        set("Cache-Control", "no-store");
    }
    // Every answer may differ by Origin (CORS headers or none), immutable tiles included: a
    // shared cache must not hand one origin's answer to another.
    set("Vary", "Origin");
    if let Some(o) = cors {
        set("Access-Control-Allow-Origin", &o);
        set(
            "Access-Control-Expose-Headers",
            "X-Cache, Server-Timing, ETag, Retry-After",
        );
    }
    let body = (a.status != 304 && a.status != 204).then_some(a.body);
    (a.status, h, body)
}

/// CORS for the app's origin only (`APP_ORIGIN`); the app is normally served by this same
/// worker, so most requests are same-origin and need none.
fn allowed_origin(req: &Request, env: &Env) -> Option<String> {
    let origin = req.headers().get("Origin").ok().flatten()?;
    let allowed = env.var("APP_ORIGIN").ok()?.to_string();
    (origin == allowed).then_some(origin)
}

fn preflight(allowed: bool) -> Answer {
    let a = Answer::json(204, &());
    if !allowed {
        return a;
    }
    a.header("Access-Control-Allow-Methods", "GET, PUT, POST")
        .header(
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type, If-None-Match",
        )
        .header("Access-Control-Max-Age", "86400")
}

async fn handle(
    route: Route,
    req: &mut Request,
    env: &Env,
    origin: &str,
    query: &str,
) -> Result<Answer, ApiError> {
    match route {
        Route::Upload => ops::upload(req, env).await,
        Route::List { lot, cursor } => ops::list(env, lot, cursor).await,
        Route::Wafer(h) => Ok(Answer::json(200, &wafer_meta(env, &h).await?)),
        Route::Dies(h) => dies(env, origin, &h).await,
        Route::Tile { wafer, tile, layer } => {
            let inm = req.headers().get("If-None-Match").ok().flatten();
            tile_answer(env, origin, wafer, tile, layer, inm).await
        }
        Route::WaferPrediction(h) => {
            let meta = wafer_meta(env, &h).await?;
            let fh = meta
                .feature_hash
                .as_deref()
                .and_then(FeatureHash::from_hex)
                .ok_or_else(|| {
                    ApiError::new(422, "no_dies", "the wafer has no dies to classify")
                })?;
            prediction(env, origin, fh, GridSource::Wafer(h)).await
        }
        Route::Predict => {
            ops::check_rate(req, env).await?;
            let body = ops::read_body(req, features::SIZE * features::SIZE).await?;
            let grid = FeatureGrid::from_bytes(&body)
                .map_err(|e| ApiError::bad_request("bad_tensor", e.to_string()))?;
            prediction(env, origin, grid.hash(), GridSource::Grid(grid)).await
        }
        Route::Model => {
            let v = current_version(env).await?;
            let m = manifest(env, v).await?;
            Ok(Answer::json(200, &ModelInfo::new(&m)).header("Cache-Control", "no-cache"))
        }
        Route::Weights(v) => {
            released(env, v).await?;
            let w = r2_get(env, &keys::model_weights(v))
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no model version {v}")))?;
            Ok(Answer::bytes(w, "application/octet-stream", Tier::Storage)
                .header("Cache-Control", IMMUTABLE))
        }
        Route::AdminUpload(v) => {
            authorize(req, env, Role::Admin)?;
            ops::admin_upload(req, env, v).await
        }
        Route::AdminRelease => {
            authorize(req, env, Role::Admin)?;
            ops::release_request(req, env, origin).await
        }
        Route::DevMetrics => dev_metrics(env, origin, query).await,
        Route::Health => Ok(ops::health(env).await),
    }
}

pub(crate) fn authorize(req: &Request, env: &Env, role: Role) -> Result<(), ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    let configured = env.secret(role.secret()).ok().map(|s| s.to_string());
    auth::check(role, header.as_deref(), configured.as_deref())
}

// Bodies are read to the end inside one JS promise chain. Reading them chunk by chunk from Rust
// (workers-rs' `bytes()`) polls the stream from whichever request's task runs the shared
// wasm-bindgen executor, and under load workerd refuses: "Cannot perform I/O on behalf of a
// different request" (seen in `cargo xtask bench edge`).
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
"#)]
extern "C" {
    fn sleep(ms: u32) -> js_sys::Promise;
    fn r2_bytes(env: &JsValue, binding: &str, key: &str) -> js_sys::Promise;
    fn cache_bytes(url: &str) -> js_sys::Promise;
    fn cache_store(url: &str, bytes: &[u8], headers: &js_sys::Array) -> js_sys::Promise;
}

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

async fn wafer_meta(env: &Env, h: &WaferHash) -> Result<WaferMeta, ApiError> {
    let kv = env.kv(KV).map_err(werr)?;
    kv.get(&keys::wafer_meta(h))
        .json::<WaferMeta>()
        .await
        .map_err(kverr)?
        .ok_or_else(|| ApiError::not_found(format!("no wafer {}", h.to_hex())))
}

async fn load_wafer(env: &Env, h: WaferHash) -> Result<Rc<TestFile>, ApiError> {
    let env = env.clone();
    let (r, _) = once(&WAFERS, h.to_hex(), move || {
        async move {
            bump(|m| &m.wafer_loads);
            let packed = r2_get(&env, &keys::wafer_object(&h))
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no wafer {}", h.to_hex())))?;
            Ok(Rc::new(store::unpack(&packed)?))
        }
        .boxed_local()
    })
    .await;
    r
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

async fn cache_get(origin: &str, path: &str) -> Result<Option<Vec<u8>>, ApiError> {
    bytes_of(cache_bytes(&format!("{origin}{path}")), "Cache API").await
}

async fn dies(env: &Env, origin: &str, h: &WaferHash) -> Result<Answer, ApiError> {
    let path = keys::dies_cache(h);
    let etag = format!("\"{}\"", h.to_hex());
    let ok = |body, tier| {
        Answer::bytes(body, "application/octet-stream", tier)
            .header("Cache-Control", IMMUTABLE)
            .header("ETag", etag.clone())
    };
    if let Some(b) = cache_get(origin, &path).await? {
        return Ok(ok(b, Tier::Cache));
    }
    let b = r2_get(env, &keys::wafer_object(h))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no wafer {}", h.to_hex())))?;
    cache_put(
        origin,
        &path,
        &b,
        "application/octet-stream",
        &[("Cache-Tag", keys::wafer_tag(h)), ("ETag", etag.clone())],
    )
    .await?;
    Ok(ok(b, Tier::Storage))
}

async fn tile_answer(
    env: &Env,
    origin: &str,
    wafer: WaferHash,
    tile: TileId,
    layer: LayerName,
    if_none_match: Option<String>,
) -> Result<Answer, ApiError> {
    let path = keys::tile_cache(&wafer, &layer, tile);
    let etag = keys::tile_etag(&wafer, &layer, tile);
    let (env2, origin2, path2, etag2) =
        (env.clone(), origin.to_string(), path.clone(), etag.clone());
    let (r, resolved) = once(&TILES, path, move || {
        async move {
            if let Some(b) = cache_get(&origin2, &path2).await? {
                return Ok((Rc::new(b), Tier::Cache));
            }
            let file = load_wafer(&env2, wafer).await?;
            let png = render_tile(&file, tile, &layer)?;
            bump(|m| &m.tiles);
            cache_put(
                &origin2,
                &path2,
                &png,
                "image/png",
                &[
                    ("ETag", etag2),
                    (
                        "Cache-Tag",
                        format!("{},{}", keys::tile_tag(), keys::wafer_tag(&wafer)),
                    ),
                ],
            )
            .await?;
            Ok((Rc::new(png), Tier::Computed))
        }
        .boxed_local()
    })
    .await;
    let (png, tier) = r?;
    let tier = if resolved { Tier::Memory } else { tier };
    let mut a = Answer::bytes(png, "image/png", tier);
    if keys::etag_matches(if_none_match.as_deref(), &etag) {
        a.status = 304;
        a.body = Rc::default();
    }
    Ok(a.header("Cache-Control", IMMUTABLE).header("ETag", etag))
}

fn render_tile(file: &TestFile, t: TileId, layer: &LayerName) -> Result<Vec<u8>, ApiError> {
    let layer = paint::Layer::parse(&layer.0, file)
        .map_err(|e| ApiError::bad_request("bad_layer", e.to_string()))?;
    let w = &file.wafers[0];
    let g = paint::MapGeometry::new(w);
    tiles::check_zoom(t, tiles::max_zoom_of(&g))?;
    let colors = paint::Coloring::new(file, &w.dies, layer, &BTreeSet::new());
    let canvas = paint::raster::tile(&g, &w.dies, &colors, t.z, t.x, t.y, TILE_SIZE)
        .map_err(|e| ApiError::bad_request("bad_tile", e.to_string()))?;
    Ok(canvas.encode_png())
}

/// Where the grid of a prediction comes from on a miss.
enum GridSource {
    Grid(FeatureGrid),
    Wafer(WaferHash),
}

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

pub(crate) async fn manifest(env: &Env, v: u32) -> Result<model::Manifest, ApiError> {
    let text = r2_get(env, &keys::model_manifest(v))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no model version {v}")))?;
    serde_json::from_slice(&text).map_err(|e| ApiError::internal(format!("stored manifest: {e}")))
}

async fn classifier(env: &Env, v: u32) -> Result<Rc<Classifier>, ApiError> {
    let env = env.clone();
    let (r, _) = once(&MODELS, v.to_string(), move || {
        async move {
            bump(|m| &m.model_loads);
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
        }
        .boxed_local()
    })
    .await;
    r
}

async fn prediction(
    env: &Env,
    origin: &str,
    fh: FeatureHash,
    source: GridSource,
) -> Result<Answer, ApiError> {
    let v = current_version(env).await?;
    let key = keys::prediction_memory(v, &fh);
    let (env2, origin2) = (env.clone(), origin.to_string());
    let (r, resolved) = once(&PREDICTIONS, key, move || {
        async move {
            let path = keys::prediction_cache(v, &fh);
            if let Some(b) = cache_get(&origin2, &path).await? {
                return Ok((Rc::new(b), Tier::Cache));
            }
            let tag = [("Cache-Tag", keys::prediction_tag(v))];
            // KV (global, bounded by what uploads store) holds predictions of stored wafers
            // only: anonymous posted grids would make its key space anyone's to fill.
            let kv = match source {
                GridSource::Wafer(_) => Some(env2.kv(KV).map_err(werr)?),
                GridSource::Grid(_) => None,
            };
            let kv_key = keys::prediction_kv(v, &fh);
            // KV failing is a miss here: the model computes the answer (see outage.rs).
            if let Some(kv) = &kv
                && let Some(b) = kv.get(&kv_key).bytes().await.map_err(kverr).ok().flatten()
            {
                cache_put(&origin2, &path, &b, "application/json", &tag).await?;
                return Ok((Rc::new(b), Tier::Kv));
            }
            let grid = match source {
                GridSource::Grid(g) => g,
                GridSource::Wafer(h) => {
                    let f = load_wafer(&env2, h).await?;
                    FeatureGrid::from_dies(&f.wafers[0].dies)
                        .map_err(|e| ApiError::new(422, "no_dies", e.to_string()))?
                }
            };
            if grid.hash() != fh {
                return Err(ApiError::internal(
                    "the stored feature hash does not match the wafer",
                ));
            }
            let c = classifier(&env2, v).await?;
            let p = c
                .predict_async(&[&grid])
                .await
                .map_err(|e| ApiError::internal(format!("inference: {e}")))?;
            bump(|m| &m.predictions);
            let body = PredictionBody::new(&p[0], v, &fh).to_json();
            // Not kept in KV if KV fails: the answer is right all the same.
            if let Some(kv) = &kv
                && let Ok(put) = kv.put_bytes(&kv_key, &body).map_err(kverr)
            {
                let _ = put.execute().await.map_err(kverr);
            }
            cache_put(&origin2, &path, &body, "application/json", &tag).await?;
            Ok((Rc::new(body), Tier::Computed))
        }
        .boxed_local()
    })
    .await;
    let (body, tier) = r?;
    let tier = if resolved { Tier::Memory } else { tier };
    Ok(Answer::bytes(body, "application/json", tier))
}

/// Dev-only counters (404 unless `WAFERSCOPE_DEV=1`): how often this isolate computed, and,
/// with `?version=V&feature=HASH`, which tiers hold that prediction key.
async fn dev_metrics(env: &Env, origin: &str, query: &str) -> Result<Answer, ApiError> {
    let dev = env.var("WAFERSCOPE_DEV").map(|v| v.to_string()).ok();
    if dev.as_deref() != Some("1") {
        return Err(ApiError::not_found("no endpoint /api/v1/dev/metrics"));
    }
    let counts = METRICS.with(|m| {
        serde_json::json!({
            "predictions": m.predictions.get(),
            "tiles": m.tiles.get(),
            "wafer_loads": m.wafer_loads.get(),
            "model_loads": m.model_loads.get(),
        })
    });
    let version = route::query_param(query, "version")?.and_then(|v| v.parse::<u32>().ok());
    let feature = route::query_param(query, "feature")?.and_then(|f| FeatureHash::from_hex(&f));
    let probe = match (version, feature) {
        (Some(v), Some(fh)) => {
            let memory = PREDICTIONS.with(|p| p.borrow().holds(&keys::prediction_memory(v, &fh)));
            let cache = cache_get(origin, &keys::prediction_cache(v, &fh))
                .await?
                .is_some();
            let kv = env
                .kv(KV)
                .map_err(werr)?
                .get(&keys::prediction_kv(v, &fh))
                .bytes()
                .await
                .map_err(kverr)?
                .is_some();
            serde_json::json!({ "memory": memory, "cache": cache, "kv": kv })
        }
        _ => serde_json::Value::Null,
    };
    Ok(Answer::json(
        200,
        &serde_json::json!({
            "computes": counts,
            "probe": probe,
            "refused_bodies": METRICS.with(|m| m.refused_bodies.get()),
        }),
    ))
}

/// Drop every memory entry of a model version other than `v` (after a release); returns how
/// many predictions were dropped.
pub(crate) fn drop_other_models(v: u32) -> usize {
    let dropped = PREDICTIONS.with(|p| {
        p.borrow_mut()
            .retain(|k| keys::prediction_key_version(k) == Some(v))
    });
    MODELS.with(|m| m.borrow_mut().retain(|k| k == v.to_string()));
    dropped
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
