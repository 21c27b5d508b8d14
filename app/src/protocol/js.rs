//! The protocol's messages as JS objects: [`JsWire`] is a message's fields on a plain object,
//! with the transfer list that moves its byte buffers instead of copying them; and the two
//! `post` calls, page to worker and worker to page.

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent, Worker};

use super::{DecodeError, FromWorker, ToWorker, Wire};

/// A message as posted: a plain object, and the buffers to move with it.
pub struct JsWire {
    object: JsValue,
    transfer: Array,
}

impl JsWire {
    fn set(&self, key: &str, value: &JsValue) {
        // Setting a property on a plain object cannot fail.
        let _ = Reflect::set(&self.object, &key.into(), value);
    }

    fn get(&self, key: &str) -> JsValue {
        Reflect::get(&self.object, &key.into()).unwrap_or(JsValue::UNDEFINED)
    }

    fn received(e: &MessageEvent) -> JsWire {
        JsWire {
            object: e.data(),
            transfer: Array::new(),
        }
    }
}

impl Wire for JsWire {
    type File = File;
    type Bytes = Uint8Array;
    type Blob = web_sys::Blob;

    fn empty() -> Self {
        JsWire {
            object: Object::new().into(),
            transfer: Array::new(),
        }
    }
    fn put_str(&mut self, key: &'static str, value: &str) {
        self.set(key, &value.into());
    }
    fn put_num(&mut self, key: &'static str, value: f64) {
        self.set(key, &value.into());
    }
    fn put_bool(&mut self, key: &'static str, value: bool) {
        self.set(key, &value.into());
    }
    fn put_floats(&mut self, key: &'static str, value: &[f32]) {
        self.set(key, &Float32Array::from(value).into());
    }
    fn put_names(&mut self, key: &'static str, value: &[Option<String>]) {
        let list: Array = value
            .iter()
            .map(|s| s.as_deref().map_or(JsValue::NULL, JsValue::from))
            .collect();
        self.set(key, &list.into());
    }
    fn put_file(&mut self, key: &'static str, value: File) {
        self.set(key, &value.into());
    }
    fn put_files(&mut self, key: &'static str, value: Vec<File>) {
        let list: Array = value.into_iter().map(JsValue::from).collect();
        self.set(key, &list.into());
    }
    fn put_bytes(&mut self, key: &'static str, value: Uint8Array) {
        self.transfer.push(&value.buffer());
        self.set(key, &value.into());
    }
    fn put_blob(&mut self, key: &'static str, value: web_sys::Blob) {
        // Cloned by reference: the bytes stay in the browser's blob store.
        self.set(key, &value.into());
    }

    fn has(&self, key: &'static str) -> bool {
        let v = self.get(key);
        !(v.is_undefined() || v.is_null())
    }
    fn str(&self, key: &'static str) -> Option<String> {
        self.get(key).as_string()
    }
    fn num(&self, key: &'static str) -> Option<f64> {
        self.get(key).as_f64()
    }
    fn bool(&self, key: &'static str) -> Option<bool> {
        self.get(key).as_bool()
    }
    fn floats(&self, key: &'static str) -> Option<Vec<f32>> {
        let a: Float32Array = self.get(key).dyn_into().ok()?;
        Some(a.to_vec())
    }
    fn names(&self, key: &'static str) -> Option<Vec<Option<String>>> {
        let a: Array = self.get(key).dyn_into().ok()?;
        Some(a.iter().map(|v| v.as_string()).collect())
    }
    fn file(&self, key: &'static str) -> Option<File> {
        self.get(key).dyn_into().ok()
    }
    fn files(&self, key: &'static str) -> Option<Vec<File>> {
        let a: Array = self.get(key).dyn_into().ok()?;
        a.iter().map(|v| v.dyn_into().ok()).collect()
    }
    fn bytes(&self, key: &'static str) -> Option<Uint8Array> {
        self.get(key).dyn_into().ok()
    }
    fn blob(&self, key: &'static str) -> Option<web_sys::Blob> {
        self.get(key).dyn_into().ok()
    }
}

/// Post a message to the worker, moving its buffers.
pub fn post_to_worker(worker: &Worker, msg: ToWorker<JsWire>) {
    let w = msg.encode();
    if let Err(e) = worker.post_message_with_transfer(&w.object, &w.transfer) {
        web_sys::console::error_2(&"postMessage to the worker failed".into(), &e);
    }
}

/// From inside the worker: post a message to the page, moving its buffers.
pub fn post_to_page(msg: FromWorker<JsWire>) {
    let w = msg.encode();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Err(e) = scope.post_message_with_transfer(&w.object, &w.transfer) {
        web_sys::console::error_2(&"worker: postMessage failed".into(), &e);
    }
}

/// What the page posted (read in the worker).
pub fn from_page(e: &MessageEvent) -> Result<ToWorker<JsWire>, DecodeError> {
    ToWorker::decode(&JsWire::received(e))
}

/// The ask or export a message from the page names, when it did not decode
/// ([`ToWorker::pending`]).
pub fn pending_of(e: &MessageEvent) -> Option<super::Pending> {
    ToWorker::pending(&JsWire::received(e))
}

/// What the worker posted (read in the page).
pub fn from_worker(e: &MessageEvent) -> Result<FromWorker<JsWire>, DecodeError> {
    FromWorker::decode(&JsWire::received(e))
}
