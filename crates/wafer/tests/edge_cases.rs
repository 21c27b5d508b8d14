//! One claim per test about how the reader treats each record type and each awkward case,
//! on small files built with the writer.

use wafer::stdf::write::{BinRecord, LotInfo, StdfWriter, TestDefaults};
use wafer::stdf::{Be, Le, RecordType};
use wafer::{
    AxisDirection, ByteOrder, FlatDirection, NO_BIN, NO_COORD, ReadErrorKind, SizeUnit, Verdict,
    WaferGeometry, WarningKind,
};

mod built;
use built::{part, ptr, read};

#[test]
fn byte_order_comes_from_the_far_in_both_orders() {
    for big in [false, true] {
        let bytes = if big {
            let mut w = StdfWriter::<Be>::new();
            w.wir(1, 0, "W");
            w.prr(&part(1, -3, 300, 1));
            w.into_bytes()
        } else {
            let mut w = StdfWriter::<Le>::new();
            w.wir(1, 0, "W");
            w.prr(&part(1, -3, 300, 1));
            w.into_bytes()
        };
        let f = wafer::read(&bytes).unwrap();
        assert_eq!(
            f.meta.byte_order,
            if big {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            }
        );
        assert_eq!((f.wafers[0].dies.x[0], f.wafers[0].dies.y[0]), (-3, 300));
        assert!(f.warnings.is_empty());
    }
}

#[test]
fn a_cpu_type_that_contradicts_the_header_is_a_warning_not_an_error() {
    let mut bytes = StdfWriter::<Le>::new().into_bytes();
    bytes[4] = 1; // claims big-endian
    let f = wafer::read(&bytes).unwrap();
    assert_eq!(f.meta.byte_order, ByteOrder::Little);
    assert!(matches!(
        f.warnings[0].kind,
        WarningKind::CpuTypeMismatch { cpu_type: 1 }
    ));
}

#[test]
fn not_stdf_empty_and_wrong_version_are_clear_errors() {
    let e = wafer::read(b"%PDF-1.7 this is not a wafer").unwrap_err();
    assert!(matches!(e.kind, ReadErrorKind::NotStdf { .. }));
    assert!(e.to_string().contains("not an STDF file"), "{e}");
    assert_eq!(wafer::read(b"").unwrap_err().kind, ReadErrorKind::Empty);
    assert!(matches!(
        wafer::read(b"xy").unwrap_err().kind,
        ReadErrorKind::NotStdf { .. }
    ));
    let v3 = [2, 0, 0, 10, 2, 3];
    assert_eq!(
        wafer::read(&v3).unwrap_err().kind,
        ReadErrorKind::UnsupportedVersion(3)
    );
}

#[test]
fn mir_and_mrr_fill_the_metadata() {
    let mut w = StdfWriter::<Le>::new();
    w.mir(&LotInfo {
        setup_time: 10,
        start_time: 20,
        lot_id: "LOT7".into(),
        part_type: "PT".into(),
        tester_node: "node".into(),
        tester_type: "93k".into(),
        job_name: "job".into(),
        job_rev: "r2".into(),
        sublot_id: "S1".into(),
        operator: "op".into(),
    });
    w.mrr(30);
    let m = read(w).meta;
    assert_eq!((m.setup_time, m.start_time, m.finish_time), (10, 20, 30));
    assert_eq!((m.lot_id.as_str(), m.part_type.as_str()), ("LOT7", "PT"));
    assert_eq!(
        (m.tester_node.as_str(), m.tester_type.as_str()),
        ("node", "93k")
    );
    assert_eq!((m.job_name.as_str(), m.job_rev.as_str()), ("job", "r2"));
    assert_eq!((m.sublot_id.as_str(), m.operator.as_str()), ("S1", "op"));
}

#[test]
fn multi_site_results_interleaved_by_site_reach_the_right_dies() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W1");
    for s in 1..=3 {
        w.pir(1, s);
    }
    for s in 1..=3 {
        w.ptr(&ptr(7, s, s as f32 * 10.0));
    }
    for s in (1..=3).rev() {
        w.prr(&part(s, s as i16, 0, 1));
    }
    w.wrr(1, 0, 3, 3, "W1");
    let f = read(w);
    let d = &f.wafers[0].dies;
    let t = f.tests.find(7).unwrap();
    for i in 0..3 {
        assert_eq!(d.value(t, i), d.site[i] as f32 * 10.0);
        assert_eq!(d.x[i], d.site[i] as i16);
    }
}

#[test]
fn a_prr_without_a_pir_still_gets_its_results() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W");
    w.ptr(&ptr(1, 1, 2.5));
    w.prr(&part(1, 0, 0, 1));
    let f = read(w);
    assert_eq!(f.wafers[0].dies.value(0, 0), 2.5);
}

#[test]
fn a_pir_drops_results_of_a_part_that_never_ended() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W");
    w.pir(1, 1);
    w.ptr(&ptr(1, 1, 2.5));
    w.pir(1, 1);
    w.ptr(&ptr(2, 1, 4.0));
    w.prr(&part(1, 0, 0, 1));
    let f = read(w);
    let d = &f.wafers[0].dies;
    assert!(d.value(0, 0).is_nan());
    assert_eq!(d.value(1, 0), 4.0);
}

#[test]
fn parts_without_valid_coordinates_or_wafer_are_loose_parts() {
    let mut w = StdfWriter::<Le>::new();
    w.prr(&part(1, 1, 1, 1)); // no WIR yet
    w.wir(1, 0, "W");
    w.prr(&part(1, NO_COORD, 2, 1)); // invalid X
    w.prr(&part(1, 3, 3, 1));
    // A PRR cut before its coordinates.
    w.record(RecordType::PRR, |b| {
        b.u1(1).u1(1).u1(0).u2(1).u2(1);
    });
    let f = read(w);
    assert_eq!(f.wafers[0].dies.len(), 1);
    assert_eq!(f.loose_parts.len(), 3);
    assert_eq!(f.loose_parts.soft_bin[2], NO_BIN);
    assert_eq!(f.loose_parts.x[2], NO_COORD);
}

#[test]
fn a_wir_without_wrr_is_closed_by_the_next_wir_with_a_warning() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "A");
    w.prr(&part(1, 0, 0, 1));
    w.wir(1, 0, "B");
    w.prr(&part(1, 0, 0, 2));
    let f = read(w);
    let ids: Vec<_> = f.wafers.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    assert_eq!(f.wafers[1].dies.hard_bin, [2]);
    assert!(
        matches!(&f.warnings[0].kind, WarningKind::WaferNotClosed { wafer_id } if wafer_id == "A")
    );
    assert!(!f.is_partial());
}

#[test]
fn a_wir_on_head_255_takes_parts_of_every_head_and_wrr_without_wir_warns() {
    let mut w = StdfWriter::<Le>::new();
    w.wrr(1, 0, 0, 0, "X");
    w.wir(255, 0, "ALL");
    let mut p = part(1, 1, 1, 1);
    p.head = 2;
    w.prr(&p);
    let f = read(w);
    assert_eq!(f.wafers[0].dies.head, [2]);
    assert!(matches!(
        f.warnings[0].kind,
        WarningKind::WaferEndWithoutStart
    ));
}

#[test]
fn a_wafer_id_seen_again_reopens_that_wafer() {
    let mut w = StdfWriter::<Le>::new();
    for bin in [3, 1] {
        w.wir(1, 0, "W9");
        w.prr(&part(1, 4, 4, bin));
        w.wrr(1, 0, 1, 0, "W9");
    }
    let f = read(w);
    assert_eq!(f.wafers.len(), 1);
    assert_eq!(
        (f.wafers[0].dies.hard_bin[0], f.wafers[0].superseded),
        (1, 1)
    );
}

#[test]
fn ptr_defaults_come_from_the_first_ptr_and_invalid_results_are_nan() {
    let mut w = StdfWriter::<Be>::new();
    w.wir(1, 0, "W");
    let mut first = ptr(42, 1, 0.7);
    first.info = Some(TestDefaults {
        name: "VDD_LEAK",
        units: "nA",
        lo_limit: None,
        hi_limit: Some(1.0),
    });
    w.ptr(&first);
    w.prr(&part(1, 0, 0, 1));
    // TEST_FLG bit 1: result not valid.
    w.record(RecordType::PTR, |b| {
        b.u4(42).u1(1).u1(1).u1(0x02).u1(0).r4(123.0);
    });
    w.prr(&part(1, 1, 0, 1));
    w.tsr(255, 255, 42, 2, 0, "ignored: PTR named it first");
    let f = read(w);
    let t = &f.tests.tests[0];
    assert_eq!(
        (t.number, t.name.as_str(), t.units.as_str()),
        (42, "VDD_LEAK", "nA")
    );
    assert_eq!((t.lo_limit, t.hi_limit), (None, Some(1.0)));
    assert_eq!(t.executions, 2);
    let d = &f.wafers[0].dies;
    assert_eq!(d.value(0, 0), 0.7);
    assert!(d.value(0, 1).is_nan());
}

#[test]
fn bins_take_names_pass_fail_and_the_all_sites_summary_count() {
    let mut w = StdfWriter::<Le>::new();
    w.bin(&BinRecord {
        hard: true,
        head: 1,
        site: 1,
        bin: 1,
        count: 5,
        pass: true,
        name: "GOOD",
    });
    w.bin(&BinRecord {
        hard: true,
        head: 1,
        site: 2,
        bin: 1,
        count: 6,
        pass: true,
        name: "GOOD",
    });
    w.bin(&BinRecord {
        hard: true,
        head: 255,
        site: 255,
        bin: 1,
        count: 11,
        pass: true,
        name: "GOOD",
    });
    w.bin(&BinRecord {
        hard: true,
        head: 1,
        site: 1,
        bin: 7,
        count: 2,
        pass: false,
        name: "OPEN",
    });
    w.bin(&BinRecord {
        hard: true,
        head: 1,
        site: 2,
        bin: 7,
        count: 3,
        pass: false,
        name: "",
    });
    w.bin(&BinRecord {
        hard: false,
        head: 1,
        site: 1,
        bin: 700,
        count: 1,
        pass: false,
        name: "OPEN_VDD",
    });
    let b = read(w).bins;
    assert_eq!(b.hard[&1].count, 11, "summary wins over the per-site sum");
    assert_eq!(b.hard[&7].count, 5, "no summary: per-site sum");
    assert_eq!(
        (b.hard[&7].name.as_str(), b.hard[&7].pass),
        ("OPEN", Some(false))
    );
    assert_eq!(b.soft[&700].name, "OPEN_VDD");
}

#[test]
fn an_unknown_verdict_is_resolved_by_the_bin_definition() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W");
    let mut p = part(1, 0, 0, 9);
    p.verdict = Verdict::Unknown;
    w.prr(&p);
    w.bin(&BinRecord {
        hard: true,
        head: 255,
        site: 255,
        bin: 9,
        count: 1,
        pass: true,
        name: "GOOD_TOO",
    });
    let f = read(w);
    assert_eq!(f.wafers[0].dies.verdict[0], Verdict::Pass);
}

#[test]
fn wcr_geometry_with_zero_and_missing_fields_falls_back() {
    let mut w = StdfWriter::<Le>::new();
    w.wcr(&WaferGeometry {
        flat: FlatDirection::Left,
        x_direction: AxisDirection::Negative,
        y_direction: AxisDirection::Positive,
        units: SizeUnit::Millimeters,
        wafer_size: Some(300.0),
        die_width: Some(2.0),
        die_height: None, // written as 0
        center_x: Some(10),
        center_y: None, // written as -32768
        ..WaferGeometry::default()
    });
    w.wir(1, 0, "W");
    w.prr(&part(1, 0, 0, 1));
    let g = read(w).wafers[0].geometry.clone();
    assert!(g.from_wcr);
    assert_eq!(
        (g.flat, g.x_direction, g.y_direction),
        (
            FlatDirection::Left,
            AxisDirection::Negative,
            AxisDirection::Positive
        )
    );
    assert_eq!(
        (g.wafer_size, g.die_width, g.die_height),
        (Some(300.0), Some(2.0), None)
    );
    assert_eq!((g.center_x, g.center_y), (Some(10), None));
    assert_eq!(g.die_aspect(), 1.0);
    assert_eq!(g.units.to_mm(), Some(1.0));
}

#[test]
fn unknown_and_v4_2007_records_are_counted_and_skipped() {
    let mut w = StdfWriter::<Le>::new();
    w.raw(RecordType::new(95, 116), &[1, 2, 3]);
    w.raw(RecordType::PSR, &[0; 12]);
    w.raw(RecordType::STR, &[]);
    w.wir(1, 0, "W");
    w.prr(&part(1, 0, 0, 1));
    let f = read(w);
    assert_eq!(f.records_total, 6);
    assert!(f.record_counts.contains(&((95, 116), 1)));
    assert_eq!(f.wafers[0].dies.len(), 1);
    assert!(f.warnings.is_empty());
}

#[test]
fn a_short_ptr_or_prr_is_skipped_with_a_warning() {
    let mut w = StdfWriter::<Le>::new();
    w.raw(RecordType::PTR, &[1, 0, 0]);
    w.raw(RecordType::PRR, &[1, 1]);
    let f = read(w);
    assert_eq!(f.warnings.len(), 2);
    assert!(
        f.warnings
            .iter()
            .all(|w| matches!(w.kind, WarningKind::ShortRecord { .. }))
    );
    assert!(!f.is_partial());
}

#[test]
fn a_cut_file_keeps_every_die_before_the_cut_and_says_where() {
    let mut w = StdfWriter::<Le>::new();
    w.wir(1, 0, "W");
    for x in 0..10 {
        w.ptr(&ptr(1, 1, x as f32));
        w.prr(&part(1, x, 0, 1));
    }
    let bytes = w.into_bytes();
    let cut = &bytes[..bytes.len() - 3];
    let f = wafer::read(cut).unwrap();
    assert!(f.is_partial());
    assert_eq!(f.wafers[0].dies.len(), 9);
    let warn = f.warnings.iter().find(|w| w.kind.stops_read()).unwrap();
    assert_eq!(warn.at.record, Some(RecordType::PRR));
    let text = warn.to_string();
    assert!(
        text.contains(&format!("offset {}", warn.at.offset)) && text.contains("PRR"),
        "{text}"
    );
}

#[test]
fn a_cut_gzip_stream_keeps_what_was_decompressed() {
    let bytes = &wafer::demo::demo_files()[2].bytes; // gzip, 17k dies
    let full = wafer::read(bytes).unwrap();
    let f = wafer::read(&bytes[..bytes.len() / 2]).unwrap();
    assert!(f.is_partial());
    assert!(matches!(
        f.warnings.last().unwrap().kind,
        WarningKind::Decompress {
            format: wafer::Compression::Gzip,
            ..
        }
    ));
    let n = f.wafers[0].dies.len();
    assert!(n > 1000 && n < full.wafers[0].dies.len(), "{n} dies kept");
    // Garbage after a gzip header is an error: nothing was read.
    let e = wafer::read(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]).unwrap_err();
    assert!(matches!(e.kind, ReadErrorKind::Decompress { .. }), "{e}");
}

#[test]
fn streaming_in_tiny_reads_gives_the_same_file_as_reading_in_memory() {
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = self.1 % 7 + 1;
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    // Plain and gzip: the browser's reader (`read_dyn`, behind a `dyn Read`) too.
    for demo in [0, 2] {
        let bytes = &wafer::demo::demo_files()[demo].bytes;
        let a = format!("{:?}", wafer::read(bytes).unwrap());
        let b = wafer::read_from(Trickle(bytes, 0)).unwrap();
        assert_eq!(a, format!("{b:?}"));
        let c = wafer::read_dyn(&mut Trickle(bytes, 0), wafer::Limits::default()).unwrap();
        assert_eq!(a, format!("{c:?}"));
    }
}
