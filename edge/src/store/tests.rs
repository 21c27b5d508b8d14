//! The upload path: storage, hashing, refusals, and the fuzz regressions.

use super::*;
use std::io::Write;

fn demo() -> Vec<u8> {
    wafer::demo::demo_files()[0].bytes.clone()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn each_wafer_is_stored_under_the_hash_of_its_content_whatever_the_compression() {
    let plain = demo();
    let gz = gzip(&plain);
    let a = ingest(&plain).unwrap();
    let b = ingest(&gz).unwrap();
    assert!(a.wafers.len() > 1);
    let hashes = |i: &Ingest| i.wafers.iter().map(|w| w.hash).collect::<Vec<_>>();
    assert_eq!(hashes(&a), hashes(&b));
    // Different wafers, different addresses; the address is the content's hash.
    assert_ne!(a.wafers[0].hash, a.wafers[1].hash);
    for w in &a.wafers {
        assert_eq!(WaferHash::of_packed(&w.packed), w.hash);
        let back = unpack(&w.packed).unwrap();
        assert_eq!(back.wafers[0].dies.len(), w.meta.dies);
        assert_eq!(w.meta.hash, w.hash.to_hex());
        assert!(w.meta.feature_hash.is_some());
        assert!(serde_json::to_string(&w.meta).unwrap().len() < 1024);
    }
}

/// A retested die's first results, on a wafer whose tests are not the file's first ones
/// and with a test only its first attempt ran: stored, they unpack, and the first pass is
/// the file's (found by `cargo xtask fuzz`'s `ingest` target).
#[test]
fn a_stored_wafer_keeps_its_first_attempts_results_under_their_tests() {
    use wafer::stdf::Le;
    use wafer::stdf::write::{ParametricResult, PartResult, StdfWriter};
    let ptr = |test, result| ParametricResult::value(test, 1, result);
    let part = |x, hard_bin| PartResult::die(1, x, 0, hard_bin);
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "A");
    w.ptr(&ptr(10, 1.0));
    w.prr(&part(0, 1));
    w.wrr(1, 0, 1, 1, "A");
    // Wafer B runs tests 20 and 30; its die at 1 is retested with 30 alone.
    w.wir(1, 0, "B");
    w.ptr(&ptr(20, 2.0));
    w.ptr(&ptr(30, 3.0));
    w.prr(&part(1, 5));
    w.ptr(&ptr(30, 4.0));
    w.prr(&part(1, 1));
    w.ptr(&ptr(30, 6.0));
    w.prr(&part(2, 1));
    w.wrr(1, 0, 3, 2, "B");
    w.mrr(0);
    let bytes = w.into_bytes();
    let file = wafer::read(&bytes).unwrap();
    let by_test = |f: &TestFile, first: bool| {
        let d = if first {
            f.wafers[0].first_pass_dies()
        } else {
            f.wafers[0].dies.clone()
        };
        let mut out: Vec<(u32, Vec<String>)> = d
            .columns
            .iter()
            .map(|c| {
                let number = f.tests.tests[c.test as usize].number;
                (
                    number,
                    (0..d.len())
                        .map(|r| format!("{:?}", d.value(c.test as usize, r)))
                        .collect(),
                )
            })
            .collect();
        out.sort_by_key(|(n, _)| *n);
        (d.hard_bin.clone(), out)
    };
    let b = file.wafers.iter().position(|w| w.id == "B").unwrap();
    let whole = TestFile {
        wafers: vec![file.wafers[b].clone()],
        ..file.clone()
    };
    let stored = ingest(&bytes).unwrap();
    let back = unpack(&stored.wafers[b].packed).unwrap();
    assert_eq!(by_test(&back, false), by_test(&whole, false));
    assert_eq!(by_test(&back, true), by_test(&whole, true));
    // The first pass has test 20's result at the retested die: only its first attempt ran it.
    let (bins, first) = by_test(&back, true);
    assert_eq!(bins[0], 5);
    assert_eq!(first[0], (20, vec!["2.0".to_string(), "NaN".to_string()]));
}

#[test]
fn damaged_or_foreign_files_are_refused_whole_with_the_offset() {
    let plain = demo();
    // Cut inside a record, and cut on a record boundary (no MRR at the end).
    for cut in [plain.len() * 2 / 3 + 3, plain.len() * 2 / 3] {
        let e = ingest(&plain[..cut]).err().unwrap();
        assert_eq!((e.status, e.error), (400, "corrupt_file"));
        assert!(e.detail.contains("offset"), "{}", e.detail);
    }
    let e = ingest(b"PK not stdf at all").err().unwrap();
    assert_eq!(e.status, 400);
    assert!(e.detail.contains("offset 0"), "{}", e.detail);
}

#[test]
fn every_corpus_file_is_stored_or_refused_with_a_reason_never_a_panic() {
    let dir = corpus::dir().join("stdf");
    let mut stored = Vec::new();
    for e in std::fs::read_dir(&dir).expect("the corpus's stdf folder") {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match ingest(&bytes) {
            Ok(i) => stored.push((name, i.wafers.len())),
            Err(e) => {
                assert!(matches!(e.status, 400 | 422), "{name}: {e}");
                assert!(
                    e.status == 422 || e.detail.contains("offset"),
                    "{name}: {e}"
                );
            }
        }
    }
    eprintln!("stored: {stored:?}");
    assert!(
        stored.iter().any(|(n, w)| n == "lot2.stdf.gz" && *w == 1),
        "{stored:?}"
    );
    assert!(stored.len() >= 3, "{stored:?}");
}

#[test]
fn a_file_over_the_decompressed_limit_is_413_even_when_small_compressed() {
    let plain = demo();
    let gz = gzip(&plain);
    assert!(ingest_limited(&gz, plain.len() as u64).is_ok());
    let e = ingest_limited(&gz, plain.len() as u64 / 2).err().unwrap();
    assert_eq!((e.status, e.error), (413, "too_large"));
}

/// Inputs that once crashed a fuzz target (`tests/hostile/fuzz/`): refused with a 4xx, or
/// stored as wafers that unpack and hash to their address, as the `ingest` target asks.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/hostile/fuzz");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        match ingest(&std::fs::read(&path).unwrap()) {
            Ok(i) => {
                for w in &i.wafers {
                    assert_eq!(WaferHash::of_packed(&w.packed), w.hash);
                    assert!(unpack(&w.packed).is_ok(), "{}", path.display());
                }
            }
            Err(e) => assert!((400..500).contains(&e.status), "{}: {e}", path.display()),
        }
    }
}

/// Every crafted file of `tests/hostile/` is refused with a 4xx that says why (nested
/// compression and bombs before they cost anything), never a panic or a partial store.
#[test]
fn hostile_files_are_refused_with_a_reason() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/hostile"));
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") || path.is_dir() {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        let e = match ingest(&bytes) {
            // The others are whole files, only odd: stored within the reader's bounds (the
            // upload handler limits how many wafers one upload may store).
            Ok(i) => {
                let want = match name.as_str() {
                    "dies-far-apart.stdf" => (1, 4),
                    "new-test-per-die.stdf" => (1, 16_000),
                    "retest-storm.stdf" | "every-site.stdf" => (1, 1),
                    "one-die-per-wafer-wide-catalogue.stdf" => (3_000, 1),
                    _ => panic!("{name} was stored"),
                };
                assert_eq!((i.wafers.len(), i.wafers[0].meta.dies), want, "{name}");
                // What is stored follows what was sent, however many wafers share a catalogue.
                let packed: usize = i.wafers.iter().map(|w| w.packed.len()).sum();
                assert!(
                    packed <= 4 * bytes.len() + (1 << 20),
                    "{name}: {packed} bytes"
                );
                continue;
            }
            Err(e) => e,
        };
        let want = match name.as_str() {
            "gzip-bomb.stdf.gz" | "catalogue-times-wafers.stdf" => 413,
            _ => 400,
        };
        assert_eq!(e.status, want, "{name}: {e}");
        assert!(!e.detail.is_empty(), "{name}");
        eprintln!("{name}: {e}");
    }
    assert!(seen >= 8);
    // Inputs that once crashed the `ingest` fuzz target: any answer but a panic or a 5xx.
    for e in std::fs::read_dir(dir.join("fuzz")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        if let Err(e) = ingest(&std::fs::read(&path).unwrap()) {
            assert!((400..500).contains(&e.status), "{}: {e}", path.display());
        }
    }
}

#[test]
fn resident_bytes_grow_with_the_dies() {
    let f = unpack(&ingest(&demo()).unwrap().wafers[0].packed).unwrap();
    assert!(resident_bytes(&f) > f.wafers[0].dies.len() * 17);
}

#[test]
fn hashes_are_canonical_hex() {
    let h = WaferHash::of_packed(b"x");
    assert_eq!(WaferHash::from_hex(&h.to_hex()), Some(h));
    assert_eq!(WaferHash::from_hex(&h.to_hex().to_uppercase()), None);
    assert_eq!(WaferHash::from_hex("zz"), None);
}
