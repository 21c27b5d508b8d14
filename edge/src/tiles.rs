//! How deep a wafer's tile pyramid goes.
//!
//! The route accepts zoom up to [`paint::geometry::MAX_TILE_ZOOM`] for any wafer; past the
//! level where one die fills a tile, every deeper tile is a flat colour and only costs a render
//! and a cache entry. So each wafer's pyramid stops at the first level where its smallest die
//! side spans at least a whole tile, and deeper requests are 400.

use paint::geometry::{MAX_TILE_ZOOM, MapGeometry};

use crate::error::ApiError;
use crate::route::TileId;

/// The deepest useful zoom for a pyramid of side `side` world units over dies whose smaller
/// side is `die_min` world units: the first `z` with `side / 2^z <= die_min`.
pub fn max_zoom(side: f32, die_min: f32) -> u8 {
    if !(side.is_finite() && die_min.is_finite() && side > 0.0 && die_min > 0.0) {
        return MAX_TILE_ZOOM;
    }
    let mut z = 0u8;
    while z < MAX_TILE_ZOOM && side / (1u32 << z) as f32 > die_min {
        z += 1;
    }
    z
}

/// [`max_zoom`] of a wafer's geometry (die height is one world unit, width `die_w`).
pub fn max_zoom_of(g: &MapGeometry) -> u8 {
    let [x0, _, x1, _] = g.bounds();
    max_zoom(x1 - x0, g.die_w.min(1.0))
}

/// 400 for a tile deeper than the wafer needs.
pub fn check_zoom(t: TileId, max: u8) -> Result<(), ApiError> {
    if t.z > max {
        return Err(ApiError::bad_request(
            "zoom_too_deep",
            format!(
                "tile {}/{}/{}: this wafer's tiles go to zoom {max} (one die fills a tile \
                 there); deeper tiles would only repeat it",
                t.z, t.x, t.y
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pyramid_stops_where_a_die_fills_a_tile() {
        assert_eq!(max_zoom(1.0, 1.0), 0);
        assert_eq!(max_zoom(50.0, 1.0), 6); // 50 / 64 < 1
        assert_eq!(max_zoom(64.0, 1.0), 6);
        assert_eq!(max_zoom(65.0, 1.0), 7);
        assert_eq!(max_zoom(50.0, 0.5), 7);
        assert_eq!(max_zoom(1e9, 1e-9), MAX_TILE_ZOOM);
        assert_eq!(max_zoom(f32::NAN, 1.0), MAX_TILE_ZOOM);
        assert_eq!(max_zoom(10.0, 0.0), MAX_TILE_ZOOM);
    }

    #[test]
    fn deeper_tiles_are_400() {
        let t = TileId { z: 7, x: 0, y: 0 };
        assert_eq!(check_zoom(t, 7), Ok(()));
        let e = check_zoom(t, 6).unwrap_err();
        assert_eq!((e.status, e.error), (400, "zoom_too_deep"));
    }

    #[test]
    fn a_real_wafer_stops_well_before_zoom_20() {
        let f = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
        let z = max_zoom_of(&MapGeometry::new(&f.wafers[0]));
        assert!((3..=10).contains(&z), "{z}");
    }
}
