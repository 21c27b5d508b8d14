//! The seams tests and benchmarks read, all here: functions on `window` (`waferscope_*`, called
//! by `tests/browser.test.mjs` and `tests/benches/viewer.mjs`) and the hidden `#status` element
//! ([`Status`]). Not for users: nothing in the page calls them. They only read and drive what the
//! page has (state, the map's [`MapHandle`], the classifier); nothing depends on this module.

use js_sys::{Array, Float32Array, Function, Object, Promise, Reflect, Uint16Array};
use leptos::prelude::*;
use paint::Style;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::gpu::Snapshot;
use crate::map::{MapHandle, dpr};
use crate::state::{St, now_ms};

mod status;
pub use status::Status;

/// Put `f` on `window` as `name`, for the page's lifetime.
fn expose(name: &str, f: &JsValue) {
    if let Some(w) = web_sys::window() {
        let _ = Reflect::set(&w, &name.into(), f);
    }
}

/// A plain object of `(key, value)` fields.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// Register every `window.waferscope_*` function.
pub fn install(st: St, map: MapHandle) {
    install_die_hooks(st, map);
    install_pixel_hook(st, map);
    install_bench_hook(st, map);
    install_classify_bench("waferscope_bench_classify", false);
    install_classify_bench("waferscope_bench_classify_gpu", true);
}

/// `window.waferscope_die_screen(x, y)`: where die (x, y) is on screen, in CSS pixels; and
/// `window.waferscope_bin_color(bin, hard)`: a bin's palette colour in the open file.
fn install_die_hooks(st: St, map: MapHandle) {
    let die_screen = Closure::<dyn Fn(i32, i32) -> JsValue>::new(move |x: i32, y: i32| {
        let Some((doc, s)) = st.shown() else {
            return JsValue::NULL;
        };
        let Some(view) = map.canvas_size().and_then(|(w, h)| st.current_view(w, h)) else {
            return JsValue::NULL;
        };
        let g = doc.geometry(s);
        let [x0, y0, x1, y1] = g.die_rect(x as i16, y as i16);
        let p = view.to_pixel([(x0 + x1) / 2.0, (y0 + y1) / 2.0]);
        let r = dpr();
        Array::of2(&(p[0] as f64 / r).into(), &(p[1] as f64 / r).into()).into()
    });
    let bin_color = Closure::<dyn Fn(u32, bool) -> JsValue>::new(move |bin: u32, hard: bool| {
        let Some(doc) = st.doc.get_untracked() else {
            return JsValue::NULL;
        };
        let bins = &doc.file.bins;
        let table = if hard { &bins.hard } else { &bins.soft };
        let c =
            paint::palette::bin_color(bin as u16, table.get(&(bin as u16)).and_then(|b| b.pass));
        Array::of3(&c[0].into(), &c[1].into(), &c[2].into()).into()
    });
    expose("waferscope_die_screen", &die_screen.into_js_value());
    expose("waferscope_bin_color", &bin_color.into_js_value());
    // `window.waferscope_asks()`: how many asks went to the parsing worker (`ask::posted`).
    let asks = Closure::<dyn Fn() -> u32>::new(crate::ask::posted);
    expose("waferscope_asks", &asks.into_js_value());
}

/// `window.waferscope_read_pixel(cssX, cssY)`: a promise of the pixel of the current view as the
/// app's own GPU device draws it, read back from an offscreen render (or as the CPU painter
/// draws it). Tests use it where a screenshot cannot see the canvas (headless WebGPU); it is the
/// path "export" would take on the GPU.
fn install_pixel_hook(st: St, map: MapHandle) {
    let read = Closure::<dyn Fn(f64, f64) -> Promise>::new(move |x: f64, y: f64| {
        wasm_bindgen_futures::future_to_promise(async move {
            let err = |m: &str| JsValue::from_str(m);
            let (w, h) = map.canvas_size().ok_or_else(|| err("no canvas"))?;
            let view = st.current_view(w, h).ok_or_else(|| err("nothing shown"))?;
            let style = Style {
                hover: st.hover.get_untracked(),
                selected: st.selected.get_untracked(),
                ..Style::default()
            };
            // A clone of the renderer (shared GPU handles), so the await holds no borrow.
            let snapshot = map.snapshot().ok_or_else(|| err("no GPU"))?;
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
                    let g = doc.geometry(s);
                    paint::raster::draw(&g, doc.dies(s), &coloring, &view, &mut c, &style);
                    c
                }
            };
            let p = c.get(px.min(w - 1), py.min(h - 1));
            Ok(Array::of4(&p[0].into(), &p[1].into(), &p[2].into(), &p[3].into()).into())
        })
    });
    expose("waferscope_read_pixel", &read.into_js_value());
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
fn install_bench_hook(st: St, map: MapHandle) {
    let size = move || map.canvas_size().unwrap_or((1, 1));
    let begin = Closure::<dyn Fn()>::new(move || map.hold_frames(true));
    let end = Closure::<dyn Fn()>::new(move || map.hold_frames(false));
    let frame = Closure::<dyn Fn(String, f32, f32, f32) -> f64>::new(
        move |op: String, a: f32, b: f32, c: f32| {
            let (w, h) = size();
            let view = st.current_view(w, h);
            match op.as_str() {
                "fit" => st.view.set(None),
                "zoom" => st.view.set(view.map(|v| v.zoom_at([a, b], c))),
                "pan" => st.view.set(view.map(|v| v.pan(a, b))),
                "upload" => map.forget_upload(),
                _ => {}
            }
            let t0 = now_ms();
            map.draw_now();
            now_ms() - t0
        },
    );
    let view = Closure::<dyn Fn() -> JsValue>::new(move || {
        let (w, h) = size();
        let Some(v) = st.current_view(w, h) else {
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
                let alpha = c[3] as f32 / 255.0;
                JsValue::from(format!("rgba({},{},{},{alpha})", c[0], c[1], c[2]))
            })
            .collect();
        object(&[
            ("x0", Float32Array::from(&x0[..]).into()),
            ("y0", Float32Array::from(&y0[..]).into()),
            ("w", size[0].into()),
            ("h", size[1].into()),
            ("keys", Uint16Array::from(&coloring.keys[..]).into()),
            ("table", table.into()),
        ])
    });
    let api =
        Closure::<dyn Fn() -> JsValue>::new(move || map.api().map_or(JsValue::NULL, JsValue::from));
    let hook = Object::new();
    let add = |name: &str, f: Function| {
        let _ = Reflect::set(&hook, &name.into(), &f);
    };
    add("begin", begin.into_js_value().unchecked_into());
    add("end", end.into_js_value().unchecked_into());
    add("frame", frame.into_js_value().unchecked_into());
    add("view", view.into_js_value().unchecked_into());
    add("dies", dies.into_js_value().unchecked_into());
    add("api", api.into_js_value().unchecked_into());
    expose("waferscope_bench", &hook);
}

/// `window.waferscope_bench_classify()` and `window.waferscope_bench_classify_gpu()`: a promise
/// of the classifier worker's warm latency on the open file's first wafer, on the CPU or on
/// WebGPU (read-back included): `{single_ms, batch25_ms, warmup_ms (WebGPU's first inference),
/// backend}`, or `{error}`.
fn install_classify_bench(name: &str, gpu: bool) {
    let f = Closure::<dyn Fn() -> Promise>::new(move || {
        Promise::new(&mut |resolve, _reject| {
            crate::classify::bench(gpu, move |r| {
                let answer = match r {
                    Ok(t) => {
                        let mut fields = vec![
                            ("single_ms", t.single_ms.into()),
                            ("batch25_ms", t.batch25_ms.into()),
                        ];
                        fields.extend(t.warmup_ms.map(|w| ("warmup_ms", w.into())));
                        fields.push(("backend", t.backend.into()));
                        object(&fields)
                    }
                    Err(e) => object(&[("error", e.into())]),
                };
                let _ = resolve.call1(&JsValue::NULL, &answer);
            });
        })
    });
    expose(name, &f.into_js_value());
}
