// What a bare WebGL2 frame costs in this Chromium, as a floor for the viewer benchmark's figures:
// a full-canvas clear, a trivial and a texture-reading fragment shader over a 786x775 canvas
// (the bench's map size), each followed by a 1-pixel readPixels, as tests/benches/viewer.mjs waits.
//   node tests/tools/swiftshader-probe.mjs      -> {"case": [p50 ms, p95 ms], ...}
import { launch } from '../lib/chromium.mjs';
const browser = await launch('webgl2');
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.setContent('<canvas id=c width=786 height=775 style="width:786px;height:775px"></canvas>');
const r = await page.evaluate(async () => {
  const c = document.getElementById('c');
  const gl = c.getContext('webgl2');
  const px = new Uint8Array(4);
  const vs = `#version 300 es
  void main(){ vec2 p = vec2(float((gl_VertexID<<1)&2), float(gl_VertexID&2))*2.0-1.0; gl_Position=vec4(p,0,1);} `;
  const fsTrivial = `#version 300 es
  precision highp float; out vec4 o; void main(){ o=vec4(gl_FragCoord.xy/1000.0,0.5,1);} `;
  const fsHeavy = `#version 300 es
  precision highp float; precision highp usampler2D; out vec4 o; uniform usampler2D t; void main(){
   vec2 p = gl_FragCoord.xy; float d = sqrt(dot(p-400.0,p-400.0));
   float cx = floor(p.x/3.1/0.9); float cy = floor(p.y/3.1);
   uint k = texelFetch(t, ivec2(int(cx)&255,int(cy)&255),0).r;
   uint k2 = texelFetch(t, ivec2(int(cy)&255,int(cx)&255),0).r;
   o=vec4(float(k)/255.0, float(k2)/255.0, d/1000.0, 1);} `;
  const prog = (fs) => { const p = gl.createProgram(); for (const [t, s] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) { const sh = gl.createShader(t); gl.shaderSource(sh, s); gl.compileShader(sh); if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw gl.getShaderInfoLog(sh); gl.attachShader(p, sh); } gl.linkProgram(p); return p; };
  const tex = gl.createTexture(); gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.R16UI, 256, 256, 0, gl.RED_INTEGER, gl.UNSIGNED_SHORT, new Uint16Array(65536).map((_, i) => i % 251));
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST); gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  const out = {};
  const frame = () => new Promise((res) => requestAnimationFrame(res));
  for (const [name, fs] of [['clear only', null], ['trivial shader', fsTrivial], ['heavier shader', fsHeavy]]) {
    const p = fs && prog(fs);
    const times = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      gl.clearColor(Math.random(), 0.5, 0.5, 1); gl.clear(gl.COLOR_BUFFER_BIT);
      if (p) { gl.useProgram(p); gl.drawArrays(gl.TRIANGLES, 0, 3); }
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      times.push(performance.now() - t0);
      if (i % 2) await frame();
    }
    times.sort((a, b) => a - b);
    out[name] = [times[20], times[38]];
  }
  return out;
});
console.log(JSON.stringify(r));
await browser.close();
