//! What the edge stores for an uploaded file: one normalised, packed file per wafer, addressed by
//! the hash of its content, and the small metadata record that indexes it.
//!
//! Normalising makes the address depend on the wafer's data only: the same wafer uploaded plain,
//! gzipped or inside a different file of the same lot gets the same hash. It keeps the lot
//! metadata, the bin and test catalogues and the one wafer, and drops what describes the file
//! rather than the wafer (compression, record counts, bytes read, parts outside wafers, the
//! tester's whole-file bin counts and the reader's warnings).

use std::collections::{BTreeMap, BTreeSet};

use wafer::{BinInfo, BinTable, Compression, TestCatalogue, TestFile};

use crate::error::ApiError;

/// BLAKE3 of a stored (normalised, packed) wafer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaferHash(pub [u8; 32]);

impl WaferHash {
    pub fn of_packed(packed: &[u8]) -> WaferHash {
        let mut h = blake3::Hasher::new();
        h.update(b"waferscope-wafer\0");
        h.update(packed);
        WaferHash(*h.finalize().as_bytes())
    }

    // Same 32-byte hex as FeatureHash (one codec), but only the lower-case form is accepted.
    pub fn to_hex(&self) -> String {
        features::FeatureHash(self.0).to_hex()
    }

    /// Only the canonical form (64 lower-case hex digits), so one wafer has one URL.
    pub fn from_hex(s: &str) -> Option<WaferHash> {
        api::path::is_hash(s)
            .then(|| features::FeatureHash::from_hex(s))
            .flatten()
            .map(|f| WaferHash(f.0))
    }
}

impl std::fmt::Debug for WaferHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WaferHash({})", self.to_hex())
    }
}

/// The index record of a stored wafer (KV value and list metadata), as clients read it.
pub use api::WaferMeta;

/// One wafer ready to store.
pub struct StoredWafer {
    pub hash: WaferHash,
    pub packed: Vec<u8>,
    pub meta: WaferMeta,
}

/// What an upload yields: the wafers and the reader's (non-fatal) warnings.
pub struct Ingest {
    pub wafers: Vec<StoredWafer>,
    pub warnings: Vec<String>,
}

/// Read an uploaded tester file and split it into stored wafers. A file that cannot be read, is
/// only partly readable, or holds no wafer is refused whole (400 naming the offset), so nothing
/// partial is ever shared.
pub fn ingest(bytes: &[u8]) -> Result<Ingest, ApiError> {
    ingest_limited(bytes, crate::MAX_STDF_BYTES)
}

/// [`ingest`] with a cap on the decompressed size: a small compressed upload can expand
/// without bound, and an isolate has 128 MB.
pub fn ingest_limited(bytes: &[u8], max_stdf: u64) -> Result<Ingest, ApiError> {
    let unreadable = |e: wafer::ReadError| {
        ApiError::bad_request("corrupt_file", format!("the file cannot be read: {e}"))
    };
    // Opened once, and the opened stream is the one capped and decoded: decoding must not look
    // for (and unwrap) more compression behind the cap.
    let (compression, stream) =
        wafer::decompress::open_with(bytes, crate::XZ_MAX_KIB).map_err(unreadable)?;
    let over = std::rc::Rc::new(std::cell::Cell::new(false));
    let limited = Limit {
        inner: stream,
        left: max_stdf,
        over: over.clone(),
    };
    let file =
        wafer::read_opened(compression, limited, crate::READ_LIMITS, |_| {}).map_err(unreadable);
    if over.get() {
        return Err(ApiError::new(
            413,
            "too_large",
            format!("the file is over {max_stdf} bytes once decompressed; nothing was stored"),
        ));
    }
    let file = file?;
    if let Some(w) = file
        .warnings
        .iter()
        .find(|w| matches!(w.kind, wafer::WarningKind::MemoryLimit { .. }))
    {
        return Err(ApiError::new(
            413,
            "too_large",
            format!(
                "the file needs more memory to read than the Worker allows: {w}; nothing was stored"
            ),
        ));
    }
    if let Some(w) = file.warnings.iter().find(|w| w.kind.stops_read()) {
        return Err(ApiError::bad_request(
            "corrupt_file",
            format!("the file is damaged and only partly readable: {w}; nothing was stored"),
        ));
    }
    // A file cut exactly between records reads cleanly; only the missing MRR (the last record a
    // tester writes) shows it was cut. A shared store must not hold a silently partial wafer.
    if !file.record_counts.iter().any(|(t, _)| *t == (1, 20)) {
        return Err(ApiError::bad_request(
            "corrupt_file",
            format!(
                "offset {}: the file ends without an MRR (master results record), so it was cut \
                 short; nothing was stored",
                file.bytes_read
            ),
        ));
    }
    if file.wafers.is_empty() {
        return Err(ApiError::new(
            422,
            "no_wafers",
            "the file holds no wafer (no WIR/WRR with dies); nothing was stored",
        ));
    }
    let warnings = file.warnings.iter().map(|w| w.to_string()).collect();
    let wafers = (0..file.wafers.len()).map(|i| stored(&file, i)).collect();
    Ok(Ingest { wafers, warnings })
}

/// A reader that fails once more than `left` bytes have been read, and says so in `over`.
struct Limit<R> {
    inner: R,
    left: u64,
    over: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: std::io::Read> std::io::Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.over.set(true);
            return Err(std::io::Error::other("decompressed size limit"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The normalised single-wafer file of wafer `i` (see the module docs).
pub fn normalise(file: &TestFile, i: usize) -> TestFile {
    // Only the tests and bins this wafer has: a stored wafer costs what it holds, not the whole
    // file's catalogue (3,000 one-die wafers and 10,000 tests made 600 MB of packed wafers).
    let mut wafer = file.wafers[i].clone();
    let mut tests = TestCatalogue::default();
    for c in &mut wafer.dies.columns {
        tests.tests.push(file.tests.tests[c.test as usize].clone());
        c.test = tests.tests.len() as u32 - 1;
    }
    let used = |bins: &BTreeMap<u16, BinInfo>, numbers: &[u16]| {
        let numbers: BTreeSet<u16> = numbers.iter().copied().collect();
        bins.iter()
            .filter(|(n, _)| numbers.contains(n))
            .map(|(&n, b)| {
                (
                    n,
                    BinInfo {
                        count: 0,
                        ..b.clone()
                    },
                )
            })
            .collect()
    };
    let bins = BinTable {
        hard: used(&file.bins.hard, &wafer.dies.hard_bin),
        soft: used(&file.bins.soft, &wafer.dies.soft_bin),
    };
    let mut meta = file.meta.clone();
    meta.compression = Compression::None;
    TestFile {
        format: file.format,
        meta,
        wafers: vec![wafer],
        loose_parts: Default::default(),
        bins,
        tests,
        record_counts: Vec::new(),
        records_total: 0,
        bytes_read: 0,
        warnings: Vec::new(),
    }
}

fn stored(file: &TestFile, i: usize) -> StoredWafer {
    let one = normalise(file, i);
    let packed = wafer::pack::encode(&one);
    let hash = WaferHash::of_packed(&packed);
    let w = &one.wafers[0];
    let cap = |s: &str| s.chars().take(64).collect::<String>();
    let meta = WaferMeta {
        hash: hash.to_hex(),
        lot: cap(&one.meta.lot_id),
        sublot: cap(&one.meta.sublot_id),
        wafer: cap(&w.id),
        part_type: cap(&one.meta.part_type),
        dies: w.dies.len(),
        passing: w.dies.count(wafer::Verdict::Pass),
        start_time: w.start_time,
        feature_hash: features::FeatureGrid::from_dies(&w.dies)
            .ok()
            .map(|g| g.hash().to_hex()),
        feature_spec_version: features::SPEC_VERSION,
        packed_bytes: packed.len(),
    };
    StoredWafer { hash, packed, meta }
}

/// About how many bytes an unpacked stored wafer holds in memory (its die columns, test values
/// and part ids), to weigh it in the memory tier.
pub fn resident_bytes(f: &TestFile) -> usize {
    f.wafers
        .iter()
        .map(|w| {
            let d = &w.dies;
            // x, y, bins, verdict, head, site, attempts, time: 17 bytes a die, plus part ids.
            d.len() * 24 + d.columns.iter().map(|c| c.heap_bytes()).sum::<usize>()
        })
        .sum::<usize>()
        + 4096
}

/// Unpack a stored wafer (R2 held it; damage there is our fault, hence 500).
pub fn unpack(packed: &[u8]) -> Result<TestFile, ApiError> {
    let f = wafer::pack::decode(packed)
        .map_err(|e| ApiError::internal(format!("stored wafer: {e}")))?;
    if f.wafers.len() != 1 {
        return Err(ApiError::internal("stored wafer: not exactly one wafer"));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
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
}
