//! The wafer data model: what a tester file says, independent of its format.
//!
//! A [`TestFile`] holds metadata, wafers, the parts tested outside any wafer, the bin table and the
//! test catalogue. Dies are stored as a struct of arrays ([`DieTable`]) because every consumer (the
//! renderer, the feature tensor, exports) walks one or two columns over all dies at a time.
//!
//! Not for: parsing (see [`crate::stdf`]) or presentation (palettes and geometry live elsewhere).

use std::collections::BTreeMap;

use crate::column::Column;
use crate::error::Warning;
pub use crate::first_pass::{FirstPass, FirstResult};
pub use crate::geometry::*;

/// Which container format the file was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Format {
    Stdf,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Stdf => "stdf",
        }
    }
}

/// Byte order of the file's numeric fields (STDF: from the FAR record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ByteOrder {
    #[default]
    Little,
    Big,
}

impl ByteOrder {
    pub fn name(self) -> &'static str {
        match self {
            ByteOrder::Little => "little",
            ByteOrder::Big => "big",
        }
    }
}

/// The compression the bytes arrived in, found from magic bytes (never the file name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Bzip2,
    Xz,
    Zip,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zip => "zip",
        }
    }
}

/// Lot-level facts from the file header records (STDF: FAR, MIR, MRR).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Metadata {
    pub byte_order: ByteOrder,
    pub compression: Compression,
    /// STDF version from FAR (always 4 for a file we accept).
    pub stdf_version: u8,
    /// CPU_TYPE from FAR as written (1 = big-endian Sun, 2 = x86).
    pub cpu_type: u8,
    pub lot_id: String,
    pub sublot_id: String,
    pub part_type: String,
    /// NODE_NAM: the tester's host name.
    pub tester_node: String,
    /// TSTR_TYP: the tester model.
    pub tester_type: String,
    pub job_name: String,
    pub job_rev: String,
    pub operator: String,
    pub test_code: String,
    pub temperature: String,
    /// Seconds since the Unix epoch, as the tester wrote them (0 = unknown).
    pub setup_time: u32,
    pub start_time: u32,
    pub finish_time: u32,
}

/// Pass/fail verdict of a part, from PRR PART_FLG (or, when the flag is marked invalid, the bin's
/// pass/fail from HBR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u8)]
pub enum Verdict {
    Fail = 0,
    Pass = 1,
    Unknown = 2,
}

/// The value STDF uses for "no coordinate".
pub const NO_COORD: i16 = -32768;
/// The value STDF uses for "no soft bin".
pub const NO_BIN: u16 = 65535;

/// A column of short strings stored in one buffer (no `String` per die).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StrColumn {
    bytes: String,
    spans: Vec<(u32, u32)>,
}

impl StrColumn {
    /// The buffer and each row's (start, end) in it, for `pack`'s raw layout.
    #[cfg(feature = "pack")]
    pub(crate) fn raw(&self) -> (&str, &[(u32, u32)]) {
        (&self.bytes, &self.spans)
    }
    /// A column from what [`StrColumn::raw`] gave; None unless every span lies inside the
    /// buffer on character boundaries (so [`StrColumn::get`] cannot panic).
    #[cfg(feature = "pack")]
    pub(crate) fn from_raw(bytes: String, spans: Vec<(u32, u32)>) -> Option<StrColumn> {
        let ok = spans.iter().all(|&(s, e)| {
            s <= e && bytes.is_char_boundary(s as usize) && bytes.is_char_boundary(e as usize)
        });
        ok.then_some(StrColumn { bytes, spans })
    }
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    pub fn get(&self, i: usize) -> &str {
        let (s, e) = self.spans[i];
        &self.bytes[s as usize..e as usize]
    }
    pub(crate) fn push(&mut self, s: &str) {
        let span = self.append(s);
        self.spans.push(span);
    }
    /// Replacing leaves the old bytes in the buffer: retests are rare, so the waste is small and
    /// the column stays one allocation.
    pub(crate) fn set(&mut self, i: usize, s: &str) {
        if self.get(i) != s {
            self.spans[i] = self.append(s);
        }
    }
    fn append(&mut self, s: &str) -> (u32, u32) {
        let start = self.bytes.len() as u32;
        self.bytes.push_str(s);
        (start, self.bytes.len() as u32)
    }
}

/// Dies (or parts) as a struct of arrays: row `i` of every column is one die.
///
/// Test results are one [`Column`] per test that has results on this table (sorted by catalogue
/// index), NaN where a die has no (valid) result. Tests never run on this table have no column,
/// so a multi-wafer file costs nothing per wafer for tests it does not run there.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DieTable {
    pub x: Vec<i16>,
    pub y: Vec<i16>,
    pub hard_bin: Vec<u16>,
    /// [`NO_BIN`] where the PRR had none.
    pub soft_bin: Vec<u16>,
    pub verdict: Vec<Verdict>,
    pub head: Vec<u8>,
    pub site: Vec<u8>,
    pub part_id: StrColumn,
    /// How many PRRs were seen for this die (1 unless retested; saturates at 255).
    pub attempts: Vec<u8>,
    /// Test time in milliseconds from PRR TEST_T (0 = not given).
    pub test_time_ms: Vec<u32>,
    /// Sorted by [`Column::test`], at most one per test.
    pub columns: Vec<Column>,
}

impl DieTable {
    /// Point the columns at other test numbers (`to(old)`), kept sorted by test.
    pub fn renumber_tests(&mut self, to: impl Fn(u32) -> u32) {
        for c in &mut self.columns {
            c.test = to(c.test);
        }
        self.columns.sort_by_key(|c| c.test);
    }

    /// Untested dies at these coordinates (hard bin 0, no soft bin, verdict unknown, no part id
    /// or results): what layouts (map geometry, texture grids) and their tests start from.
    pub fn at(coords: impl IntoIterator<Item = (i16, i16)>) -> DieTable {
        let (x, y): (Vec<i16>, Vec<i16>) = coords.into_iter().unzip();
        let n = x.len();
        let mut part_id = StrColumn::default();
        (0..n).for_each(|_| part_id.push(""));
        DieTable {
            x,
            y,
            hard_bin: vec![0; n],
            soft_bin: vec![NO_BIN; n],
            verdict: vec![Verdict::Unknown; n],
            head: vec![1; n],
            site: vec![0; n],
            part_id,
            attempts: vec![1; n],
            test_time_ms: vec![0; n],
            columns: Vec::new(),
        }
    }
    pub fn len(&self) -> usize {
        self.x.len()
    }
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// The results of catalogue entry `test`, if any die in this table has one.
    pub fn column(&self, test: usize) -> Option<&Column> {
        self.columns
            .binary_search_by_key(&(test as u64), |c| c.test as u64)
            .ok()
            .map(|i| &self.columns[i])
    }
    /// The result of test `test` (a catalogue index) on row `row`; NaN when absent.
    pub fn value(&self, test: usize, row: usize) -> f32 {
        self.column(test).map_or(f32::NAN, |c| c.get(row))
    }
    /// The results of test `test` on every row in order, NaN where absent: for passes over a
    /// whole table (a million dies), which find the column once instead of once per die.
    pub fn values(&self, test: usize) -> impl ExactSizeIterator<Item = f32> + '_ {
        let column = self.column(test);
        (0..self.len()).map(move |r| column.map_or(f32::NAN, |c| c.get(r)))
    }
    /// Whether any die in this table has a result for catalogue entry `test`.
    pub fn has_test(&self, test: usize) -> bool {
        self.column(test).is_some_and(|c| !c.is_empty())
    }
    pub fn count(&self, verdict: Verdict) -> usize {
        self.verdict.iter().filter(|&&v| v == verdict).count()
    }
    /// (min, max) of x and y over rows with valid coordinates.
    pub fn ranges(&self) -> Option<([i16; 2], [i16; 2])> {
        let mut r: Option<([i16; 2], [i16; 2])> = None;
        for (&x, &y) in self.x.iter().zip(&self.y) {
            if x == NO_COORD || y == NO_COORD {
                continue;
            }
            let e = r.get_or_insert(([x, x], [y, y]));
            e.0 = [e.0[0].min(x), e.0[1].max(x)];
            e.1 = [e.1[0].min(y), e.1[1].max(y)];
        }
        r
    }
}

/// One wafer: its identity, geometry and final dies.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Wafer {
    /// WAFER_ID from WIR (may be empty: some testers leave it blank).
    pub id: String,
    pub head: u8,
    pub site_group: u8,
    pub start_time: u32,
    pub finish_time: u32,
    pub geometry: WaferGeometry,
    /// Final result per distinct (x, y): the last PRR at a coordinate wins.
    pub dies: DieTable,
    /// PRR records assigned to this wafer (>= dies; the difference is `superseded`).
    pub parts: u32,
    /// PRRs whose result was replaced by a later PRR at the same (x, y).
    pub superseded: u32,
    /// Hard-bin histogram over all PRRs of the wafer (retests included).
    pub part_hard_bins: BTreeMap<u16, u32>,
    /// Counts the tester wrote in WRR (untrusted: some files hold 0xFFFFFFFF).
    pub wrr: Option<WrrCounts>,
    /// The first attempt of every retested die, by row (sorted): the first-pass map. Carried by
    /// [`crate::pack`] beside the model, so packed files of format 2 still read.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub first_pass: Vec<FirstPass>,
    /// The results of those first attempts, sorted by row, then test; None where they are
    /// not known (a file packed before format 6 of [`crate::pack`], which carries them): its
    /// first pass then shows the final results.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub first_results: Option<Vec<FirstResult>>,
    /// The file this wafer came from, when several files were read as one lot
    /// ([`crate::lot::merge`]); empty for a file read alone. Carried by [`crate::pack`] beside
    /// the model, as `first_pass` is.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub origin: String,
}

impl Wafer {
    /// The wafer centre in die coordinates: the WCR centre when given and plausible (within the
    /// dies' bounding box, one die of slack), else the middle of the bounding box. Testers often
    /// write 0, -32768 or a value in other units here, so a viewer must not trust it blindly.
    pub fn center(&self) -> (f32, f32) {
        let Some(([x0, x1], [y0, y1])) = self.dies.ranges() else {
            return (0.0, 0.0);
        };
        let mid = ((x0 as f32 + x1 as f32) / 2.0, (y0 as f32 + y1 as f32) / 2.0);
        let g = &self.geometry;
        // In i32: the dies can sit at the ends of the i16 range.
        let near = |c: i16, lo: i16, hi: i16| (lo as i32 - 1..=hi as i32 + 1).contains(&(c as i32));
        match (g.center_x, g.center_y) {
            (Some(cx), Some(cy)) if near(cx, x0, x1) && near(cy, y0, y1) => (cx as f32, cy as f32),
            _ => mid,
        }
    }

    /// Fraction of final dies that pass; None for an empty wafer.
    pub fn yield_fraction(&self) -> Option<f64> {
        let n = self.dies.len();
        (n > 0).then(|| self.dies.count(Verdict::Pass) as f64 / n as f64)
    }
}

/// Counts from a WRR record, as written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WrrCounts {
    pub part_count: u32,
    pub retest_count: u32,
    pub abort_count: u32,
    pub good_count: u32,
    pub functional_count: u32,
}

/// One hard or soft bin's definition and tester-reported count.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BinInfo {
    pub name: String,
    /// From HBIN_PF / SBIN_PF: Some(true) for 'P', Some(false) for 'F', None otherwise.
    pub pass: Option<bool>,
    /// The tester's count: the all-sites summary (HEAD_NUM 255) if present, else the per-site sum.
    pub count: u64,
}

/// Hard and soft bin definitions from HBR/SBR.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BinTable {
    pub hard: BTreeMap<u16, BinInfo>,
    pub soft: BTreeMap<u16, BinInfo>,
}

/// What kind of test a catalogue entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TestKind {
    /// PTR: one value per part; has a value column.
    Parametric,
    /// MPR: several values per part (catalogued, no value column yet).
    MultiResult,
    /// FTR: functional pass/fail (catalogued, no value column).
    Functional,
    /// Only seen in a TSR.
    Unknown,
}

/// One test: number, name, units and limits from the first PTR (or TSR) that gave them.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TestInfo {
    pub number: u32,
    pub name: String,
    pub units: String,
    pub kind: TestKind,
    pub lo_limit: Option<f32>,
    pub hi_limit: Option<f32>,
    pub lo_spec: Option<f32>,
    pub hi_spec: Option<f32>,
    /// Result scaling exponent (RES_SCAL) for display: value * 10^scale in scaled units.
    pub res_scale: Option<i8>,
    /// Total executions from TSR summaries (0 when the file has none).
    pub executions: u64,
    pub failures: u64,
}

/// Tests by number. Parametric tests' indexes are the value columns of every [`DieTable`].
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TestCatalogue {
    pub tests: Vec<TestInfo>,
}

impl TestCatalogue {
    /// Index of the test with this number (linear: catalogues are small and this is not on a
    /// hot path).
    pub fn find(&self, number: u32) -> Option<usize> {
        self.tests.iter().position(|t| t.number == number)
    }
}

/// Everything read from one tester file.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TestFile {
    pub format: Option<Format>,
    pub meta: Metadata,
    pub wafers: Vec<Wafer>,
    /// Parts outside any wafer (final test, or no valid X/Y), one row per PRR: no retest merging.
    pub loose_parts: DieTable,
    pub bins: BinTable,
    pub tests: TestCatalogue,
    /// Records per (REC_TYP, REC_SUB), in file order of first appearance.
    pub record_counts: Vec<((u8, u8), u64)>,
    pub records_total: u64,
    /// Bytes of (decompressed) STDF consumed.
    pub bytes_read: u64,
    /// Problems met while reading; a partial read has at least one `stops_read` warning.
    pub warnings: Vec<Warning>,
}

impl TestFile {
    /// True when reading stopped before the end of the data (truncation or corruption).
    pub fn is_partial(&self) -> bool {
        self.warnings.iter().any(|w| w.kind.stops_read())
    }
    pub fn wafer(&self, id: &str) -> Option<&Wafer> {
        self.wafers.iter().find(|w| w.id == id)
    }
}
