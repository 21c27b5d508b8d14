use super::*;
use scene::clump_mask;

#[test]
fn maps_are_deterministic_and_balanced() {
    let a = dataset(7, 90);
    let b = dataset(7, 90);
    assert!(a.iter().zip(&b).all(|(x, y)| x.dies == y.dies));
    for c in 0..crate::NUM_CLASSES {
        assert_eq!(a.iter().filter(|m| m.class == c).count(), 10);
    }
    assert_ne!(dataset(8, 9)[0].dies, a[0].dies);
}

#[test]
fn clumps_are_off_by_default_and_cover_a_share_of_the_background() {
    // Off: the maps of the shipped settings are unchanged (no extra draws).
    let on = Config {
        clumps: 1.0,
        ..Config::default()
    };
    let none = crate::class_index("none").unwrap();
    let mut rng = Rng::new(5);
    let plain = map(none, &mut rng, &Config::default());
    assert_eq!(
        plain.dies,
        map(none, &mut Rng::new(5), &Config::default()).dies
    );
    assert_ne!(plain.dies, map(none, &mut Rng::new(5), &on).dies);
    // Enough segments to hold about a third as many dies as a 10% background fails.
    let mask = clump_mask(&mut Rng::new(9), 60, 60, 0.1);
    let covered = mask.iter().filter(|&&m| m).count() as f32 / mask.len() as f32;
    assert!((0.02..0.12).contains(&covered), "{covered}");
}

#[test]
fn patterns_have_the_fail_density_their_class_implies() {
    let maps = dataset(3, 9 * 40);
    let mean = |class: &str| {
        let c = crate::class_index(class).unwrap();
        let fr: Vec<f32> = maps
            .iter()
            .filter(|m| m.class == c)
            .map(|m| m.grid().fail_fraction())
            .collect();
        fr.iter().sum::<f32>() / fr.len() as f32
    };
    assert!(mean("Near-full") > 0.7);
    assert!(mean("Random") > 0.2);
    assert!(mean("none") < 0.1);
    assert!(mean("Center") > mean("none"));
    assert!(mean("Edge-Ring") > mean("none"));
}

#[test]
fn a_faint_second_pattern_is_off_by_default_and_only_on_located_patterns() {
    let on = Config {
        mixed: 1.0,
        ..Config::default()
    };
    let center = crate::class_index("Center").unwrap();
    let random = crate::class_index("Random").unwrap();
    let fails = |m: &Map| m.dies.iter().filter(|&&d| d == 2).count();
    // Off: the shipped settings draw nothing more, so their maps are unchanged.
    let plain = map(center, &mut Rng::new(11), &Config::default());
    assert_eq!(
        plain.dies,
        map(center, &mut Rng::new(11), &Config::default()).dies
    );
    // On: a Center map keeps its class and gains fails on the whole (its extra draws shift the
    // per-die ones, so compare totals over many wafers, not dies); a Random map, whose pattern is
    // the whole wafer, gets no second one.
    let (mut mixed, mut alone) = (0, 0);
    for seed in 0..60 {
        let m = map(center, &mut Rng::new(seed), &on);
        assert_eq!(m.class, center);
        mixed += fails(&m);
        alone += fails(&map(center, &mut Rng::new(seed), &Config::default()));
        assert_eq!(
            map(random, &mut Rng::new(seed), &on).dies,
            map(random, &mut Rng::new(seed), &Config::default()).dies
        );
    }
    assert!(
        mixed > alone,
        "{mixed} fails with a second pattern, {alone} without"
    );
}

#[test]
fn the_visibility_check_is_off_by_default_and_redraws_exactly_the_faint_patterns() {
    let loc = crate::class_index("Loc").unwrap();
    let none = crate::class_index("none").unwrap();
    let on = Config {
        min_snr: 6.0,
        ..Config::default()
    };
    let mut faint = 0;
    for seed in 0..120 {
        let (m, snr) = map_and_snr(loc, &mut Rng::new(seed), &Config::default());
        // Off: the shipped settings draw the same map and nothing more.
        assert_eq!(
            m.dies,
            map(loc, &mut Rng::new(seed), &Config::default()).dies
        );
        // On: a visible first draw is kept as it is; a faint one is replaced.
        let checked = map(loc, &mut Rng::new(seed), &on);
        if snr >= on.min_snr {
            assert_eq!(checked.dies, m.dies, "seed {seed}: snr {snr}");
        } else {
            faint += 1;
            assert_ne!(checked.dies, m.dies, "seed {seed}: snr {snr}");
        }
    }
    // Some Loc draws are faint (sparse clusters on noisy wafers), most are not.
    assert!((1..40).contains(&faint), "{faint} of 120 faint");
    // A map with no pattern is always what it says.
    assert!(map_and_snr(none, &mut Rng::new(1), &on).1.is_infinite());
}

#[test]
fn snr_is_the_extra_fails_over_the_background_s_scatter() {
    // A 40x40 wafer, 10% background, no band or clumps; the field raises every die to `p`.
    let scene = |p: f32, background: f32| Scene {
        class: crate::class_index("Random").unwrap(),
        rows: 40,
        cols: 40,
        exclusion: 0.0,
        flat: (0.0, 1.0, 0.0),
        background,
        edge_band: [0.0; 5],
        clumped: Vec::new(),
        field: Field::Uniform(p),
        faint: None,
    };
    let mut n = 0;
    scene(0.5, 0.1).for_each_die(|_, _, _| n += 1);
    let n = n as f32;
    // Extra fails 0.4 n, background scatter sqrt(0.1 * 0.9 * n).
    let want = 0.4 * n / (0.09 * n).sqrt();
    let got = visible::snr(&scene(0.5, 0.1));
    assert!((got - want).abs() < 1e-3 * want, "{got} vs {want}");
    // A field that barely lifts the background is not a pattern at all.
    assert_eq!(visible::snr(&scene(0.13, 0.1)), 0.0);
    // On a clean wafer it is the count of extra fails.
    assert!((visible::snr(&scene(0.5, 0.0)) - 0.5 * n).abs() < 1e-2);
}
