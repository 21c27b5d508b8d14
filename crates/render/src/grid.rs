//! The die grid as the GPU stores it: which texel of the key texture holds each die's colour key.
//!
//! Pure CPU bookkeeping (no wgpu), made once per die table: the grid is cut into square tiles,
//! only tiles that hold a die are kept (as layers of a 2D array texture), so a grid wider than
//! the device's largest texture, or a sparse hostile one, fits in bounded memory.
//!
//! Not for: uploading or drawing (that is the renderer in `lib.rs`).

use std::fmt;

use paint::MapGeometry;
use wafer::DieTable;

/// Side of a key-texture tile, in grid cells, before it has to grow: small enough that a sparse
/// grid stores little, large enough that a dense 1M-die wafer needs only ~20 tiles.
const MIN_TILE: u32 = 256;

/// The most key-texture memory one map may take (2 bytes a cell). A dense 8,000 x 8,000 grid
/// fits; a grid that would need more (a hostile file with dies scattered over the whole i16
/// range) is refused with [`GridError`] and the caller draws it on the CPU.
pub const MAX_KEY_BYTES: u64 = 256 << 20;

/// A die grid the GPU cannot hold within the device's limits and [`MAX_KEY_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridError {
    pub columns: u32,
    pub rows: u32,
    /// Tiles that hold a die, at the largest tile side tried.
    pub tiles: u32,
    pub tile_side: u32,
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the die grid ({} x {} cells) is too large or too sparse for the GPU: {} tiles of \
             {} x {} cells hold dies, beyond this device's texture limits or {} MB",
            self.columns,
            self.rows,
            self.tiles,
            self.tile_side,
            self.tile_side,
            MAX_KEY_BYTES >> 20
        )
    }
}

impl std::error::Error for GridError {}

/// Where each die's key goes in the key texture: the grid cut into square tiles of `side` cells,
/// the tiles holding a die numbered as array layers.
///
/// Pure CPU bookkeeping, made once per die table (a new wafer), so a new layer only scatters
/// keys through `texel` and uploads them.
#[derive(Clone, Debug)]
pub struct Grid {
    pub geometry: MapGeometry,
    pub columns: u32,
    pub rows: u32,
    /// log2 of the tile side.
    pub(crate) shift: u32,
    /// Tiles across and down.
    pub(crate) tiles_x: u32,
    pub(crate) tiles_y: u32,
    /// Per tile (row-major): its layer + 1, or 0 when it holds no die.
    pub(crate) tile_layer: Vec<u16>,
    /// Per layer: its tile's index.
    layer_tile: Vec<u32>,
    /// Per die: its texel's index in the layer-major key array (`u32::MAX`: outside the grid).
    pub(crate) texel: Vec<u32>,
}

impl Grid {
    /// Lay out the dies of `dies` (placed by `g`) for a device whose 2D textures and array
    /// textures are at most `max_side` texels and `max_layers` layers.
    pub fn new(
        g: &MapGeometry,
        dies: &DieTable,
        max_side: u32,
        max_layers: u32,
    ) -> Result<Grid, GridError> {
        let (columns, rows) = g.grid_size();
        let cells: Vec<Option<(u32, u32)>> = (0..dies.len())
            .map(|i| g.cell(dies.x[i], dies.y[i]))
            .collect();
        let max_layers = max_layers.min(u16::MAX as u32 - 1);
        let mut shift = MIN_TILE.min(max_side.max(1)).ilog2();
        loop {
            let side = 1u32 << shift;
            let (tiles_x, tiles_y) = (columns.div_ceil(side), rows.div_ceil(side));
            let mut tile_layer = vec![0u16; tiles_x as usize * tiles_y as usize];
            let mut layer_tile = Vec::new();
            let mut fits = tiles_x <= max_side && tiles_y <= max_side;
            for &(c, r) in cells.iter().flatten() {
                if !fits {
                    break;
                }
                let t = ((r >> shift) * tiles_x + (c >> shift)) as usize;
                if tile_layer[t] == 0 {
                    layer_tile.push(t as u32);
                    let bytes = layer_tile.len() as u64 * (side as u64 * side as u64) * 2;
                    fits = layer_tile.len() as u32 <= max_layers && bytes <= MAX_KEY_BYTES;
                    tile_layer[t] = layer_tile.len() as u16;
                }
            }
            if fits {
                let texel = cells
                    .iter()
                    .map(|cell| match *cell {
                        Some((c, r)) => {
                            let t = ((r >> shift) * tiles_x + (c >> shift)) as usize;
                            let layer = tile_layer[t] as u32 - 1;
                            let local = ((r & (side - 1)) << shift) | (c & (side - 1));
                            (layer << (2 * shift)) | local
                        }
                        None => u32::MAX,
                    })
                    .collect();
                return Ok(Grid {
                    geometry: *g,
                    columns,
                    rows,
                    shift,
                    tiles_x,
                    tiles_y,
                    tile_layer,
                    layer_tile,
                    texel,
                });
            }
            if side * 2 > max_side.max(1) {
                return Err(GridError {
                    columns,
                    rows,
                    tiles: layer_tile.len() as u32,
                    tile_side: side,
                });
            }
            shift += 1;
        }
    }

    /// Side of a tile, in cells.
    pub fn tile_side(&self) -> u32 {
        1 << self.shift
    }

    /// Tiles stored (the key texture's layers).
    pub fn layers(&self) -> u32 {
        self.layer_tile.len() as u32
    }

    /// The grid cell `(column, row)` of die `i`.
    pub fn cell_of(&self, i: usize) -> Option<(u32, u32)> {
        let t = *self.texel.get(i).filter(|&&t| t != u32::MAX)?;
        let side = 1u32 << self.shift;
        let tile = self.layer_tile[(t >> (2 * self.shift)) as usize];
        let local = t & (side * side - 1);
        let (tx, ty) = (tile % self.tiles_x, tile / self.tiles_x);
        Some((
            tx * side + (local & (side - 1)),
            ty * side + (local >> self.shift),
        ))
    }

    /// The key texels, layer after layer: 0 where there is no die, else the die's colour key + 1.
    pub fn key_texels(&self, keys: &[u16]) -> Vec<u16> {
        let side = 1usize << self.shift;
        // At least two layers: WebGL2 makes a one-layer texture a plain 2D one, which an array
        // view cannot read.
        let mut texels = vec![0u16; self.layers().max(2) as usize * side * side];
        for (&t, &k) in self.texel.iter().zip(keys) {
            if t != u32::MAX {
                texels[t as usize] = k.min(u16::MAX - 1) + 1;
            }
        }
        texels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wafer::WaferGeometry;

    fn table(coords: &[(i16, i16)]) -> DieTable {
        DieTable::at(coords.iter().copied())
    }

    #[test]
    fn every_die_has_its_own_texel_and_finds_its_cell_again() {
        let coords: Vec<(i16, i16)> = (0..600).map(|i| (i % 300 * 2, i / 300 * 700)).collect();
        let dies = table(&coords);
        let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (300.0, 350.0));
        let grid = Grid::new(&g, &dies, 2048, 256).unwrap();
        assert_eq!(grid.tile_side(), MIN_TILE);
        let keys: Vec<u16> = (0..dies.len() as u16).collect();
        let texels = grid.key_texels(&keys);
        for (i, &(x, y)) in coords.iter().enumerate() {
            assert_eq!(grid.cell_of(i), g.cell(x, y));
            assert_eq!(texels[grid.texel[i] as usize], i as u16 + 1);
        }
        // Two rows of dies 700 apart: only the tiles they cross are stored.
        assert_eq!(grid.layers(), 2 * 3);
        assert_eq!(
            texels.iter().filter(|&&t| t != 0).count(),
            dies.len(),
            "empty cells stay 0"
        );
    }

    #[test]
    fn tiles_grow_until_the_device_holds_them_and_a_hopeless_grid_is_an_error() {
        // 40 dies scattered over the whole i16 range, one per 256-cell tile.
        let coords: Vec<(i16, i16)> = (0..40i32)
            .map(|i| ((i * 1600 - 32000) as i16, (i * 1500 - 30000) as i16))
            .collect();
        let dies = table(&coords);
        let g = MapGeometry::for_dies(&dies, &WaferGeometry::default(), (0.0, 0.0));
        let grid = Grid::new(&g, &dies, 8192, 256).unwrap();
        assert_eq!(grid.layers(), 40);
        // A device that holds only 16 layers makes the tiles grow, but even at 2048 cells a
        // side the dies still fall in more than 16 tiles.
        let err = Grid::new(&g, &dies, 2048, 16).unwrap_err();
        assert_eq!(err.columns, 62_401);
        assert!(err.to_string().contains("too large or too sparse"));
        // Past 2048 the memory cap stops it: 8 tiles of 8192 x 8192 cells would be 1 GB.
        assert!(Grid::new(&g, &dies, 16384, 8).is_err());
    }
}
