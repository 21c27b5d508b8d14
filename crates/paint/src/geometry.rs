//! Where dies go: die coordinates → world → pixels.
//!
//! World space has y growing down the screen and one unit per die height; a die is `die_w` wide
//! (the WCR aspect ratio). The WCR axis directions decide which way x and y run on screen, and
//! the flat is drawn on the side WF_FLAT names, so the map looks as the prober saw the wafer.
//! A [`View`] maps world to pixels (`pixel = world * scale + offset`); pan, zoom, fit and tiles
//! are all views.

use wafer::{AxisDirection, DieTable, FlatDirection, Wafer, WaferGeometry};

/// How far the flat's chord is from the centre, as a fraction of the radius.
pub const FLAT_DEPTH: f32 = 0.965;

/// Deepest tile zoom level accepted (2^20 tiles a side is far past one die per tile).
pub const MAX_TILE_ZOOM: u8 = 20;

/// A wafer's die grid placed in world space, with its outline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapGeometry {
    pub x_min: i16,
    pub x_max: i16,
    pub y_min: i16,
    pub y_max: i16,
    /// POS_X 'L': x grows to the left on screen.
    pub x_grows_left: bool,
    /// POS_Y 'U': y grows upwards on screen.
    pub y_grows_up: bool,
    /// Die width in world units (die height is 1).
    pub die_w: f32,
    /// Wafer centre in world units.
    pub center: [f32; 2],
    /// Wafer radius in world units (covers every die).
    pub radius: f32,
    /// Which side the flat is drawn on (unknown: the bottom).
    pub flat: FlatDirection,
}

impl MapGeometry {
    /// The geometry of a wafer's final dies.
    pub fn new(w: &Wafer) -> MapGeometry {
        Self::for_dies(&w.dies, &w.geometry, w.center())
    }

    /// Geometry for any die table (e.g. a stack of wafers) with the given WCR fields and centre
    /// in die coordinates.
    pub fn for_dies(dies: &DieTable, g: &WaferGeometry, center: (f32, f32)) -> MapGeometry {
        let ([x_min, x_max], [y_min, y_max]) = dies.ranges().unwrap_or(([0, 0], [0, 0]));
        let mut m = MapGeometry {
            x_min,
            x_max,
            y_min,
            y_max,
            x_grows_left: g.x_direction == AxisDirection::Negative,
            y_grows_up: g.y_direction == AxisDirection::Positive,
            die_w: g.die_aspect().clamp(0.05, 20.0),
            center: [0.0, 0.0],
            radius: 1.0,
            flat: match g.flat {
                FlatDirection::Unknown => FlatDirection::Down,
                f => f,
            },
        };
        let [cx, cy] = m.die_origin_f(center.0, center.1);
        m.center = [cx + m.die_w / 2.0, cy + 0.5];
        // The smallest circle about the centre that holds every die, plus a quarter die.
        let mut r2: f32 = 0.0;
        for (&x, &y) in dies.x.iter().zip(&dies.y) {
            let [x0, y0, x1, y1] = m.die_rect(x, y);
            let dx = (x0 - m.center[0]).abs().max((x1 - m.center[0]).abs());
            let dy = (y0 - m.center[1]).abs().max((y1 - m.center[1]).abs());
            r2 = r2.max(dx * dx + dy * dy);
        }
        m.radius = r2.sqrt().max(0.5) + 0.25;
        m
    }

    fn die_origin_f(&self, x: f32, y: f32) -> [f32; 2] {
        let col = if self.x_grows_left {
            self.x_max as f32 - x
        } else {
            x - self.x_min as f32
        };
        let row = if self.y_grows_up {
            self.y_max as f32 - y
        } else {
            y - self.y_min as f32
        };
        [col * self.die_w, row]
    }

    /// Columns and rows of the die grid (the die box, one cell per possible die).
    pub fn grid_size(&self) -> (u32, u32) {
        (
            (self.x_max as i32 - self.x_min as i32 + 1).max(1) as u32,
            (self.y_max as i32 - self.y_min as i32 + 1).max(1) as u32,
        )
    }

    /// The grid cell `(column, row)` of the die at (x, y), counted as the dies appear on screen
    /// (column 0 at the left, row 0 at the top), so cell `(c, r)` covers world
    /// `[c * die_w, (c + 1) * die_w) x [r, r + 1)`. None outside the die box.
    #[inline]
    pub fn cell(&self, x: i16, y: i16) -> Option<(u32, u32)> {
        let col = if self.x_grows_left {
            self.x_max as i32 - x as i32
        } else {
            x as i32 - self.x_min as i32
        };
        let row = if self.y_grows_up {
            self.y_max as i32 - y as i32
        } else {
            y as i32 - self.y_min as i32
        };
        let (cols, rows) = self.grid_size();
        (col >= 0 && row >= 0 && (col as u32) < cols && (row as u32) < rows)
            .then_some((col as u32, row as u32))
    }

    /// World rectangle `[x0, y0, x1, y1]` of the die at (x, y).
    #[inline]
    pub fn die_rect(&self, x: i16, y: i16) -> [f32; 4] {
        let [x0, y0] = self.die_origin_f(x as f32, y as f32);
        [x0, y0, x0 + self.die_w, y0 + 1.0]
    }

    /// The world point of fractional die coordinates, where die (x, y)'s centre is (x, y): how a
    /// lasso kept in die coordinates is drawn at any zoom.
    pub fn world_of(&self, p: [f32; 2]) -> [f32; 2] {
        let [x0, y0] = self.die_origin_f(p[0], p[1]);
        [x0 + 0.5 * self.die_w, y0 + 0.5]
    }

    /// Fractional die coordinates of a world point, the inverse of [`MapGeometry::world_of`]:
    /// where a lasso's points are kept, so the CLI counts the same dies (`stats --lasso`).
    pub fn die_point(&self, world: [f32; 2]) -> [f32; 2] {
        self.coords_of_cell(world[0] / self.die_w - 0.5, world[1] - 0.5)
    }

    /// Die coordinates of grid column `col` and row `row` (fractions allowed), whichever way
    /// the axes run.
    fn coords_of_cell(&self, col: f32, row: f32) -> [f32; 2] {
        let x = if self.x_grows_left {
            self.x_max as f32 - col
        } else {
            self.x_min as f32 + col
        };
        let y = if self.y_grows_up {
            self.y_max as f32 - row
        } else {
            self.y_min as f32 + row
        };
        [x, y]
    }

    /// The die coordinates under a world point (it may hold no die).
    pub fn die_at(&self, world: [f32; 2]) -> (i16, i16) {
        let [x, y] = self.coords_of_cell((world[0] / self.die_w).floor(), world[1].floor());
        (
            x.clamp(i16::MIN as f32, i16::MAX as f32) as i16,
            y.clamp(i16::MIN as f32, i16::MAX as f32) as i16,
        )
    }

    /// Unit vector from the centre towards the flat, in world space (y down).
    pub fn flat_dir(&self) -> [f32; 2] {
        match self.flat {
            FlatDirection::Up => [0.0, -1.0],
            FlatDirection::Left => [-1.0, 0.0],
            FlatDirection::Right => [1.0, 0.0],
            FlatDirection::Down | FlatDirection::Unknown => [0.0, 1.0],
        }
    }

    /// The square around the wafer circle, `[x0, y0, x1, y1]`: the extent of the tile pyramid.
    pub fn bounds(&self) -> [f32; 4] {
        let [cx, cy] = self.center;
        let r = self.radius;
        [cx - r, cy - r, cx + r, cy + r]
    }
}

/// World → pixels: `pixel = world * scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub scale: f32,
    pub offset: [f32; 2],
}

impl View {
    /// The whole wafer centred in a `width` x `height` pixel area, with a small margin.
    pub fn fit(g: &MapGeometry, width: u32, height: u32) -> View {
        let scale = width.min(height) as f32 * 0.96 / (2.0 * g.radius);
        View {
            scale,
            offset: [
                width as f32 / 2.0 - g.center[0] * scale,
                height as f32 / 2.0 - g.center[1] * scale,
            ],
        }
    }

    /// Tile `(x, y)` at zoom `z` of a square tile pyramid over [`MapGeometry::bounds`], drawn at
    /// `size` pixels a side. None for coordinates outside the pyramid.
    pub fn tile(g: &MapGeometry, z: u8, x: u32, y: u32, size: u32) -> Option<View> {
        let n = 1u32.checked_shl(z as u32).filter(|_| z <= MAX_TILE_ZOOM)?;
        if x >= n || y >= n || size == 0 {
            return None;
        }
        let [bx, by, bx1, _] = g.bounds();
        let side = (bx1 - bx) / n as f32;
        let scale = size as f32 / side;
        Some(View {
            scale,
            offset: [
                -(bx + x as f32 * side) * scale,
                -(by + y as f32 * side) * scale,
            ],
        })
    }

    #[inline]
    pub fn to_pixel(&self, w: [f32; 2]) -> [f32; 2] {
        [
            w[0] * self.scale + self.offset[0],
            w[1] * self.scale + self.offset[1],
        ]
    }

    #[inline]
    pub fn to_world(&self, p: [f32; 2]) -> [f32; 2] {
        [
            (p[0] - self.offset[0]) / self.scale,
            (p[1] - self.offset[1]) / self.scale,
        ]
    }

    /// Zoom by `factor` keeping the world point under `pixel` where it is.
    pub fn zoom_at(&self, pixel: [f32; 2], factor: f32) -> View {
        let w = self.to_world(pixel);
        let scale = (self.scale * factor).clamp(1e-3, 1e5);
        View {
            scale,
            offset: [pixel[0] - w[0] * scale, pixel[1] - w[1] * scale],
        }
    }

    /// Move by a pixel delta.
    pub fn pan(&self, dx: f32, dy: f32) -> View {
        View {
            scale: self.scale,
            offset: [self.offset[0] + dx, self.offset[1] + dy],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(coords: &[(i16, i16)]) -> DieTable {
        DieTable::at(coords.iter().copied())
    }

    #[test]
    fn axis_directions_decide_where_dies_go_on_screen() {
        let dies = table(&[(0, 0), (2, 1)]);
        let mut g = WaferGeometry {
            x_direction: AxisDirection::Positive,
            y_direction: AxisDirection::Positive, // y up
            ..WaferGeometry::default()
        };
        let m = MapGeometry::for_dies(&dies, &g, (1.0, 0.5));
        assert_eq!(
            m.die_rect(0, 0),
            [0.0, 1.0, 1.0, 2.0],
            "y=0 is the bottom row"
        );
        assert_eq!(m.die_rect(2, 1), [2.0, 0.0, 3.0, 1.0]);
        g.x_direction = AxisDirection::Negative;
        g.y_direction = AxisDirection::Negative;
        let m = MapGeometry::for_dies(&dies, &g, (1.0, 0.5));
        assert_eq!(
            m.die_rect(0, 0),
            [2.0, 0.0, 3.0, 1.0],
            "x grows left, y grows down"
        );
        assert_eq!(m.die_at([2.5, 0.5]), (0, 0));
        assert_eq!(m.die_at([0.5, 1.5]), (2, 1));
        // A die's centre is its coordinates as a point, and the two maps invert each other.
        assert_eq!(m.die_point([2.5, 0.5]), [0.0, 0.0]);
        assert_eq!(m.die_point([0.5, 1.5]), [2.0, 1.0]);
        assert_eq!(m.world_of([1.25, 0.5]), [1.25, 1.0]);
        assert_eq!(m.die_point(m.world_of([1.25, 0.5])), [1.25, 0.5]);
        // Grid cells follow the screen: the cell's rectangle is the die's.
        assert_eq!(m.grid_size(), (3, 2));
        for (x, y) in [(0, 0), (2, 1), (1, 0)] {
            let (c, r) = m.cell(x, y).unwrap();
            assert_eq!(m.die_rect(x, y)[..2], [c as f32 * m.die_w, r as f32]);
        }
        assert_eq!(m.cell(3, 0), None);
        assert_eq!(m.cell(0, -1), None);
    }

    #[test]
    fn the_radius_covers_every_die_and_fit_shows_it_all() {
        let dies = table(&[(-3, 0), (3, 0), (0, -3), (0, 3)]);
        let m = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (0.0, 0.0));
        assert!(m.radius >= (3.5f32 * 3.5 + 0.25).sqrt());
        let v = View::fit(&m, 200, 100);
        let [l, t, r, b] = m.bounds();
        let (p0, p1) = (v.to_pixel([l, t]), v.to_pixel([r, b]));
        assert!(p0[1] >= 0.0 && p1[1] <= 100.0 && p0[0] >= 50.0 && p1[0] <= 150.0);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor_and_tiles_cover_the_bounds() {
        let v = View {
            scale: 2.0,
            offset: [10.0, 20.0],
        };
        let z = v.zoom_at([50.0, 60.0], 3.0);
        let w = v.to_world([50.0, 60.0]);
        let p = z.to_pixel(w);
        assert!((p[0] - 50.0).abs() < 1e-4 && (p[1] - 60.0).abs() < 1e-4);

        let dies = table(&[(0, 0), (9, 9)]);
        let m = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (4.5, 4.5));
        let t = View::tile(&m, 1, 1, 1, 256).unwrap();
        let [_, _, x1, y1] = m.bounds();
        let p = t.to_pixel([x1, y1]);
        assert!((p[0] - 256.0).abs() < 1e-3 && (p[1] - 256.0).abs() < 1e-3);
        assert!(View::tile(&m, 1, 2, 0, 256).is_none());
        assert!(View::tile(&m, 40, 0, 0, 256).is_none());
    }
}
