//! Cross-check against the `rust-stdf` crate on every corpus file:
//! - the same record counts;
//! - the same head, site, x, y and bins for every PRR, and the same result for every PTR;
//! - the same final die columns: for each wafer, the last PRR at each (x, y) and that part's
//!   PTR results, rebuilt from rust-stdf's records, equal our die table row for row.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use rust_stdf::stdf_file::StdfReader;
use rust_stdf::{CompressType, StdfRecord};
use wafer::stdf::{Be, Endian, Fields, Le, RecordType, Records};
use wafer::{ByteOrder, DieTable, NO_COORD, TestFile};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Prr {
    head: u8,
    site: u8,
    x: i16,
    y: i16,
    hard: u16,
    soft: u16,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Ptr {
    test: u32,
    head: u8,
    site: u8,
    flags: u8,
    result: u32,
}

/// A part's final PRR and its results (test number -> value bits).
type FinalPart = (Prr, HashMap<u32, u32>);
/// A wafer's id and its final dies by (x, y).
type FinalWafer = (String, HashMap<(i16, i16), FinalPart>);
/// Record counts by (typ, sub), every PRR and every PTR, in file order.
type RawView = (BTreeMap<(u8, u8), u64>, Vec<Prr>, Vec<Ptr>);

/// What rust-stdf reads from the bytes.
#[derive(Default)]
struct Theirs {
    counts: BTreeMap<(u8, u8), u64>,
    prrs: Vec<Prr>,
    ptrs: Vec<Ptr>,
    /// Per wafer (in WIR order): final dies by (x, y) -> (PRR, test -> value bits).
    wafers: Vec<FinalWafer>,
    /// Per wafer: the first PRR at each (x, y) with its results, and how many PRRs it had (the
    /// first pass).
    firsts: Vec<HashMap<(i16, i16), (FinalPart, u32)>>,
    loose: Vec<FinalPart>,
}

fn value_bits(p: &Ptr) -> u32 {
    if p.flags & 0x12 != 0 {
        f32::NAN.to_bits()
    } else {
        p.result
    }
}

fn theirs(bytes: &[u8]) -> Theirs {
    let mut t = Theirs::default();
    let mut reader = StdfReader::from(Cursor::new(bytes), &CompressType::Uncompressed).unwrap();
    let mut pending: HashMap<(u8, u8), HashMap<u32, u32>> = HashMap::new();
    let mut open: HashMap<u8, usize> = HashMap::new();
    for raw in reader.get_rawdata_iter() {
        // rust-stdf stops with an error at a cut record; our reader stops there too.
        let Ok(raw) = raw else { break };
        *t.counts
            .entry((raw.header.typ, raw.header.sub))
            .or_default() += 1;
        match StdfRecord::from(&raw) {
            StdfRecord::PIR(r) => {
                pending.remove(&(r.head_num, r.site_num));
            }
            StdfRecord::PTR(r) => {
                let p = Ptr {
                    test: r.test_num,
                    head: r.head_num,
                    site: r.site_num,
                    flags: r.test_flg[0],
                    result: r.result.to_bits(),
                };
                t.ptrs.push(p);
                pending
                    .entry((p.head, p.site))
                    .or_default()
                    .insert(p.test, value_bits(&p));
            }
            StdfRecord::WIR(r) => {
                let again = (!r.wafer_id.is_empty())
                    .then(|| t.wafers.iter().position(|w| w.0 == r.wafer_id))
                    .flatten();
                let i = again.unwrap_or_else(|| {
                    t.wafers.push((r.wafer_id.clone(), HashMap::new()));
                    t.firsts.push(HashMap::new());
                    t.wafers.len() - 1
                });
                open.insert(r.head_num, i);
            }
            StdfRecord::WRR(r) => {
                open.remove(&r.head_num);
            }
            StdfRecord::PRR(r) => {
                let p = Prr {
                    head: r.head_num,
                    site: r.site_num,
                    x: r.x_coord,
                    y: r.y_coord,
                    hard: r.hard_bin,
                    soft: r.soft_bin,
                };
                t.prrs.push(p);
                let results = pending.remove(&(p.head, p.site)).unwrap_or_default();
                let wafer = open.get(&p.head).or(open.get(&255));
                match wafer {
                    Some(&w) if p.x != NO_COORD && p.y != NO_COORD => {
                        let first = t.firsts[w].entry((p.x, p.y));
                        first.or_insert(((p, results.clone()), 0)).1 += 1;
                        t.wafers[w].1.insert((p.x, p.y), (p, results));
                    }
                    _ => t.loose.push((p, results)),
                }
            }
            _ => {}
        }
    }
    t
}

/// Our record-level view of the same bytes, through the public scanner and field decoder.
fn ours_raw<E: Endian>(bytes: &[u8]) -> RawView {
    let (mut counts, mut prrs, mut ptrs) = (BTreeMap::new(), Vec::new(), Vec::new());
    for r in Records::<E>::new(bytes) {
        *counts.entry((r.rtype.typ, r.rtype.sub)).or_default() += 1;
        let mut f = Fields::<E>::new(r.body);
        match r.rtype {
            RecordType::PRR => {
                let (head, site, _flg, _n) = (f.u1(), f.u1(), f.u1(), f.u2());
                prrs.push(Prr {
                    head: head.unwrap(),
                    site: site.unwrap(),
                    hard: f.u2().unwrap(),
                    soft: f.u2().unwrap_or(65535),
                    x: f.i2().unwrap_or(NO_COORD),
                    y: f.i2().unwrap_or(NO_COORD),
                });
            }
            RecordType::PTR => ptrs.push(Ptr {
                test: f.u4().unwrap(),
                head: f.u1().unwrap(),
                site: f.u1().unwrap(),
                flags: f.u1().unwrap(),
                result: {
                    f.u1();
                    f.r4().unwrap().to_bits()
                },
            }),
            _ => {}
        }
    }
    (counts, prrs, ptrs)
}

fn row_of(d: &DieTable, i: usize) -> Prr {
    Prr {
        head: d.head[i],
        site: d.site[i],
        x: d.x[i],
        y: d.y[i],
        hard: d.hard_bin[i],
        soft: d.soft_bin[i],
    }
}

/// Every value column of row `i` equals the expected test -> value map (NaN where absent).
fn check_values(
    f: &TestFile,
    d: &DieTable,
    i: usize,
    want: &HashMap<u32, u32>,
) -> Result<(), String> {
    for (t, info) in f.tests.tests.iter().enumerate() {
        let ours = d.value(t, i).to_bits();
        let theirs = want
            .get(&info.number)
            .copied()
            .unwrap_or(f32::NAN.to_bits());
        let both_nan = f32::from_bits(ours).is_nan() && f32::from_bits(theirs).is_nan();
        if ours != theirs && !both_nan {
            return Err(format!(
                "row {i} test {}: ours {}, rust-stdf {}",
                info.number,
                f32::from_bits(ours),
                f32::from_bits(theirs)
            ));
        }
    }
    Ok(())
}

fn crosscheck(name: &str) -> Result<usize, String> {
    let path = common::corpus().join("stdf").join(name);
    let bytes = common::stdf_bytes(&path);
    let f = wafer::read(&bytes).map_err(|e| e.to_string())?;
    let t = theirs(&bytes);

    let (mut counts, prrs, ptrs) = match f.meta.byte_order {
        ByteOrder::Little => ours_raw::<Le>(&bytes),
        ByteOrder::Big => ours_raw::<Be>(&bytes),
    };
    if counts != t.counts {
        return Err(format!(
            "scanner counts {counts:?} != rust-stdf {:?}",
            t.counts
        ));
    }
    // The model counts a cut record's header too (rust-stdf stops before it).
    if let Some(cut) = f
        .warnings
        .iter()
        .find(|w| w.kind.stops_read())
        .and_then(|w| w.at.record)
    {
        *counts.entry((cut.typ, cut.sub)).or_default() += 1;
    }
    let model: BTreeMap<(u8, u8), u64> = f.record_counts.iter().copied().collect();
    if model != counts {
        return Err(format!("model counts {model:?} != {counts:?}"));
    }
    if prrs != t.prrs {
        return Err("PRR fields differ".into());
    }
    if ptrs != t.ptrs {
        let i = ptrs.iter().zip(&t.ptrs).position(|(a, b)| a != b);
        return Err(format!(
            "PTR fields differ (first at #{i:?}; {} vs {})",
            ptrs.len(),
            t.ptrs.len()
        ));
    }

    if f.wafers.len() != t.wafers.len() {
        return Err(format!("{} wafers vs {}", f.wafers.len(), t.wafers.len()));
    }
    let mut dies = 0;
    for (k, (w, (id, want))) in f.wafers.iter().zip(&t.wafers).enumerate() {
        if &w.id != id || w.dies.len() != want.len() {
            return Err(format!(
                "wafer {:?}: {} dies vs {id:?}: {}",
                w.id,
                w.dies.len(),
                want.len()
            ));
        }
        for i in 0..w.dies.len() {
            let ours = row_of(&w.dies, i);
            let (prr, results) = &want[&(ours.x, ours.y)];
            if &ours != prr {
                return Err(format!(
                    "wafer {id:?} die {i}: {ours:?} vs final PRR {prr:?}"
                ));
            }
            check_values(&f, &w.dies, i, results).map_err(|e| format!("wafer {id:?}: {e}"))?;
        }
        // The first pass: one entry per die with more than one PRR, holding the first PRR's bins.
        let firsts = &t.firsts[k];
        let retested = firsts.values().filter(|(_, n)| *n > 1).count();
        if w.first_pass.len() != retested {
            return Err(format!(
                "wafer {id:?}: {} first passes vs {retested} retested dies",
                w.first_pass.len()
            ));
        }
        // And its results: the first pass's die table holds the first PRR's, row for row.
        let first_dies = w.first_pass_dies();
        for fp in &w.first_pass {
            let r = fp.row as usize;
            let ((first, results), _) = &firsts[&(w.dies.x[r], w.dies.y[r])];
            if (fp.hard_bin, fp.soft_bin) != (first.hard, first.soft) {
                return Err(format!(
                    "wafer {id:?} die {r}: first pass {fp:?} vs {first:?}"
                ));
            }
            check_values(&f, &first_dies, r, results)
                .map_err(|e| format!("wafer {id:?} first pass: {e}"))?;
        }
        dies += w.dies.len();
    }
    if f.loose_parts.len() != t.loose.len() {
        return Err(format!(
            "{} loose parts vs {}",
            f.loose_parts.len(),
            t.loose.len()
        ));
    }
    for (i, (prr, results)) in t.loose.iter().enumerate() {
        if &row_of(&f.loose_parts, i) != prr {
            return Err(format!("loose part {i} differs"));
        }
        check_values(&f, &f.loose_parts, i, results).map_err(|e| format!("loose: {e}"))?;
    }
    Ok(dies + f.loose_parts.len())
}

#[test]
fn every_corpus_file_agrees_with_rust_stdf() {
    let mut failures = Vec::new();
    let mut rows = 0;
    for path in common::stdf_files() {
        let name = common::name(&path);
        match crosscheck(&name) {
            Ok(n) => rows += n,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(rows > 5000, "only {rows} rows checked");
}
