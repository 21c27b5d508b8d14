//! `cargo xtask bench` and `bench edge`: the figures the README quotes, each from one phase.

use std::env;
use std::path::PathBuf;
use std::process::Command;

use crate::build::{Lint, build_app, ensure_corpus};
use crate::phases::Phases;
use crate::tools::{ensure_app_tools, ensure_edge_tools, ensure_torch, ensure_wasm_target};
use crate::worker::build_edge;
use crate::{Result, cargo, corpus, output, root, sh, target_dir};

/// `bench edge`: the Worker on workerd under a Zipf load of tiles and predictions, at 32
/// connections (the workload) straight to the Worker's workerd and through wrangler
/// dev's proxy, and at 4 connections.
pub fn bench_edge() -> Result {
    ensure_corpus()?;
    ensure_app_tools()?;
    ensure_edge_tools()?;
    if !root().join("target/dist/index.html").is_file() {
        build_app(Lint::Off)?;
    }
    build_edge(Lint::Off)?;
    // Open-loop at fixed rates, fault-free and with KV, then R2, failing 10% of calls, plus a
    // short closed-loop saturation run (about 5 minutes; see tests/benches/edge-load.mjs). Fails on a
    // wrong body, or on an error without faults.
    let mut c = Command::new("node");
    c.current_dir(root())
        .arg("tests/benches/edge-load.mjs")
        .args(env::args().skip(3))
        .env("WAFERSCOPE_CORPUS", corpus());
    sh(c)
}

pub fn bench() -> Result {
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
        p.run("native: unpacking a packed file, format 4 vs 3", || {
            let mut c = cargo();
            c.args(["bench", "-p", "wafer", "--bench", "pack"]);
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
                build_app(Lint::Off)?;
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
            "first load: bytes before the first map (gzip, zlib level 9) and time to it, cold and warm (service worker)",
            || {
                ensure_app_tools()?;
                build_app(Lint::Off)?;
                let mut c = Command::new("node");
                c.current_dir(root()).arg("tests/benches/first-load.mjs");
                sh(c)
            },
        )?;
        p.run(
            "viewer in headless Chromium: 1M and 4.8M dies and Flex_3, GPU and CPU vs Canvas2D",
            || {
                ensure_app_tools()?;
                build_app(Lint::Off)?;
                let mut c = cargo();
                c.args(["build", "--release", "--bin", "waferscope"]);
                sh(c)?;
                // Synthetic wafers of 1,001,010 dies (1137 across) and 4,840,832 (2500 across),
                // written once: the second shows whether a frame grows with the die count.
                let mut c = Command::new("node");
                c.current_dir(root()).arg("tests/benches/viewer.mjs");
                for diameter in ["1137", "2500"] {
                    c.arg(big_wafer(diameter)?);
                }
                c.arg(&flex);
                sh(c)
            },
        )?;
        p.run(
            "analysis in headless Chromium: a 25-wafer lot's gallery, Flex_3's statistics, clicks on 1M dies, long tasks",
            || {
                ensure_app_tools()?;
                build_app(Lint::Off)?;
                let mut c = cargo();
                c.args(["build", "--release", "--bin", "waferscope"]);
                sh(c)?;
                let dir = target_dir().join("bench");
                let lot = dir.join("WSBENCH_lot25_d226.stdf");
                if !lot.exists() {
                    let mut c = Command::new(target_dir().join("release/waferscope"));
                    c.args(["demo", "--lot", "25", "-o"]).arg(&dir);
                    sh(c)?;
                }
                // Both ways of compositing: in software, as the browser tests run, and on
                // SwiftShader's GL, as a browser with a GPU composites (no canvas readback).
                for gpu in [false, true] {
                    let mut c = Command::new("node");
                    c.current_dir(root()).arg("tests/benches/analysis.mjs").arg(&lot).arg(&flex);
                    if gpu {
                        c.arg("3").arg("--gpu-compositing");
                    }
                    sh(c)?;
                }
                // What a click costs the page on a million dies (selection, lasso, marks), both
                // ways of compositing too.
                let big = big_wafer("1137")?;
                for gpu in [false, true] {
                    let mut c = Command::new("node");
                    c.current_dir(root()).arg("tests/benches/clicks.mjs").arg(&big);
                    if gpu {
                        c.arg("3").arg("--gpu-compositing");
                    }
                    sh(c)?;
                }
                Ok(())
            },
        )?;
        p.run(
            "the page's own work per click natively: a million dies' marks, the charts",
            || {
                let mut c = cargo();
                c.args(["bench", "-p", "charts", "--bench", "page"]);
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

/// The synthetic wafer `diameter` dies across (`waferscope demo --big`), written once into the
/// bench folder by the release CLI, which the caller has built.
fn big_wafer(diameter: &str) -> Result<PathBuf> {
    let dir = target_dir().join("bench");
    let big = dir.join(format!("WSBENCH_d{diameter}.stdf"));
    if !big.exists() {
        let mut c = Command::new(target_dir().join("release/waferscope"));
        c.args(["demo", "--big", diameter, "-o"]).arg(&dir);
        sh(c)?;
    }
    Ok(big)
}
