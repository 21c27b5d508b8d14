//! The classifier's Web Worker with burn's WebGPU backend (feature `webgpu`), for browsers that
//! have WebGPU: `app::infer`.
//! The page fetches it when it is first idle or after the first map (`app::classify`).

#[cfg(target_arch = "wasm32")]
fn main() {
    app::infer::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
