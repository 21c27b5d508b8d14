//! The map's test and benchmark seams on `window`: reading back a pixel as the painter draws it,
//! and driving frames without the browser's pacing. Not for users: nothing in the page calls them.

use leptos::prelude::*;
use paint::Style;
use wasm_bindgen::{JsCast, JsValue};

use super::{Ctx, current_view, dpr};
use crate::gpu::Snapshot;
use crate::state::now_ms;

/// `window.waferscope_read_pixel(cssX, cssY)`: the pixel of the current view as the app's own GPU
/// device draws it, read back from an offscreen render (or as the CPU painter draws it). Tests use it where a screenshot cannot
/// see the canvas (headless WebGPU); it is the path "export" would take on the GPU.
pub(super) fn install_pixel_hook(ctx: Ctx) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let read = wasm_bindgen::closure::Closure::<dyn Fn(f64, f64) -> js_sys::Promise>::new(
        move |x: f64, y: f64| {
            wasm_bindgen_futures::future_to_promise(async move {
                let st = ctx.st;
                let err = |m: &str| wasm_bindgen::JsValue::from_str(m);
                let canvas = ctx.canvas().ok_or_else(|| err("no canvas"))?;
                let (w, h) = (canvas.width(), canvas.height());
                let view = current_view(st, w, h).ok_or_else(|| err("nothing shown"))?;
                let style = Style {
                    hover: st.hover.get_untracked(),
                    selected: st.selected.get_untracked(),
                    ..Style::default()
                };
                // A clone of the renderer (shared GPU handles), so the await holds no borrow.
                let snapshot = ctx
                    .ms
                    .with_value(|m| m.gpu.as_ref().map(|g| g.snapshot()))
                    .ok_or_else(|| err("no GPU"))?;
                let r = dpr();
                let (px, py) = ((x * r) as u32, (y * r) as u32);
                let c = match snapshot {
                    Snapshot::Gpu(renderer) => renderer
                        .render_to_canvas(w, h, &view, &style)
                        .await
                        .map_err(|e| err(&e))?,
                    Snapshot::Cpu => {
                        let (doc, s) = st.shown().ok_or_else(|| err("nothing shown"))?;
                        let coloring = st
                            .coloring
                            .get_untracked()
                            .ok_or_else(|| err("no colours"))?;
                        let mut c = paint::Canvas::new(w, h, paint::palette::BACKGROUND);
                        paint::raster::draw(
                            &doc.geometry(s),
                            doc.dies(s),
                            &coloring,
                            &view,
                            &mut c,
                            &style,
                        );
                        c
                    }
                };
                let p = c.get(px.min(w - 1), py.min(h - 1));
                Ok(
                    js_sys::Array::of4(&p[0].into(), &p[1].into(), &p[2].into(), &p[3].into())
                        .into(),
                )
            })
        },
    );
    let _ = js_sys::Reflect::set(&window, &"waferscope_read_pixel".into(), read.as_ref());
    read.forget();
}

/// `window.waferscope_bench`: what `cargo xtask bench` drives to time frames without the
/// browser's frame pacing in the way (the page stays usable around it):
/// - `begin()` / `end()`: stop and restart the app's own animation-frame redraws;
/// - `frame(op, a, b, c)`: change the view (`"fit"`, `"zoom"` at pixel (a, b) by factor c,
///   `"pan"` by (a, b) pixels, or `"upload"`: drop the GPU copy of the dies so the next draw
///   uploads them again, as a newly opened file does), draw once, and return the milliseconds
///   the draw call took on the main thread; the caller waits for the GPU itself;
/// - `view()`: `[scale, offset_x, offset_y, width, height]` of the current view in canvas pixels;
/// - `dies()`: `{x0, y0, w, h, keys, table}` of the shown map (world units, colour keys, CSS
///   colours), so a reference renderer can draw the same dies with the same colours;
/// - `api()`: "WebGPU", "WebGL2" or "CPU".
pub(super) fn install_bench_hook(ctx: Ctx) {
    use js_sys::{Array, Float32Array, Function, Object, Reflect, Uint16Array};
    use wasm_bindgen::closure::Closure;
    let Some(window) = web_sys::window() else {
        return;
    };
    let st = ctx.st;
    let hook = Object::new();
    let add = |name: &str, f: Function| {
        let _ = Reflect::set(&hook, &name.into(), &f);
    };
    let begin = Closure::<dyn Fn()>::new(move || ctx.frame_pending.set_value(true));
    let end = Closure::<dyn Fn()>::new(move || {
        ctx.frame_pending.set_value(false);
        ctx.request_frame();
    });
    let frame = Closure::<dyn Fn(String, f32, f32, f32) -> f64>::new(
        move |op: String, a: f32, b: f32, c: f32| {
            let (w, h) = ctx.canvas().map_or((1, 1), |c| (c.width(), c.height()));
            let view = current_view(st, w, h);
            match op.as_str() {
                "fit" => st.view.set(None),
                "zoom" => st.view.set(view.map(|v| v.zoom_at([a, b], c))),
                "pan" => st.view.set(view.map(|v| v.pan(a, b))),
                "upload" => ctx.ms.update_value(|m| m.uploaded = None),
                _ => {}
            }
            let t0 = now_ms();
            ctx.draw_now();
            now_ms() - t0
        },
    );
    let view = Closure::<dyn Fn() -> JsValue>::new(move || {
        let (w, h) = ctx.canvas().map_or((1, 1), |c| (c.width(), c.height()));
        let Some(v) = current_view(st, w, h) else {
            return JsValue::NULL;
        };
        let a = [v.scale, v.offset[0], v.offset[1], w as f32, h as f32];
        Float32Array::from(&a[..]).into()
    });
    let dies = Closure::<dyn Fn() -> JsValue>::new(move || {
        let (Some((doc, s)), Some(coloring)) = (st.shown(), st.coloring.get_untracked()) else {
            return JsValue::NULL;
        };
        let g = doc.geometry(s);
        let t = doc.dies(s);
        let (mut x0, mut y0) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
        let mut size = [0.0f32; 2];
        for i in 0..t.len() {
            let [a, b, c, d] = g.die_rect(t.x[i], t.y[i]);
            x0.push(a);
            y0.push(b);
            size = [c - a, d - b];
        }
        let table: Array = coloring
            .table
            .iter()
            .map(|c| {
                JsValue::from(format!(
                    "rgba({},{},{},{})",
                    c[0],
                    c[1],
                    c[2],
                    c[3] as f32 / 255.0
                ))
            })
            .collect();
        let o = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&o, &k.into(), v);
        };
        set("x0", &Float32Array::from(&x0[..]).into());
        set("y0", &Float32Array::from(&y0[..]).into());
        set("w", &size[0].into());
        set("h", &size[1].into());
        set("keys", &Uint16Array::from(&coloring.keys[..]).into());
        set("table", &table.into());
        o.into()
    });
    let api = Closure::<dyn Fn() -> JsValue>::new(move || {
        ctx.ms
            .with_value(|m| m.gpu.as_ref().map(|g| g.backend.label()))
            .map_or(JsValue::NULL, JsValue::from)
    });
    add("begin", begin.into_js_value().unchecked_into());
    add("end", end.into_js_value().unchecked_into());
    add("frame", frame.into_js_value().unchecked_into());
    add("view", view.into_js_value().unchecked_into());
    add("dies", dies.into_js_value().unchecked_into());
    add("api", api.into_js_value().unchecked_into());
    let _ = Reflect::set(&window, &"waferscope_bench".into(), &hook);
}
