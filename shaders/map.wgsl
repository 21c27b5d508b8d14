// Wafer map: instanced die quads and the wafer outline.
//
// Same formulas as the CPU rasterizer (crates/paint/src/raster.rs), so both give the same
// pixels: a pixel belongs to a die when its centre lies inside the die's rectangle; borders,
// highlights and the outline are decided by the distance of the pixel centre to an edge.
// No storage buffers and no compute: this must run on WebGL2 too.

struct Uniforms {
    // scale, offset.x, offset.y, borders (1 = draw die borders)
    view: vec4<f32>,
    // viewport width, height (pixels); die width, height (world units)
    viewport: vec4<f32>,
    // hovered instance, selected instance (-1 = none), colour-table width, sRGB target (1 = yes)
    highlight: vec4<i32>,
    // wafer centre x, y, radius (world units), flat chord distance from the centre
    outline: vec4<f32>,
    // direction towards the flat x, y; outline width, highlight width (pixels)
    flat_dir: vec4<f32>,
    // colours (sRGB, 0..1) from the one palette
    border_color: vec4<f32>,
    hover_color: vec4<f32>,
    selected_color: vec4<f32>,
    outline_color: vec4<f32>,
    fill_color: vec4<f32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var table: texture_2d<f32>;

// Colours are sRGB bytes; on an sRGB render target the hardware encodes what we write, so hand
// it linear values to get the same bytes out.
fn out_color(c: vec4<f32>) -> vec4<f32> {
    if (u.highlight.w == 1) {
        let lo = c.rgb / 12.92;
        let hi = pow((c.rgb + 0.055) / 1.055, vec3<f32>(2.4));
        return vec4<f32>(select(hi, lo, c.rgb <= vec3<f32>(0.04045)), c.a);
    }
    return c;
}

fn to_clip(p: vec2<f32>) -> vec4<f32> {
    return vec4<f32>(p.x / u.viewport.x * 2.0 - 1.0, 1.0 - p.y / u.viewport.y * 2.0, 0.0, 1.0);
}

struct DieOut {
    @builtin(position) pos: vec4<f32>,
    // the die's rectangle in pixels: x0, y0, x1, y1
    @location(0) @interpolate(flat) rect: vec4<f32>,
    @location(1) @interpolate(flat) key: u32,
    @location(2) @interpolate(flat) index: i32,
};

@vertex
fn vs_die(
    @builtin(vertex_index) v: u32,
    @builtin(instance_index) instance: u32,
    @location(0) origin: vec2<f32>,
    @location(1) key: u32,
) -> DieOut {
    let s = u.view.x;
    let off = u.view.yz;
    let p0 = origin * s + off;
    let p1 = (origin + u.viewport.zw) * s + off;
    // Triangle strip: (0,0) (1,0) (0,1) (1,1).
    let corner = vec2<f32>(f32(v & 1u), f32(v >> 1u));
    var out: DieOut;
    out.pos = to_clip(select(p0, p1, corner > vec2<f32>(0.5)));
    out.rect = vec4<f32>(p0, p1);
    out.key = key;
    out.index = i32(instance);
    return out;
}

@fragment
fn fs_die(in: DieOut) -> @location(0) vec4<f32> {
    let w = u32(u.highlight.z);
    var c = textureLoad(table, vec2<i32>(i32(in.key % w), i32(in.key / w)), 0);
    let p = in.pos.xy;
    let e = min(min(p.x - in.rect.x, in.rect.z - p.x), min(p.y - in.rect.y, in.rect.w - p.y));
    let hw = u.flat_dir.w;
    if (in.index == u.highlight.y && e < hw) {
        c = u.selected_color;
    } else if (in.index == u.highlight.x && in.index != u.highlight.y && e < hw) {
        c = u.hover_color;
    } else if (u.view.w > 0.5 && e < 1.0) {
        c = u.border_color;
    }
    return out_color(c);
}

struct OutlineOut {
    @builtin(position) pos: vec4<f32>,
};

@vertex
fn vs_outline(@builtin(vertex_index) v: u32) -> OutlineOut {
    // One triangle covering the viewport.
    let xy = vec2<f32>(f32((v << 1u) & 2u), f32(v & 2u)) * 2.0 - 1.0;
    var out: OutlineOut;
    out.pos = vec4<f32>(xy, 0.0, 1.0);
    return out;
}

@fragment
fn fs_outline(in: OutlineOut) -> @location(0) vec4<f32> {
    let w = (in.pos.xy - u.view.yz) / u.view.x - u.outline.xy;
    let d = sqrt(w.x * w.x + w.y * w.y);
    let f = w.x * u.flat_dir.x + w.y * u.flat_dir.y;
    let r = u.outline.z;
    let depth = u.outline.w;
    if (d > r || f > depth) {
        discard;
    }
    let width = u.flat_dir.z / u.view.x;
    if (r - d < width || depth - f < width) {
        return out_color(u.outline_color);
    }
    return out_color(u.fill_color);
}
