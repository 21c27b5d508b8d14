//! The classifier worker's WebGPU backend: burn's wgpu backend on a WebGPU device of the worker's
//! own (a worker cannot borrow the map's: a device belongs to one thread).
//!
//! It answers after the CPU, for the same file; the page shows its answer instead. Every
//! read-back is asynchronous (`predict_async`): a synchronous read panics on wasm. A device that
//! fails is set up again, a bounded number of times; without WebGPU the CPU answer stands.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::backend::wgpu::{RuntimeOptions, WgpuSetup, try_init_device};

use super::{blank, now, per_wafer};
use crate::protocol::js::post_to_page;
use crate::protocol::{BenchTimes, Classified, FromWorker, GpuStatus};

type Grids = Vec<Option<features::FeatureGrid>>;

/// The classifier on a WebGPU device.
struct Ready {
    classifier: model::Classifier,
    label: String,
    model_version: u32,
    warmup_ms: f64,
}

thread_local! {
    /// The latest manifest and weights the page sent.
    static FILES: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
    static READY: RefCell<Option<Rc<Ready>>> = const { RefCell::new(None) };
    /// The latest file not yet classified here: a newer one replaces it.
    static PENDING: RefCell<Option<(u32, Grids)>> = const { RefCell::new(None) };
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// Set-ups tried: a device that keeps failing is not retried for ever.
    static ATTEMPTS: Cell<u32> = const { Cell::new(0) };
    /// The first wafer of the last file classified here, for the benchmark.
    static LAST: RefCell<Option<features::FeatureGrid>> = const { RefCell::new(None) };
}

const MAX_ATTEMPTS: u32 = 3;

/// A new model: set up again with it, from the next file on (a run in flight keeps its model).
pub fn model(manifest: String, weights: Vec<u8>) {
    FILES.set(Some((manifest, weights)));
    READY.set(None);
    ATTEMPTS.set(0);
    drain();
}

/// Classify file `seq` on WebGPU, after whatever runs now.
pub fn classify(seq: u32, grids: Grids) {
    if grids.iter().all(Option::is_none) {
        return;
    }
    PENDING.set(Some((seq, grids)));
    drain();
}

fn drain() {
    if RUNNING.get() || FILES.with_borrow(Option::is_none) {
        return;
    }
    RUNNING.set(true);
    wasm_bindgen_futures::spawn_local(async {
        while let Some((seq, grids)) = PENDING.take() {
            run(seq, grids).await;
        }
        RUNNING.set(false);
    });
}

async fn run(seq: u32, grids: Grids) {
    loop {
        let Some(ready) = ready().await else {
            return;
        };
        let present: Vec<&features::FeatureGrid> = grids.iter().flatten().collect();
        LAST.set(present.first().map(|g| (*g).clone()));
        match classify_on(&ready, &present).await {
            Ok((predictions, single_ms, batch_ms)) => {
                post_to_page(FromWorker::Classified(Classified {
                    seq,
                    wafers: per_wafer(&grids, predictions),
                    single_ms,
                    batch_ms,
                    backend: ready.label.clone(),
                    gpu: true,
                    model_version: ready.model_version,
                }));
                return;
            }
            // Lost under us (the device went away mid-run): set up again and retry, a bounded
            // number of times (`ready`).
            Err(e) => {
                READY.set(None);
                if ATTEMPTS.get() >= MAX_ATTEMPTS {
                    post_to_page(FromWorker::Gpu(GpuStatus::Failed(e)));
                    return;
                }
            }
        }
    }
}

/// One wafer alone (what opening a wafer costs), then the whole file as one batch, each with its
/// read-back.
async fn classify_on(
    ready: &Ready,
    present: &[&features::FeatureGrid],
) -> Result<(Vec<model::Prediction>, f64, f64), String> {
    let t0 = now();
    ready.classifier.predict_async(&present[..1]).await?;
    let single_ms = now() - t0;
    let t1 = now();
    let predictions = ready.classifier.predict_async(present).await?;
    Ok((predictions, single_ms, now() - t1))
}

/// The classifier on WebGPU, set up on first use; None (said to the page) when there is none.
async fn ready() -> Option<Rc<Ready>> {
    if let Some(r) = READY.with_borrow(Clone::clone) {
        return Some(r);
    }
    if ATTEMPTS.get() >= MAX_ATTEMPTS {
        return None;
    }
    if !wgpu::util::is_browser_webgpu_supported().await {
        ATTEMPTS.set(MAX_ATTEMPTS);
        post_to_page(FromWorker::Gpu(GpuStatus::Unavailable));
        return None;
    }
    ATTEMPTS.set(ATTEMPTS.get() + 1);
    post_to_page(FromWorker::Gpu(GpuStatus::Starting));
    let (manifest, weights) = FILES.with_borrow(Clone::clone)?;
    match set_up(&manifest, &weights).await {
        Ok(r) => {
            let r = Rc::new(r);
            post_to_page(FromWorker::Gpu(GpuStatus::Ready {
                label: r.label.clone(),
                warmup_ms: r.warmup_ms,
            }));
            READY.set(Some(r.clone()));
            Some(r)
        }
        Err(e) => {
            post_to_page(FromWorker::Gpu(GpuStatus::Failed(e)));
            None
        }
    }
}

/// Ask for a WebGPU device, register it with burn, load the weights and run a first (warm-up)
/// inference, which compiles the shaders: its time is reported apart.
async fn set_up(manifest: &str, weights: &[u8]) -> Result<Ready, String> {
    let setup = own_device().await?;
    let label = format!(
        "WebGPU: burn wgpu on {}, in the classifier worker",
        adapter_name(&setup.adapter)
    );
    let wgpu_device = setup.device.clone();
    let device = try_init_device(setup, RuntimeOptions::default())
        .map_err(|e| format!("burn could not use the WebGPU device: {e:?}"))?;
    // cubecl's handler for uncaptured errors panics, which on wasm ends the worker; a
    // validation error is worth a console line, not that. (Its lost-device watch is a separate
    // callback and stays.)
    wgpu_device.on_uncaptured_error(std::sync::Arc::new(|e| {
        web_sys::console::error_1(&format!("WebGPU error: {e}").into());
    }));
    let device = burn::tensor::Device::new(device);
    let (classifier, manifest) =
        model::Classifier::load_verified(manifest, weights, &device).map_err(|e| e.to_string())?;
    let blank = blank().ok_or("no warm-up grid")?;
    let t0 = now();
    classifier.predict_async(&[&blank]).await?;
    Ok(Ready {
        classifier,
        label,
        model_version: manifest.model_version,
        warmup_ms: now() - t0,
    })
}

fn adapter_name(a: &wgpu::Adapter) -> String {
    let name = a.get_info().name;
    if name.is_empty() {
        "the browser's adapter".into()
    } else {
        name
    }
}

/// A WebGPU device for compute only.
async fn own_device() -> Result<WgpuSetup, String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::BROWSER_WEBGPU,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = instance
        .request_adapter(&Default::default())
        .await
        .map_err(|e| format!("no WebGPU adapter: {e}"))?;
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("waferscope classifier"),
            required_limits: wgpu::Limits::defaults().using_resolution(adapter.limits()),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("WebGPU device: {e}"))?;
    Ok(WgpuSetup {
        instance,
        adapter,
        device,
        queue,
        backend: wgpu::Backend::BrowserWebGpu,
    })
}

/// Warm WebGPU latencies on the last file's first wafer, read-back included (medians of 30 runs
/// of one wafer and of 10 of a batch of 25), for `tests/benches/viewer.mjs`.
pub fn bench() {
    wasm_bindgen_futures::spawn_local(async {
        let answer = async {
            let g = LAST
                .with_borrow(Clone::clone)
                .ok_or("no wafer classified yet")?;
            let r = ready().await.ok_or("no WebGPU classifier")?;
            let median = async |n: usize, batch: usize| -> Result<f64, String> {
                let grids = vec![&g; batch];
                let mut t = Vec::with_capacity(n);
                for _ in 0..n {
                    let t0 = now();
                    r.classifier.predict_async(&grids).await?;
                    t.push(now() - t0);
                }
                t.sort_by(f64::total_cmp);
                Ok(t[n / 2])
            };
            Ok(BenchTimes {
                single_ms: median(30, 1).await?,
                batch25_ms: median(10, 25).await?,
                warmup_ms: Some(r.warmup_ms),
                backend: r.label.clone(),
            })
        }
        .await;
        post_to_page(FromWorker::BenchClassify(answer));
    });
}
