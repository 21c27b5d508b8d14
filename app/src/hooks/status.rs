//! `#status`: the page's state as `data-*` attributes of a hidden element, which the end-to-end
//! tests and benchmarks wait on and read (and anyone scripting the page may).

use leptos::prelude::*;

use crate::doc::Subject;
use crate::protocol::GpuStatus;
use crate::state::{ModelStatus, St};

/// Machine-readable status for the end-to-end tests (and anyone scripting the page).
#[component]
pub fn Status() -> impl IntoView {
    let st = expect_context::<St>();
    let attr = move |f: fn(St) -> Option<String>| move || f(st).unwrap_or_default();
    view! {
        <div id="status" hidden
            data-state=move || {
                if st.loading.get().is_some() { "loading" } else if st.error.get().is_some() { "error" }
                else if let Some(doc) = st.doc.get() {
                    // Ready once the map is on screen, or at once when there is no map to draw.
                    if st.first_frame_ms.get().is_some() || doc.file.wafers.is_empty() { "ready" } else { "drawing" }
                } else { "idle" }
            }
            data-backend=move || st.backend.get()
            data-wafer=attr(|st| {
                let (doc, s) = st.shown()?;
                match s { Subject::Wafer(i) => Some(doc.file.wafers[i].id.clone()), Subject::Stack => Some("*".into()) }
            })
            data-dies=attr(|st| { let (doc, s) = st.shown()?; Some(doc.dies(s).len().to_string()) })
            data-yield=attr(|st| {
                let (doc, s) = st.shown()?;
                let Subject::Wafer(i) = s else { return None };
                doc.yield_of(i).map(|y| format!("{:.4}", y))
            })
            data-first-frame-ms=attr(|st| st.first_frame_ms.get().map(|v| format!("{v:.1}")))
            data-parse-ms=attr(|st| st.parse_ms.get().map(|v| format!("{v:.1}")))
            data-stats-ms=attr(|st| st.stats_ms.get().map(|v| format!("{v:.1}")))
            data-partial=attr(|st| st.doc.get().map(|d| d.file.is_partial().to_string()))
            data-model=attr(|st| Some(match st.model.get() {
                ModelStatus::Loading => "loading".to_string(),
                ModelStatus::Fetched { version } | ModelStatus::Ready { version, .. } => format!("v{version}"),
                ModelStatus::Failed(e) => format!("failed: {e}"),
            }))
            data-probs=attr(|st| {
                let Subject::Wafer(i) = st.subject.get() else { return None };
                let c = st.classes.get()?;
                let (p, _) = c.wafers.get(i)?.as_ref()?;
                Some(p.probabilities.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(","))
            })
            data-confidence=attr(|st| {
                let Subject::Wafer(i) = st.subject.get() else { return None };
                let (c, doc) = (st.classes.get()?, st.doc.get()?);
                let call = c.call(&doc, i)?.confidence();
                serde_json::to_string(&call).ok()
            })
            data-classify-model=attr(|st| st.classes.get().map(|c| c.model_version.to_string()))
            data-classify-ms=attr(|st| st.classes.get().map(|c| format!("{:.3}", c.single_ms)))
            data-classify-backend=attr(|st| st.classes.get().map(|c| if c.gpu { "webgpu" } else { "cpu" }.to_string()))
            data-sw=move || st.offline.get().code()
            data-gpu-model=attr(|st| Some(match st.gpu_model.get() {
                None => "idle".to_string(),
                Some(GpuStatus::Unavailable) => "unavailable".to_string(),
                Some(GpuStatus::Starting) => "starting".to_string(),
                Some(GpuStatus::Ready { .. }) => "ready".to_string(),
                Some(GpuStatus::Failed(e)) => format!("failed: {e}"),
            }))
        ></div>
    }
}
