//! The benchmarks' synthetic files: one big wafer, or a big lot of them.

use super::{DemoFile, DemoWafer, Pattern, write_lot};
use crate::stdf::Le;
use crate::stdf::write::LotInfo;

/// One big wafer of `diameter` dies across (about `0.78 * diameter^2` dies), for benchmarks:
/// 1130 gives a million dies. Same tests, bins and multi-site order as the demo lots.
pub fn big_wafer_file(diameter: i16) -> DemoFile {
    let wafer = DemoWafer {
        id: format!("WSBENCH-D{diameter}"),
        diameter,
        pattern: Pattern::EdgeRing,
        random_fail: 0.03,
    };
    DemoFile {
        name: format!("WSBENCH_d{diameter}.stdf"),
        bytes: write_lot::<Le>(&bench_lot_info(), &[wafer], 7),
    }
}

/// A lot of `wafers` wafers of `diameter` dies across each (226: about 40,000 dies), with the
/// demo's patterns in turn and yields that differ, for the gallery benchmark.
pub fn big_lot_file(wafers: u16, diameter: i16) -> DemoFile {
    const PATTERNS: [Pattern; 6] = [
        Pattern::EdgeRing,
        Pattern::Center,
        Pattern::Scratch,
        Pattern::Donut,
        Pattern::Local,
        Pattern::None,
    ];
    let list: Vec<DemoWafer> = (0..wafers)
        .map(|k| DemoWafer {
            id: format!("WSBENCH-{:02}", k + 1),
            diameter,
            pattern: PATTERNS[k as usize % PATTERNS.len()],
            random_fail: 0.01 + 0.005 * (k % 7) as f32,
        })
        .collect();
    DemoFile {
        name: format!("WSBENCH_lot{wafers}_d{diameter}.stdf"),
        bytes: write_lot::<Le>(&bench_lot_info(), &list, 11),
    }
}

fn bench_lot_info() -> LotInfo {
    LotInfo {
        setup_time: 1_764_000_000,
        start_time: 1_764_000_600,
        lot_id: "WSBENCH".into(),
        part_type: "WS-BENCH".into(),
        tester_node: "demo-tester-01".into(),
        tester_type: "Waferscope Synth".into(),
        job_name: "WS_BENCH_PROBE".into(),
        job_rev: "1.0".into(),
        sublot_id: String::new(),
        operator: "bench".into(),
    }
}
