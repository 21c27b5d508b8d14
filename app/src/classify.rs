//! The defect-pattern classifier on WebGPU: burn's wgpu backend, on the page's main thread, on
//! the very device the map draws with.
//!
//! One device for both, because in Chromium a second adapter is not to be had once a device
//! exists. When that device is lost (a GPU reset; headless Chromium's SwiftShader loses it on the
//! map's first present) the map falls back to WebGL2 and the classifier asks for a WebGPU device
//! of its own, for compute only. Without WebGPU at all the parsing worker's CPU result (burn Flex,
//! which always runs) is the answer; it is also what shows until the GPU result arrives.
//!
//! Every read-back is asynchronous (`predict_async`): a synchronous read panics on wasm.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::backend::wgpu::{RuntimeOptions, WgpuSetup, try_init_device};
use leptos::prelude::*;

use crate::doc::Doc;
use crate::gpu::shared_webgpu;
use crate::state::{Classes, GpuModel, St, now_ms};

/// The classifier on a WebGPU device.
struct Ready {
    classifier: model::Classifier,
    /// The map's device (and lost with it) or one of its own.
    shared: Option<crate::gpu::SharedWebGpu>,
    label: String,
    model_version: u32,
}

impl Ready {
    fn lost(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.is_lost())
    }
}

thread_local! {
    static READY: RefCell<Option<Rc<Ready>>> = const { RefCell::new(None) };
    /// A classification is running; another request waits for it and then runs once more.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    /// Set-ups tried: a device that keeps failing is not retried for ever.
    static ATTEMPTS: Cell<u32> = const { Cell::new(0) };
}

const MAX_ATTEMPTS: u32 = 3;

/// A new model replaced the weights: set up again with it before the next file.
pub fn forget() {
    READY.set(None);
    ATTEMPTS.set(0);
}

/// Classify every open file on WebGPU once the weights are here.
pub fn track(st: St) {
    Effect::new(move |_| {
        let doc = st.doc.get();
        let weights = st.weights_ready.get();
        if doc.is_some() && weights {
            start(st);
        }
    });
}

fn start(st: St) {
    if RUNNING.get() {
        AGAIN.set(true);
        return;
    }
    RUNNING.set(true);
    leptos::task::spawn_local(async move {
        loop {
            AGAIN.set(false);
            if let Some(doc) = st.doc.get_untracked() {
                run(st, doc).await;
            }
            if !AGAIN.get() {
                break;
            }
        }
        RUNNING.set(false);
    });
}

async fn run(st: St, doc: Rc<Doc>) {
    let grids: Vec<Option<&features::FeatureGrid>> =
        (0..doc.file.wafers.len()).map(|i| doc.grid(i)).collect();
    if grids.iter().all(Option::is_none) {
        return;
    }
    loop {
        let Some(ready) = ready(st).await else {
            return;
        };
        match classify(&ready, &grids).await {
            Ok((wafers, single_ms, batch_ms)) => {
                // Only for the file still on screen.
                if st.doc.get_untracked().is_some_and(|d| Rc::ptr_eq(&d, &doc)) {
                    st.classes.set(Some(Rc::new(Classes {
                        wafers,
                        single_ms,
                        batch_ms,
                        backend: ready.label.clone(),
                        gpu: true,
                        model_version: ready.model_version,
                    })));
                }
                return;
            }
            Err(e) => {
                // Lost under us (the device went away mid-run): set up again and retry, a
                // bounded number of times (`ready`).
                READY.set(None);
                next_frames(3).await;
                if !ready.lost() {
                    st.gpu_model.set(GpuModel::Failed(e));
                    return;
                }
            }
        }
    }
}

type Classified = (Vec<Option<(model::Prediction, String)>>, f64, f64);

async fn classify(
    ready: &Ready,
    grids: &[Option<&features::FeatureGrid>],
) -> Result<Classified, String> {
    let present: Vec<&features::FeatureGrid> = grids.iter().flatten().copied().collect();
    // One wafer alone (what opening a wafer costs), then the whole file as one batch, each with
    // its read-back.
    let t0 = now_ms();
    ready.classifier.predict_async(&present[..1]).await?;
    let single_ms = now_ms() - t0;
    let t1 = now_ms();
    let mut predictions = ready.classifier.predict_async(&present).await?.into_iter();
    let batch_ms = now_ms() - t1;
    let wafers = grids
        .iter()
        .map(|g| Some((predictions.next()?, (*g)?.hash().to_hex())))
        .collect();
    Ok((wafers, single_ms, batch_ms))
}

/// The classifier on WebGPU, set up on first use.
async fn ready(st: St) -> Option<Rc<Ready>> {
    loop {
        if let Some(r) = READY.with_borrow(Clone::clone).filter(|r| !r.lost()) {
            return Some(r);
        }
        if ATTEMPTS.get() >= MAX_ATTEMPTS {
            return None;
        }
        // Share the map's device if it has one; else ask for one (a browser without WebGPU
        // answers no at once).
        let shared = shared_webgpu();
        if shared.is_none() && !wgpu::util::is_browser_webgpu_supported().await {
            if ATTEMPTS.get() == 0 {
                st.gpu_model.set(GpuModel::Unavailable);
            }
            return None;
        }
        ATTEMPTS.set(ATTEMPTS.get() + 1);
        st.gpu_model.set(GpuModel::Starting);
        let (manifest, weights) = crate::loader::model_files()?;
        match set_up(shared.clone(), &manifest, &weights).await {
            Ok((r, warmup_ms)) => {
                let r = Rc::new(r);
                st.gpu_model.set(GpuModel::Ready {
                    label: r.label.clone(),
                    warmup_ms,
                });
                READY.set(Some(r.clone()));
                return Some(r);
            }
            Err(e) if shared.is_some() => {
                // Most likely the map's device was lost meanwhile (headless Chromium loses it
                // on the first present); its lost callback may lag the error by a frame or
                // two. Then the next attempt gets a device of its own.
                next_frames(3).await;
                if !shared.is_some_and(|s| s.is_lost()) {
                    st.gpu_model.set(GpuModel::Failed(e));
                    return None;
                }
            }
            Err(e) => {
                st.gpu_model.set(GpuModel::Failed(e));
                return None;
            }
        }
    }
}

/// Wait `n` animation frames.
async fn next_frames(n: usize) {
    for _ in 0..n {
        let p = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.request_animation_frame(&resolve);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }
}

/// Register a WebGPU device with burn, load the weights and run a first (warm-up) inference,
/// which compiles the shaders: its time is reported apart.
async fn set_up(
    shared: Option<crate::gpu::SharedWebGpu>,
    manifest: &str,
    weights: &[u8],
) -> Result<(Ready, f64), String> {
    let (setup, label) = match &shared {
        Some(s) => (
            WgpuSetup {
                instance: s.instance.clone(),
                adapter: s.adapter.clone(),
                device: s.device.clone(),
                queue: s.queue.clone(),
                backend: wgpu::Backend::BrowserWebGpu,
            },
            format!(
                "WebGPU: burn wgpu on {} (the map's device)",
                adapter_name(&s.adapter)
            ),
        ),
        None => {
            let setup = own_device().await?;
            let label = format!(
                "WebGPU: burn wgpu on {} (a compute device of its own)",
                adapter_name(&setup.adapter)
            );
            (setup, label)
        }
    };
    let wgpu_device = setup.device.clone();
    let device = try_init_device(setup, RuntimeOptions::default())
        .map_err(|e| format!("burn could not use the WebGPU device: {e:?}"))?;
    // cubecl's handler for uncaptured errors panics, which on wasm ends the whole page, map
    // included; a validation error is worth a console line, not that. (Its lost-device
    // watch is a separate callback and stays.)
    wgpu_device.on_uncaptured_error(std::sync::Arc::new(|e| {
        web_sys::console::error_1(&format!("WebGPU error: {e}").into());
    }));
    let device = burn::tensor::Device::new(device);
    let (classifier, manifest) =
        model::Classifier::load_verified(manifest, weights, &device).map_err(|e| e.to_string())?;
    let blank = features::FeatureGrid::from_fn(8, 8, |_, _| features::Die::Pass)
        .map_err(|e| e.to_string())?;
    let t0 = now_ms();
    classifier.predict_async(&[&blank]).await?;
    let warmup_ms = now_ms() - t0;
    Ok((
        Ready {
            classifier,
            shared,
            label,
            model_version: manifest.model_version,
        },
        warmup_ms,
    ))
}

fn adapter_name(a: &wgpu::Adapter) -> String {
    let name = a.get_info().name;
    if name.is_empty() {
        "the browser's adapter".into()
    } else {
        name
    }
}

/// A WebGPU device for compute only (no canvas), when the map has none to lend.
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

/// Warm WebGPU latencies on the open file's first wafer with dies, read-back included.
pub struct GpuBench {
    /// Medians of 30 runs of one wafer, and of 10 of a batch of 25.
    pub single_ms: f64,
    pub batch25_ms: f64,
    /// The first inference (shader compilation), when the classifier is ready.
    pub warmup_ms: Option<f64>,
    pub backend: String,
}

/// Time the WebGPU classifier (setting it up first if need be), for `tests/benches/viewer.mjs`.
pub async fn bench(st: St) -> Result<GpuBench, String> {
    let doc = st.doc.get_untracked();
    let grid = doc
        .as_ref()
        .and_then(|d| (0..d.file.wafers.len()).find_map(|i| d.grid(i)).cloned());
    let (Some(r), Some(g)) = (ready(st).await, grid) else {
        return Err("no WebGPU classifier or no wafer".into());
    };
    let median = async |n: usize, batch: usize| -> Result<f64, String> {
        let grids = vec![&g; batch];
        let mut t = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = now_ms();
            r.classifier.predict_async(&grids).await?;
            t.push(now_ms() - t0);
        }
        t.sort_by(f64::total_cmp);
        Ok(t[n / 2])
    };
    let single_ms = median(30, 1).await?;
    let batch25_ms = median(10, 25).await?;
    let warmup_ms = match st.gpu_model.get_untracked() {
        GpuModel::Ready { warmup_ms, .. } => Some(warmup_ms),
        _ => None,
    };
    Ok(GpuBench {
        single_ms,
        batch25_ms,
        warmup_ms,
        backend: r.label.clone(),
    })
}
