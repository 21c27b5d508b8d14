//! A lot split across files, read as one [`TestFile`]: the wafers of every file, in file order,
//! each keeping its file of origin ([`Wafer::origin`]).
//!
//! How the files' parts are joined:
//! - tests by number: the first file's definition (name, units, limits) wins, TSR counts add up,
//!   and every value column moves to the merged catalogue's index;
//! - bins by number: the first definition wins, counts add up;
//! - a wafer id met again in a later file (a wafer tested twice) becomes `ID (file)`, so every
//!   wafer stays addressable by id;
//! - parts outside any wafer are appended, records and bytes counted over all files, warnings
//!   kept in file order, each naming its file ([`Warning::file`]);
//! - lot facts (MIR) are the first file's.

use crate::Warning;
use crate::column::Column;
use crate::model::*;

/// Join `files` (name, file) into one. A single file comes back as it was.
pub fn merge(files: Vec<(String, TestFile)>) -> TestFile {
    if files.len() == 1 {
        return files.into_iter().next().map(|f| f.1).unwrap_or_default();
    }
    let mut out = TestFile::default();
    for (k, (name, f)) in files.into_iter().enumerate() {
        if k == 0 {
            out.format = f.format;
            out.meta = f.meta.clone();
        }
        let map: Vec<u32> = f
            .tests
            .tests
            .iter()
            .map(|t| add_test(&mut out.tests, t))
            .collect();
        let to = |t: u32| map.get(t as usize).copied().unwrap_or(t);
        for mut w in f.wafers {
            w.renumber_tests(to);
            if out.wafer(&w.id).is_some() {
                w.id = format!("{} ({name})", w.id);
            }
            w.origin = name.clone();
            out.wafers.push(w);
        }
        let mut loose = f.loose_parts;
        loose.renumber_tests(to);
        append(&mut out.loose_parts, loose);
        for (table, from) in [
            (&mut out.bins.hard, f.bins.hard),
            (&mut out.bins.soft, f.bins.soft),
        ] {
            for (n, b) in from {
                table
                    .entry(n)
                    .and_modify(|e| e.count += b.count)
                    .or_insert(b);
            }
        }
        for (key, n) in f.record_counts {
            match out.record_counts.iter_mut().find(|(k, _)| *k == key) {
                Some(e) => e.1 += n,
                None => out.record_counts.push((key, n)),
            }
        }
        out.records_total += f.records_total;
        out.bytes_read += f.bytes_read;
        out.warnings.extend(f.warnings.into_iter().map(|w| Warning {
            file: name.clone(),
            ..w
        }));
    }
    out
}

/// The merged catalogue's index of test `t`, added if new.
fn add_test(c: &mut TestCatalogue, t: &TestInfo) -> u32 {
    match c.find(t.number) {
        Some(i) => {
            c.tests[i].executions += t.executions;
            c.tests[i].failures += t.failures;
            i as u32
        }
        None => {
            c.tests.push(t.clone());
            (c.tests.len() - 1) as u32
        }
    }
}

/// Rows of `more` after those of `d`, columns matched by test.
fn append(d: &mut DieTable, more: DieTable) {
    let offset = d.len() as u32;
    for r in 0..more.len() {
        d.part_id.push(more.part_id.get(r));
    }
    d.x.extend(more.x);
    d.y.extend(more.y);
    d.hard_bin.extend(more.hard_bin);
    d.soft_bin.extend(more.soft_bin);
    d.verdict.extend(more.verdict);
    d.head.extend(more.head);
    d.site.extend(more.site);
    d.attempts.extend(more.attempts);
    d.test_time_ms.extend(more.test_time_ms);
    for c in more.columns {
        let i = match d.columns.iter().position(|x| x.test == c.test) {
            Some(i) => i,
            None => {
                d.columns.push(Column::new(c.test));
                d.columns.len() - 1
            }
        };
        for (r, v) in c.iter() {
            d.columns[i].set(offset + r as u32, v);
        }
    }
    d.columns.sort_by_key(|c| c.test);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_files_make_one_lot_whose_wafers_keep_their_file() {
        let demo = crate::demo::demo_files();
        let a = crate::read(&demo[0].bytes).unwrap();
        let b = crate::read(&demo[1].bytes).unwrap();
        let again = crate::read(&demo[0].bytes).unwrap();
        let lot = merge(vec![
            ("a.stdf".into(), a.clone()),
            ("b.stdf".into(), b.clone()),
            ("c.stdf".into(), again),
        ]);
        assert_eq!(lot.wafers.len(), 3 + 1 + 3);
        assert_eq!(lot.wafers[0].origin, "a.stdf");
        assert_eq!(lot.wafers[3].origin, "b.stdf");
        assert_eq!(
            lot.wafers[4].id,
            format!("{} (c.stdf)", a.wafers[0].id),
            "ids stay unique"
        );
        assert_eq!(lot.records_total, 2 * a.records_total + b.records_total);
        // Every value is where it was, under the merged catalogue's index of its test.
        for (w, src) in lot.wafers[3..4].iter().zip(&b.wafers) {
            for (t, info) in b.tests.tests.iter().enumerate() {
                let m = lot.tests.find(info.number).unwrap();
                for r in 0..src.dies.len() {
                    let (x, y) = (src.dies.value(t, r), w.dies.value(m, r));
                    assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
                }
            }
            assert!(w.dies.columns.windows(2).all(|c| c[0].test < c[1].test));
        }
        let hard: u64 = a.bins.hard.values().map(|b| b.count).sum::<u64>() * 2
            + b.bins.hard.values().map(|b| b.count).sum::<u64>();
        assert_eq!(lot.bins.hard.values().map(|b| b.count).sum::<u64>(), hard);
        // One file stays as it was (compared as text: NaN results are not equal to themselves).
        let one = merge(vec![("b".into(), b.clone())]);
        assert!(format!("{one:?}") == format!("{b:?}"));
    }
}
