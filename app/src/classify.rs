//! The page's side of the classifier worker (`infer`): it is started at the page's first idle
//! moment, or once the first map is on screen if a file comes sooner, so the first map never
//! waits for the classifier's bytes, and it is the WebGPU build
//! (`classify_gpu`, burn's wgpu kernels, most of its size) only where the browser has WebGPU
//! (`gpu::webgpu_available`); elsewhere the CPU-only build (`classify_cpu`). The service worker
//! keeps the same one for offline use (`pwa`).
//!
//! Each opened file's feature grids go to it; its answers (the CPU's first, then WebGPU's, which
//! replaces it) become `state::Classes` for the file still on screen. The model goes to it when
//! it starts and again whenever `loader` swaps in another, so a model changes between files,
//! never within one (the worker handles messages in order).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use leptos::prelude::*;

use crate::channel::Channel;
use crate::doc::Doc;
use crate::protocol::js::JsWire;
use crate::protocol::{BenchTimes, Classified, FromWorker, GpuStatus, ToWorker};
use crate::state::{Classes, ModelStatus, St};

/// Who waits for the answer to a `BenchClassify`.
type BenchReply = Box<dyn FnOnce(Result<BenchTimes, String>)>;

thread_local! {
    static CHANNEL: RefCell<Option<Rc<Channel>>> = const { RefCell::new(None) };
    /// The files sent lately, by number: an answer for one no longer on screen still goes to
    /// its library entry.
    static SENT: RefCell<Vec<(u32, Rc<Doc>)>> = const { RefCell::new(Vec::new()) };
    /// The pending benchmark's reply.
    static BENCH_REPLY: RefCell<Option<BenchReply>> = const { RefCell::new(None) };
}

/// Frames to wait at most for the first map before starting the classifier anyway (a map that
/// never draws, say in a hidden tab, must not hold the label back for ever once it shows).
const FIRST_MAP_FRAMES: u32 = 600;

/// How many files [`SENT`] remembers.
const RECENT: usize = 8;

/// File `seq` is open: classify its wafers, after its first map (and start the classifier then,
/// if it is not running yet). Their feature grids are made one wafer per task: a lot of large
/// wafers would otherwise hold the page's thread before its map shows.
pub fn file(st: St, doc: &Rc<Doc>, seq: u32) {
    let doc = doc.clone();
    leptos::task::spawn_local(async move {
        // Wait for the map whether or not the classifier runs already (`start_when_idle`), but
        // not in a hidden tab, which draws no frames: its label then goes to the library.
        let mut frames = 0;
        while st.first_frame_ms.get_untracked().is_none() && frames < FIRST_MAP_FRAMES && !hidden()
        {
            next_frame().await;
            frames += 1;
        }
        // Out of the animation frame that drew the first map: its task holds the page's thread
        // for the drawing (and, on a software GL, the canvas readback) already.
        crate::loader::sleep_ms(0).await;
        let n = doc.file.wafers.len();
        for i in 0..n {
            let _ = doc.grid(i);
            if n > 1 {
                crate::loader::sleep_ms(0).await;
            }
        }
        let grids: Vec<Option<&features::FeatureGrid>> = (0..n).map(|i| doc.grid(i)).collect();
        if grids.iter().all(Option::is_none) {
            return;
        }
        let bytes = crate::protocol::grids_to_bytes(&grids);
        SENT.with_borrow_mut(|s| {
            s.push((seq, doc.clone()));
            let extra = s.len().saturating_sub(RECENT);
            s.drain(..extra);
        });
        if let Some(ch) = channel(st).await {
            let grids = Uint8Array::from(&bytes[..]);
            send(&ch, ToWorker::Grids { seq, grids });
        }
    });
}

/// Start the classifier worker at the page's first idle moment, if no file has been opened by
/// then. Its wasm is then compiled, and its kernels warmed up, while the user picks a file, not
/// on the cores that the first file's map and panels need: after Flex_3's first map, with two
/// cores, that compilation took a core for about half a second (a trace of
/// `tests/benches/analysis.mjs`'s opening) beside the parsing worker, while the page laid out
/// its panels. A file opened sooner starts it after its first map (`file`), as before. The
/// bytes are no extra: the service worker keeps the same build for offline use.
pub fn start_when_idle(st: St) {
    let start = wasm_bindgen::closure::Closure::once_into_js(move || {
        // Nothing opened yet, nor opening (`seq` moves on only once a file has been read),
        // nor about to be: a shared link's wafer opens once the edge has listed its wafers.
        if st.seq.get_untracked() == 0
            && st.loading.get_untracked().is_none()
            && !crate::edge::shared_link()
        {
            leptos::task::spawn_local(async move {
                let _ = channel(st).await;
            });
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.request_idle_callback(wasm_bindgen::JsCast::unchecked_ref(&start));
    }
}

/// The model `loader` hands out changed (fetched, or swapped): the classifier takes it before
/// the next file. Before the classifier starts there is nothing to do: it gets the model then.
pub fn model_changed() {
    if let Some(ch) = CHANNEL.with_borrow(Clone::clone) {
        send_model(&ch);
    }
}

/// Time the warm classifier (on WebGPU or on the CPU) on the open file's first wafer; `reply`
/// gets the answer (a newer request replaces an unanswered one's reply).
pub fn bench(gpu: bool, reply: impl FnOnce(Result<BenchTimes, String>) + 'static) {
    let Some(ch) = CHANNEL.with_borrow(Clone::clone) else {
        reply(Err("the classifier has not started yet: open a file".into()));
        return;
    };
    BENCH_REPLY.with_borrow_mut(|r| *r = Some(Box::new(reply)));
    send(&ch, ToWorker::BenchClassify { gpu });
}

/// The classifier worker, started on first use.
async fn channel(st: St) -> Option<Rc<Channel>> {
    if let Some(ch) = CHANNEL.with_borrow(Clone::clone) {
        return Some(ch);
    }
    let webgpu = crate::gpu::webgpu_available().await;
    // Another file's task may have started it meanwhile.
    if let Some(ch) = CHANNEL.with_borrow(Clone::clone) {
        return Some(ch);
    }
    let url = if webgpu {
        "./classify_gpu_loader.js"
    } else {
        st.gpu_model.set(Some(GpuStatus::Unavailable));
        "./classify_cpu_loader.js"
    };
    match Channel::new(url, "classifier", move |msg| received(st, msg)) {
        Ok(ch) => {
            let ch = Rc::new(ch);
            CHANNEL.set(Some(ch.clone()));
            send_model(&ch);
            Some(ch)
        }
        Err(e) => {
            st.model.set(ModelStatus::Failed(e));
            None
        }
    }
}

/// Post to the classifier, which never refuses: it is a classic worker (`Channel::new`), whose
/// channel does not stop. Said on the console if it ever did.
fn send(ch: &Channel, msg: ToWorker<JsWire>) {
    if let Err(e) = ch.post(msg) {
        web_sys::console::error_1(&e.into());
    }
}

fn send_model(ch: &Channel) {
    if let Some((manifest, bytes)) = crate::loader::model_files() {
        let weights = Uint8Array::from(&bytes[..]);
        send(ch, ToWorker::Model { manifest, weights });
    }
}

/// What the classifier worker answered, into app state.
fn received(st: St, msg: FromWorker<JsWire>) {
    match msg {
        // A model older than the one the page hands out now (it started before the offline
        // copy or the edge's was swapped in): the newer one follows, so no flicker back.
        FromWorker::Model(Ok(m))
            if crate::loader::model_version().is_some_and(|v| v != m.version) => {}
        FromWorker::Model(m) => st.model.set(match m {
            Ok(m) => ModelStatus::Ready {
                version: m.version,
                warmup_ms: m.warmup_ms,
                backend: m.backend,
            },
            Err(e) => ModelStatus::Failed(e),
        }),
        FromWorker::Gpu(g) => st.gpu_model.set(Some(g)),
        FromWorker::Classified(c) => classified(st, c),
        FromWorker::BenchClassify(r) => {
            if let Some(reply) = BENCH_REPLY.with_borrow_mut(Option::take) {
                reply(r);
            }
        }
        other => web_sys::console::error_1(
            &format!("the classifier worker sent {:?}", other.kind()).into(),
        ),
    }
}

/// A file's classes: shown if that file is still open, and a CPU answer only while no WebGPU
/// answer is there; for a file another has replaced on screen, into its library entry only.
fn classified(st: St, c: Classified) {
    let on_screen = c.seq == st.seq.get_untracked();
    if on_screen && !c.gpu && st.classes.get_untracked().is_some_and(|c| c.gpu) {
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
    let classes = Rc::new(Classes {
        wafers,
        single_ms: c.single_ms,
        batch_ms: c.batch_ms,
        backend: c.backend,
        gpu: c.gpu,
        model_version: c.model_version,
    });
    if on_screen {
        st.classes.set(Some(classes));
    } else if let Some(doc) =
        SENT.with_borrow(|s| s.iter().find(|(n, _)| *n == c.seq).map(|(_, d)| d.clone()))
    {
        crate::library::keep::classified(st, &doc, &classes);
    }
}

fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

async fn next_frame() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.request_animation_frame(&resolve);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}
