//! `waferscope info`: the file summary, as text or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde_json::{Value, json};
use wafer::stdf::RecordType;
use wafer::{TestFile, Wafer};

fn range(r: Option<[i16; 2]>) -> Value {
    r.map_or(Value::Null, |[a, b]| json!([a, b]))
}

fn wafer_json(w: &Wafer) -> Value {
    let ranges = w.dies.ranges();
    let hard_bins: BTreeMap<String, u32> = w
        .part_hard_bins
        .iter()
        .map(|(b, n)| (b.to_string(), *n))
        .collect();
    let g = &w.geometry;
    json!({
        "id": w.id,
        "head": w.head,
        "parts": w.parts,
        "dies": w.dies.len(),
        "superseded": w.superseded,
        "retests": stats::place::retests(w, &w.first_pass_dies()),
        "x_range": range(ranges.map(|r| r.0)),
        "y_range": range(ranges.map(|r| r.1)),
        "hard_bins": hard_bins,
        "yield": w.yield_fraction(),
        "geometry": {
            "from_wcr": g.from_wcr,
            "flat": format!("{:?}", g.flat),
            "x_direction": format!("{:?}", g.x_direction),
            "y_direction": format!("{:?}", g.y_direction),
            "units": format!("{:?}", g.units),
            "wafer_size": g.wafer_size,
            "die_width": g.die_width,
            "die_height": g.die_height,
            "center": [g.center_x, g.center_y],
        },
    })
}

/// The `--json` summary. The shape is a contract (README): add fields, never rename.
pub fn json(path: &Path, f: &TestFile) -> Value {
    let m = &f.meta;
    let records: serde_json::Map<String, Value> = f
        .record_counts
        .iter()
        .map(|&((t, s), n)| (RecordType::new(t, s).label(), n.into()))
        .collect();
    json!({
        "file": path.display().to_string(),
        "format": f.format.map(|f| f.name()),
        "byte_order": m.byte_order.name(),
        "compression": m.compression.name(),
        "stdf_version": m.stdf_version,
        "records_total": f.records_total,
        "records": records,
        "bytes": f.bytes_read,
        "lot_id": m.lot_id,
        "part_type": m.part_type,
        "tester": {"node": m.tester_node, "type": m.tester_type},
        "job": {"name": m.job_name, "rev": m.job_rev},
        "times": {"setup": m.setup_time, "start": m.start_time, "finish": m.finish_time},
        "wafers": f.wafers.iter().map(wafer_json).collect::<Vec<_>>(),
        "parts_without_wafer": f.loose_parts.len(),
        "tests": f.tests.tests.len(),
        "partial": f.is_partial(),
        "warnings": f.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
    })
}

/// The human summary.
pub fn human(path: &Path, f: &TestFile) -> String {
    let m = &f.meta;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: STDF V{}, {}-endian, {} compression, {} records, {:.1} MB",
        path.display(),
        m.stdf_version,
        m.byte_order.name(),
        m.compression.name(),
        f.records_total,
        f.bytes_read as f64 / 1e6
    );
    let _ = writeln!(
        s,
        "lot {:?}  part {:?}  tester {:?} ({})  job {:?} {}",
        m.lot_id, m.part_type, m.tester_node, m.tester_type, m.job_name, m.job_rev
    );
    for w in &f.wafers {
        let (xr, yr) = w.dies.ranges().unwrap_or(([0, 0], [0, 0]));
        let _ = writeln!(
            s,
            "wafer {:?}: {} dies ({} parts, {} superseded by retests), x {}..{}, y {}..{}, yield {}",
            w.id,
            w.dies.len(),
            w.parts,
            w.superseded,
            xr[0],
            xr[1],
            yr[0],
            yr[1],
            w.yield_fraction()
                .map_or("n/a".to_string(), |y| format!("{:.2}%", y * 100.0))
        );
        let mut bins: Vec<_> = w.part_hard_bins.iter().collect();
        bins.sort_by(|a, b| b.1.cmp(a.1));
        let list: Vec<String> = bins
            .iter()
            .map(|(b, n)| {
                let name = f.bins.hard.get(b).map_or("", |i| i.name.as_str());
                format!("{b}{}{name}: {n}", if name.is_empty() { "" } else { " " })
            })
            .collect();
        let _ = writeln!(s, "  hard bins (all parts): {}", list.join(", "));
        if !w.first_pass.is_empty() {
            let r = stats::place::retests(w, &w.first_pass_dies());
            let y = |t: &stats::Tally| {
                t.yield_
                    .map_or("n/a".into(), |y| format!("{:.2}%", y * 100.0))
            };
            let _ = writeln!(
                s,
                "  retests: {} dies retested, {} changed hard bin ({} fail to pass, {} pass to fail); yield {} first pass, {} final",
                r.retested,
                r.changed,
                r.recovered,
                r.lost,
                y(&r.first),
                y(&r.last)
            );
        }
    }
    let _ = writeln!(s, "parts without wafer: {}", f.loose_parts.len());
    let _ = writeln!(s, "tests: {}", f.tests.tests.len());
    for w in &f.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}
