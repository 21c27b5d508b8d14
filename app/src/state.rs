//! The app's state: one set of signals, shared through context, and what is read from them
//! alone (the subject shown, its view and colours). Everything web-side uses it; it uses only
//! `doc` (and the edge's wire types from the `api` crate).

use std::collections::BTreeSet;
use std::rc::Rc;

use leptos::prelude::*;
use paint::{Coloring, Layer, View};

use crate::doc::{Doc, Subject};

/// The edge's answer for the wafer on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgePrediction {
    /// The edge's label (None where it abstains) and its call in words.
    pub label: Option<String>,
    pub text: String,
    pub model_version: u32,
    /// `X-Cache`: HIT or MISS.
    pub cache: String,
    /// The FeatureHash the edge keyed it with.
    pub feature_hash: String,
}

/// Where the classifier stands.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelStatus {
    Loading,
    /// The page holds model `version`'s weights; the classifier worker, started after the first
    /// map, has not loaded them yet.
    Fetched {
        version: u32,
    },
    Ready {
        version: u32,
        warmup_ms: f64,
        backend: String,
    },
    Failed(String),
}

/// Where the service worker stands, for the page and the test hooks (`#status`'s `data-sw`).
#[derive(Clone, Debug, PartialEq)]
pub enum Offline {
    /// Not registered yet.
    Starting,
    /// No service worker here: online only.
    Unavailable(String),
    /// Registered; this page is not served by it yet (the first visit, before it activates).
    Installing,
    /// This page is served by it: a reload works offline.
    Ready,
    /// A newer build has installed and waits for the user.
    UpdateReady,
    Failed(String),
}

impl Offline {
    /// Short form for `data-sw`.
    pub fn code(&self) -> &'static str {
        match self {
            Offline::Starting => "starting",
            Offline::Unavailable(_) => "unavailable",
            Offline::Installing => "installing",
            Offline::Ready => "ready",
            Offline::UpdateReady => "update",
            Offline::Failed(_) => "failed",
        }
    }
}

/// Where the file being opened comes from, for the library (`library::keep`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Origin {
    /// A file from disk, the OS or the edge: kept in the library once read.
    New,
    /// Reopened from library entry `key`.
    Library(u32),
    /// The built-in demo: not kept.
    Demo,
}

/// The classifier's answer for every wafer of the open file.
#[derive(Clone, Debug, PartialEq)]
pub struct Classes {
    /// Per wafer (file order): the prediction and the FeatureHash, or None for a wafer without
    /// dies.
    pub wafers: Vec<Option<(model::Prediction, String)>>,
    /// One wafer alone, and the whole file as one batch.
    pub single_ms: f64,
    pub batch_ms: f64,
    pub backend: String,
    /// From the WebGPU classifier (a later CPU answer for the same file does not replace it).
    pub gpu: bool,
    /// The model that answered (`model_version` of its manifest).
    pub model_version: u32,
}

impl Classes {
    /// What to tell the user about wafer `i` of `doc` (`model::Call`: a label, "uncertain: A
    /// or B", or why there is none); None for a wafer without dies.
    pub fn call(&self, doc: &Doc, i: usize) -> Option<model::Call> {
        let (p, _) = self.wafers.get(i)?.as_ref()?;
        let dies = doc.file.wafers.get(i)?.dies.len();
        Some(model::Call::of_shape(p, Some(dies), doc.wafer_shaped(i)?))
    }
}

/// What asked for dies to stand out on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The dies whose bin a retest changed.
    Retests,
    /// The rectangle chosen on the map.
    Selection,
    /// A fail bin's pareto bar.
    Bin(u16),
    /// A histogram bar of a test: its value range.
    Histogram,
}

/// Dies that stand out on the map (the others fade), for the subject shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Emphasis {
    pub source: Source,
    /// Per row of the subject's die table.
    pub keep: Vec<bool>,
    /// How many are kept, and in words what they are.
    pub count: usize,
    pub what: String,
}

impl Emphasis {
    pub fn new(source: Source, keep: Vec<bool>, what: String) -> Emphasis {
        let count = keep.iter().filter(|&&k| k).count();
        Emphasis {
            source,
            keep,
            count,
            what,
        }
    }
}

#[derive(Clone, Copy)]
pub struct St {
    pub doc: RwSignal<Option<Rc<Doc>>, LocalStorage>,
    pub subject: RwSignal<Subject>,
    /// The second wafer of a side-by-side compare.
    pub compare: RwSignal<Option<usize>>,
    pub layer: RwSignal<Layer>,
    pub hidden: RwSignal<BTreeSet<u16>>,
    /// None: fit the wafer on the next frame.
    pub view: RwSignal<Option<View>>,
    pub hover: RwSignal<Option<usize>>,
    /// Pointer position in CSS pixels inside the map, for the tooltip.
    pub pointer: RwSignal<(f64, f64)>,
    pub selected: RwSignal<Option<usize>>,
    pub progress: RwSignal<Option<f64>>,
    pub loading: RwSignal<Option<String>>,
    pub error: RwSignal<Option<String>>,
    pub backend: RwSignal<String>,
    pub coloring: RwSignal<Option<Rc<Coloring>>, LocalStorage>,
    /// Milliseconds from choosing a file to its first frame (for the user and the benchmark).
    pub first_frame_ms: RwSignal<Option<f64>>,
    /// Milliseconds the worker spent reading and decoding the file (streaming and decompression
    /// included, packing for the hand-over not).
    pub parse_ms: RwSignal<Option<f64>>,
    pub started_at: RwSignal<f64>,
    pub model: RwSignal<ModelStatus>,
    /// Where the classifier worker's WebGPU backend stands (its CPU one is `model`); None until
    /// the classifier starts.
    pub gpu_model: RwSignal<Option<crate::protocol::GpuStatus>>,
    pub classes: RwSignal<Option<Rc<Classes>>, LocalStorage>,
    /// What computing the open file's test statistics took, in the parsing worker (which keeps
    /// them: the panels ask it for what they show); None until they are computed.
    pub stats_ms: RwSignal<Option<f64>>,
    /// The parsing worker's number of the open file, to match its classification to it.
    pub seq: RwSignal<u32>,
    /// The parsing worker's number of the file on screen (`doc`): `seq` moves on when a newer
    /// file arrives, before it is unpacked. The panels' asks name it (`ask`).
    pub doc_seq: RwSignal<u32>,
    /// The wafers stored on the edge, when the app is served by the edge Worker.
    pub edge: RwSignal<Option<Rc<Vec<api::WaferMeta>>>, LocalStorage>,
    /// The edge's prediction for the wafer on screen.
    pub edge_prediction: RwSignal<Option<Result<Rc<EdgePrediction>, String>>, LocalStorage>,
    /// The offline service worker (`pwa`).
    pub offline: RwSignal<Offline>,
    /// Where the file being opened (or on screen) comes from.
    pub origin: RwSignal<Origin>,
    /// The library entry of the file on screen, once kept or when reopened from it.
    pub kept: RwSignal<Option<u32>>,
    /// The library, newest first; None until read (or without IndexedDB).
    pub library: RwSignal<Option<Rc<crate::library::Listing>>, LocalStorage>,
    /// What the library last could not do, or asked of the browser.
    pub library_note: RwSignal<Option<String>>,
    /// The user keeps original files in the library too (a setting kept there).
    pub keep_original: RwSignal<bool>,
    /// A model change (or a refused one) to tell the user about.
    pub model_note: RwSignal<Option<String>>,
    /// Bytes this site stores and may store (`navigator.storage.estimate`), and whether its
    /// storage is persistent.
    pub storage: RwSignal<Option<(f64, f64, bool)>>,
    /// Show each retested die's first result instead of its final one.
    pub first_pass: RwSignal<bool>,
    /// Tasks since the open file arrived: the analysis panels draw one per task after it
    /// (`panels::Later`), so a big file never holds the page's thread for long.
    pub settled: RwSignal<u8>,
    pub emphasis: RwSignal<Option<Rc<Emphasis>>, LocalStorage>,
    /// How the zones panel cuts the wafer, and whether the map draws them.
    pub zones: RwSignal<stats::ZoneSpec>,
    pub show_zones: RwSignal<bool>,
    /// The stepper's field, and whether the map draws the field grid.
    pub reticle: RwSignal<stats::ReticleSpec>,
    pub show_reticle: RwSignal<bool>,
    /// Dies chosen on the wafer shown (shift-drag on the map): a rectangle or a lasso.
    pub selection: RwSignal<Option<stats::Region>>,
    /// The rectangle being dragged, in CSS pixels of the map: two corners.
    pub dragging: RwSignal<Option<[f64; 4]>>,
    /// Whether a shift-drag draws a lasso (else a rectangle), and the lasso being drawn, in CSS
    /// pixels of the map.
    pub lasso: RwSignal<bool>,
    pub lasso_path: RwSignal<Vec<[f64; 2]>>,
}

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

impl St {
    pub fn new() -> St {
        St {
            doc: RwSignal::new_local(None),
            subject: RwSignal::new(Subject::Wafer(0)),
            compare: RwSignal::new(None),
            layer: RwSignal::new(Layer::HardBin),
            hidden: RwSignal::new(BTreeSet::new()),
            view: RwSignal::new(None),
            hover: RwSignal::new(None),
            pointer: RwSignal::new((0.0, 0.0)),
            selected: RwSignal::new(None),
            progress: RwSignal::new(None),
            loading: RwSignal::new(None),
            error: RwSignal::new(None),
            backend: RwSignal::new("starting".into()),
            coloring: RwSignal::new_local(None),
            first_frame_ms: RwSignal::new(None),
            parse_ms: RwSignal::new(None),
            started_at: RwSignal::new(0.0),
            model: RwSignal::new(ModelStatus::Loading),
            gpu_model: RwSignal::new(None),
            classes: RwSignal::new_local(None),
            stats_ms: RwSignal::new(None),
            seq: RwSignal::new(0),
            doc_seq: RwSignal::new(0),
            edge: RwSignal::new_local(None),
            edge_prediction: RwSignal::new_local(None),
            offline: RwSignal::new(Offline::Starting),
            origin: RwSignal::new(Origin::New),
            kept: RwSignal::new(None),
            library: RwSignal::new_local(None),
            library_note: RwSignal::new(None),
            keep_original: RwSignal::new(false),
            storage: RwSignal::new(None),
            model_note: RwSignal::new(None),
            first_pass: RwSignal::new(false),
            settled: RwSignal::new(0),
            emphasis: RwSignal::new_local(None),
            zones: RwSignal::new(stats::ZoneSpec::default()),
            show_zones: RwSignal::new(false),
            reticle: RwSignal::new(stats::ReticleSpec::default()),
            show_reticle: RwSignal::new(false),
            selection: RwSignal::new(None),
            dragging: RwSignal::new(None),
            lasso: RwSignal::new(false),
            lasso_path: RwSignal::new(Vec::new()),
        }
    }

    pub fn begin(&self, name: &str) {
        self.loading.set(Some(name.to_string()));
        self.error.set(None);
        self.progress.set(Some(0.0));
        self.first_frame_ms.set(None);
        self.parse_ms.set(None);
        self.classes.set(None);
        self.stats_ms.set(None);
        self.started_at.set(now_ms());
        self.origin.set(Origin::New);
        self.kept.set(None);
    }

    pub fn fail(&self, name: &str, message: &str) {
        self.loading.set(None);
        self.error.set(Some(format!("{name}: {message}")));
    }

    /// Show `doc`, the parsing worker's file `seq`.
    pub fn open(&self, doc: Rc<Doc>, seq: u32) {
        self.doc_seq.set(seq);
        self.subject.set(Subject::Wafer(0));
        self.compare.set(None);
        self.layer.set(Layer::HardBin);
        self.hidden.set(BTreeSet::new());
        self.view.set(None);
        self.hover.set(None);
        self.selected.set(None);
        self.loading.set(None);
        self.first_pass.set(false);
        self.settled.set(0);
        self.forget_marks();
        self.doc.set(Some(doc));
    }

    /// Drop what belongs to one map: the emphasised dies and the selection.
    pub fn forget_marks(&self) {
        self.emphasis.set(None);
        self.selection.set(None);
        self.dragging.set(None);
        self.lasso_path.set(Vec::new());
    }

    /// The open document and the subject shown, when there is something to draw.
    pub fn shown(&self) -> Option<(Rc<Doc>, Subject)> {
        let doc = self.doc.get()?;
        let s = self.subject.get();
        match s {
            Subject::Wafer(i) if i < doc.file.wafers.len() => Some((doc, s)),
            Subject::Stack if !doc.file.wafers.is_empty() => Some((doc, s)),
            _ => None,
        }
    }

    /// The view of a `w` x `h` canvas: the one set, or the shown map fitted if none yet.
    pub fn current_view(&self, w: u32, h: u32) -> Option<View> {
        self.view.get_untracked().or_else(|| {
            let (doc, s) = self.shown()?;
            Some(View::fit(&doc.geometry(s), w, h))
        })
    }

    /// The colours of the map shown, its marked dies standing out (tracked: the app's colouring
    /// effect reruns on a change of file, subject, layer, hidden bins, pass or marks). The
    /// colours without marks are kept in `kept` and made again only when what they show
    /// changes: a mark only fades them (colouring a million dies anew took about half of a
    /// histogram bar's click on the page's thread: 37 ms of CPU, now 18-25, `clicks.mjs`).
    pub fn coloring_of_shown(&self, kept: &mut Option<KeptColoring>) -> Option<Rc<Coloring>> {
        let (doc, s) = self.shown()?;
        let inputs = ColoringInputs {
            doc: Rc::as_ptr(&doc) as usize,
            subject: s,
            layer: self.layer.get(),
            hidden: self.hidden.get(),
            first_pass: self.first_pass.get(),
        };
        let unmarked = match kept {
            Some((made, c)) if *made == inputs => c.clone(),
            _ => {
                let c = Rc::new(match s {
                    Subject::Wafer(i) if inputs.first_pass => {
                        doc.first_pass_coloring(i, inputs.layer, &inputs.hidden)
                    }
                    _ => doc.coloring(s, inputs.layer, &inputs.hidden),
                });
                *kept = Some((inputs, c.clone()));
                c
            }
        };
        Some(self.emphasis.with(|e| match e {
            Some(e) if e.keep.len() == unmarked.keys.len() => Rc::new(unmarked.emphasize(&e.keep)),
            _ => unmarked,
        }))
    }
}

/// What the map's colours without marks were made from: the file (by address: a new file is a
/// new `Rc`), the subject, the layer, the hidden bins and the pass.
#[derive(PartialEq)]
pub struct ColoringInputs {
    doc: usize,
    subject: Subject,
    layer: Layer,
    hidden: BTreeSet<u16>,
    first_pass: bool,
}

/// The colours without marks last made, and what from.
pub type KeptColoring = (ColoringInputs, Rc<Coloring>);
