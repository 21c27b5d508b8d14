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

use summary::Tally;

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

mod finish;
mod summary;
mod wafers;

const NONE: u32 = u32::MAX;

/// Results collected for the part in progress on one (head, site).
#[derive(Default)]
struct Pending {
    results: Vec<(u32, f32)>,
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
    /// What may be held at the input read so far, as last worked out.
    allowed: u64,
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
            allowed: limits.allowed(0),
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
            self.file.warnings.push(Warning {
                at,
                kind,
                file: String::new(),
            });
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
            // The allowance only grows with the input, so it is worked out again only when
            // what is held passes the last one (one compare per record on the hot path).
            if self.held > self.allowed {
                let read = at + 4 + rec.body.len() as u64;
                self.allowed = self.limits.allowed(read);
                if self.held <= self.allowed {
                    continue;
                }
                let limit = self.allowed;
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
}
