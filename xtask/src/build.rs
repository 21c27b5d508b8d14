//! The app's wasm build (the page and its workers, with Trunk), the lint switch both wasm builds
//! take (the edge's is in `worker`), and the corpus check every test command starts with.

use std::process::Command;

use crate::tools::{tool_path, tools_root};
use crate::{Result, corpus, root, sh};

/// Whether a build also runs clippy's lints on the workspace's crates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lint {
    Off,
    /// Warnings are errors. The wasm32-only code (the page, the parsing worker, the Worker glue)
    /// is compiled by these builds and nowhere else natively, so linting it here replaces a
    /// separate `cargo clippy --target wasm32` that compiled burn, wgpu and cubecl a second time
    /// (490 s on a cold machine) only to throw the result away.
    Deny,
}

impl Lint {
    pub fn apply(self, c: &mut Command) {
        if self == Lint::Deny {
            // What `cargo clippy -- -D warnings` does: clippy-driver in place of rustc for the
            // workspace's crates (dependencies are built by rustc as usual), its arguments in
            // CLIPPY_ARGS joined by clippy's separator.
            c.env("RUSTC_WORKSPACE_WRAPPER", "clippy-driver").env(
                "CLIPPY_ARGS",
                "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
            );
        }
    }
}

/// The page, its parsing worker and the two classifier workers, by Trunk, into target/dist
/// (profiles in app/index.html).
pub fn build_app(lint: Lint) -> Result {
    // Trunk runs cargo offline (Trunk.toml), and the WebGPU classifier worker needs crates no
    // native build downloads (burn's wgpu backend: cubecl, cubek...). On a fresh machine they
    // are not in cargo's cache yet, and the offline build failed there (2026-11-28, cold CI):
    // fetch every crate the lockfile names for wasm32 first. A no-op when they are cached.
    let mut fetch = Command::new("cargo");
    fetch
        .current_dir(root())
        .args(["fetch", "--locked", "--target", "wasm32-unknown-unknown"]);
    sh(fetch)?;
    let mut c = Command::new(tools_root().join("bin/trunk"));
    c.current_dir(root()).arg("build").env("PATH", tool_path());
    lint.apply(&mut c);
    sh(c)
}

pub fn ensure_corpus() -> Result {
    let c = corpus();
    if c.join("stdf-facts.json").is_file() {
        Ok(())
    } else {
        Err(format!(
            "the real-data corpus is missing at {} (expected ../shared/corpus beside the repo, or set \
             WAFERSCOPE_CORPUS): the tests read it and must not pass without it",
            c.display()
        ))
    }
}
