//! The grid's rules on small maps, and its hash.

use super::*;

fn disc(n: usize, fail: impl Fn(usize, usize) -> bool) -> Vec<Vec<u8>> {
    let r = n as f32 / 2.0;
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    let (dx, dy) = (j as f32 + 0.5 - r, i as f32 + 0.5 - r);
                    if (dx * dx + dy * dy).sqrt() > r {
                        0
                    } else if fail(i, j) {
                        2
                    } else {
                        1
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn bytes_round_trip_and_bad_lengths_or_empty_grids_are_refused() {
    let g = FeatureGrid::from_fn(3, 3, |r, c| if r == c { Die::Fail } else { Die::Pass }).unwrap();
    let back = FeatureGrid::from_bytes(&g.cells).unwrap();
    assert_eq!(back.hash(), g.hash());
    assert!(matches!(
        FeatureGrid::from_bytes(&g.cells[1..]),
        Err(FeatureError::Malformed(_))
    ));
    assert_eq!(
        FeatureGrid::from_bytes(&[OFF_WAFER; SIZE * SIZE]),
        Err(FeatureError::Empty)
    );
}

#[test]
fn a_map_of_exactly_size_dies_is_copied_cell_for_cell() {
    let m = disc(SIZE, |i, j| (i + j) % 7 == 0);
    let g = FeatureGrid::from_wm811k(&m).unwrap();
    for i in 0..SIZE {
        for j in 0..SIZE {
            let want = [OFF_WAFER, PASS, FAIL][m[i][j] as usize];
            assert_eq!(g.cells[i * SIZE + j], want, "cell {i},{j}");
        }
    }
}

#[test]
fn small_maps_scale_up_keeping_aspect_and_centred() {
    // 20 rows x 40 cols: scale 1.6, 32 rows of content centred vertically.
    let m = vec![vec![1u8; 40]; 20];
    let g = FeatureGrid::from_wm811k(&m).unwrap();
    let on_rows: Vec<usize> = (0..SIZE)
        .filter(|&i| g.cells[i * SIZE..(i + 1) * SIZE].iter().any(|&b| b != 0))
        .collect();
    assert_eq!(on_rows.len(), 32);
    assert_eq!(on_rows[0], 16);
    assert!(g.cells.iter().all(|&b| b == OFF_WAFER || b == PASS));
}

#[test]
fn big_maps_average_the_dies_of_a_cell() {
    // 128 x 128, every other column failing: each cell sees half failing dies.
    let m: Vec<Vec<u8>> = (0..128)
        .map(|_| (0..128).map(|j| 1 + (j % 2) as u8).collect())
        .collect();
    let g = FeatureGrid::from_wm811k(&m).unwrap();
    assert!(g.cells.iter().all(|&b| b == 128), "{:?}", &g.cells[..8]);
    assert!((g.fail_fraction() - 0.5).abs() < 0.01);
}

#[test]
fn the_hash_depends_on_the_pattern_only() {
    let a = FeatureGrid::from_wm811k(&disc(40, |i, _| i < 5)).unwrap();
    let b = FeatureGrid::from_wm811k(&disc(40, |i, _| i < 5)).unwrap();
    let c = FeatureGrid::from_wm811k(&disc(40, |i, _| i < 6)).unwrap();
    assert_eq!(a.hash(), b.hash());
    assert_ne!(a.hash(), c.hash());
    assert_eq!(FeatureHash::from_hex(&a.hash().to_hex()), Some(a.hash()));
    // Pinned: a change to the grid rules or the hash input must bump SPEC_VERSION (and this).
    assert_eq!(
        a.hash().to_hex(),
        "4d5ac8eeaf46baa0049acc4811ccf8ac10f0eee8658c392579f18f8724602b39"
    );
}

#[test]
fn stdf_dies_and_the_same_wm811k_map_give_the_same_grid() {
    let f = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let w = &f.wafers[0];
    let ([x0, x1], [y0, y1]) = w.dies.ranges().unwrap();
    let mut m = vec![vec![0u8; (x1 - x0 + 1) as usize]; (y1 - y0 + 1) as usize];
    for i in 0..w.dies.len() {
        m[(w.dies.y[i] - y0) as usize][(w.dies.x[i] - x0) as usize] =
            if w.dies.verdict[i] == Verdict::Fail {
                2
            } else {
                1
            };
    }
    let a = FeatureGrid::from_dies(&w.dies).unwrap();
    let b = FeatureGrid::from_wm811k(&m).unwrap();
    assert_eq!(a, b);
    assert!(a.fail_fraction() > 0.02);
}

/// The sparse path is the dense path cell for cell, on maps of many sizes and densities
/// (including repeated places, where the last die wins).
#[test]
fn the_sparse_path_gives_the_dense_grid() {
    let mut seed = 7u64;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    for (rows, cols, n) in [
        (1, 1, 1),
        (5, 9, 20),
        (64, 64, 3000),
        (200, 77, 5000),
        (3000, 40, 200),
        (1000, 1000, 50),
    ] {
        let dies: Vec<(usize, usize, Die)> = (0..n)
            .map(|_| {
                let d = if next(4) == 0 { Die::Fail } else { Die::Pass };
                (next(rows), next(cols), d)
            })
            .collect();
        let mut map = vec![Die::None; rows * cols];
        for &(r, c, d) in &dies {
            map[r * cols + c] = d;
        }
        let dense = FeatureGrid::from_fn(rows, cols, |r, c| map[r * cols + c]);
        let sparse = sample::from_sparse(rows, cols, dies.into_iter());
        assert_eq!(dense, sparse, "{rows}x{cols}, {n} dies");
    }
}

/// Dies at both ends of the i16 range: no overflow, no allocation of the extent.
#[test]
fn dies_far_apart_make_a_grid() {
    let mut t = DieTable::default();
    for (x, y, v) in [
        (-20_000, 0, Verdict::Fail),
        (20_000, 0, Verdict::Pass),
        (30_000, 30_000, Verdict::Pass),
        (-32_767, -32_767, Verdict::Pass),
    ] {
        t.x.push(x);
        t.y.push(y);
        t.verdict.push(v);
    }
    let g = FeatureGrid::from_dies(&t).unwrap();
    assert_eq!(g.cells.iter().filter(|&&b| b != OFF_WAFER).count(), 4);
    assert_eq!(g.cells.iter().filter(|&&b| b == 255).count(), 1);
}

#[test]
fn bad_maps_are_typed_errors() {
    assert_eq!(FeatureGrid::from_wm811k(&[]), Err(FeatureError::Empty));
    assert_eq!(
        FeatureGrid::from_wm811k(&[vec![0, 0], vec![0, 0]]),
        Err(FeatureError::Empty)
    );
    assert!(matches!(
        FeatureGrid::from_wm811k(&[vec![1, 1], vec![1]]),
        Err(FeatureError::Malformed(_))
    ));
    assert!(matches!(
        FeatureGrid::from_wm811k(&[vec![1, 3]]),
        Err(FeatureError::Malformed(_))
    ));
}

#[test]
fn the_outline_is_the_on_wafer_cells_box_and_its_ellipse() {
    let g = FeatureGrid::from_wm811k(&disc(64, |_, _| false)).unwrap();
    let o = g.outline().unwrap();
    assert_eq!((o.rows.clone(), o.cols.clone()), (0..=63, 0..=63));
    assert_eq!((o.centre, o.half), ((32.0, 32.0), (32.0, 32.0)));
    // The corner cell's centre is outside the ellipse, the middle ones at its centre.
    let (dy, dx) = o.offset(0, 0);
    assert!(dy * dy + dx * dx > 1.0);
    assert_eq!(o.offset(31, 31), (-0.5 / 32.0, -0.5 / 32.0));
    // A map half as tall is an ellipse, centred on the grid.
    let flat: Vec<Vec<u8>> = (0..16).map(|_| vec![1; 32]).collect();
    let o = FeatureGrid::from_wm811k(&flat).unwrap().outline().unwrap();
    assert_eq!((o.rows.clone(), o.cols.clone()), (16..=47, 0..=63));
    assert_eq!((o.centre, o.half), ((32.0, 32.0), (16.0, 32.0)));
    let empty = FeatureGrid {
        cells: vec![OFF_WAFER; SIZE * SIZE],
    };
    assert_eq!(empty.outline(), None);
}
