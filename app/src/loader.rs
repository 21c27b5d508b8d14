//! Hands files to the parsing Web Worker and turns its messages into app state.

use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{File, MessageEvent, Worker};

use crate::doc::Doc;
use crate::state::St;

/// The worker, created once per page; it stays alive between files.
pub struct Loader {
    worker: Worker,
    _on_message: Closure<dyn Fn(MessageEvent)>,
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap_or(JsValue::UNDEFINED)
}

impl Loader {
    pub fn new(st: St) -> Result<Loader, String> {
        // Trunk builds `worker` with a loader shim next to the page.
        let worker = Worker::new("./worker_loader.js")
            .map_err(|e| format!("cannot start the parsing worker: {e:?}"))?;
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            match get(&data, "kind").as_string().as_deref() {
                Some("progress") => st.progress.set(get(&data, "fraction").as_f64()),
                Some("done") => {
                    let name = get(&data, "name").as_string().unwrap_or_default();
                    let bytes = Uint8Array::new(&get(&data, "packed")).to_vec();
                    st.progress.set(None);
                    st.parse_ms.set(get(&data, "parse_ms").as_f64());
                    match wafer::pack::decode(&bytes) {
                        Ok(file) => st.open(Rc::new(Doc::new(name, file))),
                        Err(e) => st.fail(&name, &e.to_string()),
                    }
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
        if let Err(e) = self.worker.post_message(&o) {
            web_sys::console::error_2(&"postMessage to worker failed".into(), &e);
        }
    }

    pub fn open_file(&self, st: St, file: File) {
        st.begin(&file.name());
        self.send(&[("kind", "file".into()), ("file", file.into())]);
    }

    pub fn open_demo(&self, st: St, index: usize) {
        st.begin("demo");
        self.send(&[("kind", "demo".into()), ("index", (index as f64).into())]);
    }
}
