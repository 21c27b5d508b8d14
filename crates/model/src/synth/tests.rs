use super::*;

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
