//! Every corpus file, read by our reader, matches the facts an independent scanner recorded in
//! `stdf-facts.json`: record counts, byte order, MIR fields, wafer ids, PRR counts, distinct dies,
//! X/Y ranges, hard-bin histograms, WCR fields, and the truncation point of the corrupt file.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wafer::{NO_COORD, TestFile, stdf::RecordType};

/// All PRRs of the file as (x, y, hard bin) — wafer dies keep only the final result, so this
/// needs the per-wafer histograms for bins and the dies for coordinates.
fn hard_bins(f: &TestFile) -> BTreeMap<String, u64> {
    let mut h = BTreeMap::new();
    for w in &f.wafers {
        for (&bin, &n) in &w.part_hard_bins {
            *h.entry(bin.to_string()).or_insert(0) += n as u64;
        }
    }
    for &bin in &f.loose_parts.hard_bin {
        *h.entry(bin.to_string()).or_insert(0) += 1;
    }
    h
}

fn distinct_xy(f: &TestFile) -> BTreeSet<(i16, i16)> {
    let mut s = BTreeSet::new();
    for t in f.wafers.iter().map(|w| &w.dies).chain([&f.loose_parts]) {
        s.extend(t.x.iter().copied().zip(t.y.iter().copied()));
    }
    s
}

fn check(file: &str, facts: &Value) -> Result<(), String> {
    let path = common::corpus().join("stdf").join(file);
    let bytes = std::fs::read(&path).unwrap();
    let f = wafer::read(&bytes).map_err(|e| format!("read failed: {e}"))?;
    let errs = std::cell::RefCell::new(Vec::new());
    let eq = |what: &str, ours: Value, theirs: &Value| {
        if &ours != theirs {
            errs.borrow_mut()
                .push(format!("{what}: ours {ours}, facts {theirs}"));
        }
    };

    eq(
        "byte_order",
        f.meta.byte_order.name().into(),
        &facts["byte_order"],
    );
    eq("cpu_type", f.meta.cpu_type.into(), &facts["cpu_type"]);
    eq(
        "records_total",
        f.records_total.into(),
        &facts["records_total"],
    );
    let counts: serde_json::Map<String, Value> = f
        .record_counts
        .iter()
        .map(|&((t, s), n)| (RecordType::new(t, s).label(), n.into()))
        .collect();
    eq("counts", counts.into(), &facts["counts"]);

    let mir = &facts["mir"];
    eq("LOT_ID", f.meta.lot_id.clone().into(), &mir["LOT_ID"]);
    eq(
        "PART_TYP",
        f.meta.part_type.clone().into(),
        &mir["PART_TYP"],
    );
    eq(
        "NODE_NAM",
        f.meta.tester_node.clone().into(),
        &mir["NODE_NAM"],
    );
    eq(
        "TSTR_TYP",
        f.meta.tester_type.clone().into(),
        &mir["TSTR_TYP"],
    );
    eq("JOB_NAM", f.meta.job_name.clone().into(), &mir["JOB_NAM"]);

    let ids: Vec<Value> = f.wafers.iter().map(|w| w.id.clone().into()).collect();
    eq("wafer_ids", ids.into(), &facts["wafer_ids"]);

    match facts["truncation"].as_str() {
        None => {
            if f.is_partial() {
                errs.borrow_mut()
                    .push(format!("unexpected partial read: {:?}", f.warnings));
            }
        }
        Some(t) => {
            // "record at offset 2217 (95,116) claims 29285 bytes, only 15217 left"
            let nums: Vec<u64> = t
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|s| s.parse().ok())
                .collect();
            let w = f.warnings.iter().find(|w| w.kind.stops_read());
            match w {
                Some(w) => {
                    let shown = w.to_string();
                    let at = w.at.offset;
                    let rt = w.at.record.map(|r| (r.typ as u64, r.sub as u64));
                    if at != nums[0] || rt != Some((nums[1], nums[2])) {
                        errs.borrow_mut()
                            .push(format!("truncation at {at} {rt:?}, facts say {t}"));
                    }
                    for n in [nums[0], nums[3], nums[4]] {
                        if !shown.contains(&n.to_string()) {
                            errs.borrow_mut()
                                .push(format!("warning {shown:?} does not name {n}"));
                        }
                    }
                }
                None => errs
                    .borrow_mut()
                    .push(format!("no truncation warning; facts say {t}")),
            }
        }
    }

    if facts.get("prr_hard_bins").is_some() {
        let prrs: u64 =
            f.wafers.iter().map(|w| w.parts as u64).sum::<u64>() + f.loose_parts.len() as u64;
        eq("PRR count", prrs.into(), &facts["counts"]["PRR"]);
        let h: serde_json::Map<String, Value> = hard_bins(&f)
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect();
        eq("prr_hard_bins", h.into(), &facts["prr_hard_bins"]);
        let xy = distinct_xy(&f);
        eq(
            "n_distinct_xy",
            xy.len().into(),
            &facts["prr_xy"]["n_distinct_xy"],
        );
        let valid: Vec<_> = xy
            .iter()
            .filter(|(x, y)| *x != NO_COORD && *y != NO_COORD)
            .collect();
        if let Some(v) = facts.get("prr_xy_valid") {
            let xs = valid.iter().map(|p| p.0);
            let ys = valid.iter().map(|p| p.1);
            eq("x_min", xs.clone().min().into(), &v["x_min"]);
            eq("x_max", xs.max().into(), &v["x_max"]);
            eq("y_min", ys.clone().min().into(), &v["y_min"]);
            eq("y_max", ys.max().into(), &v["y_max"]);
        } else if !valid.is_empty() {
            errs.borrow_mut()
                .push(format!("valid coordinates {valid:?} where facts have none"));
        }
        // Final dies of a single-wafer file are the distinct coordinates.
        if f.wafers.len() == 1 && f.loose_parts.is_empty() {
            eq(
                "dies",
                f.wafers[0].dies.len().into(),
                &facts["prr_xy"]["n_distinct_xy"],
            );
        }
        let sites: BTreeSet<(u8, u8)> = f
            .wafers
            .iter()
            .map(|w| &w.dies)
            .chain([&f.loose_parts])
            .flat_map(|t| t.head.iter().copied().zip(t.site.iter().copied()))
            .collect();
        // Retests can hide a site's only part from the final dies, so this is a lower bound.
        let n_sites = facts["prr_sites_n"].as_u64().unwrap();
        if sites.len() as u64 > n_sites {
            errs.borrow_mut()
                .push(format!("{} sites, facts {n_sites}", sites.len()));
        }
    }

    if let Some(wcr) = facts.get("wcr") {
        for w in &f.wafers {
            let g = &w.geometry;
            let c = |v: Option<i16>| v.map(i64::from).unwrap_or(-32768);
            let sz = |v: Option<f32>| v.map(f64::from).unwrap_or(0.0);
            eq("WF_FLAT", g.flat_char.to_string().into(), &wcr["WF_FLAT"]);
            eq("CENTER_X", c(g.center_x).into(), &wcr["CENTER_X"]);
            eq("CENTER_Y", c(g.center_y).into(), &wcr["CENTER_Y"]);
            eq("WAFR_SIZ", sz(g.wafer_size).into(), &wcr["WAFR_SIZ"]);
            eq("DIE_HT", sz(g.die_height).into(), &wcr["DIE_HT"]);
            eq("DIE_WID", sz(g.die_width).into(), &wcr["DIE_WID"]);
            if let Some(p) = wcr.get("POS_X") {
                eq("POS_X", g.pos_x_char.to_string().into(), p);
                eq("POS_Y", g.pos_y_char.to_string().into(), &wcr["POS_Y"]);
            }
        }
    }
    let errs = errs.into_inner();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n  "))
    }
}

#[test]
fn every_corpus_file_matches_the_independent_facts() {
    let facts = common::facts();
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in common::stdf_files() {
        let name = common::name(&path);
        let scan = facts
            .get(&name)
            .unwrap_or_else(|| panic!("no facts for {name}"));
        if let Err(e) = check(&name, scan) {
            failures.push(format!("{name}:\n  {e}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 15);
}

#[test]
fn compressed_and_plain_copies_read_the_same() {
    let dir = common::corpus().join("stdf");
    let gz = wafer::read(&std::fs::read(dir.join("lot2.stdf.gz")).unwrap()).unwrap();
    let bz = wafer::read(&std::fs::read(dir.join("lot2.stdf.bz2")).unwrap()).unwrap();
    assert_eq!(gz.meta.compression, wafer::Compression::Gzip);
    assert_eq!(bz.meta.compression, wafer::Compression::Bzip2);
    let plain = wafer::read(&common::stdf_bytes(&dir.join("lot2.stdf.gz"))).unwrap();
    // Debug text compares NaN results as equal, which `==` on f32 does not.
    let same = |a: &wafer::TestFile, b: &wafer::TestFile| {
        format!("{:?}", a.wafers) == format!("{:?}", b.wafers)
    };
    assert!(same(&plain, &gz), "gzip copy differs from the plain bytes");
    assert!(same(&plain, &bz), "bzip2 copy differs from the plain bytes");
}

#[test]
fn lot2_retests_keep_the_last_result_and_count_the_superseded() {
    let path = common::corpus().join("stdf/lot2.stdf.gz");
    let f = wafer::read(&std::fs::read(path).unwrap()).unwrap();
    let w = &f.wafers[0];
    assert_eq!(w.id, "GAL-LOT-02");
    assert_eq!((w.parts, w.dies.len(), w.superseded), (1569, 1456, 113));
    assert!(w.dies.attempts.iter().any(|&a| a > 1));
    assert_eq!(w.wrr.unwrap().good_count, u32::MAX, "WRR kept as written");
    // Die size 0 in WCR falls back to square dies.
    assert_eq!(w.geometry.die_width, None);
    assert_eq!(w.geometry.die_aspect(), 1.0);
}

#[test]
fn the_corrupt_file_keeps_the_records_before_the_damage() {
    let path = common::corpus().join("stdf/STS_001SRAM_8435_-30c_Nov_10_23h05m08s.stdf");
    let f = wafer::read(&std::fs::read(path).unwrap()).unwrap();
    assert!(f.is_partial());
    assert_eq!(f.records_total, 82);
    assert_eq!(f.bytes_read, 2217);
    assert_eq!(f.meta.byte_order, wafer::ByteOrder::Little);
}

#[test]
fn implausible_or_missing_wcr_centres_fall_back_to_the_die_grid() {
    let dir = common::corpus().join("stdf");
    let read = |n: &str| wafer::read(&std::fs::read(dir.join(n)).unwrap()).unwrap();
    // WS_Virgo writes CENTER_X 270 for dies at x 0..15, and CENTER_Y -32768.
    let virgo = read("WS_Virgo_7OLT36325_7OLT36325.25E4_PS1_20190110_20h59m18s.stdf");
    assert_eq!(virgo.wafers[0].center(), (7.5, 9.0));
    // lot2's WCR says 128, 128 for dies at x 4..45, y -45..-3.
    let lot2 = read("lot2.stdf.gz");
    assert_eq!(lot2.wafers[0].center(), (24.5, -24.0));
}

#[test]
fn lot2_keeps_the_first_pass_of_its_113_retested_dies() {
    let path = common::corpus().join("stdf/lot2.stdf.gz");
    let f = wafer::read(&std::fs::read(path).unwrap()).unwrap();
    let w = &f.wafers[0];
    // 113 superseded PRRs; a die retested twice has one first pass, so at most 113 entries.
    let retested = w.dies.attempts.iter().filter(|&&a| a > 1).count();
    assert_eq!(w.first_pass.len(), retested);
    assert!(w.first_pass.windows(2).all(|p| p[0].row < p[1].row));
    let first = w.first_pass_dies();
    assert_eq!(first.len(), w.dies.len());
    let changed = w.bin_changes().count();
    let differ = (0..w.dies.len())
        .filter(|&i| first.hard_bin[i] != w.dies.hard_bin[i])
        .count();
    assert_eq!(changed, differ);
    assert!(changed > 0, "lot2's retests change bins");
}
