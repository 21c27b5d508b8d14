//! How a wafer map looks, defined once: the palette ([`palette`]), where each die goes on screen
//! ([`geometry`]) and a CPU rasterizer ([`raster`]) that draws maps and map tiles to RGBA and PNG.
//!
//! The GPU renderer, the app and the edge's tile server all take colours and positions from here,
//! so a die has the same colour and place everywhere, and the GPU picture can be checked pixel by
//! pixel against [`raster`].
//!
//! Not for: GPU code (the renderer crate) or reading files (`wafer`).

pub mod geometry;
pub mod palette;
pub mod raster;

/// Version of the pictures this crate draws. Bump it whenever a change alters any pixel of a map
/// or tile (palette, geometry, rasterizer): the edge keys its cached tiles with it, so a new
/// version is never served an old picture.
pub const RENDERER_VERSION: u32 = 1;

pub use geometry::{MapGeometry, View};
pub use palette::{Coloring, Layer, LayerError, Rgba};
pub use raster::{Canvas, Style, TileError};
