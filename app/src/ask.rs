//! The panels' questions to the parsing worker, which keeps the file it read (`stats::ask`): a
//! panel derives its [`Ask`] from the page's state ([`asked`]) and draws the answer when it
//! comes, so no panel counts over the dies on the page's thread (a lasso over a million dies, a
//! sort per probe site). While a newer ask about the same wafer is counted, the panel keeps its
//! last answer, marked pending (`data-pending`), rather than blinking.
//!
//! The exports are asked the same way ([`export`]): the worker writes the report, the CSV or a
//! wafer's picture ([`picture`]) from the file it keeps and answers a Blob.
//!
//! An answer is the held file's, fixed for its number, so the last answers are kept: the same
//! question from two places (the zones panel and the zones overlay) or again (the first-pass
//! toggle switched back) is counted once, and one asked while the same is counted waits for it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use stats::ask::{Answer, Ask};

use crate::channel::Channel;
use crate::protocol::js::JsWire;
use crate::protocol::{Export, ToWorker};
use crate::state::St;

/// A question: the file's number and the ask as JSON.
type Key = (u32, String);
/// Where an ask's answer lands, read by everyone waiting on it.
type Slot = Rc<RefCell<Option<Result<String, String>>>>;

/// Answers kept (the open file's only): enough for every panel's current and previous ask.
const KEPT_MAX: usize = 48;

thread_local! {
    /// The parsing worker, once the loader has started it.
    static WORKER: RefCell<Option<Rc<Channel>>> = const { RefCell::new(None) };
    /// Per request in flight (ask or export): the promise's resolve.
    static WAITING: RefCell<HashMap<u32, js_sys::Function>> = RefCell::new(HashMap::new());
    /// Per ask in flight, by id: its question and where its answer goes.
    static SLOTS: RefCell<HashMap<u32, (Key, Slot)>> = RefCell::new(HashMap::new());
    /// Per question in flight: the promise and the slot every asker of it waits on.
    static IN_FLIGHT: RefCell<HashMap<Key, (js_sys::Promise, Slot)>> =
        RefCell::new(HashMap::new());
    /// The last answers, oldest first.
    static KEPT: RefCell<VecDeque<(Key, String)>> = const { RefCell::new(VecDeque::new()) };
    static WRITTEN: RefCell<HashMap<u32, Result<web_sys::Blob, String>>> =
        RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(0) };
    /// Asks posted to the worker (`window.waferscope_asks`, for the tests).
    static POSTED: Cell<u32> = const { Cell::new(0) };
}

/// How many asks went to the worker so far.
pub fn posted() -> u32 {
    POSTED.get()
}

/// Keep an answer (a worker's error is not kept: it is asked again).
fn keep(key: Key, text: String) {
    KEPT.with_borrow_mut(|k| {
        // Another file's answers can never be asked for again.
        k.retain(|(other, _)| other.0 == key.0);
        if k.len() >= KEPT_MAX {
            k.pop_front();
        }
        k.push_back((key, text));
    });
}

/// A kept answer, now the most recently used.
fn kept(key: &Key) -> Option<String> {
    KEPT.with_borrow_mut(|k| {
        let i = k.iter().position(|(q, _)| q == key)?;
        let hit = k.remove(i)?;
        let text = hit.1.clone();
        k.push_back(hit);
        Some(text)
    })
}

/// Asks about another file than `seq` still waiting: they end now, with an error. Their
/// panels have moved on, and an answer that never came (a message the page could not read)
/// would otherwise keep its question waiting for good, and every asker who joins it.
fn end_other_files(seq: u32) {
    end_asks(|k| k.0 != seq, "another file was opened");
}

/// The parsing worker stopped (`loader`): every ask and export still waiting ends now, with
/// `why`, since no answer will come.
pub fn stopped(why: &str) {
    end_asks(|_| true, why);
    // What still waits is an export (no slot): its answer is what `WRITTEN` holds.
    for (id, resolve) in WAITING.with_borrow_mut(std::mem::take) {
        WRITTEN.with_borrow_mut(|a| a.insert(id, Err(why.into())));
        let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// The asks still waiting whose question `which` picks end now, with `why`.
fn end_asks(which: impl Fn(&Key) -> bool, why: &str) {
    let ended: Vec<(u32, Slot)> = SLOTS.with_borrow_mut(|s| {
        let ids: Vec<u32> = s
            .iter()
            .filter(|(_, (k, _))| which(k))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| s.remove(&id).map(|(_, slot)| (id, slot)))
            .collect()
    });
    if ended.is_empty() {
        return;
    }
    IN_FLIGHT.with_borrow_mut(|f| f.retain(|k, _| !which(k)));
    for (id, slot) in ended {
        *slot.borrow_mut() = Some(Err(why.into()));
        if let Some(resolve) = WAITING.with_borrow_mut(|w| w.remove(&id)) {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    }
}

/// The parsing worker asks go to (`loader` calls it once).
pub fn connect(worker: Rc<Channel>) {
    WORKER.set(Some(worker));
}

/// The worker's answer to ask `id` (`loader` hands it over).
pub fn answered(id: u32, answer: Result<String, String>) {
    if let Some(resolve) = WAITING.with_borrow_mut(|w| w.remove(&id)) {
        if let Some((key, slot)) = SLOTS.with_borrow_mut(|s| s.remove(&id)) {
            IN_FLIGHT.with_borrow_mut(|f| f.remove(&key));
            if let Ok(text) = &answer {
                keep(key, text.clone());
            }
            *slot.borrow_mut() = Some(answer);
        }
        let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// The worker's export `id` (`loader` hands it over).
pub fn exported(id: u32, blob: Result<web_sys::Blob, String>) {
    if let Some(resolve) = WAITING.with_borrow_mut(|w| w.remove(&id)) {
        WRITTEN.with_borrow_mut(|a| a.insert(id, blob));
        let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// Post the message `message(id)` makes with a new id: the id, and a promise resolved when its
/// answer has come.
fn post(message: impl FnOnce(u32) -> ToWorker<JsWire>) -> Result<(u32, js_sys::Promise), String> {
    let id = NEXT.get();
    NEXT.set(id.wrapping_add(1));
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        WAITING.with_borrow_mut(|w| w.insert(id, resolve));
    });
    let posted = WORKER.with_borrow(|w| match w {
        Some(w) => w.post(message(id)),
        None => Err("no parsing worker".into()),
    });
    if let Err(e) = posted {
        WAITING.with_borrow_mut(|w| w.remove(&id));
        return Err(e);
    }
    Ok((id, promise))
}

/// [`post`], and wait until the answer has come (it waits in `WRITTEN` under the id).
async fn request(message: impl FnOnce(u32) -> ToWorker<JsWire>) -> Result<u32, String> {
    let (id, promise) = post(message)?;
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    Ok(id)
}

/// Have the worker write its file `seq` as `export` says.
pub async fn export(seq: u32, export: Export) -> Result<web_sys::Blob, String> {
    let id = request(|id| ToWorker::Export { seq, id, export }).await?;
    WRITTEN
        .with_borrow_mut(|a| a.remove(&id))
        .unwrap_or_else(|| Err("no answer".into()))
}

/// A PNG of wafer `wafer` of file `seq` as `layer` colours it, `side` pixels a side, drawn by
/// the worker ([`Export::Map`]), as an object URL the caller revokes.
pub async fn picture(
    seq: u32,
    wafer: usize,
    layer: paint::Layer,
    side: u32,
) -> Result<String, String> {
    let blob = export(seq, Export::Map { wafer, layer, side }).await?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))
}

/// Ask the worker about its file `seq`.
async fn ask(seq: u32, question: &Ask) -> Result<Answer, String> {
    let key = (
        seq,
        serde_json::to_string(question).map_err(|e| e.to_string())?,
    );
    let text = match kept(&key) {
        Some(text) => text,
        None => {
            let waiting = IN_FLIGHT.with_borrow(|f| f.get(&key).cloned());
            let (promise, slot) = match waiting {
                Some(w) => w,
                None => {
                    end_other_files(seq);
                    let json = key.1.clone();
                    let (id, promise) = post(|id| ToWorker::Ask { seq, id, json })?;
                    POSTED.set(POSTED.get() + 1);
                    // The answer comes in a later message event: in time to find these.
                    let slot = Slot::default();
                    SLOTS.with_borrow_mut(|s| s.insert(id, (key.clone(), slot.clone())));
                    let w = (promise, slot);
                    IN_FLIGHT.with_borrow_mut(|f| f.insert(key, w.clone()));
                    w
                }
            };
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            let answer = slot.borrow().clone();
            answer.unwrap_or_else(|| Err("no answer".into()))?
        }
    };
    serde_json::from_str(&text).map_err(|e| format!("an answer not understood: {e}"))
}

/// What a panel draws: the answer (or why there is none), and whether a newer ask is still
/// being counted.
#[derive(Clone)]
pub struct Shown {
    /// The ask answered (while pending, the one before the current).
    pub ask: Ask,
    pub answer: Rc<Result<Answer, String>>,
    pub pending: bool,
}

impl Shown {
    /// `data-pending` while a newer answer is on its way (the browser tests wait it out).
    pub fn pending_attr(&self) -> Option<&'static str> {
        self.pending.then_some("1")
    }
}

/// The last answer a panel got: the file's number, the ask, the answer.
type Last = (u32, Ask, Rc<Result<Answer, String>>);

/// The answer to the ask `question` derives from the page's state (None: nothing to ask), kept
/// current: a change of the state asks again. Call it once per panel, outside its view closure.
pub fn asked(
    st: St,
    question: impl Fn() -> Option<Ask> + Send + Sync + 'static,
) -> impl Fn() -> Option<Shown> + Copy {
    let current = Memo::new(move |_| question().map(|q| (st.doc_seq.get(), q)));
    let last: RwSignal<Option<Last>, LocalStorage> = RwSignal::new_local(None);
    Effect::new(move |_| {
        let Some((seq, q)) = current.get() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let answer = ask(seq, &q).await;
            // Only if still the question: an answer overtaken by a newer ask is dropped, and so
            // is one for a panel gone meanwhile (its signals disposed: `try_`).
            let still = current.try_with_untracked(|c| c.as_ref() == Some(&(seq, q.clone())));
            if still == Some(true) {
                let _ = last.try_set(Some((seq, q, Rc::new(answer))));
            }
        });
    });
    move || {
        let (seq, q) = current.get()?;
        last.with(|l| {
            let (s, a, answer) = l.as_ref()?;
            let same_place = *s == seq
                && std::mem::discriminant(a) == std::mem::discriminant(&q)
                && a.wafer() == q.wafer();
            same_place.then(|| Shown {
                ask: a.clone(),
                answer: answer.clone(),
                pending: *a != q,
            })
        })
    }
}

/// A panel's stand-in until its first answer comes.
pub fn counting(id: &'static str, class: &'static str, title: &'static str) -> AnyView {
    view! {
        <div class=format!("panel {class}") id=id data-pending="1">
            <h3>{title}</h3>
            <p class="muted">"counting…"</p>
        </div>
    }
    .into_any()
}

/// A panel whose ask got no answer it can draw: why, in its place.
pub fn failed(id: &'static str, title: &'static str, answer: &Result<Answer, String>) -> AnyView {
    let why = match answer {
        Err(e) => e.clone(),
        Ok(_) => "the worker answered another question".into(),
    };
    let text = why.clone();
    view! {
        <div class="panel" id=id data-error=why>
            <h3>{title}</h3>
            <p class="muted">{text}</p>
        </div>
    }
    .into_any()
}
