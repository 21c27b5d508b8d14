//! Whether a drawn pattern can be seen at all ([`Config::min_snr`](super::Config::min_snr)).
//!
//! The generator draws pattern density, size and background independently, so some maps carry
//! a label their dies do not show: a sparse Loc on a 20% background, a short one-die scratch on
//! a 150-die wafer. Trained on them, the network learns that a map that looks like noise may be
//! Scratch or Loc, and reads real maps' chance streaks that way. The score is the pattern's
//! expected fails beyond the background, in units of the background's own scatter over the same
//! dies. It knows where the pattern is, which a person scanning the map does not, so it is a
//! lenient bound on what can be seen.

use super::Scene;

/// A die counts as in the pattern when the pattern raises its fail probability by more than
/// this: the soft rims of blobs and rings add little but dilute the ratio.
const IN_PATTERN: f32 = 0.05;

/// Signal-to-noise of the scene's pattern: the expected extra fails the pattern puts on the
/// dies it raises, over the standard deviation of the fails the background alone would put on
/// them (at least 1, so that on a clean wafer it is the count of extra fails). Infinite for a
/// map with no pattern ("none"), which is always what it says.
pub(super) fn snr(scene: &Scene) -> f32 {
    if matches!(scene.field, super::Field::None) {
        return f32::INFINITY;
    }
    let (mut excess, mut var) = (0.0f32, 0.0f32);
    scene.for_each_die(|_, at, base| {
        // Gap-free (gap draw 1.0): the gaps are per-die draws, not yet made.
        let base = scene
            .faint
            .as_ref()
            .map_or(base, |(g, k)| base.max(k * g.p(at, 1.0)));
        let extra = scene.field.p(at, 1.0) - base;
        if extra > IN_PATTERN {
            excess += extra;
            var += base * (1.0 - base);
        }
    });
    excess / var.sqrt().max(1.0)
}
