//! The messages between the page and its workers (the parsing worker and the classifier
//! worker), typed: one enum each way ([`ToWorker`], [`FromWorker`]) and one place that says how
//! each travels as a JS object (`codec`: its `kind` and field names). Both sides build and match
//! these enums only; neither writes a field name.
//!
//! The bytes-to-pixel path through it: the page sends [`ToWorker::File`] (or `Demo`, or
//! `Packed` for a kept or edge file); the parsing worker streams and parses it, posting
//! [`FromWorker::Progress`] on the way, [`FromWorker::Done`] with the file packed
//! (`wafer::pack`), its buffer moved, not copied, then [`FromWorker::Stats`]; the page (`loader`)
//! unpacks it into a `doc::Doc`, which `map` draws; the panels' counting is asked of the worker,
//! which keeps the file ([`ToWorker::Ask`], [`FromWorker::Answer`]), and so are the report and
//! CSV downloads ([`ToWorker::Export`], [`FromWorker::Exported`]). After the first map the page sends the
//! classifier worker the weights ([`ToWorker::Model`]) and each file's grids
//! ([`ToWorker::Grids`]); it answers [`FromWorker::Classified`].
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
    /// A browser `Blob`: bytes in the browser's blob store, passed by reference.
    type Blob;

    fn empty() -> Self;
    fn put_str(&mut self, key: &'static str, value: &str);
    fn put_num(&mut self, key: &'static str, value: f64);
    fn put_bool(&mut self, key: &'static str, value: bool);
    fn put_floats(&mut self, key: &'static str, value: &[f32]);
    /// A list of strings, each maybe absent (null).
    fn put_names(&mut self, key: &'static str, value: &[Option<String>]);
    fn put_file(&mut self, key: &'static str, value: Self::File);
    fn put_files(&mut self, key: &'static str, value: Vec<Self::File>);
    fn put_bytes(&mut self, key: &'static str, value: Self::Bytes);
    fn put_blob(&mut self, key: &'static str, value: Self::Blob);

    /// Whether the field is there at all (of any type): an optional field that is there must
    /// read as its type, so a mistyped one is an error rather than silently absent.
    fn has(&self, key: &'static str) -> bool;
    fn str(&self, key: &'static str) -> Option<String>;
    fn num(&self, key: &'static str) -> Option<f64>;
    fn bool(&self, key: &'static str) -> Option<bool>;
    fn floats(&self, key: &'static str) -> Option<Vec<f32>>;
    fn names(&self, key: &'static str) -> Option<Vec<Option<String>>>;
    fn file(&self, key: &'static str) -> Option<Self::File>;
    fn files(&self, key: &'static str) -> Option<Vec<Self::File>>;
    fn bytes(&self, key: &'static str) -> Option<Self::Bytes>;
    fn blob(&self, key: &'static str) -> Option<Self::Blob>;
}

/// Page to worker.
#[derive(Debug, PartialEq)]
pub enum ToWorker<W: Wire> {
    /// Parse a file the user chose, streamed from disk by the worker.
    File(W::File),
    /// Parse several files the user chose together as one lot (`wafer::lot::merge`).
    Lot(Vec<W::File>),
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
    /// To the parsing worker: a question about file `seq` (`stats::ask::Ask`, as JSON), which
    /// it keeps after handing it over; answered by [`FromWorker::Answer`] with the same `id`.
    Ask { seq: u32, id: u32, json: String },
    /// To the parsing worker: write file `seq` for a download, from the file it keeps, so the
    /// page's thread never builds it (a lot's report is seconds of work); answered by
    /// [`FromWorker::Exported`] with the same `id`.
    Export { seq: u32, id: u32, export: Export },
}

/// An ask or an export whose message did not decode, by its id ([`ToWorker::pending`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    Ask(u32),
    Export(u32),
}

impl Pending {
    /// Its answer: the error `why`.
    pub fn failed<W: Wire>(self, why: String) -> FromWorker<W> {
        match self {
            Pending::Ask(id) => FromWorker::Answer {
                id,
                answer: Err(why),
            },
            Pending::Export(id) => FromWorker::Exported { id, blob: Err(why) },
        }
    }
}

/// What [`ToWorker::Export`] writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    /// `report::html` of the file named `name`, with the pattern the page shows per wafer.
    Report {
        name: String,
        patterns: Vec<Option<String>>,
    },
    /// `wafer::export`'s CSV of one wafer (by id) or of the whole file.
    Csv { wafer: Option<String> },
    /// A PNG of wafer `wafer` (by index) as `layer` colours it, fitted in `side` x `side`
    /// pixels by the CPU rasterizer: the gallery's thumbnails and the compare panel's pictures,
    /// which the page's thread drew itself until 2026-12-07 (30-50 ms a wafer for the lot).
    Map {
        wafer: usize,
        layer: paint::palette::Layer,
        side: u32,
    },
    /// The map as the page shows it (`Export PNG`): wafer `wafer` (None: the stacked map) in
    /// the page's own colours (`table`, and `keys`, one per die of that map, so hidden bins, the
    /// first pass and a highlighted bar come out as on screen), at `view` in `width` x `height`
    /// pixels, die `selected` outlined. The page's thread spent 90-140 ms drawing and encoding
    /// it for a 40k-die wafer until 2026-12-07.
    View {
        wafer: Option<usize>,
        table: Vec<paint::Rgba>,
        keys: Vec<u16>,
        view: paint::View,
        width: u32,
        height: u32,
        selected: Option<usize>,
    },
}

/// The largest [`Export::Map`] side: a bound on the pixels a message can ask for.
pub const MAX_MAP_SIDE: u32 = 4096;
/// The largest [`Export::View`] side (a map on a large, dense screen) and its most pixels (a
/// 128 MB canvas in the worker).
pub const MAX_VIEW_SIDE: u32 = 8192;
pub const MAX_VIEW_PIXELS: u64 = 1 << 25;

impl Export {
    /// What it writes of `file`: the bytes, and their media type. `file_stats`: every test's
    /// statistics over the file, where the caller holds them (the report reuses them).
    pub fn write(
        &self,
        file: &wafer::TestFile,
        file_stats: Option<&[stats::TestStats]>,
    ) -> Result<(Vec<u8>, &'static str), String> {
        match self {
            Export::Report { name, patterns } => {
                let input = report::Input {
                    name,
                    file,
                    patterns: patterns.clone(),
                    file_stats,
                };
                let by = "Written by the Waferscope page.";
                let html = report::html(&[input], &report::Options::default(), by);
                Ok((html.into_bytes(), "text/html"))
            }
            Export::Csv { wafer } => {
                let mut out = Vec::new();
                let csv = wafer::export::ExportFormat::Csv;
                wafer::export::write(file, csv, wafer.as_deref(), &mut out)
                    .map_err(|e| format!("writing the CSV: {e}"))?;
                Ok((out, "text/csv"))
            }
            Export::Map { wafer, layer, side } => {
                let w = file
                    .wafers
                    .get(*wafer)
                    .ok_or_else(|| format!("the file has no wafer {wafer}"))?;
                if let paint::palette::Layer::Test(t) = *layer
                    && t >= file.tests.tests.len()
                {
                    return Err(format!("the file has no test {t} to colour by"));
                }
                if !(1..=MAX_MAP_SIDE).contains(side) {
                    return Err(format!("a picture of {side} pixels a side"));
                }
                let canvas = paint::raster::wafer_picture(file, w, *layer, *side);
                Ok((canvas.encode_png(), "image/png"))
            }
            Export::View {
                wafer,
                table,
                keys,
                view,
                width,
                height,
                selected,
            } => {
                let size = (*width, *height);
                let canvas = picture::view(file, *wafer, table, keys, *view, size, *selected)?;
                Ok((canvas.encode_png(), "image/png"))
            }
        }
    }
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
    /// File `seq`'s packed bytes (those of its `Done`) as a Blob, for the library to keep:
    /// making one copies the bytes into the browser's blob store, 37-66 ms on the page's
    /// thread for a 50 MB lot, so the worker makes it, after the `Done` (the map does not wait
    /// for it). None for a file the library does not keep (edge, library) or if the worker
    /// could not make one: the page then makes it.
    Kept { seq: u32, blob: Option<W::Blob> },
    /// File `seq`'s test statistics (`stats::scopes`) are computed, after its `Done` (the map
    /// does not wait for them); they stay in the worker, asked for a screenful at a time
    /// ([`ToWorker::Ask`]). `ms`: computing them.
    Stats { seq: u32, ms: f64 },
    /// The weights loaded (and warmed up) on the CPU, or why not.
    Model(Result<ModelInfo, String>),
    /// Where the classifier worker's WebGPU backend stands.
    Gpu(GpuStatus),
    /// The classifier's answer for every wafer of file `seq`.
    Classified(Classified),
    /// The answer to [`ToWorker::BenchClassify`].
    BenchClassify(Result<BenchTimes, String>),
    /// The answer to [`ToWorker::Ask`] `id`: a `stats::ask::Answer` as JSON, or why there is
    /// none (the worker holds another file now, or the ask was not understood).
    Answer {
        id: u32,
        answer: Result<String, String>,
    },
    /// The answer to [`ToWorker::Export`] `id`: the file written, as a Blob (the bytes never
    /// cross the page's thread), or why there is none.
    Exported {
        id: u32,
        blob: Result<W::Blob, String>,
    },
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

mod codec;
mod picture;

#[cfg(test)]
mod tests;
