//! Every message survives the trip through its fields, and a message that is not ours is an
//! error, never a panic. The fields are a map here; on the web, a JS object (`js`).

use std::collections::{BTreeMap, BTreeSet};

use super::*;

mod exports;
mod strict;

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String),
    Num(f64),
    Bool(bool),
    Floats(Vec<f32>),
    Names(Vec<Option<String>>),
    File(String),
    Files(Vec<String>),
    Bytes(Vec<u8>),
    Blob(Vec<u8>),
}

/// A message's fields in memory; a file is its name, bytes are a Vec.
#[derive(Clone, Debug, Default, PartialEq)]
struct Map(BTreeMap<&'static str, Value>);

impl Wire for Map {
    type File = String;
    type Bytes = Vec<u8>;
    type Blob = Vec<u8>;

    fn empty() -> Self {
        Map::default()
    }
    fn put_str(&mut self, key: &'static str, value: &str) {
        self.0.insert(key, Value::Str(value.into()));
    }
    fn put_num(&mut self, key: &'static str, value: f64) {
        self.0.insert(key, Value::Num(value));
    }
    fn put_bool(&mut self, key: &'static str, value: bool) {
        self.0.insert(key, Value::Bool(value));
    }
    fn put_floats(&mut self, key: &'static str, value: &[f32]) {
        self.0.insert(key, Value::Floats(value.to_vec()));
    }
    fn put_names(&mut self, key: &'static str, value: &[Option<String>]) {
        self.0.insert(key, Value::Names(value.to_vec()));
    }
    fn put_file(&mut self, key: &'static str, value: String) {
        self.0.insert(key, Value::File(value));
    }
    fn put_files(&mut self, key: &'static str, value: Vec<String>) {
        self.0.insert(key, Value::Files(value));
    }
    fn put_bytes(&mut self, key: &'static str, value: Vec<u8>) {
        self.0.insert(key, Value::Bytes(value));
    }
    fn put_blob(&mut self, key: &'static str, value: Vec<u8>) {
        self.0.insert(key, Value::Blob(value));
    }
    fn blob(&self, key: &'static str) -> Option<Vec<u8>> {
        match self.0.get(key)? {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
    fn has(&self, key: &'static str) -> bool {
        self.0.contains_key(key)
    }
    fn str(&self, key: &'static str) -> Option<String> {
        match self.0.get(key)? {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn num(&self, key: &'static str) -> Option<f64> {
        match self.0.get(key)? {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }
    fn bool(&self, key: &'static str) -> Option<bool> {
        match self.0.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn floats(&self, key: &'static str) -> Option<Vec<f32>> {
        match self.0.get(key)? {
            Value::Floats(v) => Some(v.clone()),
            _ => None,
        }
    }
    fn names(&self, key: &'static str) -> Option<Vec<Option<String>>> {
        match self.0.get(key)? {
            Value::Names(v) => Some(v.clone()),
            _ => None,
        }
    }
    fn file(&self, key: &'static str) -> Option<String> {
        match self.0.get(key)? {
            Value::File(f) => Some(f.clone()),
            _ => None,
        }
    }
    fn files(&self, key: &'static str) -> Option<Vec<String>> {
        match self.0.get(key)? {
            Value::Files(f) => Some(f.clone()),
            _ => None,
        }
    }
    fn bytes(&self, key: &'static str) -> Option<Vec<u8>> {
        match self.0.get(key)? {
            Value::Bytes(b) => Some(b.clone()),
            _ => None,
        }
    }
}

fn to_worker() -> Vec<ToWorker<Map>> {
    vec![
        ToWorker::File("lot2.stdf.gz".into()),
        ToWorker::Lot(vec!["a.stdf".into(), "b.stdf.gz".into()]),
        ToWorker::Demo { index: 3 },
        ToWorker::Packed {
            name: "LOT1 W01 (edge)".into(),
            packed: vec![1, 2, 3],
        },
        ToWorker::Model {
            manifest: "{}".into(),
            weights: vec![0; 16],
        },
        ToWorker::Grids {
            seq: 7,
            grids: vec![0; 32],
        },
        ToWorker::BenchClassify { gpu: true },
        ToWorker::BenchClassify { gpu: false },
        ToWorker::Ask {
            seq: 4,
            id: 17,
            json: r#"{"ask":"pareto","wafer":0}"#.into(),
        },
        ToWorker::Export {
            seq: 4,
            id: 18,
            export: Export::Report {
                name: "lot2.stdf.gz".into(),
                patterns: vec![Some("Edge-Ring 97%".into()), None],
            },
        },
        ToWorker::Export {
            seq: 4,
            id: 19,
            export: Export::Csv {
                wafer: Some("W01".into()),
            },
        },
        ToWorker::Export {
            seq: 4,
            id: 20,
            export: Export::Csv { wafer: None },
        },
        ToWorker::Export {
            seq: 4,
            id: 21,
            export: Export::Map {
                wafer: 3,
                layer: paint::palette::Layer::HardBin,
                side: 112,
            },
        },
        ToWorker::Export {
            seq: 4,
            id: 22,
            export: Export::Map {
                wafer: 0,
                layer: paint::palette::Layer::Test(41),
                side: 360,
            },
        },
    ]
}

fn from_worker() -> Vec<FromWorker<Map>> {
    vec![
        FromWorker::Ready,
        FromWorker::Progress { fraction: 0.25 },
        FromWorker::Done(Parsed {
            name: "demo.stdf".into(),
            packed: vec![9, 8, 7],
            parse_ms: 12.5,
            seq: 4,
        }),
        FromWorker::Failed {
            name: "bad.stdf".into(),
            message: "cut at byte 10".into(),
        },
        FromWorker::Stats { seq: 4, ms: 12.5 },
        FromWorker::Kept {
            seq: 4,
            blob: Some(vec![9, 8, 7]),
        },
        // The worker made none: the page makes it.
        FromWorker::Kept { seq: 5, blob: None },
        FromWorker::Model(Ok(ModelInfo {
            version: 2,
            warmup_ms: 3.5,
            backend: "CPU".into(),
        })),
        FromWorker::Model(Err("sha256 differs".into())),
        FromWorker::Answer {
            id: 17,
            answer: Ok(r#"{"pareto":[[5,1]]}"#.into()),
        },
        FromWorker::Answer {
            id: 18,
            answer: Err("no wafer 3 in this file".into()),
        },
        FromWorker::Exported {
            id: 19,
            blob: Ok(vec![b'a', b',']),
        },
        FromWorker::Exported {
            id: 20,
            blob: Err("file 4 is no longer held".into()),
        },
        FromWorker::Gpu(GpuStatus::Unavailable),
        FromWorker::Gpu(GpuStatus::Starting),
        FromWorker::Gpu(GpuStatus::Ready {
            label: "WebGPU: burn wgpu on SwiftShader".into(),
            warmup_ms: 800.0,
        }),
        FromWorker::Gpu(GpuStatus::Failed("device lost".into())),
        FromWorker::Classified(Classified {
            seq: 4,
            wafers: vec![
                Some(WaferClass {
                    probs: vec![0.5, 0.25, 0.25],
                    hash: "ab".into(),
                }),
                None,
                Some(WaferClass {
                    probs: vec![0.0, 0.0, 1.0],
                    hash: "cd".into(),
                }),
            ],
            single_ms: 1.0,
            batch_ms: 2.0,
            backend: "CPU".into(),
            gpu: false,
            model_version: 2,
        }),
        FromWorker::BenchClassify(Ok(BenchTimes {
            single_ms: 0.5,
            batch25_ms: 4.0,
            warmup_ms: None,
            backend: "CPU".into(),
        })),
        FromWorker::BenchClassify(Ok(BenchTimes {
            single_ms: 140.0,
            batch25_ms: 1200.0,
            warmup_ms: Some(900.0),
            backend: "WebGPU".into(),
        })),
        FromWorker::BenchClassify(Err("no model or no wafer yet".into())),
    ]
}

#[test]
fn every_message_to_the_worker_round_trips() {
    for (m, same) in to_worker().into_iter().zip(to_worker()) {
        assert_eq!(ToWorker::decode(&m.encode()), Ok(same));
    }
}

#[test]
fn every_message_from_the_worker_round_trips() {
    for (m, same) in from_worker().into_iter().zip(from_worker()) {
        assert_eq!(FromWorker::decode(&m.encode()), Ok(same));
    }
}

#[test]
fn kind_names_are_distinct_each_way_and_read_back() {
    let to: BTreeSet<_> = to_worker().iter().map(ToWorker::kind).collect();
    assert_eq!(to.len(), ToWorker::<Map>::KINDS.len());
    let from: BTreeSet<_> = from_worker().iter().map(FromWorker::kind).collect();
    assert_eq!(from.len(), FromWorker::<Map>::KINDS.len());
    for m in to_worker() {
        let kind = m.kind();
        let back = ToWorker::decode(&m.encode()).map(|b| b.kind());
        assert_eq!(back, Ok(kind));
    }
}

#[test]
fn a_classified_file_travels_as_one_float_array_and_a_hash_per_wafer() {
    let m = from_worker().into_iter().find(|m| m.kind() == "classified");
    let w = m.map(FromWorker::encode).unwrap_or_default();
    assert_eq!(w.floats("probs").map(|p| p.len()), Some(6));
    let hashes = vec![Some("ab".to_string()), None, Some("cd".to_string())];
    assert_eq!(w.names("hashes"), Some(hashes));
}

#[test]
fn a_message_that_is_not_ours_is_an_error() {
    let mut w = Map::empty();
    assert_eq!(ToWorker::decode(&w), Err(DecodeError::UnknownKind(None)));
    w.put_str("kind", "ready");
    // A kind of the other direction is unknown here.
    assert_eq!(
        ToWorker::decode(&w),
        Err(DecodeError::UnknownKind(Some("ready".into())))
    );
    let mut w = Map::empty();
    w.put_str("kind", "done");
    w.put_str("name", "x");
    assert_eq!(
        FromWorker::decode(&w),
        Err(DecodeError::Missing {
            kind: "done",
            field: "packed"
        })
    );
    // An export this build does not write.
    let mut w = ToWorker::<Map>::Export {
        seq: 1,
        id: 2,
        export: Export::Csv { wafer: None },
    }
    .encode();
    w.put_str("what", "pdf");
    assert_eq!(
        ToWorker::decode(&w),
        Err(DecodeError::Missing {
            kind: "export",
            field: "what"
        })
    );
    // A demo index that is no count.
    let mut w = Map::empty();
    w.put_str("kind", "demo");
    w.put_num("index", f64::NAN);
    assert!(ToWorker::decode(&w).is_err());
}

#[test]
fn probabilities_that_do_not_split_over_the_wafers_are_an_error() {
    let mut w = Map::empty();
    w.put_str("kind", "classified");
    w.put_num("seq", 1.0);
    w.put_floats("probs", &[0.5, 0.5, 1.0]);
    w.put_names("hashes", &[Some("a".into()), Some("b".into())]);
    w.put_num("single_ms", 1.0);
    w.put_num("batch_ms", 1.0);
    w.put_str("backend", "CPU");
    w.put_num("model_version", 2.0);
    assert_eq!(
        FromWorker::decode(&w),
        Err(DecodeError::Probabilities {
            values: 3,
            wafers: 2
        })
    );
    w.put_names("hashes", &[None, None]);
    assert!(FromWorker::decode(&w).is_err());
}

#[test]
fn grids_travel_as_one_buffer_and_a_wafer_without_dies_comes_back_as_none() {
    let cells = features::SIZE * features::SIZE;
    let disc = features::FeatureGrid::from_fn(20, 20, |r, c| {
        let (y, x) = (r as f32 - 9.5, c as f32 - 9.5);
        if x * x + y * y > 90.0 {
            features::Die::None
        } else if r == c {
            features::Die::Fail
        } else {
            features::Die::Pass
        }
    })
    .expect("a disc of dies");
    let bytes = grids_to_bytes(&[Some(&disc), None, Some(&disc)]);
    assert_eq!(bytes.len(), 3 * cells);
    assert_eq!(
        grids_from_bytes(&bytes),
        vec![Some(disc.clone()), None, Some(disc)]
    );
    // A short buffer loses only the cut wafer.
    assert_eq!(grids_from_bytes(&bytes[..cells + 5]).len(), 1);
}
