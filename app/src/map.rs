//! The interactive map: a canvas drawn by the wgpu renderer (or, without WebGPU and WebGL2, by the
//! CPU rasterizer), with pan (drag, arrows), zoom (wheel, pinch, +/-, around the cursor), fit (F,
//! 0, double-click), hover, click-to-pin and shift-drag to choose a rectangle of dies (`overlay`).
//!
//! Not for what is drawn around it: the page (`ui`) places the tooltip inside the map's frame as
//! children, and reaches the map's frames and GPU through a [`MapHandle`] (`hooks` does, for the
//! tests), so the map knows nothing of panels or hooks.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, KeyboardEvent, PointerEvent, WheelEvent};

use crate::gpu::{Gpu, Snapshot};
use crate::state::St;

mod frame;
mod input;
use frame::Uploaded;
use input::fit_canvas;

#[derive(Default)]
struct MapState {
    gpu: Option<Gpu>,
    uploaded: Option<Uploaded>,
    drag: Option<Drag>,
    /// The canvas the map is drawn on. Made here, not by the view: after a lost WebGPU device
    /// the fallback needs a fresh element (a canvas keeps its first context type), and the view
    /// layer would reuse the old one.
    canvas: Option<HtmlCanvasElement>,
    webgpu_failed: bool,
    /// Why the map is drawn on the CPU from now on (no WebGL2, or a grid beyond the GPU).
    cpu: Option<String>,
    /// The colouring last uploaded, to upload only its table when only colours changed.
    colored: Option<Rc<paint::Coloring>>,
    /// Failed set-ups in a row: a WebGL2 context can fail right after a WebGPU device was lost
    /// on the same page, so the fallback tries a fresh canvas a few times before giving up.
    failures: u32,
    /// Frames in a row the surface gave no texture for (outdated after a resize, a timeout):
    /// retried on the next animation frame, a bounded number of times.
    skipped: u32,
    /// The canvas's CSS box as the browser last laid it out (a `ResizeObserver`'s report). A
    /// frame sizes the canvas from it: reading `clientWidth` in the frame forced a style and
    /// layout of the whole page there, 12-20 ms of a new map's frame in a CPU profile.
    css_box: Option<(f64, f64)>,
    /// Watches the canvas's box; replaced with the canvas, disconnected on drop.
    resize: Option<Resize>,
}

/// A `ResizeObserver` on the map's canvas and the callback it calls.
struct Resize {
    observer: web_sys::ResizeObserver,
    _callback: wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Array)>,
}

impl Drop for Resize {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

#[derive(Clone, Copy)]
struct Drag {
    last: (f64, f64),
    moved: f64,
    /// Shift-drag chooses a rectangle of dies (from here, in CSS pixels) instead of panning.
    select: Option<(f64, f64)>,
}

/// CSS pixels to canvas pixels.
pub fn dpr() -> f64 {
    web_sys::window().map_or(1.0, |w| w.device_pixel_ratio())
}

/// Copy handles to everything the map's event handlers and frames need. Made by the page before
/// the map mounts, so what sits beside the map (the test hooks) can reach its frames too.
#[derive(Clone, Copy)]
pub struct MapHandle {
    st: St,
    ms: StoredValue<MapState, LocalStorage>,
    frame: NodeRef<leptos::html::Div>,
    frame_pending: StoredValue<bool, LocalStorage>,
    /// A redraw was asked for since the last frame drawn: an animation frame whose work a
    /// resize's frame did already skips it.
    stale: StoredValue<bool, LocalStorage>,
    /// The caller draws the frames itself ([`MapHandle::hold_frames`]): nothing else draws.
    held: StoredValue<bool, LocalStorage>,
}

impl MapHandle {
    pub fn new(st: St) -> MapHandle {
        MapHandle {
            st,
            ms: StoredValue::new_local(MapState::default()),
            frame: NodeRef::new(),
            frame_pending: StoredValue::new_local(false),
            stale: StoredValue::new_local(false),
            held: StoredValue::new_local(false),
        }
    }

    /// The canvas's size in its own pixels, once it exists.
    pub fn canvas_size(self) -> Option<(u32, u32)> {
        self.canvas().map(|c| (c.width(), c.height()))
    }

    /// What draws the map now: "WebGPU", "WebGL2" or "CPU".
    pub fn api(self) -> Option<&'static str> {
        self.ms
            .with_value(|m| m.gpu.as_ref().map(|g| g.backend.label()))
    }

    /// A handle to what draws the map, to render a frame apart from the screen.
    pub fn snapshot(self) -> Option<Snapshot> {
        self.ms.with_value(|m| m.gpu.as_ref().map(|g| g.snapshot()))
    }

    /// Stop (`true`) or restart the map's own animation-frame redraws, for a caller that draws
    /// frames itself with [`MapHandle::draw_now`].
    pub fn hold_frames(self, hold: bool) {
        self.held.set_value(hold);
        self.frame_pending.set_value(hold);
        if !hold {
            self.request_frame();
        }
    }

    /// Forget the GPU copy of the dies: the next frame uploads them again, as for a new file.
    pub fn forget_upload(self) {
        self.ms.update_value(|m| m.uploaded = None);
    }

    fn canvas(self) -> Option<HtmlCanvasElement> {
        self.ms.with_value(|m| m.canvas.clone())
    }

    /// Put a new canvas in the frame (replacing any old one) and set up the GPU on it.
    fn new_canvas(self) {
        let Some(frame) = self.frame.get_untracked() else {
            return;
        };
        let Some(canvas) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("canvas").ok())
            .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
        else {
            return;
        };
        canvas.set_id("map");
        let old = self
            .ms
            .try_update_value(|m| m.canvas.replace(canvas.clone()))
            .flatten();
        let placed = match old {
            Some(old) => frame.replace_child(&canvas, &old).map(|_| ()),
            None => frame.prepend_with_node_1(&canvas),
        };
        if placed.is_ok() {
            self.watch_size(&canvas);
            self.start_gpu(canvas);
        }
    }

    /// Keep [`MapState::css_box`] up to date, and redraw when the canvas's box changes (the
    /// window, or the panels beside the map).
    fn watch_size(self, canvas: &HtmlCanvasElement) {
        let callback = wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(
            move |entries: js_sys::Array| {
                let Some(entry) = entries
                    .iter()
                    .last()
                    .and_then(|e| e.dyn_into::<web_sys::ResizeObserverEntry>().ok())
                else {
                    return;
                };
                let r = entry.content_rect();
                let size = (r.width(), r.height());
                // None once the map's state is gone (the page torn down): nothing to draw.
                let changed = self
                    .ms
                    .try_update_value(|m| m.css_box.replace(size) != Some(size));
                // Drawn here, after layout and before this frame's paint: the frame that shows
                // the new box shows the map at its size, not the old picture stretched (an
                // animation frame asked for now would come a frame late).
                if changed == Some(true) {
                    self.draw_resized();
                }
            },
        );
        let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
            return;
        };
        observer.observe(canvas);
        let resize = Resize {
            observer,
            _callback: callback,
        };
        self.ms.update_value(|m| {
            m.css_box = None;
            m.resize = Some(resize);
        });
    }

    /// Set up the GPU on the mounted canvas (or the CPU painter, once the GPU is ruled out).
    fn start_gpu(self, canvas: HtmlCanvasElement) {
        let st = self.st;
        let (allow_webgpu, cpu) = self.ms.with_value(|m| (!m.webgpu_failed, m.cpu.clone()));
        fit_canvas(&canvas, None);
        spawn_local(async move {
            let result = match &cpu {
                Some(reason) => Gpu::cpu(&canvas, reason),
                None => Gpu::init(canvas.clone(), allow_webgpu, move || self.request_frame()).await,
            };
            let mut retry = false;
            self.ms.update_value(|m| match result {
                Ok(gpu) => {
                    let label = format!("{} ({})", gpu.backend.label(), gpu.adapter_name);
                    st.backend.set(if allow_webgpu || cpu.is_some() {
                        label
                    } else {
                        format!("{label}; WebGPU device was lost")
                    });
                    if st
                        .error
                        .get_untracked()
                        .is_some_and(|e| e.starts_with("cannot draw maps"))
                    {
                        st.error.set(None);
                    }
                    m.gpu = Some(gpu);
                    m.uploaded = None;
                    m.colored = None;
                    m.failures = 0;
                }
                Err(e) if m.cpu.is_none() => {
                    m.failures += 1;
                    // Next time without WebGPU, on a fresh canvas; after three failures (a
                    // WebGL2 context can fail right after a lost WebGPU device), on the CPU.
                    m.webgpu_failed = true;
                    if m.failures >= 3 {
                        // The badge stays short; the browser's own words go to the console.
                        web_sys::console::warn_1(&format!("map: drawing on the CPU: {e}").into());
                        m.cpu = Some("no WebGPU or WebGL2 here".into());
                    }
                    retry = true;
                }
                Err(e) => {
                    st.backend.set("none".into());
                    st.error.set(Some(format!("cannot draw maps: {e}")));
                }
            });
            if retry {
                self.new_canvas();
            } else {
                self.request_frame();
            }
        });
    }
}

/// The map; `children` are laid over it inside its frame (the tooltip).
#[component]
pub fn MapCanvas(map: MapHandle, children: Children) -> impl IntoView {
    let ctx = map;
    let st = ctx.st;
    let frame_ref = ctx.frame;
    let ms = ctx.ms;

    // Once the frame is mounted, give it a canvas.
    Effect::new(move |_| {
        if frame_ref.get().is_some() && ctx.canvas().is_none() {
            ctx.new_canvas();
        }
    });
    // Redraw on anything a frame shows.
    Effect::new(move |_| {
        st.doc.track();
        st.subject.track();
        st.coloring.track();
        st.view.track();
        st.hover.track();
        st.selected.track();
        ctx.request_frame();
    });
    // And when the window changes size.
    let handle = window_event_listener(leptos::ev::resize, move |_| ctx.request_frame());
    on_cleanup(move || handle.remove());

    let canvas_size = move || ctx.canvas_size().unwrap_or((1, 1));
    let to_canvas_px = move |e: &web_sys::MouseEvent| -> [f32; 2] {
        let r = dpr();
        [
            (e.offset_x() as f64 * r) as f32,
            (e.offset_y() as f64 * r) as f32,
        ]
    };
    let pick = move |p: [f32; 2]| -> Option<usize> {
        let (doc, s) = st.shown()?;
        let (w, h) = canvas_size();
        let view = st.current_view(w, h)?;
        let g = doc.geometry(s);
        let xy = g.die_at(view.to_world(p));
        doc.row_at(s, xy)
    };
    let zoom = move |at: [f32; 2], factor: f32| {
        let (w, h) = canvas_size();
        if let Some(v) = st.current_view(w, h) {
            st.view.set(Some(v.zoom_at(at, factor)));
        }
    };
    let pan = move |dx: f32, dy: f32| {
        let (w, h) = canvas_size();
        if let Some(v) = st.current_view(w, h) {
            st.view.set(Some(v.pan(dx, dy)));
        }
    };

    let on_pointer_down = {
        move |e: PointerEvent| {
            if let Some(t) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                let _ = t.set_pointer_capture(e.pointer_id());
            }
            let select = e
                .shift_key()
                .then(|| (e.offset_x() as f64, e.offset_y() as f64));
            ms.update_value(|m| {
                m.drag = Some(Drag {
                    last: (e.client_x() as f64, e.client_y() as f64),
                    moved: 0.0,
                    select,
                })
            });
        }
    };
    let on_pointer_move = {
        move |e: PointerEvent| {
            let drag = ms.with_value(|m| m.drag);
            if let Some(Drag {
                select: Some(a), ..
            }) = drag
            {
                return input::drag_selection(st, a, [e.offset_x() as f64, e.offset_y() as f64]);
            }
            if let Some(d) = drag {
                let (x, y) = (e.client_x() as f64, e.client_y() as f64);
                let (dx, dy) = (x - d.last.0, y - d.last.1);
                ms.update_value(|m| {
                    m.drag = Some(Drag {
                        last: (x, y),
                        moved: d.moved + dx.abs() + dy.abs(),
                        select: None,
                    })
                });
                if d.moved + dx.abs() + dy.abs() > 3.0 {
                    let r = dpr();
                    pan((dx * r) as f32, (dy * r) as f32);
                    st.hover.set(None);
                    return;
                }
            }
            st.pointer.set((e.offset_x() as f64, e.offset_y() as f64));
            let hit = pick(to_canvas_px(&e));
            if st.hover.get_untracked() != hit {
                st.hover.set(hit);
            }
        }
    };
    let on_pointer_up = {
        move |e: PointerEvent| {
            let drag = ms.try_update_value(|m| m.drag.take()).flatten();
            if drag.is_some_and(|d| d.select.is_some()) {
                return input::end_selection(st, ctx);
            }
            if drag.is_some_and(|d| d.moved <= 3.0) {
                let hit = pick(to_canvas_px(&e));
                st.selected.set(if hit == st.selected.get_untracked() {
                    None
                } else {
                    hit
                });
            }
        }
    };
    let on_wheel = move |e: WheelEvent| {
        e.prevent_default();
        zoom(to_canvas_px(&e), input::wheel_zoom(&e));
    };
    let on_key = move |e: KeyboardEvent| {
        let (w, h) = canvas_size();
        let center = [w as f32 / 2.0, h as f32 / 2.0];
        let step = 60.0 * dpr() as f32;
        match e.key().as_str() {
            "ArrowLeft" => pan(step, 0.0),
            "ArrowRight" => pan(-step, 0.0),
            "ArrowUp" => pan(0.0, step),
            "ArrowDown" => pan(0.0, -step),
            "+" | "=" => zoom(center, 1.25),
            "-" | "_" => zoom(center, 0.8),
            "f" | "F" | "0" => st.view.set(None),
            "Escape" => input::unmark(st),
            _ => return,
        }
        e.prevent_default();
    };

    // Handlers sit on the frame; events from the canvas bubble up to them.
    view! {
        <div class="map-frame" tabindex="0" node_ref=frame_ref
            on:keydown=on_key
            on:pointerdown=on_pointer_down
            on:pointermove=on_pointer_move
            on:pointerup=on_pointer_up
            on:pointerleave=move |_| st.hover.set(None)
            on:wheel=on_wheel
            on:dblclick=move |_| st.view.set(None)>
            {children()}
        </div>
    }
}
