//! Where the real-data corpus is: `$WAFERSCOPE_CORPUS`, else `../shared/corpus` beside the
//! repository. The one locator for every Rust test, bench and `xtask`; the Node tests have theirs
//! in `tests/lib/corpus.mjs`. The corpus is never copied into the repository.
//!
//! A missing corpus fails loudly: the tests that read it must not pass by skipping it.

use std::path::{Path, PathBuf};

/// The corpus directory, found or not (for callers that report a missing corpus themselves).
pub fn locate() -> PathBuf {
    std::env::var_os("WAFERSCOPE_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

/// The corpus directory; panics with what to do when it is missing.
pub fn dir() -> PathBuf {
    let dir = locate();
    assert!(
        dir.join("stdf-facts.json").is_file(),
        "the real-data corpus is missing at {} (expected ../shared/corpus beside the repo, \
         or set WAFERSCOPE_CORPUS); the tests read it and must not pass without it",
        dir.display()
    );
    dir
}

/// A file of the corpus by its path inside it (`stdf/lot2.stdf.gz`); panics when it is missing.
pub fn path(rel: &str) -> PathBuf {
    let p = dir().join(rel);
    assert!(p.is_file(), "corpus file missing: {}", p.display());
    p
}

/// The bytes of a corpus file (see [`path`]).
pub fn read(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_corpus_is_found_with_its_facts() {
        assert!(super::path("stdf-facts.json").is_file());
    }
}
