// Analysis benchmark in headless Chromium (issue 15), run by `cargo xtask bench`:
//   node tests/benches/analysis.mjs LOT.stdf FLEX.stdf.xz [RUNS] [--gpu-compositing]
// - The lot gallery: LOT (`waferscope demo --lot 25`: 25 wafers of about 40,000 dies) opened
//   from disk, time until all 25 thumbnails are drawn;
// - Flex_3: the statistics of all its tests, per wafer and over the file, in the parsing worker
//   (`#status`'s `data-stats-ms`), and the time until the test list shows;
// - for both, the page's thread: every task over 50 ms (the browser's Long Tasks API) from
//   choosing the file until everything has arrived (map, statistics, thumbnails, labels).
//   Goal: none. Each long task is placed against the page's state: while the file arrives
//   (before `#status` says `drawing`), before its first map (`ready`), or after it; and the
//   median gap between two thumbnails shows what drawing one costs.
//   A Chromium trace of the same run splits each long task into the page's own work and the
//   time it waited on the GPU process to read the canvas back (`GLES2::ReadPixels` in a frame's
//   commit): with software GL (SwiftShader, as here) every frame with a new map is drawn on the
//   CPU and read back before the compositor can use it, which a hardware GPU does not need.
//   `--gpu-compositing` runs the compositor on SwiftShader's GL as well, as on a hardware GPU:
//   a frame is then handed over without that readback (`lib/chromium.mjs`). The trace also
//   gives each long task's CPU time on the page's thread: on a machine with few cores, busy
//   with the workers and the software GPU, a task's wall time is partly waiting for a core (or
//   on the GPU process, which shares them). So it also sums, over each run's long tasks, the
//   CPU time the other threads ran meanwhile: the workers, the renderer's V8 pool (wasm
//   compilation, garbage collection) and the GPU process.
// - then, on the open lot, what a user does next: another wafer, the map coloured by a test (its
//   histogram and box plots), other wafers with the test, back to bins, the stacked map of all 25.
//   Each is traced the same way (its tasks over 50 ms, whole and without the readback). Last,
//   the exports: the lot's report, one wafer's CSV, and that wafer's and the stack's map as shown
//   as PNG, each until its download has come.
// Medians of RUNS (default 3), each in a fresh page. `--page-core` (Linux, by hand) gives the
// page's thread a core of its own (`pin-page-thread.py`): its long tasks are then its own work
// and its waits on the GPU process, not a wait for a core.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../lib/chromium.mjs';
import { serve } from '../lib/serve.mjs';
import { root } from '../lib/corpus.mjs';
import { appStarted, traced, longTasks, tracer } from '../lib/trace.mjs';

const argv = process.argv.slice(2);
const gpuCompositing = argv.includes('--gpu-compositing');
const pageCore = argv.includes('--page-core');
const [lot, flex, runsArg] = argv.filter((a) => !a.startsWith('--'));
if (!lot || !flex) throw new Error('usage: analysis.mjs LOT.stdf FLEX.stdf.xz [RUNS] [--gpu-compositing] [--page-core]');
// By hand, on Linux: the page's thread on CPU 0 alone, everything else on the others
// (`pin-page-thread.py`), to tell its own work from its wait for a core.
const pinner = pageCore
  ? spawn('python3', [join(dirname(fileURLToPath(import.meta.url)), 'pin-page-thread.py'), String(process.pid)], { stdio: 'inherit' })
  : null;
const runs = Number(runsArg ?? 3);
const dist = process.env.WAFERSCOPE_DIST ?? join(root, 'target/dist');
const server = await serve(dist);
const url = `http://127.0.0.1:${server.address().port}/`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** Click the export `button` and wait for its download. */
async function download(page, button) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 120000 }), page.click(button)]);
  await d.path();
}

/** What a user does next on the open lot, each step traced. */
async function interact(page) {
  const test = (await page.$$eval('#layer-select option', (o) => o.map((x) => x.value))).find((v) => v.startsWith('test:'));
  const steps = [
    ['wafer 2', () => page.selectOption('#wafer-select', '2')],
    ['coloured by a test', async () => {
      await page.selectOption('#layer-select', test);
      await page.waitForFunction(() => document.querySelector('#boxplot-wafers svg'), null, { timeout: 60000 });
    }],
    ['wafer 3, the test', () => page.selectOption('#wafer-select', '3')],
    ['wafer 5, the test', () => page.selectOption('#wafer-select', '5')],
    ['back to bins', () => page.selectOption('#layer-select', 'hbin')],
    ['the stack', () => page.selectOption('#wafer-select', 'stack')],
    ['wafer 7', () => page.selectOption('#wafer-select', '7')],
    // Exports, to the download: the lot's report, wafer 7 as CSV, the map as shown as PNG.
    ['the report', () => download(page, '#export-report')],
    ['wafer 7 as CSV', () => download(page, '#export-csv')],
    ['wafer 7 as PNG', () => download(page, '#export-png')],
    // Switching to the stack is a step of its own, so the PNG's step holds only the export.
    ['the stack again', () => page.selectOption('#wafer-select', 'stack')],
    ['the stack as PNG', () => download(page, '#export-png')],
  ];
  const out = [];
  for (const [name, action] of steps) out.push({ name, ...await traced(page, action) });
  return out;
}

/** Open `file` in a fresh page; `done` (run in the page) says when everything has arrived. */
async function measure(browser, file, done, after) {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.addInitScript(() => {
    window.__long = [];
    window.__seen = {};
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ at: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
    // When the page's state changes: each frame, note the first time it is seen.
    const tick = () => {
      const s = document.querySelector('#status')?.dataset.state;
      const thumbs = document.querySelectorAll('#gallery img[src^="blob:"]').length;
      for (const key of [`state:${s}`, `thumbs:${thumbs}`]) window.__seen[key] ??= performance.now();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await appStarted(page, url);
  const trace = await tracer(page);
  await trace.start('toplevel,gpu');
  const t0 = await page.evaluate(() => performance.now());
  await page.setInputFiles('#file-input', file);
  await page.waitForFunction(done, null, { timeout: 300000, polling: 50 });
  const events = await trace.stop();
  const r = await page.evaluate((t0) => {
    const seen = window.__seen;
    const drawing = seen['state:drawing'] ?? Infinity;
    const ready = seen['state:ready'] ?? Infinity;
    const long = window.__long.filter((e) => e.at >= t0);
    const end = (e) => e.at + e.ms;
    const thumbs = Object.entries(seen).filter(([k]) => k.startsWith('thumbs:') && k !== 'thumbs:0')
      .map(([, t]) => t).sort((a, b) => a - b);
    const gaps = thumbs.slice(1).map((t, i) => t - thumbs[i]);
    return {
      ms: performance.now() - t0,
      arrival: drawing - t0,
      long: long.map((e) => e.ms),
      phase: long.map((e) => `${end(e) <= drawing + 20 ? 'arrival' : end(e) <= ready + 20 ? 'first map' : 'after'} ${e.ms.toFixed(0)}`),
      gap: gaps.length ? gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)] : null,
      stats: Number(document.querySelector('#status')?.dataset.statsMs),
    };
  }, t0);
  r.traced = longTasks(events);
  if (after) r.after = await after(page);
  await page.close();
  return r;
}

const browser = await launch('webgl2', { gpuCompositing });
console.log(`compositing: ${gpuCompositing ? 'on the GPU (SwiftShader GL), no canvas readback' : 'in software (--disable-gpu), each frame read back'}`);
if (pageCore) console.log('the page\'s thread on CPU 0 alone, every other thread of the bench and Chromium on the others');
try {
  const gallery = [];
  const stats = [];
  for (let i = 0; i < runs; i++) {
    gallery.push(await measure(browser, lot,
      () => document.querySelectorAll('#gallery .gallery-card img[src^="blob:"]').length === 25
        && document.querySelector('#status')?.dataset.classifyBackend, interact));
    stats.push(await measure(browser, flex,
      () => document.querySelector('#tests tbody tr') && document.querySelector('#status')?.dataset.statsMs));
  }
  const report = (name, rs) => {
    const worst = rs.map((r) => Math.max(0, ...r.long));
    console.log(`${name}: ${median(rs.map((r) => r.ms)).toFixed(0)} ms to everything (median of ${rs.length}),`
      + ` ${median(rs.map((r) => r.arrival)).toFixed(0)} ms to its arrival (read, sent and unpacked);`
      + ` page-thread tasks over 50 ms per run: ${rs.map((r) => r.long.length).join(', ')};`
      + ` longest per run: ${worst.map((w) => w.toFixed(0)).join(', ')} ms`);
    console.log(`  long tasks by phase (ms), per run: ${rs.map((r) => r.phase.join(', ') || 'none').join(' | ')}`);
    const own = rs.map((r) => Math.max(0, ...r.traced.map((t) => t.own)));
    console.log(`  traced, per run: tasks over 50 ms ${rs.map((r) => r.traced.length).join(', ')};`
      + ` longest without the wait for the software GPU's canvas readback: ${own.map((w) => w.toFixed(0)).join(', ')} ms;`
      + ` first run's tasks (whole/own ms): ${rs[0].traced.map((t) => `${t.ms.toFixed(0)}/${t.own.toFixed(0)}`).join(', ') || 'none'}`);
    const cpu = rs.map((r) => Math.max(0, ...r.traced.map((t) => t.cpu)));
    console.log(`  the page thread's CPU time in those tasks, most per run: ${cpu.map((c) => c.toFixed(0)).join(', ')} ms`
      + ' (the rest of their wall time it waited: for a core, or on the GPU process)');
    // The cores' other takers during each long task, summed per run (CPU ms).
    const took = rs.map((r) => r.traced.reduce((a, t) => {
      for (const k of Object.keys(a)) a[k] += t.beside[k];
      return a;
    }, { workers: 0, pool: 0, gpu: 0, other: 0 }));
    console.log('  meanwhile, other threads\' CPU per run (ms, summed over those tasks): '
      + took.map((c) => `workers ${c.workers.toFixed(0)}, V8 pool ${c.pool.toFixed(0)}, GPU process ${c.gpu.toFixed(0)}, other ${c.other.toFixed(0)}`).join(' | ')
      + ' (V8 pool: the renderer\'s background threads: wasm compilation, garbage collection, raster)');
    const gaps = rs.map((r) => r.gap).filter((g) => g !== null);
    if (gaps.length) console.log(`  median gap between two thumbnails: ${median(gaps).toFixed(0)} ms`);
    return rs;
  };
  report('gallery of 25 wafers x ~40k dies (file to all thumbnails and labels)', gallery);
  report('Teradyne_Flex_3 (file to the test list)', stats);
  console.log('then, on the lot (per step: tasks over 50 ms, whole/without the readback, ms; one line per run):');
  for (const [k, { name }] of gallery[0].after.entries()) {
    const per = gallery.map((g) => g.after[k].tasks.map((t) => `${t.ms.toFixed(0)}/${t.own.toFixed(0)}`).join(' ') || 'none');
    const own = gallery.map((g) => Math.max(0, ...g.after[k].tasks.map((t) => t.own)));
    const took = median(gallery.map((g) => g.after[k].ms));
    console.log(`  ${name}: ${per.join(' | ')}; longest own work, median: ${median(own).toFixed(0)} ms; the step took ${took} ms (median)`);
  }
  console.log(`Teradyne_Flex_3: statistics of every test, per wafer and over the file, in the parsing worker: median ${median(stats.map((r) => r.stats)).toFixed(0)} ms`);
} finally {
  await browser.close();
  server.close();
  pinner?.kill();
}
