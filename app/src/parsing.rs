//! The parsing Web Worker: reads a tester file off the main thread and posts the parsed file back
//! as a packed buffer (`wafer::pack`), with progress on the way, so the page never freezes.
//!
//! It runs the page's own wasm: `main` starts it instead of the viewer when it finds itself in a
//! worker, and `app/parsing.js` starts that wasm in a module worker with the module the page
//! compiled (`loader`). So the first map downloads one wasm, not two: the page and the worker
//! shared their runtime, serde, the pack and the statistics' types, and the worker's own code
//! (the reader, the decompressors, the statistics, the report) costs the page less than a wasm
//! of its own did (see the README's first load).
//!
//! The file is read in 1 MiB slices and streamed through the decoder, so a 142 MB file never sits
//! whole in the worker's memory.
//!
//! It also computes every test's statistics (`stats`) per wafer and over the file, after handing
//! the file over, and keeps the file to answer the panels' asks (`stats::ask`: zones, sites, a
//! selection...) and to write the report and CSV downloads, so the page never counts or writes
//! them on its thread.
//!
//! It carries no classifier: that is a worker of its own (`infer`), fetched when the page is
//! first idle or after the first map.
//!
//! What it hears and says is `protocol` (`ToWorker`, `FromWorker`): the packed file travels as a
//! moved buffer, never copied between threads.

use std::io::Read;

use crate::protocol::js::{from_page, pending_of, post_to_page};
use crate::protocol::{Export, FromWorker, Parsed, ToWorker};
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

fn parse(name: &str, source: Source) {
    let t0 = now();
    match read(source) {
        Ok(f) => opened(name, f, now() - t0, true),
        Err(e) => failed(name, &e),
    }
}

/// Several files as one lot: each streamed in turn, then joined (`wafer::lot::merge`). A
/// file that cannot be read stops the lot, saying which.
fn parse_lot(files: &[File]) {
    let t0 = now();
    let names: Vec<String> = files.iter().map(|f| f.name()).collect();
    let name = format!("{} files: {}", files.len(), names.join(", "));
    let mut read_ok = Vec::new();
    for (file, n) in files.iter().zip(&names) {
        let f = FileReaderSync::new()
            .map_err(|e| format!("the browser could not read the file: {e:?}"))
            .and_then(|reader| read(source(Some((file, reader)), &[], file.size())));
        match f {
            Ok(f) => read_ok.push((n.clone(), f)),
            Err(e) => return failed(&name, &format!("{n}: {e}")),
        }
    }
    opened(&name, wafer::lot::merge(read_ok), now() - t0, true);
}

fn read(mut source: Source) -> Result<wafer::TestFile, String> {
    // A tab's wasm memory tops out at 4 GB: a crafted file stops at 1 GB held (real files
    // hold well under half their size), with what came before kept and a warning.
    let limits = wafer::Limits {
        max: 1 << 30,
        ..wafer::Limits::default()
    };
    wafer::read_dyn(&mut source, limits).map_err(|e| e.to_string())
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
        Ok(f) => opened(name, f, now() - t0, false),
        Err(e) => failed(name, &e.to_string()),
    }
}

/// Hand a read file to the page, which draws it and has its wafers classified; `keep`: the
/// library keeps it (a file from disk), so the worker makes its Blob too.
fn opened(name: &str, f: wafer::TestFile, parse_ms: f64, keep: bool) {
    // The file before is let go now, not after this one's packing and statistics (which
    // double its bytes a while). Until a new file is read it stays: one that fails to read
    // leaves the page on the file before, whose panels still ask.
    HELD.set(None);
    let seq = SEQ.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let bytes = wafer::pack::encode(&f);
    // Moved to the page, not copied: `JsWire` lists the buffer for transfer.
    post_to_page(FromWorker::Done(Parsed {
        name: name.into(),
        packed: Uint8Array::from(&bytes[..]),
        parse_ms,
        seq,
    }));
    // The library's copy, made here while the page unpacks.
    let blob = keep
        .then(|| {
            let copy = Uint8Array::from(&bytes[..]);
            web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&copy)).ok()
        })
        .flatten();
    drop(bytes);
    post_to_page(FromWorker::Kept { seq, blob });
    // The test statistics come after: the page draws the map meanwhile. They stay here
    // with the file, which is kept to count what the panels ask: the page asks for the
    // rows it shows (`stats::ask`).
    let held = stats::ask::Held::new(f);
    let t0 = now();
    held.scopes();
    let ms = now() - t0;
    HELD.set(Some((seq, held)));
    post_to_page(FromWorker::Stats { seq, ms });
}

/// The answer to an ask about file `seq`, as JSON.
fn answer(seq: u32, json: &str) -> Result<String, String> {
    let ask: stats::ask::Ask =
        serde_json::from_str(json).map_err(|e| format!("an ask not understood: {e}"))?;
    HELD.with_borrow(|held| match held {
        Some((s, h)) if *s == seq => {
            let a = h.answer(&ask).map_err(|e| e.to_string())?;
            serde_json::to_string(&a).map_err(|e| e.to_string())
        }
        _ => Err(format!("file {seq} is no longer held")),
    })
}

/// File `seq` written as `export` asks, as a Blob for the page's download: the page's
/// thread neither builds it nor copies its bytes.
fn export(seq: u32, export: &Export) -> Result<web_sys::Blob, String> {
    let (bytes, mime) = HELD.with_borrow(|held| match held {
        // The file's scope is the last of `scopes`: the report reuses its statistics.
        Some((s, h)) if *s == seq => {
            let file_stats = h.scopes().last().map(|s| &s.tests[..]);
            export.write(&h.file, file_stats)
        }
        _ => Err(format!("file {seq} is no longer held")),
    })?;
    let parts = js_sys::Array::of1(&Uint8Array::from(&bytes[..]));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| format!("the browser could not make the file: {e:?}"))
}

thread_local! {
    /// The number of the last file read.
    static SEQ: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The last file read, and its number.
    static HELD: std::cell::RefCell<Option<(u32, stats::ask::Held)>> =
        const { std::cell::RefCell::new(None) };
}

fn source<'a>(file: Option<(&'a File, FileReaderSync)>, bytes: &'a [u8], size: f64) -> Source<'a> {
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
            // A request the page waits on gets the error as its answer.
            if let Some(p) = pending_of(&e) {
                post_to_page(p.failed(format!("the worker could not read the request: {err}")));
            }
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
        ToWorker::Lot(files) => parse_lot(&files),
        ToWorker::Packed { name, packed } => unpack(&name, &packed.to_vec()),
        ToWorker::Demo { index } => {
            let files = wafer::demo::demo_files();
            match files.get(index).or(files.last()) {
                Some(f) => parse(&f.name, source(None, &f.bytes, f.bytes.len() as f64)),
                None => failed("demo", "no demo file"),
            }
        }
        ToWorker::Ask { seq, id, json } => post_to_page(FromWorker::Answer {
            id,
            answer: answer(seq, &json),
        }),
        ToWorker::Export { seq, id, export: e } => post_to_page(FromWorker::Exported {
            id,
            blob: export(seq, &e),
        }),
        ToWorker::Model { .. } | ToWorker::Grids { .. } | ToWorker::BenchClassify { .. } => {
            web_sys::console::error_1(&"worker: classifying is the classifier worker's".into());
        }
    }
}

/// Whether this instance of the wasm runs in a worker (the parsing worker), not the page.
pub fn in_worker() -> bool {
    js_sys::global().is_instance_of::<DedicatedWorkerGlobalScope>()
}

/// Listen to the page (`main` calls it in the worker, once the wasm has started).
pub fn start() {
    let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The worker lives as long as the page: keep the handler alive.
    handler.forget();
    // Messages sent before this point found no handler and were dropped: the page holds
    // everything back until it hears this.
    post_to_page(FromWorker::Ready);
}
