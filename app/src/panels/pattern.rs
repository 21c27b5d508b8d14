//! The defect pattern: the classifier's label and probabilities for the wafer on screen, which
//! backend answered and how fast, the edge's answer beside it, and every wafer's label.

use leptos::prelude::*;

use crate::doc::Subject;
use crate::protocol::GpuStatus;
use crate::state::{ModelStatus, St};

/// The defect pattern of the wafer on screen: label, every class's probability, the backend and
/// latency; and the label of every wafer of the file.
#[component]
pub fn Pattern() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let doc = st.doc.get()?;
        let status = match st.model.get() {
            ModelStatus::Loading => "loading the model…".to_string(),
            ModelStatus::Failed(e) => format!("classifier unavailable: {e}"),
            ModelStatus::Fetched { version } => {
                format!("model v{version}: starting the classifier…")
            }
            ModelStatus::Ready {
                version, warmup_ms, ..
            } => {
                format!("model v{version} (CPU warm-up {warmup_ms:.1} ms)")
            }
        };
        let status = match st.gpu_model.get() {
            None => status,
            Some(GpuStatus::Unavailable) => format!("{status} · no WebGPU here: the CPU answers"),
            Some(GpuStatus::Starting) => format!("{status} · starting the WebGPU classifier…"),
            Some(GpuStatus::Ready { warmup_ms, .. }) => {
                format!("{status} · WebGPU warm-up {warmup_ms:.0} ms (shader compilation)")
            }
            Some(GpuStatus::Failed(e)) => {
                format!("{status} · WebGPU classifier failed ({e}): the CPU answers")
            }
        };
        let Some(classes) = st.classes.get() else {
            return Some(view! {
                <div class="pattern" id="pattern"><h3>"Defect pattern"</h3><p class="muted">{status}</p></div>
            }.into_any());
        };
        let Subject::Wafer(i) = st.subject.get() else {
            return Some(
                view! {
                    <div class="pattern" id="pattern"><h3>"Defect pattern"</h3>
                        <p class="muted">"Pick a wafer to see its pattern."</p></div>
                }
                .into_any(),
            );
        };
        let (prediction, hash) = classes.wafers.get(i)?.clone()?;
        let call = classes.call(&doc, i)?;
        let probs = prediction.probabilities;
        // No bars where there is no label: a probability of a 2-die "pattern" means nothing.
        let order = if call.label().is_some() {
            prediction.ranked().to_vec()
        } else {
            Vec::new()
        };
        let bars: Vec<_> = order
            .into_iter()
            .map(|c| {
                let width = format!("width:{:.1}%", probs[c] * 100.0);
                view! {
                    <div class="bar-row"><span class="bar-label">{model::CLASSES[c]}</span>
                        <span class="bar prob" style=width></span>
                        <span class="num">{format!("{:.1}%", probs[c] * 100.0)}</span></div>
                }
            })
            .collect();
        let all: Vec<_> = if doc.file.wafers.len() > 1 {
            doc.file
                .wafers
                .iter()
                .zip(&classes.wafers)
                .enumerate()
                .map(|(j, (w, c))| {
                    let label = match c.as_ref().and(classes.call(&doc, j)) {
                        None => "—".to_string(),
                        Some(call @ model::Call::Uncertain { .. }) => {
                            format!("{}?", call.label().unwrap_or_default())
                        }
                        Some(call) => call.label().map_or("no label", |l| l).to_string(),
                    };
                    view! {
                        <tr class:current=move || j == i
                            on:click=move |_| { st.subject.set(Subject::Wafer(j)); st.view.set(None); }>
                            <td>{w.id.clone()}</td><td>{label}</td></tr>
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(view! {
            <div class="pattern" id="pattern">
                <h3>"Defect pattern"</h3>
                <p class="label" id="pattern-label" data-call=call.kind()>{match call {
                    model::Call::Label { class, probability } => view! {
                        <b>{model::CLASSES[class]}</b>{format!(" {:.1}%", probability * 100.0)}
                    }.into_any(),
                    other => view! { <b>{other.text()}</b> }.into_any(),
                }}<span class="muted" id="pattern-model">{format!(" · model v{}", classes.model_version)}</span></p>
                {bars}
                <p class="muted" id="pattern-backend">{format!(
                    "{} · {:.1} ms for this wafer, {:.1} ms for all {} · {status}",
                    classes.backend, classes.single_ms, classes.batch_ms, classes.wafers.len()
                )}</p>
                {move || st.model_note.get().map(|n| view! { <p class="muted" id="model-note">{n}</p> })}
                <EdgeLine local=call.label()/>
                <p class="muted mono" title="FeatureHash: the edge's cache key for this pattern">
                    {format!("hash {}", &hash[..16.min(hash.len())])}</p>
                {(!all.is_empty()).then(|| view! {
                    <h3>{format!("Every wafer (model v{})", classes.model_version)}</h3>
                    <table class="wafer-labels"><tbody>{all}</tbody></table>
                })}
            </div>
        }
        .into_any())
    }
}

/// The edge's prediction for the wafer on screen, beside the in-browser one.
#[component]
fn EdgeLine(local: Option<&'static str>) -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        st.edge.get()?;
        Some(match st.edge_prediction.get() {
            None => view! { <p class="muted" id="edge-prediction" data-state="asking">"Edge: asking…"</p> }.into_any(),
            Some(Err(e)) => view! {
                <p class="muted" id="edge-prediction" data-state="error">{format!("Edge: {e}")}</p>
            }
            .into_any(),
            Some(Ok(p)) => {
                let agree = if p.label.as_deref() == local { "agrees" } else { "differs" };
                view! {
                    <p class="muted" id="edge-prediction" data-state="ready"
                        data-label=p.label.clone().unwrap_or_default()
                        data-cache=p.cache.clone() data-version=p.model_version
                        data-hash=p.feature_hash.clone()>
                        {format!("Edge (model v{}, {}): {} · {agree}", p.model_version, p.cache, p.text)}
                    </p>
                }
                .into_any()
            }
        })
    }
}
