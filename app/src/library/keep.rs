//! The library on the page: keeping each file read, reopening, renaming and deleting kept ones,
//! the pattern of each once classified, the storage quota, and the panel that lists them.
//!
//! The database is opened once per page. A failure (no IndexedDB, a full quota) is a note in
//! the panel; it never stops the file on screen, and never touches what is already kept.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::IdbDatabase;

use super::idb::{self, LibraryError};
use super::{Entry, pattern_summary};
use crate::doc::Doc;
use crate::loader::Loader;
use crate::state::{Origin, St};

thread_local! {
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
    /// The library keys of the files opened lately, newest last: a file's label can arrive
    /// after another file has replaced it on screen, and still belongs in its entry.
    static KEYS: RefCell<Vec<(std::rc::Weak<Doc>, u32)>> = const { RefCell::new(Vec::new()) };
}

/// How many recent files keep their key for a late label.
const RECENT: usize = 8;

fn remember_key(doc: &Rc<Doc>, key: u32) {
    KEYS.with_borrow_mut(|k| {
        k.retain(|(d, _)| d.strong_count() > 0);
        k.push((Rc::downgrade(doc), key));
        let extra = k.len().saturating_sub(RECENT);
        k.drain(..extra);
    });
}

fn key_of(doc: &Rc<Doc>) -> Option<u32> {
    KEYS.with_borrow(|k| {
        k.iter()
            .rev()
            .find(|(d, _)| d.upgrade().is_some_and(|d| Rc::ptr_eq(&d, doc)))
            .map(|(_, key)| *key)
    })
}

async fn db() -> Result<IdbDatabase, LibraryError> {
    if let Some(db) = DB.with_borrow(Clone::clone) {
        return Ok(db);
    }
    let db = idb::open().await?;
    DB.with_borrow_mut(|d| *d = Some(db.clone()));
    Ok(db)
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Run `f` with the database; its error becomes the panel's note.
fn with_db<F>(st: St, f: impl FnOnce(IdbDatabase) -> F + 'static)
where
    F: std::future::Future<Output = Result<(), LibraryError>> + 'static,
{
    leptos::task::spawn_local(async move {
        let result = match db().await {
            Ok(db) => f(db).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            st.library_note.set(Some(e.message));
        }
    });
}

/// Read the list and the quota again.
pub fn refresh(st: St) {
    with_db(st, move |db| async move {
        let mut list = idb::list(&db).await?;
        list.sort_by(|a, b| b.1.opened_ms.total_cmp(&a.1.opened_ms));
        st.library.set(Some(Rc::new(list)));
        if let Some((usage, quota)) = idb::estimate().await {
            let persisted = st.storage.get_untracked().is_some_and(|s| s.2);
            st.storage.set(Some((usage, quota, persisted)));
        }
        Ok(())
    });
}

/// The file on screen, parsing worker's file `seq`, opened: keep it in the library with its
/// originals when the user keeps originals (a new file), or note the time it was opened (one
/// from the library). `packed` is the worker's buffer as it came (JS memory): IndexedDB keeps
/// it without another copy out of wasm memory. `origin` is the file's as it was when it was
/// posted to the worker: the page's may already be a newer file's.
pub fn opened(
    st: St,
    doc: Rc<Doc>,
    seq: u32,
    packed: js_sys::Uint8Array,
    originals: Vec<web_sys::File>,
    origin: Origin,
) {
    match origin {
        Origin::Demo => {}
        Origin::Library(key) => {
            remember_key(&doc, key);
            st.kept.set(Some(key));
            update(st, key, |e| e.opened_ms = now());
        }
        Origin::New => {
            let originals = if st.keep_original.get_untracked() {
                originals
            } else {
                Vec::new()
            };
            let mut entry = Entry::of(&doc, packed.length() as usize, now());
            let size = |f: &web_sys::File| f.size() as u64;
            entry.original = (!originals.is_empty()).then(|| originals.iter().map(size).sum());
            if originals.len() > 1 {
                entry.originals = originals.iter().map(|f| (f.name(), size(f))).collect();
            }
            with_db(st, move |db| async move {
                // Before the transaction: one stays open only while it has requests.
                let kept = crate::loader::kept_blob(seq).await;
                let added = idb::add(&db, &entry, &packed, kept, &originals).await;
                let key = added.map_err(|e| LibraryError {
                    message: if e.quota {
                        format!(
                            "{} was not kept in the library: this site's storage is full ({}). \
                             Everything kept before is still there; delete files from the \
                             library to make room.",
                            entry.name, e.message
                        )
                    } else {
                        format!("{} was not kept in the library: {}", entry.name, e.message)
                    },
                    ..e
                })?;
                st.library_note.set(None);
                remember_key(&doc, key);
                // Only if the same file is still the one on screen.
                if st.doc.get_untracked().is_some_and(|d| Rc::ptr_eq(&d, &doc)) {
                    st.kept.set(Some(key));
                }
                if st.storage.get_untracked().is_none_or(|s| !s.2) {
                    let persisted = idb::persist().await;
                    st.storage.update(|s| match s {
                        Some(s) => s.2 = persisted,
                        None => *s = Some((0.0, 0.0, persisted)),
                    });
                }
                refresh(st);
                Ok(())
            });
        }
    }
}

/// Keep the model now in use (just verified from the edge, `version`) for offline use.
pub fn remember_model(st: St, version: u32) {
    let Some((manifest, weights)) = crate::loader::model_files() else {
        return;
    };
    with_db(st, move |db| async move {
        if crate::loader::model_version() == Some(version) {
            idb::put_model(&db, &manifest, &weights).await?;
        }
        Ok(())
    });
}

/// At start: a model verified from the edge before and newer than the page's own replaces it
/// (checked again: the bytes must still match their manifest's sha256). Offline, this is how
/// the last verified model stays in use.
pub fn restore_model(st: St) {
    with_db(st, move |db| async move {
        let Some((manifest, weights)) = idb::model(&db).await? else {
            return Ok(());
        };
        let Ok(m) = serde_json::from_str::<model::Manifest>(&manifest) else {
            return Ok(());
        };
        let newer = crate::loader::model_version().is_none_or(|v| m.model_version > v);
        if newer && model::sha256_hex(&weights) == m.sha256 {
            crate::loader::swap_model(
                st,
                manifest,
                weights,
                m.model_version,
                "(kept from the edge)",
            );
        }
        Ok(())
    });
}

/// Change entry `key`'s facts with `change`, store them, and list again.
fn update(st: St, key: u32, change: impl FnOnce(&mut Entry) + 'static) {
    with_db(st, move |db| async move {
        idb::modify(&db, key, change).await?;
        refresh(st);
        Ok(())
    });
}

/// Keep each kept file's patterns in step with the classifier's answer for it.
pub fn track_patterns(st: St) {
    Effect::new(move |_| {
        if let (Some(classes), Some(doc)) = (st.classes.get(), st.doc.get()) {
            // Read so that a file kept after its label came still gets it.
            st.kept.track();
            classified(st, &doc, &classes);
        }
    });
}

/// File `doc` has its classes (on screen, or replaced by another before they came): put its
/// pattern summary into its library entry, if it has one.
pub fn classified(st: St, doc: &Rc<Doc>, classes: &crate::state::Classes) {
    let Some(key) = key_of(doc) else {
        return;
    };
    let calls: Vec<Option<model::Call>> = (0..doc.file.wafers.len())
        .map(|i| classes.call(doc, i))
        .collect();
    let labels: Vec<Option<&str>> = calls.iter().flatten().map(|c| c.label()).collect();
    if labels.is_empty() {
        return;
    }
    let summary = pattern_summary(&labels, classes.model_version);
    let current = st.library.get_untracked().and_then(|l| {
        l.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| e.pattern.clone())
    });
    if current.flatten().as_deref() != Some(&summary) {
        update(st, key, move |e| e.pattern = Some(summary));
    }
}

/// Open kept file `key` again: its packed bytes go to the worker, which classifies them.
fn reopen(st: St, loader: Rc<Loader>, key: u32, name: String) {
    st.begin(&name);
    st.origin.set(Origin::Library(key));
    leptos::task::spawn_local(async move {
        let bytes = match db().await {
            Ok(db) => idb::packed(&db, key).await,
            Err(e) => Err(e),
        };
        match bytes {
            Ok(b) => loader.open_packed(st, &name, &b),
            Err(e) => st.fail(&name, &e.message),
        }
    });
}

/// The setting that keeps originals, as stored.
const KEEP_ORIGINAL: &str = "keep-original";

/// Read the user's settings into state.
fn load_settings(st: St) {
    with_db(st, move |db| async move {
        let keep = idb::setting(&db, KEEP_ORIGINAL).await?;
        st.keep_original.set(keep.as_bool().unwrap_or(false));
        Ok(())
    });
}

fn set_keep_original(st: St, keep: bool) {
    st.keep_original.set(keep);
    with_db(st, move |db| async move {
        idb::put_setting(&db, KEEP_ORIGINAL, &keep.into()).await
    });
}

/// Save kept file `key`'s original `index` (0 for a lone file) to disk, under the name it had.
fn download_original(st: St, key: u32, index: u32, name: String) {
    with_db(st, move |db| async move {
        let blob = idb::original(&db, key, index).await?;
        let failed = |e: wasm_bindgen::JsValue| LibraryError {
            message: format!("saving the original of {name}: {e:?}"),
            quota: false,
        };
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
        let a = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("a").ok())
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
        if let Some(a) = a {
            a.set_href(&url);
            a.set_download(&name);
            a.click();
        }
        // The download has its own reference by now.
        let _ = web_sys::Url::revoke_object_url(&url);
        Ok(())
    });
}

fn rename(st: St, key: u32, name: &str) {
    let asked = web_sys::window()
        .and_then(|w| w.prompt_with_message_and_default("New name", name).ok())
        .flatten();
    if let Some(new) = asked
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
    {
        update(st, key, move |e| e.name = new);
    }
}

fn delete(st: St, key: Option<u32>) {
    if key.is_none() {
        let sure = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Delete every file kept in this browser?")
                    .ok()
            })
            .unwrap_or(false);
        if !sure {
            return;
        }
    }
    with_db(st, move |db| async move {
        idb::delete(&db, key).await?;
        if key.is_none() || st.kept.get_untracked() == key {
            st.kept.set(None);
        }
        refresh(st);
        Ok(())
    });
}

fn megabytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

/// `ms` since the epoch as local "YYYY-MM-DD HH:MM": read the same in every country. Not
/// `toLocaleString`: its first call loads the browser's locale data, a 55-61 ms task on the
/// page's thread (CPU profile of Flex_3 opening), each time the library is listed in a new page.
fn local_time(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// The library: every kept file with its facts, to reopen, rename or delete.
#[component]
pub fn LibraryPanel(loader: StoredValue<Option<Rc<Loader>>, LocalStorage>) -> impl IntoView {
    let st = expect_context::<St>();
    refresh(st);
    load_settings(st);
    track_patterns(st);
    move || {
        let list = st.library.get().unwrap_or_default();
        let rows: Vec<_> = list
            .iter()
            .map(|(key, e)| {
                let key = *key;
                let (name, name2, name3) = (e.name.clone(), e.name.clone(), e.name.clone());
                let when = local_time(e.opened_ms);
                let yield_ = e
                    .yield_
                    .map_or("—".into(), |y| format!("{:.2}%", y * 100.0));
                let facts = format!(
                    "lot {} · {} wafer{} · {} dies · yield {} · {} · opened {when} · {}",
                    e.lot,
                    e.wafers,
                    if e.wafers == 1 { "" } else { "s" },
                    e.dies,
                    yield_,
                    e.pattern
                        .clone()
                        .unwrap_or_else(|| "not classified yet".into()),
                    megabytes(e.bytes as f64),
                );
                // A lone file's original beside the other actions; a lot's, each under its own
                // name, below its facts (the names would not fit the narrow column beside).
                let button = move |i: usize, file: String, label: String, b: u64| {
                    view! {
                        <button class="library-original" title="Save the original file"
                            data-index=i
                            on:click=move |_| download_original(st, key, i as u32, file.clone())>
                            {format!("{label} ({})", megabytes(b as f64))}</button>
                    }
                };
                let original = e
                    .original
                    .filter(|_| e.originals.is_empty())
                    .map(|b| button(0, name3, "original".into(), b));
                let lot_originals = (!e.originals.is_empty()).then(|| {
                    let buttons = e
                        .originals
                        .iter()
                        .enumerate()
                        .map(|(i, (n, b))| button(i, n.clone(), format!("original {n}"), *b))
                        .collect_view();
                    view! { <div class="library-originals">{buttons}</div> }
                });
                view! {
                    <tr data-id=key class:current=move || st.kept.get() == Some(key)>
                        <td>
                            <button class="link library-open" title="Open it again"
                                on:click=move |_| {
                                    if let Some(l) = loader.get_value() {
                                        reopen(st, l, key, name.clone());
                                    }
                                }>{e.name.clone()}</button>
                            <div class="muted library-facts">{facts}</div>
                            {lot_originals}
                        </td>
                        <td class="library-actions">
                            {original}
                            <button class="library-rename" title="Rename"
                                on:click=move |_| rename(st, key, &name2)>"✎"</button>
                            <button class="library-delete" title="Delete from this browser"
                                on:click=move |_| delete(st, Some(key))>"×"</button>
                        </td>
                    </tr>
                }
            })
            .collect();
        let usage = st.storage.get().map(|(used, quota, persisted)| {
            format!(
                "{} of {} used on this device · {}",
                megabytes(used),
                megabytes(quota),
                if persisted {
                    "kept until you delete it"
                } else {
                    "the browser may clear it when space runs low"
                }
            )
        });
        let empty = list.is_empty();
        view! {
            <div class="panel library" id="library" data-count=list.len()>
                <h3>"Library"</h3>
                {move || st.library_note.get().map(|n| view! { <p class="error" id="library-note">{n}</p> })}
                {empty.then(|| view! { <p class="muted">"Files you open are kept here, to reopen without the original or a network."</p> })}
                <table><tbody>{rows}</tbody></table>
                <p class="muted" id="library-usage">{usage}</p>
                <label class="muted"><input type="checkbox" id="library-keep-original"
                    prop:checked=move || st.keep_original.get()
                    on:change=move |ev| set_keep_original(st, event_target_checked(&ev)) />
                    " Keep the original files too (for files from disk; uses more space)"</label>
                {(!empty).then(|| view! {
                    <button id="library-clear" on:click=move |_| delete(st, None)>"Clear all"</button>
                })}
            </div>
        }
    }
}
