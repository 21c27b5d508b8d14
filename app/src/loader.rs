//! The page's side of the parsing Web Worker: hands it files, the demo and packed files (edge
//! wafers, the library), and turns what it answers into app state. It also fetches the model,
//! which `classify` hands to the classifier worker. Every message is a `protocol::ToWorker` or
//! `protocol::FromWorker`; their JS form is `protocol::js`'s business.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Uint8Array;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::File;

use crate::channel::Channel;
use crate::doc::Doc;
use crate::protocol::js::JsWire;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::{ModelStatus, Origin, St};

/// The worker, created once per page; it stays alive between files.
pub struct Loader {
    channel: Rc<Channel>,
}

#[wasm_bindgen]
extern "C" {
    /// This page's wasm-bindgen glue (Trunk's `app-<hash>.js`): `import.meta.url`, read inside
    /// the glue, which is an ES module.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: String;
}

thread_local! {
    /// The fetched (or swapped-in) manifest and weights, kept to hand out.
    static MODEL: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
    /// Per message posted to parse, oldest first, the `File`s it reads (one, a lot's several,
    /// none for the demo and packed files): the worker answers in order, so each answer takes
    /// the front one, and the library can keep the originals beside the parsed file.
    /// With them, where the file came from as it was when posted (the page's origin may have
    /// moved on to a newer file by the time this one is unpacked).
    static SOURCES: RefCell<VecDeque<(Vec<File>, Origin)>> = const { RefCell::new(VecDeque::new()) };
    /// The file (its `seq`) being unpacked, and its statistics if they came meanwhile.
    static UNPACKING: Cell<Option<u32>> = const { Cell::new(None) };
    static PENDING_STATS: Cell<Option<(u32, f64)>> = const { Cell::new(None) };
    /// The last file's Blob from the worker (`FromWorker::Kept`), until the library takes it,
    /// and the library waiting for it.
    static KEPT: RefCell<Option<(u32, Option<web_sys::Blob>)>> = const { RefCell::new(None) };
    static KEPT_WAITING: RefCell<Vec<(u32, js_sys::Function)>> = const { RefCell::new(Vec::new()) };
}

/// File `seq`'s Blob made by the worker, once it has come: None when the worker made none, or
/// a newer file's came first (the library then makes it).
pub async fn kept_blob(seq: u32) -> Option<web_sys::Blob> {
    let take = || {
        KEPT.with_borrow_mut(|k| match k.take() {
            Some((s, blob)) if s == seq => Some(blob),
            other => {
                *k = other;
                None
            }
        })
    };
    if let Some(blob) = take() {
        return blob;
    }
    if KEPT.with_borrow(|k| k.as_ref().is_some_and(|(s, _)| *s > seq)) {
        return None;
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        KEPT_WAITING.with_borrow_mut(|w| w.push((seq, resolve)));
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    take().flatten()
}

/// The worker's Blob for file `seq`: it replaces any older one, and wakes whoever waits for
/// this file or an older one (an older one then makes its own).
fn kept_arrived(seq: u32, blob: Option<web_sys::Blob>) {
    KEPT.set(Some((seq, blob)));
    wake_kept(seq);
}

/// Wake whoever waits for the Blob of file `seq` or an older one.
fn wake_kept(seq: u32) {
    let woken: Vec<js_sys::Function> = KEPT_WAITING.with_borrow_mut(|w| {
        let (now, later): (Vec<_>, Vec<_>) = w.drain(..).partition(|(s, _)| *s <= seq);
        *w = later;
        now.into_iter().map(|(_, f)| f).collect()
    });
    for f in woken {
        let _ = f.call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// Post a message that reads a file, noting its sources and origin.
fn post_read(st: St, channel: &Channel, msg: ToWorker<JsWire>) {
    let files = match &msg {
        ToWorker::File(f) => vec![f.clone()],
        ToWorker::Lot(files) => files.clone(),
        _ => Vec::new(),
    };
    let origin = st.origin.get_untracked();
    SOURCES.with_borrow_mut(|q| q.push_back((files, origin)));
    if let Err(why) = channel.post(msg) {
        SOURCES.with_borrow_mut(VecDeque::pop_back);
        st.progress.set(None);
        st.fail(&why, RELOAD);
    }
}

/// What to do once the parsing worker has stopped.
const RELOAD: &str = "reload the page to open files again";

/// The parsing worker stopped (`Channel::module`): what waited on it ends, and the page says so.
fn stopped(st: St, why: &str) {
    SOURCES.with_borrow_mut(VecDeque::clear);
    crate::ask::stopped(why);
    // The library's copies that will not come: whoever waits takes none.
    wake_kept(u32::MAX);
    st.progress.set(None);
    st.fail(why, RELOAD);
}

/// The sources and origin of the oldest file still being read (its answer has come).
fn source_read() -> (Vec<File>, Origin) {
    SOURCES
        .with_borrow_mut(VecDeque::pop_front)
        .unwrap_or((Vec::new(), Origin::New))
}

impl Loader {
    pub fn new(st: St) -> Result<Loader, String> {
        // The parsing worker is this wasm (`parsing`): `parsing.js` imports this page's glue
        // and starts the module the page compiled, so nothing is fetched or compiled again.
        let boot = js_sys::Object::new();
        let glue = GLUE_URL.with(String::clone);
        let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&boot, &k.into(), v);
        set("glue", &glue.into())
            .and_then(|_| set("module", &wasm_bindgen::module()))
            .map_err(|e| format!("cannot start the parsing worker: {e:?}"))?;
        let channel = Channel::module(
            "./parsing.js",
            &boot,
            "parsing",
            move |msg| received(st, msg),
            move |why| stopped(st, &why),
        )?;
        fetch_model(st);
        let channel = Rc::new(channel);
        crate::ask::connect(channel.clone());
        Ok(Loader { channel })
    }

    pub fn open_file(&self, st: St, file: File) {
        st.begin(&file.name());
        self.after_model_check(st, ToWorker::File(file));
    }

    /// Open the files chosen together: one is a file, several are one lot (the library keeps the
    /// lot, and with "keep the originals" on each of its files).
    pub fn open_files(&self, st: St, mut files: Vec<File>) {
        match files.len() {
            0 => {}
            1 => self.open_file(st, files.remove(0)),
            n => {
                st.begin(&format!("{n} files"));
                self.after_model_check(st, ToWorker::Lot(files));
            }
        }
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
            post_read(st, &self.channel, msg);
            return;
        }
        let channel = self.channel.clone();
        leptos::task::spawn_local(async move {
            let check = std::pin::pin!(crate::edge::newer_model(st));
            let limit = std::pin::pin!(sleep_ms(MODEL_CHECK_MS));
            match futures_util::future::select(check, limit).await {
                futures_util::future::Either::Left((Some((manifest, weights, version)), _)) => {
                    swap_model(st, manifest, weights, version, "from the edge");
                    crate::library::keep::remember_model(st, version);
                }
                futures_util::future::Either::Left((None, _)) => {}
                futures_util::future::Either::Right(_) => st.model_note.set(Some(format!(
                    "the edge did not say which model is current within {} s: this file \
                     uses the model in use",
                    MODEL_CHECK_MS / 1000
                ))),
            }
            post_read(st, &channel, msg);
        });
    }

    pub fn open_demo(&self, st: St, index: usize) {
        st.begin("demo");
        st.origin.set(crate::state::Origin::Demo);
        post_read(st, &self.channel, ToWorker::Demo { index });
    }
}

/// How long a file waits for the edge to name its current model.
const MODEL_CHECK_MS: i32 = 3000;

pub(crate) async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Let the browser run what waits (input, a frame) and come back as soon as it has: a message
/// to ourselves. A `setTimeout(0)` from a timer's callback is held back 4 ms from the fifth one
/// on, which would leave the page's thread idle for a third of an unpacking of 10 ms slices.
async fn yield_now() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let posted = web_sys::MessageChannel::new().ok().is_some_and(|ch| {
            // A port with a listener and a message on its way is kept until it is delivered.
            ch.port1().set_onmessage(Some(resolve.unchecked_ref()));
            ch.port2()
                .post_message(&wasm_bindgen::JsValue::NULL)
                .is_ok()
        });
        if !posted {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// The packed bytes as they arrived from the worker (JS memory): each column is copied from
/// them straight into its place in wasm memory, never the whole buffer at once.
struct JsBytes(Uint8Array);

impl wafer::pack::Source for JsBytes {
    fn len(&self) -> usize {
        self.0.length() as usize
    }
    fn read(&self, at: usize, dst: &mut [u8]) {
        self.0
            .subarray(at as u32, (at + dst.len()) as u32)
            .copy_to(dst);
    }
}

/// How long one slice of unpacking may hold the page's thread before it yields (the browser
/// calls a task over 50 ms long; one table of a big wafer takes a few ms). Not 20: the file's
/// arrival (its buffer, then wasm memory growing by its size) brings major garbage collections
/// of 17-27 ms, which land inside a slice, and made 20 ms slices 47-63 ms tasks in a profile.
const UNPACK_SLICE_MS: f64 = 10.0;

/// Unpack a file a die table at a time into its document, yielding to the browser between
/// slices; None when `current` says a newer file came meanwhile.
async fn unpack(
    src: &JsBytes,
    name: String,
    current: impl Fn() -> bool,
) -> Result<Option<Doc>, wafer::pack::PackError> {
    let mut slice = Slice::new();
    let mut u = wafer::pack::Unpacker::new(src)?;
    // The header alone (Flex_3: its 1,352-test catalogue, about 16 ms in the CPU profile) was
    // the start of a 100 ms task with the first table's columns: it gets a slice of its own.
    if !slice.next(UNPACK_SLICE_MS / 2.0, &current).await {
        return Ok(None);
    }
    while u.step()? {
        if !slice.next(UNPACK_SLICE_MS, &current).await {
            return Ok(None);
        }
    }
    let doc = Doc::new(name, u.finish()?);
    // Every wafer's passing dies, counted in the same slices: the gallery, the wafer list and
    // the library all show yields: a lot of a million dies took 9 ms to count in one task
    // (the library's, in a CPU profile, 2026-12-07). And the geometry of the wafer a file
    // opens on, which walks its dies: 6-8 ms of the first map's frame for a wafer of 40k dies
    // (same).
    for i in 0..doc.file.wafers.len() {
        doc.passing(i);
        if !slice.next(UNPACK_SLICE_MS, &current).await {
            return Ok(None);
        }
        if i == 0 {
            doc.geometry(crate::doc::Subject::Wafer(0));
            if !slice.next(UNPACK_SLICE_MS, &current).await {
                return Ok(None);
            }
        }
    }
    // Opening the file builds its views (Flex_3's 1,352 tests: a list and a picker) in the task
    // that opens it: not in the one that unpacked its last table too.
    if !slice.next(1.0, &current).await {
        return Ok(None);
    }
    Ok(Some(doc))
}

/// A run of work on the page's thread that yields once it has held the thread long enough.
struct Slice(f64);

impl Slice {
    fn new() -> Slice {
        Slice(js_sys::Date::now())
    }

    /// After more than `ms` since the slice began, yield to the browser and begin another;
    /// false if `current` then says a newer file came meanwhile.
    async fn next(&mut self, ms: f64, current: &impl Fn() -> bool) -> bool {
        if js_sys::Date::now() - self.0 <= ms {
            return true;
        }
        yield_now().await;
        self.0 = js_sys::Date::now();
        current()
    }
}

/// A file's test statistics are ready in the worker: only for the file on screen.
fn stats_arrived(st: St, seq: u32, ms: f64) {
    if seq == st.seq.get_untracked() {
        st.stats_ms.set(Some(ms));
    }
}

/// What the worker answered, into app state.
fn received(st: St, msg: FromWorker<JsWire>) {
    match msg {
        FromWorker::Progress { fraction } => st.progress.set(Some(fraction)),
        FromWorker::Done(p) => {
            let (originals, origin) = source_read();
            st.progress.set(None);
            st.parse_ms.set(Some(p.parse_ms));
            st.seq.set(p.seq);
            leptos::task::spawn_local(async move {
                // The buffer the worker moved to this thread: unpacked from where it is, and
                // kept by the library as it is.
                let src = JsBytes(p.packed.clone());
                UNPACKING.set(Some(p.seq));
                let unpacked =
                    unpack(&src, p.name.clone(), || st.seq.get_untracked() == p.seq).await;
                if UNPACKING.get() == Some(p.seq) {
                    UNPACKING.set(None);
                }
                // Only this file's: a newer file's statistics wait for that file.
                let pending = PENDING_STATS.get().filter(|s| s.0 == p.seq);
                if pending.is_some() {
                    PENDING_STATS.set(None);
                }
                match unpacked {
                    Ok(Some(doc)) => {
                        let doc = Rc::new(doc);
                        st.open(doc.clone(), p.seq);
                        crate::panels::settle(st);
                        if let Some((seq, ms)) = pending {
                            stats_arrived(st, seq, ms);
                        }
                        crate::classify::file(st, &doc, p.seq);
                        // The library's writes in a task of their own: in a CPU profile of the
                        // lot's opening, its first IndexedDB request (18 ms) ran in the task
                        // that had just unpacked the last table and built the file's views.
                        yield_now().await;
                        let keep = crate::library::keep::opened;
                        keep(st, doc, p.seq, p.packed, originals, origin);
                    }
                    // A newer file arrived meanwhile.
                    Ok(None) => {}
                    Err(e) => st.fail(&p.name, &e.to_string()),
                }
            });
        }
        FromWorker::Stats { seq, ms } => {
            // Statistics of a file still unpacking wait for it, so the panel never shows them
            // beside the file before.
            if UNPACKING.get() == Some(seq) {
                PENDING_STATS.set(Some((seq, ms)));
            } else {
                stats_arrived(st, seq, ms);
            }
        }
        FromWorker::Answer { id, answer } => crate::ask::answered(id, answer),
        FromWorker::Exported { id, blob } => crate::ask::exported(id, blob),
        FromWorker::Kept { seq, blob } => kept_arrived(seq, blob),
        FromWorker::Failed { name, message } => {
            source_read();
            st.progress.set(None);
            st.fail(&name, &message);
        }
        // The parsing worker answers nothing else (`Ready` is the channel's).
        other => {
            web_sys::console::error_1(&format!("the parsing worker sent {:?}", other.kind()).into())
        }
    }
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

/// Replace the model with verified weights (`where_from` for the note): the classifier worker
/// loads it before the next file it is sent.
pub fn swap_model(st: St, manifest: String, weights: Vec<u8>, version: u32, where_from: &str) {
    let old = model_version();
    if old == Some(version) {
        return;
    }
    MODEL.with_borrow_mut(|slot| *slot = Some((manifest, weights)));
    st.model.set(ModelStatus::Fetched { version });
    crate::classify::model_changed();
    st.model_note.set(Some(match old {
        Some(old) => format!("model v{version} {where_from} replaces v{old} from the next file on"),
        None => format!("model v{version} {where_from}"),
    }));
}

/// Fetch the shipped weights (`public/model/`, served next to the page) for the classifier
/// worker, which checks them against the manifest's sha256 and loads them. The weights' URL
/// carries the sha256, so a new release is never served from a stale HTTP cache.
fn fetch_model(st: St) {
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
            Ok((text, bytes, m.model_version))
        }
        .await;
        match result {
            Ok((text, bytes, version)) => {
                MODEL.with_borrow_mut(|slot| *slot = Some((text, bytes)));
                st.model.set(ModelStatus::Fetched { version });
                crate::classify::model_changed();
                // A newer model verified from the edge before (kept for offline use).
                crate::library::keep::restore_model(st);
            }
            Err(e) => st.model.set(ModelStatus::Failed(e)),
        }
    });
}
