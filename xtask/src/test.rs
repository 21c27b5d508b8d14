//! `cargo xtask test`: every check CI runs, in phases, each timed.

use std::env;
use std::process::Command;

use crate::build::{Lint, build_app, ensure_corpus};
use crate::phases::Phases;
use crate::tools::{
    DEBIAN_PACKAGES, GPU_PACKAGES, ensure_app_tools, ensure_apt, ensure_edge_tools, ensure_nightly,
    ensure_wasm_target,
};
use crate::worker::build_edge;
use crate::{Result, cargo, corpus, fuzz, root, sh, target_dir};

/// Every native step (clippy, the tests, the docs) builds with one feature set, so each
/// dependency is compiled once per mode: with the training binary's burn features (autodiff,
/// optim) in every step, where a separate `--features train` pass compiled burn twice more. The
/// training binary and its reproducibility test come with them.
const NATIVE_FEATURES: [&str; 2] = ["--features", "model/train"];

pub fn test() -> Result {
    let mut p = Phases::new();
    let result = (|| {
        p.run(
            "set-up: corpus, wasm32 target, nightly, Debian packages (lavapipe, Chromium, g++)",
            || {
                ensure_corpus()?;
                ensure_wasm_target()?;
                // Every Debian package and toolchain the phases below need, here, one at a time:
                // later phases run side by side, and apt and rustup each take one install at once.
                ensure_apt(&[GPU_PACKAGES.as_slice(), &DEBIAN_PACKAGES].concat())?;
                ensure_nightly()
            },
        )?;
        p.run("cargo fmt --check", || {
            let mut c = cargo();
            c.args(["fmt", "--all", "--", "--check"]);
            sh(c)
        })?;
        p.run("cargo clippy --all-targets -D warnings", || {
            let mut c = cargo();
            c.args(["clippy", "--workspace", "--all-targets"])
                .args(NATIVE_FEATURES)
                .args(["--", "-D", "warnings"]);
            sh(c)
        })?;
        // Built here, run beside Trunk's build (below): the run leaves a core idle for most of its
        // 100 s (`vmstat`, cold run of fe966c6), and so does the end of Trunk's build.
        p.run("cargo test --no-run (build the tests and the CLI)", || {
            sh(cargo_test(&["--no-run"]))
        })?;
        // Not beside the native checks: both saturate the two cores, and side by side on a cold
        // machine (2026-11-29) clippy, the tests and these installs took 1,567 s, against 1,476 s
        // one after the other.
        p.run(
            "set-up: Trunk, wasm-bindgen, wasm-opt, playwright-core, Chromium",
            ensure_app_tools,
        )?;
        // The app's build beside the edge's and the rest of the checks: Trunk's builds of the
        // workers wait on each other and end in single-threaded fat-LTO links (minutes for the
        // WebGPU classifier), which leave a core to the other side.
        p.beside(
            |p| {
                p.run(
                    "app: trunk build (release), clippy -D warnings on its crates",
                    || build_app(Lint::Deny),
                )
            },
            |p| {
                p.run(
                    "edge: build (wasm profile, cdylib), wasm-bindgen, wasm-opt, esbuild, clippy -D warnings",
                    || {
                        ensure_edge_tools()?;
                        build_edge(Lint::Deny)
                    },
                )?;
                p.run(
                    &format!(
                        "fuzz: every target for {} s (nightly, cargo-fuzz)",
                        fuzz::CI_SECONDS
                    ),
                    || fuzz::run(fuzz::CI_SECONDS),
                )?;
                p.run("wasm32 build of crates/wafer", || {
                    let mut c = cargo();
                    c.args(["build", "-p", "wafer", "--target", "wasm32-unknown-unknown"]);
                    sh(c)
                })?;
                p.run("cargo doc (warnings are errors)", || {
                    let mut c = cargo();
                    c.args(["doc", "--workspace", "--no-deps"])
                        .args(NATIVE_FEATURES)
                        .env("RUSTDOCFLAGS", "-D warnings");
                    sh(c)
                })?;
                p.run(
                    "cargo test (unit, corpus facts, rust-stdf, robustness, CLI, GPU golden, training reproducibility)",
                    || sh(cargo_test(&[])),
                )
            },
        )?;
        p.run(
            "end-to-end tests: app in headless Chromium (WebGPU, WebGL2, CPU), edge on workerd",
            browser_tests,
        )
    })();
    p.summary();
    result
}

/// `cargo test` of the workspace with the native feature set, plus `extra`.
fn cargo_test(extra: &[&str]) -> Command {
    let mut c = cargo();
    c.args(["test", "--workspace"])
        .args(NATIVE_FEATURES)
        .args(extra);
    // The Vulkan loader complains without one; lavapipe needs nothing else.
    c.env("XDG_RUNTIME_DIR", env::temp_dir());
    c
}

/// The end-to-end tests, against the built app and the CLI. The CLI is the `dev` build that
/// `cargo test` made for its own tests (dependencies and the hot crates optimised, see
/// Cargo.toml): a release build would compile burn and wgpu once more for the same answers.
pub fn browser_tests() -> Result {
    let bin = target_dir().join("debug/waferscope");
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: `cargo test` builds it",
            bin.display()
        ));
    }
    let mut c = Command::new("node");
    c.current_dir(root())
        .args(["--test", "--test-reporter=spec", "tests/"]);
    c.env("WAFERSCOPE_BIN", bin);
    c.env("WAFERSCOPE_DIST", root().join("target/dist"));
    c.env("WAFERSCOPE_CORPUS", corpus());
    sh(c)?;
    println!("screenshots: {}", root().join("target/e2e").display());
    Ok(())
}
