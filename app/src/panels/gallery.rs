//! The lot gallery: every wafer of the open file as a thumbnail (the map's palette), with its
//! id, dies, yield and pattern; sorted and filtered by each; a click opens the wafer.
//!
//! Thumbnails are drawn by the CPU rasterizer in the parsing worker, which keeps the file
//! (`ask::picture`), one wafer at a time so the panels' questions are answered in between: the
//! page's thread only makes each Blob's URL (it drew them itself until 2026-12-07, 30-50 ms a
//! wafer of the 25-wafer lot).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use paint::Layer;

use crate::doc::{Doc, Subject};
use crate::state::St;

/// Thumbnail side in pixels.
const SIDE: u32 = 112;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    File,
    YieldUp,
    YieldDown,
    Dies,
    Pattern,
    Id,
}

impl Order {
    const ALL: [(Order, &'static str, &'static str); 6] = [
        (Order::File, "file", "file order"),
        (Order::YieldUp, "yield-up", "lowest yield first"),
        (Order::YieldDown, "yield-down", "highest yield first"),
        (Order::Dies, "dies", "most dies first"),
        (Order::Pattern, "pattern", "pattern"),
        (Order::Id, "id", "wafer id"),
    ];
}

/// One card's facts.
struct Card {
    index: usize,
    id: String,
    dies: usize,
    yield_: Option<f64>,
    /// The classifier's label (None: none yet, or no label) and its call in words.
    label: Option<&'static str>,
    call: String,
    /// The file it came from, in a lot of several files.
    origin: String,
}

fn cards(st: St, doc: &Doc) -> Vec<Card> {
    let classes = st.classes.get();
    doc.file
        .wafers
        .iter()
        .enumerate()
        .map(|(index, w)| {
            let call = classes.as_ref().and_then(|c| c.call(doc, index));
            Card {
                index,
                id: w.id.clone(),
                dies: w.dies.len(),
                yield_: doc.yield_of(index),
                label: call.as_ref().and_then(|c| c.label()),
                call: call.map_or("…".into(), |c| c.text()),
                origin: w.origin.clone(),
            }
        })
        .collect()
}

fn sort(cards: &mut [Card], order: Order) {
    let y = |c: &Card| c.yield_.unwrap_or(f64::NAN);
    match order {
        Order::File => {}
        Order::YieldUp => cards.sort_by(|a, b| y(a).total_cmp(&y(b))),
        Order::YieldDown => cards.sort_by(|a, b| y(b).total_cmp(&y(a))),
        Order::Dies => cards.sort_by_key(|c| std::cmp::Reverse(c.dies)),
        Order::Pattern => cards.sort_by(|a, b| a.label.cmp(&b.label)),
        Order::Id => cards.sort_by(|a, b| a.id.cmp(&b.id)),
    }
}

/// Have the worker draw the thumbnails of `doc` (file `seq`), one after the other, while it is
/// the file open.
fn draw_thumbnails(st: St, doc: Rc<Doc>, seq: u32, thumbs: RwSignal<Vec<Option<String>>>) {
    spawn_local(async move {
        for i in 0..doc.file.wafers.len() {
            let open = |st: St| {
                st.doc
                    .with_untracked(|d| d.as_ref().is_some_and(|d| Rc::ptr_eq(d, &doc)))
            };
            if !open(st) {
                return;
            }
            // A wafer the worker cannot draw keeps its empty card; the others still come.
            let Ok(url) = crate::ask::picture(seq, i, Layer::HardBin, SIDE).await else {
                continue;
            };
            // Another file may have opened meanwhile: its gallery must not get this URL.
            let kept = open(st)
                && thumbs
                    .try_update(|v| v.get_mut(i).map(|slot| *slot = Some(url.clone())))
                    .flatten()
                    .is_some();
            if !kept {
                let _ = web_sys::Url::revoke_object_url(&url);
            }
        }
    });
}

#[component]
pub fn Gallery() -> impl IntoView {
    let st = expect_context::<St>();
    let order = RwSignal::new(Order::File);
    let only = RwSignal::new(String::new());
    let thumbs: RwSignal<Vec<Option<String>>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let doc = st.doc.get();
        thumbs.update(|v| {
            for url in v.drain(..).flatten() {
                let _ = web_sys::Url::revoke_object_url(&url);
            }
        });
        only.set(String::new());
        if let Some(doc) = doc.filter(|d| d.file.wafers.len() > 1) {
            thumbs.set(vec![None; doc.file.wafers.len()]);
            draw_thumbnails(st, doc, st.doc_seq.get_untracked(), thumbs);
        }
    });
    move || {
        let doc = st.doc.get().filter(|d| d.file.wafers.len() > 1)?;
        let mut all = cards(st, &doc);
        let mut patterns: Vec<&'static str> = all.iter().filter_map(|c| c.label).collect();
        patterns.sort();
        patterns.dedup();
        let want = only.get();
        all.retain(|c| want.is_empty() || c.label == Some(want.as_str()));
        sort(&mut all, order.get());
        let shown = all.len();
        let current = st.subject.get();
        let items: Vec<_> = all
            .into_iter()
            .map(|c| {
                let i = c.index;
                let src = move || thumbs.with(|t| t.get(i).cloned().flatten());
                let y = c
                    .yield_
                    .map_or("—".into(), |y| format!("{:.1}%", 100.0 * y));
                view! {
                    <button class="gallery-card" data-index=i data-wafer=c.id.clone() data-origin=c.origin.clone()
                        data-yield=c.yield_.unwrap_or(-1.0) data-pattern=c.label.unwrap_or("")
                        class:current=current == Subject::Wafer(i)
                        on:click=move |_| { st.subject.set(Subject::Wafer(i)); st.view.set(None); }>
                        <img alt=format!("wafer {}", c.id) width=SIDE height=SIDE src=src />
                        <b>{c.id.clone()}</b>
                        <span>{format!("{} dies · {y}", c.dies)}</span>
                        <span class="muted">{c.call}</span>
                        {(!c.origin.is_empty()).then(|| view! { <span class="muted origin">{c.origin.clone()}</span> })}
                    </button>
                }
            })
            .collect();
        let options: Vec<_> = Order::ALL
            .iter()
            .map(|(o, v, label)| view! { <option value=*v selected=order.get() == *o>{*label}</option> })
            .collect();
        let filters: Vec<_> = patterns
            .into_iter()
            .map(|p| view! { <option value=p selected=want == p>{p}</option> })
            .collect();
        Some(view! {
            <div class="panel gallery" id="gallery" data-count=doc.file.wafers.len() data-shown=shown>
                <h3>{format!("Lot · {} wafers", doc.file.wafers.len())}</h3>
                <p class="muted">
                    <label>"Sort "<select id="gallery-sort" on:change=move |e| {
                        let v = event_target_value(&e);
                        if let Some((o, _, _)) = Order::ALL.iter().find(|(_, k, _)| *k == v) { order.set(*o) }
                    }>{options}</select></label>
                    <label>" Pattern "<select id="gallery-pattern" on:change=move |e| only.set(event_target_value(&e))>
                        <option value="">"all"</option>{filters}</select></label>
                </p>
                <div class="gallery-grid">{items}</div>
            </div>
        })
    }
}
