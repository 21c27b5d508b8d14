//! The messages between the page and its parsing worker, typed: one enum each way ([`ToWorker`],
//! [`FromWorker`]) and the one place that says how each travels as a JS object (its `kind` and
//! field names). Both sides build and match these enums only; neither writes a field name.
//!
//! The bytes-to-pixel path through it: the page sends [`ToWorker::File`] (or `Demo`, or
//! `Packed` for a wafer from the edge); the worker streams and parses it, posting
//! [`FromWorker::Progress`] on the way and [`FromWorker::Done`] with the file packed
//! (`wafer::pack`), its buffer moved, not copied; the page (`loader`) unpacks it into a
//! `doc::Doc`, which `map` draws. [`FromWorker::Classified`] follows once the weights the page
//! sent ([`ToWorker::Model`]) are loaded.
//!
//! Pure: the encoding is written against [`Wire`], a message's fields. `js` implements it on a JS
//! object and its transfer list; the tests on a map, so every message round-trips natively.

use std::fmt;

#[cfg(target_arch = "wasm32")]
pub mod js;

/// A message's fields as they travel: a JS object on the web, a map in the tests. Setting a
/// field cannot fail; reading one answers None when it is absent or of another type.
pub trait Wire: Sized {
    /// A browser `File`, read by the worker itself (so the page never holds its bytes).
    type File;
    /// Bytes that are moved, not copied: the JS side lists their buffer for transfer.
    type Bytes;

    fn empty() -> Self;
    fn put_str(&mut self, key: &'static str, value: &str);
    fn put_num(&mut self, key: &'static str, value: f64);
    fn put_bool(&mut self, key: &'static str, value: bool);
    fn put_floats(&mut self, key: &'static str, value: &[f32]);
    /// A list of strings, each maybe absent (null).
    fn put_names(&mut self, key: &'static str, value: &[Option<String>]);
    fn put_file(&mut self, key: &'static str, value: Self::File);
    fn put_bytes(&mut self, key: &'static str, value: Self::Bytes);

    fn str(&self, key: &'static str) -> Option<String>;
    fn num(&self, key: &'static str) -> Option<f64>;
    fn bool(&self, key: &'static str) -> Option<bool>;
    fn floats(&self, key: &'static str) -> Option<Vec<f32>>;
    fn names(&self, key: &'static str) -> Option<Vec<Option<String>>>;
    fn file(&self, key: &'static str) -> Option<Self::File>;
    fn bytes(&self, key: &'static str) -> Option<Self::Bytes>;
}

/// Page to worker.
#[derive(Debug, PartialEq)]
pub enum ToWorker<W: Wire> {
    /// Parse a file the user chose, streamed from disk by the worker.
    File(W::File),
    /// Parse built-in demo file `index` (`wafer::demo`).
    Demo { index: usize },
    /// A file packed already (a wafer stored on the edge): unpack and classify it.
    Packed { name: String, packed: W::Bytes },
    /// To the classifier worker: the manifest and weights to check and load (they replace the
    /// model in use from the next [`ToWorker::Grids`] on).
    Model { manifest: String, weights: W::Bytes },
    /// To the classifier worker: file `seq`'s wafers as feature grids, `features::SIZE`
    /// squared bytes each, in file order; all zero (off the wafer) for a wafer without dies.
    Grids { seq: u32, grids: W::Bytes },
    /// To the classifier worker: time the warm classifier on the last file's first wafer
    /// (`tests/benches/viewer.mjs`), on WebGPU or on the CPU.
    BenchClassify { gpu: bool },
}

/// Worker to page.
#[derive(Debug, PartialEq)]
pub enum FromWorker<W: Wire> {
    /// Listening: messages posted before this were lost, so the page holds them back until now.
    Ready,
    /// The share of the file read so far, 0 to 1.
    Progress { fraction: f64 },
    /// A file read.
    Done(Parsed<W::Bytes>),
    /// A file that could not be read.
    Failed { name: String, message: String },
    /// File `seq`'s test statistics (`stats::scopes`, as JSON), after its `Done`: the map does
    /// not wait for them. `ms`: computing them.
    Stats { seq: u32, json: String, ms: f64 },
    /// The weights loaded (and warmed up) on the CPU, or why not.
    Model(Result<ModelInfo, String>),
    /// Where the classifier worker's WebGPU backend stands.
    Gpu(GpuStatus),
    /// The classifier's answer for every wafer of file `seq`.
    Classified(Classified),
    /// The answer to [`ToWorker::BenchClassify`].
    BenchClassify(Result<BenchTimes, String>),
}

/// A file the worker read, packed for the page.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed<B> {
    pub name: String,
    /// `wafer::pack` of the file.
    pub packed: B,
    /// Reading and decoding it (streaming and decompression included, packing not).
    pub parse_ms: f64,
    /// The file's number, to match its [`Classified`] to it.
    pub seq: u32,
}

/// The worker's classifier, once loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub version: u32,
    /// The first inference, which allocates, timed apart from the rest.
    pub warmup_ms: f64,
    pub backend: String,
}

/// Warm latencies of the worker's classifier (medians).
#[derive(Clone, Debug, PartialEq)]
pub struct BenchTimes {
    pub single_ms: f64,
    pub batch25_ms: f64,
    /// WebGPU's first inference (shader compilation); None on the CPU.
    pub warmup_ms: Option<f64>,
    pub backend: String,
}

/// The classifier worker's WebGPU backend.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuStatus {
    /// No WebGPU adapter here: the CPU answers.
    Unavailable,
    Starting,
    /// Set up; the first inference (shader compilation included) took `warmup_ms`.
    Ready {
        label: String,
        warmup_ms: f64,
    },
    Failed(String),
}

/// Every wafer of one file, classified.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    pub seq: u32,
    /// Per wafer, in file order; None for a wafer without dies.
    pub wafers: Vec<Option<WaferClass>>,
    /// One wafer alone, and the whole file as one batch.
    pub single_ms: f64,
    pub batch_ms: f64,
    pub backend: String,
    /// Answered on WebGPU (it replaces the CPU's answer for the same file).
    pub gpu: bool,
    /// The model that answered: every label shown names it.
    pub model_version: u32,
}

/// One wafer's prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct WaferClass {
    /// One probability per class, in `model::CLASSES` order.
    pub probs: Vec<f32>,
    /// The wafer's FeatureHash, hex.
    pub hash: String,
}

/// File order's feature grids as one buffer for [`ToWorker::Grids`]: a wafer without dies is
/// `SIZE * SIZE` zero bytes, which no grid can be (a grid has a die).
pub fn grids_to_bytes(grids: &[Option<&features::FeatureGrid>]) -> Vec<u8> {
    let cells = features::SIZE * features::SIZE;
    let mut out = Vec::with_capacity(grids.len() * cells);
    for g in grids {
        match g {
            Some(g) => out.extend_from_slice(&g.cells),
            None => out.resize(out.len() + cells, features::OFF_WAFER),
        }
    }
    out
}

/// The grids of [`grids_to_bytes`] back (a trailing partial grid is dropped).
pub fn grids_from_bytes(bytes: &[u8]) -> Vec<Option<features::FeatureGrid>> {
    bytes
        .chunks_exact(features::SIZE * features::SIZE)
        .map(|c| features::FeatureGrid::from_bytes(c).ok())
        .collect()
}

/// A message that is not one of ours: a bug on the other side, reported and dropped, never a
/// panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    UnknownKind(Option<String>),
    Missing {
        kind: &'static str,
        field: &'static str,
    },
    /// `probs` does not split evenly over the wafers that have a hash.
    Probabilities {
        values: usize,
        wafers: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownKind(k) => write!(f, "a message of unknown kind {k:?}"),
            DecodeError::Missing { kind, field } => {
                write!(f, "a {kind:?} message without a valid {field:?}")
            }
            DecodeError::Probabilities { values, wafers } => {
                write!(
                    f,
                    "{values} probabilities do not split over {wafers} wafers"
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// The field every message carries.
const KIND: &str = "kind";

/// Reads one message's fields, naming the field that is missing.
struct Fields<'a, W> {
    wire: &'a W,
    kind: &'static str,
}

impl<W: Wire> Fields<'_, W> {
    fn get<T>(&self, field: &'static str, v: Option<T>) -> Result<T, DecodeError> {
        v.ok_or(DecodeError::Missing {
            kind: self.kind,
            field,
        })
    }
    fn str(&self, k: &'static str) -> Result<String, DecodeError> {
        self.get(k, self.wire.str(k))
    }
    fn num(&self, k: &'static str) -> Result<f64, DecodeError> {
        self.get(k, self.wire.num(k))
    }
    /// A count or index: a finite, non-negative number (fractions are cut).
    fn count(&self, k: &'static str) -> Result<u32, DecodeError> {
        let n = self.wire.num(k).filter(|n| n.is_finite() && *n >= 0.0);
        self.get(k, n.map(|n| n.min(u32::MAX as f64) as u32))
    }
    fn bool(&self, k: &'static str) -> Result<bool, DecodeError> {
        self.get(k, self.wire.bool(k))
    }
    fn bytes(&self, k: &'static str) -> Result<W::Bytes, DecodeError> {
        self.get(k, self.wire.bytes(k))
    }
}

fn start<W: Wire>(kind: &'static str) -> W {
    let mut w = W::empty();
    w.put_str(KIND, kind);
    w
}

/// The message's kind, and a reader of its fields.
fn open<'a, W: Wire>(wire: &'a W, kinds: &[&'static str]) -> Result<Fields<'a, W>, DecodeError> {
    let kind = wire.str(KIND);
    match kinds.iter().find(|k| Some(**k) == kind.as_deref()) {
        Some(&kind) => Ok(Fields { wire, kind }),
        None => Err(DecodeError::UnknownKind(kind)),
    }
}

impl<W: Wire> ToWorker<W> {
    const KINDS: [&'static str; 6] = ["file", "demo", "packed", "model", "grids", "bench-classify"];

    /// Its `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        let i = match self {
            ToWorker::File(_) => 0,
            ToWorker::Demo { .. } => 1,
            ToWorker::Packed { .. } => 2,
            ToWorker::Model { .. } => 3,
            ToWorker::Grids { .. } => 4,
            ToWorker::BenchClassify { .. } => 5,
        };
        Self::KINDS[i]
    }

    pub fn encode(self) -> W {
        let mut w = start::<W>(self.kind());
        match self {
            ToWorker::File(file) => w.put_file("file", file),
            ToWorker::Demo { index } => w.put_num("index", index as f64),
            ToWorker::Packed { name, packed } => {
                w.put_str("name", &name);
                w.put_bytes("packed", packed);
            }
            ToWorker::Model { manifest, weights } => {
                w.put_str("manifest", &manifest);
                w.put_bytes("weights", weights);
            }
            ToWorker::Grids { seq, grids } => {
                w.put_num("seq", seq.into());
                w.put_bytes("grids", grids);
            }
            ToWorker::BenchClassify { gpu } => w.put_bool("gpu", gpu),
        }
        w
    }

    pub fn decode(wire: &W) -> Result<Self, DecodeError> {
        let f = open(wire, &Self::KINDS)?;
        Ok(match f.kind {
            "file" => ToWorker::File(f.get("file", wire.file("file"))?),
            "demo" => ToWorker::Demo {
                index: f.count("index")? as usize,
            },
            "packed" => ToWorker::Packed {
                name: f.str("name")?,
                packed: f.bytes("packed")?,
            },
            "model" => ToWorker::Model {
                manifest: f.str("manifest")?,
                weights: f.bytes("weights")?,
            },
            "grids" => ToWorker::Grids {
                seq: f.count("seq")?,
                grids: f.bytes("grids")?,
            },
            _ => ToWorker::BenchClassify {
                gpu: f.bool("gpu")?,
            },
        })
    }
}

impl<W: Wire> FromWorker<W> {
    const KINDS: [&'static str; 9] = [
        "ready",
        "progress",
        "done",
        "error",
        "stats",
        "model",
        "gpu",
        "classified",
        "bench-classify",
    ];

    /// Its `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        let i = match self {
            FromWorker::Ready => 0,
            FromWorker::Progress { .. } => 1,
            FromWorker::Done(_) => 2,
            FromWorker::Failed { .. } => 3,
            FromWorker::Stats { .. } => 4,
            FromWorker::Model(_) => 5,
            FromWorker::Gpu(_) => 6,
            FromWorker::Classified(_) => 7,
            FromWorker::BenchClassify(_) => 8,
        };
        Self::KINDS[i]
    }

    pub fn encode(self) -> W {
        let mut w = start::<W>(self.kind());
        match self {
            FromWorker::Ready => {}
            FromWorker::Progress { fraction } => w.put_num("fraction", fraction),
            FromWorker::Done(p) => {
                w.put_str("name", &p.name);
                w.put_bytes("packed", p.packed);
                w.put_num("parse_ms", p.parse_ms);
                w.put_num("seq", p.seq.into());
            }
            FromWorker::Failed { name, message } => {
                w.put_str("name", &name);
                w.put_str("message", &message);
            }
            FromWorker::Stats { seq, json, ms } => {
                w.put_num("seq", seq.into());
                w.put_str("json", &json);
                w.put_num("ms", ms);
            }
            FromWorker::Model(Ok(m)) => {
                w.put_num("version", m.version.into());
                w.put_num("warmup_ms", m.warmup_ms);
                w.put_str("backend", &m.backend);
            }
            FromWorker::Gpu(g) => match g {
                GpuStatus::Unavailable => w.put_str("state", "unavailable"),
                GpuStatus::Starting => w.put_str("state", "starting"),
                GpuStatus::Ready { label, warmup_ms } => {
                    w.put_str("state", "ready");
                    w.put_str("label", &label);
                    w.put_num("warmup_ms", warmup_ms);
                }
                GpuStatus::Failed(e) => {
                    w.put_str("state", "failed");
                    w.put_str("error", &e);
                }
            },
            FromWorker::Classified(c) => {
                // Flat: every present wafer's probabilities in a row (one Float32Array), and per
                // wafer its hash or null for a wafer without dies.
                let probs: Vec<f32> = c
                    .wafers
                    .iter()
                    .flatten()
                    .flat_map(|p| p.probs.clone())
                    .collect();
                let hashes: Vec<Option<String>> =
                    c.wafers.into_iter().map(|p| p.map(|p| p.hash)).collect();
                w.put_num("seq", c.seq.into());
                w.put_floats("probs", &probs);
                w.put_names("hashes", &hashes);
                w.put_num("single_ms", c.single_ms);
                w.put_num("batch_ms", c.batch_ms);
                w.put_str("backend", &c.backend);
                w.put_bool("gpu", c.gpu);
                w.put_num("model_version", c.model_version.into());
            }
            FromWorker::BenchClassify(Ok(t)) => {
                w.put_num("single_ms", t.single_ms);
                w.put_num("batch25_ms", t.batch25_ms);
                if let Some(ms) = t.warmup_ms {
                    w.put_num("warmup_ms", ms);
                }
                w.put_str("backend", &t.backend);
            }
            FromWorker::Model(Err(e)) | FromWorker::BenchClassify(Err(e)) => {
                w.put_str("error", &e);
            }
        }
        w
    }

    pub fn decode(wire: &W) -> Result<Self, DecodeError> {
        let f = open(wire, &Self::KINDS)?;
        // Model and bench answers are an error when they carry one.
        let error = wire.str("error");
        Ok(match f.kind {
            "ready" => FromWorker::Ready,
            "progress" => FromWorker::Progress {
                fraction: f.num("fraction")?,
            },
            "done" => FromWorker::Done(Parsed {
                name: f.str("name")?,
                packed: f.bytes("packed")?,
                parse_ms: f.num("parse_ms")?,
                seq: f.count("seq")?,
            }),
            "error" => FromWorker::Failed {
                name: f.str("name")?,
                message: f.str("message")?,
            },
            "stats" => FromWorker::Stats {
                seq: f.count("seq")?,
                json: f.str("json")?,
                ms: f.num("ms")?,
            },
            "model" => FromWorker::Model(match error {
                Some(e) => Err(e),
                None => Ok(ModelInfo {
                    version: f.count("version")?,
                    warmup_ms: f.num("warmup_ms")?,
                    backend: f.str("backend")?,
                }),
            }),
            "gpu" => FromWorker::Gpu(match f.str("state")?.as_str() {
                "unavailable" => GpuStatus::Unavailable,
                "starting" => GpuStatus::Starting,
                "ready" => GpuStatus::Ready {
                    label: f.str("label")?,
                    warmup_ms: f.num("warmup_ms")?,
                },
                _ => GpuStatus::Failed(f.str("error")?),
            }),
            "classified" => FromWorker::Classified(classified(&f)?),
            _ => FromWorker::BenchClassify(match error {
                Some(e) => Err(e),
                None => Ok(BenchTimes {
                    single_ms: f.num("single_ms")?,
                    batch25_ms: f.num("batch25_ms")?,
                    warmup_ms: wire.num("warmup_ms"),
                    backend: f.str("backend")?,
                }),
            }),
        })
    }
}

/// Split the flat probabilities back over the wafers that have a hash.
fn classified<W: Wire>(f: &Fields<'_, W>) -> Result<Classified, DecodeError> {
    let probs = f.get("probs", f.wire.floats("probs"))?;
    let hashes = f.get("hashes", f.wire.names("hashes"))?;
    let present = hashes.iter().flatten().count();
    let per = probs.len().checked_div(present).unwrap_or(0);
    if per * present != probs.len() {
        return Err(DecodeError::Probabilities {
            values: probs.len(),
            wafers: present,
        });
    }
    let mut chunks = probs.chunks(per.max(1));
    let wafers = hashes
        .into_iter()
        .map(|h| {
            let hash = h?;
            let probs = chunks.next().map_or_else(Vec::new, <[f32]>::to_vec);
            Some(WaferClass { probs, hash })
        })
        .collect();
    Ok(Classified {
        seq: f.count("seq")?,
        wafers,
        single_ms: f.num("single_ms")?,
        batch_ms: f.num("batch_ms")?,
        backend: f.str("backend")?,
        gpu: f.bool("gpu")?,
        model_version: f.count("model_version")?,
    })
}

#[cfg(test)]
mod tests;
