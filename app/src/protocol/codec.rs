//! How each message travels: its `kind` and field names, written against [`Wire`]. The one
//! place that names a field; both sides build and match the enums only.

use super::*;

mod values;
use values::{colours, keys, layer_name, parse_layer};

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
    /// An optional count: absent is None, present must be a count (a string or a negative
    /// number is an error, not an absent field).
    fn opt_count(&self, k: &'static str) -> Result<Option<u32>, DecodeError> {
        self.wire.has(k).then(|| self.count(k)).transpose()
    }
    /// An optional string: absent is None, present must be a string.
    fn opt_str(&self, k: &'static str) -> Result<Option<String>, DecodeError> {
        self.wire.has(k).then(|| self.str(k)).transpose()
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
    pub(super) const KINDS: [&'static str; 9] = [
        "file",
        "demo",
        "packed",
        "model",
        "grids",
        "bench-classify",
        "lot",
        "ask",
        "export",
    ];

    /// Its `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        let i = match self {
            ToWorker::File(_) => 0,
            ToWorker::Demo { .. } => 1,
            ToWorker::Packed { .. } => 2,
            ToWorker::Model { .. } => 3,
            ToWorker::Grids { .. } => 4,
            ToWorker::BenchClassify { .. } => 5,
            ToWorker::Lot(_) => 6,
            ToWorker::Ask { .. } => 7,
            ToWorker::Export { .. } => 8,
        };
        Self::KINDS[i]
    }

    pub fn encode(self) -> W {
        let mut w = start::<W>(self.kind());
        match self {
            ToWorker::File(file) => w.put_file("file", file),
            ToWorker::Lot(files) => w.put_files("files", files),
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
            ToWorker::Ask { seq, id, json } => {
                w.put_num("seq", seq.into());
                w.put_num("id", id.into());
                w.put_str("json", &json);
            }
            ToWorker::Export { seq, id, export } => {
                w.put_num("seq", seq.into());
                w.put_num("id", id.into());
                match export {
                    Export::Report { name, patterns } => {
                        w.put_str("what", "report");
                        w.put_str("name", &name);
                        w.put_names("patterns", &patterns);
                    }
                    Export::Csv { wafer } => {
                        w.put_str("what", "csv");
                        if let Some(id) = wafer {
                            w.put_str("wafer", &id);
                        }
                    }
                    Export::Map { wafer, layer, side } => {
                        w.put_str("what", "map");
                        w.put_num("index", wafer as f64);
                        w.put_str("layer", &layer_name(layer));
                        w.put_num("side", side.into());
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
                        w.put_str("what", "view");
                        if let Some(i) = wafer {
                            w.put_num("index", i as f64);
                        }
                        let table: Vec<f32> = table.iter().flatten().map(|&c| c.into()).collect();
                        w.put_floats("table", &table);
                        let keys: Vec<f32> = keys.iter().map(|&k| k.into()).collect();
                        w.put_floats("keys", &keys);
                        w.put_num("scale", view.scale.into());
                        w.put_num("x", view.offset[0].into());
                        w.put_num("y", view.offset[1].into());
                        w.put_num("width", width.into());
                        w.put_num("height", height.into());
                        if let Some(s) = selected {
                            w.put_num("selected", s as f64);
                        }
                    }
                }
            }
        }
        w
    }

    /// The request a message that did not decode still names, if it names one (an ask or an
    /// export with a valid `id`): the worker answers it with the error, so the page's promise
    /// for it hears why instead of waiting for ever (its button busy).
    pub fn pending(wire: &W) -> Option<Pending> {
        let f = open(wire, &Self::KINDS).ok()?;
        let id = f.count("id").ok()?;
        match f.kind {
            "ask" => Some(Pending::Ask(id)),
            "export" => Some(Pending::Export(id)),
            _ => None,
        }
    }

    pub fn decode(wire: &W) -> Result<Self, DecodeError> {
        let f = open(wire, &Self::KINDS)?;
        Ok(match f.kind {
            "file" => ToWorker::File(f.get("file", wire.file("file"))?),
            "lot" => ToWorker::Lot(f.get("files", wire.files("files"))?),
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
            "ask" => ToWorker::Ask {
                seq: f.count("seq")?,
                id: f.count("id")?,
                json: f.str("json")?,
            },
            "export" => ToWorker::Export {
                seq: f.count("seq")?,
                id: f.count("id")?,
                export: match f.str("what")?.as_str() {
                    "report" => Export::Report {
                        name: f.str("name")?,
                        patterns: f.get("patterns", wire.names("patterns"))?,
                    },
                    "csv" => Export::Csv {
                        wafer: f.opt_str("wafer")?,
                    },
                    "map" => Export::Map {
                        wafer: f.count("index")? as usize,
                        layer: parse_layer(&f.str("layer")?).ok_or(DecodeError::Missing {
                            kind: f.kind,
                            field: "layer",
                        })?,
                        side: f.count("side")?,
                    },
                    "view" => Export::View {
                        wafer: f.opt_count("index")?.map(|i| i as usize),
                        table: f.get("table", wire.floats("table").and_then(colours))?,
                        keys: f.get("keys", wire.floats("keys").and_then(keys))?,
                        view: paint::View {
                            scale: f.num("scale")? as f32,
                            offset: [f.num("x")? as f32, f.num("y")? as f32],
                        },
                        width: f.count("width")?,
                        height: f.count("height")?,
                        selected: f.opt_count("selected")?.map(|s| s as usize),
                    },
                    // An export this build does not write.
                    _ => {
                        return Err(DecodeError::Missing {
                            kind: f.kind,
                            field: "what",
                        });
                    }
                },
            },
            _ => ToWorker::BenchClassify {
                gpu: f.bool("gpu")?,
            },
        })
    }
}

impl<W: Wire> FromWorker<W> {
    pub(super) const KINDS: [&'static str; 12] = [
        "ready",
        "progress",
        "done",
        "error",
        "stats",
        "model",
        "gpu",
        "classified",
        "bench-classify",
        "answer",
        "kept",
        "exported",
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
            FromWorker::Answer { .. } => 9,
            FromWorker::Kept { .. } => 10,
            FromWorker::Exported { .. } => 11,
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
            FromWorker::Stats { seq, ms } => {
                w.put_num("seq", seq.into());
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
            FromWorker::Kept { seq, blob } => {
                w.put_num("seq", seq.into());
                if let Some(b) = blob {
                    w.put_blob("blob", b);
                }
            }
            FromWorker::Answer { id, answer } => {
                w.put_num("id", id.into());
                match answer {
                    Ok(json) => w.put_str("json", &json),
                    Err(e) => w.put_str("error", &e),
                }
            }
            FromWorker::Exported { id, blob } => {
                w.put_num("id", id.into());
                match blob {
                    Ok(b) => w.put_blob("blob", b),
                    Err(e) => w.put_str("error", &e),
                }
            }
            FromWorker::Model(Err(e)) | FromWorker::BenchClassify(Err(e)) => {
                w.put_str("error", &e);
            }
        }
        w
    }

    pub fn decode(wire: &W) -> Result<Self, DecodeError> {
        let f = open(wire, &Self::KINDS)?;
        // Model, bench, ask and export answers are an error when they carry one.
        let error = f.opt_str("error")?;
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
            "kept" => FromWorker::Kept {
                seq: f.count("seq")?,
                blob: wire
                    .has("blob")
                    .then(|| f.get("blob", wire.blob("blob")))
                    .transpose()?,
            },
            "answer" => FromWorker::Answer {
                id: f.count("id")?,
                answer: match error {
                    Some(e) => Err(e),
                    None => Ok(f.str("json")?),
                },
            },
            "exported" => FromWorker::Exported {
                id: f.count("id")?,
                blob: match error {
                    Some(e) => Err(e),
                    None => Ok(f.get("blob", wire.blob("blob"))?),
                },
            },
            _ => FromWorker::BenchClassify(match error {
                Some(e) => Err(e),
                None => Ok(BenchTimes {
                    single_ms: f.num("single_ms")?,
                    batch25_ms: f.num("batch25_ms")?,
                    warmup_ms: wire
                        .has("warmup_ms")
                        .then(|| f.num("warmup_ms"))
                        .transpose()?,
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
