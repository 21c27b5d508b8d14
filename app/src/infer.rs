//! The classifier's Web Worker: labels every wafer's defect pattern off the main thread.
//!
//! It is its own wasm module, fetched when the page is first idle or after the first map,
//! whichever comes first (`classify` on the page side), so the first map never waits for burn
//! or its WebGPU kernels. Two builds of this
//! one module: `classify_cpu` (burn Flex) for browsers without WebGPU, and `classify_gpu`
//! (feature `webgpu`), which answers on the CPU first and then again on burn's wgpu backend, on a
//! WebGPU device of its own (`gpu`), whose answer the page shows instead.
//!
//! What it hears and says is `protocol`: [`ToWorker::Model`] (checked against the manifest's
//! sha256, loaded, and used from the next file on), [`ToWorker::Grids`] (a file's feature grids),
//! [`ToWorker::BenchClassify`]. Grids that arrive before a model wait for it.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, WorkerGlobalScope};

use crate::protocol::js::{from_page, post_to_page};
use crate::protocol::{BenchTimes, Classified, FromWorker, ModelInfo, ToWorker, WaferClass};

#[cfg(feature = "webgpu")]
mod gpu;

const BACKEND: &str = "CPU: burn Flex in wasm, in the classifier worker";

pub(crate) fn now() -> f64 {
    js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .performance()
        .map_or(0.0, |p| p.now())
}

/// The CPU classifier, once loaded, and the grids of the last file (classified when both exist).
struct Cpu {
    /// The classifier and its model version.
    model: Option<(model::Classifier, u32)>,
    pending: Option<(u32, Vec<Option<features::FeatureGrid>>)>,
    /// The first wafer of the last classified file, for `bench-classify`.
    last: Option<features::FeatureGrid>,
}

thread_local! {
    static CPU: RefCell<Cpu> = const { RefCell::new(Cpu { model: None, pending: None, last: None }) };
}

/// Start listening; say so, since messages posted before that are lost.
pub fn start() {
    console_error_panic_hook::set_once();
    let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The worker lives as long as the page: keep the handler alive.
    handler.forget();
    post_to_page(FromWorker::Ready);
}

fn on_message(e: MessageEvent) {
    let msg = match from_page(&e) {
        Ok(msg) => msg,
        Err(err) => {
            web_sys::console::error_1(&format!("classifier: from the page: {err}").into());
            return;
        }
    };
    match msg {
        ToWorker::Model { manifest, weights } => {
            let weights = weights.to_vec();
            model_arrived(&manifest, &weights);
            #[cfg(feature = "webgpu")]
            gpu::model(manifest, weights);
        }
        ToWorker::Grids { seq, grids } => {
            let grids = crate::protocol::grids_from_bytes(&grids.to_vec());
            #[cfg(feature = "webgpu")]
            gpu::classify(seq, grids.clone());
            CPU.with_borrow_mut(|c| c.pending = Some((seq, grids)));
            classify_pending();
        }
        ToWorker::BenchClassify { gpu: false } => bench_cpu(),
        ToWorker::BenchClassify { gpu: true } => {
            #[cfg(feature = "webgpu")]
            gpu::bench();
            #[cfg(not(feature = "webgpu"))]
            post_to_page(FromWorker::BenchClassify(Err(
                "this browser has no WebGPU: its classifier is the CPU one".into(),
            )));
        }
        ToWorker::File(_)
        | ToWorker::Lot(_)
        | ToWorker::Demo { .. }
        | ToWorker::Packed { .. }
        | ToWorker::Ask { .. }
        | ToWorker::Export { .. } => {
            web_sys::console::error_1(&"classifier: files go to the parsing worker".into());
        }
    }
}

/// Check, load and warm up the weights the page sent, then classify what waits. A model that
/// fails its check leaves the one in use.
fn model_arrived(manifest: &str, weights: &[u8]) {
    let loaded = model::Classifier::load_verified(manifest, weights, &burn::tensor::Device::flex())
        .map_err(|e| e.to_string());
    let (classifier, manifest) = match loaded {
        Ok(m) => m,
        Err(e) => {
            post_to_page(FromWorker::Model(Err(e)));
            return;
        }
    };
    // Warm-up: the first inference allocates; time it apart from the rest.
    let warmup_ms = blank().map_or(0.0, |g| {
        let t0 = now();
        let _ = classifier.predict(&[&g]);
        now() - t0
    });
    let version = manifest.model_version;
    CPU.with_borrow_mut(|c| c.model = Some((classifier, version)));
    post_to_page(FromWorker::Model(Ok(ModelInfo {
        version,
        warmup_ms,
        backend: BACKEND.into(),
    })));
    classify_pending();
}

/// A small full wafer, for warm-ups.
pub(crate) fn blank() -> Option<features::FeatureGrid> {
    features::FeatureGrid::from_fn(8, 8, |_, _| features::Die::Pass).ok()
}

/// One prediction per present grid, in order, back over the file's wafers; a missing one (never
/// expected) leaves that wafer unclassified rather than ending the worker.
pub(crate) fn per_wafer(
    grids: &[Option<features::FeatureGrid>],
    predictions: Vec<model::Prediction>,
) -> Vec<Option<WaferClass>> {
    let mut predictions = predictions.into_iter();
    grids
        .iter()
        .map(|g| {
            let g = g.as_ref()?;
            Some(WaferClass {
                probs: predictions.next()?.probabilities.to_vec(),
                hash: g.hash().to_hex(),
            })
        })
        .collect()
}

/// Classify the pending grids if the model is there; post the results.
fn classify_pending() {
    CPU.with_borrow_mut(|c| {
        let Some((model, model_version)) = &c.model else {
            return;
        };
        let Some((seq, grids)) = c.pending.take() else {
            return;
        };
        let present: Vec<&features::FeatureGrid> = grids.iter().flatten().collect();
        c.last = present.first().map(|g| (*g).clone());
        // One wafer alone (what opening a wafer costs), then the whole file as one batch.
        let t0 = now();
        let _ = present.first().map(|g| model.predict(&[g]));
        let single_ms = now() - t0;
        let t1 = now();
        let predictions = model.predict(&present);
        let batch_ms = now() - t1;
        post_to_page(FromWorker::Classified(Classified {
            seq,
            wafers: per_wafer(&grids, predictions),
            single_ms,
            batch_ms,
            backend: BACKEND.into(),
            gpu: false,
            model_version: *model_version,
        }));
    });
}

/// Warm latency of the last file's first wafer: one alone (median of 50) and a batch of 25
/// copies (median of 10), for `tests/benches/viewer.mjs`.
fn bench_cpu() {
    CPU.with_borrow(|c| {
        let (Some((model, _)), Some(g)) = (&c.model, &c.last) else {
            post_to_page(FromWorker::BenchClassify(Err(
                "no model or no wafer yet".into()
            )));
            return;
        };
        let median = |n: usize, grids: &[&features::FeatureGrid]| {
            let mut t: Vec<f64> = (0..n)
                .map(|_| {
                    let t0 = now();
                    let _ = model.predict(grids);
                    now() - t0
                })
                .collect();
            t.sort_by(f64::total_cmp);
            t[n / 2]
        };
        post_to_page(FromWorker::BenchClassify(Ok(BenchTimes {
            single_ms: median(50, &[g]),
            batch25_ms: median(10, &[g; 25]),
            warmup_ms: None,
            backend: BACKEND.into(),
        })));
    });
}
