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
    // Its columns' tests in order, then those only a first attempt ran (its retested dies'
    // first results name tests too: `Wafer::renumber_tests` moves both).
    let mut moved = BTreeMap::new();
    let mut tests = TestCatalogue::default();
    let firsts = wafer.first_results.iter().flatten().map(|r| r.test);
    for t in wafer.dies.columns.iter().map(|c| c.test).chain(firsts) {
        if let (Some(info), false) = (file.tests.tests.get(t as usize), moved.contains_key(&t)) {
            moved.insert(t, tests.tests.len() as u32);
            tests.tests.push(info.clone());
        }
    }
    if let Some(first) = &mut wafer.first_results {
        first.retain(|r| moved.contains_key(&r.test));
    }
    wafer.renumber_tests(|t| moved.get(&t).copied().unwrap_or(t));
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
mod tests;
