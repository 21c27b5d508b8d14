//! The library in IndexedDB: database `waferscope`, three object stores with the same keys.
//! `entries` holds each file's [`Entry`] as JSON (small: the list reads them all), `packed` its
//! packed bytes (read only to reopen it), `originals` the original file as the browser gave it
//! (a `File`, stored as is: its bytes never pass through wasm), only when the user keeps
//! originals. `models` keeps the last model verified from the edge (`manifest` and `weights`),
//! for use offline, and `settings` the user's choices. A file is added in one transaction over
//! its stores, so a failure (a full quota) leaves no part of it and nothing stored before is
//! touched.
//!
//! Every call waits for its transaction to complete, not just its request to succeed: only then
//! is the data on disk, and a quota error shows up as the transaction's abort.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

use super::Entry;

const DB: &str = "waferscope";
/// 2 added `models`, 3 `originals` and `settings`; an upgrade creates the stores a database
/// lacks.
const VERSION: u32 = 3;
const ENTRIES: &str = "entries";
const PACKED: &str = "packed";
const MODELS: &str = "models";
const ORIGINALS: &str = "originals";
const SETTINGS: &str = "settings";

/// Why the library could not do something, in words for the page.
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryError {
    pub message: String,
    /// The browser's storage for this site is full.
    pub quota: bool,
}

impl std::fmt::Display for LibraryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn error(what: &str, e: &JsValue) -> LibraryError {
    let name = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| d.name())
        .or_else(|| {
            js_sys::Reflect::get(e, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
        })
        .unwrap_or_default();
    let detail = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| d.message())
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| e.message().into()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    LibraryError {
        message: format!("{what}: {name} {detail}").trim_end().to_string(),
        quota: name == "QuotaExceededError",
    }
}

/// A request's result, once it succeeds.
async fn done(r: &IdbRequest) -> Result<JsValue, JsValue> {
    let r2 = r.clone();
    let p = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move || resolve.call0(&JsValue::NULL));
        let fail = Closure::once_into_js(move || reject.call0(&JsValue::NULL));
        r.set_onsuccess(Some(ok.unchecked_ref()));
        r.set_onerror(Some(fail.unchecked_ref()));
    });
    match JsFuture::from(p).await {
        Ok(_) => r2.result(),
        Err(_) => Err(r2.error().ok().flatten().map_or(JsValue::NULL, Into::into)),
    }
}

/// A transaction's end: Ok once committed, the reason when it aborts.
async fn committed(t: &IdbTransaction) -> Result<(), JsValue> {
    let t2 = t.clone();
    let p = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move || resolve.call0(&JsValue::NULL));
        let reject2 = reject.clone();
        let abort = Closure::once_into_js(move || reject.call0(&JsValue::NULL));
        let fail = Closure::once_into_js(move || reject2.call0(&JsValue::NULL));
        t.set_oncomplete(Some(ok.unchecked_ref()));
        t.set_onabort(Some(abort.unchecked_ref()));
        t.set_onerror(Some(fail.unchecked_ref()));
    });
    JsFuture::from(p).await.map(|_| ()).map_err(|_| {
        t2.error()
            .map_or_else(|| "the transaction was aborted".into(), Into::into)
    })
}

/// The open database (created on first use).
pub async fn open() -> Result<IdbDatabase, LibraryError> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| LibraryError {
            message: "this browser keeps no local data here (no IndexedDB)".into(),
            quota: false,
        })?;
    let req = factory
        .open_with_u32(DB, VERSION)
        .map_err(|e| error("opening the library", &e))?;
    let upgrade = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let db: Option<IdbDatabase> = js_sys::Reflect::get(&e, &"target".into())
            .ok()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|d| d.dyn_into().ok());
        if let Some(db) = db {
            for store in [ENTRIES, PACKED, MODELS, ORIGINALS, SETTINGS] {
                if !db.object_store_names().contains(store) {
                    let _ = db.create_object_store(store);
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = done(&req)
        .await
        .map_err(|e| error("opening the library", &e))?;
    drop(upgrade);
    Ok(db.unchecked_into())
}

fn stores(
    db: &IdbDatabase,
    names: &[&str],
    mode: IdbTransactionMode,
) -> Result<(IdbTransaction, Vec<IdbObjectStore>), JsValue> {
    let list: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    let t = db.transaction_with_str_sequence_and_mode(&list, mode)?;
    let s = names
        .iter()
        .map(|n| t.object_store(n))
        .collect::<Result<_, _>>()?;
    Ok((t, s))
}

/// Every entry with its key, in the order they were added.
pub async fn list(db: &IdbDatabase) -> Result<Vec<(u32, Entry)>, LibraryError> {
    let e = |e: JsValue| error("reading the library", &e);
    let (_, s) = stores(db, &[ENTRIES], IdbTransactionMode::Readonly).map_err(e)?;
    // Both asked before either is awaited: one transaction, one snapshot.
    let (keys, values) = (s[0].get_all_keys().map_err(e)?, s[0].get_all().map_err(e)?);
    let keys: Array = done(&keys).await.map_err(e)?.unchecked_into();
    let values: Array = done(&values).await.map_err(e)?.unchecked_into();
    Ok(keys
        .iter()
        .zip(values.iter())
        .filter_map(|(k, v)| {
            let entry = serde_json::from_str(&v.as_string()?).ok()?;
            Some((k.as_f64()? as u32, entry))
        })
        .collect())
}

/// Keep a file: its entry, its packed bytes and, if given, its originals (a `File`, or a lot's
/// several as an array), all or nothing. Answers its key.
pub async fn add(
    db: &IdbDatabase,
    entry: &Entry,
    packed: &Uint8Array,
    kept: Option<web_sys::Blob>,
    originals: &[web_sys::File],
) -> Result<u32, LibraryError> {
    let what = format!("keeping {} in the library", entry.name);
    let e = |e: JsValue| error(&what, &e);
    let json = serde_json::to_string(entry).map_err(|x| LibraryError {
        message: format!("{what}: {x}"),
        quota: false,
    })?;
    let (t, s) = stores(
        db,
        &[ENTRIES, PACKED, ORIGINALS],
        IdbTransactionMode::Readwrite,
    )
    .map_err(e)?;
    // The key is one past the largest so far (IndexedDB's own key generator needs a store
    // created with it; explicit keys keep both stores in step).
    let last = done(
        &s[0]
            .open_key_cursor_with_range_and_direction(
                &JsValue::UNDEFINED,
                web_sys::IdbCursorDirection::Prev,
            )
            .map_err(e)?,
    )
    .await
    .map_err(e)?;
    let key = if last.is_null() {
        1
    } else {
        let k = js_sys::Reflect::get(&last, &"key".into()).map_err(e)?;
        k.as_f64().unwrap_or(0.0) as u32 + 1
    };
    let put = |store: &IdbObjectStore, v: &JsValue| -> Result<(), LibraryError> {
        // A full quota may throw here or abort the transaction later: both end up in `e`.
        store.put_with_key(v, &key.into()).map(|_| ()).map_err(e)
    };
    // As a Blob: putting 50 MB of bytes makes IndexedDB clone them on the page's thread (80 ms
    // for a lot of a million dies); a Blob is one copy into the browser's blob store, then a
    // reference. Older entries hold the bytes themselves; `packed` reads both. The parsing
    // worker makes the Blob (`kept`), so that copy is off the page's thread too; the page makes
    // it only when the worker could not.
    let blob = match kept {
        Some(b) => b,
        None => {
            web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(packed)).map_err(e)?
        }
    };
    let stored = put(&s[0], &json.into())
        .and_then(|_| put(&s[1], &blob))
        .and_then(|_| match originals {
            [] => Ok(()),
            // One file as itself, as entries kept before lots had originals.
            [f] => put(&s[2], f),
            many => put(&s[2], &many.iter().collect::<js_sys::Array>()),
        });
    if let Err(x) = stored {
        let _ = t.abort();
        return Err(x);
    }
    committed(&t).await.map_err(e)?;
    Ok(key)
}

/// The packed bytes of entry `key`.
pub async fn packed(db: &IdbDatabase, key: u32) -> Result<Vec<u8>, LibraryError> {
    let e = |e: JsValue| error("reading the file from the library", &e);
    let (_, s) = stores(db, &[PACKED], IdbTransactionMode::Readonly).map_err(e)?;
    let v = done(&s[0].get(&key.into()).map_err(e)?).await.map_err(e)?;
    if v.is_undefined() {
        return Err(LibraryError {
            message: "that file is no longer in the library".into(),
            quota: false,
        });
    }
    match v.dyn_into::<web_sys::Blob>() {
        Ok(blob) => {
            let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
                .await
                .map_err(e)?;
            Ok(Uint8Array::new(&buffer).to_vec())
        }
        Err(v) => Ok(v.unchecked_into::<Uint8Array>().to_vec()),
    }
}

/// Original file `index` kept with entry `key` (0 for a lone file).
pub async fn original(
    db: &IdbDatabase,
    key: u32,
    index: u32,
) -> Result<web_sys::Blob, LibraryError> {
    let e = |e: JsValue| error("reading the original from the library", &e);
    let (_, s) = stores(db, &[ORIGINALS], IdbTransactionMode::Readonly).map_err(e)?;
    let v = done(&s[0].get(&key.into()).map_err(e)?).await.map_err(e)?;
    let v = match v.dyn_into::<js_sys::Array>() {
        Ok(lot) => lot.get(index),
        Err(one) if index == 0 => one,
        Err(_) => JsValue::UNDEFINED,
    };
    v.dyn_into().map_err(|_| LibraryError {
        message: "the original of that file was not kept".into(),
        quota: false,
    })
}

/// A setting of the user's (`name`'s value), if ever set.
pub async fn setting(db: &IdbDatabase, name: &str) -> Result<JsValue, LibraryError> {
    let e = |e: JsValue| error("reading the settings", &e);
    let (_, s) = stores(db, &[SETTINGS], IdbTransactionMode::Readonly).map_err(e)?;
    done(&s[0].get(&name.into()).map_err(e)?).await.map_err(e)
}

pub async fn put_setting(
    db: &IdbDatabase,
    name: &str,
    value: &JsValue,
) -> Result<(), LibraryError> {
    let e = |e: JsValue| error("keeping the settings", &e);
    let (t, s) = stores(db, &[SETTINGS], IdbTransactionMode::Readwrite).map_err(e)?;
    s[0].put_with_key(value, &name.into()).map_err(e)?;
    committed(&t).await.map_err(e)
}

/// Change entry `key`'s facts (a new name, the pattern once classified, the time opened):
/// read, changed and written in one transaction, so two changes at once (a reopen's time and
/// its pattern) both land. An entry deleted meanwhile stays deleted.
pub async fn modify(
    db: &IdbDatabase,
    key: u32,
    change: impl FnOnce(&mut Entry),
) -> Result<(), LibraryError> {
    let e = |e: JsValue| error("updating the library", &e);
    let (t, s) = stores(db, &[ENTRIES], IdbTransactionMode::Readwrite).map_err(e)?;
    let stored = done(&s[0].get(&key.into()).map_err(e)?).await.map_err(e)?;
    let entry = stored
        .as_string()
        .and_then(|j| serde_json::from_str::<Entry>(&j).ok());
    if let Some(mut entry) = entry {
        change(&mut entry);
        let json = serde_json::to_string(&entry).unwrap_or_default();
        s[0].put_with_key(&json.into(), &key.into()).map_err(e)?;
    }
    committed(&t).await.map_err(e)
}

/// Delete entry `key`, or every entry with None.
pub async fn delete(db: &IdbDatabase, key: Option<u32>) -> Result<(), LibraryError> {
    let e = |e: JsValue| error("deleting from the library", &e);
    let (t, s) = stores(
        db,
        &[ENTRIES, PACKED, ORIGINALS],
        IdbTransactionMode::Readwrite,
    )
    .map_err(e)?;
    for store in &s {
        match key {
            Some(k) => store.delete(&k.into()).map(|_| ()),
            None => store.clear().map(|_| ()),
        }
        .map_err(e)?;
    }
    committed(&t).await.map_err(e)
}

/// Keep a verified model (its manifest's text and its weights), replacing the one kept before.
pub async fn put_model(
    db: &IdbDatabase,
    manifest: &str,
    weights: &[u8],
) -> Result<(), LibraryError> {
    let e = |e: JsValue| error("keeping the model for offline use", &e);
    let (t, s) = stores(db, &[MODELS], IdbTransactionMode::Readwrite).map_err(e)?;
    let w = Uint8Array::from(weights);
    let put = s[0]
        .put_with_key(&manifest.into(), &"manifest".into())
        .and_then(|_| s[0].put_with_key(&w.into(), &"weights".into()));
    if let Err(x) = put {
        let _ = t.abort();
        return Err(e(x));
    }
    committed(&t).await.map_err(e)
}

/// The model kept by [`put_model`], if any.
pub async fn model(db: &IdbDatabase) -> Result<Option<(String, Vec<u8>)>, LibraryError> {
    let e = |e: JsValue| error("reading the kept model", &e);
    let (_, s) = stores(db, &[MODELS], IdbTransactionMode::Readonly).map_err(e)?;
    let (m, w) = (
        s[0].get(&"manifest".into()).map_err(e)?,
        s[0].get(&"weights".into()).map_err(e)?,
    );
    let (m, w) = (done(&m).await.map_err(e)?, done(&w).await.map_err(e)?);
    match (m.as_string(), w.dyn_into::<Uint8Array>()) {
        (Some(m), Ok(w)) => Ok(Some((m, w.to_vec()))),
        _ => Ok(None),
    }
}

/// Bytes used and available to this site (`navigator.storage.estimate()`), where known.
pub async fn estimate() -> Option<(f64, f64)> {
    let storage = web_sys::window()?.navigator().storage();
    let e = JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).ok()?.as_f64();
    Some((get("usage")?, get("quota")?))
}

/// Ask that this site's data is not evicted under storage pressure; answers whether it is
/// persistent now.
pub async fn persist() -> bool {
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else {
        return false;
    };
    if let Ok(p) = storage.persisted()
        && JsFuture::from(p).await.ok().and_then(|v| v.as_bool()) == Some(true)
    {
        return true;
    }
    match storage.persist() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    }
}
