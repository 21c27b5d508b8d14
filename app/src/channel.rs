//! A Web Worker that speaks `protocol`, seen from the page: messages wait in an outbox until the
//! worker says it is listening (its wasm starts asynchronously, and a message that arrives before
//! its handler is lost). The parsing worker (`loader`) and the classifier worker (`classify`)
//! each have one.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::protocol::js::{JsWire, from_worker, post_to_worker};
use crate::protocol::{FromWorker, ToWorker};

pub struct Channel {
    worker: Worker,
    outbox: Rc<RefCell<Outbox>>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Option<Closure<dyn Fn(web_sys::Event)>>,
}

struct Outbox {
    ready: bool,
    queue: Vec<ToWorker<JsWire>>,
}

impl Channel {
    /// Start the worker at `url` (a Trunk loader shim); `received` gets every message but
    /// `Ready`, which the channel answers itself by sending what waits.
    pub fn new(
        url: &str,
        name: &'static str,
        received: impl Fn(FromWorker<JsWire>) + 'static,
    ) -> Result<Channel, String> {
        let worker =
            Worker::new(url).map_err(|e| format!("cannot start the {name} worker: {e:?}"))?;
        Ok(Channel::on(worker, name, received))
    }

    /// Start the module worker at `url` and post it `boot` first, before any message of the
    /// protocol: what it needs to start its wasm (`app/parsing.js`). `stopped` hears an error
    /// the worker did not catch: its wasm did not start, or stopped (a panic), either of which
    /// would otherwise leave the page waiting for an answer that never comes.
    pub fn module(
        url: &str,
        boot: &JsValue,
        name: &'static str,
        received: impl Fn(FromWorker<JsWire>) + 'static,
        stopped: impl Fn(String) + 'static,
    ) -> Result<Channel, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        options.set_name(name);
        let start = |e| format!("cannot start the {name} worker: {e:?}");
        let worker = Worker::new_with_options(url, &options).map_err(start)?;
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
            // An `ErrorEvent`; its message read by name, as it is all that is used of it.
            let message = js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "an unknown error".into());
            stopped(message);
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        worker.post_message(boot).map_err(start)?;
        let mut channel = Channel::on(worker, name, received);
        channel._on_error = Some(on_error);
        Ok(channel)
    }

    fn on(
        worker: Worker,
        name: &'static str,
        received: impl Fn(FromWorker<JsWire>) + 'static,
    ) -> Channel {
        let outbox = Rc::new(RefCell::new(Outbox {
            ready: false,
            queue: Vec::new(),
        }));
        let (w, o) = (worker.clone(), outbox.clone());
        let on_message =
            Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| match from_worker(&e) {
                Ok(FromWorker::Ready) => {
                    let queue = {
                        let mut o = o.borrow_mut();
                        o.ready = true;
                        std::mem::take(&mut o.queue)
                    };
                    for msg in queue {
                        post_to_worker(&w, msg);
                    }
                }
                Ok(msg) => received(msg),
                Err(err) => {
                    web_sys::console::error_1(&format!("from the {name} worker: {err}").into())
                }
            });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Channel {
            worker,
            outbox,
            _on_message: on_message,
            _on_error: None,
        }
    }

    /// Post now, or queue until the worker listens.
    pub fn post(&self, msg: ToWorker<JsWire>) {
        let mut o = self.outbox.borrow_mut();
        if o.ready {
            drop(o);
            post_to_worker(&self.worker, msg);
        } else {
            o.queue.push(msg);
        }
    }
}
