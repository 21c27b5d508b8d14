//! `GET /api/v1/wafers/{hash}/tiles/{z}/{x}/{y}.png?layer=..` (wasm32 only): a map tile through
//! the tiers (memory, Cache API, then rendered from the stored wafer with `paint`), with an
//! ETag that is a hash of its key, so a 304 needs no picture.

use std::collections::BTreeSet;

use wafer::TestFile;
use worker::Env;

use crate::answer::{Answer, IMMUTABLE};
use crate::error::ApiError;
use crate::io::{self, Stored};
use crate::route::{LayerName, TileId};
use crate::store::WaferHash;
use crate::{TILE_SIZE, glue, keys, tiers};

pub(crate) async fn tile(
    env: &Env,
    origin: &str,
    wafer: WaferHash,
    tile: TileId,
    layer: LayerName,
    if_none_match: Option<String>,
) -> Result<Answer, ApiError> {
    let path = keys::tile_cache(&wafer, &layer, tile);
    let etag = keys::tile_etag(&wafer, &layer, tile);
    let cache = Stored::Cache {
        origin: origin.to_string(),
        path: path.clone(),
        content_type: "image/png",
        extra: vec![
            ("ETag", etag.clone()),
            (
                "Cache-Tag",
                format!("{},{}", keys::tile_tag(), keys::wafer_tag(&wafer)),
            ),
        ],
    };
    let env = env.clone();
    let compute = async move {
        let file = super::wafers::load(&env, wafer).await?;
        let png = render(&file, tile, layer)?;
        glue::count(|m| &m.tiles);
        Ok(png)
    };
    let memory = glue::tiles_memory();
    let (png, tier) =
        tiers::lookup(memory, path, vec![cache], compute, io::follower_timeout).await?;
    Ok(Answer::bytes(png, "image/png", tier)
        .unless_matches(if_none_match.as_deref(), &etag)
        .header("Cache-Control", IMMUTABLE)
        .header("ETag", etag))
}

fn render(file: &TestFile, t: TileId, layer: LayerName) -> Result<Vec<u8>, ApiError> {
    let layer = paint::Layer::of_name(layer, file)
        .map_err(|e| ApiError::bad_request("bad_layer", e.to_string()))?;
    let w = &file.wafers[0];
    let g = paint::MapGeometry::new(w);
    crate::tiles::check_zoom(t, crate::tiles::max_zoom_of(&g))?;
    let colors = paint::Coloring::new(file, &w.dies, layer, &BTreeSet::new());
    let canvas = paint::raster::tile(&g, &w.dies, &colors, t.z, t.x, t.y, TILE_SIZE)
        .map_err(|e| ApiError::bad_request("bad_tile", e.to_string()))?;
    Ok(canvas.encode_png())
}
