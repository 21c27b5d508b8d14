//! Project automation: `cargo xtask run | test | bench | fuzz | train | release-model`.
//!
//! Each command installs what it is missing first (rustup targets, pinned tools), so the README's
//! two commands work on a fresh machine, and prints how long each phase took.
//!
//! Not for: anything a plain `cargo` command already does well on its own.

mod bench;
mod build;
mod fuzz;
mod phases;
mod run;
mod test;
mod tools;
mod worker;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run::run(),
        Some("test") => test::test(),
        Some("bench") if args.get(1).map(String::as_str) == Some("edge") => bench::bench_edge(),
        Some("bench") => bench::bench(),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u32>()) {
            None => fuzz::run(60),
            Some(Ok(secs)) => fuzz::run(secs),
            Some(Err(_)) => Err("usage: cargo xtask fuzz [SECONDS per target]".into()),
        },
        Some("train") => run::train(&args[1..]),
        Some("release-model") => run::release_model(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\
                 \n  run     build app + edge Worker, serve both from workerd on http://127.0.0.1:8787 with demo wafers\
                 \n  test    every check CI runs: fmt, clippy, tests, GPU golden, wasm32, docs, app, browser, edge\
                 \n  bench   reader (native, wasm32), app size, viewer frames (Chromium, native), analysis and clicks (Chromium), a click's own work (native), classifier vs PyTorch, peak memory\
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
    ::corpus::locate()
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
