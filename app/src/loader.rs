//! The page's side of the parsing Web Worker: hands it files, the demo, packed edge wafers and the
//! shipped weights, and turns what it answers into app state. Every message is a
//! `protocol::ToWorker` or `protocol::FromWorker`; their JS form is `protocol::js`'s business.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

use crate::doc::Doc;
use crate::protocol::js::{JsWire, from_worker, post_to_worker};
use crate::protocol::{BenchTimes, Classified, FromWorker, ToWorker};
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
    queue: Vec<ToWorker<JsWire>>,
}

/// Who waits for the worker's answer to a `BenchClassify`.
type BenchReply = Box<dyn FnOnce(Result<BenchTimes, String>)>;

thread_local! {
    /// The fetched manifest and weights, kept to re-send.
    static MODEL: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
    /// The pending benchmark's reply.
    static BENCH_REPLY: RefCell<Option<BenchReply>> = const { RefCell::new(None) };
    static OUTBOX: RefCell<Outbox> =
        const { RefCell::new(Outbox { ready: false, queue: Vec::new() }) };
}

/// Post now, or queue until the worker listens.
fn post(worker: &Worker, msg: ToWorker<JsWire>) {
    let msg = OUTBOX.with_borrow_mut(|o| {
        if o.ready {
            Some(msg)
        } else {
            o.queue.push(msg);
            None
        }
    });
    if let Some(msg) = msg {
        post_to_worker(worker, msg);
    }
}

impl Loader {
    pub fn new(st: St) -> Result<Loader, String> {
        // Trunk builds `worker` with a loader shim next to the page.
        let worker = Worker::new("./worker_loader.js")
            .map_err(|e| format!("cannot start the parsing worker: {e:?}"))?;
        let w = worker.clone();
        let on_message =
            Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| match from_worker(&e) {
                Ok(msg) => received(st, &w, msg),
                Err(err) => web_sys::console::error_1(&format!("from the worker: {err}").into()),
            });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        fetch_model(st, worker.clone());
        Ok(Loader {
            worker,
            _on_message: on_message,
        })
    }

    pub fn open_file(&self, st: St, file: File) {
        st.begin(&file.name());
        self.after_model_check(st, ToWorker::File(file));
    }

    /// Open a packed file (as the edge serves stored wafers, and the library keeps files); the
    /// worker unpacks and classifies it like a parsed one. The caller has called `st.begin`.
    pub fn open_packed(&self, st: St, name: &str, bytes: &[u8]) {
        let msg = ToWorker::Packed {
            name: name.to_string(),
            packed: Uint8Array::from(bytes),
        };
        self.after_model_check(st, msg);
    }

    /// Served by the edge: take its current model first (`edge::newer_model`), so the file
    /// is classified by it. The model changes between files, never within one: the worker
    /// handles messages in order. Elsewhere (offline, a static host) post at once. A slow edge
    /// holds the file back [`MODEL_CHECK_MS`] at most; then the file goes on with the model in
    /// use, and the next file asks again.
    fn after_model_check(&self, st: St, msg: ToWorker<JsWire>) {
        if st.edge.get_untracked().is_none() {
            post(&self.worker, msg);
            return;
        }
        let worker = self.worker.clone();
        leptos::task::spawn_local(async move {
            let check = std::pin::pin!(crate::edge::newer_model(st));
            let limit = std::pin::pin!(sleep_ms(MODEL_CHECK_MS));
            match futures_util::future::select(check, limit).await {
                futures_util::future::Either::Left((Some((manifest, weights, version)), _)) => {
                    swap_model(st, &worker, manifest, weights, version, "from the edge");
                    crate::library::keep::remember_model(st, version);
                }
                futures_util::future::Either::Left((None, _)) => {}
                futures_util::future::Either::Right(_) => st.model_note.set(Some(format!(
                    "the edge did not say which model is current within {} s: this file \
                     uses the model in use",
                    MODEL_CHECK_MS / 1000
                ))),
            }
            post(&worker, msg);
        });
    }

    pub fn open_demo(&self, st: St, index: usize) {
        st.begin("demo");
        st.origin.set(crate::state::Origin::Demo);
        post(&self.worker, ToWorker::Demo { index });
    }

    /// Time the worker's warm classifier on the open file's first wafer; `reply` gets the
    /// answer (a newer request replaces an unanswered one's reply).
    pub fn bench_classify(&self, reply: impl FnOnce(Result<BenchTimes, String>) + 'static) {
        BENCH_REPLY.with_borrow_mut(|r| *r = Some(Box::new(reply)));
        post(&self.worker, ToWorker::BenchClassify);
    }
}

/// How long a file waits for the edge to name its current model.
const MODEL_CHECK_MS: i32 = 3000;

async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// What the worker answered, into app state.
fn received(st: St, worker: &Worker, msg: FromWorker<JsWire>) {
    match msg {
        FromWorker::Ready => {
            let queue = OUTBOX.with_borrow_mut(|o| {
                o.ready = true;
                std::mem::take(&mut o.queue)
            });
            for msg in queue {
                post_to_worker(worker, msg);
            }
        }
        FromWorker::Progress { fraction } => st.progress.set(Some(fraction)),
        FromWorker::Done(p) => {
            // The one copy into wasm memory; the worker moved the buffer to this thread.
            let bytes = p.packed.to_vec();
            st.progress.set(None);
            st.parse_ms.set(Some(p.parse_ms));
            st.seq.set(p.seq);
            if !p.has_model {
                send_model(worker);
            }
            match wafer::pack::decode(&bytes) {
                Ok(file) => {
                    let doc = Rc::new(Doc::new(p.name, file));
                    st.open(doc.clone());
                    crate::library::keep::opened(st, &doc, bytes);
                }
                Err(e) => st.fail(&p.name, &e.to_string()),
            }
        }
        FromWorker::Failed { name, message } => {
            st.progress.set(None);
            st.fail(&name, &message);
        }
        FromWorker::Model(m) => st.model.set(match m {
            Ok(m) => ModelStatus::Ready {
                version: m.version,
                warmup_ms: m.warmup_ms,
                backend: m.backend,
            },
            Err(e) => ModelStatus::Failed(e),
        }),
        FromWorker::Classified(c) => classified(st, c),
        FromWorker::BenchClassify(r) => {
            if let Some(reply) = BENCH_REPLY.with_borrow_mut(Option::take) {
                reply(r);
            }
        }
    }
}

/// The worker's classes for a file: shown if that file is still open and no WebGPU answer came
/// first.
fn classified(st: St, c: Classified) {
    // Only for the file on screen: a later file may already be open.
    if c.seq != st.seq.get_untracked() {
        return;
    }
    // The WebGPU answer, when it came first, stays.
    if st.classes.get_untracked().is_some_and(|c| c.gpu) {
        return;
    }
    let wafers = c
        .wafers
        .into_iter()
        .map(|w| {
            let w = w?;
            let probabilities = <[f32; model::NUM_CLASSES]>::try_from(&w.probs[..]).ok()?;
            Some((model::Prediction { probabilities }, w.hash))
        })
        .collect();
    st.classes.set(Some(Rc::new(Classes {
        wafers,
        single_ms: c.single_ms,
        batch_ms: c.batch_ms,
        backend: c.backend,
        gpu: false,
        model_version: c.model_version,
    })));
}

/// The fetched manifest (text) and weights, once here.
pub fn model_files() -> Option<(String, Vec<u8>)> {
    MODEL.with_borrow(|m| m.clone())
}

/// The version of the model the page hands out (`model_files`), once here.
pub fn model_version() -> Option<u32> {
    MODEL.with_borrow(|m| {
        let (manifest, _) = m.as_ref()?;
        Some(
            serde_json::from_str::<model::Manifest>(manifest)
                .ok()?
                .model_version,
        )
    })
}

/// Replace the model with verified weights (`where_from` for the note): the worker loads it
/// before the next file it is sent, and the WebGPU classifier sets up again.
pub fn swap_model(
    st: St,
    worker: &Worker,
    manifest: String,
    weights: Vec<u8>,
    version: u32,
    where_from: &str,
) {
    let old = model_version();
    if old == Some(version) {
        return;
    }
    MODEL.with_borrow_mut(|slot| *slot = Some((manifest, weights)));
    send_model(worker);
    #[cfg(feature = "webgpu")]
    crate::classify::forget();
    st.model_note.set(Some(match old {
        Some(old) => format!("model v{version} {where_from} replaces v{old} from the next file on"),
        None => format!("model v{version} {where_from}"),
    }));
}

/// Hand the fetched model to the worker through the outbox (posted straight away, it was lost
/// whenever the fetch beat the worker's start-up); again whenever a parsed file comes back
/// from a worker that has no model, as a safety net.
fn send_model(worker: &Worker) {
    let Some((manifest, bytes)) = model_files() else {
        return;
    };
    let weights = Uint8Array::from(&bytes[..]);
    post(worker, ToWorker::Model { manifest, weights });
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
                // A newer model verified from the edge before (kept for offline use).
                crate::library::keep::restore_model(st, worker);
            }
            Err(e) => st.model.set(ModelStatus::Failed(e)),
        }
    });
}
