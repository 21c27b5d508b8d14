//! The parsing Web Worker: reads a tester file off the main thread and posts the parsed file back
//! as a packed buffer (`wafer::pack`), with progress on the way, so the page never freezes.
//!
//! Messages in: `{kind: "file", file: File}` or `{kind: "demo", index: N}`.
//! Messages out: `{kind: "progress", fraction}`, `{kind: "done", name, packed: Uint8Array}`
//! (transferred, not copied), or `{kind: "error", name, message}`.

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::io::Read;

    use js_sys::{Array, Object, Reflect, Uint8Array};
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    fn set(o: &Object, k: &str, v: &JsValue) {
        // Setting a property on a plain object cannot fail.
        let _ = Reflect::set(o, &k.into(), v);
    }

    fn post(kind: &str, fields: &[(&str, JsValue)], transfer: Option<&JsValue>) {
        let o = Object::new();
        set(&o, "kind", &kind.into());
        for (k, v) in fields {
            set(&o, k, v);
        }
        let r = match transfer {
            Some(t) => scope().post_message_with_transfer(&o, &Array::of1(t)),
            None => scope().post_message(&o),
        };
        if let Err(e) = r {
            web_sys::console::error_2(&"worker: postMessage failed".into(), &e);
        }
    }

    /// Counts bytes read from the file, to report progress against its size.
    struct Counting<'a> {
        inner: &'a [u8],
        total: usize,
        last_step: usize,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            let done = self.total - self.inner.len();
            let step = done * 100 / self.total.max(1);
            if step != self.last_step {
                self.last_step = step;
                post(
                    "progress",
                    &[("fraction", (done as f64 / self.total as f64).into())],
                    None,
                );
            }
            Ok(n)
        }
    }

    fn parse(name: &str, bytes: &[u8]) {
        let counting = Counting {
            inner: bytes,
            total: bytes.len(),
            last_step: 0,
        };
        match wafer::read_from(counting) {
            Ok(f) => {
                let packed = Uint8Array::from(&wafer::pack::encode(&f)[..]);
                let buffer = packed.buffer();
                post(
                    "done",
                    &[("name", name.into()), ("packed", packed.into())],
                    Some(&buffer),
                );
            }
            Err(e) => post(
                "error",
                &[("name", name.into()), ("message", e.to_string().into())],
                None,
            ),
        }
    }

    fn on_message(e: MessageEvent) {
        let data = e.data();
        let kind = Reflect::get(&data, &"kind".into())
            .ok()
            .and_then(|v| v.as_string());
        match kind.as_deref() {
            Some("file") => {
                let file: File = match Reflect::get(&data, &"file".into()) {
                    Ok(f) => f.unchecked_into(),
                    Err(_) => return,
                };
                let name = file.name();
                let bytes = FileReaderSync::new()
                    .and_then(|r| r.read_as_array_buffer(&file))
                    .map(|b| Uint8Array::new(&b).to_vec());
                match bytes {
                    Ok(b) => parse(&name, &b),
                    Err(err) => {
                        let message = format!("the browser could not read the file: {err:?}");
                        post(
                            "error",
                            &[("name", name.into()), ("message", message.into())],
                            None,
                        );
                    }
                }
            }
            Some("demo") => {
                let index = Reflect::get(&data, &"index".into())
                    .ok()
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0) as usize;
                let files = wafer::demo::demo_files();
                let f = &files[index.min(files.len() - 1)];
                parse(&f.name, &f.bytes);
            }
            _ => {}
        }
    }

    pub fn start() {
        console_error_panic_hook::set_once();
        let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
        scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        // The worker lives as long as the page: keep the handler alive.
        handler.forget();
    }
}
