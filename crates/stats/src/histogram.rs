//! A test's histogram, counted: equal-width bars over the values and the limits. Drawn by
//! `charts`; counted here, so the page's parsing worker counts them and the page only draws.

use serde::{Deserialize, Serialize};

/// Bars of a histogram: `[lo, hi)` (the last one closed) and how many values fall in it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
}

impl Bar {
    pub fn holds(&self, v: f64, last: bool) -> bool {
        v >= self.lo && (v < self.hi || (last && v <= self.hi))
    }
}

/// Equal-width bars over the finite values and the limits (so both limits show), about
/// `sqrt(n)` of them (5 to 40). None without a finite value.
pub fn bins(values: &[f64], low: Option<f64>, high: Option<f64>) -> Option<Vec<Bar>> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for v in finite {
        lo = lo.min(v);
        hi = hi.max(v);
        n += 1;
    }
    if n == 0 {
        return None;
    }
    for l in [low, high].into_iter().flatten().filter(|l| l.is_finite()) {
        lo = lo.min(l);
        hi = hi.max(l);
    }
    if hi <= lo {
        // One value: a bar one unit (or a tenth of it) wide around it.
        let pad = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
        (lo, hi) = (lo - pad, hi + pad);
    }
    let k = ((n as f64).sqrt().ceil() as usize).clamp(5, 40);
    let w = (hi - lo) / k as f64;
    let mut bars: Vec<Bar> = (0..k)
        .map(|i| Bar {
            lo: lo + w * i as f64,
            hi: if i + 1 == k {
                hi
            } else {
                lo + w * (i + 1) as f64
            },
            count: 0,
        })
        .collect();
    for v in values.iter().copied().filter(|v| v.is_finite()) {
        // The index by division, then nudged so that a bar counts exactly what `holds` says.
        let mut i = (((v - lo) / w) as usize).min(k - 1);
        while i > 0 && v < bars[i].lo {
            i -= 1;
        }
        while i + 1 < k && v >= bars[i].hi {
            i += 1;
        }
        bars[i].count += 1;
    }
    Some(bars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_the_values_and_the_limits_and_count_every_finite_value() {
        let v = [1.0, 2.0, 2.5, 3.0, f64::NAN, f64::INFINITY];
        let b = bins(&v, Some(0.0), Some(4.0)).unwrap();
        assert_eq!(b.len(), 5, "at least 5 bars");
        assert_eq!((b[0].lo, b[4].hi), (0.0, 4.0), "the limits show");
        assert_eq!(b.iter().map(|b| b.count).sum::<usize>(), 4);
        // 4.0 / 5 = 0.8 wide: 1.0 in [0.8, 1.6), 2.0 in [1.6, 2.4), 2.5 and 3.0 in [2.4, 3.2).
        assert_eq!(
            b.iter().map(|b| b.count).collect::<Vec<_>>(),
            [0, 1, 1, 2, 0]
        );
        assert!(b[4].holds(4.0, true) && !b[3].holds(3.2, false));
        assert_eq!(bins(&[f64::NAN], None, None), None);
        let one = bins(&[5.0], None, None).unwrap();
        assert!(one[0].lo < 5.0 && one[one.len() - 1].hi > 5.0);
    }
}
