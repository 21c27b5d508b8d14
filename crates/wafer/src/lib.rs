//! Waferscope's wafer data model and tester file formats.
//!
//! Pure Rust with no file system, threads or clocks, so the same code runs natively, in the
//! browser and in the Cloudflare Worker (`wasm32-unknown-unknown`). Input is bytes or any
//! [`std::io::Read`]; compression is detected from magic bytes.
//!
//! - [`model`]: [`TestFile`], [`Wafer`], [`DieTable`] (dies as a struct of arrays).
//! - [`stdf`]: the STDF V4 decoder, record scanner and writer.
//! - [`decompress`]: gzip / bzip2 / xz / zip detection and streaming.
//! - [`demo`]: realistic synthetic wafers, written as STDF.
//!
//! ```
//! let bytes = wafer::demo::demo_files()[0].bytes.clone();
//! let file = wafer::read(&bytes).unwrap();
//! assert!(!file.wafers[0].dies.is_empty());
//! ```

pub mod column;
pub mod decompress;
pub mod demo;
pub mod error;
pub mod export;
mod first_pass;
mod geometry;
pub mod lot;
pub mod model;
#[cfg(feature = "pack")]
pub mod pack;
pub mod stdf;

use std::io::{ErrorKind, Read};

pub use column::Column;
pub use error::{Location, ReadError, ReadErrorKind, Warning, WarningKind};
pub use model::*;

/// Size of the streaming window: comfortably above the largest record ([`stdf::MAX_RECORD`]).
const WINDOW: usize = 1 << 20;

/// How much memory a read may hold: at most `per_byte` bytes per (decompressed) input byte
/// read so far plus `fixed`, and never more than `max`.
///
/// Real files hold far less than their size (the corpus's 142 MB Teradyne file holds about
/// 12 MB); a crafted one (10,000 bare wafer headers, a new test on every die) can ask for far
/// more per byte. The read stops there with a [`WarningKind::MemoryLimit`] and keeps what came
/// before. The estimate counts what the reader keeps per wafer, test, die and result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_byte: u64,
    pub fixed: u64,
    pub max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_byte: 16,
            fixed: 8 << 20,
            max: u64::MAX,
        }
    }
}

impl Limits {
    /// The most the reader may hold after `read` input bytes.
    pub fn allowed(&self, read: u64) -> u64 {
        read.saturating_mul(self.per_byte)
            .saturating_add(self.fixed)
            .min(self.max)
    }
}

/// Read a tester file held in memory (compressed or not).
///
/// Uncompressed bytes are decoded in place, with no copy.
pub fn read(bytes: &[u8]) -> Result<TestFile, ReadError> {
    if decompress::detect(bytes) != Compression::None {
        return read_from(bytes);
    }
    let mut d = stdf::Decoder::new(Compression::None);
    let used = d.feed(bytes)?;
    d.finish(&bytes[used..])
}

/// Read a tester file from a stream (compressed or not) through a fixed window, so memory stays
/// flat however large the file.
pub fn read_from<R: Read>(r: R) -> Result<TestFile, ReadError> {
    read_from_with_progress(r, |_| {})
}

/// [`read_from`], calling `progress` with the count of (decompressed) bytes decoded so far after
/// each window.
pub fn read_from_with_progress<R: Read>(
    r: R,
    progress: impl FnMut(u64),
) -> Result<TestFile, ReadError> {
    let (compression, src) = decompress::open(r)?;
    read_opened(compression, src, Limits::default(), progress)
}

/// [`decompress::open`] and [`read_opened`] behind one `dyn Read`, without progress: the reader
/// is instantiated here, in this crate, not in the caller's. The browser's build optimises this
/// crate for speed and the page's crate, where the parsing worker's code lives, for size.
pub fn read_dyn(r: &mut dyn Read, limits: Limits) -> Result<TestFile, ReadError> {
    let (compression, src) = decompress::open(r)?;
    read_opened(compression, src, limits, |_| {})
}

/// Decode a stream that [`decompress::open`] already opened (`compression` is what it found),
/// without detecting compression again: a caller that caps the opened stream's size (the edge)
/// caps exactly what is decoded. `limits` bounds the memory the read may hold.
pub fn read_opened<R: Read>(
    compression: Compression,
    mut src: R,
    limits: Limits,
    mut progress: impl FnMut(u64),
) -> Result<TestFile, ReadError> {
    let mut d = stdf::Decoder::with_limits(compression, limits);
    let mut buf = vec![0u8; WINDOW];
    let mut filled = 0;
    loop {
        match src.read(&mut buf[filled..]) {
            Ok(0) => return d.finish(&buf[..filled]),
            Ok(n) => {
                filled += n;
                let used = d.feed(&buf[..filled])?;
                if d.stopped() {
                    // Over the memory limit: the rest of the stream is not worth decompressing.
                    return d.finish(&[]);
                }
                buf.copy_within(used..filled, 0);
                filled -= used;
                progress(d.bytes_read());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return d.finish_with_error(&buf[..filled], e.to_string()),
        }
    }
}
