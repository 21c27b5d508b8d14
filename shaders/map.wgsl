// Wafer map: one quad over the wafer; each pixel finds its die in a texture of colour keys.
//
// Dies sit on an integer grid, so the map is an image: the key texture holds one texel per grid
// cell (0 = no die, else colour key + 1), and the fragment shader maps the pixel centre to a
// cell, reads its key and looks the colour up in the colour table. A frame therefore costs the
// same whatever the number of dies. The grid is cut into square tiles of 2^k cells a side; only
// tiles that hold a die are stored, as layers of a 2D array texture, and a small tile texture
// says which layer holds which tile (0 = empty). So a grid larger than the device's largest
// texture, or a sparse one, still fits.
//
// Same formulas as the CPU rasterizer (crates/paint/src/raster.rs), so both give the same
// pixels: a pixel belongs to a die when its centre lies inside the die's rectangle; borders,
// highlights and the outline are decided by the distance of the pixel centre to an edge.
// No storage buffers and no compute: this must run on WebGL2 too.

struct Uniforms {
    // scale, offset.x, offset.y, borders (1 = draw die borders)
    view: vec4<f32>,
    // viewport width, height (pixels); die width (world units); outline (1 = draw it)
    viewport: vec4<f32>,
    // the quad drawn: x0, y0, x1, y1 in pixels
    quad: vec4<f32>,
    // hovered cell column, row; selected cell column, row (-1 = none)
    marks: vec4<i32>,
    // grid columns, rows; log2 of the tile side; colour-table width
    grid: vec4<i32>,
    // sRGB target (1 = yes)
    output: vec4<i32>,
    // wafer centre x, y, radius (world units), flat chord distance from the centre
    outline: vec4<f32>,
    // direction towards the flat x, y; outline width, highlight width (pixels)
    flat_dir: vec4<f32>,
    // colours (sRGB, 0..1) from the one palette
    background: vec4<f32>,
    border_color: vec4<f32>,
    hover_color: vec4<f32>,
    selected_color: vec4<f32>,
    outline_color: vec4<f32>,
    fill_color: vec4<f32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var table: texture_2d<f32>;
@group(0) @binding(2) var keys: texture_2d_array<u32>;
@group(0) @binding(3) var tiles: texture_2d<u32>;

// Colours are sRGB bytes; on an sRGB render target the hardware encodes what we write, so hand
// it linear values to get the same bytes out.
fn out_color(c: vec4<f32>) -> vec4<f32> {
    if (u.output.x == 1) {
        let lo = c.rgb / 12.92;
        let hi = pow((c.rgb + 0.055) / 1.055, vec3<f32>(2.4));
        return vec4<f32>(select(hi, lo, c.rgb <= vec3<f32>(0.04045)), c.a);
    }
    return c;
}

struct QuadOut {
    @builtin(position) pos: vec4<f32>,
};

@vertex
fn vs_map(@builtin(vertex_index) v: u32) -> QuadOut {
    // Triangle strip: (0,0) (1,0) (0,1) (1,1).
    let corner = vec2<f32>(f32(v & 1u), f32(v >> 1u));
    let p = mix(u.quad.xy, u.quad.zw, corner);
    var out: QuadOut;
    out.pos = vec4<f32>(p.x / u.viewport.x * 2.0 - 1.0, 1.0 - p.y / u.viewport.y * 2.0, 0.0, 1.0);
    return out;
}

// The grid cell whose pixel span holds the pixel centre `p` along one axis, where cell `i`
// spans world [i * size, i * size + size): the span is computed as the CPU rasterizer does
// (world edge * scale + offset), so both decide coverage with the same arithmetic. Returns the
// cell and its pixel edges.
fn cell_along(p: f32, size: f32, scale: f32, offset: f32) -> vec3<f32> {
    var i = floor((p - offset) / scale / size);
    var a = i * size * scale + offset;
    var b = (i * size + size) * scale + offset;
    if (p < a) {
        i = i - 1.0;
    } else if (p >= b) {
        i = i + 1.0;
    }
    a = i * size * scale + offset;
    b = (i * size + size) * scale + offset;
    return vec3<f32>(i, a, b);
}

// The colour key + 1 stored for a grid cell (0: no die there).
fn key_at(col: i32, row: i32) -> u32 {
    if (col < 0 || row < 0 || col >= u.grid.x || row >= u.grid.y) {
        return 0u;
    }
    let k = u32(u.grid.z);
    let layer = textureLoad(tiles, vec2<i32>(col >> k, row >> k), 0).r;
    if (layer == 0u) {
        return 0u;
    }
    let mask = (1 << k) - 1;
    return textureLoad(keys, vec2<i32>(col & mask, row & mask), i32(layer) - 1, 0).r;
}

@fragment
fn fs_map(in: QuadOut) -> @location(0) vec4<f32> {
    let p = in.pos.xy;
    let s = u.view.x;

    // The die under the pixel centre, if any: most pixels of a map are dies, so this comes
    // first and the outline below is worked out only where there is none (a software GPU pays
    // for every instruction of every pixel).
    let cx = cell_along(p.x, u.viewport.z, s, u.view.y);
    let cy = cell_along(p.y, 1.0, s, u.view.z);
    let col = i32(cx.x);
    let row = i32(cy.x);
    let key = key_at(col, row);
    if (key != 0u) {
        let tw = u32(u.grid.w);
        let k = key - 1u;
        var c = textureLoad(table, vec2<i32>(i32(k % tw), i32(k / tw)), 0);
        let e = min(min(p.x - cx.y, cx.z - p.x), min(p.y - cy.y, cy.z - p.y));
        let hw = u.flat_dir.w;
        let selected = col == u.marks.z && row == u.marks.w;
        let hovered = col == u.marks.x && row == u.marks.y;
        if (selected && e < hw) {
            c = u.selected_color;
        } else if (hovered && !selected && e < hw) {
            c = u.hover_color;
        } else if (u.view.w > 0.5 && e < 1.0) {
            c = u.border_color;
        }
        return out_color(c);
    }

    // The wafer disc with its flat, and its outline.
    var c = u.background;
    if (u.viewport.w > 0.5) {
        let w = (p - u.view.yz) / s - u.outline.xy;
        let d = sqrt(w.x * w.x + w.y * w.y);
        let f = w.x * u.flat_dir.x + w.y * u.flat_dir.y;
        let r = u.outline.z;
        let depth = u.outline.w;
        if (d <= r && f <= depth) {
            let width = u.flat_dir.z / s;
            if (r - d < width || depth - f < width) {
                c = u.outline_color;
            } else {
                c = u.fill_color;
            }
        }
    }
    return out_color(c);
}
