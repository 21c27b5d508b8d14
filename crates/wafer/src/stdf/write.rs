//! A small STDF V4 writer: enough to generate demo wafers and test fixtures in either byte order.
//!
//! Not for: round-tripping arbitrary files (only the records Waferscope reads are typed; anything
//! else can be written raw with [`StdfWriter::raw`]).

use std::marker::PhantomData;

use super::RecordType;
use super::fields::Endian;
use crate::model::{AxisDirection, FlatDirection, SizeUnit, Verdict, WaferGeometry};

/// One record body under construction.
pub struct Body<E> {
    b: Vec<u8>,
    _order: PhantomData<E>,
}

impl<E: Endian> Body<E> {
    pub fn u1(&mut self, v: u8) -> &mut Self {
        self.b.push(v);
        self
    }
    pub fn i1(&mut self, v: i8) -> &mut Self {
        self.u1(v as u8)
    }
    pub fn u2(&mut self, v: u16) -> &mut Self {
        self.b.extend_from_slice(&E::put_u16(v));
        self
    }
    pub fn i2(&mut self, v: i16) -> &mut Self {
        self.u2(v as u16)
    }
    pub fn u4(&mut self, v: u32) -> &mut Self {
        self.b.extend_from_slice(&E::put_u32(v));
        self
    }
    pub fn r4(&mut self, v: f32) -> &mut Self {
        self.u4(v.to_bits())
    }
    pub fn c1(&mut self, c: char) -> &mut Self {
        self.u1(if c.is_ascii() { c as u8 } else { b'?' })
    }
    /// C*n; text longer than 255 bytes is cut (the format cannot hold more).
    pub fn cn(&mut self, s: &str) -> &mut Self {
        let b = &s.as_bytes()[..s.len().min(255)];
        self.u1(b.len() as u8);
        self.b.extend_from_slice(b);
        self
    }
}

/// One part's PRR fields.
#[derive(Clone, Copy, Debug)]
pub struct PartResult<'a> {
    pub head: u8,
    pub site: u8,
    pub verdict: Verdict,
    pub num_tests: u16,
    pub hard_bin: u16,
    pub soft_bin: u16,
    pub x: i16,
    pub y: i16,
    pub test_time_ms: u32,
    pub part_id: &'a str,
}

impl PartResult<'static> {
    /// A die on head 1 at (x, y) of `site`, passing only in hard bin 1 (soft bin = hard bin +
    /// 100): the small files the tests build.
    pub fn die(site: u8, x: i16, y: i16, hard_bin: u16) -> Self {
        PartResult {
            head: 1,
            site,
            verdict: if hard_bin == 1 {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            num_tests: 1,
            hard_bin,
            soft_bin: hard_bin + 100,
            x,
            y,
            test_time_ms: 5,
            part_id: "p",
        }
    }
}

impl ParametricResult<'static> {
    /// A passing result of `test` on head 1 and `site`, without the test's name or limits.
    pub fn value(test: u32, site: u8, result: f32) -> Self {
        ParametricResult {
            test,
            head: 1,
            site,
            result,
            failed: false,
            info: None,
        }
    }
}

/// One PTR. `info` is written for the first result of a test (name, units, limits); later PTRs
/// of the same test may leave it out, as testers do.
#[derive(Clone, Copy, Debug)]
pub struct ParametricResult<'a> {
    pub test: u32,
    pub head: u8,
    pub site: u8,
    pub result: f32,
    pub failed: bool,
    pub info: Option<TestDefaults<'a>>,
}

/// Name, units and limits of a parametric test.
#[derive(Clone, Copy, Debug)]
pub struct TestDefaults<'a> {
    pub name: &'a str,
    pub units: &'a str,
    pub lo_limit: Option<f32>,
    pub hi_limit: Option<f32>,
}

/// A hard (HBR) or soft (SBR) bin summary. `head` 255 is the all-sites summary.
#[derive(Clone, Copy, Debug)]
pub struct BinRecord<'a> {
    pub hard: bool,
    pub head: u8,
    pub site: u8,
    pub bin: u16,
    pub count: u32,
    pub pass: bool,
    pub name: &'a str,
}

/// Lot header fields for the MIR.
#[derive(Clone, Debug, Default)]
pub struct LotInfo {
    pub setup_time: u32,
    pub start_time: u32,
    pub lot_id: String,
    pub part_type: String,
    pub tester_node: String,
    pub tester_type: String,
    pub job_name: String,
    pub job_rev: String,
    pub sublot_id: String,
    pub operator: String,
}

/// Writes records into a byte buffer; the FAR is written on creation.
pub struct StdfWriter<E> {
    out: Vec<u8>,
    _order: PhantomData<E>,
}

impl<E: Endian> Default for StdfWriter<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Endian> StdfWriter<E> {
    pub fn new() -> Self {
        let mut w = StdfWriter {
            out: Vec::new(),
            _order: PhantomData,
        };
        let cpu = match E::ORDER {
            crate::ByteOrder::Big => 1,
            crate::ByteOrder::Little => 2,
        };
        w.record(RecordType::FAR, |b| {
            b.u1(cpu).u1(4);
        });
        w
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Write one record whose body `fill` builds.
    ///
    /// # Panics
    /// If the body exceeds 65535 bytes: a writer bug, not input.
    pub fn record(&mut self, t: RecordType, fill: impl FnOnce(&mut Body<E>)) {
        let mut body = Body {
            b: Vec::new(),
            _order: PhantomData,
        };
        fill(&mut body);
        self.raw(t, &body.b);
    }

    /// Write a record with a ready-made body (any type, known or not).
    pub fn raw(&mut self, t: RecordType, body: &[u8]) {
        let len = u16::try_from(body.len()).expect("STDF record bodies are at most 65535 bytes");
        self.out.extend_from_slice(&E::put_u16(len));
        self.out.extend_from_slice(&[t.typ, t.sub]);
        self.out.extend_from_slice(body);
    }

    pub fn mir(&mut self, m: &LotInfo) {
        self.record(RecordType::MIR, |b| {
            b.u4(m.setup_time).u4(m.start_time).u1(1);
            b.c1('P').c1(' ').c1(' ').u2(65535).c1(' ');
            b.cn(&m.lot_id)
                .cn(&m.part_type)
                .cn(&m.tester_node)
                .cn(&m.tester_type);
            b.cn(&m.job_name)
                .cn(&m.job_rev)
                .cn(&m.sublot_id)
                .cn(&m.operator);
        });
    }

    pub fn mrr(&mut self, finish_time: u32) {
        self.record(RecordType::MRR, |b| {
            b.u4(finish_time);
        });
    }

    pub fn wir(&mut self, head: u8, start_time: u32, wafer_id: &str) {
        self.record(RecordType::WIR, |b| {
            b.u1(head).u1(255).u4(start_time).cn(wafer_id);
        });
    }

    pub fn wrr(&mut self, head: u8, finish_time: u32, parts: u32, good: u32, wafer_id: &str) {
        self.record(RecordType::WRR, |b| {
            b.u1(head).u1(255).u4(finish_time).u4(parts);
            b.u4(u32::MAX)
                .u4(u32::MAX)
                .u4(good)
                .u4(u32::MAX)
                .cn(wafer_id);
        });
    }

    pub fn wcr(&mut self, g: &WaferGeometry) {
        self.record(RecordType::WCR, |b| {
            b.r4(g.wafer_size.unwrap_or(0.0));
            b.r4(g.die_height.unwrap_or(0.0));
            b.r4(g.die_width.unwrap_or(0.0));
            b.u1(match g.units {
                SizeUnit::Unknown => 0,
                SizeUnit::Inches => 1,
                SizeUnit::Centimeters => 2,
                SizeUnit::Millimeters => 3,
                SizeUnit::Mils => 4,
            });
            b.c1(match g.flat {
                FlatDirection::Up => 'U',
                FlatDirection::Down => 'D',
                FlatDirection::Left => 'L',
                FlatDirection::Right => 'R',
                FlatDirection::Unknown => ' ',
            });
            b.i2(g.center_x.unwrap_or(crate::NO_COORD));
            b.i2(g.center_y.unwrap_or(crate::NO_COORD));
            b.c1(match g.x_direction {
                AxisDirection::Positive => 'R',
                AxisDirection::Negative => 'L',
            });
            b.c1(match g.y_direction {
                AxisDirection::Positive => 'U',
                AxisDirection::Negative => 'D',
            });
        });
    }

    pub fn pir(&mut self, head: u8, site: u8) {
        self.record(RecordType::PIR, |b| {
            b.u1(head).u1(site);
        });
    }

    pub fn prr(&mut self, p: &PartResult) {
        let flags = match p.verdict {
            Verdict::Pass => 0,
            Verdict::Fail => 0x08,
            Verdict::Unknown => 0x10,
        };
        self.record(RecordType::PRR, |b| {
            b.u1(p.head).u1(p.site).u1(flags).u2(p.num_tests);
            b.u2(p.hard_bin)
                .u2(p.soft_bin)
                .i2(p.x)
                .i2(p.y)
                .u4(p.test_time_ms);
            b.cn(p.part_id).cn("").u1(0);
        });
    }

    pub fn ptr(&mut self, p: &ParametricResult) {
        self.record(RecordType::PTR, |b| {
            b.u4(p.test).u1(p.head).u1(p.site);
            b.u1(if p.failed { 0x80 } else { 0 }).u1(0).r4(p.result);
            if let Some(d) = p.info {
                // OPT_FLAG: bits 2/3 no specs; 6/7 no low/high limit.
                let mut opt = 0x0c | 0x02;
                if d.lo_limit.is_none() {
                    opt |= 0x40;
                }
                if d.hi_limit.is_none() {
                    opt |= 0x80;
                }
                b.cn(d.name).cn("").u1(opt).i1(0).i1(0).i1(0);
                b.r4(d.lo_limit.unwrap_or(0.0))
                    .r4(d.hi_limit.unwrap_or(0.0));
                b.cn(d.units).cn("").cn("").cn("");
            }
        });
    }

    /// An HBR or SBR.
    pub fn bin(&mut self, b: &BinRecord) {
        let t = if b.hard {
            RecordType::HBR
        } else {
            RecordType::SBR
        };
        self.record(t, |r| {
            r.u1(b.head).u1(b.site).u2(b.bin).u4(b.count);
            r.c1(if b.pass { 'P' } else { 'F' }).cn(b.name);
        });
    }

    /// Test summary (TSR) of a parametric test.
    pub fn tsr(&mut self, head: u8, site: u8, test: u32, executed: u32, failed: u32, name: &str) {
        self.record(RecordType::TSR, |b| {
            b.u1(head)
                .u1(site)
                .c1('P')
                .u4(test)
                .u4(executed)
                .u4(failed)
                .u4(0);
            b.cn(name).cn("").cn("");
        });
    }
}
