//! The document model on the demo files: every die is found at its coordinates, the stack counts
//! each position over the wafers, and views are cached per subject.

use super::*;
use std::collections::BTreeMap;
use wafer::Verdict;

/// The three-wafer demo file, parsed.
pub(crate) fn demo() -> Doc {
    let files = wafer::demo::demo_files();
    let f = files.first().map(|f| wafer::read(&f.bytes));
    match f {
        Some(Ok(file)) => Doc::new("demo".into(), file),
        other => panic!("the demo file reads: {:?}", other.map(|r| r.err())),
    }
}

#[test]
fn every_die_is_found_at_its_coordinates() {
    let doc = demo();
    assert!(doc.file.wafers.len() >= 2, "the demo has several wafers");
    for (i, w) in doc.file.wafers.iter().enumerate() {
        for row in 0..w.dies.len() {
            let xy = (w.dies.x[row], w.dies.y[row]);
            assert_eq!(doc.row_at(Subject::Wafer(i), xy), Some(row));
        }
    }
    assert_eq!(doc.row_at(Subject::Wafer(0), (i16::MAX, i16::MAX)), None);
}

#[test]
fn the_die_index_finds_the_last_row_at_each_position_dense_or_sparse() {
    use super::index::DieIndex;
    use std::collections::HashMap;
    // A disc (a dense box) with a position twice (the later row wins), then the same dies with
    // one without coordinates and one far away (sorted instead).
    let mut coords: Vec<(i16, i16)> = (-20..=20i16)
        .flat_map(|y| (-20..=20i16).map(move |x| (x, y)))
        .filter(|(x, y)| x * x + y * y <= 400)
        .collect();
    coords.push((3, 4));
    let twice = coords.len() - 1;
    let mut far = coords.clone();
    far.push((wafer::NO_COORD, wafer::NO_COORD));
    far.push((i16::MAX, i16::MIN));
    for (table, dense) in [(coords, true), (far, false)] {
        let d = DieTable::at(table);
        let index = DieIndex::new(&d);
        assert_eq!(matches!(index, DieIndex::Dense { .. }), dense);
        let want: HashMap<(i16, i16), usize> =
            (0..d.len()).map(|r| ((d.x[r], d.y[r]), r)).collect();
        for y in -25..=25i16 {
            for x in -25..=25i16 {
                assert_eq!(index.row_at((x, y)), want.get(&(x, y)).copied(), "{x},{y}");
            }
        }
        for (xy, &r) in &want {
            assert_eq!(index.row_at(*xy), Some(r), "{xy:?}");
        }
        assert_eq!(index.row_at((3, 4)), Some(twice));
    }
    assert_eq!(DieIndex::new(&DieTable::default()).row_at((0, 0)), None);
}

#[test]
fn the_stack_counts_every_position_over_the_wafers() {
    let doc = demo();
    let s = doc.stack();
    let mut positions = BTreeSet::new();
    for w in &doc.file.wafers {
        positions.extend(w.dies.x.iter().zip(&w.dies.y).map(|(&x, &y)| (x, y)));
    }
    assert_eq!(s.dies.len(), positions.len());
    let on = |xy: (i16, i16)| {
        doc.file
            .wafers
            .iter()
            .filter(|w| w.dies.x.iter().zip(&w.dies.y).any(|(&x, &y)| (x, y) == xy))
            .count()
    };
    for row in 0..s.dies.len() {
        let xy = (s.dies.x[row], s.dies.y[row]);
        assert_eq!(doc.row_at(Subject::Stack, xy), Some(row));
        assert_eq!(s.wafers[row] as usize, on(xy));
        assert!((0.0..=100.0).contains(&s.fail_pct[row]));
    }
}

#[test]
fn stack_rows_are_found_by_position_whatever_order_the_counts_came_in() {
    let counts = vec![
        ((2, 0), (1, 2)),
        ((-1, 5), (0, 1)),
        ((2, -3), (2, 2)),
        ((0, 0), (0, 3)),
    ];
    let s = crate::doc::Stack::from_counts(counts);
    let xy: Vec<(i16, i16)> = s
        .dies
        .x
        .iter()
        .zip(&s.dies.y)
        .map(|(&x, &y)| (x, y))
        .collect();
    assert_eq!(xy, [(-1, 5), (0, 0), (2, -3), (2, 0)], "(x, y) order");
    assert_eq!(s.wafers, [1, 3, 2, 2]);
    for (row, &p) in xy.iter().enumerate() {
        assert_eq!(s.row_at(p), Some(row));
    }
    for p in [(0, 1), (-2, 0), (3, 0), (2, -4), (i16::MIN, i16::MIN)] {
        assert_eq!(s.row_at(p), None, "{p:?}");
    }
    assert_eq!(
        crate::doc::Stack::from_counts(Vec::new()).row_at((0, 0)),
        None
    );
}

#[test]
fn a_wafer_the_file_lacks_has_no_dies_and_no_grid() {
    let doc = demo();
    let n = doc.file.wafers.len();
    assert!(doc.try_dies(Subject::Wafer(n)).is_none());
    assert!(doc.grid(n).is_none());
    assert!(doc.try_dies(Subject::Stack).is_some());
    assert!(doc.grid(0).is_some());
}

#[test]
fn geometry_is_computed_once_per_subject() {
    let doc = demo();
    for s in [Subject::Wafer(0), Subject::Wafer(1), Subject::Stack] {
        assert_eq!(doc.geometry(s), doc.geometry(s));
        assert_eq!(doc.geometry(s), doc.compute_geometry(s));
    }
}

/// Per (x, y), counted the plain way: a tree, die by die.
fn tree(tables: &[&DieTable]) -> Vec<((i16, i16), (u32, u32))> {
    let mut tree: BTreeMap<(i16, i16), (u32, u32)> = BTreeMap::new();
    for d in tables {
        for i in 0..d.len() {
            let e = tree.entry((d.x[i], d.y[i])).or_default();
            e.0 += u32::from(d.verdict[i] == Verdict::Fail);
            e.1 += 1;
        }
    }
    tree.into_iter().collect()
}

#[test]
fn the_dense_and_the_sparse_tally_agree() {
    use stack::{Counts, tally};
    let doc = demo();
    let tables = doc.tables();
    // One die far away makes the bounding box too big for the dense count: the tree counts.
    let mut far = doc.file.wafers[0].dies.clone();
    far.x[0] = i16::MAX;
    far.y[0] = i16::MIN;
    let mut with_far = tables.clone();
    with_far[0] = &far;
    assert!(matches!(Counts::new(&tables), Counts::Dense { .. }));
    assert!(matches!(Counts::new(&with_far), Counts::Sparse(_)));
    assert_eq!(tally(&tables), tree(&tables));
    assert_eq!(tally(&with_far), tree(&with_far));
    assert!(tally(&[]).is_empty());
    // The page finds the box a table per task: the same counts.
    let bounds = tables
        .iter()
        .fold(stack::NO_EXTENT, |b, d| stack::merge(b, stack::extent(d)));
    let mut counts = Counts::within(tables.iter().map(|d| d.len()).sum(), bounds);
    tables.iter().for_each(|d| counts.add(d));
    assert_eq!(counts.finish(), tree(&tables));
    assert!(matches!(
        Counts::within(0, stack::NO_EXTENT),
        Counts::Sparse(_)
    ));
}

#[test]
fn passes_are_counted_once_and_give_each_wafers_yield() {
    let doc = demo();
    assert!(!doc.file.wafers.is_empty());
    for (i, w) in doc.file.wafers.iter().enumerate() {
        // Counted by hand, not by `DieTable::count`, which the cache calls.
        let pass = w
            .dies
            .verdict
            .iter()
            .filter(|v| **v == Verdict::Pass)
            .count();
        assert!(
            pass > 0 && pass < w.dies.len(),
            "wafer {i} has both verdicts"
        );
        assert_eq!(doc.passing(i), pass);
        assert_eq!(doc.yield_of(i), w.yield_fraction());
        assert_eq!(
            doc.passing[i].get(),
            Some(&pass),
            "kept after the first count"
        );
    }
    let n = doc.file.wafers.len();
    assert_eq!((doc.passing(n), doc.yield_of(n)), (0, None));
}

#[test]
fn the_shape_test_is_the_models_and_is_kept() {
    let doc = demo();
    for i in 0..doc.file.wafers.len() {
        let grid = doc.grid(i).expect("a demo wafer has dies");
        assert_eq!(doc.wafer_shaped(i), Some(model::wafer_shaped(grid)));
        assert_eq!(
            doc.wafer_shaped(i),
            Some(true),
            "the demo's wafers are round"
        );
        assert_eq!(doc.shaped[i].get(), Some(&true));
    }
    assert_eq!(doc.wafer_shaped(doc.file.wafers.len()), None);
}
