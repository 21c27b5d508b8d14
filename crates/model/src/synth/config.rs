//! The generator's settings: what `train --synth` overrides and the manifest records.

/// The generator's knobs that most change what it teaches; the defaults are the shipped ones.
/// `train --synth key=value,...` overrides them, and the manifest records them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// Share of Edge-Ring maps whose ring goes all the way round.
    pub ring_full: f32,
    /// A partial Edge-Ring covers at least this fraction of the circumference.
    pub ring_min_cover: f32,
    /// An Edge-Loc arc covers at most this fraction of the circumference.
    pub edge_loc_max_cover: f32,
    /// Loc clusters are centred at most this far out (wafer radius 1).
    pub loc_max_radius: f32,
    /// Multiplier of every map's background fail rate.
    pub background: f32,
    /// Share of maps, of every class, whose outermost dies fail more than the rest (a faint,
    /// often partial band): real maps of all classes have it (`map-stats`: the outer band fails
    /// 11-26% on real Center, Loc, Scratch and Edge-Loc maps against 4-5% on the rest).
    #[serde(default)]
    pub edge_noise: f32,
    /// Share of maps whose background fails come partly in clumps and short streaks of 2-6
    /// dies, not only as lone dies: real backgrounds do (probe marks, particles), and a model
    /// that never saw them calls them Scratch or Loc. 0 in manifests written before it existed.
    #[serde(default)]
    pub clumps: f32,
    /// Share of patterned maps that also carry a faint second pattern of another class (a tenth
    /// to a third of its usual density): real maps mix a strong pattern with faint ones (a Loc
    /// with a few edge fails, a Center crossed by a light streak), and their label is the strong
    /// one. A model that never saw a faint streak beside a pattern reads one as Scratch.
    /// 0 in manifests written before it existed.
    #[serde(default)]
    pub mixed: f32,
    /// Redraw a patterned map until its pattern's expected extra fails are at least this many
    /// standard deviations of the background's (`synth::visible`): a label the dies do not
    /// show teaches the network to see patterns in noise. 0 (off) in manifests written before
    /// it existed.
    #[serde(default)]
    pub min_snr: f32,
}

impl Default for Config {
    fn default() -> Self {
        // The settings the shipped weights were trained with, set so that the generator's
        // per-class statistics cover the real maps' (`map-stats`; README, "Classifier"): real
        // Edge-Rings are thinner (median outer-band span 58% against 92% before) and real
        // Edge-Loc arcs longer (21% against 12%).
        Config {
            ring_full: 0.65,
            ring_min_cover: 0.5,
            edge_loc_max_cover: 0.55,
            loc_max_radius: 0.8,
            background: 1.0,
            edge_noise: 0.6,
            clumps: 0.0,
            mixed: 0.0,
            min_snr: 0.0,
        }
    }
}

impl Config {
    /// Apply `key=value,...` overrides.
    pub fn parse_overrides(&mut self, s: &str) -> Result<(), String> {
        for kv in s.split(',').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or(format!("{kv}: want key=value"))?;
            let v: f32 = v.parse().map_err(|e| format!("{kv}: {e}"))?;
            match k {
                "ring_full" => self.ring_full = v,
                "ring_min_cover" => self.ring_min_cover = v,
                "edge_loc_max_cover" => self.edge_loc_max_cover = v,
                "loc_max_radius" => self.loc_max_radius = v,
                "background" => self.background = v,
                "edge_noise" => self.edge_noise = v,
                "clumps" => self.clumps = v,
                "mixed" => self.mixed = v,
                "min_snr" => self.min_snr = v,
                _ => return Err(format!("unknown generator setting {k}")),
            }
        }
        Ok(())
    }
}
