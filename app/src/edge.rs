//! The shared edge, when the app is served by the edge Worker: list the wafers stored there, open
//! one (also from a shared link, `?wafer=HASH`), and show the edge's cached prediction for the
//! wafer on screen beside the in-browser one.
//!
//! Served any other way (a static server, a file on a plane) the probe finds no API and nothing
//! here shows: the viewer stays fully offline.

use std::rc::Rc;

use api::path;
use gloo_net::http::Request;
use leptos::prelude::*;

use crate::doc::Subject;
use crate::loader::Loader;
use crate::state::{EdgePrediction, St};

async fn get_text(url: &str) -> Result<String, String> {
    let r = Request::get(url).send().await.map_err(|e| e.to_string())?;
    if !r.ok() {
        return Err(format!("{url}: HTTP {}", r.status()));
    }
    r.text().await.map_err(|e| e.to_string())
}

thread_local! {
    /// Edge model versions whose weights did not check out: not fetched again this session.
    static REFUSED: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The edge's current model (manifest, weights, version) when it is not the page's, and only
/// once its weights match the sha256 that both the edge's answer and the manifest name. None
/// when the edge does not answer, has the same model, or sent weights that do not check out
/// (the page's note says so, and the model in use stays).
pub async fn newer_model(st: St) -> Option<(String, Vec<u8>, u32)> {
    let info: api::ModelInfo = serde_json::from_str(&get_text(path::MODEL).await.ok()?).ok()?;
    let current = crate::loader::model_version();
    if current == Some(info.version) || REFUSED.with_borrow(|r| r.contains(&info.version)) {
        return None;
    }
    let r = Request::get(&info.weights_url).send().await.ok()?;
    if !r.ok() {
        return None;
    }
    let weights = r.binary().await.ok()?;
    let sum = model::sha256_hex(&weights);
    let manifest = serde_json::from_str::<model::Manifest>(&info.manifest).ok();
    let fits = manifest.as_ref().is_some_and(|m| {
        m.sha256 == sum
            && m.model_version == info.version
            && m.feature_spec_version == features::SPEC_VERSION
    });
    if sum != info.sha256 || !fits {
        REFUSED.with_borrow_mut(|r| r.push(info.version));
        let keep = current.map_or("the shipped one".into(), |v| format!("v{v}"));
        st.model_note.set(Some(format!(
            "the edge's model v{} was refused: its weights have sha256 {sum}, its manifest \
             says {}; model {keep} stays",
            info.version, info.sha256
        )));
        return None;
    }
    Some((info.manifest, weights, info.version))
}

/// The wafer a shared link names (`?wafer=`), as written.
fn shared_wafer() -> Option<String> {
    let q = web_sys::window()?.location().search().ok()?;
    q.trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("wafer=").map(str::to_string))
}

/// Whether the page was opened by a shared link, whose wafer it opens once the edge answers.
pub fn shared_link() -> bool {
    shared_wafer().is_some()
}

/// Look for the edge API; when found, list its wafers and open the one a shared link names.
pub fn probe(st: St, loader: Rc<Loader>) {
    leptos::task::spawn_local(async move {
        let Ok(text) = get_text(path::WAFERS).await else {
            return;
        };
        let Ok(list) = serde_json::from_str::<api::WaferList>(&text) else {
            return;
        };
        st.edge.set(Some(Rc::new(list.wafers)));
        let shared = shared_wafer();
        // The link is outside input: only a wafer hash (64 lower-case hex digits) becomes a
        // request path.
        match shared {
            Some(hash) if path::is_hash(&hash) => open(st, loader, hash),
            Some(_) => st.fail(
                "shared link",
                "?wafer= must be a wafer's hash (64 lower-case hex digits)",
            ),
            None => {}
        }
    });
}

/// Open a stored wafer: the Worker serves it packed, as the parsing worker hands files over.
pub fn open(st: St, loader: Rc<Loader>, hash: String) {
    let name = st
        .edge
        .get_untracked()
        .and_then(|l| l.iter().find(|w| w.hash == hash).cloned())
        .map_or_else(
            || format!("edge {}", &hash[..12.min(hash.len())]),
            |w| format!("{} {} (edge)", w.lot, w.wafer),
        );
    st.begin(&name);
    leptos::task::spawn_local(async move {
        let url = path::dies(&hash);
        let bytes = async {
            let r = Request::get(&url).send().await.map_err(|e| e.to_string())?;
            if !r.ok() {
                return Err(format!(
                    "HTTP {}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ));
            }
            r.binary().await.map_err(|e| e.to_string())
        }
        .await;
        match bytes {
            Ok(b) => loader.open_packed(st, &name, &b),
            Err(e) => st.fail(&name, &format!("the edge could not send the wafer: {e}")),
        }
    });
}

/// Ask the edge for the prediction of the wafer on screen (by its feature grid, so it works for
/// local files too: only the 64x64 grid leaves the page, never the file).
pub fn track_prediction(st: St) {
    Effect::new(move |_| {
        st.edge_prediction.set(None);
        if st.edge.get().is_none() {
            return;
        }
        let (Some(doc), Subject::Wafer(i)) = (st.doc.get(), st.subject.get()) else {
            return;
        };
        let Some(grid) = doc.grid(i).cloned() else {
            return;
        };
        let key = grid.hash().to_hex();
        leptos::task::spawn_local(async move {
            let result = async {
                let body = js_sys::Uint8Array::from(&grid.cells[..]);
                let r = Request::post(path::PREDICT)
                    .header("Content-Type", "application/octet-stream")
                    .body(body)
                    .map_err(|e| e.to_string())?
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let cache = r.headers().get("x-cache").unwrap_or_default();
                let text = r.text().await.map_err(|e| e.to_string())?;
                if !r.ok() {
                    return Err(format!("HTTP {}: {text}", r.status()));
                }
                let p: api::PredictionBody =
                    serde_json::from_str(&text).map_err(|e| e.to_string())?;
                Ok(EdgePrediction {
                    label: p.label,
                    text: p.confidence.text,
                    model_version: p.model_version,
                    cache,
                    feature_hash: p.feature_hash,
                })
            }
            .await;
            // Only if the wafer on screen is still the one asked about.
            let still = st.doc.get_untracked().is_some_and(|d| {
                matches!(st.subject.get_untracked(), Subject::Wafer(j)
                    if d.grid(j).is_some_and(|g| g.hash().to_hex() == key))
            });
            if still {
                st.edge_prediction.set(Some(result.map(Rc::new)));
            }
        });
    });
}

/// The list of wafers stored on the edge.
#[component]
pub fn EdgePanel(loader: StoredValue<Option<Rc<Loader>>, LocalStorage>) -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let list = st.edge.get()?;
        let rows: Vec<_> = list
            .iter()
            .map(|w| {
                let hash = w.hash.clone();
                let yield_ = if w.dies > 0 {
                    format!("{:.1}%", 100.0 * w.passing as f64 / w.dies as f64)
                } else {
                    "—".into()
                };
                let link = format!("?wafer={}", w.hash);
                view! {
                    <tr class="edge-wafer" data-hash=w.hash.clone()
                        on:click=move |_| {
                            if let Some(l) = loader.get_value() {
                                open(st, l, hash.clone());
                            }
                        }>
                        <td>{w.lot.clone()}</td><td>{w.wafer.clone()}</td>
                        <td class="num">{w.dies}</td><td class="num">{yield_}</td>
                        <td><a href=link title="a link to this wafer" on:click=|e| e.stop_propagation()>"link"</a></td>
                    </tr>
                }
            })
            .collect();
        Some(view! {
            <div class="panel edge" id="edge" data-count=list.len()>
                <h3>"Shared on this edge"</h3>
                <table class="wafer-labels"><tbody>{rows}</tbody></table>
            </div>
        })
    }
}
