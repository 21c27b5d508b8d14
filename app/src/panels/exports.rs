//! Exports: the map on screen as a PNG (drawn again by the CPU rasterizer, same colours and
//! view), the file or wafer as CSV, and the file's report (the `report` crate's HTML, as
//! `waferscope report` writes it), handed to the browser as downloads. All three are written by
//! the parsing worker (`protocol::Export`), which keeps the file: the page's thread only hands
//! the browser the Blob it answers.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::doc::Subject;
use crate::protocol::Export;
use crate::state::St;

/// Hand a Blob (made in the parsing worker) to the browser as the download `name`.
fn download_blob(blob: &web_sys::Blob, name: &str) {
    if let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) {
        click_download(&url, name);
    }
}

fn click_download(url: &str, name: &str) {
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(a) = document
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(url);
}

#[component]
pub fn Exports() -> impl IntoView {
    let st = expect_context::<St>();
    // The CSV and the report are written by the parsing worker from the file it keeps (a lot's
    // report is seconds of work): the page only hands the browser the Blob it answers.
    let busy: RwSignal<Option<&'static str>> = RwSignal::new(None);
    let note: RwSignal<Option<String>> = RwSignal::new(None);
    let write = move |what: &'static str, export: Export, name: String| {
        busy.set(Some(what));
        note.set(None);
        let seq = st.doc_seq.get_untracked();
        leptos::task::spawn_local(async move {
            let written = crate::ask::export(seq, export).await;
            let _ = busy.try_set(None);
            match written {
                Ok(blob) => download_blob(&blob, &name),
                Err(e) => {
                    let _ = note.try_set(Some(format!("{what}: {e}")));
                }
            }
        });
    };
    // The map as shown, drawn by the worker from its file and the page's colours: drawing and
    // encoding it here was a 90-140 ms task for a 40k-die wafer.
    let export_png = move |_| {
        let (Some((doc, subject)), Some(coloring)) = (st.shown(), st.coloring.get_untracked())
        else {
            return;
        };
        let Some(canvas) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("map"))
            .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        let (width, height) = (canvas.width(), canvas.height());
        let view = st
            .current_view(width, height)
            .unwrap_or_else(|| paint::View::fit(&doc.geometry(subject), width, height));
        let export = Export::View {
            wafer: match subject {
                Subject::Wafer(i) => Some(i),
                Subject::Stack => None,
            },
            table: coloring.table.clone(),
            keys: coloring.keys.clone(),
            view,
            width,
            height,
            selected: st.selected.get_untracked(),
        };
        write("PNG", export, format!("{}.png", doc.name));
    };
    let export_csv = move |_| {
        let Some((doc, subject)) = st.shown() else {
            return;
        };
        let wafer = match subject {
            Subject::Wafer(i) => Some(doc.file.wafers[i].id.clone()),
            Subject::Stack => None,
        };
        write("CSV", Export::Csv { wafer }, format!("{}.csv", doc.name));
    };
    // The same self-contained report as `waferscope report`, with the patterns the page found.
    let export_report = move |_| {
        let Some(doc) = st.doc.get_untracked() else {
            return;
        };
        let classes = st.classes.get_untracked();
        let patterns = (0..doc.file.wafers.len())
            .map(|i| {
                classes
                    .as_ref()
                    .and_then(|c| c.call(&doc, i))
                    .map(|c| c.text())
            })
            .collect();
        let export = Export::Report {
            name: doc.name.clone(),
            patterns,
        };
        write("report", export, format!("{}.report.html", doc.name));
    };
    let idle = move || st.doc.get().is_none() || busy.get().is_some();
    view! {
        <button id="export-png" on:click=export_png disabled=idle
            data-busy=move || (busy.get() == Some("PNG")).then_some("1")>
            {move || if busy.get() == Some("PNG") { "Drawing the PNG…" } else { "Export PNG" }}
        </button>
        <button id="export-report" on:click=export_report disabled=idle
            data-busy=move || (busy.get() == Some("report")).then_some("1")>
            {move || if busy.get() == Some("report") { "Writing the report…" } else { "Report" }}
        </button>
        <button id="export-csv" on:click=export_csv disabled=idle
            data-busy=move || (busy.get() == Some("CSV")).then_some("1")>
            {move || if busy.get() == Some("CSV") { "Writing the CSV…" } else { "Export CSV" }}
        </button>
        {move || note.get().map(|n| view! { <span class="muted" id="export-note">{n}</span> })}
    }
}
