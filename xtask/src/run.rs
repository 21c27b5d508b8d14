//! `cargo xtask run`, `release-model` and `train`: Waferscope locally, and the model's life.

use std::process::Command;

use crate::build::{Lint, build_app, ensure_corpus};
use crate::tools::{ensure_app_tools, ensure_edge_tools, ensure_npm};
use crate::worker::build_edge;
use crate::{Result, cargo, corpus, root, sh, target_dir};

/// Build the app and the edge Worker and serve both from workerd on http://127.0.0.1:8787, with
/// the shipped model released and the demo wafers uploaded (state kept in target/edge-state).
pub fn run() -> Result {
    ensure_app_tools()?;
    ensure_edge_tools()?;
    build_app(Lint::Off)?;
    build_edge(Lint::Off)?;
    let demo = target_dir().join("demo");
    let mut c = cargo();
    // The `dev` build the tests use (optimised where it matters): no third native profile.
    c.args(["run", "--bin", "waferscope", "--", "demo", "-o"])
        .arg(&demo);
    sh(c)?;
    let mut c = Command::new("node");
    c.current_dir(root())
        .arg("tests/tools/edge-cli.mjs")
        .args(["serve", "8787"])
        .arg(target_dir().join("edge-state"))
        .arg(&demo);
    sh(c)
}

/// `release-model --weights FILE --version N [--url URL]`: upload a model version to a running
/// edge (the admin token from WAFERSCOPE_ADMIN_TOKEN, else the local dev token) and release it.
pub fn release_model(args: &[String]) -> Result {
    let mut weights = None;
    let mut version = None;
    let mut url = "http://127.0.0.1:8787".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--weights" => weights = Some(value()?),
            "--version" => version = Some(value()?),
            "--url" => url = value()?,
            _ => return Err(format!("release-model: unknown argument {a}")),
        }
    }
    let (Some(weights), Some(version)) = (weights, version) else {
        return Err(
            "usage: cargo xtask release-model --weights FILE --version N [--url URL]".into(),
        );
    };
    ensure_npm()?;
    let mut c = Command::new("node");
    c.current_dir(root()).args([
        "tests/tools/edge-cli.mjs",
        "release-model",
        &url,
        &weights,
        &version,
    ]);
    sh(c)
}

/// Train the classifier with the shipped settings (the `train` binary's defaults, overridable by
/// ARGS) and write `public/model/`; the real WM-811K dev maps are classified once at the end for
/// the manifest, never trained on. Never run by CI, which checks the shipped weights instead.
pub fn train(extra: &[String]) -> Result {
    ensure_corpus()?;
    // `--device wgpu` needs burn's wgpu backend built in; the CPU build stays without it.
    let gpu = extra
        .windows(2)
        .any(|w| w[0] == "--device" && w[1] != "flex");
    let mut c = cargo();
    c.args([
        "run",
        "--release",
        "-p",
        "model",
        "--features",
        if gpu { "gpu" } else { "train" },
        "--bin",
        "train",
        "--",
    ]);
    c.arg("--out").arg(root().join("public/model"));
    c.arg("--dev")
        .arg(corpus().join("wm811k/wm811k-dev.json.gz"));
    c.args(extra);
    sh(c)
}
