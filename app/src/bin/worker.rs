//! The parsing Web Worker: reads a tester file off the main thread and posts the parsed file back
//! as a packed buffer (`wafer::pack`), with progress on the way, so the page never freezes.
//!
//! The file is read in 1 MiB slices and streamed through the decoder, so a 142 MB file never sits
//! whole in the worker's memory.
//!
//! It also classifies every wafer's defect pattern (burn, CPU backend) once the page has handed it
//! the shipped weights, so neither parsing nor inference ever runs on the main thread.
//!
//! What it hears and says is `app::protocol` (`ToWorker`, `FromWorker`): the packed file and the
//! weights travel as moved buffers, never copied between threads.

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::io::Read;

    use app::protocol::js::{from_page, post_to_page};
    use app::protocol::{
        BenchTimes, Classified, FromWorker, ModelInfo, Parsed, ToWorker, WaferClass,
    };
    use js_sys::Uint8Array;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    /// Slice size read from the file at a time: the file is streamed, never held whole.
    const CHUNK: f64 = 1024.0 * 1024.0;

    /// A `File` (or in-memory bytes) read in slices, reporting progress against its size.
    struct Source<'a> {
        file: Option<(&'a File, FileReaderSync)>,
        bytes: &'a [u8],
        size: f64,
        pos: f64,
        chunk: Vec<u8>,
        at: usize,
        last_step: u32,
    }

    impl Read for Source<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.chunk.len() {
                let Some((file, reader)) = &self.file else {
                    let n = self.bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&self.bytes[..n]);
                    self.bytes = &self.bytes[n..];
                    self.pos += n as f64;
                    self.progress();
                    return Ok(n);
                };
                if self.pos >= self.size {
                    return Ok(0);
                }
                let end = (self.pos + CHUNK).min(self.size);
                let slice = file
                    .slice_with_f64_and_f64(self.pos, end)
                    .and_then(|b| reader.read_as_array_buffer(&b))
                    .map_err(|e| {
                        std::io::Error::other(format!("the browser could not read the file: {e:?}"))
                    })?;
                self.chunk = Uint8Array::new(&slice).to_vec();
                self.at = 0;
                self.pos = end;
                self.progress();
            }
            let n = (self.chunk.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    impl Source<'_> {
        fn progress(&mut self) {
            let step = (self.pos * 100.0 / self.size.max(1.0)) as u32;
            if step != self.last_step {
                self.last_step = step;
                post_to_page(FromWorker::Progress {
                    fraction: self.pos / self.size.max(1.0),
                });
            }
        }
    }

    fn now() -> f64 {
        scope().performance().map_or(0.0, |p| p.now())
    }

    /// The classifier, once loaded, and the grids of the last file (classified when both exist).
    struct Classify {
        /// The classifier and its model version.
        model: Option<(model::Classifier, u32)>,
        grids: Option<(u32, Vec<Option<features::FeatureGrid>>)>,
        seq: u32,
        /// The first wafer of the last classified file, for `bench-classify`.
        last: Option<features::FeatureGrid>,
    }

    thread_local! {
        static CLASSIFY: std::cell::RefCell<Classify> = const {
            std::cell::RefCell::new(Classify { model: None, grids: None, seq: 0, last: None })
        };
    }

    const BACKEND: &str = "CPU: burn Flex in wasm, in the parsing worker";

    fn load_model(manifest: &str, weights: &[u8]) -> Result<(model::Classifier, u32), String> {
        model::Classifier::load_verified(manifest, weights, &burn::tensor::Device::flex())
            .map(|(c, m)| (c, m.model_version))
            .map_err(|e| e.to_string())
    }

    /// Classify the pending grids if the model is there; post the results.
    fn classify_pending() {
        CLASSIFY.with_borrow_mut(|c| {
            // Take the grids only when the model is there: a file opened before the model
            // loads (a shared link opens at once) waits for it.
            let Some((model, model_version)) = &c.model else {
                return;
            };
            let Some((seq, grids)) = c.grids.take() else {
                return;
            };
            let present: Vec<&features::FeatureGrid> = grids.iter().flatten().collect();
            c.last = present.first().map(|g| (*g).clone());
            // One wafer alone (what opening a wafer costs), then the whole file as one batch.
            let t0 = now();
            let _ = present.first().map(|g| model.predict(&[g]));
            let single_ms = now() - t0;
            let t1 = now();
            let mut predictions = model.predict(&present).into_iter();
            let batch_ms = now() - t1;
            // One prediction per present grid, in order; a missing one (never expected) leaves
            // that wafer unclassified rather than ending the worker.
            let wafers = grids
                .iter()
                .map(|g| {
                    let g = g.as_ref()?;
                    Some(WaferClass {
                        probs: predictions.next()?.probabilities.to_vec(),
                        hash: g.hash().to_hex(),
                    })
                })
                .collect();
            post_to_page(FromWorker::Classified(Classified {
                seq,
                wafers,
                single_ms,
                batch_ms,
                backend: BACKEND.into(),
                model_version: *model_version,
            }));
        });
    }

    /// Warm latency of the last file's first wafer: one alone (median of 50) and a batch of 25
    /// copies (median of 10), for `tests/benches/viewer.mjs`.
    fn bench_classify() {
        CLASSIFY.with_borrow(|c| {
            let (Some((model, _)), Some(g)) = (&c.model, &c.last) else {
                post_to_page(FromWorker::BenchClassify(Err(
                    "no model or no wafer yet".into()
                )));
                return;
            };
            let median = |n: usize, grids: &[&features::FeatureGrid]| {
                let mut t: Vec<f64> = (0..n)
                    .map(|_| {
                        let t0 = now();
                        let _ = model.predict(grids);
                        now() - t0
                    })
                    .collect();
                t.sort_by(f64::total_cmp);
                t[n / 2]
            };
            let single = median(50, &[g]);
            let batch = median(10, &[g; 25]);
            post_to_page(FromWorker::BenchClassify(Ok(BenchTimes {
                single_ms: single,
                batch25_ms: batch,
                backend: BACKEND.into(),
            })));
        });
    }

    fn parse(name: &str, source: Source) {
        let t0 = now();
        // A tab's wasm memory tops out at 4 GB: a crafted file stops at 1 GB held (real files
        // hold well under half their size), with what came before kept and a warning.
        let limits = wafer::Limits {
            max: 1 << 30,
            ..wafer::Limits::default()
        };
        let read = wafer::decompress::open(source)
            .and_then(|(c, stream)| wafer::read_opened(c, stream, limits, |_| {}));
        match read {
            Ok(f) => opened(name, f, now() - t0),
            Err(e) => failed(name, &e.to_string()),
        }
    }

    fn failed(name: &str, message: &str) {
        post_to_page(FromWorker::Failed {
            name: name.into(),
            message: message.into(),
        });
    }

    /// A packed file (a wafer from the edge): unpack, then as a parsed file.
    fn unpack(name: &str, packed: &[u8]) {
        let t0 = now();
        match wafer::pack::decode(packed) {
            Ok(f) => opened(name, f, now() - t0),
            Err(e) => failed(name, &e.to_string()),
        }
    }

    /// Hand a read file to the page and classify its wafers.
    fn opened(name: &str, f: wafer::TestFile, parse_ms: f64) {
        let has_model = CLASSIFY.with_borrow(|c| c.model.is_some());
        let seq = CLASSIFY.with_borrow_mut(|c| {
            c.seq += 1;
            let grids = f
                .wafers
                .iter()
                .map(|w| features::FeatureGrid::from_dies(&w.dies).ok())
                .collect();
            c.grids = Some((c.seq, grids));
            c.seq
        });
        // Moved to the page, not copied: `JsWire` lists the buffer for transfer.
        post_to_page(FromWorker::Done(Parsed {
            name: name.into(),
            packed: Uint8Array::from(&wafer::pack::encode(&f)[..]),
            parse_ms,
            seq,
            has_model,
        }));
        classify_pending();
    }

    fn source<'a>(
        file: Option<(&'a File, FileReaderSync)>,
        bytes: &'a [u8],
        size: f64,
    ) -> Source<'a> {
        Source {
            file,
            bytes,
            size,
            pos: 0.0,
            chunk: Vec::new(),
            at: 0,
            last_step: 0,
        }
    }

    fn on_message(e: MessageEvent) {
        let msg = match from_page(&e) {
            Ok(msg) => msg,
            Err(err) => {
                web_sys::console::error_1(&format!("worker: from the page: {err}").into());
                return;
            }
        };
        match msg {
            ToWorker::File(file) => {
                let name = file.name();
                match FileReaderSync::new() {
                    Ok(reader) => {
                        let size = file.size();
                        parse(&name, source(Some((&file, reader)), &[], size));
                    }
                    Err(err) => failed(
                        &name,
                        &format!("the browser could not read the file: {err:?}"),
                    ),
                }
            }
            ToWorker::Packed { name, packed } => unpack(&name, &packed.to_vec()),
            ToWorker::Demo { index } => {
                let files = wafer::demo::demo_files();
                match files.get(index).or(files.last()) {
                    Some(f) => parse(&f.name, source(None, &f.bytes, f.bytes.len() as f64)),
                    None => failed("demo", "no demo file"),
                }
            }
            ToWorker::BenchClassify => bench_classify(),
            ToWorker::Model { manifest, weights } => model_arrived(&manifest, &weights.to_vec()),
        }
    }

    /// Load and warm up the weights the page sent, then classify what waits.
    fn model_arrived(manifest: &str, weights: &[u8]) {
        match load_model(manifest, weights) {
            Ok((c, version)) => {
                // Warm-up: the first inference allocates; time it apart from the rest.
                let blank = features::FeatureGrid::from_fn(8, 8, |_, _| features::Die::Pass)
                    .expect("a full grid");
                let t0 = now();
                let _ = c.predict(&[&blank]);
                let warmup_ms = now() - t0;
                CLASSIFY.with_borrow_mut(|s| s.model = Some((c, version)));
                post_to_page(FromWorker::Model(Ok(ModelInfo {
                    version,
                    warmup_ms,
                    backend: BACKEND.into(),
                })));
                classify_pending();
            }
            Err(e) => post_to_page(FromWorker::Model(Err(e))),
        }
    }

    pub fn start() {
        console_error_panic_hook::set_once();
        let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
        scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        // The worker lives as long as the page: keep the handler alive.
        handler.forget();
        // Messages sent before this point found no handler and were dropped: the page holds
        // everything back until it hears this.
        post_to_page(FromWorker::Ready);
    }
}
