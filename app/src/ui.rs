//! The page: its layout, file opening (picker, drag-and-drop, demo), and the wiring of the parts
//! (state, loader, map, panels, edge, classifier, test hooks). The top of the web modules: it uses
//! them all, and nothing uses it but `main`.

use std::rc::Rc;

use leptos::prelude::*;
use web_sys::DragEvent;

use crate::doc::Subject;
use crate::hooks::{self, Status};
use crate::loader::Loader;
use crate::map::{MapCanvas, MapHandle};
use crate::panels::*;
use crate::state::{Offline, St};

#[component]
pub fn App() -> impl IntoView {
    let st = St::new();
    provide_context(st);
    let loader: StoredValue<Option<Rc<Loader>>, LocalStorage> =
        StoredValue::new_local(match Loader::new(st) {
            Ok(l) => Some(Rc::new(l)),
            Err(e) => {
                st.error.set(Some(e));
                None
            }
        });
    let map = MapHandle::new(st);
    let open_file = move |f: web_sys::File| {
        if let Some(l) = loader.get_value() {
            l.open_file(st, f);
        }
    };

    if let Some(l) = loader.get_value() {
        crate::edge::probe(st, l);
    }
    crate::edge::track_prediction(st);
    crate::pwa::register(st.offline);
    crate::classify::start_when_idle(st);
    crate::pwa::on_launch(open_file);

    // Recolour when the file, subject, layer, hidden bins, pass or marked dies change (one
    // effect, so the colours never lag the file behind another effect's turn).
    let kept = StoredValue::new_local(None);
    Effect::new(move |_| {
        let c = kept.try_update_value(|k| st.coloring_of_shown(k)).flatten();
        st.coloring.set(c);
    });
    // Marks belong to one map: another wafer drops them.
    Effect::new(move |prev: Option<Subject>| {
        let s = st.subject.get();
        if prev.is_some_and(|p| p != s) {
            st.forget_marks();
        }
        s
    });
    hooks::install(st, map);

    // Several files chosen or dropped together are one lot.
    let open_list = move |list: Option<web_sys::FileList>| {
        let files: Vec<web_sys::File> = list
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        if let Some(l) = loader.get_value() {
            l.open_files(st, files);
        }
    };
    let on_pick = move |e: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&e);
        open_list(input.files());
        input.set_value("");
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |e: DragEvent| {
        e.prevent_default();
        dragging.set(false);
        open_list(e.data_transfer().and_then(|d| d.files()));
    };
    let demo = move |i: usize| {
        move |_| {
            if let Some(l) = loader.get_value() {
                l.open_demo(st, i);
            }
        }
    };

    view! {
        <div class="app" class:dragging=move || dragging.get()
            on:dragover=move |e: DragEvent| { e.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <header>
                <h1>"Waferscope"</h1>
                <label class="button primary">"Open STDF file…"
                    <input id="file-input" type="file" multiple on:change=on_pick hidden />
                </label>
                <button id="demo" on:click=demo(0)>"Open demo wafer"</button>
                <Exports/>
                <span class="spacer"></span>
                <OfflineBadge/>
                <span class="backend" id="backend" title="what draws the map">{move || st.backend.get()}</span>
            </header>
            <Progress/>
            <UpdateOffer/>
            <Messages/>
            <main>
                <aside class="left">
                    <WaferPicker/>
                    <LayerPicker/>
                    <Legend/>
                    <Summary/>
                    <Compare/>
                    <crate::edge::EdgePanel loader=loader/>
                    <crate::library::keep::LibraryPanel loader=loader/>
                </aside>
                <section class="center">
                    <FileTitle/>
                    <MapCanvas map=map><crate::overlay::Overlay map=map/><Tooltip/></MapCanvas>
                    <p class="hint">"Drag to pan · wheel or pinch to zoom · arrows and +/− · F or double-click to fit · click a die to pin it · shift-drag to select dies"</p>
                    <Later step=1><Gallery/></Later>
                </section>
                <aside class="right">
                    <Pattern/><Pinned/>
                    <Later step=4><Selection/></Later>
                    <Later step=5><Retests/></Later>
                    <Later step=2><Tests/></Later>
                    <Later step=3><Histogram/></Later>
                    <Later step=6><Zones/></Later>
                    <Later step=7><Reticle/></Later>
                    <Later step=8><Sites/></Later>
                </aside>
            </main>
            <div class="drop-hint">"Drop STDF files (.stdf, .std, .gz, .bz2, .xz, .zip) to open them; several make one lot"</div>
            <Status/>
        </div>
    }
}

/// Whether a reload works without the network.
#[component]
fn OfflineBadge() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let (text, title) = match st.offline.get() {
            Offline::Ready | Offline::UpdateReady => (
                "works offline",
                "This build is stored in the browser: it starts and opens files without a network"
                    .to_string(),
            ),
            Offline::Installing => (
                "storing for offline…",
                "Storing this build in the browser so that it starts without a network".into(),
            ),
            Offline::Unavailable(why) | Offline::Failed(why) => ("online only", why),
            Offline::Starting => return None,
        };
        Some(view! { <span class="backend" id="offline" title=title>{text}</span> })
    }
}

/// A newer build is stored and waits: the user chooses when to switch to it.
#[component]
fn UpdateOffer() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        (st.offline.get() == Offline::UpdateReady).then(|| {
            let open = st.doc.with(|d| d.is_some());
            view! {
                <div class="update" id="update" role="status">
                    "A new version of Waferscope is ready. "
                    <button id="update-reload" on:click=|_| crate::pwa::apply_update()>"Reload to update"</button>
                    {open.then_some(" (the open file closes; open it again after the reload)")}
                </div>
            }
        })
    }
}

#[component]
fn Progress() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let name = st.loading.get()?;
        let p = st.progress.get().unwrap_or(0.0);
        Some(view! {
            <div class="progress" id="progress">
                <span>{format!("Reading {name}… {:.0}%", p * 100.0)}</span>
                <progress max="1" value=p></progress>
            </div>
        })
    }
}

#[component]
fn Messages() -> impl IntoView {
    let st = expect_context::<St>();
    let error = move || {
        st.error
            .get()
            .map(|e| view! { <div class="error" id="error" role="alert">{e}</div> })
    };
    let warnings = move || {
        let doc = st.doc.get()?;
        let f = &doc.file;
        let mut lines: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        if f.wafers.is_empty() {
            lines.push(format!(
                "{} has no wafer map: {} parts were tested outside any wafer (final test)",
                doc.name,
                f.loose_parts.len()
            ));
        }
        if lines.is_empty() {
            return None;
        }
        let title = if f.is_partial() {
            "Partial file: showing everything read before the damage"
        } else {
            "Notes"
        };
        let items: Vec<_> = lines.into_iter().map(|l| view! { <li>{l}</li> }).collect();
        Some(view! { <div class="warning" id="warnings"><b>{title}</b><ul>{items}</ul></div> })
    };
    view! { {error} {warnings} }
}

#[component]
fn FileTitle() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let doc = st.doc.get()?;
        let m = &doc.file.meta;
        let what = match st.subject.get() {
            Subject::Wafer(i) => doc
                .file
                .wafers
                .get(i)
                .map(|w| format!("wafer {}", w.id))
                .unwrap_or_default(),
            Subject::Stack => "all wafers".into(),
        };
        Some(view! {
            <div class="file-title">
                <b>{doc.name.clone()}</b>
                <span class="muted">{format!(" · lot {} · {} · {} · {}", m.lot_id, m.part_type, m.tester_type, what)}</span>
            </div>
        })
    }
}
