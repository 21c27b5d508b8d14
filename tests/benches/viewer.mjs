// Viewer benchmark in headless Chromium, run by `cargo xtask bench`:
//   node tests/benches/viewer.mjs FILE...
// For each Chromium mode (WebGPU allowed, WebGL2 only, and no WebGL either: the CPU painter) and
// each file it prints:
// - time from the file chosen to the first frame submitted (the app's own clock, from the input's
//   change event), and the worker's parse time;
// - the first frame of the parsed dies (upload of the die table + draw + GPU done), median of 3,
//   against a plain Canvas2D reference renderer of the same dies in the same page, and the ratio;
// - frame time p50/p95 over a scripted pan/zoom (120 frames, each drawn and waited for on the GPU; at most 30 s each),
//   against the same script on the Canvas2D reference.
// - the classifier's warm latency in its worker on the CPU and, where the page has WebGPU, on
//   WebGPU (one wafer, a batch of 25), and its first inference (shader compilation);
// - per mode, the second file's map figures as a ratio of the first's: with the 1 M-die wafer
//   first and the 4.8 M-die one second, whether a frame grows with the number of dies.
// The GPU is waited for with a 1-pixel readPixels (WebGL2) or onSubmittedWorkDone (WebGPU), so
// the browser's 60 Hz frame pacing does not hide or cap the cost.
import { launch } from '../lib/chromium.mjs';
import { join, basename } from 'node:path';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node tests/benches/viewer.mjs FILE...');
  process.exit(2);
}

const server = await serve(dist);
const url = `http://127.0.0.1:${server.address().port}/`;

/** Runs in the page: the benchmark proper. */
async function inPage() {
  const b = window.waferscope_bench;
  const api = b.api();
  const canvas = document.querySelector('#map');
  const px = new Uint8Array(4);
  const gpuDone = async () => {
    // The CPU painter has put its pixels in the canvas before `frame` returns.
    if (api === 'CPU') return;
    if (api === 'WebGPU') {
      const dev = canvas.getContext('webgpu')?.getConfiguration?.()?.device;
      if (dev) return dev.queue.onSubmittedWorkDone();
      return new Promise((r) => requestAnimationFrame(() => r()));
    }
    // The canvas keeps its first context: this is wgpu's own WebGL2 context.
    const gl = canvas.getContext('webgl2');
    if (gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING)) gl.finish();
    else gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  };
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];

  // The reference: one fillRect per die, dies bucketed by colour so fillStyle changes once per
  // colour, and dies outside the canvas skipped. A fair, plain Canvas2D renderer.
  const d = b.dies();
  const [s0, ox0, oy0, W, H] = b.view();
  const ref = document.createElement('canvas');
  ref.width = W;
  ref.height = H;
  const ctx = ref.getContext('2d');
  let buckets = null;
  const prepare = () => {
    const n = d.keys.length;
    const counts = new Uint32Array(d.table.length + 1);
    for (let i = 0; i < n; i++) counts[d.keys[i] + 1]++;
    for (let k = 1; k < counts.length; k++) counts[k] += counts[k - 1];
    const order = new Uint32Array(n);
    const at = counts.slice();
    for (let i = 0; i < n; i++) order[at[d.keys[i]]++] = i;
    buckets = { counts, order };
  };
  const refDraw = ([s, ox, oy]) => {
    ctx.fillStyle = '#16181d';
    ctx.fillRect(0, 0, W, H);
    const { counts, order } = buckets;
    const w = d.w * s;
    const h = d.h * s;
    for (let k = 0; k < d.table.length; k++) {
      if (counts[k] === counts[k + 1]) continue;
      ctx.fillStyle = d.table[k];
      for (let j = counts[k]; j < counts[k + 1]; j++) {
        const i = order[j];
        const x = d.x0[i] * s + ox;
        const y = d.y0[i] * s + oy;
        if (x > W || y > H || x + w < 0 || y + h < 0) continue;
        ctx.fillRect(x, y, w, h);
      }
    }
    ctx.getImageData(0, 0, 1, 1); // wait for the raster
  };

  // The scripted interaction: zoom in around a point, pan, zoom out, pan back.
  const script = [];
  for (let i = 0; i < 30; i++) script.push(['zoom', W * 0.6, H * 0.45, 1.08]);
  for (let i = 0; i < 40; i++) script.push(['pan', 14, -9, 0]);
  for (let i = 0; i < 30; i++) script.push(['zoom', W * 0.4, H * 0.55, 1 / 1.08]);
  for (let i = 0; i < 20; i++) script.push(['pan', -28, 18, 0]);
  const apply = ([s, ox, oy], [op, a, c, f]) => {
    if (op === 'pan') return [s, ox + a, oy + c];
    const wx = (a - ox) / s;
    const wy = (c - oy) / s;
    const s2 = s * f;
    return [s2, a - wx * s2, c - wy * s2];
  };

  b.begin();
  try {
    const first = [];
    const firstCpu = [];
    console.log('first frames');
    for (let r = 0; r < 3; r++) {
      b.frame('fit', 0, 0, 0);
      await gpuDone();
      const t0 = performance.now();
      firstCpu.push(b.frame('upload', 0, 0, 0));
      await gpuDone();
      first.push(performance.now() - t0);
    }
    console.log('reference first frames');
    const refFirst = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      prepare();
      refDraw([s0, ox0, oy0]);
      refFirst.push(performance.now() - t0);
    }
    console.log('frames');
    const frames = [];
    const framesCpu = [];
    b.frame('fit', 0, 0, 0);
    await gpuDone();
    // A software GPU (SwiftShader) can take seconds a frame at a million dies: each renderer gets
    // at most `budget` ms for the script, and the figures say how many frames they are over.
    const budget = 30000;
    let start = performance.now();
    for (const step of script) {
      if (performance.now() - start > budget) break;
      const t0 = performance.now();
      framesCpu.push(b.frame(...step));
      await gpuDone();
      frames.push(performance.now() - t0);
    }
    console.log('reference frames');
    const refFrames = [];
    let v = [s0, ox0, oy0];
    start = performance.now();
    for (const step of script) {
      if (performance.now() - start > budget) break;
      v = apply(v, step);
      const t0 = performance.now();
      refDraw(v);
      refFrames.push(performance.now() - t0);
    }
    return {
      api,
      dies: d.keys.length,
      canvas: [W, H],
      first: median(first),
      firstCpu: median(firstCpu),
      refFirst: median(refFirst),
      frames: frames.length,
      refFrames: refFrames.length,
      p50: median(frames),
      p95: pct(frames, 0.95),
      cpuP50: median(framesCpu),
      refP50: median(refFrames),
      refP95: pct(refFrames, 0.95),
    };
  } finally {
    b.frame('fit', 0, 0, 0);
    b.end();
  }
}

const f1 = (x) => x.toFixed(1).padStart(8);
// BENCH_MODES=webgl2,cpu runs only those modes.
const modes = process.env.BENCH_MODES?.split(',') ?? ['webgpu', 'webgl2', 'cpu'];
for (const mode of modes) {
  const results = [];
  const browser = await launch(mode);
  console.log(`\nChromium ${browser.version()}, ${{ webgpu: 'WebGPU allowed', webgl2: 'WebGPU off', cpu: 'WebGPU and WebGL off' }[mode]}:`);
  try {
    for (const file of files) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.on('console', (m) => process.env.BENCH_VERBOSE && console.log('    page:', m.text()));
      page.on('crash', () => console.log('    page crashed'));
      await page.goto(url);
      await page.waitForFunction(() => {
        // The element first: the page mounts only once its wasm has compiled.
        const t = document.querySelector('#backend')?.textContent;
        return t !== undefined && !t.includes('starting');
      });
      await page.setInputFiles('#file-input', file);
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#status')?.dataset.state)
        && !document.querySelector('#progress'), null, { timeout: 300000, polling: 50 });
      const s = await page.evaluate(() => ({ ...document.querySelector('#status').dataset }));
      if (s.state !== 'ready') throw new Error(`${file}: ${await page.textContent('#error')}`);
      // A lost headless WebGPU device falls back to WebGL2 here; let it settle.
      await page.waitForTimeout(1000);
      const r = await page.evaluate(inPage);
      const backend = await page.textContent('#backend');
      console.log(`  ${basename(file)}: ${r.dies} dies on a ${r.canvas.join('x')} canvas, drawn by ${backend}`);
      console.log(`    file chosen -> first frame  ${f1(Number(s.firstFrameMs))} ms   (worker parse ${Number(s.parseMs).toFixed(1)} ms)`);
      console.log(`    first frame of parsed dies  ${f1(r.first)} ms   Canvas2D ${f1(r.refFirst)} ms   ${(r.refFirst / r.first).toFixed(1)}x faster   (median of 3; main thread ${r.firstCpu.toFixed(1)} ms)`);
      console.log(`    pan/zoom frame p50          ${f1(r.p50)} ms   Canvas2D ${f1(r.refP50)} ms   ${(r.refP50 / r.p50).toFixed(1)}x   (main thread ${r.cpuP50.toFixed(2)} ms)`);
      console.log(`    pan/zoom frame p95          ${f1(r.p95)} ms   Canvas2D ${f1(r.refP95)} ms   ${(r.refP95 / r.p95).toFixed(1)}x   (${r.frames} / ${r.refFrames} frames)`);
      results.push(r);
      await page.waitForFunction(() => document.querySelector('#status')?.dataset.probs, null, { timeout: 60000 });
      const c = await page.evaluate(() => window.waferscope_bench_classify());
      const model = await page.evaluate(() => document.querySelector('#pattern-backend')?.textContent ?? '');
      console.log(`    classifier (${c.backend}): one wafer ${c.single_ms.toFixed(2)} ms, batch of 25 ${c.batch25_ms.toFixed(1)} ms (warm medians; ${model.match(/CPU warm-up [0-9.]+ ms/)?.[0] ?? ''})`);
      // The WebGPU classifier on the page's device (burn wgpu), read-back included.
      await page.waitForFunction(() => ['ready', 'unavailable'].includes(document.querySelector('#status')?.dataset.gpuModel)
        || document.querySelector('#status')?.dataset.gpuModel?.startsWith('failed'), null, { timeout: 120000 });
      const g = await page.evaluate(() => window.waferscope_bench_classify_gpu());
      if (g.error) console.log(`    classifier on WebGPU: ${g.error} (${await page.evaluate(() => document.querySelector('#status').dataset.gpuModel)})`);
      else console.log(`    classifier (${g.backend}): one wafer ${g.single_ms.toFixed(2)} ms, batch of 25 ${g.batch25_ms.toFixed(1)} ms (warm medians, read-back included); first inference ${g.warmup_ms.toFixed(0)} ms (shader compilation)`);
      await page.close();
    }
    if (results.length >= 2) {
      const [a, b] = results;
      console.log(`  ${(b.dies / 1e6).toFixed(2)} M vs ${(a.dies / 1e6).toFixed(2)} M dies (${b.api}): first frame ${(b.first / a.first).toFixed(2)}x, pan/zoom p50 ${(b.p50 / a.p50).toFixed(2)}x, p95 ${(b.p95 / a.p95).toFixed(2)}x`);
    }
  } finally {
    await browser.close();
  }
}
server.close();
