//! The STDF decoder: records in, a columnar [`TestFile`] out.
//!
//! [`Decoder`] is fed byte chunks (whole file, or a window of a stream) and consumes whole records,
//! writing PTR results and PRR verdicts straight into the die columns: no struct per record, no
//! allocation per record. It keeps every record read before damage: [`Decoder::finish`] turns a
//! cut record into a warning, not an error.
//!
//! How parts find their place:
//! - PTRs collect per (head, site) until that site's PRR; PIR clears the site (so a PRR without a
//!   PIR still gets its results).
//! - A PRR belongs to the wafer open on its head (WIR .. WRR), or to a WIR on head 255 (all heads).
//!   Without one, or without valid X/Y (-32768 or missing), it is a loose part.
//! - Within a wafer, the last PRR at an (x, y) is the die's final result; earlier ones count as
//!   superseded.
//! - A WIR reusing the id of an earlier wafer on the same head reopens that wafer (a resumed or
//!   retested wafer is still one wafer); a WIR on a head whose wafer was never closed closes it
//!   with a warning.

use std::collections::{BTreeMap, HashMap};

use super::RecordType;
use super::fields::{Be, Endian, Fields, Le, text};
use super::records::{Records, Stop};
use super::table::{IntMap, Row, TableBuilder};
use crate::error::{Location, ReadError, ReadErrorKind, Warning, WarningKind};
use crate::model::*;
use crate::{Column, Limits};

/// Largest possible record: 4 header bytes and a 65535-byte body. A streaming buffer must hold
/// at least this much for the decoder to make progress.
pub const MAX_RECORD: usize = 4 + u16::MAX as usize;

/// Non-fatal warnings kept per file; beyond this they are counted, so a damaged file cannot make
/// the warning list itself huge.
const MAX_WARNINGS: usize = 100;

const NONE: u32 = u32::MAX;

/// Results collected for the part in progress on one (head, site).
#[derive(Default)]
struct Pending {
    results: Vec<(u32, f32)>,
}

/// Summary counts from HBR/SBR or TSR: all-sites summary (head 255) vs per-site records.
#[derive(Default, Clone, Copy)]
struct Tally {
    summary: u64,
    sites: u64,
    has_summary: bool,
}

impl Tally {
    fn add(&mut self, head: u8, n: u64) {
        if head == 255 {
            self.summary += n;
            self.has_summary = true;
        } else {
            self.sites += n;
        }
    }
    fn total(&self) -> u64 {
        if self.has_summary {
            self.summary
        } else {
            self.sites
        }
    }
}

/// Streaming STDF V4 decoder. Feed it bytes, then [`finish`](Decoder::finish).
pub struct Decoder {
    order: Option<ByteOrder>,
    compression: Compression,
    /// Absolute offset of the first byte of the next `feed`.
    offset: u64,
    file: TestFile,
    /// Record count per (typ << 8 | sub).
    counts: Vec<u64>,
    /// (typ << 8 | sub) in order of first appearance.
    seen: Vec<u16>,
    /// (head << 8 | site) -> index into `pending`, plus one (0 = none yet). `u32`: all 65,536
    /// slots can be in use, and `u16` would wrap the last one back to "none".
    slots: Vec<u32>,
    pending: Vec<Pending>,
    /// Scratch buffer swapped with a site's results at PRR, so both keep their allocations.
    scratch: Vec<(u32, f32)>,
    test_index: IntMap<u32, u32>,
    /// Per catalogue entry: whether a PTR with its full optional fields has been decoded.
    test_complete: Vec<bool>,
    test_exec: Vec<Tally>,
    test_fail: Vec<Tally>,
    /// Wafer index open on each head.
    open_wafer: [u32; 256],
    /// Per wafer: how its PRRs become rows.
    tables: Vec<TableBuilder>,
    loose: TableBuilder,
    /// (head, WAFER_ID) -> wafer index, to reopen a wafer by id without a scan.
    wafer_ids: HashMap<(u8, String), u32>,
    hard_counts: BTreeMap<u16, Tally>,
    soft_counts: BTreeMap<u16, Tally>,
    geometry: Option<WaferGeometry>,
    suppressed: u64,
    /// Estimated bytes held by what was decoded (see [`Limits`]).
    held: u64,
    limits: Limits,
    /// Over the limit: nothing more is decoded.
    stopped: bool,
}

/// What the reader holds per new wafer, test, site slot and die, beyond the record's own bytes
/// (vectors may hold twice their length while they grow).
const WAFER_HELD: u64 = 2 * (size_of::<Wafer>() + size_of::<TableBuilder>()) as u64 + 64;
const TEST_HELD: u64 = 2 * (size_of::<TestInfo>() + 2 * size_of::<Tally>() + 1) as u64 + 32;
const SLOT_HELD: u64 = 2 * size_of::<Pending>() as u64;
const ROW_HELD: u64 = 64;
const COLUMN_HELD: u64 = 2 * size_of::<Column>() as u64 + 48;
/// Per result stored: a dense column cell (up to 2 x 2 x 4 bytes, see `column.rs`) or a sparse
/// pair, or a retest's record of it.
const RESULT_HELD: u64 = 16;

impl Decoder {
    pub fn new(compression: Compression) -> Self {
        Decoder::with_limits(compression, Limits::default())
    }

    /// A decoder that stops with [`WarningKind::MemoryLimit`] when what it holds outgrows
    /// `limits`.
    pub fn with_limits(compression: Compression, limits: Limits) -> Self {
        Decoder {
            order: None,
            compression,
            offset: 0,
            file: TestFile::default(),
            counts: vec![0; 1 << 16],
            seen: Vec::new(),
            slots: vec![0; 1 << 16],
            pending: Vec::new(),
            scratch: Vec::new(),
            test_index: IntMap::default(),
            test_complete: Vec::new(),
            test_exec: Vec::new(),
            test_fail: Vec::new(),
            open_wafer: [NONE; 256],
            tables: Vec::new(),
            loose: TableBuilder::default(),
            wafer_ids: HashMap::new(),
            hard_counts: BTreeMap::new(),
            soft_counts: BTreeMap::new(),
            geometry: None,
            suppressed: 0,
            held: 0,
            limits,
            stopped: false,
        }
    }

    /// Estimated bytes held by what was decoded so far (what [`Limits`] bounds).
    pub fn held(&self) -> u64 {
        self.held
    }

    /// Whether reading stopped at the memory limit (feed consumes nothing more).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes consumed so far (whole records).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    fn at(&self, offset: u64, record: Option<RecordType>) -> Location {
        Location {
            offset,
            record,
            decompressed: self.compression != Compression::None,
        }
    }

    fn warn(&mut self, offset: u64, record: Option<RecordType>, kind: WarningKind) {
        if self.file.warnings.len() < MAX_WARNINGS || kind.stops_read() {
            let at = self.at(offset, record);
            self.file.warnings.push(Warning { at, kind });
        } else {
            self.suppressed += 1;
        }
    }

    /// Decode the whole records at the start of `data` and return how many bytes they took.
    /// Pass the rest again, with more data after it, on the next call.
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, ReadError> {
        if self.stopped {
            return Ok(data.len());
        }
        let mut used = 0;
        if self.order.is_none() {
            if data.len() < 6 {
                return Ok(0);
            }
            self.start(data)?;
            used = 6;
            self.offset = 6;
        }
        used += match self.order {
            Some(ByteOrder::Big) => self.records::<Be>(&data[used..]),
            _ => self.records::<Le>(&data[used..]),
        };
        Ok(used)
    }

    /// Check and decode the FAR (the first 6 bytes of the data).
    fn start(&mut self, d: &[u8]) -> Result<(), ReadError> {
        let first = RecordType::new(d[2], d[3]);
        if first != RecordType::FAR {
            return Err(ReadError {
                at: self.at(0, None),
                kind: ReadErrorKind::NotStdf {
                    first_bytes: d[..d.len().min(8)].to_vec(),
                },
            });
        }
        let (cpu_type, version) = (d[4], d[5]);
        // The FAR's own length (always 2) is the reliable byte-order mark; CPU_TYPE only breaks
        // the tie for a malformed length.
        let order = match [d[0], d[1]] {
            [2, 0] => ByteOrder::Little,
            [0, 2] => ByteOrder::Big,
            _ if cpu_type == 1 => ByteOrder::Big,
            _ => ByteOrder::Little,
        };
        if version != 4 {
            return Err(ReadError {
                at: self.at(0, Some(RecordType::FAR)),
                kind: ReadErrorKind::UnsupportedVersion(version),
            });
        }
        let expected_cpu = if order == ByteOrder::Big { 1 } else { 2 };
        // CPU_TYPE 0 (VAX) is little-endian too.
        if cpu_type != expected_cpu && !(cpu_type == 0 && order == ByteOrder::Little) {
            self.warn(
                0,
                Some(RecordType::FAR),
                WarningKind::CpuTypeMismatch { cpu_type },
            );
        }
        self.order = Some(order);
        self.file.format = Some(Format::Stdf);
        self.file.meta.byte_order = order;
        self.file.meta.compression = self.compression;
        self.file.meta.cpu_type = cpu_type;
        self.file.meta.stdf_version = version;
        self.count(RecordType::FAR);
        Ok(())
    }

    #[inline(always)]
    fn count(&mut self, t: RecordType) {
        let k = (t.typ as usize) << 8 | t.sub as usize;
        if self.counts[k] == 0 {
            self.seen.push(k as u16);
        }
        self.counts[k] += 1;
    }

    fn records<E: Endian>(&mut self, data: &[u8]) -> usize {
        let base = self.offset;
        let mut it = Records::<E>::new(data);
        for rec in &mut it {
            self.count(rec.rtype);
            let at = base + rec.offset as u64;
            match rec.rtype {
                RecordType::PTR => self.ptr::<E>(rec.body, at),
                RecordType::FTR => self.catalogue_only::<E>(rec.body, TestKind::Functional),
                RecordType::MPR => self.catalogue_only::<E>(rec.body, TestKind::MultiResult),
                RecordType::PIR => self.pir(rec.body),
                RecordType::PRR => self.prr::<E>(rec.body, at),
                RecordType::TSR => self.tsr::<E>(rec.body),
                RecordType::WIR => self.wir::<E>(rec.body, at),
                RecordType::WRR => self.wrr::<E>(rec.body, at),
                RecordType::WCR => self.wcr::<E>(rec.body),
                RecordType::HBR => self.bin::<E>(rec.body, true),
                RecordType::SBR => self.bin::<E>(rec.body, false),
                RecordType::MIR => self.mir::<E>(rec.body),
                RecordType::MRR => self.mrr::<E>(rec.body),
                // Everything else (including V4-2007 and unknown types) is counted and skipped.
                _ => {}
            }
            let read = at + 4 + rec.body.len() as u64;
            if self.held > self.limits.allowed(read) {
                let limit = self.limits.allowed(read);
                self.warn(
                    read,
                    None,
                    WarningKind::MemoryLimit {
                        held: self.held,
                        limit,
                    },
                );
                self.stopped = true;
                break;
            }
        }
        let used = it.consumed();
        self.offset += used as u64;
        used
    }

    #[inline(always)]
    fn slot(&mut self, head: u8, site: u8) -> usize {
        let k = (head as usize) << 8 | site as usize;
        let s = self.slots[k];
        if s != 0 {
            return s as usize - 1;
        }
        self.pending.push(Pending::default());
        self.held += SLOT_HELD;
        self.slots[k] = self.pending.len() as u32;
        self.pending.len() - 1
    }

    fn test(&mut self, number: u32, kind: TestKind) -> usize {
        if let Some(&i) = self.test_index.get(&number) {
            return i as usize;
        }
        let i = self.file.tests.tests.len();
        self.file.tests.tests.push(TestInfo {
            number,
            name: String::new(),
            units: String::new(),
            kind,
            lo_limit: None,
            hi_limit: None,
            lo_spec: None,
            hi_spec: None,
            res_scale: None,
            executions: 0,
            failures: 0,
        });
        self.test_complete.push(false);
        self.test_exec.push(Tally::default());
        self.test_fail.push(Tally::default());
        self.test_index.insert(number, i as u32);
        self.held += TEST_HELD;
        i
    }

    #[inline(always)]
    fn ptr<E: Endian>(&mut self, b: &[u8], at: u64) {
        let Some(fixed) = b.get(..12) else {
            self.warn(
                at,
                Some(RecordType::PTR),
                WarningKind::ShortRecord { len: b.len() },
            );
            return;
        };
        let number = E::u32([fixed[0], fixed[1], fixed[2], fixed[3]]);
        let (head, site, test_flg) = (fixed[4], fixed[5], fixed[6]);
        let result = f32::from_bits(E::u32([fixed[8], fixed[9], fixed[10], fixed[11]]));
        let t = self.test(number, TestKind::Parametric);
        if !self.test_complete[t] {
            self.ptr_info::<E>(t, b);
        }
        // TEST_FLG bit 1: result not valid; bit 4: test not executed.
        let value = if test_flg & 0x12 != 0 {
            f32::NAN
        } else {
            result
        };
        let s = self.slot(head, site);
        self.pending[s].results.push((t as u32, value));
    }

    /// Name, units and limits from a PTR: decoded until one PTR of the test carried its optional
    /// fields (the first, in well-formed files).
    #[cold]
    fn ptr_info<E: Endian>(&mut self, t: usize, b: &[u8]) {
        let info = &mut self.file.tests.tests[t];
        info.kind = TestKind::Parametric;
        let mut f = Fields::<E>::new(b);
        f.skip(12);
        let name = f.cn_bytes().unwrap_or_default();
        if info.name.is_empty() && !name.is_empty() {
            info.name = text(name);
        }
        let _alarm = f.cn_bytes();
        let Some(opt) = f.u1() else { return };
        let res_scal = f.i1();
        let _llm = f.i1();
        let _hlm = f.i1();
        let lo = f.r4();
        let hi = f.r4();
        let units = f.cn_bytes();
        let _fmts = (f.cn_bytes(), f.cn_bytes(), f.cn_bytes());
        let lo_spec = f.r4();
        let hi_spec = f.r4();
        // OPT_FLAG: bit 0 RES_SCAL invalid; 2/3 no low/high spec; 4/5 low/high limit invalid
        // (use the defaults); 6/7 no low/high limit.
        if opt & 0x01 == 0 {
            info.res_scale = res_scal;
        }
        if opt & 0x50 == 0 {
            info.lo_limit = lo.filter(|v| v.is_finite());
        }
        if opt & 0xa0 == 0 {
            info.hi_limit = hi.filter(|v| v.is_finite());
        }
        if opt & 0x04 == 0 {
            info.lo_spec = lo_spec.filter(|v| v.is_finite());
        }
        if opt & 0x08 == 0 {
            info.hi_spec = hi_spec.filter(|v| v.is_finite());
        }
        if let Some(u) = units.filter(|u| !u.is_empty()) {
            info.units = text(u);
        }
        self.test_complete[t] = true;
    }

    fn catalogue_only<E: Endian>(&mut self, b: &[u8], kind: TestKind) {
        let Some(number) = Fields::<E>::new(b).u4() else {
            return;
        };
        let t = self.test(number, kind);
        let info = &mut self.file.tests.tests[t];
        if info.kind == TestKind::Unknown {
            info.kind = kind;
        }
    }

    fn tsr<E: Endian>(&mut self, b: &[u8]) {
        let mut f = Fields::<E>::new(b);
        let (Some(head), Some(_site), Some(typ), Some(number)) = (f.u1(), f.u1(), f.c1(), f.u4())
        else {
            return;
        };
        let exec = f.u4().unwrap_or(u32::MAX);
        let fail = f.u4().unwrap_or(u32::MAX);
        let _alarms = f.u4();
        let name = f.cn_bytes().unwrap_or_default();
        let kind = match typ {
            'P' | 'p' => TestKind::Parametric,
            'F' | 'f' => TestKind::Functional,
            'M' | 'm' => TestKind::MultiResult,
            _ => TestKind::Unknown,
        };
        let t = self.test(number, kind);
        let info = &mut self.file.tests.tests[t];
        if info.name.is_empty() && !name.is_empty() {
            info.name = text(name);
        }
        if info.kind == TestKind::Unknown {
            info.kind = kind;
        }
        // 4294967295 means "not given".
        if exec != u32::MAX {
            self.test_exec[t].add(head, exec as u64);
        }
        if fail != u32::MAX {
            self.test_fail[t].add(head, fail as u64);
        }
    }

    fn pir(&mut self, b: &[u8]) {
        if let [head, site, ..] = *b {
            let s = self.slot(head, site);
            self.pending[s].results.clear();
        }
    }

    fn prr<E: Endian>(&mut self, b: &[u8], at: u64) {
        let mut f = Fields::<E>::new(b);
        let (Some(head), Some(site), Some(flg), Some(_num_test), Some(hard_bin)) =
            (f.u1(), f.u1(), f.u1(), f.u2(), f.u2())
        else {
            self.warn(
                at,
                Some(RecordType::PRR),
                WarningKind::ShortRecord { len: b.len() },
            );
            return;
        };
        let soft_bin = f.u2().unwrap_or(NO_BIN);
        let x = f.i2().unwrap_or(NO_COORD);
        let y = f.i2().unwrap_or(NO_COORD);
        let test_time_ms = f.u4().unwrap_or(0);
        let part_id = f.cn_bytes().unwrap_or_default();
        // PART_FLG bit 4: pass/fail flag invalid; bit 3: part failed.
        let verdict = if flg & 0x10 != 0 {
            Verdict::Unknown
        } else if flg & 0x08 != 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        let s = self.slot(head, site);
        std::mem::swap(&mut self.scratch, &mut self.pending[s].results);
        let row = Row {
            x,
            y,
            hard_bin,
            soft_bin,
            verdict,
            head,
            site,
            test_time_ms,
            part_id,
        };

        let mut wafer = self.open_wafer[head as usize];
        if wafer == NONE {
            wafer = self.open_wafer[255];
        }
        if wafer != NONE && x != NO_COORD && y != NO_COORD {
            let w = &mut self.file.wafers[wafer as usize];
            w.parts += 1;
            *w.part_hard_bins.entry(hard_bin).or_default() += 1;
            let key = (x as u16 as u32) << 16 | y as u16 as u32;
            let table = &mut self.tables[wafer as usize];
            match table.rows.get(&key) {
                Some(&r) => {
                    w.superseded += 1;
                    let n = table.overwrite(&mut w.dies, r, &row, &self.scratch);
                    self.held += COLUMN_HELD * n as u64;
                    self.held += 2 * RESULT_HELD * self.scratch.len() as u64;
                }
                None => {
                    table.rows.insert(key, w.dies.len() as u32);
                    let n = table.push(&mut w.dies, &row, &self.scratch);
                    self.held += COLUMN_HELD * n as u64;
                }
            }
        } else {
            let n = self
                .loose
                .push(&mut self.file.loose_parts, &row, &self.scratch);
            self.held += COLUMN_HELD * n as u64;
        }
        self.held += ROW_HELD + row.part_id.len() as u64 + RESULT_HELD * self.scratch.len() as u64;
        self.scratch.clear();
    }

    fn wir<E: Endian>(&mut self, b: &[u8], at: u64) {
        let mut f = Fields::<E>::new(b);
        let Some(head) = f.u1() else { return };
        let site_group = f.u1().unwrap_or(255);
        let start_time = f.u4().unwrap_or(0);
        let id = f.cn().unwrap_or_default();
        let open = self.open_wafer[head as usize];
        if open != NONE {
            let wafer_id = self.file.wafers[open as usize].id.clone();
            self.warn(
                at,
                Some(RecordType::WIR),
                WarningKind::WaferNotClosed { wafer_id },
            );
        }
        let again = (!id.is_empty())
            .then(|| self.wafer_ids.get(&(head, id.clone())).copied())
            .flatten();
        let index = match again {
            Some(i) => i as usize,
            None => {
                let id_len = 2 * id.len() as u64;
                let i = self.file.wafers.len();
                if !id.is_empty() {
                    self.wafer_ids.insert((head, id.clone()), i as u32);
                }
                self.file.wafers.push(Wafer {
                    id,
                    head,
                    site_group,
                    start_time,
                    ..Wafer::default()
                });
                self.tables.push(TableBuilder::default());
                self.held += WAFER_HELD + id_len;
                i
            }
        };
        self.open_wafer[head as usize] = index as u32;
    }

    fn wrr<E: Endian>(&mut self, b: &[u8], at: u64) {
        let mut f = Fields::<E>::new(b);
        let Some(head) = f.u1() else { return };
        let _site_group = f.u1();
        let finish_time = f.u4().unwrap_or(0);
        let counts = WrrCounts {
            part_count: f.u4().unwrap_or(0),
            retest_count: f.u4().unwrap_or(u32::MAX),
            abort_count: f.u4().unwrap_or(u32::MAX),
            good_count: f.u4().unwrap_or(u32::MAX),
            functional_count: f.u4().unwrap_or(u32::MAX),
        };
        let id = f.cn().unwrap_or_default();
        let open = self.open_wafer[head as usize];
        if open == NONE {
            self.warn(at, Some(RecordType::WRR), WarningKind::WaferEndWithoutStart);
            return;
        }
        let w = &mut self.file.wafers[open as usize];
        w.finish_time = finish_time;
        w.wrr = Some(counts);
        if w.id.is_empty() && !id.is_empty() {
            self.wafer_ids.entry((head, id.clone())).or_insert(open);
            w.id = id;
        }
        self.open_wafer[head as usize] = NONE;
    }

    fn wcr<E: Endian>(&mut self, b: &[u8]) {
        let mut f = Fields::<E>::new(b);
        let size = |v: Option<f32>| v.filter(|v| v.is_finite() && *v > 0.0);
        let wafer_size = size(f.r4());
        let die_height = size(f.r4());
        let die_width = size(f.r4());
        let units = match f.u1() {
            Some(1) => SizeUnit::Inches,
            Some(2) => SizeUnit::Centimeters,
            Some(3) => SizeUnit::Millimeters,
            Some(4) => SizeUnit::Mils,
            _ => SizeUnit::Unknown,
        };
        let flat_char = f.c1().unwrap_or(' ');
        let coord = |v: Option<i16>| v.filter(|&v| v != NO_COORD);
        let center_x = coord(f.i2());
        let center_y = coord(f.i2());
        let pos_x_char = f.c1().unwrap_or(' ');
        let pos_y_char = f.c1().unwrap_or(' ');
        let defaults = WaferGeometry::default();
        self.geometry = Some(WaferGeometry {
            from_wcr: true,
            flat: match flat_char.to_ascii_uppercase() {
                'U' => FlatDirection::Up,
                'D' => FlatDirection::Down,
                'L' => FlatDirection::Left,
                'R' => FlatDirection::Right,
                _ => FlatDirection::Unknown,
            },
            flat_char,
            x_direction: match pos_x_char.to_ascii_uppercase() {
                'L' => AxisDirection::Negative,
                'R' => AxisDirection::Positive,
                _ => defaults.x_direction,
            },
            y_direction: match pos_y_char.to_ascii_uppercase() {
                'U' => AxisDirection::Positive,
                'D' => AxisDirection::Negative,
                _ => defaults.y_direction,
            },
            pos_x_char,
            pos_y_char,
            units,
            wafer_size,
            die_width,
            die_height,
            center_x,
            center_y,
        });
    }

    fn bin<E: Endian>(&mut self, b: &[u8], hard: bool) {
        let mut f = Fields::<E>::new(b);
        let (Some(head), Some(_site), Some(number)) = (f.u1(), f.u1(), f.u2()) else {
            return;
        };
        let count = f.u4().unwrap_or(0);
        let pf = f.c1();
        let name = f.cn_bytes().unwrap_or_default();
        let (table, tallies) = if hard {
            (&mut self.file.bins.hard, &mut self.hard_counts)
        } else {
            (&mut self.file.bins.soft, &mut self.soft_counts)
        };
        let info = table.entry(number).or_default();
        if info.name.is_empty() && !name.is_empty() {
            info.name = text(name);
        }
        match pf.map(|c| c.to_ascii_uppercase()) {
            Some('P') => info.pass = Some(true),
            Some('F') => info.pass = Some(false),
            _ => {}
        }
        tallies.entry(number).or_default().add(head, count as u64);
    }

    fn mir<E: Endian>(&mut self, b: &[u8]) {
        let mut f = Fields::<E>::new(b);
        let m = &mut self.file.meta;
        m.setup_time = f.u4().unwrap_or(0);
        m.start_time = f.u4().unwrap_or(0);
        // STAT_NUM, MODE_COD, RTST_COD, PROT_COD, BURN_TIM (2), CMOD_COD.
        f.skip(7);
        let mut s = || f.cn().unwrap_or_default();
        m.lot_id = s();
        m.part_type = s();
        m.tester_node = s();
        m.tester_type = s();
        m.job_name = s();
        m.job_rev = s();
        m.sublot_id = s();
        m.operator = s();
        let _exec_typ = s();
        let _exec_ver = s();
        m.test_code = s();
        m.temperature = s();
    }

    fn mrr<E: Endian>(&mut self, b: &[u8]) {
        self.file.meta.finish_time = Fields::<E>::new(b).u4().unwrap_or(0);
    }

    /// End of data. `rest` is what the last [`feed`](Self::feed) did not consume: empty for a
    /// complete file, else a record cut short (reported as a warning; everything before is kept).
    pub fn finish(mut self, rest: &[u8]) -> Result<TestFile, ReadError> {
        if self.order.is_none() {
            return Err(self.not_started(rest));
        }
        if !rest.is_empty() && !self.stopped {
            let stop = match self.order {
                Some(ByteOrder::Big) => stop_of::<Be>(rest),
                _ => stop_of::<Le>(rest),
            };
            let (rtype, kind) = match stop {
                Some(Stop::Body {
                    rtype,
                    claimed,
                    available,
                    ..
                }) => {
                    // The header was read, so the record is counted (as independent scanners
                    // do); its body is not decoded.
                    self.count(rtype);
                    (Some(rtype), WarningKind::Truncated { claimed, available })
                }
                Some(Stop::Header { available, .. }) => {
                    (None, WarningKind::TruncatedHeader { available })
                }
                None => unreachable!("rest is not empty"),
            };
            self.warn(self.offset, rtype, kind);
        }
        Ok(self.build())
    }

    /// End of data because the input failed (`message`), after `rest` unconsumed bytes.
    /// Before the FAR this is an error; after it, a partial read.
    pub fn finish_with_error(
        mut self,
        rest: &[u8],
        message: String,
    ) -> Result<TestFile, ReadError> {
        if self.order.is_none() {
            let at = self.at(self.offset + rest.len() as u64, None);
            let kind = match self.compression {
                Compression::None => ReadErrorKind::Io(message),
                c => ReadErrorKind::Decompress { format: c, message },
            };
            return Err(ReadError { at, kind });
        }
        let kind = match self.compression {
            Compression::None => WarningKind::Io(message),
            c => WarningKind::Decompress { format: c, message },
        };
        // Where the good data ends: after the last whole record.
        self.warn(self.offset, None, kind);
        Ok(self.build())
    }

    fn not_started(&self, rest: &[u8]) -> ReadError {
        if rest.is_empty() {
            return ReadError {
                at: self.at(0, None),
                kind: ReadErrorKind::Empty,
            };
        }
        ReadError {
            at: self.at(0, None),
            kind: ReadErrorKind::NotStdf {
                first_bytes: rest[..rest.len().min(8)].to_vec(),
            },
        }
    }

    fn build(mut self) -> TestFile {
        if self.suppressed > 0 {
            let at = self.at(self.offset, None);
            // Reported through a generic short-record warning count: keep the list bounded.
            self.file.warnings.push(Warning {
                at,
                kind: WarningKind::Suppressed {
                    count: self.suppressed,
                },
            });
        }
        let mut file = self.file;
        for &k in &self.seen {
            let t = RecordType::new((k >> 8) as u8, k as u8);
            file.record_counts
                .push(((t.typ, t.sub), self.counts[k as usize]));
        }
        file.records_total = file.record_counts.iter().map(|&(_, n)| n).sum();
        file.bytes_read = self.offset;

        for (t, info) in file.tests.tests.iter_mut().enumerate() {
            info.executions = self.test_exec[t].total();
            info.failures = self.test_fail[t].total();
        }
        for (n, tally) in &self.hard_counts {
            file.bins.hard.get_mut(n).expect("tallied bins exist").count = tally.total();
        }
        for (n, tally) in &self.soft_counts {
            file.bins.soft.get_mut(n).expect("tallied bins exist").count = tally.total();
        }

        let geometry = self.geometry.unwrap_or_default();
        for (w, table) in file.wafers.iter_mut().zip(self.tables) {
            w.geometry = geometry.clone();
            table.finish(&mut w.dies, &file.bins);
        }
        self.loose.finish(&mut file.loose_parts, &file.bins);
        file
    }
}

fn stop_of<E: Endian>(rest: &[u8]) -> Option<Stop> {
    let mut it = Records::<E>::new(rest);
    for _ in &mut it {}
    it.stop()
}
