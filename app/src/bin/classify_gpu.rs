//! The classifier's Web Worker with burn's WebGPU backend (feature `webgpu`), for browsers that
//! have WebGPU: `app::infer`.
//! The page fetches it only after the first map is drawn.

#[cfg(target_arch = "wasm32")]
fn main() {
    app::infer::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
