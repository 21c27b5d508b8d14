// First-load benchmark in headless Chromium, run by `cargo xtask bench`:
//   node tests/benches/first-load.mjs [RUNS]
// - Bytes: every file the page fetched from the first request until the demo wafer's first frame,
//   raw and gzip at level 9 with Node's zlib (as a static host or the edge would send it
//   compressed), split into what the first map needs and what only came along (the classifier's
//   weights load in parallel). Goal (issue 14): under 1.5 MB gzip for the first map. Then the
//   classifier worker (the CPU build, or with WebGPU allowed the WebGPU one, in a second load),
//   which the map does not need: the page fetches it when first idle, or after the first map,
//   so it is counted apart wherever it lands.
// - Time from navigation to the demo wafer's first frame (the page's `#status` turns `ready`),
//   medians of RUNS (default 3):
//   - cold: a fresh profile, on the loopback network and on an emulated 20 Mbit/s, 40 ms link;
//   - warm: the same profile reloaded once the service worker holds the build, on the same
//     emulated link (the network is not needed any more).
import { gzipSync } from 'node:zlib';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';

const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const runs = Number(process.argv[2] ?? 3);
const server = await serve(dist);
const url = `http://127.0.0.1:${server.address().port}/`;
const GOAL = 1.5e6;
const SLOW = { offline: false, latency: 40, downloadThroughput: 20e6 / 8, uploadThroughput: 10e6 / 8 };

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const firstMap = (page) => page.waitForFunction(() => document.querySelector('#status')?.dataset.state === 'ready', null, { timeout: 120000 });

/** Navigate (or reload), open the demo wafer, and time it to its first frame. */
async function timeToMap(page, go) {
  const t0 = Date.now();
  await go();
  await page.waitForSelector('#demo');
  await page.click('#demo');
  await firstMap(page);
  return Date.now() - t0;
}

/** One cold load in `mode`: the files fetched before the demo wafer's first map, and after it
 * until the label shows (the classifier worker). */
async function load(mode) {
  const browser = await launch(mode);
  try {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    const fetched = [];
    // Workers' requests too (the parsing worker's script, the classifier's wasm).
    context.on('request', (r) => { if (r.url().startsWith(url)) fetched.push(new URL(r.url()).pathname); });
    await timeToMap(page, () => page.goto(url));
    const before = [...new Set(fetched)];
    await page.waitForFunction(() => document.querySelector('#status')?.dataset.classifyBackend, null, { timeout: 120000 });
    const after = [...new Set(fetched)].filter((p) => !before.includes(p));
    return { before, after };
  } finally {
    await browser.close();
  }
}

const row = (p) => {
  const file = join(dist, p === '/' ? 'index.html' : p);
  if (!existsSync(file)) return null;
  const bytes = readFileSync(file);
  // The classifier's weights and worker are not for the map: the weights load beside it, and the
  // worker starts at the page's first idle moment (so it may come before a quick first map).
  const needed = !p.startsWith('/model/') && !p.startsWith('/classify_');
  return { path: p, raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length, needed };
};
const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
const list = (rs) => {
  for (const r of rs) console.log(`  ${r.path.padEnd(40)} ${String(r.raw).padStart(10)} raw ${String(r.gz).padStart(10)} gzip${r.needed ? '' : '  (not needed for the map)'}`);
};

// Bytes: without WebGPU (the CPU classifier follows the map) and with it (the WebGPU one does).
for (const mode of ['webgl2', 'webgpu']) {
  const { before, after } = await load(mode);
  const rows = before.map(row).filter(Boolean);
  console.log(`${mode === 'webgpu' ? 'WebGPU allowed' : 'no WebGPU'}: fetched before the first map (demo wafer):`);
  list(rows);
  const need = rows.filter((r) => r.needed);
  const gz = sum(need, 'gz');
  console.log(`first load for the first map: ${(sum(need, 'raw') / 1e6).toFixed(2)} MB raw, ${(gz / 1e6).toFixed(2)} MB gzip (zlib level 9) `
    + `(goal < ${GOAL / 1e6} MB: ${gz < GOAL ? 'met' : `missed by ${((gz - GOAL) / 1e6).toFixed(2)} MB`})`);
  // The classifier's worker, whenever it came: before the map (the page was idle before the
  // click) or after it.
  const early = rows.filter((r) => r.path.startsWith('/classify_'));
  const lazy = after.map(row).filter(Boolean);
  console.log(`the classifier worker, not needed for the map (${early.length ? 'fetched before the first map, when the page was first idle' : 'fetched after the first map'}):`);
  list([...early, ...lazy]);
  console.log(`  ${(sum([...early, ...lazy], 'gz') / 1e6).toFixed(2)} MB gzip`);
}

const browser = await launch();
try {
  // Time: cold (fresh profile each run), loopback and emulated link; warm (service worker).
  const cold = { loopback: [], slow: [] };
  const warm = [];
  for (let i = 0; i < runs; i++) {
    for (const link of ['loopback', 'slow']) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      const cdp = await ctx.newCDPSession(p);
      if (link === 'slow') await cdp.send('Network.emulateNetworkConditions', SLOW);
      cold[link].push(await timeToMap(p, () => p.goto(url)));
      if (link === 'slow') {
        await p.waitForFunction(() => document.querySelector('#status')?.dataset.sw === 'ready', null, { timeout: 120000 });
        warm.push(await timeToMap(p, () => p.reload()));
      }
      await ctx.close();
    }
  }
  console.log(`time to the first map, medians of ${runs}: cold ${median(cold.loopback)} ms on loopback, `
    + `${median(cold.slow)} ms on 20 Mbit/s + 40 ms; warm (service worker cache) ${median(warm)} ms on the same link `
    + `(warm/cold ${(median(warm) / median(cold.slow)).toFixed(2)})`);
} finally {
  await browser.close();
  server.close();
}
