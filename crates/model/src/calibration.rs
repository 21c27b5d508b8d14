//! Calibrated confidence: the temperature that makes the softmax's top probability mean what it
//! says (Guo et al., "On Calibration of Modern Neural Networks", 2017), fitted on synthetic
//! validation maps by the training binary, and the reliability figures `eval-wm811k` reports on
//! real ones.

use crate::NUM_CLASSES;

/// Softmax of `logits / t`.
pub fn softmax(logits: &[f32; NUM_CLASSES], t: f32) -> [f32; NUM_CLASSES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut p = logits.map(|z| ((z - max) / t).exp());
    let sum: f32 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= sum);
    p
}

/// Mean negative log-likelihood of the true classes at temperature `t`.
pub fn nll(logits: &[[f32; NUM_CLASSES]], truth: &[usize], t: f32) -> f64 {
    let sum: f64 = logits
        .iter()
        .zip(truth)
        .map(|(z, &c)| {
            let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = z
                .iter()
                .map(|&v| ((v as f64 - max) / t as f64).exp())
                .sum::<f64>()
                .ln();
            lse - (z[c] as f64 - max) / t as f64
        })
        .sum();
    sum / logits.len().max(1) as f64
}

/// The temperature in [0.05, 20] that minimises [`nll`]: a golden-section search on log t (the
/// NLL is convex in 1/t, so unimodal here).
pub fn fit_temperature(logits: &[[f32; NUM_CLASSES]], truth: &[usize]) -> f32 {
    let f = |lt: f64| nll(logits, truth, lt.exp() as f32);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (0.05f64.ln(), 20f64.ln());
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - g * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// One confidence bin of a reliability diagram.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Bin {
    /// The bin covers top probabilities in [lo, hi).
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    /// Mean top probability and the share right, of the maps in the bin (0 when empty).
    pub confidence: f64,
    pub accuracy: f64,
}

/// Reliability of the top probability: equal-width bins and the expected calibration error
/// (the bins' |accuracy - confidence| weighted by their share of the maps).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Reliability {
    pub bins: Vec<Bin>,
    pub ece: f64,
}

impl Reliability {
    /// From each map's top probability and whether its label was right, in `n` bins.
    pub fn new(confidence: &[f32], right: &[bool], n: usize) -> Reliability {
        let mut bins: Vec<Bin> = (0..n)
            .map(|i| Bin {
                lo: i as f64 / n as f64,
                hi: (i + 1) as f64 / n as f64,
                count: 0,
                confidence: 0.0,
                accuracy: 0.0,
            })
            .collect();
        for (&p, &ok) in confidence.iter().zip(right) {
            let b = &mut bins[((p as f64 * n as f64) as usize).min(n - 1)];
            b.count += 1;
            b.confidence += p as f64;
            b.accuracy += ok as u8 as f64;
        }
        let total = confidence.len().max(1) as f64;
        let mut ece = 0.0;
        for b in bins.iter_mut().filter(|b| b.count > 0) {
            b.confidence /= b.count as f64;
            b.accuracy /= b.count as f64;
            ece += b.count as f64 / total * (b.accuracy - b.confidence).abs();
        }
        Reliability { bins, ece }
    }

    /// The reliability diagram as a self-contained SVG: per bin, the share right (bar) against
    /// the mean confidence (tick), the diagonal of perfect calibration, and each bin's count.
    pub fn svg(&self, title: &str) -> String {
        use std::fmt::Write;
        let (w, h, m) = (420.0, 420.0, 50.0);
        let (pw, ph) = (w - 2.0 * m, h - 2.0 * m);
        let x = |v: f64| m + v * pw;
        let y = |v: f64| h - m - v * ph;
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
            w / 2.0,
            escape(title)
        );
        for b in self.bins.iter().filter(|b| b.count > 0) {
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a7bd0\" \
                 stroke=\"white\"><title>{:.1}-{:.1}: {} maps, {:.1}% right at {:.1}% mean \
                 confidence</title></rect>",
                x(b.lo),
                y(b.accuracy),
                x(b.hi) - x(b.lo),
                y(0.0) - y(b.accuracy),
                b.lo,
                b.hi,
                b.count,
                b.accuracy * 100.0,
                b.confidence * 100.0
            );
            let _ = writeln!(
                s,
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d04a4a\" \
                 stroke-width=\"2\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
                 font-size=\"9\">{}</text>",
                x(b.lo),
                x(b.hi),
                y(b.confidence),
                y(b.confidence),
                (x(b.lo) + x(b.hi)) / 2.0,
                y(b.accuracy.max(b.confidence)) - 4.0,
                b.count
            );
        }
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n\
             <rect x=\"{m}\" y=\"{m}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"black\"/>",
            x(0.0),
            y(0.0),
            x(1.0),
            y(1.0)
        );
        for i in 0..=5 {
            let v = i as f64 / 5.0;
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v:.1}</text>\n\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>",
                x(v),
                h - m + 15.0,
                m - 6.0,
                y(v) + 4.0
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">top probability (red: mean per bin; \
             number: maps)</text>\n<text x=\"14\" y=\"{}\" text-anchor=\"middle\" \
             transform=\"rotate(-90 14 {})\">share right (blue)</text>\n\
             <text x=\"{}\" y=\"{}\">ECE {:.3}</text>\n</svg>",
            w / 2.0,
            h - 15.0,
            h / 2.0,
            h / 2.0,
            m + 8.0,
            m + 16.0,
            self.ece
        );
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_temperature_recovers_the_one_the_labels_were_drawn_at() {
        // Labels drawn from softmax(z / 2.5): the NLL is smallest at t = 2.5.
        let mut rng = wafer::demo::Rng::new(11);
        let (mut logits, mut truth) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let z: [f32; NUM_CLASSES] = std::array::from_fn(|_| rng.normal() * 6.0);
            let p = softmax(&z, 2.5);
            let (mut u, mut c) = (rng.f32(), 0);
            while c < NUM_CLASSES - 1 && u >= p[c] {
                u -= p[c];
                c += 1;
            }
            logits.push(z);
            truth.push(c);
        }
        let t = fit_temperature(&logits, &truth);
        assert!((t - 2.5).abs() < 0.1, "fitted {t}");
        assert!(nll(&logits, &truth, t) <= nll(&logits, &truth, 1.0));
    }

    #[test]
    fn softmax_at_a_temperature() {
        let mut z = [0.0; NUM_CLASSES];
        z[0] = 2.0f32.ln();
        let p = softmax(&z, 1.0);
        assert!((p[0] - 2.0 / 10.0).abs() < 1e-6);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // A high temperature flattens towards uniform.
        assert!(softmax(&z, 100.0)[0] < 0.12);
    }

    #[test]
    fn reliability_bins_and_ece() {
        // Two maps at 0.95 (one right), two at 0.55 (both right).
        let r = Reliability::new(&[0.95, 0.95, 0.55, 0.55], &[true, false, true, true], 10);
        assert_eq!(r.bins[9].count, 2);
        assert!((r.bins[9].accuracy - 0.5).abs() < 1e-12);
        assert!((r.bins[5].confidence - 0.55).abs() < 1e-6);
        // 0.5 * |0.5 - 0.95| + 0.5 * |1 - 0.55| = 0.45.
        assert!((r.ece - 0.45).abs() < 1e-6, "{}", r.ece);
        let svg = r.svg("a <test>");
        assert!(
            svg.starts_with("<svg") && svg.contains("ECE 0.450") && svg.contains("&lt;test&gt;")
        );
    }
}
