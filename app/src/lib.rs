//! Waferscope in the browser: open a tester file from disk (no upload, no server), see its wafer
//! map drawn on the GPU, pan, zoom, hover, pin, compare and export.
//!
//! Three bins share this library: `app` (`main.rs`: the page, and in a module worker the parsing
//! worker, `parsing`, from the same wasm), and the classifier Web Worker (`infer`) twice:
//! `classify_cpu`, and `classify_gpu` with feature `webgpu` (burn's WebGPU backend). The page
//! loads the classifier when it is first idle or after the first map, so the first map needs only
//! the page's wasm.
//!
//! Pure, on every target and unit-tested natively (`cargo test -p app`):
//! - `doc`: an open file and what views derive from it (die lookup, the stacked map, geometry);
//! - `details`: what the panels say about a die, a layer, a wafer (uses `doc`);
//! - `library`: a kept file's entry and facts (uses `doc`); on wasm, `library::idb` stores
//!   entries and packed files in IndexedDB and `library::keep` is the page's side (keeping,
//!   reopening through `loader`, the panel; uses `state`);
//! - `protocol`: the typed messages between page and worker, and (wasm) their JS form.
//!
//! Web only (wasm32), each using only the ones before it:
//! - `gpu`: the WebGPU, WebGL2 or CPU painter of the map;
//! - `state`: the signals (uses `doc`; the edge's wire types come from the `api` crate);
//! - `channel`: a worker seen from the page, with its outbox (`protocol`);
//! - `loader`: the page's side of the parsing worker (`channel`, `state`);
//! - `parsing`: the parsing worker itself, in this same wasm (`protocol`);
//! - `ask`: the panels' questions to the parsing worker, which keeps the file (`channel`,
//!   `state`);
//! - `map`: the canvas and its interactions (`gpu`, `state`);
//! - `classify`: the page's side of the classifier worker, started when the page is first idle
//!   or after the first map
//!   (`channel`, `gpu`, `loader`, `state`);
//! - `edge`: the shared edge's wafers and predictions (`loader`, `state`, `api`'s types and paths);
//! - `panels`: pickers, legend, summary, pattern, tooltip, compare, exports (`details`, `state`);
//! - `pwa`: the service worker (offline, "reload to update") and the OS's file launches
//!   (`state`);
//! - `hooks`: the seams on `window` and `#status` that tests and benchmarks read (`map`, `gpu`,
//!   `loader`, `classify`, `state`);
//! - `ui`: the page, wiring all of the above;
//! - `infer`: the classifier worker itself (`protocol`; `infer::gpu` with feature `webgpu`).
//!
//! What is wasm-only is chosen here, once: the web modules need a browser and its crates. All but
//! `infer` are the page's, behind feature `page` (its crates: Leptos, wgpu, the renderer), so the
//! workers' builds do not compile them; `infer` is behind feature `classifier` (burn), so the page
//! and the parsing worker do not compile burn.

pub mod details;
pub mod doc;
pub mod library;
pub mod protocol;

#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod ask;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod channel;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod classify;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod edge;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod gpu;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod hooks;
#[cfg(all(target_arch = "wasm32", feature = "classifier"))]
pub mod infer;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod loader;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod map;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod overlay;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod panels;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod parsing;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod pwa;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
mod state;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod ui;
