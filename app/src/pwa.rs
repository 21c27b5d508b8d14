//! The installed, offline app: the page's side of the service worker (`app/pwa/sw.js`, written
//! into the build by `app/pwa/build.mjs`) and of the OS's "open with Waferscope".
//!
//! - The worker is registered at `./sw.js?classifier=gpu` or `cpu`, the classifier worker this
//!   browser uses (`classify`), which it keeps beside the app; where the browser has none (an insecure origin, or
//!   service workers turned off) the page works as before, online only.
//! - A new build is fetched in the background by the browser. When it has installed while this
//!   page runs an older one, the page offers "reload to update"; only the user's click swaps the
//!   build, so it never changes under an open file.
//! - Files the OS hands to the installed app (`file_handlers` in the web manifest) arrive through
//!   `window.launchQueue`; the first one is opened.

use js_sys::{Array, Function, Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};

use crate::state::Offline;

fn container() -> Option<ServiceWorkerContainer> {
    let nav = web_sys::window()?.navigator();
    // `navigator.serviceWorker` is absent on insecure origins: check before web-sys casts it.
    let sw = Reflect::get(&nav, &"serviceWorker".into()).ok()?;
    (!sw.is_undefined()).then(|| nav.service_worker())
}

/// Register the service worker and keep `state` up to date with it.
pub fn register(state: RwSignal<Offline>) {
    let Some(c) = container() else {
        state.set(Offline::Unavailable(
            "this browser or origin has no service workers: the app works online only".into(),
        ));
        return;
    };
    // The page became served by a worker (the first one activating, or an accepted update).
    let on_control = {
        let c = c.clone();
        Closure::<dyn FnMut()>::new(move || {
            if c.controller().is_some() && state.get_untracked() != Offline::UpdateReady {
                state.set(Offline::Ready);
            }
        })
    };
    c.add_event_listener_with_callback("controllerchange", on_control.as_ref().unchecked_ref())
        .ok();
    on_control.forget();
    leptos::task::spawn_local(async move {
        // The worker keeps the classifier this browser will use, and only that one: the
        // WebGPU build is most of the app's bytes.
        let classifier = if crate::gpu::webgpu_available().await {
            "gpu"
        } else {
            "cpu"
        };
        let url = format!("./sw.js?classifier={classifier}");
        let reg = match JsFuture::from(c.register(&url)).await {
            // Some embedders (an automation that blocks service workers) resolve with nothing.
            Ok(r) if r.is_undefined() || r.is_null() => {
                state.set(Offline::Unavailable(
                    "service workers are turned off here: the app works online only".into(),
                ));
                return;
            }
            Ok(r) => r.unchecked_into::<ServiceWorkerRegistration>(),
            Err(e) => {
                state.set(Offline::Failed(format!(
                    "the offline service worker did not register: {}",
                    js_text(&e)
                )));
                return;
            }
        };
        state.set(if c.controller().is_some() {
            Offline::Ready
        } else {
            Offline::Installing
        });
        watch_updates(&c, &reg, state);
    });
}

/// Offer a new build once it has installed beside the one serving this page.
fn watch_updates(
    c: &ServiceWorkerContainer,
    reg: &ServiceWorkerRegistration,
    state: RwSignal<Offline>,
) {
    let offer = {
        let c = c.clone();
        move |w: &ServiceWorker| {
            // Without a controller this is the first install, not an update: it claims the page.
            if w.state() == ServiceWorkerState::Installed && c.controller().is_some() {
                state.set(Offline::UpdateReady);
            }
        }
    };
    if let Some(w) = reg.waiting() {
        offer(&w);
    }
    let on_found = {
        let reg = reg.clone();
        Closure::<dyn FnMut()>::new(move || {
            let Some(w) = reg.installing() else { return };
            let offer = offer.clone();
            let seen = w.clone();
            let on_state = Closure::<dyn FnMut()>::new(move || offer(&seen));
            w.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        })
    };
    reg.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
    on_found.forget();
}

/// The user accepted the update: the waiting build takes over, then the page reloads into it.
pub fn apply_update() {
    let Some(c) = container() else { return };
    leptos::task::spawn_local(async move {
        let Ok(reg) = JsFuture::from(c.ready().unwrap_or_else(|e| Promise::reject(&e))).await
        else {
            return;
        };
        let reg: ServiceWorkerRegistration = reg.unchecked_into();
        let Some(w) = reg.waiting() else {
            reload();
            return;
        };
        let on_control = Closure::<dyn FnMut()>::once(reload);
        c.add_event_listener_with_callback("controllerchange", on_control.as_ref().unchecked_ref())
            .ok();
        on_control.forget();
        w.post_message(&"waferscope:update".into()).ok();
    });
}

fn reload() {
    if let Some(w) = web_sys::window() {
        w.location().reload().ok();
    }
}

/// Open the files the OS launches the installed app with (`window.launchQueue`, Chromium).
pub fn on_launch(open: impl Fn(web_sys::File) + 'static) {
    let Some(queue) = web_sys::window()
        .and_then(|w| Reflect::get(&w, &"launchQueue".into()).ok())
        .filter(|q| !q.is_undefined() && !q.is_null())
    else {
        return;
    };
    let Ok(set) =
        Reflect::get(&queue, &"setConsumer".into()).map(|f| f.unchecked_into::<Function>())
    else {
        return;
    };
    let open = std::rc::Rc::new(open);
    let consumer = Closure::<dyn FnMut(JsValue)>::new(move |params: JsValue| {
        let files: Array = Reflect::get(&params, &"files".into())
            .map(|f| f.unchecked_into())
            .unwrap_or_default();
        let Some(handle) = files.iter().next() else {
            return;
        };
        let open = open.clone();
        leptos::task::spawn_local(async move {
            let get =
                Reflect::get(&handle, &"getFile".into()).map(|f| f.unchecked_into::<Function>());
            let Ok(p) = get.and_then(|g| g.call0(&handle)) else {
                return;
            };
            if let Ok(file) = JsFuture::from(p.unchecked_into::<Promise>()).await {
                open(file.unchecked_into());
            }
        });
    });
    set.call1(&queue, consumer.as_ref()).ok();
    consumer.forget();
}

fn js_text(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
