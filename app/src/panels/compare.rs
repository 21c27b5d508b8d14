//! Side-by-side compare: the wafer on screen next to another of the file, both drawn by the CPU
//! rasterizer with the layer shown, in the parsing worker (`ask::picture`): two 360-pixel
//! pictures were two long tasks on the page's thread.

use leptos::prelude::*;
use paint::Layer;

use crate::doc::Subject;
use crate::state::St;

/// Picture side in pixels.
const SIDE: u32 = 360;

/// What a pair of pictures shows: file, the two wafers, the layer.
type Pair = (u32, usize, usize, Layer);

/// The pictures of a pair, as object URLs (revoked when replaced), or why the worker could not
/// draw one (said in its place, not an empty image).
struct Pictures {
    pair: Pair,
    urls: [Result<String, String>; 2],
}

impl Drop for Pictures {
    fn drop(&mut self) {
        for url in self.urls.iter().flatten() {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

#[component]
pub fn Compare() -> impl IntoView {
    let st = expect_context::<St>();
    let wanted = Memo::new(move |_| -> Option<Pair> {
        let doc = st.doc.get()?;
        let Subject::Wafer(a) = st.subject.get() else {
            return None;
        };
        let b = st
            .compare
            .get()
            .filter(|&b| b < doc.file.wafers.len() && b != a)?;
        Some((st.doc_seq.get(), a, b, st.layer.get()))
    });
    let pictures: RwSignal<Option<Pictures>, LocalStorage> = RwSignal::new_local(None);
    Effect::new(move |_| {
        let Some(pair) = wanted.get() else {
            pictures.set(None);
            return;
        };
        leptos::task::spawn_local(async move {
            let (seq, a, b, layer) = pair;
            let mut urls = [Err(String::new()), Err(String::new())];
            for (url, wafer) in urls.iter_mut().zip([a, b]) {
                *url = crate::ask::picture(seq, wafer, layer, SIDE).await;
            }
            // Dropped (and revoked) at once if the pair changed meanwhile.
            let drawn = Pictures { pair, urls };
            if wanted.try_get_untracked().flatten() == Some(pair) {
                let _ = pictures.try_set(Some(drawn));
            }
        });
    });
    move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(a) = st.subject.get() else {
            return None;
        };
        if doc.file.wafers.len() < 2 {
            return None;
        }
        let b = st.compare.get();
        let options: Vec<_> = doc
            .file
            .wafers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != a)
            .map(|(i, w)| view! { <option value=i.to_string() selected=Some(i) == b>{w.id.clone()}</option> })
            .collect();
        let shown = wanted.get().and_then(|pair| {
            pictures.with(|p| {
                let p = p.as_ref().filter(|p| p.pair == pair)?;
                Some((pair, p.urls.clone()))
            })
        });
        let drawing = wanted.get().is_some() && shown.is_none();
        let figure = |id: String, url: Result<String, String>| {
            match url {
            Ok(url) => view! { <figure><img src=url alt=id.clone()/><figcaption>{id}</figcaption></figure> }.into_any(),
            Err(e) => view! {
                <figure><div class="error compare-error">{format!("cannot draw {id}: {e}")}</div><figcaption>{id}</figcaption></figure>
            }
            .into_any(),
        }
        };
        let figures = shown.map(|((_, a, b, _), [left, right])| {
            let (ia, ib) = (doc.file.wafers[a].id.clone(), doc.file.wafers[b].id.clone());
            view! {
                <div class="compare" id="compare">
                    {figure(ia, left)}
                    {figure(ib, right)}
                </div>
            }
        });
        Some(view! {
            <div class="picker">
                <label>"Compare with "
                    <select id="compare-select" on:change=move |e| st.compare.set(event_target_value(&e).parse().ok())>
                        <option value="">"—"</option>
                        {options}
                    </select>
                </label>
                {drawing.then(|| view! { <span class="muted" id="compare-drawing">" Drawing…"</span> })}
                {figures}
            </div>
        })
    }
}
