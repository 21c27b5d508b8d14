//! The Worker's entry point (wasm32 only): takes a request from the runtime, routes it
//! ([`crate::route`]), hands it to its resource's handler (`handlers`), and gives the runtime
//! the response the policy in [`crate::answer`] made of the answer. Also the isolate's state:
//! the memory tiers ([`crate::flight`]) and the dev counters ([`crate::metrics`]).
//!
//! Decisions live in the pure modules, not here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use model::Classifier;
use wafer::TestFile;
use wasm_bindgen::prelude::*;
use worker::{Date, Env, Request};

use crate::answer::{Answer, Parts, allowed_origin};
use crate::error::ApiError;
use crate::flight::Flights;
use crate::handlers::{admin, predictions, tiles, wafers};
use crate::metrics::Metrics;
use crate::route::Route;
use crate::tiers::{self, Found};
use crate::{limits, route, store};

/// A memory tier for the isolate's lifetime (it is never dropped; workerd ends the isolate).
fn tier<T: Clone + 'static>(cap: usize, weigh: fn(&T) -> usize) -> &'static Flights<T> {
    Box::leak(Box::new(Flights::new(cap, weigh)))
}

// Memory tiers, capped by bytes: an isolate has 128 MB, and the wasm heap never shrinks.
thread_local! {
    static PREDICTIONS: &'static Flights<Found> =
        tier(limits::MEMORY_PREDICTION_BYTES, tiers::weigh);
    static TILES: &'static Flights<Found> = tier(limits::MEMORY_TILE_BYTES, tiers::weigh);
    static WAFERS: &'static Flights<Rc<TestFile>> =
        tier(limits::MEMORY_WAFER_BYTES, |f| store::resident_bytes(f));
    static MODELS: &'static Flights<Rc<Classifier>> =
        tier(limits::MEMORY_MODEL_BYTES, |_| limits::MODEL_RESIDENT_BYTES);
    static METRICS: Metrics = Metrics::default();
    /// Requests being served by this isolate, and the waitUntil promises to settle at zero.
    static ACTIVE: Cell<u32> = const { Cell::new(0) };
    static DRAIN: RefCell<Vec<js_sys::Function>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn predictions_memory() -> &'static Flights<Found> {
    PREDICTIONS.with(|f| *f)
}
pub(crate) fn tiles_memory() -> &'static Flights<Found> {
    TILES.with(|f| *f)
}
pub(crate) fn wafers_memory() -> &'static Flights<Rc<TestFile>> {
    WAFERS.with(|f| *f)
}
pub(crate) fn models_memory() -> &'static Flights<Rc<Classifier>> {
    MODELS.with(|f| *f)
}

/// Count one in a dev counter.
pub(crate) fn count(c: impl Fn(&Metrics) -> &Cell<u64>) {
    METRICS.with(|m| crate::metrics::bump(c(m)));
}

/// Read the dev counters.
pub(crate) fn with_metrics<R>(f: impl FnOnce(&Metrics) -> R) -> R {
    METRICS.with(f)
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

async fn serve(mut req: Request, env: Env) -> Parts {
    let t0 = Date::now().as_millis();
    let url = req.inner().url();
    let (origin, path, query) = route::split_url(&url);
    let (origin, path, query) = (origin.to_string(), path.to_string(), query.to_string());
    let cors = allowed_origin(
        req.headers().get("Origin").ok().flatten().as_deref(),
        env.var("APP_ORIGIN").ok().map(|v| v.to_string()).as_deref(),
    );
    let method = req.method().to_string();
    let answer = if method == "OPTIONS" {
        Ok(Answer::preflight(cors.is_some()))
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
        Answer::error(&e)
    });
    let elapsed = Date::now().as_millis().saturating_sub(t0);
    answer.into_parts(elapsed, cors.as_deref())
}

/// One handler per route, grouped by resource.
async fn handle(
    route: Route,
    req: &mut Request,
    env: &Env,
    origin: &str,
    query: &str,
) -> Result<Answer, ApiError> {
    match route {
        Route::Upload => wafers::upload(req, env).await,
        Route::List { lot, cursor } => wafers::list(env, lot, cursor).await,
        Route::Wafer(h) => Ok(Answer::json(200, &wafers::meta(env, &h).await?)),
        Route::Dies(h) => wafers::dies(env, origin, &h).await,
        Route::Tile { wafer, tile, layer } => {
            let inm = req.headers().get("If-None-Match").ok().flatten();
            tiles::tile(env, origin, wafer, tile, layer, inm).await
        }
        Route::WaferPrediction(h) => predictions::of_wafer(env, origin, h).await,
        Route::Predict => predictions::of_grid(req, env, origin).await,
        Route::Model => admin::model(env).await,
        Route::Weights(v) => admin::weights(env, v).await,
        Route::AdminUpload(v) => admin::upload(req, env, v).await,
        Route::AdminRelease => admin::release_request(req, env, origin).await,
        Route::DevMetrics => admin::dev_metrics(env, origin, query).await,
        Route::Health => Ok(admin::health(env).await),
    }
}
