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
    /// Why the worker stopped (a module worker's uncaught error): nothing is posted any more.
    stopped: Option<String>,
}

impl Outbox {
    fn new() -> Rc<RefCell<Outbox>> {
        Rc::new(RefCell::new(Outbox {
            ready: false,
            queue: Vec::new(),
            stopped: None,
        }))
    }
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
        Ok(Channel::on(worker, Outbox::new(), name, received))
    }

    /// Start the module worker at `url` and post it `boot` first, before any message of the
    /// protocol: what it needs to start its wasm (`app/parsing.js`). An error the worker did
    /// not catch (its wasm did not start, or stopped: a panic) ends it: the worker is
    /// terminated, since a trapped wasm keeps no promise about its state, every later `post`
    /// is refused with the reason, and `stopped` hears it once. Otherwise the page would wait
    /// for answers that never come.
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
        let outbox = Outbox::new();
        let (w, o) = (worker.clone(), outbox.clone());
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
            // An `ErrorEvent`, or a plain `Event` when the script did not load.
            let message = js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "its script did not load".into());
            w.terminate();
            let why = format!("the {name} worker stopped: {message}");
            {
                let mut o = o.borrow_mut();
                if o.stopped.is_some() {
                    return;
                }
                o.queue.clear();
                o.stopped = Some(why.clone());
            }
            stopped(why);
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        if let Err(e) = worker.post_message(boot) {
            worker.terminate();
            return Err(start(e));
        }
        let mut channel = Channel::on(worker, outbox, name, received);
        channel._on_error = Some(on_error);
        Ok(channel)
    }

    fn on(
        worker: Worker,
        outbox: Rc<RefCell<Outbox>>,
        name: &'static str,
        received: impl Fn(FromWorker<JsWire>) + 'static,
    ) -> Channel {
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

    /// Post now, or queue until the worker listens; refused, with the reason, once the worker
    /// has stopped.
    pub fn post(&self, msg: ToWorker<JsWire>) -> Result<(), String> {
        let mut o = self.outbox.borrow_mut();
        if let Some(why) = &o.stopped {
            return Err(why.clone());
        }
        if o.ready {
            drop(o);
            post_to_worker(&self.worker, msg);
        } else {
            o.queue.push(msg);
        }
        Ok(())
    }
}
