//! The compact binary of a parsed [`TestFile`]: how the app's parsing Web Worker hands a file to
//! the page, and how the edge stores and serves parsed wafers.
//!
//! `WSPK`, a little-endian `u16` format version, then (formats 4 to 6) the length (`u32`) and
//! postcard encoding of the file with its die tables left empty, each wafer's die table and then
//! the loose parts' as raw little-endian columns (`table`), then per wafer its first-pass
//! attempts ([`crate::FirstPass`]) and file of origin, then (format 5) each warning's file
//! ([`crate::Warning::file`]: in a lot of several files, which one it was met in), and last
//! (format 6) per wafer the results of those first attempts ([`crate::FirstResult`]). The die
//! tables are nearly all of a file's bytes, so unpacking one costs about a copy. The page does it
//! on its own thread when a file arrives, one table at a time ([`Unpacker`]), straight from the
//! buffer the worker moved to it (any [`Source`]), so a big lot never holds the thread for long.
//!
//! Older formats still read, so files kept by an earlier build (the page's library, the edge's
//! store) still open: 5 is 6 without the first attempts' results (their first pass shows the
//! final results); 4 is 5 without the warnings' files; 3 is the whole model in postcard, then
//! the first passes and origins; 2 is 3 without them (a file without retests).
//!
//! Not for: interchange with other tools (use STDF or `waferscope export`).

use std::fmt;

use crate::{DieTable, TestFile, Wafer};

mod table;

const MAGIC: &[u8; 4] = b"WSPK";
/// Bumped whenever the model's serialised shape changes.
pub const VERSION: u16 = 6;
/// The oldest format [`decode`] still reads.
const OLDEST: u16 = 2;

/// Why bytes could not be unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    NotPacked,
    Version(u16),
    Corrupt(String),
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::NotPacked => f.write_str("not a packed wafer file (no WSPK header)"),
            PackError::Version(v) => {
                write!(
                    f,
                    "packed format version {v}, this build reads {OLDEST} to {VERSION}"
                )
            }
            PackError::Corrupt(m) => write!(f, "packed wafer file is corrupt: {m}"),
        }
    }
}

impl std::error::Error for PackError {}

/// Pack a file.
pub fn encode(f: &TestFile) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    let skeleton = postcard::to_allocvec(&without_tables(f)).expect("the model serialises");
    out.extend_from_slice(&(skeleton.len() as u32).to_le_bytes());
    out.extend_from_slice(&skeleton);
    for w in &f.wafers {
        table::put_table(&mut out, &w.dies);
    }
    table::put_table(&mut out, &f.loose_parts);
    put_extra(f, out)
}

/// Per wafer, its first passes and origin (formats 3 and 4), then each warning's file (5), then
/// per wafer its first attempts' results (6).
fn put_extra(f: &TestFile, out: Vec<u8>) -> Vec<u8> {
    let files: Vec<&str> = f.warnings.iter().map(|w| w.file.as_str()).collect();
    let out =
        postcard::to_extend(&files, put_wafer_extra(f, out)).expect("names serialise into a Vec");
    // Not known (a file itself unpacked from format 5) travels as none: its first pass then
    // shows the final results, as it did.
    let results: Vec<Option<&[crate::FirstResult]>> = f
        .wafers
        .iter()
        .map(|w| w.first_results.as_deref())
        .collect();
    postcard::to_extend(&results, out).expect("results serialise into a Vec")
}

/// Per wafer, its first passes and origin: what formats 3 and 4 carry after the tables.
fn put_wafer_extra(f: &TestFile, out: Vec<u8>) -> Vec<u8> {
    let extra: Vec<(&[crate::FirstPass], &str)> = f
        .wafers
        .iter()
        .map(|w| (&w.first_pass[..], w.origin.as_str()))
        .collect();
    postcard::to_extend(&extra, out).expect("first passes serialise into a Vec")
}

/// `f` with every die table empty: what format 4 gives postcard.
fn without_tables(f: &TestFile) -> TestFile {
    let wafers = f
        .wafers
        .iter()
        .map(|w| Wafer {
            id: w.id.clone(),
            head: w.head,
            site_group: w.site_group,
            start_time: w.start_time,
            finish_time: w.finish_time,
            geometry: w.geometry.clone(),
            dies: DieTable::default(),
            parts: w.parts,
            superseded: w.superseded,
            part_hard_bins: w.part_hard_bins.clone(),
            wrr: w.wrr,
            // Carried after the tables, as in format 3.
            first_pass: Vec::new(),
            first_results: None,
            origin: String::new(),
        })
        .collect();
    TestFile {
        format: f.format,
        meta: f.meta.clone(),
        wafers,
        loose_parts: DieTable::default(),
        bins: f.bins.clone(),
        tests: f.tests.clone(),
        record_counts: f.record_counts.clone(),
        records_total: f.records_total,
        bytes_read: f.bytes_read,
        warnings: f.warnings.clone(),
    }
}

/// Packed bytes wherever they are: a slice, or (in the page) the buffer a worker moved to it,
/// read a column at a time into its place without a copy of the whole.
pub trait Source {
    fn len(&self) -> usize;
    /// Copy `dst.len()` bytes from `at` (the caller checks the range against [`Source::len`]).
    fn read(&self, at: usize, dst: &mut [u8]);
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Source for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }
    fn read(&self, at: usize, dst: &mut [u8]) {
        dst.copy_from_slice(&self[at..at + dst.len()]);
    }
}

/// Unpack what [`encode`] wrote (or an older format).
pub fn decode(bytes: &[u8]) -> Result<TestFile, PackError> {
    let mut u = Unpacker::new(bytes)?;
    while u.step()? {}
    u.finish()
}

/// About how many bytes of result columns one [`Unpacker::step`] reads: Teradyne_Flex_3's one
/// wafer has 1,352 columns (11.7 MB), which as one step held a browser's thread for 50-60 ms.
pub const STEP_BYTES: usize = 2 << 20;

/// Unpacks a file in steps of one die table or [`STEP_BYTES`] of its results, so a caller on a
/// UI thread can yield between them: [`Unpacker::new`], [`Unpacker::step`] until it answers
/// false, [`Unpacker::finish`]. Formats 2 and 3 unpack whole in `new`.
pub struct Unpacker<'a, S: Source + ?Sized> {
    r: table::Reader<'a, S>,
    file: TestFile,
    /// The table being read, when a step stopped inside its result columns.
    partial: Option<table::Partial>,
    /// Tables unpacked so far: the wafers' in order, then the loose parts'.
    done: usize,
    version: u16,
}

impl<'a, S: Source + ?Sized> Unpacker<'a, S> {
    pub fn new(src: &'a S) -> Result<Self, PackError> {
        let mut r = table::Reader { src, at: 0 };
        let head = r.bytes(6).map_err(|_| PackError::NotPacked)?;
        if head[..4] != MAGIC[..] {
            return Err(PackError::NotPacked);
        }
        let version = u16::from_le_bytes([head[4], head[5]]);
        if !(OLDEST..=VERSION).contains(&version) {
            return Err(PackError::Version(version));
        }
        let (file, done) = if version >= 4 {
            let n = r.u32("the file's header")? as usize;
            let skeleton = r.bytes(n)?;
            (postcard::from_bytes(&skeleton).map_err(corrupt)?, 0)
        } else {
            // The whole model in postcard: one step.
            let body = r.bytes(src.len() - 6)?;
            let (file, rest): (TestFile, _) = postcard::take_from_bytes(&body).map_err(corrupt)?;
            let mut u = Unpacker {
                partial: None,
                done: file.wafers.len() + 1,
                file,
                version,
                r,
            };
            u.r.at = src.len() - rest.len();
            return Ok(u);
        };
        Ok(Unpacker {
            r,
            file,
            partial: None,
            done,
            version,
        })
    }

    /// Unpack the next part of a die table: its dies and fixed columns and some result columns,
    /// or more of its result columns ([`STEP_BYTES`]); false once no table is left.
    pub fn step(&mut self) -> Result<bool, PackError> {
        let wafers = self.file.wafers.len();
        if self.done > wafers {
            return Ok(false);
        }
        let mut p = match self.partial.take() {
            Some(p) => p,
            None => self.r.table_start(self.file.tests.tests.len())?,
        };
        if !self.r.columns(&mut p, STEP_BYTES)? {
            self.partial = Some(p);
            return Ok(true);
        }
        let table = p.table;
        match self.file.wafers.get_mut(self.done) {
            Some(w) => w.dies = table,
            None => self.file.loose_parts = table,
        }
        self.done += 1;
        Ok(self.done <= wafers)
    }

    /// Dies unpacked so far, for progress.
    pub fn dies(&self) -> usize {
        self.file.wafers.iter().map(|w| w.dies.len()).sum()
    }

    /// The file, once every [`Unpacker::step`] is done.
    pub fn finish(mut self) -> Result<TestFile, PackError> {
        if self.done <= self.file.wafers.len() {
            return Err(PackError::Corrupt(
                "unpacking stopped before the end".into(),
            ));
        }
        let mut f = self.file;
        if self.version >= 3 {
            let rest = self.r.bytes(self.r.src.len() - self.r.at)?;
            let (extra, rest): (Vec<(Vec<crate::FirstPass>, String)>, _) =
                postcard::take_from_bytes(&rest).map_err(corrupt)?;
            if extra.len() != f.wafers.len() {
                return Err(PackError::Corrupt(
                    "first passes do not match the wafers".into(),
                ));
            }
            for (w, (first, origin)) in f.wafers.iter_mut().zip(extra) {
                if first.iter().any(|p| p.row as usize >= w.dies.len()) {
                    return Err(PackError::Corrupt("a first pass names no die".into()));
                }
                w.first_pass = first;
                w.origin = origin;
            }
            if self.version >= 5 {
                let (files, rest): (Vec<String>, _) =
                    postcard::take_from_bytes(rest).map_err(corrupt)?;
                if files.len() != f.warnings.len() {
                    return Err(PackError::Corrupt(
                        "warnings' files do not match the warnings".into(),
                    ));
                }
                for (w, file) in f.warnings.iter_mut().zip(files) {
                    w.file = file;
                }
                if self.version >= 6 {
                    let results: Vec<Option<Vec<crate::FirstResult>>> =
                        postcard::from_bytes(rest).map_err(corrupt)?;
                    first_results(&mut f, results)?;
                }
            }
        }
        self.file = TestFile::default();
        Ok(f)
    }
}

/// Hand each wafer its first attempts' results, checked: in order, on a retested die, of a
/// test in the catalogue (`Wafer::first_pass_dies` relies on it).
fn first_results(
    f: &mut TestFile,
    results: Vec<Option<Vec<crate::FirstResult>>>,
) -> Result<(), PackError> {
    if results.len() != f.wafers.len() {
        return Err(PackError::Corrupt(
            "first results do not match the wafers".into(),
        ));
    }
    let tests = f.tests.tests.len();
    for (w, results) in f.wafers.iter_mut().zip(results) {
        let retested = |r: u32| w.first_pass.binary_search_by_key(&r, |p| p.row).is_ok();
        let rs = results.as_deref().unwrap_or_default();
        let bad = if !w.first_pass.windows(2).all(|p| p[0].row < p[1].row) {
            Some("first passes out of order")
        } else if !rs
            .windows(2)
            .all(|p| (p[0].row, p[0].test) < (p[1].row, p[1].test))
        {
            Some("first results out of order")
        } else if rs.iter().any(|r| !retested(r.row)) {
            Some("a first result names no retested die")
        } else if rs.iter().any(|r| r.test as usize >= tests) {
            Some("a first result names no test")
        } else {
            None
        };
        if let Some(why) = bad {
            return Err(PackError::Corrupt(why.into()));
        }
        w.first_results = results;
    }
    Ok(())
}

fn corrupt(e: postcard::Error) -> PackError {
    PackError::Corrupt(e.to_string())
}

#[cfg(test)]
mod tests;
