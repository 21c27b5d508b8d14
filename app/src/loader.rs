//! Hands files to the parsing Web Worker and turns its messages into app state.

use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

use crate::doc::Doc;
use crate::state::{Classes, ModelStatus, St};

/// The worker, created once per page; it stays alive between files.
pub struct Loader {
    worker: Worker,
    _on_message: Closure<dyn Fn(MessageEvent)>,
}

/// Messages for the worker wait here until it says it is listening (its wasm starts
/// asynchronously, and a message that arrives before its handler is lost).
struct Outbox {
    ready: bool,
    queue: Vec<(JsValue, Option<JsValue>)>,
}

thread_local! {
    /// The fetched manifest and weights, kept to re-send.
    static MODEL: std::cell::RefCell<Option<(String, Vec<u8>)>> = const { std::cell::RefCell::new(None) };
    /// The pending `waferscope_bench.classify()` promise's resolver.
    static BENCH_RESOLVE: std::cell::RefCell<Option<js_sys::Function>> =
        const { std::cell::RefCell::new(None) };
    static OUTBOX: std::cell::RefCell<Outbox> =
        const { std::cell::RefCell::new(Outbox { ready: false, queue: Vec::new() }) };
}

fn post(worker: &Worker, msg: JsValue, transfer: Option<JsValue>) {
    let queued = OUTBOX.with_borrow_mut(|o| {
        if o.ready {
            return None;
        }
        o.queue.push((msg.clone(), transfer.clone()));
        Some(())
    });
    if queued.is_some() {
        return;
    }
    let r = match transfer {
        Some(t) => worker.post_message_with_transfer(&msg, &js_sys::Array::of1(&t)),
        None => worker.post_message(&msg),
    };
    if let Err(e) = r {
        web_sys::console::error_2(&"postMessage to worker failed".into(), &e);
    }
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
}

impl Loader {
    pub fn new(st: St) -> Result<Loader, String> {
        // Trunk builds `worker` with a loader shim next to the page.
        let worker = Worker::new("./worker_loader.js")
            .map_err(|e| format!("cannot start the parsing worker: {e:?}"))?;
        let w = worker.clone();
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            match get(&data, "kind").as_string().as_deref() {
                Some("ready") => {
                    let queue = OUTBOX.with_borrow_mut(|o| {
                        o.ready = true;
                        std::mem::take(&mut o.queue)
                    });
                    for (msg, transfer) in queue {
                        post(&w, msg, transfer);
                    }
                }
                Some("progress") => st.progress.set(get(&data, "fraction").as_f64()),
                Some("done") => {
                    let name = get(&data, "name").as_string().unwrap_or_default();
                    let bytes = Uint8Array::new(&get(&data, "packed")).to_vec();
                    st.progress.set(None);
                    st.parse_ms.set(get(&data, "parse_ms").as_f64());
                    st.seq.set(get(&data, "seq").as_f64().unwrap_or(0.0) as u32);
                    if !get(&data, "has_model").is_truthy() {
                        send_model(&w);
                    }
                    match wafer::pack::decode(&bytes) {
                        Ok(file) => st.open(Rc::new(Doc::new(name, file))),
                        Err(e) => st.fail(&name, &e.to_string()),
                    }
                }
                Some("model") => st.model.set(if get(&data, "ok").is_truthy() {
                    ModelStatus::Ready {
                        version: get(&data, "version").as_f64().unwrap_or(0.0) as u32,
                        warmup_ms: get(&data, "warmup_ms").as_f64().unwrap_or(0.0),
                        backend: get(&data, "backend").as_string().unwrap_or_default(),
                    }
                } else {
                    ModelStatus::Failed(get(&data, "error").as_string().unwrap_or_default())
                }),
                Some("bench-classify") => {
                    if let Some(resolve) = BENCH_RESOLVE.with_borrow_mut(Option::take) {
                        let _ = resolve.call1(&JsValue::NULL, &data);
                    }
                }
                Some("classified") => {
                    // Only for the file on screen: a later file may already be open.
                    if get(&data, "seq").as_f64().unwrap_or(-1.0) as u32 != st.seq.get_untracked() {
                        return;
                    }
                    let results = js_sys::Array::from(&get(&data, "results"));
                    let wafers = results
                        .iter()
                        .map(|r| {
                            if r.is_null() {
                                return None;
                            }
                            let v = js_sys::Float32Array::new(&get(&r, "probs")).to_vec();
                            let mut p = [0.0; model::NUM_CLASSES];
                            if v.len() != p.len() {
                                return None;
                            }
                            p.copy_from_slice(&v);
                            let p = model::Prediction { probabilities: p };
                            Some((p, get(&r, "hash").as_string().unwrap_or_default()))
                        })
                        .collect();
                    // The WebGPU answer, when it came first, stays.
                    if st.classes.get_untracked().is_some_and(|c| c.gpu) {
                        return;
                    }
                    st.classes.set(Some(Rc::new(Classes {
                        wafers,
                        single_ms: get(&data, "single_ms").as_f64().unwrap_or(0.0),
                        batch_ms: get(&data, "batch_ms").as_f64().unwrap_or(0.0),
                        backend: get(&data, "backend").as_string().unwrap_or_default(),
                        gpu: false,
                    })));
                }
                Some("error") => {
                    st.progress.set(None);
                    let name = get(&data, "name").as_string().unwrap_or_default();
                    st.fail(
                        &name,
                        &get(&data, "message").as_string().unwrap_or_default(),
                    );
                }
                _ => {}
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        fetch_model(st, worker.clone());
        Ok(Loader {
            worker,
            _on_message: on_message,
        })
    }

    fn send(&self, fields: &[(&str, JsValue)]) {
        let o = Object::new();
        for (k, v) in fields {
            let _ = Reflect::set(&o, &(*k).into(), v);
        }
        post(&self.worker, o.into(), None);
    }

    pub fn open_file(&self, st: St, file: File) {
        st.begin(&file.name());
        self.send(&[("kind", "file".into()), ("file", file.into())]);
    }

    /// `window.waferscope_bench_classify()`: a promise of the worker's warm classifier latency
    /// (`{single_ms, batch25_ms, backend}`) on the open file's first wafer.
    pub fn install_bench_hook(&self) {
        let worker = self.worker.clone();
        let f = Closure::<dyn Fn() -> js_sys::Promise>::new(move || {
            let worker = worker.clone();
            js_sys::Promise::new(&mut |resolve, _reject| {
                BENCH_RESOLVE.with_borrow_mut(|r| *r = Some(resolve));
                let o = Object::new();
                let _ = Reflect::set(&o, &"kind".into(), &"bench-classify".into());
                post(&worker, o.into(), None);
            })
        });
        if let Some(w) = web_sys::window() {
            let _ = Reflect::set(&w, &"waferscope_bench_classify".into(), f.as_ref());
        }
        f.forget();
    }

    /// Open a packed file (as the edge serves stored wafers); the worker unpacks and classifies
    /// it like a parsed one. The caller has called `st.begin`.
    pub fn open_packed(&self, name: &str, bytes: &[u8]) {
        let packed = Uint8Array::from(bytes);
        self.send(&[
            ("kind", "packed".into()),
            ("name", name.into()),
            ("packed", packed.into()),
        ]);
    }

    pub fn open_demo(&self, st: St, index: usize) {
        st.begin("demo");
        self.send(&[("kind", "demo".into()), ("index", (index as f64).into())]);
    }
}

/// The fetched manifest (text) and weights, once here.
pub fn model_files() -> Option<(String, Vec<u8>)> {
    MODEL.with_borrow(|m| m.clone())
}

/// Hand the fetched model to the worker through the outbox (posted straight away, it was lost
/// whenever the fetch beat the worker's start-up); again whenever a parsed file comes back
/// from a worker that has no model, as a safety net.
fn send_model(worker: &Worker) {
    let Some((manifest, bytes)) = MODEL.with_borrow(|m| m.clone()) else {
        return;
    };
    let o = Object::new();
    let _ = Reflect::set(&o, &"kind".into(), &"model".into());
    let _ = Reflect::set(&o, &"manifest".into(), &manifest.into());
    let arr = Uint8Array::from(&bytes[..]);
    let _ = Reflect::set(&o, &"weights".into(), &arr);
    post(worker, o.into(), Some(arr.buffer().into()));
}

/// Fetch the shipped weights (`public/model/`, served next to the page) and hand them to the
/// worker, which checks them against the manifest's sha256 and loads them. The weights' URL
/// carries the sha256, so a new release is never served from a stale HTTP cache.
fn fetch_model(st: St, worker: Worker) {
    leptos::task::spawn_local(async move {
        let result = async {
            let manifest = gloo_net::http::Request::get("./model/manifest.json")
                .send()
                .await
                .map_err(|e| format!("model/manifest.json: {e}"))?;
            if !manifest.ok() {
                return Err(format!("model/manifest.json: HTTP {}", manifest.status()));
            }
            let text = manifest.text().await.map_err(|e| e.to_string())?;
            let m: model::Manifest =
                serde_json::from_str(&text).map_err(|e| format!("model/manifest.json: {e}"))?;
            let url = format!("./model/{}?v={}", m.weights, m.sha256);
            let weights = gloo_net::http::Request::get(&url)
                .send()
                .await
                .map_err(|e| format!("model/{}: {e}", m.weights))?;
            if !weights.ok() {
                return Err(format!("model/{}: HTTP {}", m.weights, weights.status()));
            }
            let bytes = weights.binary().await.map_err(|e| e.to_string())?;
            Ok((text, bytes))
        }
        .await;
        match result {
            Ok(m) => {
                MODEL.with_borrow_mut(|slot| *slot = Some(m));
                send_model(&worker);
                st.weights_ready.set(true);
            }
            Err(e) => st.model.set(ModelStatus::Failed(e)),
        }
    });
}
