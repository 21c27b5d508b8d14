//! The panels around the map: wafer and layer pickers, legend (hide a bin by clicking it), yield
//! and bin pareto, hover tooltip, the pinned die's results, side-by-side compare, exports.

use std::collections::BTreeSet;

use leptos::prelude::*;
use paint::palette::LimitSource;
use paint::{Coloring, Layer, MapGeometry, Rgba, Style};
use wafer::Verdict;
use wasm_bindgen::JsCast;

use crate::doc::Subject;
use crate::state::{GpuModel, ModelStatus, St};

fn css(c: Rgba) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}

fn fmt_value(v: f32) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.4e}")
    } else {
        format!("{v:.5}")
    }
}

#[component]
pub fn WaferPicker() -> impl IntoView {
    let st = expect_context::<St>();
    let options = move || {
        let doc = st.doc.get()?;
        let wafers: Vec<_> = doc
            .file
            .wafers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let y = w
                    .yield_fraction()
                    .map_or("–".into(), |y| format!("{:.1}%", y * 100.0));
                let id = if w.id.is_empty() {
                    "(no id)"
                } else {
                    w.id.as_str()
                };
                let label = format!("{id} · {} dies · {y}", w.dies.len());
                view! { <option value=i.to_string()>{label}</option> }
            })
            .collect();
        let many = doc.file.wafers.len() > 1;
        Some(view! {
            <label>"Wafer "
                <select id="wafer-select" on:change=move |e| {
                    let v = event_target_value(&e);
                    st.subject.set(if v == "stack" { Subject::Stack } else { Subject::Wafer(v.parse().unwrap_or(0)) });
                    st.view.set(None);
                    st.selected.set(None);
                    st.hover.set(None);
                }>
                    {wafers}
                    {many.then(|| view! { <option value="stack">"All wafers stacked (fail %)"</option> })}
                </select>
            </label>
        })
    };
    view! { <div class="picker">{options}</div> }
}

#[component]
pub fn LayerPicker() -> impl IntoView {
    let st = expect_context::<St>();
    let query = RwSignal::new(String::new());
    let options = move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(w) = st.subject.get() else {
            return None;
        };
        let dies = &doc.file.wafers.get(w)?.dies;
        let q = query.get().to_lowercase();
        let tests: Vec<_> = doc
            .file
            .tests
            .tests
            .iter()
            .enumerate()
            .filter(|(t, info)| {
                dies.has_test(*t)
                    && (q.is_empty()
                        || info.number.to_string().contains(&q)
                        || info.name.to_lowercase().contains(&q))
            })
            .take(500)
            .map(|(t, info)| {
                let lim = |v: Option<f32>| v.map_or("–".into(), fmt_value);
                let label = format!(
                    "{} {} [{}] {}..{}",
                    info.number,
                    info.name,
                    info.units,
                    lim(info.lo_limit),
                    lim(info.hi_limit)
                );
                let value = format!("test:{t}");
                view! { <option value=value>{label}</option> }
            })
            .collect();
        let current = match st.layer.get() {
            Layer::HardBin => "hbin".to_string(),
            Layer::SoftBin => "sbin".to_string(),
            Layer::Test(t) => format!("test:{t}"),
        };
        Some(view! {
            <label>"Layer "
                <input id="layer-search" type="search" placeholder="search tests by number or name"
                    prop:value=move || query.get()
                    on:input=move |e| query.set(event_target_value(&e)) />
                <select id="layer-select" prop:value=current on:change=move |e| {
                    let v = event_target_value(&e);
                    st.layer.set(match v.as_str() {
                        "sbin" => Layer::SoftBin,
                        v => v.strip_prefix("test:").and_then(|t| t.parse().ok()).map_or(Layer::HardBin, Layer::Test),
                    });
                    st.hidden.set(BTreeSet::new());
                }>
                    <option value="hbin">"Hard bin"</option>
                    <option value="sbin">"Soft bin"</option>
                    {tests}
                </select>
            </label>
        })
    };
    view! { <div class="picker">{options}</div> }
}

#[component]
pub fn Legend() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let doc = st.doc.get()?;
        let coloring = st.coloring.get()?;
        let subject = st.subject.get();
        let dies = doc.dies(subject);
        let n = dies.len().max(1);
        if let Some((lo, hi, source)) = coloring.limits {
            let (title, units) = match (subject, st.layer.get()) {
                (Subject::Stack, _) => ("Fail % over all wafers".to_string(), "%".to_string()),
                (_, Layer::Test(t)) => {
                    let i = &doc.file.tests.tests[t];
                    (format!("{} {}", i.number, i.name), i.units.clone())
                }
                _ => (String::new(), String::new()),
            };
            let src = match source {
                LimitSource::Spec => "spec limits",
                LimitSource::Percentiles => "1st–99th percentile",
                LimitSource::Empty => "no values",
            };
            let stops: Vec<String> = (0..=8)
                .map(|i| css(paint::palette::ramp(i as f32 / 8.0)))
                .collect();
            let gradient = format!("background: linear-gradient(to right, {})", stops.join(","));
            let missing = coloring
                .keys
                .iter()
                .filter(|&&k| k == paint::palette::KEY_NO_VALUE)
                .count();
            return Some(view! {
                <div class="legend" id="legend">
                    <h3>{title}</h3>
                    <div class="ramp" style=gradient></div>
                    <div class="ramp-labels"><span>{fmt_value(lo)}</span><span>{units}</span><span>{fmt_value(hi)}</span></div>
                    <p class="muted">{format!("colour range: {src}; {missing} dies without a value")}</p>
                </div>
            }
            .into_any());
        }
        let rows: Vec<_> = coloring
            .legend
            .iter()
            .map(|e| {
                let bin = e.bin;
                let pct = 100.0 * e.count as f64 / n as f64;
                let pf = match e.pass {
                    Some(true) => "P",
                    Some(false) => "F",
                    None => "?",
                };
                let class = if e.hidden { "legend-row hidden" } else { "legend-row" };
                view! {
                    <tr class=class data-bin=bin title="click to hide or show this bin" on:click=move |_| {
                        st.hidden.update(|h| if !h.remove(&bin) { h.insert(bin); });
                    }>
                        <td><span class="swatch" style=format!("background:{}", css(e.color))></span></td>
                        <td>{bin}</td>
                        <td>{e.name.clone()}</td>
                        <td class="num">{e.count}</td>
                        <td class="num">{format!("{pct:.1}%")}</td>
                        <td>{pf}</td>
                    </tr>
                }
            })
            .collect();
        Some(view! {
            <div class="legend" id="legend">
                <table>
                    <thead><tr><th></th><th>"Bin"</th><th>"Name"</th><th>"Dies"</th><th>"%"</th><th>"P/F"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any())
    }
}

#[component]
pub fn Summary() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(i) = st.subject.get() else {
            return Some(view! { <div class="summary"><p>{format!("{} wafers stacked", doc.file.wafers.len())}</p></div> }.into_any());
        };
        let w = doc.file.wafers.get(i)?;
        let d = &w.dies;
        let pass = d.count(Verdict::Pass);
        let y = w.yield_fraction().unwrap_or(0.0) * 100.0;
        // Pareto of failing hard bins over the final dies.
        let mut fails: std::collections::BTreeMap<u16, usize> = Default::default();
        for (b, v) in d.hard_bin.iter().zip(&d.verdict) {
            if *v == Verdict::Fail {
                *fails.entry(*b).or_default() += 1;
            }
        }
        let mut pareto: Vec<(u16, usize)> = fails.into_iter().collect();
        pareto.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = pareto.first().map_or(1, |p| p.1).max(1);
        let bars: Vec<_> = pareto
            .iter()
            .take(10)
            .map(|&(bin, n)| {
                let pass = doc.file.bins.hard.get(&bin).and_then(|b| b.pass);
                let name = doc
                    .file
                    .bins
                    .hard
                    .get(&bin)
                    .map(|b| b.name.clone())
                    .unwrap_or_default();
                let width = format!(
                    "width:{}%;background:{}",
                    100 * n / top,
                    css(paint::palette::bin_color(bin, pass))
                );
                view! {
                    <div class="bar-row"><span class="bar-label">{format!("{bin} {name}")}</span>
                        <span class="bar" style=width></span><span class="num">{n}</span></div>
                }
            })
            .collect();
        Some(view! {
            <div class="summary">
                <p id="yield"><b>{format!("Yield {y:.2}%")}</b>{format!(" · {pass} of {} dies pass", d.len())}</p>
                <p class="muted">{format!("{} parts tested, {} retests superseded", w.parts, w.superseded)}</p>
                <h3>"Fail bin pareto"</h3>
                {bars}
            </div>
        }
        .into_any())
    }
}

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
            ModelStatus::Ready {
                version, warmup_ms, ..
            } => {
                format!("model v{version} (CPU warm-up {warmup_ms:.1} ms)")
            }
        };
        let status = match st.gpu_model.get() {
            GpuModel::Idle => status,
            GpuModel::Unavailable => format!("{status} · no WebGPU here: the CPU answers"),
            GpuModel::Starting => format!("{status} · starting the WebGPU classifier…"),
            GpuModel::Ready { warmup_ms, .. } => {
                format!("{status} · WebGPU warm-up {warmup_ms:.0} ms (shader compilation)")
            }
            GpuModel::Failed(e) => {
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
        let probs = prediction.probabilities;
        let order = prediction.ranked();
        let best = order[0];
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
                    let label = c.as_ref().map_or("—", |(p, _)| p.label());
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
                <p class="label" id="pattern-label"><b>{model::CLASSES[best]}</b>
                    {format!(" {:.1}%", probs[best] * 100.0)}</p>
                {bars}
                <p class="muted" id="pattern-backend">{format!(
                    "{} · {:.1} ms for this wafer, {:.1} ms for all {} · {status}",
                    classes.backend, classes.single_ms, classes.batch_ms, classes.wafers.len()
                )}</p>
                <EdgeLine local=model::CLASSES[best]/>
                <p class="muted mono" title="FeatureHash: the edge's cache key for this pattern">
                    {format!("hash {}", &hash[..16.min(hash.len())])}</p>
                {(!all.is_empty()).then(|| view! {
                    <h3>"Every wafer"</h3>
                    <table class="wafer-labels"><tbody>{all}</tbody></table>
                })}
            </div>
        }
        .into_any())
    }
}

/// The edge's prediction for the wafer on screen, beside the in-browser one.
#[component]
fn EdgeLine(local: &'static str) -> impl IntoView {
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
                let agree = if p.label == local { "agrees" } else { "differs" };
                view! {
                    <p class="muted" id="edge-prediction" data-state="ready" data-label=p.label.clone()
                        data-cache=p.cache.clone() data-version=p.model_version
                        data-hash=p.feature_hash.clone()>
                        {format!("Edge (model v{}, {}): {} · {agree}", p.model_version, p.cache, p.label)}
                    </p>
                }
                .into_any()
            }
        })
    }
}

/// Details of one die, for the tooltip and the pinned panel.
fn die_lines(st: St, row: usize, all_tests: bool) -> Option<Vec<(String, String)>> {
    let doc = st.doc.get_untracked()?;
    let subject = st.subject.get_untracked();
    let d = doc.dies(subject);
    if row >= d.len() {
        return None;
    }
    let mut v = vec![("x, y".to_string(), format!("{}, {}", d.x[row], d.y[row]))];
    if let Subject::Stack = subject {
        let s = doc.stack();
        v.push((
            "fail".into(),
            format!("{:.1}% of {} wafers", s.fail_pct[row], s.wafers[row]),
        ));
        return Some(v);
    }
    let bins = &doc.file.bins;
    let name = |t: &std::collections::BTreeMap<u16, wafer::BinInfo>, b: u16| {
        t.get(&b).map(|i| i.name.clone()).unwrap_or_default()
    };
    v.push(("part".into(), d.part_id.get(row).to_string()));
    v.push((
        "site".into(),
        format!("{} (head {})", d.site[row], d.head[row]),
    ));
    v.push((
        "hard bin".into(),
        format!("{} {}", d.hard_bin[row], name(&bins.hard, d.hard_bin[row])),
    ));
    let sb = d.soft_bin[row];
    let sb = if sb == wafer::NO_BIN {
        "–".to_string()
    } else {
        format!("{sb} {}", name(&bins.soft, sb))
    };
    v.push(("soft bin".into(), sb));
    v.push((
        "verdict".into(),
        format!("{:?}", d.verdict[row]).to_lowercase(),
    ));
    if d.attempts[row] > 1 {
        v.push((
            "tested".into(),
            format!("{} times (last result shown)", d.attempts[row]),
        ));
    }
    let tests = &doc.file.tests.tests;
    if let Layer::Test(t) = st.layer.get_untracked() {
        let i = &tests[t];
        v.push((
            format!("{} {}", i.number, i.name),
            format!("{} {}", fmt_value(d.value(t, row)), i.units),
        ));
    }
    if all_tests {
        for (t, i) in tests.iter().enumerate() {
            let val = d.value(t, row);
            if val.is_finite() {
                let out =
                    i.lo_limit.is_some_and(|l| val < l) || i.hi_limit.is_some_and(|h| val > h);
                let mark = if out { " ✗" } else { "" };
                v.push((
                    format!("{} {}", i.number, i.name),
                    format!("{} {}{mark}", fmt_value(val), i.units),
                ));
            }
        }
    }
    Some(v)
}

#[component]
pub fn Tooltip() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let row = st.hover.get()?;
        st.layer.track();
        let lines = die_lines(st, row, false)?;
        let (x, y) = st.pointer.get();
        let style = format!("left:{}px;top:{}px", x + 14.0, y + 14.0);
        let rows: Vec<_> = lines
            .into_iter()
            .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
            .collect();
        Some(view! { <div id="tooltip" class="tooltip" style=style><table>{rows}</table></div> })
    }
}

#[component]
pub fn Pinned() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let row = st.selected.get()?;
        let lines = die_lines(st, row, true)?;
        let rows: Vec<_> = lines
            .into_iter()
            .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
            .collect();
        Some(view! {
            <div id="pinned" class="pinned">
                <h3>"Pinned die" <button class="small" on:click=move |_| st.selected.set(None)>"×"</button></h3>
                <table>{rows}</table>
            </div>
        })
    }
}

/// Blob URL of a PNG of `subject` drawn by the CPU rasterizer (same palette and geometry).
fn png_url(doc: &crate::doc::Doc, subject: Subject, layer: Layer, size: u32) -> Option<String> {
    let g = doc.geometry(subject);
    let coloring = doc.coloring(subject, layer, &BTreeSet::new());
    let canvas = paint::raster::render(
        &g,
        doc.dies(subject),
        &coloring,
        size,
        size,
        &Style::default(),
    );
    blob_url(&canvas.encode_png(), "image/png")
}

fn blob_url(bytes: &[u8], mime: &str) -> Option<String> {
    let array = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&array, &opts).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

fn download(bytes: &[u8], mime: &str, name: &str) {
    let Some(url) = blob_url(bytes, mime) else {
        return;
    };
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(a) = document
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

#[component]
pub fn Compare() -> impl IntoView {
    let st = expect_context::<St>();
    move || {
        let doc = st.doc.get()?;
        let Subject::Wafer(a) = st.subject.get() else {
            return None;
        };
        if doc.file.wafers.len() < 2 {
            return None;
        }
        let b = st.compare.get();
        let layer = st.layer.get();
        let options: Vec<_> = doc
            .file
            .wafers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != a)
            .map(|(i, w)| view! { <option value=i.to_string() selected=Some(i) == b>{w.id.clone()}</option> })
            .collect();
        let pictures = b.filter(|&b| b < doc.file.wafers.len()).map(|b| {
            let left = png_url(&doc, Subject::Wafer(a), layer, 360).unwrap_or_default();
            let right = png_url(&doc, Subject::Wafer(b), layer, 360).unwrap_or_default();
            let (ia, ib) = (doc.file.wafers[a].id.clone(), doc.file.wafers[b].id.clone());
            view! {
                <div class="compare" id="compare">
                    <figure><img src=left alt=ia.clone()/><figcaption>{ia}</figcaption></figure>
                    <figure><img src=right alt=ib.clone()/><figcaption>{ib}</figcaption></figure>
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
                {pictures}
            </div>
        })
    }
}

#[component]
pub fn Exports() -> impl IntoView {
    let st = expect_context::<St>();
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
        let (w, h) = (canvas.width(), canvas.height());
        let g: MapGeometry = doc.geometry(subject);
        let view = crate::map::current_view(st, w, h).unwrap_or_else(|| paint::View::fit(&g, w, h));
        let mut c = paint::Canvas::new(w, h, paint::palette::BACKGROUND);
        let style = Style {
            selected: st.selected.get_untracked(),
            ..Style::default()
        };
        paint::raster::draw(&g, doc.dies(subject), &coloring, &view, &mut c, &style);
        download(&c.encode_png(), "image/png", &format!("{}.png", doc.name));
    };
    let export_csv = move |_| {
        let Some((doc, subject)) = st.shown() else {
            return;
        };
        let only = match subject {
            Subject::Wafer(i) => Some(doc.file.wafers[i].id.as_str()),
            Subject::Stack => None,
        };
        let mut out = Vec::new();
        if wafer::export::write(&doc.file, wafer::export::ExportFormat::Csv, only, &mut out).is_ok()
        {
            download(&out, "text/csv", &format!("{}.csv", doc.name));
        }
    };
    view! {
        <button id="export-png" on:click=export_png disabled=move || st.doc.get().is_none()>"Export PNG"</button>
        <button id="export-csv" on:click=export_csv disabled=move || st.doc.get().is_none()>"Export CSV"</button>
    }
}

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
                doc.file.wafers[i].yield_fraction().map(|y| format!("{:.4}", y))
            })
            data-first-frame-ms=attr(|st| st.first_frame_ms.get().map(|v| format!("{v:.1}")))
            data-parse-ms=attr(|st| st.parse_ms.get().map(|v| format!("{v:.1}")))
            data-partial=attr(|st| st.doc.get().map(|d| d.file.is_partial().to_string()))
            data-model=attr(|st| Some(match st.model.get() {
                ModelStatus::Loading => "loading".to_string(),
                ModelStatus::Ready { version, .. } => format!("v{version}"),
                ModelStatus::Failed(e) => format!("failed: {e}"),
            }))
            data-probs=attr(|st| {
                let Subject::Wafer(i) = st.subject.get() else { return None };
                let c = st.classes.get()?;
                let (p, _) = c.wafers.get(i)?.as_ref()?;
                Some(p.probabilities.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(","))
            })
            data-classify-ms=attr(|st| st.classes.get().map(|c| format!("{:.3}", c.single_ms)))
            data-classify-backend=attr(|st| st.classes.get().map(|c| if c.gpu { "webgpu" } else { "cpu" }.to_string()))
            data-gpu-model=attr(|st| Some(match st.gpu_model.get() {
                GpuModel::Idle => "idle".to_string(),
                GpuModel::Unavailable => "unavailable".to_string(),
                GpuModel::Starting => "starting".to_string(),
                GpuModel::Ready { .. } => "ready".to_string(),
                GpuModel::Failed(e) => format!("failed: {e}"),
            }))
        ></div>
    }
}

/// Colour a subject: used by the app's colouring effect.
pub fn coloring_for(st: St) -> Option<Coloring> {
    let (doc, s) = st.shown()?;
    Some(doc.coloring(s, st.layer.get(), &st.hidden.get()))
}
