//! Packing round trips, older formats still read, damage is an error.

use super::*;
use crate::column::{Column, OwnedCells};

#[test]
fn a_file_survives_packing_and_damage_is_an_error() {
    let f = crate::read(&crate::demo::demo_files()[0].bytes).unwrap();
    let packed = encode(&f);
    let back = decode(&packed).unwrap();
    assert_eq!(format!("{f:?}"), format!("{back:?}"));
    assert!(f.wafers.iter().any(|w| !w.first_pass.is_empty()));
    assert!(
        f.wafers
            .iter()
            .any(|w| w.first_results.as_ref().is_some_and(|r| !r.is_empty()))
    );
    // Before format 6 the first attempts' results were not kept: those files read without.
    let mut without = f.clone();
    without
        .wafers
        .iter_mut()
        .for_each(|w| w.first_results = None);
    // Format 3 (the whole model in postcard, then the first passes) still reads, whole.
    let mut v3 = MAGIC.to_vec();
    v3.extend_from_slice(&3u16.to_le_bytes());
    let v3 = put_wafer_extra(&f, postcard::to_extend(&f, v3).unwrap());
    assert_eq!(
        format!("{without:?}"),
        format!("{:?}", decode(&v3).unwrap())
    );
    // Format 2 is format 3 without the first passes: it still reads, without retests.
    let mut old = MAGIC.to_vec();
    old.extend_from_slice(&2u16.to_le_bytes());
    let old = postcard::to_extend(&f, old).unwrap();
    let back = decode(&old).unwrap();
    assert!(back.wafers.iter().all(|w| w.first_pass.is_empty()));
    assert!(format!("{:?}", back.wafers[0].dies) == format!("{:?}", f.wafers[0].dies));
    // A lot's wafers keep their file of origin through packing.
    let lot = crate::lot::merge(vec![("a".into(), f.clone()), ("b".into(), f.clone())]);
    let back = decode(&encode(&lot)).unwrap();
    let origins: Vec<&str> = back.wafers.iter().map(|w| w.origin.as_str()).collect();
    assert_eq!(origins, ["a", "a", "a", "b", "b", "b"]);
    // And each warning its file (format 5); format 4, without those names, still reads.
    let cut = crate::read(&crate::demo::demo_files()[0].bytes[..5000]).unwrap();
    assert!(!cut.warnings.is_empty());
    let lot = crate::lot::merge(vec![("a".into(), f.clone()), ("cut".into(), cut.clone())]);
    let back = decode(&encode(&lot)).unwrap();
    assert_eq!(back.warnings, lot.warnings);
    assert!(back.warnings.iter().all(|w| w.file == "cut"));
    assert!(back.warnings[0].to_string().starts_with("cut: offset "));
    // Format 5 is 6 without the first attempts' results, 4 is 5 without the warnings' files.
    let results: Vec<Option<&[crate::FirstResult]>> = lot
        .wafers
        .iter()
        .map(|w| w.first_results.as_deref())
        .collect();
    let results = postcard::to_allocvec(&results).unwrap();
    let mut v5 = encode(&lot);
    v5[4] = 5;
    v5.truncate(v5.len() - results.len());
    let back = decode(&v5).unwrap();
    assert_eq!(back.warnings, lot.warnings);
    assert!(back.wafers.iter().all(|w| w.first_results.is_none()));
    // Its first pass is the first attempts' bins with the final results, as before format 6:
    // no retested die loses its values.
    for (w, before) in back.wafers.iter().zip(&lot.wafers) {
        let (first, old) = (w.first_pass_dies(), before.first_pass_dies());
        assert_eq!(first.hard_bin, old.hard_bin);
        assert_eq!(
            format!("{:?}", first.columns),
            format!("{:?}", w.dies.columns)
        );
    }
    assert_eq!(back.wafers[0].first_pass, lot.wafers[0].first_pass);
    let mut v4 = v5;
    v4[4] = 4;
    let files = postcard::to_allocvec(&vec!["cut"; lot.warnings.len()]).unwrap();
    v4.truncate(v4.len() - files.len());
    let back = decode(&v4).unwrap();
    assert_eq!(back.warnings.len(), lot.warnings.len());
    assert!(back.warnings.iter().all(|w| w.file.is_empty()));
    assert_eq!(decode(b"nope"), Err(PackError::NotPacked));
    let mut v2 = packed.clone();
    v2[4] = 9;
    assert!(matches!(decode(&v2), Err(PackError::Version(9))));
    assert!(matches!(
        decode(&packed[..packed.len() / 2]),
        Err(PackError::Corrupt(_))
    ));
}

#[test]
fn a_table_with_many_results_unpacks_in_steps_of_about_step_bytes() {
    let mut f = crate::read(&crate::demo::demo_files()[0].bytes).unwrap();
    // Wafer 0 gets about 3 x STEP_BYTES of results: dense columns of a value per die.
    let n = f.wafers[0].dies.len();
    let columns = 3 * STEP_BYTES / (4 * n) + 1;
    let known = f.tests.tests.len();
    let test = f.tests.tests[0].clone();
    f.tests.tests.resize(known + columns, test);
    let dies = &mut f.wafers[0].dies;
    dies.columns = (0..columns)
        .map(|c| {
            let values = (0..n).map(|i| (c * n + i) as f32).collect();
            Column::from_raw((known + c) as u32, n as u64, OwnedCells::Dense(0, values))
        })
        .collect();
    let packed = encode(&f);
    let mut u = Unpacker::new(&packed[..]).unwrap();
    let (mut steps, mut at) = (0, u.r.at);
    let mut longest = 0;
    while u.step().unwrap() {
        steps += 1;
        longest = longest.max(u.r.at - at);
        at = u.r.at;
    }
    let back = u.finish().unwrap();
    assert_eq!(format!("{f:?}"), format!("{back:?}"));
    // Wafer 0 took several steps, none much over STEP_BYTES (one column past it at most).
    assert!(steps > f.wafers.len() + 2, "{steps} steps");
    assert!(
        longest < STEP_BYTES + 4 * n + (1 << 20),
        "{longest} bytes in a step"
    );
}

#[test]
fn damaged_tables_are_errors_never_panics_or_huge_allocations() {
    let f = crate::read(&crate::demo::demo_files()[0].bytes).unwrap();
    let packed = encode(&f);
    // Cut anywhere (a prime stride keeps it quick): an error, or for a cut inside the
    // trailing first passes, still an error.
    for cut in (6..packed.len()).step_by(97) {
        assert!(decode(&packed[..cut]).is_err(), "cut at {cut}");
    }
    // A table that claims 4 billion dies in a few bytes.
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    let skeleton = postcard::to_allocvec(&without_tables(&TestFile::default())).unwrap();
    out.extend_from_slice(&(skeleton.len() as u32).to_le_bytes());
    out.extend_from_slice(&skeleton);
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    assert!(matches!(decode(&out), Err(PackError::Corrupt(m)) if m.contains("x runs past")));
    // A die whose verdict byte is not a verdict.
    let mut t = DieTable::at([(0, 0)]);
    t.verdict[0] = crate::Verdict::Pass;
    let mut bytes = Vec::new();
    table::put_table(&mut bytes, &t);
    let at = 4 + 2 + 4 + 2 + 4 + 2 + 4 + 2 + 4; // x, y, hard bin, soft bin, the verdicts' length
    assert_eq!(bytes[at], 1);
    bytes[at] = 7;
    let r = table::Reader {
        src: &bytes[..],
        at: 0,
    }
    .table_start(0);
    assert!(matches!(r, Err(PackError::Corrupt(m)) if m.contains("verdict")));
}

#[test]
fn first_results_off_the_retested_dies_or_tests_are_corrupt() {
    let f = crate::read(&crate::demo::demo_files()[0].bytes).unwrap();
    let results = |w: &crate::Wafer| w.first_results.clone().unwrap_or_default();
    let w = f.wafers.iter().position(|w| results(w).len() > 1).unwrap();
    let last = results(&f.wafers[w]).len() - 1;
    let after = results(&f.wafers[w])[last - 1].row;
    // A die tested once, past the results before the last: the order stays right.
    let retested = |r: u32| f.wafers[w].first_pass.iter().any(|p| p.row == r);
    let plain = (after + 1..f.wafers[w].dies.len() as u32).find(|&r| !retested(r));
    let bad = |change: &dyn Fn(&mut crate::Wafer)| {
        let mut g = f.clone();
        change(&mut g.wafers[w]);
        decode(&encode(&g))
    };
    let corrupt = |m: &str| Err(PackError::Corrupt(m.into()));
    let set_last = |w: &mut crate::Wafer, c: &dyn Fn(&mut crate::FirstResult)| {
        if let Some(r) = w.first_results.as_mut() {
            c(&mut r[last]);
        }
    };
    assert_eq!(
        bad(&|g| set_last(g, &|r| r.row = plain.unwrap())),
        corrupt("a first result names no retested die")
    );
    let tests = f.tests.tests.len() as u32;
    assert_eq!(
        bad(&|g| set_last(g, &|r| r.test = tests)),
        corrupt("a first result names no test")
    );
    // Out of order: a die's results would be looked up wrongly.
    assert_eq!(
        bad(&|g| {
            if let Some(r) = g.first_results.as_mut() {
                r.reverse();
            }
        }),
        corrupt("first results out of order")
    );
    assert_eq!(
        bad(&|g| g.first_pass.reverse()),
        corrupt("first passes out of order")
    );
}
