//! What the classifier tells a person about one wafer: a label, "uncertain: A or B", or no label
//! at all where no pattern can exist. One rule for the page, the CLI and the edge.

use features::{FeatureGrid, OFF_WAFER, SIZE};

use crate::{CLASSES, Prediction};

/// Fewer dies than this and no label is given. The generator's smallest wafers are 24 dies
/// across (about 300 dies); below 200 a pattern is a handful of dies (a Loc cluster or a scratch
/// would be two or three), and the network has never seen such a map: a 2-die engineering
/// wafer came out "Near-full 99.6%" and a 16-die one "Scratch 61%".
pub const MIN_DIES: usize = 200;

/// The top two calibrated probabilities closer than this: "uncertain: A or B". At 0.25 a label
/// shown alone is at least 25 points ahead of the next class (say 60% against 35%).
pub const UNCERTAIN_MARGIN: f32 = 0.25;

/// The shape rule, part one: a wafer's dies lie inside the ellipse inscribed in their box; a
/// rectangle of dies (a strip, a partial map) puts a fifth of them in the corners.
pub const MIN_INSIDE: f32 = 0.9;
/// Part two: they fill most of that ellipse's core (flats, notches and edge exclusion leave
/// gaps only near the edge); a ring of dies with a hollow middle does not.
pub const MIN_FILLED: f32 = 0.7;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Call {
    /// The top class, clear of the next by [`UNCERTAIN_MARGIN`] or more.
    Label { class: usize, probability: f32 },
    /// The top two, closer than [`UNCERTAIN_MARGIN`].
    Uncertain {
        first: usize,
        p_first: f32,
        second: usize,
        p_second: f32,
    },
    /// Fewer than [`MIN_DIES`] dies.
    TooFewDies { dies: usize },
    /// The dies do not make a wafer's outline.
    NotWaferShaped,
}

impl Call {
    /// The call on prediction `p` of the wafer whose grid is `grid` and which has `dies` dies
    /// (`None` where only the grid is known, as for a grid posted to the edge: then only the
    /// shape rule can abstain).
    pub fn new(p: &Prediction, dies: Option<usize>, grid: &FeatureGrid) -> Call {
        if let Some(dies) = dies.filter(|&d| d < MIN_DIES) {
            return Call::TooFewDies { dies };
        }
        Call::of_shape(p, dies, wafer_shaped(grid))
    }

    /// [`Call::new`] with [`wafer_shaped`] of the grid already known: the page keeps it per
    /// wafer, since the test walks the grid's 4,096 cells and a lot's gallery makes every
    /// wafer's call again as each label arrives (11 ms of a 25-wafer lot's label task in a
    /// CPU profile, 2026-12-07).
    pub fn of_shape(p: &Prediction, dies: Option<usize>, shaped: bool) -> Call {
        if let Some(dies) = dies.filter(|&d| d < MIN_DIES) {
            return Call::TooFewDies { dies };
        }
        if !shaped {
            return Call::NotWaferShaped;
        }
        let [first, second, ..] = p.ranked();
        let (p_first, p_second) = (p.probabilities[first], p.probabilities[second]);
        if p_first - p_second < UNCERTAIN_MARGIN {
            Call::Uncertain {
                first,
                p_first,
                second,
                p_second,
            }
        } else {
            Call::Label {
                class: first,
                probability: p_first,
            }
        }
    }

    /// The label shown, if any: the top class, also when uncertain.
    pub fn label(&self) -> Option<&'static str> {
        match *self {
            Call::Label { class, .. } | Call::Uncertain { first: class, .. } => {
                Some(CLASSES[class])
            }
            _ => None,
        }
    }

    /// `label`, `uncertain`, `too_few_dies` or `not_wafer_shaped`.
    pub fn kind(&self) -> &'static str {
        match self {
            Call::Label { .. } => "label",
            Call::Uncertain { .. } => "uncertain",
            Call::TooFewDies { .. } => "too_few_dies",
            Call::NotWaferShaped => "not_wafer_shaped",
        }
    }

    /// In words, as the page and the CLI show it.
    pub fn text(&self) -> String {
        let pct = |p: f32| format!("{:.1}%", p * 100.0);
        match *self {
            Call::Label { class, probability } => {
                format!("{} {}", CLASSES[class], pct(probability))
            }
            Call::Uncertain {
                first,
                p_first,
                second,
                p_second,
            } => format!(
                "uncertain: {} {} or {} {}",
                CLASSES[first],
                pct(p_first),
                CLASSES[second],
                pct(p_second)
            ),
            Call::TooFewDies { dies } => {
                format!("too few dies to classify ({dies}; a pattern needs at least {MIN_DIES})")
            }
            Call::NotWaferShaped => "not wafer-shaped: no pattern to classify".to_string(),
        }
    }

    /// The wire form (`confidence` in the CLI's and the edge's JSON).
    pub fn confidence(&self) -> api::Confidence {
        let (probability, alternative, alternative_probability) = match *self {
            Call::Label { probability, .. } => (Some(probability), None, None),
            Call::Uncertain {
                p_first,
                second,
                p_second,
                ..
            } => (
                Some(p_first),
                Some(CLASSES[second].to_string()),
                Some(p_second),
            ),
            _ => (None, None, None),
        };
        api::Confidence {
            call: self.kind().to_string(),
            text: self.text(),
            label: self.label().map(String::from),
            probability,
            alternative,
            alternative_probability,
        }
    }
}

/// Whether the grid's dies make a wafer's outline: at least [`MIN_INSIDE`] of the on-wafer
/// cells inside the ellipse inscribed in their box (grown by a cell), and at least
/// [`MIN_FILLED`] of the cells well inside that ellipse on the wafer.
pub fn wafer_shaped(grid: &FeatureGrid) -> bool {
    let Some(o) = grid.outline() else {
        return false;
    };
    let ((cr, cc), (hr, hc)) = (o.centre, o.half);
    let (mut on, mut inside, mut core, mut core_on) = (0u32, 0u32, 0u32, 0u32);
    for r in o.rows.clone() {
        for c in o.cols.clone() {
            let is_on = grid.cells[r * SIZE + c] != OFF_WAFER;
            let (dy, dx) = ((r as f32 + 0.5 - cr).abs(), (c as f32 + 0.5 - cc).abs());
            // Grown by one cell: the outline's staircase pokes out of the exact ellipse.
            let out = (dy / (hr + 1.0)).powi(2) + (dx / (hc + 1.0)).powi(2);
            let rho = ((dy / hr).powi(2) + (dx / hc).powi(2)).sqrt();
            on += is_on as u32;
            inside += (is_on && out <= 1.0) as u32;
            if rho <= 0.85 {
                core += 1;
                core_on += is_on as u32;
            }
        }
    }
    inside as f32 >= MIN_INSIDE * on as f32 && core_on as f32 >= MIN_FILLED * core as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use features::Die;

    fn disc(n: usize) -> FeatureGrid {
        let h = n as f32 / 2.0;
        FeatureGrid::from_fn(n, n, |r, c| {
            let (y, x) = (r as f32 + 0.5 - h, c as f32 + 0.5 - h);
            if x * x + y * y <= h * h {
                Die::Pass
            } else {
                Die::None
            }
        })
        .unwrap()
    }

    fn p(top: [(usize, f32); 2]) -> Prediction {
        let rest = (1.0 - top[0].1 - top[1].1) / (crate::NUM_CLASSES - 2) as f32;
        let mut probabilities = [rest; crate::NUM_CLASSES];
        for (c, v) in top {
            probabilities[c] = v;
        }
        Prediction { probabilities }
    }

    #[test]
    fn discs_are_wafers_and_rectangles_and_strips_are_not() {
        for n in [20, 40, 64, 120] {
            assert!(wafer_shaped(&disc(n)), "disc {n}");
        }
        let rect = FeatureGrid::from_fn(30, 40, |_, _| Die::Pass).unwrap();
        assert!(!wafer_shaped(&rect));
        let two = FeatureGrid::from_fn(1, 2, |_, _| Die::Pass).unwrap();
        assert!(!wafer_shaped(&two));
        // A ring of dies with a hollow middle is not a wafer either.
        let ring = FeatureGrid::from_fn(40, 40, |r, c| {
            let (y, x) = (r as f32 - 19.5, c as f32 - 19.5);
            let d = (x * x + y * y).sqrt();
            if (15.0..=20.0).contains(&d) {
                Die::Pass
            } else {
                Die::None
            }
        })
        .unwrap();
        assert!(!wafer_shaped(&ring));
    }

    #[test]
    fn calls_label_uncertain_and_abstain() {
        let g = disc(40);
        let clear = Call::new(&p([(3, 0.8), (2, 0.1)]), Some(1200), &g);
        assert_eq!(
            clear,
            Call::Label {
                class: 3,
                probability: 0.8
            }
        );
        assert_eq!(clear.text(), "Edge-Ring 80.0%");
        let close = Call::new(&p([(2, 0.5), (3, 0.4)]), Some(1200), &g);
        assert_eq!(close.kind(), "uncertain");
        assert_eq!(close.text(), "uncertain: Edge-Loc 50.0% or Edge-Ring 40.0%");
        assert_eq!(close.label(), Some("Edge-Loc"));
        let c = close.confidence();
        assert_eq!(c.alternative.as_deref(), Some("Edge-Ring"));
        assert_eq!(c.alternative_probability, Some(0.4));
        let few = Call::new(&p([(5, 0.99), (0, 0.0)]), Some(16), &g);
        assert_eq!(few, Call::TooFewDies { dies: 16 });
        assert_eq!(few.label(), None);
        assert!(few.text().starts_with("too few dies to classify (16;"));
        assert_eq!(few.confidence().probability, None);
        // Without a die count only the shape can abstain.
        assert_eq!(Call::new(&p([(3, 0.8), (2, 0.1)]), None, &g), clear);
        let strip = FeatureGrid::from_fn(20, 60, |_, _| Die::Pass).unwrap();
        assert_eq!(
            Call::new(&p([(3, 0.8), (2, 0.1)]), None, &strip),
            Call::NotWaferShaped
        );
    }

    #[test]
    fn a_known_shape_gives_the_same_call() {
        let strip = FeatureGrid::from_fn(20, 60, |_, _| Die::Pass).unwrap();
        for g in [disc(40), strip] {
            for pr in [p([(3, 0.8), (2, 0.1)]), p([(2, 0.5), (3, 0.4)])] {
                for dies in [None, Some(16), Some(1200)] {
                    let known = Call::of_shape(&pr, dies, wafer_shaped(&g));
                    assert_eq!(known, Call::new(&pr, dies, &g));
                }
            }
        }
    }
}
