//! `cargo xtask fuzz [SECONDS]`: every fuzz target in `fuzz/` for SECONDS each (default 60),
//! seeded with the real corpus and the crafted files of `tests/hostile/`. `cargo xtask test`
//! runs each for [`CI_SECONDS`].
//!
//! A crash stops the run and leaves its input in `fuzz/artifacts/TARGET/`. Copy it into
//! `tests/hostile/fuzz/` (named after the target and what it broke): the hostile tests of
//! `crates/wafer` and `edge` read every file there on every run, so a fixed crash stays fixed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::tools::{CARGO_FUZZ, ensure_apt, ensure_cargo_tool, ensure_nightly, tools_root};
use crate::{Result, corpus, root, sh, target_dir};

/// Seconds per target in CI: long enough to replay the seeds and some thousands of mutations of
/// each, short enough for five targets, two at a time, to cost under a minute.
pub const CI_SECONDS: u32 = 15;

/// (target, seed the corpus with tester files?, largest input in bytes). Byte-level targets get
/// inputs of up to 1 MiB: the blow-ups of issue 11 needed hundreds of KB to show.
const TARGETS: &[(&str, bool, u32)] = &[
    ("read", true, 1 << 20),
    ("pack", true, 1 << 20),
    ("ingest", true, 1 << 20),
    ("features", false, 1 << 16),
    ("tile", false, 256),
];

pub fn run(secs: u32) -> Result {
    ensure_nightly()?;
    // libfuzzer-sys compiles libFuzzer (C++) from source.
    ensure_apt(&["g++"])?;
    ensure_cargo_tool("cargo-fuzz", "cargo-fuzz", CARGO_FUZZ, true, "1")?;
    // Every target in one cargo invocation, before any runs: each `fuzz run` then finds its
    // build fresh, and no target fuzzes while another one compiles beside it.
    let mut build = cargo_fuzz();
    build
        .arg("build")
        .arg("--target-dir")
        .arg(target_dir().join("fuzz"));
    sh(build)?;
    let seeds = [
        corpus().join("stdf"),
        root().join("tests/hostile"),
        root().join("tests/hostile/fuzz"),
    ];
    // libFuzzer runs one thread per target: run as many targets at once as there are cores
    // (two in CI, where one after the other left a core idle for 75 s).
    let lanes = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(TARGETS.len());
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<String>)> = std::thread::scope(|s| {
        let lanes: Vec<_> = (0..lanes)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&target) = TARGETS.get(i) else {
                            return done;
                        };
                        done.push((i, fuzz_one(target, secs, &seeds)));
                    }
                })
            })
            .collect();
        lanes
            .into_iter()
            .flat_map(|l| {
                l.join()
                    .unwrap_or_else(|_| vec![(0, Err("a fuzz thread panicked".into()))])
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    let mut first_err = None;
    for (_, r) in results {
        match r {
            Ok(line) => println!("{line}"),
            Err(e) => {
                println!("{e}");
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

fn cargo_fuzz() -> Command {
    let mut c = Command::new(tools_root().join("bin/cargo-fuzz"));
    c.current_dir(root().join("fuzz"))
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .arg("fuzz");
    c
}

/// One target for `secs`: its one-line summary, or the tail of its output and what to do.
fn fuzz_one(
    (target, seeded, max_len): (&str, bool, u32),
    secs: u32,
    seeds: &[PathBuf],
) -> Result<String> {
    let work = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    if seeded {
        seed(&work, seeds)?;
    }
    let mut c = cargo_fuzz();
    c.args(["run", target, "--target-dir"])
        .arg(target_dir().join("fuzz"))
        .arg(&work);
    c.arg("--");
    c.args([
        format!("-max_total_time={secs}"),
        format!("-max_len={max_len}"),
        // A read is bounded by 16 bytes per input byte plus 8 MiB (wafer::Limits): a
        // regression to the old blow-ups goes far past this.
        "-rss_limit_mb=2048".into(),
        "-malloc_limit_mb=512".into(),
        "-timeout=30".into(),
        "-print_final_stats=1".into(),
    ]);
    // Captured: on a crash cargo-fuzz prints the whole input (up to 1 MiB) as a Debug list.
    let out = c.output().map_err(|e| format!("cargo-fuzz: {e}"))?;
    let text = String::from_utf8_lossy(&out.stderr) + String::from_utf8_lossy(&out.stdout);
    let short = |l: &str| l.chars().take(240).collect::<String>();
    if out.status.success() {
        let stats: Vec<String> = text
            .lines()
            .filter(|l| l.contains("number_of_executed_units") || l.contains("peak_rss_mb"))
            .map(|l| short(l.trim()))
            .collect();
        return Ok(format!("fuzz {target}: {secs} s, {}", stats.join(", ")));
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail: Vec<String> = lines[lines.len().saturating_sub(40)..]
        .iter()
        .map(|l| short(l))
        .collect();
    Err(format!(
        "{}\nfuzz target {target} failed: its input is in fuzz/artifacts/{target}/; copy it into \
         tests/hostile/fuzz/ as a regression test, then fix",
        tail.join("\n")
    ))
}

/// Copy the seed files into the target's corpus, all but decompression bombs: a bomb only
/// measures how fast 300 MB stream through (slow under the fuzzer's instrumentation) and
/// `tests/hostile` already checks it on every run.
fn seed(work: &std::path::Path, dirs: &[PathBuf]) -> Result {
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if !path.is_file() || name.ends_with(".md") || name.contains("bomb") {
                continue;
            }
            let to = work.join(format!("seed-{name}"));
            if !to.exists() {
                std::fs::copy(&path, &to).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}
