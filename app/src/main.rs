//! Waferscope in the browser: open a tester file from disk (no upload, no server), see its wafer
//! map drawn on the GPU, pan, zoom, hover, pin, compare and export.
//!
//! The page: `panels` (pickers, legend, tooltip, exports), `map` (the canvas and its
//! interactions), `gpu` (WebGPU or WebGL2 context), `loader` (the parsing Web Worker), `doc`
//! (an open file and what views derive from it), `state` (signals), `edge` (the shared edge's
//! wafers and predictions, when the edge Worker serves the app), `classify` (the defect-pattern
//! classifier on WebGPU; the CPU one runs in the parsing worker).

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod classify;
#[cfg(target_arch = "wasm32")]
mod doc;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod gpu;
#[cfg(target_arch = "wasm32")]
mod loader;
#[cfg(target_arch = "wasm32")]
mod map;
#[cfg(target_arch = "wasm32")]
mod panels;
#[cfg(target_arch = "wasm32")]
mod state;
#[cfg(target_arch = "wasm32")]
mod ui;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the Waferscope app runs in the browser: cargo xtask run");
}
