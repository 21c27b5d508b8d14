//! The records that describe the file rather than its parts: the FAR, MIR/MRR, WCR, bin
//! summaries (HBR/SBR) and test summaries (TSR).

use super::*;

/// Summary counts from HBR/SBR or TSR: all-sites summary (head 255) vs per-site records.
#[derive(Default, Clone, Copy)]
pub(super) struct Tally {
    summary: u64,
    sites: u64,
    has_summary: bool,
}

impl Tally {
    pub(super) fn add(&mut self, head: u8, n: u64) {
        if head == 255 {
            self.summary += n;
            self.has_summary = true;
        } else {
            self.sites += n;
        }
    }
    pub(super) fn total(&self) -> u64 {
        if self.has_summary {
            self.summary
        } else {
            self.sites
        }
    }
}

impl Decoder {
    /// Check and decode the FAR (the first 6 bytes of the data).
    pub(super) fn start(&mut self, d: &[u8]) -> Result<(), ReadError> {
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

    pub(super) fn tsr<E: Endian>(&mut self, b: &[u8]) {
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

    pub(super) fn wcr<E: Endian>(&mut self, b: &[u8]) {
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

    pub(super) fn bin<E: Endian>(&mut self, b: &[u8], hard: bool) {
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

    pub(super) fn mir<E: Endian>(&mut self, b: &[u8]) {
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

    pub(super) fn mrr<E: Endian>(&mut self, b: &[u8]) {
        self.file.meta.finish_time = Fields::<E>::new(b).u4().unwrap_or(0);
    }
}
