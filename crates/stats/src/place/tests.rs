//! Hand-counted fixtures: a 9 x 9 disc of dies round (0, 0), and small tables whose expected
//! counts are written out below.

use super::*;
use wafer::{FirstPass, NO_COORD, Wafer};

/// Dies of the disc x^2 + y^2 <= 16 (49 dies), all passing, hard bin 1.
fn disc() -> Wafer {
    let coords: Vec<(i16, i16)> = (-4..=4i16)
        .flat_map(|y| (-4..=4i16).map(move |x| (x, y)))
        .filter(|(x, y)| x * x + y * y <= 16)
        .collect();
    let mut dies = DieTable::at(coords);
    dies.hard_bin.fill(1);
    dies.verdict.fill(Verdict::Pass);
    let mut w = Wafer {
        id: "D".into(),
        dies,
        ..Default::default()
    };
    w.geometry.center_x = Some(0);
    w.geometry.center_y = Some(0);
    w
}

fn fail(w: &mut Wafer, x: i16, y: i16, bin: u16) {
    let r = (0..w.dies.len())
        .find(|&r| (w.dies.x[r], w.dies.y[r]) == (x, y))
        .unwrap();
    w.dies.hard_bin[r] = bin;
    w.dies.verdict[r] = Verdict::Fail;
}

#[test]
fn rings_are_equal_width_bands_out_to_half_a_die_past_the_last_centre() {
    let mut w = disc();
    fail(&mut w, 4, 0, 7);
    fail(&mut w, 0, 0, 9);
    // The farthest centres are 4 from the middle: R = 4.5. Two rings split at 2.25.
    let z = zones(
        &w,
        ZoneSpec {
            rings: 2,
            edge: 0.0,
        },
        &w.dies,
    );
    assert_eq!(z.radius, 4.5);
    // Inner ring: x^2 + y^2 <= 5.0625, i.e. <= 5: 21 dies (1 + 4 + 4 + 4 + 8).
    assert_eq!(z.rings[0].dies, 21);
    assert_eq!(z.rings[1].dies, 28);
    assert_eq!(z.rings[0].bins.get(&9), Some(&1));
    assert_eq!(z.rings[1].bins.get(&7), Some(&1));
    assert_eq!(z.rings[0].yield_, Some(20.0 / 21.0));
    assert_eq!(z.excluded.dies, 0);
    // Quadrants by sign, 0 counting as +: +x+y holds x >= 0, y >= 0.
    let q: Vec<usize> = z.quadrants.iter().map(|t| t.dies).collect();
    assert_eq!(q.iter().sum::<usize>(), 49);
    // By row y = 0, 1, 2, 3, 4 of +x+y: 5 + 4 + 4 + 3 + 1; -x+y: 4 + 3 + 3 + 2; and so on.
    assert_eq!(q, [17, 12, 8, 12]);
}

#[test]
fn the_edge_exclusion_takes_the_outer_band_out_of_rings_and_quadrants() {
    let w = disc();
    // R - edge = 3.5: dies with x^2 + y^2 > 12.25 (13, 16 and the like) are excluded.
    let z = zones(
        &w,
        ZoneSpec {
            rings: 1,
            edge: 1.0,
        },
        &w.dies,
    );
    let inside = (0..w.dies.len())
        .filter(|&r| {
            let (x, y) = (w.dies.x[r] as i32, w.dies.y[r] as i32);
            x * x + y * y <= 12
        })
        .count();
    assert_eq!(z.rings[0].dies, inside);
    assert_eq!(z.excluded.dies, 49 - inside);
    assert_eq!(
        z.quadrants.iter().map(|t| t.dies).sum::<usize>(),
        inside,
        "excluded dies are in no quadrant"
    );
    // An exclusion wider than the wafer leaves nothing in the rings, without a panic.
    let all_out = zones(
        &w,
        ZoneSpec {
            rings: 3,
            edge: 9.0,
        },
        &w.dies,
    );
    assert_eq!(all_out.excluded.dies, 49);
    assert!(
        all_out
            .rings
            .iter()
            .all(|t| t.dies == 0 && t.yield_.is_none())
    );
}

#[test]
fn tall_dies_stretch_the_rows() {
    let mut w = disc();
    // Dies twice as tall as wide: row 4 is 8 die widths out, so R = 8.5.
    w.geometry.die_width = Some(1.0);
    w.geometry.die_height = Some(2.0);
    let z = zones(
        &w,
        ZoneSpec {
            rings: 2,
            edge: 0.0,
        },
        &w.dies,
    );
    assert_eq!(z.radius, 8.5);
}

#[test]
fn sites_count_their_dies_and_summarise_a_test() {
    let mut d = DieTable::at((0..6).map(|i| (i, 0)));
    d.site = vec![1, 2, 1, 2, 1, 2];
    d.hard_bin = vec![1, 1, 5, 1, 1, 5];
    d.verdict = vec![
        Verdict::Pass,
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Pass,
        Verdict::Pass,
        Verdict::Fail,
    ];
    let mut c = wafer::Column::new(0);
    for (r, v) in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into_iter().enumerate() {
        c.set(r as u32, v);
    }
    d.columns.push(c);
    let limits = crate::Limits {
        low: None,
        high: Some(5.5),
    };
    let s = sites(&[&d], Some((0, limits)));
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].site, s[0].tally.dies, s[0].tally.pass), (1, 3, 2));
    assert_eq!(s[1].tally.bins.get(&5), Some(&1));
    let t1 = s[0].test.as_ref().unwrap();
    assert_eq!((t1.count, t1.fails, t1.mean), (3, 0, Some(3.0)));
    let t2 = s[1].test.as_ref().unwrap();
    assert_eq!((t2.fails, t2.mean), (1, Some(4.0)), "6.0 is over 5.5");
}

#[test]
fn a_rectangle_takes_the_dies_on_its_border_too() {
    let w = disc();
    let r = Rect::parse("1:-1, 0:2").unwrap();
    assert_eq!(
        r,
        Rect {
            x: [-1, 1],
            y: [0, 2]
        }
    );
    assert_eq!(r.rows(&w.dies).len(), 9);
    assert_eq!(Rect::parse("1:2"), None);
    assert_eq!(Rect::parse("a:2,1:2"), None);
}

#[test]
fn retests_count_what_changed_and_which_way() {
    let mut w = disc();
    fail(&mut w, 1, 1, 5);
    // Row of (1, 1) failed at the end but passed first; row 0 failed first, then passed; row 1
    // was retested with the same bin.
    let row = |x: i16, y: i16| (0..w.dies.len()).find(|&r| (w.dies.x[r], w.dies.y[r]) == (x, y));
    let r11 = row(1, 1).unwrap() as u32;
    w.first_pass = vec![
        FirstPass {
            row: 0,
            hard_bin: 5,
            soft_bin: 5,
            verdict: Verdict::Fail,
        },
        FirstPass {
            row: 1,
            hard_bin: 1,
            soft_bin: 1,
            verdict: Verdict::Pass,
        },
        FirstPass {
            row: r11,
            hard_bin: 1,
            soft_bin: 1,
            verdict: Verdict::Pass,
        },
    ];
    w.first_pass.sort_by_key(|f| f.row);
    let first = w.first_pass_dies();
    let r = retests(&w, &first);
    assert_eq!((r.retested, r.changed, r.recovered, r.lost), (3, 2, 1, 1));
    assert_eq!((r.first.pass, r.last.pass), (48, 48));
    assert_eq!(r.first.bins.get(&5), Some(&1));
    // Zones of the first pass see the first bins.
    let z = zones(
        &w,
        ZoneSpec {
            rings: 1,
            edge: 0.0,
        },
        &first,
    );
    assert_eq!(z.rings[0].bins.get(&5), Some(&1));
}

#[test]
fn reticle_positions_repeat_every_field_and_offsets_shift_them() {
    let mut w = disc();
    // A failing die at position (1, 0) of every 3 x 2 field.
    let rows: Vec<usize> = (0..w.dies.len())
        .filter(|&r| (w.dies.x[r] - 1).rem_euclid(3) == 0 && w.dies.y[r].rem_euclid(2) == 0)
        .collect();
    for &r in &rows {
        w.dies.verdict[r] = Verdict::Fail;
        w.dies.hard_bin[r] = 4;
    }
    let spec = ReticleSpec::parse("3x2").unwrap();
    let r = reticle(&w.dies, spec);
    assert_eq!(r.positions.len(), 6);
    assert_eq!(r.positions.iter().map(|t| t.dies).sum::<usize>(), 49);
    let bad = &r.positions[1];
    assert_eq!(
        (bad.dies, bad.pass),
        (rows.len(), 0),
        "position (1, 0) fails everywhere"
    );
    assert!(
        r.positions
            .iter()
            .enumerate()
            .all(|(i, t)| i == 1 || t.fail == 0)
    );
    // x from -4 to 4 over fields of 3 starting at 0: fields -2..=1; y -4..=4 by 2: -2..=2.
    assert!(r.fields <= 4 * 5);
    // An offset moves the failing position: with dx = 1 it is position (0, 0).
    let shifted = reticle(&w.dies, ReticleSpec::parse("3x2+1+0").unwrap());
    assert_eq!(shifted.positions[0].fail, rows.len());
    assert_eq!(ReticleSpec::parse("4x3-1+2").unwrap().offset, [-1, 2]);
    assert_eq!(ReticleSpec::parse("0x3"), None);
    assert_eq!(ReticleSpec::parse("4x"), None);
    assert_eq!(ReticleSpec::parse("4x3+1"), None, "both offsets or none");
}

#[test]
fn a_lasso_takes_the_dies_whose_centres_it_encloses() {
    let w = disc();
    // A triangle around (0, 0), (1, 0) and (0, 1), its edges half a die out, so no centre lies
    // on an edge: (1, 1) is outside (the hypotenuse passes between), as is (-1, 0).
    let l = Lasso::parse("-0.5,-0.5; 2,-0.5; -0.5,2").unwrap();
    let mut got: Vec<(i16, i16)> = l
        .rows(&w.dies)
        .iter()
        .map(|&r| (w.dies.x[r], w.dies.y[r]))
        .collect();
    got.sort();
    assert_eq!(got, [(0, 0), (0, 1), (1, 0)]);
    // A bow tie (the path crosses itself): each lobe holds its die, the crossing none twice.
    let bow = Lasso::parse("-2.5,-0.5; 2.5,0.5; 2.5,-0.5; -2.5,0.5").unwrap();
    assert!(bow.contains(-2, 0) && bow.contains(2, 0) && !bow.contains(0, 1));
    // The same dies through Region, and a rectangle as before.
    let r = Region::Lasso(l.clone());
    assert_eq!(r.rows(&w.dies), l.rows(&w.dies));
    let rect = Region::Rect(Rect::parse("-1:1,0:2").unwrap());
    assert_eq!(rect.rows(&w.dies).len(), 9);
    assert_eq!(Lasso::parse("0,0;1,1"), None);
    assert_eq!(Lasso::parse("0,0;1,x;2,2"), None);
    assert_eq!(Lasso::parse("0,0;1,inf;2,2"), None);
}

#[test]
fn a_lasso_s_rows_are_exactly_the_dies_it_contains() {
    // `rows` crosses the edges once per die row; `contains` tests one die against every edge.
    // They must agree on every die, also where an edge or a vertex passes through a centre.
    let w = disc();
    let star: Vec<String> = (0..200)
        .map(|k| {
            let a = k as f32 * std::f32::consts::TAU / 200.0;
            let r = if k % 2 == 0 { 3.7 } else { 1.3 };
            format!("{},{}", r * a.cos(), r * a.sin())
        })
        .collect();
    let mut shapes: Vec<Lasso> = [
        star.join(";"),
        "0,0; 3,0; 3,3".into(),
        "-4,-4; 4,-4; 4,4; -4,4".into(),
        "-9,-9; 9,-9; 0,9".into(),
        "-1,0; 1,0; 0,0.5".into(),
        // Round every i16 position, those of dies without coordinates too.
        "-200000,-40000; 200000,-40000; 0,40000".into(),
    ]
    .iter()
    .map(|spec| Lasso::parse(spec).unwrap())
    .collect();
    // Random paths that cross themselves, their points on die centres, half-dies and beyond
    // the wafer (a seeded LCG: the same shapes every run).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % 25) as f32 / 2.0 - 6.0
    };
    for n in 3..40 {
        let points = (0..n).map(|_| [next(), next()]).collect();
        shapes.push(Lasso { points });
    }
    let coords: Vec<(i16, i16)> = (-6..=6i16)
        .flat_map(|y| (-6..=6i16).map(move |x| (x, y)))
        .collect();
    // Dies without coordinates (x, y or both) are in no lasso, whatever its shape.
    let mut coords = coords;
    coords.extend([(NO_COORD, 0), (0, NO_COORD), (NO_COORD, NO_COORD)]);
    let square = DieTable::at(coords);
    for l in &shapes {
        for d in [&w.dies, &square] {
            let every: Vec<usize> = (0..d.len())
                .filter(|&r| l.contains(d.x[r], d.y[r]))
                .collect();
            assert_eq!(l.rows(d), every, "{:?}", l.points);
        }
    }
    assert!(
        Lasso {
            points: vec![[0.0, 0.0]; 2]
        }
        .rows(&w.dies)
        .is_empty()
    );
    // The lasso round everything takes every die but the three without coordinates.
    assert_eq!(shapes[5].rows(&square).len(), square.len() - 3);
}

#[test]
fn the_pareto_counts_failing_dies_per_bin_over_tables_most_first() {
    let mut a = disc();
    fail(&mut a, 0, 0, 9);
    fail(&mut a, 1, 0, 7);
    let mut b = disc();
    fail(&mut b, 0, 0, 7);
    // A die binned 9 that passed (its PRR said so) is not a failure.
    let r = (0..b.dies.len()).find(|&r| b.dies.x[r] == 2).unwrap();
    b.dies.hard_bin[r] = 9;
    assert_eq!(fail_pareto(&[&a.dies, &b.dies]), [(7, 2), (9, 1)]);
    assert_eq!(
        fail_pareto(&[&a.dies]),
        [(7, 1), (9, 1)],
        "ties by bin number"
    );
    assert!(fail_pareto(&[]).is_empty());
}
