//! Waferscope in the browser: open a tester file from disk (no upload, no server), see its wafer
//! map drawn on the GPU, pan, zoom, hover, pin, compare and export.
//!
//! Two bins share this library: `app` (the page) and `worker` (the parsing Web Worker). The
//! modules, lowest first (each uses only those above it):
//! - pure, on every target and unit-tested natively: `doc` (an open file and what views derive
//!   from it), `details` (what the panels say about a die, a layer, a wafer), `protocol` (the
//!   typed messages between page and worker, and their JS form in `protocol::js`);
//! - web only (wasm32): `state` (signals), `loader` (the page's side of the worker), `gpu`
//!   (WebGPU or WebGL2 context), `map` (the canvas and its interactions), `classify` (the
//!   classifier on WebGPU, feature `webgpu`; the CPU one runs in the worker), `edge` (the shared
//!   edge's wafers and predictions), `panels` (pickers, legend, tooltip, exports), `hooks` (the
//!   seams on `window` and `#status` that tests and benchmarks read), `ui` (the page).
//!
//! What is wasm-only is chosen here, once: the web modules need a browser and its crates.

pub mod details;
pub mod doc;
pub mod protocol;

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod classify;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod gpu;
#[cfg(target_arch = "wasm32")]
mod hooks;
#[cfg(target_arch = "wasm32")]
mod loader;
#[cfg(target_arch = "wasm32")]
mod map;
#[cfg(target_arch = "wasm32")]
mod panels;
#[cfg(target_arch = "wasm32")]
mod state;
#[cfg(target_arch = "wasm32")]
pub mod ui;
