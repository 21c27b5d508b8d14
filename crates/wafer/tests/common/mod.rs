//! Shared helpers for tests that read the real corpus in `../shared/corpus` (never copied into
//! the repo). A missing corpus fails loudly: these tests must not pass by skipping.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

/// `../shared/corpus` from the repo root, or `$WAFERSCOPE_CORPUS` (see the `corpus` crate).
pub fn corpus() -> PathBuf {
    ::corpus::dir()
}

/// Every STDF file of the corpus (the ASCII dump beside them is not STDF).
pub fn stdf_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus().join("stdf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("ascii-dump"))
        .collect();
    v.sort();
    assert!(v.len() >= 15, "corpus looks incomplete: {v:?}");
    v
}

pub fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The independent scanner's facts, by file name.
pub fn facts() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(corpus().join("stdf-facts.json")).unwrap();
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    list.into_iter()
        .map(|e| (e["file"].as_str().unwrap().to_string(), e["scan"].clone()))
        .collect()
}

/// The file's STDF bytes, decompressed if it is compressed.
pub fn stdf_bytes(p: &Path) -> Vec<u8> {
    let raw = std::fs::read(p).unwrap();
    let (_, mut r) = wafer::decompress::open(&raw[..]).unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}
