//! Values that travel in a form of their own: layers as names, colours and keys as floats.

/// A layer on the wire: `hbin`, `sbin`, or `test#I` for the catalogue's test I (an index, not
/// the test's number: both sides hold the same catalogue).
pub(super) fn layer_name(layer: paint::palette::Layer) -> String {
    use paint::palette::Layer;
    match layer {
        Layer::HardBin => "hbin".into(),
        Layer::SoftBin => "sbin".into(),
        Layer::Test(i) => format!("test#{i}"),
    }
}

pub(super) fn parse_layer(s: &str) -> Option<paint::palette::Layer> {
    use paint::palette::Layer;
    match s {
        "hbin" => Some(Layer::HardBin),
        "sbin" => Some(Layer::SoftBin),
        _ => s.strip_prefix("test#")?.parse().ok().map(Layer::Test),
    }
}

/// Colours on the wire: four floats each, every one a whole 0..=255.
pub(super) fn colours(v: Vec<f32>) -> Option<Vec<paint::Rgba>> {
    if !v.len().is_multiple_of(4) {
        return None;
    }
    let byte = |c: f32| (c.fract() == 0.0 && (0.0..=255.0).contains(&c)).then_some(c as u8);
    v.chunks_exact(4)
        .map(|c| Some([byte(c[0])?, byte(c[1])?, byte(c[2])?, byte(c[3])?]))
        .collect()
}

/// Colour keys on the wire: a float each, every one a whole 0..=65535.
pub(super) fn keys(v: Vec<f32>) -> Option<Vec<u16>> {
    v.into_iter()
        .map(|k| (k.fract() == 0.0 && (0.0..=65535.0).contains(&k)).then_some(k as u16))
        .collect()
}
