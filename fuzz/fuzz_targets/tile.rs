//! Map tiles for any (z, x, y, layer) of a real-sized wafer: a PNG or a typed error.
#![no_main]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn demo() -> &'static wafer::TestFile {
    static F: OnceLock<wafer::TestFile> = OnceLock::new();
    F.get_or_init(|| wafer::read_from(&wafer::demo::demo_files()[0].bytes[..]).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Some((head, layer)) = data.split_first_chunk::<9>() else {
        return;
    };
    let z = head[0];
    let x = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    let y = u32::from_le_bytes([head[5], head[6], head[7], head[8]]);
    let file = demo();
    let Ok(layer) = paint::Layer::parse(&String::from_utf8_lossy(layer), file) else {
        return;
    };
    let w = &file.wafers[0];
    let g = paint::MapGeometry::new(w);
    let colors = paint::Coloring::new(file, &w.dies, layer, &BTreeSet::new());
    if let Ok(canvas) = paint::raster::tile(&g, &w.dies, &colors, z, x, y, 64) {
        assert!(!canvas.encode_png().is_empty());
    }
});
